"""Recovering legal structure from formats that have no Markdown headings (PDF, HTML, DOCX, text).

The Official Journal lays an article out as a bare `Article 99` line followed by its title line
(`Penalties`), and opens the recitals with `Whereas:`. The chunker recognises units from
headings, so these lines are turned into one heading block (`Article 99 — Penalties`) here;
everything format-specific stays in the individual loaders.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..blocks import Block
from ..lexicon import REFERENCE_WORDS

_UNIT_WORDS = r"Article|Artikel|Artykuł|Articolo|Artículo|Artigo|Artikla|Článek"
_ANNEX_WORDS = r"ANNEX|ANNEXE|ANHANG|BILAG|BILAGA|ZAŁĄCZNIK|BIJLAGE|ALLEGATO|ANEXO"
_DIVISION_WORDS = (
    r"CHAPTER|CHAPITRE|KAPITEL|ROZDZIAŁ|SECTION|SEKCJA|AFDELING|ABSCHNITT|TITLE|TITRE|"
    r"TITEL|TYTUŁ|AFSNIT|PART|TEIL|DZIAŁ"
)

BARE_ARTICLE = re.compile(rf"^(?:{_UNIT_WORDS})\s+\d+[a-z]?\.?$", re.IGNORECASE)
BARE_ANNEX = re.compile(rf"^(?:{_ANNEX_WORDS})(?:\s+(?:[IVXLC]+|\d+))?\.?$")
BARE_DIVISION = re.compile(rf"^(?:{_DIVISION_WORDS})\s+[IVXLC\d]+[A-Z]?\.?$", re.IGNORECASE)
PREAMBLE_MARKER = re.compile(
    r"^(?:Whereas|Ud fra følgende betragtninger|a także mając na uwadze, co następuje|"
    r"mając na uwadze, co następuje|in Erwägung nachstehender Gründe|considérant ce qui suit)\s*:?$",
    re.IGNORECASE,
)
FOOTNOTE = re.compile(r"^\(\s*(\d{1,3})\s*\)\s*(?:OJ|EUT|ABl\.|JO|Dz\.\s?U\.)\s", re.IGNORECASE)
"""An Official Journal footnote (`(1) OJ C 517, …`): it would otherwise pass for a recital."""

STRUCTURAL_LINE = re.compile(
    rf"^(?:\(\d{{1,3}}\)|\d{{1,3}}\.\s|\([a-z]{{1,2}}\)|\([ivxlc]+\)|(?:{_UNIT_WORDS})\s+\d|"
    rf"(?:{_ANNEX_WORDS})\b|(?:{_DIVISION_WORDS})\s+[IVXLC\d]|[—–•▪●]\s)",
)
"""Lines that open a recital, paragraph, point, article, annex or division: always a new block."""

_LABEL_ONLY = re.compile(r"^(?:\(\s*[a-z0-9ivxlc]{1,4}\s*\)|\d{1,3}\.|[—–•▪●-])$", re.IGNORECASE)
_TITLE_MAX_WORDS = 16
_ANNEX_TITLE_MAX_WORDS = 40
"""Annex titles run longer ("Technical documentation referred to in Article 53(1), point (a) —
technical documentation for providers of general-purpose AI models"): left as body text, such a
title became a passage of its own."""


def is_unit_heading(text: str) -> bool:
    return bool(BARE_ARTICLE.match(text) or BARE_ANNEX.match(text) or BARE_DIVISION.match(text))


def blocks_from_lines(lines: list[str], page: int | None = None) -> list[Block]:
    """Wrapped lines (PDF page, text paragraph) → blocks: a new block at every structural line,
    at every bare unit heading, and after a short line that ends a sentence (a paragraph end)."""
    lines = _attach_lone_labels([ln.strip() for ln in lines if ln.strip()])
    widest = max((len(ln) for ln in lines), default=0)
    blocks: list[Block] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(Block(_join_wrapped(current), page=page))
            current.clear()

    for line in lines:
        if FOOTNOTE.match(line):
            flush()
            continue  # footnotes are page furniture here; the passage keeps the reference marker
        if is_unit_heading(line) or PREAMBLE_MARKER.match(line):
            flush()
            blocks.append(Block(line, page=page))
            continue
        if not current and blocks and is_unit_heading(blocks[-1].text) and _is_title_line(line):
            blocks.append(Block(line, page=page))  # the unit's title, printed on its own line
            continue
        if current and (STRUCTURAL_LINE.match(line) or is_unit_heading(current[-1])):
            flush()
        current.append(line)
        if line[-1:] in ".:;!?" and len(line) < 0.7 * widest:
            flush()
    flush()
    return blocks


def _attach_lone_labels(lines: list[str]) -> list[str]:
    """`(a)` or `3.` printed in its own column comes out as a line of its own: glue it to its text."""
    out: list[str] = []
    for line in lines:
        if out and _LABEL_ONLY.match(out[-1]) and not _LABEL_ONLY.match(line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


_GLUED_LABEL = re.compile(r"^(\((?:\d{1,3}|[a-z]{1,2}|[ivxlc]{1,5})\))(?=[^\s)])")
"""`(60)‘deep fake’ means`: a label printed in its own table column loses the space after it."""


def _join_wrapped(lines: list[str]) -> str:
    text = _GLUED_LABEL.sub(r"\1 ", lines[0])
    for line in lines[1:]:
        if text.endswith(("\xad", "\x02")):  # a soft hyphen marks a broken word
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return " ".join(text.replace("\xad", "").replace("\x02", "").split())


def mark_legal_headings(blocks: list[Block]) -> list[Block]:
    """Turn bare `Article N` / `ANNEX III` / `CHAPTER II` blocks (plus a following title line)
    and the `Whereas:` marker into headings, as the Markdown corpus has them."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        text = block.text.strip()
        if block.heading_level == 0 and block.indent < 0 and is_unit_heading(text):
            level = 3 if (BARE_ARTICLE.match(text) or BARE_ANNEX.match(text)) else 2
            heading = text.rstrip(".")
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
            limit = _ANNEX_TITLE_MAX_WORDS if BARE_ANNEX.match(text) else _TITLE_MAX_WORDS
            if nxt is not None and _looks_like_title(nxt, limit):
                heading = f"{heading} — {nxt.text.strip()}"
                i += 1
            out.append(Block(heading, heading_level=level, page=block.page))
        elif block.heading_level == 0 and PREAMBLE_MARKER.match(text):
            out.append(Block(text.rstrip(" :"), heading_level=2, page=block.page))
        else:
            out.append(block)
        i += 1
    return out


def _looks_like_title(block: Block, max_words: int = _TITLE_MAX_WORDS) -> bool:
    return (
        block.heading_level in (0, 4, 5, 6)
        and block.indent < 0
        and _is_title_line(block.text, max_words)
    )


def _is_title_line(text: str, max_words: int = _TITLE_MAX_WORDS) -> bool:
    text = text.strip()
    return (
        0 < len(text.split()) <= max_words
        and not STRUCTURAL_LINE.match(text)
        and not is_unit_heading(text)
        and not PREAMBLE_MARKER.match(text)
        and text[-1:] not in ".;:,"
    )


def drop_repeated_lines(pages: list[list[str]], edge: int = 3) -> list[list[str]]:
    """Remove running headers/footers: lines near a page edge that recur on most pages."""
    if len(pages) < 3:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split()))

    counts: dict[str, int] = {}
    for lines in pages:
        for k in {key(ln) for ln in lines[:edge] + lines[-edge:] if ln.strip()}:
            counts[k] = counts.get(k, 0) + 1
    furniture = {k for k, n in counts.items() if n >= max(3, len(pages) // 2)}
    return [
        [
            ln
            for i, ln in enumerate(lines)
            if not ((i < edge or i >= len(lines) - edge) and key(ln) in furniture)
        ]
        for lines in pages
    ]


SIGNED = re.compile(r"\b(?:Done at|Fait à|Geschehen zu|Udfærdiget i|Sporządzono w|Gedaan te)\s+\w+")
"""The act's closing formula ('Done at Brussels, 27 April 2016.'), after which the signatures."""
_NOTE_NUMBER = re.compile(r"^\(\s*(\d{1,3})\s*\)(?=\s*\S)", re.MULTILINE)
"""A numbered note's opening "(6) …", at the start of a block or of one of its lines."""
_FOOTNOTE_CALL = re.compile(r"(?<![\s(])[ \u00a0]\(\s?(\d{1,3})\s?\)(?=[\s,.;:]|$)")
"""A parenthesised number inside a sentence ("Regulation (EU) 2016/679 (21) and …"); a recital's
or point's own number opens its block or line instead."""
_REFERENCE_BEFORE = re.compile(rf"(?:{REFERENCE_WORDS})s?\s*(?:\d+[a-z]?)?\s*,?$", re.IGNORECASE)
"""What precedes a cited point or paragraph ("point (6)", "Article 5 (1)"): no footnote call."""


def footnote_numbers(lines: list[str], blocks: list[Block]) -> set[str]:
    """The numbers of the document's footnotes: OJ footnote lines ("(21) OJ L 119, …") and the
    notes printed after the signatures (under the "Notes" heading `notes_after_signature` adds)."""
    numbers = {m.group(1) for line in lines if (m := FOOTNOTE.match(line))}
    for block, in_notes in _with_notes_flag(blocks):
        if in_notes:
            numbers |= set(_NOTE_NUMBER.findall(block.text))
    return numbers


def drop_footnote_calls(blocks: list[Block], numbers: set[str]) -> list[Block]:
    """The blocks without the calls of the document's footnotes: a PDF prints "(21)" after a cited
    act whose OJ reference the footnote holds, and left in a sentence it reads as a point label
    or a figure. Only numbers the document has a footnote for count, and never after a
    reference word ("point (6)", "Article 5 (1)"); the notes themselves keep their numbers.
    The given blocks are left as they are."""

    def drop(match: re.Match) -> str:
        before = match.string[max(0, match.start() - 25) : match.start()]
        keep = match.group(1) not in numbers or _REFERENCE_BEFORE.search(before)
        return match.group(0) if keep else ""

    return [
        replace(block, text=_FOOTNOTE_CALL.sub(drop, block.text))
        if block.heading_level == 0 and not in_notes and numbers
        else block
        for block, in_notes in _with_notes_flag(blocks)
    ]


def _with_notes_flag(blocks: list[Block]):
    """Each block, and whether it sits under a "Notes" heading."""
    in_notes = False
    for block in blocks:
        if block.heading_level > 0:
            in_notes = block.text == "Notes"
        yield block, in_notes


def notes_after_signature(blocks: list[Block]) -> list[Block]:
    """Numbered notes printed after an act's signatures ('(6) Regulation (EC) No 45/2001 …') are
    its footnotes, not points of its last article: they get a 'Notes' heading, as in Markdown,
    up to the next heading (an annex)."""
    out: list[Block] = []
    signed = in_notes = False
    for block in blocks:
        if block.heading_level > 0:
            signed = in_notes = False
        elif SIGNED.search(block.text):
            signed = True
        elif signed and not in_notes and _NOTE_NUMBER.match(block.text):
            out.append(Block("Notes", heading_level=2, page=block.page))
            in_notes = True
        out.append(block)
    return out
