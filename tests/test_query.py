"""Query analysis: act names in several languages, legal references, exact-match terms."""

from __future__ import annotations

import pytest

from rag.query import (
    ActCatalog,
    DocumentInfo,
    analyse,
    exact_terms,
    fold,
    fold_mapped,
    locator_span,
    names_from_title,
    normalise_text,
    parse_locator,
    parse_references,
)

DOCS = [
    DocumentInfo(
        "gdpr-2016-679.md",
        "General Data Protection Regulation (GDPR) — Regulation (EU) 2016/679",
        "en",
    ),
    DocumentInfo(
        "eu-ai-act-2024-1689.md", "Artificial Intelligence Act — Regulation (EU) 2024/1689", "en"
    ),
    DocumentInfo(
        "eu-ai-act-2024-1689-pl.md",
        "Akt w sprawie sztucznej inteligencji — Rozporządzenie (UE) 2024/1689 (wersja polska)",
        "pl",
    ),
    DocumentInfo("data-act-2023-2854.md", "Data Act — Regulation (EU) 2023/2854", "en"),
    DocumentInfo(
        "data-act-2023-2854-da.md",
        "Dataforordningen — Forordning (EU) 2023/2854 (dansk udgave)",
        "da",
    ),
    DocumentInfo("dsa.md", "Digital Services Act — Regulation (EU) 2022/2065", "en"),
    DocumentInfo("nis2-da.md", "NIS 2-direktivet — Direktiv (EU) 2022/2555 (dansk udgave)", "da"),
    DocumentInfo("nis2.md", "NIS 2 Directive — Directive (EU) 2022/2555", "en"),
]


@pytest.fixture(scope="module")
def catalog() -> ActCatalog:
    return ActCatalog(DOCS)


def test_language_versions_group_into_one_act_by_number(catalog):
    assert catalog.acts["2024/1689"].langs == {"en", "pl"}
    assert catalog.acts["2023/2854"].doc_ids(["da"]) == ["data-act-2023-2854-da.md"]


def test_names_come_from_titles_without_any_alias_data():
    bare = ActCatalog(DOCS, aliases={})
    assert [k for k, _ in bare.find("Which fines does the GDPR set?")] == ["2016/679"]
    assert [k for k, _ in bare.find("the Digital Services Act (DSA)")] == ["2022/2065"]
    assert [k for k, _ in bare.find("as in Regulation 2023/2854")] == ["2023/2854"]
    names, acronyms = names_from_title("Digital Markets Act — Regulation (EU) 2022/1925")
    assert "Digital Markets Act" in names and "DMA" in acronyms and "2022/1925" in names
    # A user-added document without a number is still its own act.
    custom = ActCatalog(
        [DocumentInfo("policy.md", "Internal Cloud Security Policy", "en")], aliases={}
    )
    assert [k for k, _ in custom.find("what does the internal cloud security policy say?")] == [
        "policy.md"
    ]


def test_matches_are_returned_not_kept_on_the_shared_catalog(catalog):
    """One catalog serves concurrent requests: a call leaves nothing behind for another to read."""
    text = "Does the GDPR or the Data Act apply?"
    found = catalog.matches(text)
    assert [k for k, _ in found.acts] == ["2016/679", "2023/2854"]
    assert sorted(text[s:e] for s, e, _ in found.spans) == ["Data Act", "GDPR"]
    catalog.matches("Digital Services Act")
    assert vars(catalog).keys() == {"acts", "_patterns"}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How quickly must a breach be notified under the GDPR?", ["2016/679"]),
        ("Wann muss nach der DSGVO ein Datenschutzbeauftragter benannt werden?", ["2016/679"]),
        ("Le RGPD prévoit-il un droit à l'oubli ?", ["2016/679"]),
        ("Ab wann gelten die Pflichten der KI-Verordnung?", ["2024/1689"]),
        ("Quelle obligation le règlement sur l'IA impose-t-il ?", ["2024/1689"]),
        ("Fra hvilken dato finder dataforordningen anvendelse?", ["2023/2854"]),
        ("Hvor store bøder efter NIS 2-direktivet?", ["2022/2555"]),
        ("Jaka kara według RODO?", ["2016/679"]),
        ("Jaka kara według aktu w sprawie sztucznej inteligencji?", ["2024/1689"]),
        ("Is the NIS2 early warning due in 24 hours?", ["2022/2555"]),
        ("Compare the DSA with the GDPR", ["2022/2065", "2016/679"]),
        # Compounds written together as well as hyphenated, as the alias list has them.
        ("Was verlangt die Datenschutzgrundverordnung?", ["2016/679"]),
        ("Welche Pflichten stellt das Digitale-Dienste-Gesetz auf?", ["2022/2065"]),
        ("Welche Pflichten stellt das Digitaledienstegesetz auf?", ["2022/2065"]),
    ],
)
def test_act_detection_across_languages(catalog, question, expected):
    assert analyse(question, catalog).acts == expected


