"""Fusion, filters, scoping by act, references and translation on a small real index."""

from __future__ import annotations

import numpy as np
import pytest
from retrieval_fixtures import HashEmbedder, build_index

from rag.retrieval import RetrievalOptions, Retriever, SearchFilters, weighted_rrf
from rag.store import IndexStore

GDPR = "gdpr-2016-679.md"
IEA = "interoperable-europe-act-2024-903.md"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    embedder = HashEmbedder()
    path = build_index(tmp_path_factory.mktemp("retrieval"), embedder)
    return IndexStore(path).open(), embedder


def retriever(index, translator=None, **options) -> Retriever:
    generation, embedder = index
    return Retriever(
        generation, embedder, translator=translator, options=RetrievalOptions(**options)
    )


def test_rrf_rewards_agreement_and_respects_weights_and_mask():
    a = np.array([3.0, 2.0, 1.0, -np.inf])
    b = np.array([1.0, 3.0, 2.0, -np.inf])
    fused, ranks = weighted_rrf([a, b], None, candidates=10, k=1)
    assert ranks[0] == {0: 1, 1: 2, 2: 3} and 3 not in ranks[1]
    assert np.argmax(fused) == 1  # ranked 2nd and 1st beats 1st and 3rd
    fused, _ = weighted_rrf([a, b], None, candidates=10, weights=[3.0, 1.0], k=1)
    assert np.argmax(fused) == 0
    fused, _ = weighted_rrf([a, b], np.array([False, True, True, True]), candidates=10, k=1)
    assert fused[0] == 0 and fused[3] == 0


def test_article_reference_with_act_pulls_that_article(index):
    hits = retriever(index).search("What does GDPR Article 33 require?", k=5)
    assert hits[0].chunk.doc == GDPR and hits[0].chunk.locator.startswith("Article 33")
    hits = retriever(index).search("Art. 3 Interoperable Europe Act", k=3)
    assert (hits[0].chunk.doc, hits[0].chunk.locator.split("(")[0]) == (IEA, "Article 3")


def test_paragraph_reference_ranks_that_paragraph_first(index):
    hits = retriever(index).search("GDPR Art. 33(5)", k=3)
    assert hits[0].chunk.locator == "Article 33(5)"


def test_german_reference_form_with_act_alias(index):
    question = "Was verlangt Artikel 30 Abs. 5 DSGVO?"
    hits = retriever(index).search(question, k=2)
    assert (GDPR, "Article 30(5)") in [(h.chunk.doc, h.chunk.locator) for h in hits]
    plain = retriever(index, references=False).search(question, k=2)
    assert (GDPR, "Article 30(5)") not in [(h.chunk.doc, h.chunk.locator) for h in plain]


def test_named_act_scopes_the_results(index):
    hits = retriever(index).search(
        "Which bodies take part under the Interoperable Europe Act?", k=10
    )
    assert {h.chunk.doc for h in hits} == {IEA}
    unscoped = retriever(index, act_scope=False).search("Which bodies take part and data?", k=10)
    assert len({h.chunk.doc for h in unscoped}) == 2


def test_comparison_questions_get_both_acts_near_the_top(index):
    hits = retriever(index).search(
        "Compare the definitions in the GDPR and the Interoperable Europe Act", k=4
    )
    assert {h.chunk.doc for h in hits[:2]} == {GDPR, IEA}
    # One search per act, each scoped to it, sharing the k places in turn.
    assert [h.chunk.doc for h in hits].count(GDPR) == 2 and [h.chunk.doc for h in hits].count(
        IEA
    ) == 2
    alone = retriever(index).search("Compare the definitions in the GDPR", k=2)
    assert hits[0].chunk.id == alone[0].chunk.id  # each act's share is led by its own best passage


def test_quoted_defined_term_finds_its_definition(index):
    question = "How does the GDPR define 'personal data'?"
    hits = retriever(index).search(question, k=3)
    assert any("‘personal data’ means" in h.chunk.text for h in hits)
    plain = retriever(index, exact=False).search(question, k=3)
    assert not any("‘personal data’ means" in h.chunk.text for h in plain)


