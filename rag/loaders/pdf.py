"""PDF → blocks with page numbers, via pypdfium2 (PDFium, the engine of Chrome's PDF viewer).

PDFium is fast on 150-page Official Journal files and hardened against hostile input; it is
not thread-safe, so extraction is serialised. Every failure becomes a one-line `SkipFile`.
"""

from __future__ import annotations

import threading
import time

from ..blocks import Block, SkipFile
from .structure import (
    blocks_from_lines,
    drop_footnote_calls,
    drop_repeated_lines,
    footnote_numbers,
    mark_legal_headings,
    notes_after_signature,
)

_PDFIUM_LOCK = threading.Lock()
TIME_BUDGET_S = 300.0
"""A PDF still not read after this long is skipped rather than stalling the whole batch."""


def load_pdf(raw: bytes, name: str) -> tuple[list[Block], str | None]:
    if not raw.lstrip()[:5].startswith(b"%PDF"):
        raise SkipFile("not a PDF file (no %PDF header; corrupt or mislabelled)")
    with _PDFIUM_LOCK:
        pages, title = _extract(raw)
    pages = drop_repeated_lines(pages)
    blocks: list[Block] = []
    for number, lines in enumerate(pages, start=1):
        blocks.extend(blocks_from_lines(lines, page=number))
    if not blocks:
        raise SkipFile("PDF has no text layer (scanned images?); run OCR on it first")
    blocks = notes_after_signature(mark_legal_headings(_join_across_pages(blocks)))
    notes = footnote_numbers([line.strip() for lines in pages for line in lines], blocks)
    return drop_footnote_calls(blocks, notes), title


def _extract(raw: bytes) -> tuple[list[list[str]], str | None]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise SkipFile("encrypted PDF (password required); save an unprotected copy") from exc
        raise SkipFile(f"corrupt PDF ({exc})") from exc
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip() or None
        pages: list[list[str]] = []
        started = time.monotonic()
        for index in range(len(pdf)):
            if time.monotonic() - started > TIME_BUDGET_S:
                raise SkipFile(
                    f"PDF text extraction took over {TIME_BUDGET_S:.0f} s (page {index + 1})"
                )
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_bounded()
            finally:
                textpage.close()
                page.close()
            pages.append(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        return pages, title
    finally:
        pdf.close()


def _join_across_pages(blocks: list[Block]) -> list[Block]:
    """A paragraph broken by a page end continues on the next page: keep it one block, cited
    with the page where it starts (the chunker adds the page range when a passage spans two)."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.page != block.page
            and prev.heading_level == 0
            and prev.text[-1:] not in ".:;!?"
            and block.text[:1].islower()
        ):
            prev.text = f"{prev.text} {block.text}"
            continue
        out.append(block)
    return out
