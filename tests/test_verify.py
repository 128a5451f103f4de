"""Citation parsing, number normalisation, quotes, support checks and abstention decisions."""

from __future__ import annotations

import pytest

from rag.abstention import AbstainReason
from rag.act_coverage import NamedActs
from rag.assistant import bound_history, is_relevant
from rag.chunking import Chunk
from rag.citations import cited_numbers, drop_invalid_markers, split_sentences, strip_markers
from rag.lexicon import dates_in
from rag.query import ActCatalog, DocumentInfo
from rag.retrieval import Hit
from rag.verify import (
    best_quote,
    check_sentence,
    evidence_numbers,
    normalise_number,
    numbers_in,
    quantities,
    restates_question,
    verify_sentences,
    with_marker,
)

ART_99_3 = (
    "3. Non-compliance with the prohibition of the AI practices referred to in Article 5 shall be "
    "subject to administrative fines of up to EUR 35 000 000 or, if the offender is an undertaking, "
    "up to 7 % of its total worldwide annual turnover for the preceding financial year, whichever is higher."
)
ART_33_1 = (
    "1. In the case of a personal data breach, the controller shall without undue delay and, where "
    "feasible, not later than 72 hours after having become aware of it, notify the personal data "
    "breach to the supervisory authority competent in accordance with Article 55."
)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("35 000 000", "35000000"),
        ("35,000,000", "35000000"),
        ("35.000.000", "35000000"),
        ("2,5 %", "2.5%"),
        ("2.5%", "2.5%"),
        ("7 %", "7%"),
        ("72", "72"),
        ("10^25", "10^25"),
        ("1,50", "1.5"),
    ],
)
def test_normalise_number(raw, expected):
    assert normalise_number(raw) == expected


def test_numbers_in_text():
    assert numbers_in("up to EUR 35 000 000 or 7 % of turnover by 2 August 2026") == {
        "35000000",
        "7%",
        "2",
        "2026",
    }


def test_cited_numbers_and_ranges():
    assert cited_numbers("A [1]. B [2, 3]. C [4-6] and [2].") == [1, 2, 3, 4, 5, 6]


def test_invalid_markers_are_dropped():
    assert drop_invalid_markers("Fine [1][9]. Other [9].", {1, 2}) == "Fine [1]. Other."


def test_sentences_keep_trailing_markers():
    sentences = split_sentences(
        "The fine is EUR 35 000 000 [1]. It applies from 2 February 2025. [2]"
    )
    assert [s.cited for s in sentences] == [[1], [2]]


def test_markers_written_in_front_cite_the_sentence_after_them():
    sentences = split_sentences(
        "[1] The fine is EUR 35 000 000. [2] It applies from 2 February 2025."
    )
    assert [(s.text, s.cited) for s in sentences] == [
        ("[1] The fine is EUR 35 000 000.", [1]),
        ("[2] It applies from 2 February 2025.", [2]),
    ]
    lone = split_sentences("[1]\nThe fine is high. [2] A second claim.")
    assert [s.cited for s in lone] == [[1], [2]] and lone[0].text.endswith("high.")
    # Markers after the full stop still belong to the sentence before them.
    trailing = split_sentences("The fine is high. [1]\nA second claim [2].")
    assert [s.cited for s in trailing] == [[1], [2]]


def test_supported_sentence_passes():
    result = check_sentence(
        "The maximum fine is EUR 35,000,000 or 7% of worldwide annual turnover [1].", [ART_99_3]
    )
    assert result.supported, result


def test_wrong_number_fails():
    result = check_sentence("The maximum fine is EUR 20 000 000 [1].", [ART_99_3])
    assert not result.supported and "20000000" in result.reason


DMA_54 = (
    "Digital Markets Act — Regulation (EU) 2022/1925 — Article 54\nThis Regulation shall apply from "
    "2 May 2023. Member States shall apply Article 42 from 25 June 2023."
)