def test_defined_terms_are_the_quoted_terms_of_the_article_that_quotes_most():
    from rag.passages import _defined_terms

    definitions = [(row, "4", f"({row}) ‘term {row}’ means the thing {row};") for row in range(6)]
    elsewhere = [(6, "9", "a ‘code of conduct’ may be drawn up"), (7, None, "‘recital term’")]
    terms = _defined_terms(definitions + elsewhere)
    assert set(terms) == {f"term {row}" for row in range(6)} and terms["term 2"] == [2]
    assert _defined_terms(definitions[:4] + elsewhere) == {}  # too few to be a definitions article


@pytest.mark.slow
def test_unquoted_defined_term_finds_its_definition_when_its_meaning_is_asked(small_index):
    from rag.retrieval import build_retriever

    question = "How does the Artificial Intelligence Act define distributor?"
    top = build_retriever(small_index).search(question, k=1, translate=False)[0]
    assert "‘distributor’ means" in top.chunk.text
    options = RetrievalOptions(translate=False, weight_defined_term=0.0)
    without = Retriever(small_index.generation(), small_index.embedder, options=options)
    assert "‘distributor’ means" not in without.search(question, k=1)[0].chunk.text
    # A question using defined terms that asks for a rule, not a meaning, is left alone.
    rule = "Which obligations do deployers have under the AI Act?"
    assert (
        build_retriever(small_index)
        .search(rule, k=3, translate=False)[0]
        .chunk.locator.startswith("Article 26")
    )


def test_document_and_language_filters(index):
    r = retriever(index)
    hits = r.search("personal data breach notification", k=10, filters=SearchFilters(docs=[IEA]))
    assert hits and {h.chunk.doc for h in hits} == {IEA}
    assert r.search("personal data", k=5, filters=SearchFilters(langs=["de"])) == []
    hits = r.search("personal data", k=5, filters=SearchFilters(langs=["en"]))
    assert len(hits) == 5


def test_filters_win_over_a_named_act(index):
    hits = retriever(index).search("GDPR Article 33", k=5, filters=SearchFilters(docs=[IEA]))
    assert hits and {h.chunk.doc for h in hits} == {IEA}


def test_foreign_question_is_translated_and_both_forms_searched(index):
    calls = []

    def translator(text, source, target):
        calls.append((source, target))
        return "notification of a personal data breach to the supervisory authority"

    hits = retriever(index, translator=translator).search(
        "Wann muss nach der DSGVO eine Verletzung gemeldet werden?", k=3
    )
    assert calls == [("de", "en")]
    assert hits[0].chunk.locator.startswith("Article 33")
    # Relevance signals (which decide abstention) come from the form that matches the passages.
    untranslated = retriever(index).search(
        "Wann muss nach der DSGVO eine Verletzung gemeldet werden?", k=3
    )
    assert hits[0].dense_similarity > max(h.dense_similarity for h in untranslated)
    assert hits[0].rank_bm25 is not None and hits[0].rank_bm25 <= 3
    retriever(index, translator=translator).search(
        "Wann muss nach der DSGVO gemeldet werden?", k=3, translate=False
    )
    retriever(index, translator=translator).search("When must a breach be notified?", k=3)
    assert len(calls) == 1  # no call without need or when disabled


def test_hits_keep_their_public_fields(index):
    hit = retriever(index).search("supervisory authority", k=1)[0]
    data = hit.to_dict()
    assert {"id", "doc", "title", "locator", "text", "score"} <= set(data)
    assert hit.rank_dense is not None or hit.rank_bm25 is not None


@pytest.mark.slow
def test_real_embedder_references_and_names_pull_the_right_passage(tmp_path):
    from rag.config import load_settings
    from rag.runtime import Runtime

    runtime = Runtime(load_settings(index_dir=tmp_path / "unused", threads=2))
    path = build_index(tmp_path, runtime.embedder)
    real = (IndexStore(path).open(), runtime.embedder)
    top = retriever(real).search("GDPR Article 33(1)", k=1)[0]
    assert (top.chunk.doc, top.chunk.locator) == (GDPR, "Article 33(1)")
    hits = retriever(real).search(
        "Wie schnell muss nach der DSGVO eine Datenpanne gemeldet werden?", k=5
    )
    assert {h.chunk.doc for h in hits} == {GDPR}
    hits = retriever(real).search("Who sits on the Interoperable Europe Board?", k=5)
    assert hits[0].chunk.doc == IEA


