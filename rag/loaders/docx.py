"""DOCX → blocks via python-docx: heading styles become heading levels, list levels become indents.

Word's `Title` style is the document title (level 1, as `#` in Markdown); `Heading N` maps to
level N+1 so that a document's top sections behave like the corpus's `##` sections.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..blocks import Block, SkipFile
from .structure import mark_legal_headings

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_EXPANDED_BYTES = 300_000_000
"""A small DOCX that inflates beyond this is a decompression bomb, not a document."""
_HEADING_STYLE = re.compile(
    r"^(?:Heading|Überschrift|Titre|Overskrift|Nagłówek)\s*(\d)$", re.IGNORECASE
)


def load_docx(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    if raw.startswith(_OLE_MAGIC):
        raise SkipFile(
            "encrypted DOCX or legacy Word 97-2003 file; save it as an unprotected .docx"
        )
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise SkipFile("not a DOCX file (not a ZIP package; corrupt or mislabelled)")
    with zipfile.ZipFile(io.BytesIO(raw)) as package:
        expanded = sum(info.file_size for info in package.infolist())
        if "word/document.xml" not in package.namelist():
            raise SkipFile("not a DOCX file (ZIP package without word/document.xml)")
        if expanded > MAX_EXPANDED_BYTES:
            raise SkipFile(
                f"DOCX expands to {expanded / 1e6:.0f} MB (limit {MAX_EXPANDED_BYTES / 1e6:.0f} MB)"
            )
        _check_declared_sizes(package)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(raw))
    blocks: list[Block] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            block = _paragraph_block(Paragraph(element, document))
            if block is not None:
                blocks.append(block)
        elif tag == "tbl":
            blocks.extend(_table_blocks(Table(element, document)))
    title = (document.core_properties.title or "").strip() or None
    return mark_legal_headings(blocks), title


def _check_declared_sizes(package: zipfile.ZipFile) -> None:
    """Inflate every part in small steps before python-docx reads it whole.

    The sizes checked above come from the ZIP directory, which a crafted bomb can understate;
    `ZipFile.read` then inflates the entire stream in one call (gigabytes from a few MB) before
    noticing. Reading in 1 MB steps stops at the declared size, with a CRC error for the lie.
    """
    for info in package.infolist():
        try:
            with package.open(info) as part:
                while part.read(1 << 20):
                    pass
        except (zipfile.BadZipFile, EOFError, NotImplementedError, ValueError) as exc:
            raise SkipFile(
                f"corrupt DOCX: part '{info.filename[:80]}' does not match its declared "
                f"size or checksum (a decompression bomb?): {exc}"[:250]
            ) from exc


def _paragraph_block(paragraph) -> Block | None:
    text = " ".join(paragraph.text.split())
    if not text:
        return None
    style = paragraph.style.name if paragraph.style is not None else ""
    if style == "Title":
        return Block(text, heading_level=1)
    heading = _HEADING_STYLE.match(style)
    if heading:
        return Block(text, heading_level=min(6, int(heading.group(1)) + 1))
    return Block(text, indent=_list_level(paragraph, style))


def _list_level(paragraph, style: str) -> int:
    """Nesting depth of a list item (numbering level, or `List Bullet 2` style), else -1."""
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None and ppr.numPr.ilvl is not None:
        return int(ppr.numPr.ilvl.val)
    match = re.match(r"^List(?: Bullet| Number| Continue)?(?: (\d))?$", style)
    if match:
        return int(match.group(1) or 1) - 1
    return -1


def _table_blocks(table) -> list[Block]:
    """One block per row: cells joined, so `(a) | text` layouts read as `(a) text`."""
    blocks = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            blocks.append(Block(" ".join(cells)))
    return blocks