def test_name_the_passage_does_not_hold_fails():
    """Numbers, "Member States" and the act's name all match; the wallet is named nowhere in it."""
    claim = (
        "The Digital Markets Act requires Member States to offer a European Digital Identity Wallet "
        "by 2 May 2023 [1]."
    )
    result = check_sentence(claim, [DMA_54])
    assert not result.supported and "European Digital Identity Wallet" in result.reason
    # The act's own name is in the support text (its title), and so are two-word terms.
    assert check_sentence(
        "The Digital Markets Act applies from 2 May 2023 [1].", [DMA_54]
    ).supported


@pytest.mark.parametrize(
    "sentence, names",
    [
        (
            "The European Artificial Intelligence Board is composed of one representative per Member State.",
            ["European Artificial Intelligence Board"],
        ),
        (
            "From 11 September 2026 the Cyber Resilience Act's reporting obligations apply.",
            ["Cyber Resilience Act"],
        ),
        ("Member States shall designate a Data Protection Officer.", ["Data Protection Officer"]),
        ("Die Europäische Kommission kann Geldbußen verhängen.", []),
        ("Member States shall notify the Commission.", []),
    ],
)
def test_proper_names(sentence, names):
    from rag.verify import proper_names

    assert proper_names(sentence) == names


def test_figure_written_in_words_in_the_passage_supports_digits_in_the_claim():
    passage = [
        "1. The competent bodies shall adopt a decision within two months; that two-month period may be extended."
    ]
    assert check_sentence("A decision is due within 2 months [1].", passage).supported
    wrong = check_sentence("A decision is due within 3 months [1].", passage)
    assert not wrong.supported and "3" in wrong.reason
    assert evidence_numbers("twenty-four hours, zwei Monate, trois ans, 30 days") == {
        "24",
        "2",
        "3",
        "30",
    }


def test_unrelated_sentence_fails_without_similarity():
    result = check_sentence(
        "Controllers must appoint a representative in every Member State [1].", [ART_99_3]
    )
    assert not result.supported


def test_sentence_without_passage_fails():
    assert not check_sentence("Anything [3].", []).supported


def _verify(answer: str, passages: list[str]) -> list:
    sentences = split_sentences(answer)
    verify_sentences(
        sentences,
        lambda n: passages[n - 1] if 0 < n <= len(passages) else None,
        available=list(range(1, len(passages) + 1)),
    )
    return sentences


def test_miscited_sentence_is_reattributed_to_the_passage_that_supports_it():
    first, second = _verify(
        "Personal data breaches must be notified within 72 hours [1]. "
        "The fine can reach EUR 35 000 000 or 7 % of turnover [1].",
        [ART_33_1, ART_99_3],
    )
    assert (first.cited, first.supported) == ([1], True)
    assert (second.cited, second.supported) == ([2], True)
    assert second.text == "The fine can reach EUR 35 000 000 or 7 % of turnover [2]."


def test_sentence_repeating_only_a_source_header_is_not_supported():
    """A small model may copy a source's header as its answer; the support text holds that header
    (title and locator count for names), so without the rule it would pass as supported."""
    from rag.citations import split_sentences
    from rag.verify import verify_sentences

    label = "General Data Protection Regulation — Article 33(1)"
    passage = f"{label}\n{ART_33_1}"
    sentences = split_sentences("[1] General Data Protection Regulation — Article 33(1)")
    verify_sentences(sentences, lambda n: passage, None, available=[1])
    assert sentences[0].supported  # what it was before: every word is in the support text
    sentences = split_sentences("[1] General Data Protection Regulation — Article 33(1)")
    verify_sentences(sentences, lambda n: passage, None, available=[1], labels=[label])
    assert not sentences[0].supported and "header" in sentences[0].reason
    claim = split_sentences(
        "Under the General Data Protection Regulation a breach is notified within 72 hours [1]."
    )
    verify_sentences(claim, lambda n: passage, None, available=[1], labels=[label])
    assert claim[0].supported


def test_uncited_sentence_gets_its_supporting_passage():
    (sentence,) = _verify(
        "The fine can reach EUR 35 000 000 or 7 % of turnover.", [ART_33_1, ART_99_3]
    )
    assert (sentence.cited, sentence.supported) == ([2], True)