def test_passage_holding_the_asked_kind_of_value_ranks_first(index):
    from rag.answer_types import holds_value

    question = "How long may personal data be kept under the GDPR?"
    first = retriever(index).search(question, k=3)[0]
    assert holds_value(first.chunk.text, "period"), first.chunk.locator
    without = retriever(index, weight_answer_kind=0.0).search(question, k=3)[0]
    assert not holds_value(without.chunk.text, "period")  # the signal is what moves it up


def test_reference_without_act_means_the_act_the_question_is_about(index):
    question = "What does Article 3 say about a controller not established in the Union?"

    def iea_article_3(hits) -> list:
        return [h for h in hits if h.chunk.doc == IEA and h.chunk.locator.startswith("Article 3")]

    near = retriever(index, reference_docs=1).search(question, k=5)
    assert near[0].chunk.doc == GDPR and not iea_article_3(near)
    everywhere = retriever(index, reference_docs=10).search(question, k=5)
    assert iea_article_3(everywhere)


def test_sentence_vectors_score_a_passage_by_its_best_sentence():
    from rag.store import SentenceVectors

    vectors = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    sentences = SentenceVectors(vectors, np.array([0, 0, 1]), passages=2)
    assert sentences.best_similarity(np.array([0, 1], dtype=np.float32)).tolist() == pytest.approx(
        [1.0, 0.8]
    )
    assert len(sentences.of_row(0)) == 2 and len(sentences.of_row(1)) == 1
    with pytest.raises(ValueError):
        SentenceVectors(vectors, np.array([0, 0, 2]), passages=3)  # passage 1 has no sentence


def test_index_holds_a_vector_per_sentence_unit(index):
    from rag.chunking import sentence_units

    generation, embedder = index
    stored = generation.stored_chunks()
    sentences = generation.sentences
    assert sentences is not None
    assert len(sentences) == sum(len(sentence_units(s.chunk)) for s in stored)
    row = stored[5]
    assert np.allclose(
        sentences.of_row(row.row), embedder.encode(sentence_units(row.chunk)), atol=1e-6
    )


APPLICATION_ACT = """# Widget Safety Act — Regulation (EU) 2031/77

## Articles

### Article 1 — Subject matter

This Regulation lays down rules on the safety of widgets placed on the Union market.

### Article 2 — Reporting obligations of manufacturers

1. Manufacturers shall notify any actively exploited vulnerability in a widget to the authority.

2. The notification shall describe the widget and the vulnerability.

### Article 3 — Evaluation

By 1 January 2036 the Commission shall evaluate the reporting obligations of manufacturers on actively exploited vulnerabilities in widgets.

### Article 4 — Review of the rules on the safety of widgets

By 1 March 2037 the Commission shall review from which date the rules on the safety of widgets should apply to spare parts.

### Article 5 — Entry into force and application

1. This Regulation shall enter into force on the twentieth day following that of its publication.

2. This Regulation shall apply from 1 March 2034.

However, Article 2 shall apply from 1 June 2033.
"""


def test_date_question_finds_the_article_that_dates_the_provision(tmp_path):
    """Acts date their provisions in a separate article that cites them ("Article 2 shall apply
    from …"): for a date question, that citation of the best-matching article counts."""
    generation, embedder = _act_index(tmp_path, APPLICATION_ACT)
    question = "From what date do the reporting obligations of manufacturers on exploited vulnerabilities apply?"

    def first(**options) -> str:
        hit = Retriever(generation, embedder, options=RetrievalOptions(**options)).search(
            question, k=3
        )[0]
        return hit.chunk.text

    assert "Article 2 shall apply from 1 June 2033" in first()
    # The closing-article signal is what moves it up (citations of the asked article first).
    assert "Article 2 shall apply" not in first(weight_application_article=0.0)


def _act_index(tmp_path, act_text: str):
    """A one-document index of a synthetic act, with the hash embedder."""
    from rag.ingest import run_ingest

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "act.md").write_text(act_text, "utf-8")
    embedder = HashEmbedder()
    run_ingest(
        IndexStore(tmp_path / "index"),
        embedder,
        [tmp_path / "corpus"],
        max_bytes=10**8,
        full_rebuild=True,
        show_progress=False,
        say=lambda *_: None,
    )
    return IndexStore(tmp_path / "index").open(), embedder


