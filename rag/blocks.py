"""The shapes every loader produces (text blocks with their heading level and page) and the
error a loader raises for a file it cannot read; kept apart from `rag.documents` so the loaders
and the identity reader depend on these alone, not on the module that dispatches to them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SovragError


class SkipFile(SovragError):
    """This file cannot be indexed; the message is the one-line reason shown to the user."""


@dataclass
class Block:
    """A heading or a text block; `indent` is the list nesting depth (-1 when not a list item)."""

    text: str
    heading_level: int = 0  # 0 = body text
    indent: int = -1
    page: int | None = None


def decode_text(raw: bytes) -> str:
    """Decode bytes of unknown encoding: BOMs, then UTF-8, then a detector; refuse binary data."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = _detect_and_decode(raw)
    if "\x00" in text[:4096]:
        # UTF-16 without BOM shows up as NULs between ASCII characters.
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                candidate = raw.decode(enc)
            except UnicodeDecodeError:
                continue
            if _printable_ratio(candidate) > 0.95:
                return candidate
        raise SkipFile("binary data (NUL bytes), not text")
    if _printable_ratio(text) < 0.85:
        raise SkipFile("binary data, not text")
    return text


_EU_ENCODINGS = [
    "cp1252",
    "iso8859_15",
    "cp1250",
    "iso8859_2",
    "cp1257",
    "iso8859_13",
    "cp1253",
    "iso8859_7",
    "cp1251",
    "iso8859_5",
]
"""Legacy code pages of the EU's languages: limiting the detector to them stops short Polish or
Czech text from being read as Maltese or Celtic (ISO-8859-3/-14), which fit the bytes as well."""


def _detect_and_decode(raw: bytes) -> str:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw, cp_isolation=_EU_ENCODINGS).best() or from_bytes(raw).best()
        if best is not None:
            return str(best)
    except ImportError:
        pass
    return raw.decode("cp1252", errors="replace")


def _printable_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 1.0
    good = sum(ch.isprintable() or ch in "\n\r\t" for ch in sample)
    return good / len(sample)