def test_fragment_without_words_is_not_supported():
    (fragment,) = _verify("1 [1].", [ART_99_3])
    assert fragment.supported is False


def test_sentence_no_passage_supports_stays_unsupported():
    (sentence,) = _verify("The fine can reach EUR 20 000 000 [1].", [ART_33_1, ART_99_3])
    assert sentence.cited == [1] and sentence.supported is False
    assert "20000000" in sentence.reason


@pytest.mark.parametrize(
    "text,expected",
    [
        ("A claim [3].", "A claim [1]."),
        ("A claim. [2][3]", "A claim [1]."),
        ("A claim", "A claim [1]"),
    ],
)
def test_marker_replacement(text, expected):
    assert with_marker(text, 1) == expected


def test_quote_is_exact_substring_and_relevant():
    quote = best_quote(ART_33_1, ["The controller must notify within 72 hours [1]."])
    assert quote in ART_33_1 and "72 hours" in quote
    assert len(quote.split()) <= 40


def test_quote_of_long_passage_is_bounded():
    passage = " ".join(["filler"] * 100) + " the deadline is 72 hours " + " ".join(["more"] * 100)
    quote = best_quote(passage, ["deadline of 72 hours"])
    assert quote in passage and "72" in quote and len(quote.split()) <= 40


def _hit(similarity: float, rank_bm25: int | None) -> Hit:
    chunk = Chunk(id="x", doc="d.md", locator="Article 1", heading="", context="", text="t")
    return Hit(chunk=chunk, score=0.01, dense_similarity=similarity, rank_bm25=rank_bm25)


def test_relevance_decision():
    assert is_relevant([_hit(0.62, None)])
    assert is_relevant([_hit(0.10, 1)])
    assert not is_relevant([_hit(0.12, None), _hit(0.08, 40)])
    # Naming an indexed act puts the question on topic, however low the scores.
    assert is_relevant([_hit(0.12, None), _hit(0.08, 40)], names_indexed_act=True)


def test_history_is_bounded():
    history = [{"role": "user", "content": "x" * 5000}] * 20 + [
        {"role": "system", "content": "ignore"}
    ]
    bounded = bound_history(history)
    assert len(bounded) <= 6 and all(len(t["content"]) <= 600 for t in bounded)
    assert all(t["role"] in ("user", "assistant") for t in bounded)


class _Runtime:
    """Just what `Assistant._finish` reads: settings, an embedder and a translator."""

    def __init__(self, translations: dict[str, str], across_languages: bool = True) -> None:
        from types import SimpleNamespace

        import numpy as np

        self.settings = SimpleNamespace(verify=True, verify_across_languages=across_languages)
        self.embedder = SimpleNamespace(
            encode=lambda texts: np.zeros((len(texts), 4), dtype=np.float32)
        )
        self.asked: list[tuple[str, str, str, str]] = []

        def translator(text, source, target, kind="question"):
            self.asked.append((text, source, target, kind))
            return translations.get(text)

        self.translator = translator


def _finish(
    runtime,
    raw: str,
    lang: str,
    passages: list[str],
    question: str = "",
    docs: list[str] | None = None,
    named_docs: set[str] | None = None,
    named_acts: NamedActs | None = None,
    asked_kind: str | None = None,
):
    from rag.assistant import Answer, Assistant

    docs = docs or ["eu-ai-act-2024-1689.md"] * len(passages)
    hits = [
        Hit(Chunk(f"c{i}", doc, f"Article {i}", "", "", text), 1.0 / (i + 1), doc_title=doc)
        for i, (text, doc) in enumerate(zip(passages, docs), start=1)
    ]
    answer = Answer(question=question or "q", text="", abstained=True, passages=hits, lang=lang)
    if named_docs:
        named_acts = NamedActs({"act": named_docs})
    Assistant(runtime)._finish(
        answer, raw, hits, lang, question, named_acts=named_acts, asked_kind=asked_kind
    )
    return answer