def _locators(index, question: str, k: int, **options) -> list[str]:
    """The locators of the top-k passages for a question, with these retrieval options."""
    generation, embedder = index
    retriever = Retriever(generation, embedder, options=RetrievalOptions(**options))
    return [h.chunk.locator for h in retriever.search(question, k=k)]


@pytest.mark.parametrize(
    "question",
    [
        "From when does Article 2(1) of the Widget Safety Act apply?",
        "Ab wann gilt Artikel 2 Absatz 1 des Widget Safety Act?",
    ],
)
def test_asking_when_a_cited_article_applies_finds_where_it_is_dated(tmp_path, question):
    """A cited paragraph normally comes first; asked from when it applies, the answer is the
    closing article that dates it, and the citation only says which article is meant."""
    generation, embedder = _act_index(tmp_path, APPLICATION_ACT)
    hits = Retriever(generation, embedder).search(question, k=3)
    assert "Article 2 shall apply from 1 June 2033" in hits[0].chunk.text
    cited = Retriever(generation, embedder).search(
        "What must manufacturers do under Article 2(1)?", k=3
    )
    assert (
        cited[0].chunk.locator == "Article 2(1)"
    )  # pinned as before when the question is not about dates


def test_asking_when_an_act_applies_finds_its_closing_article(tmp_path):
    generation, embedder = _act_index(tmp_path, APPLICATION_ACT)
    question = "From which date does the regulation on widgets apply?"

    def first(**options) -> str:
        return (
            Retriever(generation, embedder, options=RetrievalOptions(**options))
            .search(question, k=3)[0]
            .chunk.locator
        )

    assert first().startswith("Article 5")
    # Without the signal, a review clause that shares the question's words and holds a date wins.
    assert first(weight_application_article=0.0) == "Article 4"


ACRONYM_ACT = """# Resilience Testing Act — Regulation (EU) 2031/79

## Articles

### Article 2 — Definitions

For the purposes of this Regulation, ‘red team testing (RTT)’ means a framework that mimics the tactics of real attackers.

### Article 3 — Guidelines

The authority shall publish guidelines on red team testing.

### Article 5 — Scope of RTT

1. Significant entities shall carry out RTT on their critical systems.
"""


def test_acronym_the_act_defines_joins_the_query(tmp_path):
    """Once an act introduces an acronym ("red team testing (RTT)") its provisions use it alone:
    a question spelling out the long form must meet them too."""
    generation, embedder = index = _act_index(tmp_path, ACRONYM_ACT)
    question = "Which entities must carry out red team testing under the Resilience Testing Act?"
    assert Retriever(generation, embedder).plan(question).forms[0][0].endswith("(RTT)")
    assert _locators(index, question, 3)[0] == "Article 5(1)"
    assert _locators(index, question, 3, acronyms=False)[0] != "Article 5(1)"


FOOTNOTE_ACT = """# Widget Safety Act — Regulation (EU) 2031/80

## Articles

### Article 3 — Market surveillance

1. Market surveillance authorities shall check widgets in accordance with Regulation (EU) 2019/1020[^1].

2. Authorities shall report the results of their checks to the Commission every year.

### Article 4 — Penalties

1. Member States shall lay down penalties for widget makers that breach this Regulation.

### Article 5 — Labels

1. Widgets of class A shall carry a label in the language of the buyer.

2. Widgets of class B shall carry a label in the language of the buyer.

3. Widgets of class C shall carry a label in the language of the buyer.

4. Widgets of class D shall carry a label in the language of the buyer.

5. Widgets of class E shall carry a label in the language of the buyer.

6. Widgets of class F shall carry a label in the language of the buyer.

## Notes

[^1]: Regulation (EU) 2019/1020 of the European Parliament and of the Council of 20 June 2019 on market surveillance and compliance of products (OJ L 169, 25.6.2019, p. 1).
"""


def test_footnotes_never_outrank_operative_text(tmp_path):
    """An Official Journal reference shares the words of the provision citing it, but answers
    nothing: it comes after every operative passage, and still fills the list."""
    index = _act_index(tmp_path, FOOTNOTE_ACT)
    question = "Which rules on market surveillance and compliance of products apply to widgets?"
    ranked = _locators(index, question, 10)
    assert ranked[-1] == "Notes" and ranked.count("Notes") == 1
    # Halving its score, as before, still put it above weaker operative passages.
    assert _locators(index, question, 10, notes_prior=0.5).index("Notes") < len(ranked) - 1
