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
    assert not [
        c.locator
        for c in body
        if "Official Journal of the European Union" in c.text and "L 152/1" in c.text
    ]


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

    assert (
        locator_of("the tasks that the model is intended to perform")
        == "Annex XI, Section 1, point 1"
    )
    assert locator_of("13. Regulation (EC) No 300/2008") == "Annex I, Section B, point 13"
    # A long annex title is the annex's heading, not a passage of its own.
    annex_xi = next(c for c in chunks if c.locator.startswith("Annex XI"))
    assert annex_xi.heading.startswith(
        "ANNEX XI — Technical documentation referred to in Article 53(1), point (a)"
    )
    assert not annex_xi.text.startswith("Technical documentation referred to")


def test_identity_behind_a_page_header_printed_into_the_same_block():
    from rag.documents import Block
    from rag.identity import identify

    ident = identify(
        [
            Block(
                "3.6.2022 EN Official Journal of the European Union L 152/1 REGULATION (EU) 2022/868 OF "
                "THE EUROPEAN PARLIAMENT AND OF THE COUNCIL of 30 May 2022 on European data governance "
                "(Data Governance Act) (Text with EEA relevance) THE EUROPEAN PARLIAMENT AND THE COUNCIL "
                "OF THE EUROPEAN UNION, Having regard to the Treaty"
            )
        ]
    )
    assert ident.display_title() == "Data Governance Act — Regulation (EU) 2022/868"
    assert ident.official_title.endswith("on European data governance (Data Governance Act)")


def test_pdf_lines_notes_after_the_signature_and_glued_labels():
    from rag.documents import Block
    from rag.loaders.structure import blocks_from_lines, notes_after_signature

    lines = ["(60)‘deep fake’ means AI-generated or manipulated image content;"]
    assert blocks_from_lines(lines)[0].text.startswith("(60) ‘deep fake’ means")
    blocks = notes_after_signature(
        [
            Block("Article 99 — Entry into force", heading_level=3),
            Block("2. It shall apply from 25 May 2018."),
            Block("This Regulation shall be binding. Done at Brussels, 27 April 2016."),
            Block("For the European Parliament The President"),
            Block("(6) Regulation (EC) No 45/2001 of the European Parliament and of the Council."),
            Block("ANNEX I", heading_level=3),
            Block("(1) a point of the annex"),
        ]
    )
    assert [b.text for b in blocks if b.heading_level] == [
        "Article 99 — Entry into force",
        "Notes",
        "ANNEX I",
    ]
    assert blocks[4].text == "Notes" and blocks[5].text.startswith("(6) Regulation (EC)")


def test_pdf_footnote_calls_leave_the_text_but_references_and_labels_stay():
    from rag.documents import Block
    from rag.loaders.structure import drop_footnote_calls, footnote_numbers

    blocks = [
        Block(
            "(4) This Regulation is without prejudice to Regulations (EU) 2016/679 (21) and "
            "(EU) 2018/1725 (22) and to the opinion of the Committee (1), After consulting."
        ),
        Block(
            "For the purposes of this Regulation:\n(1) ‘data’ means any representation;\n"
            "(21) ‘re-use’ means the use by persons; as defined in Article 2, point (22), of "
            "Directive (EU) 2019/1024 and in Article 5 (1) of that Directive."
        ),
        Block("Done at Brussels. For the Council The President"),
        Block("Notes", heading_level=2),
        Block("(1) OJ C 286, 16.7.2021, p. 38.\n(21) Regulation (EU) 2016/679 (OJ L 119, p. 1)."),
        Block("(22) Regulation (EU) 2018/1725 (OJ L 295, p. 39)."),
    ]
    numbers = footnote_numbers(["(7) OJ L 1, 1.1.2020, p. 1."], blocks)
    assert numbers == {"1", "7", "21", "22"}
    recital, definitions, _, _, notes, _ = drop_footnote_calls(blocks, numbers)
    assert recital.text == (
        "(4) This Regulation is without prejudice to Regulations (EU) 2016/679 and "
        "(EU) 2018/1725 and to the opinion of the Committee, After consulting."
    )
    # List labels at a line start, a cited point and a paragraph cited with a space all stay.
    assert "\n(1) ‘data’" in definitions.text and "\n(21) ‘re-use’" in definitions.text
    assert "point (22), of" in definitions.text and "Article 5 (1) of" in definitions.text
    assert notes.text.startswith("(1) OJ C 286") and "\n(21) Regulation" in notes.text
    # A document without footnotes loses nothing.
    untouched = Block("the opinion of the Committee (1), After consulting")
    assert drop_footnote_calls([untouched], set())[0].text.endswith("(1), After consulting")


def test_a_sentence_ending_in_annex_xiii_does_not_open_the_annex():
    from rag.documents import Block, LoadedDocument

    doc = LoadedDocument(
        "t.pdf",
        "T",
        "en",
        "",
        [
            Block("Article 51 — Classification", heading_level=3),
            Block("1. A model shall be classified on the basis of the criteria set out in"),
            Block("Annex XIII."),
            Block("2. A model shall be presumed to have high impact capabilities."),
        ],
    )
    assert [c.locator for c in chunk_document(doc)] == ["Article 51(1)", "Article 51(2)"]


CHROMIUM = Path("/usr/bin/chromium")


@needs_real
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")
def test_oj_xhtml_printed_to_pdf_by_chromium(tmp_path):
    import subprocess

    pdf = tmp_path / "data-governance-act-2022-868.pdf"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--print-to-pdf={pdf}",
            (REAL / "data-governance-act-2022-868.oj.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    doc = load_document(pdf, pdf.name, 10**9)
    assert doc.title == "Data Governance Act — Regulation (EU) 2022/868"
    chunks = chunk_document(doc)
    located = {c.locator.split(", p")[0] for c in chunks}
    assert {"Recital 10", "Recital 12", "Notes"} <= located
    assert any(loc.startswith("Article 2(16)") for loc in located)
    body = [c for c in chunks if c.locator.startswith("Article 38")]
    assert body and not [
        c.locator
        for c in body
        if "Directive (EU) 2019/1024" in c.text and c.text.lstrip().startswith("(")
    ]
    assert all(c.page for c in chunks)
    # Footnote calls printed inline ("Regulations (EU) 2016/679 (21) and …") leave the text.
    recital_4 = next(c.text for c in chunks if c.locator.startswith("Recital 4,"))
    assert "Regulations (EU) 2016/679 and (EU) 2018/1725 of" in recital_4