def test_a_passage_of_another_act_than_the_one_named_does_not_support():
    raw = "Non-compliance is subject to administrative fines of up to EUR 35 000 000 [1]."
    passages, docs = [ART_99_3], ["gdpr-2016-679.md"]
    answer = _finish(
        _Runtime({}), raw, "en", passages, docs=docs, named_docs={"eu-ai-act-2024-1689.md"}
    )
    assert answer.abstained and "not an act the question names" in answer.sentences[0].reason
    # The same sentence on a passage of the act named is supported; with no act named, any act is.
    assert not _finish(
        _Runtime({}),
        raw,
        "en",
        passages,
        docs=["eu-ai-act-2024-1689.md"],
        named_docs={"eu-ai-act-2024-1689.md"},
    ).abstained
    assert not _finish(_Runtime({}), raw, "en", passages, docs=docs).abstained


DORA_5_2 = (
    "The management body of the financial entity shall bear the ultimate responsibility for "
    "managing the financial entity's ICT risk."
)
DSA_41_6 = (
    "The management body shall devote sufficient time to the consideration of the measures "
    "related to risk management."
)
COMPARED = NamedActs(
    {"dora": {"dora.md"}, "dsa": {"dsa.md"}},
    {"dora": "DORA", "dsa": "Digital Services Act"},
    lambda text: ["dora"] if "Regulation (EU) 2022/2554" in text else [],
)


def test_named_acts_are_named_by_their_version_in_the_readers_language():
    catalog = ActCatalog(
        [
            DocumentInfo("nis2-da.md", "NIS 2-direktivet — Direktiv (EU) 2022/2555", "da"),
            DocumentInfo("nis2.md", "NIS 2 Directive — Directive (EU) 2022/2555", "en"),
            DocumentInfo("dora.md", "DORA — Regulation (EU) 2022/2554", "en"),
        ],
        aliases={},
    )
    titles = {"nis2-da.md": "NIS 2-direktivet", "nis2.md": "NIS 2 Directive", "dora.md": "DORA"}
    question = "Do Directive (EU) 2022/2555 and Regulation (EU) 2022/2554 both set fines?"
    for lang, expected in (
        ("en", "NIS 2 Directive"),
        ("de", "NIS 2 Directive"),
        ("da", "NIS 2-direktivet"),
    ):
        named = NamedActs.in_text(question, catalog, titles, lang)
        assert named.titles == {"2022/2555": expected, "2022/2554": "DORA"}
        assert named.docs["2022/2555"] == {"nis2-da.md", "nis2.md"}  # either version backs it


def test_a_comparison_backed_for_one_act_only_abstains_and_names_the_other():
    raw = "Under DORA the management body bears the ultimate responsibility for ICT risk [1]."
    answer = _finish(_Runtime({}), raw, "en", [DORA_5_2], docs=["dora.md"], named_acts=COMPARED)
    assert answer.abstained and answer.abstain == AbstainReason.UNCOVERED_ACT
    assert answer.abstain_reason == "no checked sentence answers for Digital Services Act"
    assert answer.sentences[0].supported  # the one side was right; it is the other that lacks


def test_a_comparison_backed_for_each_act_is_answered():
    raw = (
        "Under DORA the management body bears the ultimate responsibility for ICT risk [1]. "
        "Under the DSA the management body devotes sufficient time to risk management [2]."
    )
    answer = _finish(
        _Runtime({}),
        raw,
        "en",
        [DORA_5_2, DSA_41_6],
        docs=["dora.md", "dsa.md"],
        named_acts=COMPARED,
    )
    assert not answer.abstained, answer.sentences
    # An unsupported sentence does not back its act: the DSA side then counts as missing.
    raw_unsupported = raw.replace(
        "devotes sufficient time to risk management", "reports to the board within 72 hours"
    )
    answer = _finish(
        _Runtime({}),
        raw_unsupported,
        "en",
        [DORA_5_2, DSA_41_6],
        docs=["dora.md", "dsa.md"],
        named_acts=COMPARED,
    )
    assert answer.abstained and answer.abstain == AbstainReason.UNCOVERED_ACT


