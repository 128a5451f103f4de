"""EUR-Lex / Official Journal originals: clean passage text (no page header, footnote calls or
amendment markers) with the footnotes kept as "Notes" passages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.documents import load_document

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-formats"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-formats not present")


def _chunks(path: Path):
    return chunk_document(load_document(path, path.name, 10**9))


@needs_real
def test_oj_xhtml_footnotes_are_notes_and_their_calls_leave_the_text():
    chunks = _chunks(REAL / "data-governance-act-2022-868.oj.html")
    body = [c for c in chunks if c.locator != "Notes"]
    notes = " ".join(c.text for c in chunks if c.locator == "Notes")
    assert "(1) OJ C 286, 16.7.2021, p. 38." in notes
    assert "(3) Commission Recommendation 2003/361/EC" in notes
    cited = next(c for c in body if "European Economic and Social Committee" in c.text)
    assert "Economic and Social Committee," in " ".join(cited.text.split())
    # The last article holds no footnotes mistaken for its points.
    assert not [c.locator for c in body if "OJ L " in c.text and c.locator.startswith("Article 38")]
    assert not [c.locator for c in body if "Official Journal of the European Union" in c.text
                and "L 152/1" in c.text]


def test_markdown_footnote_calls_leave_the_text_and_notes_stay():
    chunks = _chunks(CORPUS / "data-governance-act-2022-868.md")
    assert not [c.locator for c in chunks if re.search(r"\[\^\d+\](?!:)", c.text)]
    notes = [c for c in chunks if c.locator == "Notes"]
    assert notes and "OJ C 286, 16.7.2021, p. 38." in notes[0].text


@needs_real
def test_oj_xhtml_annex_titles_and_sections_as_in_markdown():
    chunks = _chunks(REAL / "eu-ai-act-2024-1689.oj.html")

    def locator_of(needle: str) -> str:
        return next(c.locator for c in chunks if needle in " ".join(c.text.split()))

    assert locator_of("the tasks that the model is intended to perform") == \
        "Annex XI, Section 1, point 1"
    assert locator_of("13. Regulation (EC) No 300/2008") == "Annex I, Section B, point 13"
    # A long annex title is the annex's heading, not a passage of its own.
    annex_xi = next(c for c in chunks if c.locator.startswith("Annex XI"))
    assert annex_xi.heading.startswith("ANNEX XI — Technical documentation referred to in Article "
                                       "53(1), point (a)")
    assert not annex_xi.text.startswith("Technical documentation referred to")
