"""Loaders on real files printed by libraries: locators, pages, boilerplate, encodings, bad input."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from fixtures import acts

from rag.chunking import chunk_document
from rag.documents import SkipFile, load_document


def _chunks(path: Path):
    doc = load_document(path, path.name, 10**8)
    return doc, chunk_document(doc)


def _find(chunks, needle: str):
    matches = [c for c in chunks if needle in " ".join(c.text.split())]
    assert matches, f"no passage contains {needle!r}"
    return matches[0]


FINE = "administrative fines of up to EUR 35 000 000"
RECITAL_12 = "The notion of ‘AI system’ in this Regulation should be clearly defined"
CREDIT = "evaluate the creditworthiness of natural persons"
POINT_7E = "any other aggravating or mitigating factor"


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The same AI Act excerpt as PDF, DOCX, HTML and text (cp1252)."""
    d = tmp_path_factory.mktemp("printed")
    acts.write_pdf(d / "ai-act.pdf")
    acts.write_docx(d / "ai-act.docx")
    (d / "ai-act.html").write_text(acts.html_page(), "utf-8")
    (d / "ai-act.txt").write_bytes(acts.plain_text().encode("cp1252"))
    return d


def test_pdf_locators_carry_pages(printed):
    doc, chunks = _chunks(printed / "ai-act.pdf")
    assert doc.title == acts.TITLE and doc.lang == "en"
    assert _find(chunks, FINE).locator == "Article 99(3), p. 2"
    assert _find(chunks, RECITAL_12).locator == "Recital 12, p. 1"
    assert _find(chunks, POINT_7E).locator.startswith("Article 99(7)(e)")
    assert _find(chunks, CREDIT).locator.startswith("Annex III, point 5, p")
    assert all(c.page for c in chunks)
    assert "Article 99 — Penalties" in _find(chunks, FINE).heading


def test_pdf_drops_running_header_and_footer(printed):
    _, chunks = _chunks(printed / "ai-act.pdf")
    text = " ".join(c.text for c in chunks)
    assert "ELI: http" not in text and "OJ L, 12.7.2024 EN" not in text


@pytest.mark.parametrize("name", ["ai-act.docx", "ai-act.html", "ai-act.txt"])
def test_other_formats_give_the_same_locators(printed, name):
    doc, chunks = _chunks(printed / name)
    assert doc.title == acts.TITLE and doc.lang == "en"
    assert _find(chunks, FINE).locator == "Article 99(3)"
    assert _find(chunks, RECITAL_12).locator == "Recital 12"
    assert _find(chunks, POINT_7E).locator.startswith("Article 99(7)(e)")
    assert _find(chunks, CREDIT).locator == "Annex III, point 5"
    assert "Article 99 — Penalties" in _find(chunks, FINE).heading


def test_html_drops_navigation_and_boilerplate(printed):
    doc, _ = _chunks(printed / "ai-act.html")
    text = " ".join(b.text for b in doc.blocks)
    for junk in [
        "Advanced search",
        "Accept all cookies",
        "Official Journal >",
        "Legal notice",
        "Corrigendum",
        "tracking",
        "Access to European Union law",
    ]:
        assert junk not in text, junk
    assert FINE in text