def test_a_passage_naming_the_other_act_backs_it_too():
    # A DSA provision that refers to DORA by number speaks for both acts.
    passage = DSA_41_6 + " This is without prejudice to Regulation (EU) 2022/2554."
    raw = "The management body devotes sufficient time to risk management [1]."
    answer = _finish(_Runtime({}), raw, "en", [passage], docs=["dsa.md"], named_acts=COMPARED)
    assert not answer.abstained, answer.sentences


GERMAN = "Bei Verstößen gegen das Verbot drohen Geldbußen von bis zu 35 000 000 EUR [1]."
ENGLISH = (
    "Non-compliance with the prohibition is subject to administrative fines of up to "
    "EUR 35 000 000."
)


def test_answer_in_another_language_is_checked_through_its_translation():
    runtime = _Runtime({GERMAN.replace(" [1]", ""): ENGLISH})
    answer = _finish(runtime, GERMAN, "de", [ART_99_3])
    assert not answer.abstained, answer.sentences
    assert answer.sentences[0].supported
    assert runtime.asked == [(GERMAN.replace(" [1]", ""), "de", "en", "sentence")]
    assert answer.text == GERMAN  # the reader still sees the German sentence
    assert "35 000 000" in answer.citations[0].quote


def test_answer_in_another_language_unsupported_without_translation():
    # The same German sentence checked as it stands shares too few words with the English passage.
    answer = _finish(_Runtime({}, across_languages=False), GERMAN, "de", [ART_99_3])
    assert answer.abstained
    assert answer.sentences[0].supported is False


def test_translated_check_still_catches_a_wrong_figure():
    wrong = GERMAN.replace("35 000 000", "50 000 000")
    runtime = _Runtime({wrong.replace(" [1]", ""): ENGLISH.replace("35 000 000", "50 000 000")})
    answer = _finish(runtime, wrong, "de", [ART_99_3])
    assert answer.abstained
    assert "50000000" in answer.sentences[0].reason


def test_translated_check_moves_the_citation_on_the_original_sentence():
    runtime = _Runtime({GERMAN.replace(" [1]", ""): ENGLISH})
    answer = _finish(runtime, GERMAN.replace("[1]", "[2]"), "de", [ART_99_3, ART_33_1])
    assert answer.sentences[0].supported and answer.sentences[0].cited == [1]
    assert answer.text == GERMAN


FINE_QUESTION = "Can providers be fined for prohibited AI practices?"


@pytest.mark.parametrize(
    "sentence",
    [
        "Yes, providers can be fined for prohibited AI practices [1].",
        "No. Providers cannot be fined for prohibited AI practices.",
        "Providers can be fined for prohibited AI practices under the Regulation [1].",
    ],
)
def test_a_verdict_that_restates_the_question_is_recognised(sentence):
    assert restates_question(sentence, FINE_QUESTION)


@pytest.mark.parametrize(
    "sentence",
    [
        "Non-compliance with the prohibition is subject to fines of up to EUR 35 000 000 [1].",
        "Providers can be fined for prohibited AI practices by the market surveillance authority [1].",
        "Fines apply to providers.",  # short, with one word of its own
    ],
)
def test_a_sentence_with_its_own_content_is_not_a_restatement(sentence):
    assert not restates_question(sentence, FINE_QUESTION)


def test_a_restated_verdict_is_unsupported_even_when_its_words_are_in_the_passage():
    claim = "Yes, non-compliance with the prohibition of the AI practices is subject to administrative fines."
    question = "Is non-compliance with the prohibition of the AI practices subject to administrative fines?"
    assert check_sentence(claim, [ART_99_3]).supported
    result = check_sentence(claim, [ART_99_3], question=question)
    assert not result.supported and "restates the question" in result.reason


BREACH_QUESTION = (
    "When a controller suffers a personal data breach, how quickly must it notify the "
    "supervisory authority?"
)


