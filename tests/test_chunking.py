"""Chunker on real corpus text: unit boundaries, locators, sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.chunking import MAX_WORDS, chunk_document
from rag.documents import LoadedDocument, load_document, parse_markdown

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def ai_act():
    doc = load_document(CORPUS / "eu-ai-act-2024-1689.md", "eu-ai-act-2024-1689.md", 10**9)
    return doc, chunk_document(doc)


def _find(chunks, needle):
    matches = [c for c in chunks if needle in " ".join(c.text.split())]
    assert matches, f"no chunk contains {needle!r}"
    return matches[0]


def test_fine_paragraph_has_precise_locator(ai_act):
    _, chunks = ai_act
    chunk = _find(chunks, "administrative fines of up to EUR 35 000 000")
    assert chunk.locator == "Article 99(3)"
    assert "Article 99 — Penalties" in chunk.heading


def test_recital_locator(ai_act):
    _, chunks = ai_act
    chunk = _find(chunks, "The notion of ‘AI system’ in this Regulation should be clearly defined")
    assert chunk.locator == "Recital 12"


def test_point_locator_and_lead_in_context(ai_act):
    _, chunks = ai_act
    chunk = _find(chunks, "to infer emotions of a natural person in the areas of workplace")
    assert chunk.locator.startswith("Article 5(1)(")
    assert "prohibited" in chunk.context


def test_definition_point_locator(ai_act):
    _, chunks = ai_act
    chunk = _find(chunks, "‘AI system’ means a machine-based system")
    assert chunk.locator.startswith("Article 3(1)")


def test_annex_point_locator(ai_act):
    _, chunks = ai_act
    chunk = _find(chunks, "evaluate the creditworthiness of natural persons")
    assert chunk.locator == "Annex III, point 5"


def test_no_passage_crosses_an_article(ai_act):
    doc, chunks = ai_act
    for chunk in chunks:
        assert "### Article" not in chunk.text
        assert len(chunk.text.split()) <= MAX_WORDS
    # Article 98 ends right before Article 99; no chunk holds text of both.
    art98 = [c for c in chunks if c.locator.startswith("Article 98")]
    assert art98 and all("Article 99" not in c.heading for c in art98)


def test_every_passage_has_a_locator(ai_act):
    _, chunks = ai_act
    assert all(c.locator for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)


@pytest.mark.parametrize(
    "name,needle,locator",
    [
        ("data-act-2023-2854-da.md", "Denne forordning træder i kraft", "Artikel 50"),
        (
            "eu-ai-act-2024-1689-pl.md",
            "Nieprzestrzeganie zakazu praktyk w zakresie AI",
            "Artykuł 99(3)",
        ),
    ],
)
def test_other_languages(name, needle, locator):
    doc = load_document(CORPUS / name, name, 10**9)
    chunk = _find(chunk_document(doc), needle)
    assert chunk.locator.startswith(locator)


def test_plain_document_falls_back_to_headings():
    blocks = parse_markdown(
        "# Notes\n\n## Background\n\nSome text here.\n\n## Plan\n\n" + "word " * 400
    )
    doc = LoadedDocument(path="notes.md", title="Notes", lang="en", sha256="x", blocks=blocks)
    chunks = chunk_document(doc)
    assert chunks[0].locator == "Background"
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert [c.locator for c in chunks[1:]] == ["Plan"] * (len(chunks) - 1)


def test_sentence_units_join_short_clauses_and_carry_the_unit_title():
    from rag.chunking import Chunk, sentence_units

    chunk = Chunk(
        "c",
        "d.md",
        "Article 65(2)",
        "CHAPTER VII > Article 65 — Structure of the Board",
        "",
        "2. The Board shall be composed of one representative per Member State. "
        "It shall meet where:\n(a) the Chair so decides for reasons of urgency;\n(b) a majority asks.",
    )
    # "2." and "It shall meet where:" are too short alone; the trailing "(b) …" joins the unit before.
    assert sentence_units(chunk) == [
        "Structure of the Board: 2. The Board shall be composed of one representative per Member State.",
        "Structure of the Board: It shall meet where: (a) the Chair so decides for reasons of urgency; "
        "(b) a majority asks.",
    ]


def test_every_passage_has_a_sentence_unit():
    from rag.chunking import Chunk, sentence_units

    assert sentence_units(Chunk("c", "d.md", "Recital 3", "Recitals", "", "(3) Short.")) == [
        "Recitals: (3) Short."
    ]
    assert sentence_units(Chunk("c", "d.md", "Article 1", "Article 1", "", "   ")) == ["Article 1"]


def _doc(markdown: str) -> LoadedDocument:
    return LoadedDocument("t.md", "T", "en", "", parse_markdown(markdown))


def test_annex_section_and_its_title_stay_inside_the_annex(ai_act):
    _, chunks = ai_act
    chunk = _find(chunks, "the tasks that the model is intended to perform")
    assert chunk.locator == "Annex XI, Section 1, point 1"
    assert (
        _find(chunks, "14. Regulation (EU) No 168/2013").locator == "Annex I, Section B, point 14"
    )


def test_unnumbered_annex_and_lettered_sections():
    chunks = chunk_document(
        _doc(
            "## ANNEX\n\n### REQUIREMENTS TO BE MET BY BODIES\n\n1. Bodies shall be independent.\n\n"
            "2. Bodies shall keep records.\n\n### D. ‘Submission of information’\n\n"
            "1. The undertaking shall submit data.\n"
        )
    )
    assert [c.locator for c in chunks] == [
        "Annex, point 1",
        "Annex, point 2",
        "Annex, Section D, point 1",
    ]


def test_first_recital_under_a_recitals_heading_is_recital_1():
    chunks = chunk_document(
        _doc(
            "## Recitals\n\n(1) Semiconductors are at the core of any digital device.\n\n"
            "(2) A framework for resilience should be established.\n\n## CHAPTER I — General\n\n"
            "### Article 1 — Subject matter\n\nThis Regulation lays down rules.\n"
        )
    )
    assert [c.locator for c in chunks][:2] == ["Recital 1", "Recital 2"]


def test_numbered_annex_heading_is_a_point():
    chunks = chunk_document(
        _doc(
            "## ANNEX VII — Conformity\n\n### 4. Control of the technical documentation.\n\n"
            "4.1. In addition to the application, the provider shall submit the documentation.\n"
        )
    )
    assert [c.locator for c in chunks] == ["Annex VII, point 4"]