def test_docx_heading_styles_make_plain_documents_chunk_by_heading(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Position paper on data spaces", style="Title")
    document.add_paragraph("Background", style="Heading 1")
    document.add_paragraph("The ministry supports common European data spaces. " * 5)
    document.add_paragraph("Recommendations", style="Heading 1")
    document.add_paragraph("Interoperability requirements", style="Heading 2")
    document.add_paragraph("Open standards should be preferred. " * 80)
    document.save(tmp_path / "paper.docx")
    doc, chunks = _chunks(tmp_path / "paper.docx")
    assert doc.title == "Position paper on data spaces"
    assert chunks[0].locator == "Background"
    assert {c.locator for c in chunks[1:]} == {"Recommendations > Interoperability requirements"}
    assert all(len(c.text.split()) <= 180 for c in chunks)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252", "iso-8859-2"])
def test_text_encodings_are_detected(tmp_path, encoding):
    text = (
        "Artykuł 5\nZakazane praktyki w zakresie AI\n\n"
        "1. Zakazuje się następujących praktyk w zakresie AI: wprowadzania do obrotu systemu AI, "
        "który stosuje techniki podprogowe, będące poza świadomością danej osoby.\n"
    )
    if encoding == "cp1252":
        text = (
            "Artikel 50\nIkrafttræden\n\nDenne forordning træder i kraft på tyvendedagen efter "
            "offentliggørelsen i Den Europæiske Unions Tidende, og den finder anvendelse fra "
            "den 12. september 2025.\n"
        )
    path = tmp_path / "act.txt"
    path.write_bytes(text.encode(encoding))
    doc, chunks = _chunks(path)
    assert " ".join(b.text for b in doc.blocks).split()[:2] == text.split()[:2]
    if encoding == "cp1252":
        assert doc.lang == "da" and chunks[0].locator == "Artikel 50"
    else:
        assert doc.lang == "pl" and chunks[0].locator == "Artykuł 5(1)"


def _encrypted_pdf(path: Path) -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", canModify=0))
    c.drawString(72, 720, "Article 1 — Confidential")
    c.save()


def _bad_files(d: Path) -> dict[str, str]:
    """File name → a fragment of the skip reason it must produce."""
    _encrypted_pdf(d / "encrypted.pdf")
    acts.write_pdf(d / "whole.pdf", acts.section("### Article 99 ")[:4])
    raw = (d / "whole.pdf").read_bytes()
    (d / "truncated.pdf").write_bytes(raw[: len(raw) // 3])
    (d / "whole.pdf").unlink()
    (d / "random.pdf").write_bytes(os.urandom(4096))
    (d / "random.docx").write_bytes(os.urandom(4096))
    (d / "random.txt").write_bytes(os.urandom(4096))
    (d / "random.html").write_bytes(os.urandom(4096))
    with zipfile.ZipFile(d / "notword.docx", "w") as z:
        z.writestr("hello.txt", "not a Word document")
    (d / "legacy.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2048))
    (d / "empty.md").write_bytes(b"")
    (d / "blank.txt").write_bytes(b"\n  \n\t\n")
    (d / "big.txt").write_text("word " * 50_000)
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(d / "scanned.pdf"))
    c.rect(50, 50, 200, 200, fill=1)
    c.save()
    return {
        "encrypted.pdf": "encrypted PDF",
        "truncated.pdf": "corrupt PDF",
        "random.pdf": "not a PDF",
        "random.docx": "not a DOCX",
        "notword.docx": "not a DOCX",
        "legacy.docx": "encrypted DOCX",
        "random.txt": "binary data",
        "random.html": "binary data",
        "empty.md": "empty file",
        "blank.txt": "no extractable text",
        "big.txt": "too large",
        "scanned.pdf": "no text layer",
    }


BAD_LIMIT = 100_000
"""Size limit used with `_bad_files`: big.txt (250 kB) is over it, everything else under."""


def test_each_bad_file_is_skipped_with_a_one_line_reason(tmp_path):
    expected = _bad_files(tmp_path)
    for name, reason in expected.items():
        with pytest.raises(SkipFile) as info:
            load_document(tmp_path / name, name, BAD_LIMIT)
        message = str(info.value)
        assert reason in message, (name, message)
        assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize(
    "marker,lang,recital",
    [
        ("Whereas:", "en", "Recital 2"),
        ("ud fra følgende betragtninger:", "da", "Betragtning 2"),
        ("a także mając na uwadze, co następuje:", "pl", "Motyw 2"),
        ("in Erwägung nachstehender Gründe:", "de", "Erwägungsgrund 2"),
    ],
)
def test_recitals_after_the_preamble_marker_in_each_language(marker, lang, recital):
    from rag.documents import LoadedDocument, parse_plain_text

    text = f"{marker}\n\n(1) First recital.\n\n(2) Second recital text.\n\nArticle 1\nSubject matter\n\n1. Text.\n"
    chunks = chunk_document(LoadedDocument("act.txt", "Act", lang, "x", parse_plain_text(text)))
    assert [c.locator for c in chunks] == [recital.replace("2", "1"), recital, "Article 1(1)"]