def test_a_question_echo_with_an_invented_claim_is_unsupported():
    """Its words overlap the passage only through the question's; what it adds is not there."""
    claim = (
        "When a controller suffers a personal data breach, it must notify the supervisory "
        "authority because customers expect transparency [1]."
    )
    assert check_sentence(claim, [ART_33_1]).supported
    result = check_sentence(claim, [ART_33_1], question=BREACH_QUESTION)
    assert not result.supported and "what it adds to the question" in result.reason


def test_a_question_echo_with_the_passage_figure_is_supported():
    claim = (
        "The controller must notify the supervisory authority of the personal data breach not "
        "later than 72 hours after having become aware of it [1]."
    )
    assert check_sentence(claim, [ART_33_1], question=BREACH_QUESTION).supported


def test_an_echo_is_not_moved_to_another_passage_by_the_looser_test():
    """Re-attribution applies the same test: a second passage on the subject does not rescue it."""
    sentence = split_sentences(
        "A controller suffering a personal data breach must notify the supervisory authority "
        "because customers expect transparency [2]."
    )[0]
    passages = {1: ART_33_1, 2: ART_99_3}
    verify_sentences([sentence], passages.get, available=[1, 2], question=BREACH_QUESTION)
    assert not sentence.supported and sentence.cited == [2]


VERDICT_THEN_RULE = (
    "Yes, non-compliance with the prohibition of AI practices is subject to administrative fines [1]. "
    "Non-compliance with the prohibition of the AI practices referred to in Article 5 is subject to "
    "administrative fines of up to 35 000 000 EUR [1]."
)
VERDICT_QUESTION = (
    "Is non-compliance with the prohibition of AI practices subject to administrative fines?"
)


def test_a_restated_verdict_is_marked_but_kept_in_a_first_draft():
    answer = _finish(_Runtime({}), VERDICT_THEN_RULE, "en", [ART_99_3], VERDICT_QUESTION)
    assert [s.supported for s in answer.sentences] == [False, True]
    assert answer.text.startswith("Yes,")


def test_a_figure_followed_by_a_long_word_is_read_whole():
    """The claim's noun is the whole next word: "7 % of its total" names "total", not a cut "tota"."""
    claim = (
        "The fine is up to EUR 35 000 000 or, for an undertaking, up to 7 % of its total "
        "worldwide annual turnover, whichever is higher [1]."
    )
    assert check_sentence(claim, [ART_99_3]).supported


def test_a_figure_must_be_stated_as_the_same_quantity_not_as_a_digit_anywhere():
    passage = (
        "1. The Commission shall designate as a gatekeeper an undertaking that has a significant "
        "impact on the internal market. 2. The fine shall not exceed 10 % of its total worldwide "
        "turnover. The authority shall reply within two months."
    )
    # The only "1" is a paragraph number: an invented count is not supported by it.
    invented = check_sentence("There is currently 1 designated gatekeeper [1].", [passage])
    assert not invented.supported and "figure" in invented.reason
    assert check_sentence("The fine is up to 10 % of turnover [1].", [passage]).supported
    assert check_sentence("The authority replies within 2 months [1].", [passage]).supported
    # The right number with another noun is another quantity.
    wrong_unit = check_sentence(
        "The authority shall reply within two weeks of the request [1].", [passage]
    )
    assert not wrong_unit.supported


def test_a_figure_that_ends_its_clause_takes_no_noun_from_the_next():
    """ "By 30 June 2026, the Board …": the year ends the phrase; "Board" is not what it counts."""
    passage = "The Board shall by 30 June 2026 adopt guidelines on the exchange of information."
    claim = "By 30 June 2026, the Board must adopt guidelines on the exchange of information [1]."
    assert quantities("The fee is at most EUR 500, the Board decides.") == [("500", None)]
    assert quantities(strip_markers(claim)) == []  # a date is checked whole, as a date
    assert check_sentence(claim, [passage]).supported
    # The figure itself must still be in the passage, and not only as a reference.
    other_year = "By 30 June 2027, the Board must adopt guidelines on the exchange [1]."
    assert not check_sentence(other_year, [passage]).supported


