"""An act's identity read from its own text, for OJ XHTML, consolidated texts and Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import eurlex

from rag.chunking import chunk_document
from rag.documents import Block, load_document
from rag.identity import identify, strip_markers
from rag.query import ActCatalog, DocumentInfo

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-formats"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _load(path: Path):
    return load_document(path, path.name, 10**9)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-formats not present")
def test_oj_xhtml_is_titled_by_its_act_not_by_its_file_name():
    doc = _load(REAL / "data-governance-act-2022-868.oj.html")
    assert doc.title == "Data Governance Act — Regulation (EU) 2022/868"
    ident = doc.identity
    assert ident is not None
    assert ident.number == "2022/868" and ident.act_type == "Regulation"
    assert ident.official_title.startswith(
        "Regulation (EU) 2022/868 of the European Parliament and of the Council of 30 May 2022 "
        "on European data governance and amending Regulation (EU) 2018/1724"
    )
    assert ident.official_title.endswith("(Data Governance Act)")
    assert ident.short_title == "Data Governance Act"
    assert not ident.consolidated


def test_consolidated_text_is_titled_with_its_base_act_and_date(tmp_path):
    page = tmp_path / "gdpr-consolidated.html"
    page.write_text(eurlex.consolidated_page("04.05.2016"), "utf-8")
    doc = _load(page)
    assert doc.title == (
        "General Data Protection Regulation — Regulation (EU) 2016/679 "
        "(consolidated text of 4 May 2016)"
    )
    assert doc.identity.consolidated == "2016-05-04"
    assert doc.identity.base_act == "Regulation (EU) 2016/679"


def test_markdown_title_naming_the_act_is_kept_and_identity_still_read():
    doc = _load(CORPUS / "gdpr-2016-679.md")
    assert doc.title == "General Data Protection Regulation (GDPR) — Regulation (EU) 2016/679"
    assert doc.identity.short_title == "General Data Protection Regulation"
    danish = _load(CORPUS / "data-act-2023-2854-da.md")
    assert danish.identity.number == "2023/2854"
    assert danish.identity.short_title == "dataforordningen"


def _act(first_article: str) -> list[Block]:
    return [
        Block("REGULATION (EU) 2031/77 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL"),
        Block("of 2 March 2031"),
        Block("on the safety of mechanical widgets"),
        Block("(Text with EEA relevance)"),
        Block("Whereas:"),
        Block("(1) Widgets should be safe."),
        Block("Article 1", heading_level=3),
        Block(first_article),
    ]


def test_short_title_and_acronym_from_the_first_article():
    ident = identify(
        _act(
            "This Regulation may be cited as the ‘Widget Safety Act’. The Widget "
            "Safety Act (WSA) lays down rules on widgets."
        )
    )
    assert ident.official_title == (
        "Regulation (EU) 2031/77 of the European Parliament and of "
        "the Council of 2 March 2031 on the safety of mechanical widgets"
    )
    assert ident.short_title == "Widget Safety Act"
    assert ident.acronyms == ("WSA",)
    assert ident.display_title() == "Widget Safety Act (WSA) — Regulation (EU) 2031/77"


def test_an_act_is_found_by_the_short_title_it_gives_itself():
    ident = identify(_act("This Regulation may be cited as the ‘Widget Safety Act’."))
    doc = DocumentInfo("widgets.html", ident.display_title(), "en", ident.names)
    other = DocumentInfo(
        "gdpr.md", "General Data Protection Regulation — Regulation (EU) 2016/679", "en"
    )
    catalog = ActCatalog([doc, other], aliases={})
    assert [key for key, _ in catalog.find("What does the Widget Safety Act require?")] == [
        "2031/77"
    ]
    # Through the names alone, as for a document whose title carries no name.
    bare = ActCatalog(
        [DocumentInfo("w.html", "Regulation (EU) 2031/77", "en", ident.names)], aliases={}
    )
    assert [key for key, _ in bare.find("under the widget safety act")] == ["2031/77"]
    assert (
        ActCatalog([DocumentInfo("w.html", "Regulation (EU) 2031/77", "en")], aliases={}).find(
            "under the widget safety act"
        )
        == []
    )


def test_an_act_cited_in_running_text_is_not_the_documents_identity():
    blocks = [Block("Guidance notes", heading_level=1), Block("Some introduction.")] * 3 + [
        Block(
            "Regulation (EU) 2016/679 of the European Parliament and of the Council of "
            "27 April 2016 applies here."
        )
    ]
    assert identify(blocks[:6]) is None
    assert identify([Block("Notes"), Block("See Regulation (EU) 2016/679.")]) is None


def test_markers_are_stripped():
    assert strip_markers("▼M2 the ►C1 provider shall ◄ ensure") == "the provider shall ensure"
    assert strip_markers("plain text") == "plain text"


def test_consolidated_markers_never_reach_a_passage(tmp_path):
    page = tmp_path / "gdpr-consolidated.html"
    page.write_text(eurlex.consolidated_page(), "utf-8")
    chunks = chunk_document(_load(page))
    assert not [c.text for c in chunks if any(ch in c.text for ch in "►▼◄")]
    article2 = [c for c in chunks if c.locator.startswith("Article 2(1)")]
    assert article2 and "This Regulation applies to the processing" in article2[0].text
