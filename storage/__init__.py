"""SQLite storage through sqlite-utils. Imports nothing else of newsmon."""