def test_digits_glued_to_a_name_are_not_a_figure():
    """ "under NIS2 are up to EUR 10 000 000": the 2 of "NIS2" is part of the act's name, not a
    quantity of "up" the passage would have to state."""
    passage = (
        "4. Member States shall ensure that essential entities are subject to administrative fines "
        "of a maximum of at least EUR 10 000 000 or of a maximum of at least 2 % of the total "
        "worldwide annual turnover."
    )
    claim = "The maximum fines for essential entities under NIS2 are up to EUR 10 000 000 [1]."
    assert numbers_in(strip_markers(claim)) == {"10000000"}
    assert quantities(strip_markers(claim)) == [("10000000", None)]
    assert check_sentence(claim, [passage]).supported
    # A figure of its own is still checked: the passage does not state 20 000 000.
    assert not check_sentence(claim.replace("10 000 000", "20 000 000"), [passage]).supported


def test_a_figure_the_question_gives_is_its_premise_not_a_claim():
    """ "The three authorities … by 17 July 2024": the passage calls them "the ESAs" and states
    the date; the count comes from the question. A figure the answer adds is still checked."""
    passage = (
        "7. The ESAs shall by 17 July 2024 issue guidelines on the cooperation between the ESAs "
        "and the competent authorities."
    )
    question = "By what date must the three supervisory authorities issue cooperation guidelines?"
    claim = (
        "The three supervisory authorities must issue guidelines on the cooperation with the "
        "competent authorities by 17 July 2024 [1]."
    )
    assert not check_sentence(claim, [passage]).supported
    assert check_sentence(claim, [passage], question=question).supported
    invented = claim.replace("17 July 2024", "17 July 2025")
    result = check_sentence(invented, [passage], question=question)
    assert not result.supported and "2025" in result.reason


def test_a_date_is_checked_as_a_date_in_any_language():
    """ "11 June 2026" is backed by "11. Juni 2026"; a date is not backed by its day and year
    occurring apart, nor by the same day in another month."""
    german = "Kapitel IV gilt ab dem 11. Juni 2026."
    claim = "Chapter IV applies from 11 June 2026 [1]."
    assert check_sentence(claim, [german]).supported
    apart = "Chapter IV applies from 11 December 2026; Article 14 applies from 1 June 2026."
    result = check_sentence(claim, [apart])
    assert not result.supported and "2026-06-11" in result.reason
    assert dates_in("am 11. Juni 2026 und 1 sierpnia 2024") == {(2026, 6, 11), (2024, 8, 1)}


WORK_PROGRAMME = (
    "The Commission shall publish a rolling work programme that identifies strategic priorities "
    "for future certification schemes. The work programme shall be updated at least once every "
    "three years."
)
HOW_OFTEN = "How often must the Commission refresh its strategic priorities for certification?"


def test_an_answer_that_does_not_state_the_value_asked_for_abstains():
    """ "How often …" answered with what the programme is, lexically backed, gives no frequency."""
    off = "The Commission publishes a rolling work programme that identifies strategic priorities [1]."
    answer = _finish(_Runtime({}), off, "en", [WORK_PROGRAMME], HOW_OFTEN, asked_kind="frequency")
    assert answer.sentences[0].supported
    assert answer.abstained and answer.abstain is AbstainReason.NO_ASKED_VALUE
    assert answer.abstain_reason == "no checked sentence states the frequency asked for"
    on = off[:-5] + ", updated at least once every three years [1]."
    assert not _finish(
        _Runtime({}), on, "en", [WORK_PROGRAMME], HOW_OFTEN, asked_kind="frequency"
    ).abstained
    # Without a kind asked for (or for a date: "when" may ask for a condition) nothing is required.
    assert not _finish(_Runtime({}), off, "en", [WORK_PROGRAMME], HOW_OFTEN).abstained
    assert not _finish(
        _Runtime({}), off, "en", [WORK_PROGRAMME], HOW_OFTEN, asked_kind="date"
    ).abstained
