"""`newsmon demo`: bundled sample outlets served on loopback."""
