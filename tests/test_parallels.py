"""Parallel provisions: the same wording with another figure in another article is shown verbatim."""

from __future__ import annotations

from rag.chunking import Chunk
from rag.citations import AnswerSentence
from rag.parallels import find_parallels, parallel_sentence
from rag.retrieval import Hit

# AI Act (Regulation (EU) 2024/1689) Article 100(2) and 99(3), as in corpus/.
ART_100_2 = (
    "2. Non-compliance with the prohibition of the AI practices referred to in Article 5 shall be "
    "subject to administrative fines of up to EUR 1 500 000."
)
ART_99_3 = (
    "3. Non-compliance with the prohibition of the AI practices referred to in Article 5 shall be "
    "subject to administrative fines of up to 35 000 000 EUR or, if the offender is an undertaking, "
    "up to 7 % of its total worldwide annual turnover for the preceding financial year, whichever is higher."
)
RECITAL = (
    "(12) Non-compliance with the prohibition of the AI practices referred to in Article 5 should be "
    "subject to administrative fines of up to 35 000 000 EUR."
)
AI_ACT = "eu-ai-act-2024-1689.md"


def _hit(locator: str, text: str, doc: str = AI_ACT) -> Hit:
    return Hit(Chunk(locator, doc, locator, "", "", text), 1.0)


def _answer(text: str, n: int) -> list[AnswerSentence]:
    return [AnswerSentence(text, [n], supported=True)]


def test_the_same_rule_with_another_figure_in_another_article_is_found():
    hits = [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3)]
    found = find_parallels(_answer("The maximum fine is up to EUR 1 500 000 [1].", 1), hits)
    assert [p.n for p in found] == [2]
    assert found[0].quote in ART_99_3 and "35 000 000" in found[0].quote
    sentence = parallel_sentence(found[0], hits[1], "en", "Penalties")
    assert sentence.cited == [2] and sentence.supported
    assert sentence.text.endswith("[2]") and "Article 99(3) (Penalties)" in sentence.text


def test_nothing_is_added_when_the_other_article_does_not_repeat_the_sentence():
    # From 99(3) the shorter 100(2) repeats too little of the sentence the answer came from.
    hits = [_hit("Article 99(3)", ART_99_3), _hit("Article 100(2)", ART_100_2)]
    assert find_parallels(_answer("Up to EUR 35 000 000 or 7 % of turnover [1].", 1), hits) == []


def test_no_parallel_from_a_recital_another_act_an_uncited_figure_or_figures_already_stated():
    answer = _answer("The maximum fine is up to EUR 1 500 000 [1].", 1)
    assert (
        find_parallels(answer, [_hit("Article 100(2)", ART_100_2), _hit("Recital 12", RECITAL)])
        == []
    )
    assert (
        find_parallels(
            answer, [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3, "gdpr.md")]
        )
        == []
    )
    assert (
        find_parallels(
            _answer("Fines apply to prohibited practices [1].", 1),
            [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3)],
        )
        == []
    )
    both = [
        AnswerSentence("Up to EUR 1 500 000 [1] or 35 000 000 EUR [2].", [1, 2], supported=True)
    ]
    assert (
        find_parallels(both, [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3)])
        == []
    )


def test_a_cited_source_still_gives_the_figure_the_answer_left_out():
    # The model cited 99(3) only for its percentage; its amount is still missing from the answer.
    hits = [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3)]
    answer = [
        AnswerSentence("The maximum fine is up to EUR 1 500 000 [1].", [1], supported=True),
        AnswerSentence("For undertakings it is up to 7 % of turnover [2].", [2], supported=True),
    ]
    found = find_parallels(answer, hits)
    assert [p.n for p in found] == [2] and "35 000 000" in found[0].quote


def test_an_unsupported_sentence_brings_no_parallel():
    hits = [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3)]
    unchecked = [
        AnswerSentence("The maximum fine is up to EUR 1 500 000 [1].", [1], supported=False)
    ]
    assert find_parallels(unchecked, hits) == []


def test_the_answer_gets_the_parallel_sentence_and_its_citation():
    from rag.assistant import Answer, _add_parallels

    hits = [_hit("Article 100(2)", ART_100_2), _hit("Article 99(3)", ART_99_3)]
    first = "The maximum fine is up to EUR 1 500 000 [1]."
    answer = Answer(
        question="q",
        text=first,
        abstained=False,
        passages=hits,
        lang="de",
        sentences=_answer(first, 1),
    )
    _add_parallels(answer, hits)
    assert answer.text.startswith(first) and answer.text.endswith("[2]")
    assert "Article 99(3) sagt dasselbe" in answer.text  # the lead is in the answer's language
    assert [c.n for c in answer.citations] == [2] and answer.citations[0].locator == "Article 99(3)"
    assert answer.citations[0].quote in ART_99_3 and "35 000 000" in answer.citations[0].quote