def test_no_act_is_found_in_ordinary_words(catalog):
    assert analyse("What data does a connected product generate?", catalog).acts == []
    assert analyse("Who is the current director of the agency?", catalog).acts == []


def test_reference_parsing_in_several_languages():
    ref = parse_references("Art. 5(1)(c) AI Act")[0]
    assert (ref.kind, ref.number, ref.parts) == ("article", "5", ("1", "c"))
    assert parse_references("GDPR Article 83")[0].number == "83"
    ref = parse_references("Artikel 50 Abs. 2 KI-VO")[0]
    assert (ref.number, ref.parts) == ("50", ("2",))
    ref = parse_references("article 17, paragraphe 1 du RGPD")[0]
    assert (ref.number, ref.parts) == ("17", ("1",))
    assert parse_references("art. 99 ust. 3")[0].parts == ("3",)
    assert [(r.kind, r.number) for r in parse_references("Annex III and Recital 12")] == [
        ("annex", "III"),
        ("recital", "12"),
    ]
    assert parse_references("Anhang III")[0].kind == "annex"
    assert parse_references("Erwägungsgrund 7")[0].kind == "recital"
    assert parse_references("the article on fines") == []


def test_references_belong_to_the_nearest_act(catalog):
    analysis = analyse("Compare GDPR Article 83 with Article 74 of the DSA", catalog)
    owners = {ref.number: act for ref, act in analysis.references}
    assert owners == {"83": "2016/679", "74": "2022/2065"}


def test_locators_parse_in_all_corpus_languages():
    assert parse_locator("Article 3(60)–(62)") == ("article", "3", ("60",))
    assert parse_locator("Artykuł 22(3)") == ("article", "22", ("3",))
    assert parse_locator("Artikel 50") == ("article", "50", ())
    assert parse_locator("Annex III, point 3")[:2] == ("annex", "III")
    assert parse_locator("Betragtning 7")[:2] == ("recital", "7")
    assert parse_locator("Preamble") is None
    assert locator_span("Article 3(60)–(62)") == ["60", "61", "62"]
    assert locator_span("Article 3(h)–(i)") == ["h", "i"]


def test_exact_terms_keep_quoted_terms_numbers_and_dates_but_not_act_numbers(catalog):
    analysis = analyse(
        "Does 'personal data' under Regulation 2016/679 need notice within 72 hours?", catalog
    )
    assert analysis.exact == ["personal data", "72 hours"]
    assert "23 June 2022" in exact_terms("providers operating on 23 June 2022")
    assert exact_terms("the data subject's request and the controller's duty") == []


def test_act_names_are_stripped_for_search_inside_the_scope(catalog):
    analysis = analyse("What is the upper tier of fines under the GDPR?", catalog)
    assert "GDPR" not in analysis.without_acts and "upper tier of fines" in analysis.without_acts


def test_act_names_are_stripped_even_when_accents_differ_from_the_alias(catalog):
    # The alias list writes "règlement sur les données"; matching folds accents, so must stripping.
    analysis = analyse(
        "Quand le reglement sur les données s'applique-t-il ? Et le RGPD’s article 5 ?", catalog
    )
    assert analysis.acts == ["2023/2854", "2016/679"]
    assert analysis.without_acts == "Quand le s'applique-t-il ? Et le article 5 ?"


