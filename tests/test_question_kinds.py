"""Reading the kind of value a question asks for from its meaning (nearest prototype questions)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer_types import AMOUNT, DATE, PERIOD
from rag.question_kinds import KindReader, QuestionKind, prototypes


def test_prototypes_cover_every_kind_with_several_questions():
    kinds = prototypes()
    assert set(kinds) == {
        "date",
        "application",
        "period",
        "frequency",
        "amount",
        "definition",
        "other",
    }
    assert all(len(questions) >= 5 for questions in kinds.values())


def _one_hot_encoder(axis_of):
    """Encodes a text as the unit vector of the first kind whose marker word it contains."""

    def encode(texts):
        out = np.zeros((len(texts), len(axis_of)), dtype=np.float32)
        for i, text in enumerate(texts):
            for axis, kind in enumerate(axis_of):
                if kind in prototypes() and text in prototypes()[kind]:
                    out[i, axis] = 1.0
        return out

    return encode


def test_reader_picks_the_kind_of_the_nearest_prototypes_and_maps_application_to_a_date():
    axes = list(prototypes())
    reader = KindReader(_one_hot_encoder(axes))
    unit = np.eye(len(axes), dtype=np.float32)
    assert reader.read(unit[axes.index("period")]) == QuestionKind(PERIOD, False)
    assert reader.read(unit[axes.index("application")]) == QuestionKind(DATE, True)
    assert reader.read(unit[axes.index("other")]) == QuestionKind(None, False)


def test_a_definition_question_is_flagged_beside_its_value_kind():
    """Asking what a term means is read apart from the kinds of value, which it leaves as they are."""
    axes = list(prototypes())
    reader = KindReader(_one_hot_encoder(axes))
    unit = np.eye(len(axes), dtype=np.float32)
    defining = 0.8 * unit[axes.index("definition")] + 0.6 * unit[axes.index("other")]
    assert reader.read(defining) == QuestionKind(None, False, asks_definition=True)
    ruling = 0.6 * unit[axes.index("definition")] + 0.8 * unit[axes.index("period")]
    assert reader.read(ruling) == QuestionKind(PERIOD, False, asks_definition=False)


@pytest.mark.slow
def test_paraphrases_nobody_listed_are_read_by_meaning(small_index):
    """Wordings that no cue list holds and no prototype repeats, with the bundled embedder."""
    from rag.question_kinds import kind_reader

    embedder = small_index.embedder
    reader = kind_reader(embedder)
    assert kind_reader(embedder) is reader  # prototypes are encoded once per embedder

    def read(question: str) -> QuestionKind:
        return reader.read(embedder.encode_query(question))

    assert read("What is the time frame for notifying a breach to the regulator?").kind == PERIOD
    assert read("What is the highest annual fee a provider can be charged?").kind == AMOUNT
    assert read("What is the application date of the cybersecurity rules?") == QuestionKind(
        DATE, True
    )
    # "When" as a conjunction asks for no date.
    assert read("When a bank hires a cloud provider, must the contract allow audits?").kind is None
    assert read("Who appoints the executive director of the agency?").kind is None


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True, reason="known miss: a scope question worded with 'when' reads as a date"
)
def test_a_scope_question_worded_with_when_asks_for_no_date(small_index):
    from rag.question_kinds import kind_reader

    embedder = small_index.embedder
    vector = embedder.encode_query(
        "When do the rules cover a controller that has no office in Europe?"
    )
    assert kind_reader(embedder).read(vector).kind is None
