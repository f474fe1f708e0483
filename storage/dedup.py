"""Text fingerprints used to recognise the same article at another URL.

The content hash is taken over a normalised text (Unicode NFKC, case folded, punctuation and
white space removed) so that AMP, print and tracking variants of a page, whose extracted text
differs only in quotes, dashes or spacing, hash the same.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).strip()


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the normalised text."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