def test_act_names_are_renamed_into_the_language_of_a_version(catalog):
    assert (
        catalog.renamed("Ab wann gilt die KI-Verordnung (KI-VO)?", "en")
        == "Ab wann gilt die Artificial Intelligence Act (Artificial Intelligence Act)?"
    )
    # The longer name wins over the acronym inside it; numbers stay; an act without that version keeps its name.
    assert (
        catalog.renamed("Meldefrist der NIS2-Richtlinie und der Verordnung (EU) 2016/679", "en")
        == "Meldefrist der NIS 2 Directive und der Verordnung (EU) 2016/679"
    )
    assert catalog.renamed("Was regelt der DSA?", "da") == "Was regelt der DSA?"
    assert catalog.renamed("Was regelt der Data Act?", "da") == "Was regelt der Dataforordningen?"


@pytest.mark.parametrize(
    "text", ["KI-VO (DSGVO)’s Art. 5", "Straße ﬁle 5(1)(c)", "  règlement–NIS2  ", "", "a—b"]
)
def test_folding_with_positions_folds_like_fold(text):
    folded, origin = fold_mapped(text)
    assert folded == fold(text) and len(origin) == len(folded)
    assert all(0 <= i < len(text) for i in origin) and origin == sorted(origin)


def test_chapters_are_exact_terms_in_english_and_as_written():
    assert exact_terms("Ab welchem Datum gilt Kapitel IV des CRA?") == ["Chapter IV", "Kapitel IV"]
    assert exact_terms("When does chapter 5 apply?") == ["Chapter V"]
    assert exact_terms("Which chapters of the Data Act?") == []


def test_number_formats_normalise_alike():
    assert normalise_text("EUR 35 000 000") == normalise_text("EUR 35,000,000") == "eur 35000000"
    assert normalise_text("2,5 %") == normalise_text("2.5%")


def test_unknown_act_names_only_when_no_indexed_act_is_named():
    from rag.query import ActCatalog, DocumentInfo, unknown_act_names

    catalog = ActCatalog(
        [
            DocumentInfo(
                "gdpr.md",
                "General Data Protection Regulation (GDPR) — Regulation (EU) 2016/679",
                "en",
            ),
            DocumentInfo("ai.md", "Artificial Intelligence Act — Regulation (EU) 2024/1689", "en"),
        ]
    )
    assert unknown_act_names("What fines apply under the European Media Freedom Act?", catalog) == [
        "European Media Freedom Act"
    ]
    assert unknown_act_names("What does the Cloud and AI Development Act say?", catalog) == [
        "Cloud and AI Development Act"
    ]
    assert unknown_act_names("What fines apply under the GDPR?", catalog) == []
    assert (
        unknown_act_names("Does the Artificial Intelligence Act cover the military?", catalog) == []
    )
    assert (
        unknown_act_names(
            "How are fines set under the General Data Protection Regulation?", catalog
        )
        == []
    )


def test_cited_articles_reads_lists_and_ranges():
    from rag.query import cited_articles

    assert cited_articles(
        "However, Article 14 shall apply from 11 September 2026 and Chapter IV "
        "(Articles 35 to 51) shall apply from 11 June 2026."
    ) == {"14", *map(str, range(35, 52))}
    assert cited_articles(
        "Article 3(1) to (4) and Article 17 shall apply from 12 January 2025."
    ) == {"3", "17"}
    assert cited_articles("referred to in Articles 5, 6 and 7") == {"5", "6", "7"}
    assert cited_articles("in accordance with paragraph 2 of this Article.") == set()
    # Danish writes "artikel" in lower case inside a sentence.
    assert cited_articles(
        "Artikel 14 finder dog anvendelse fra den 11. september 2026, og kapitel IV "
        "(artikel 35 til 51) finder anvendelse"
    ) == {"14", *map(str, range(35, 52))}


def test_acronym_definitions_match_initials():
    from rag.query import acronym_definitions

    assert acronym_definitions("‘threat-led penetration testing (TLPT)’ means") == [
        ("TLPT", "threat-led penetration testing")
    ]
    assert acronym_definitions("the Joint Oversight Network (‘JON’)") == [
        ("JON", "Joint Oversight Network")
    ]
    assert acronym_definitions("computer security incident response teams (CSIRTs)") == [
        ("CSIRTs", "computer security incident response teams")
    ]
    assert acronym_definitions("Treaty on European Union (TEU)") == [
        ("TEU", "Treaty on European Union")
    ]
    assert acronym_definitions("Regulation (EU) 2016/679") == []
    assert acronym_definitions("a European Artificial Intelligence Board (the ‘Board’)") == []
