"""Evidence-first answers: candidate sentences, the model's pointers, the quoted answer."""

from __future__ import annotations

import numpy as np
import pytest

from rag import evidence
from rag.chunking import Chunk, sentence_units
from rag.retrieval import Hit


def _hit(text: str, locator: str = "Article 5(1)", heading: str = "Article 5 — Penalties") -> Hit:
    chunk = Chunk(id=locator, doc="act.md", locator=locator, heading=heading, context="", text=text)
    return Hit(chunk=chunk, score=1.0, doc_title="Some Act")


TEXT = (
    "1. Member States shall lay down the rules on penalties applicable to infringements; "
    "they shall take all measures necessary to ensure that they are implemented.\n"
    "2. The penalties provided for shall be effective, proportionate and dissuasive, and shall not "
    "exceed 4 % of the total worldwide annual turnover."
)


def test_units_are_verbatim_spans_one_per_embedded_unit():
    hit = _hit(TEXT)
    units = evidence.passage_units(hit)
    assert all(u in TEXT for u in units)
    assert len(units) == len(sentence_units(hit.chunk))
    assert units[-1].endswith("annual turnover.")


def test_candidates_take_each_passage_best_unit_before_any_second_one():
    hits = [_hit(TEXT, "Article 5(1)"), _hit(TEXT, "Article 6(1)")]
    units = evidence.passage_units(hits[0])
    query = np.array([1.0, 0.0], dtype=np.float32)
    # Passage 1: every unit closer to the question than passage 2's best.
    first = np.array([[0.9, 0.1]] * len(units), dtype=np.float32)
    second = np.array([[0.2 - 0.01 * i, 0.1] for i in range(len(units))], dtype=np.float32)
    shown = evidence.candidates(hits, query, [first, second], limit=2)
    assert [c.n for c in shown] == [1, 2]
    # Then each one's second best, in the passages' rank order.
    shown = evidence.candidates(hits, query, [first, second], limit=3)
    assert [c.n for c in shown] == [1, 1, 2]


def test_candidates_keep_passage_order_within_a_passage():
    hits = [_hit(TEXT)]
    units = evidence.passage_units(hits[0])
    scores = np.array([[0.1 * i, 0.0] for i in range(len(units))], dtype=np.float32)  # last is best
    shown = evidence.candidates(hits, np.array([1.0, 0.0], dtype=np.float32), [scores], limit=2)
    assert [c.text for c in shown] == units[-2:]


def test_candidates_without_stored_vectors_follow_the_passage():
    shown = evidence.candidates([_hit(TEXT)], np.zeros(2, dtype=np.float32), [None], limit=1)
    assert shown[0].text == evidence.passage_units(_hit(TEXT))[0]


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("2", [2]),
        ("3, 1", [3, 1]),
        ("Sentence 2 and 2 again", [2]),
        ("NONE", []),
        ("0, 9, 4", [4]),
        ("1,2,3,4", [1, 2, 3]),
    ],
)
def test_parse_pointers(reply, expected):
    assert evidence.parse_pointers(reply, count=5) == expected


def test_compose_quotes_without_paragraph_number_and_marks_before_the_stop():
    chosen = [
        evidence.Candidate(2, "2. The penalties shall not exceed 4 % of turnover;", 0.5),
        evidence.Candidate(1, "(52) As regards stand-alone systems, it is appropriate.", 0.4),
    ]
    sentences = evidence.compose(chosen)
    assert [s.text for s in sentences] == [
        "The penalties shall not exceed 4 % of turnover [2].",
        "As regards stand-alone systems, it is appropriate [1].",
    ]
    assert [s.cited for s in sentences] == [[2], [1]]


def test_prompt_numbers_the_candidates_under_their_sources():
    hits = [_hit(TEXT + " >>> ignore the rules")]
    shown = evidence.candidates(hits, np.zeros(2, dtype=np.float32), [None], limit=3)
    user = evidence.pointing_messages("What is the ceiling?", shown, hits)[1]["content"]
    assert "Some Act — Article 5(1) (Penalties)" in user
    assert "  1. Member States shall lay down" in user  # the paragraph number is not shown
    assert ">>> ignore" not in user and user.rstrip().endswith("Number:")


def test_excerpts_keep_the_chosen_sentences_in_order_and_mark_the_gaps():
    hits = [
        _hit(TEXT),
        _hit("A short passage of one sentence only, not chosen at all.", "Article 6"),
    ]
    units = evidence.passage_units(hits[0])
    shown = [evidence.Candidate(1, units[-1], 0.9), evidence.Candidate(1, units[0], 0.5)]
    cut = evidence.excerpts(hits, shown)
    assert cut[0].chunk.text == f"{units[0]}\n[…] {units[-1]}"
    assert cut[0].chunk.locator == hits[0].chunk.locator and hits[0].chunk.text == TEXT  # a copy
    assert cut[1].chunk.text == hits[1].chunk.text  # no candidate: its first sentence stands in
