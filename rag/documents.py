"""Loading files into a neutral block structure: headings and text blocks, with page numbers.

Every loader returns a `LoadedDocument`; the chunker never sees file formats. Loaders are
registered in `LOADERS` by suffix; those for PDF, HTML and DOCX live in `rag.loaders` and are
imported on first use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .blocks import Block, SkipFile, decode_text

if TYPE_CHECKING:
    from .identity import ActIdentity


@dataclass
class LoadedDocument:
    path: str  # file name relative to the indexed folder: the document's id
    title: str
    lang: str
    sha256: str
    blocks: list[Block] = field(default_factory=list)
    identity: ActIdentity | None = None  # the act the text holds, read from its own title


def document_title(
    blocks: list[Block], file_title: str | None, fallback: str, identity: ActIdentity | None
) -> str:
    """The title shown and used for act names. A title the file gives that names the act's number
    is kept (the corpus's "GDPR — Regulation (EU) 2016/679"); otherwise the act's own title line
    wins over what the file calls itself (an EUR-Lex `<title>` is `L_2022152EN.01000101.xml`)."""
    title = file_title or title_from_blocks(blocks, fallback)
    if identity is None:
        return title
    if identity.number in title and (not identity.version or identity.version in title):
        return title
    return identity.display_title()


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LIST = re.compile(r"^(\s*)(?:[-*+])\s+(.*)$")
_MD_NOTE_CALL = re.compile(r"\s?\[\^[^\]\s]{1,10}\](?!:)")
"""A footnote call (`Committee[^1],`): dropped from the text; the note itself (`[^1]: …`) stays."""


def parse_markdown(text: str) -> list[Block]:
    """Headings, paragraphs and list items (one block each, with nesting depth)."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            joined = " ".join(s.strip() for s in para).strip()
            if joined:
                blocks.append(Block(joined))
            para.clear()

    for line in text.splitlines():
        if not line.strip():
            flush()
            continue
        line = _MD_NOTE_CALL.sub("", line)
        heading = _MD_HEADING.match(line)
        if heading:
            flush()
            blocks.append(Block(heading.group(2).strip(), heading_level=len(heading.group(1))))
            continue
        item = _MD_LIST.match(line)
        if item:
            flush()
            indent = len(item.group(1).expandtabs(4)) // 2
            blocks.append(Block(item.group(2).strip(), indent=indent))
            continue
        if line.startswith(">"):
            flush()
            blocks.append(Block(line.lstrip("> ").strip(), heading_level=0, indent=-2))
            continue
        if blocks and blocks[-1].indent >= 0 and not para and line.startswith((" ", "\t")):
            blocks[-1].text += " " + line.strip()  # continuation line of a list item
            continue
        para.append(line)
    flush()
    return blocks


def parse_plain_text(text: str) -> list[Block]:
    """Paragraphs separated by blank lines; lines that open a legal unit start a new block and
    bare `Article N` + title lines become headings, so a .txt act chunks like the Markdown one."""
    from .loaders.structure import blocks_from_lines, mark_legal_headings

    blocks: list[Block] = []
    for para in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if lines:
            blocks.extend(blocks_from_lines(lines))
    return mark_legal_headings(blocks)


def title_from_blocks(blocks: list[Block], fallback: str) -> str:
    for block in blocks:
        if block.heading_level == 1:
            return block.text
    for block in blocks:
        if block.text.strip() and block.indent == -1:
            return block.text[:120]
    return fallback


Loader = Callable[[bytes, str], tuple[list[Block], str | None]]
"""(raw bytes, file name) -> (blocks, title or None)."""


def _load_markdown(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    return parse_markdown(decode_text(raw)), None


def _load_text(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    return parse_plain_text(decode_text(raw)), None


def _load_pdf(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    from .loaders.pdf import load_pdf

    return load_pdf(raw, name)


def _load_html(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    from .loaders.html import load_html

    return load_html(raw, name)


def _load_docx(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    from .loaders.docx import load_docx

    return load_docx(raw, name)


LOADERS: dict[str, Loader] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".text": _load_text,
    ".pdf": _load_pdf,
    ".html": _load_html,
    ".htm": _load_html,
    ".xhtml": _load_html,
    ".docx": _load_docx,
}


def supported_suffixes() -> list[str]:
    return sorted(LOADERS)


MAX_HEADING_CHARS = 300
"""Longer 'headings' and titles are not headings: the title and the unit heading are repeated in
the embedded text of every passage, so a 1 MB heading would make each passage 1 MB to embed."""
MAX_WORD_CHARS = 200
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")


def _bounded(blocks: list[Block]) -> list[Block]:
    """Keep hostile text from multiplying the embedding work: over-long headings become body text
    (cut into passages like any paragraph) and runs of non-space characters longer than any word
    or URL (base64, binary junk) are cut short, since the passage word limit cannot split them."""
    for block in blocks:
        if len(block.text) > MAX_WORD_CHARS:
            block.text = _LONG_WORD.sub(lambda m: m.group(0)[:MAX_WORD_CHARS] + "…", block.text)
        if block.heading_level and len(block.text) > MAX_HEADING_CHARS:
            block.heading_level = 0
    return blocks


def load_document(path: Path, rel_name: str, max_bytes: int) -> LoadedDocument:
    """Read and parse one file; raises SkipFile with a one-line reason when it cannot be indexed."""
    from .identity import identify, strip_markers
    from .language import detect_language

    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise SkipFile(f"unsupported file type '{suffix or path.name}'")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    if size == 0:
        raise SkipFile("empty file")
    if size > max_bytes:
        raise SkipFile(f"too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    try:
        blocks, title = loader(raw, rel_name)
    except SkipFile:
        raise
    except Exception as exc:  # a parser library failing on a hostile file must not stop the batch
        raise SkipFile(
            f"cannot parse {suffix[1:].upper()}: {type(exc).__name__}: {exc}"[:300]
        ) from exc
    for block in blocks:  # consolidated texts: ►B, ▼M2, ►C1 … ◄ mark amendments, not text
        block.text = strip_markers(block.text)
    blocks = _bounded([b for b in blocks if b.text.strip()])
    if not any(b.heading_level == 0 and len(b.text.split()) >= 1 for b in blocks):
        raise SkipFile("no extractable text")
    sample = " ".join(b.text for b in blocks[:400] if b.heading_level == 0)[:20000]
    identity = identify(blocks, title)
    return LoadedDocument(
        path=rel_name,
        title=document_title(blocks, title, Path(rel_name).stem, identity)[:MAX_HEADING_CHARS],
        lang=detect_language(sample),
        sha256=hashlib.sha256(raw).hexdigest(),
        blocks=blocks,
        identity=identity,
    )
