"""Abstention reasons: stable codes, and the words clients and readers have always been given."""

from __future__ import annotations

from rag.abstention import AbstainReason
from rag.assistant import Answer


def test_codes_are_unique_and_messages_unchanged():
    assert len({r.code for r in AbstainReason}) == len(AbstainReason)
    assert AbstainReason.NOT_RELEVANT.message() == "no sufficiently relevant passage"
    assert AbstainReason.MODEL_DECLINED.message() == "the model found no answer in the passages"
    assert (
        AbstainReason.UNSUPPORTED.message()
        == "no sentence of the draft answer is supported by its sources"
    )
    assert (
        AbstainReason.UNKNOWN_ACT.message("European Media Freedom Act")
        == "the indexed documents do not include European Media Freedom Act"
    )


def test_answer_writes_the_message_and_the_ui_its_explanation():
    answer = Answer(question="q", text="", abstained=True, abstain=AbstainReason.NOT_RELEVANT)
    assert answer.to_dict()["abstain_reason"] == "no sufficiently relevant passage"
    assert answer.abstain_explanation == "no passage in the index is close enough to the question"
    named = Answer(
        question="q",
        text="",
        abstained=True,
        abstain=AbstainReason.UNKNOWN_ACT,
        abstain_detail="European Media Freedom Act",
    )
    expected = "the indexed documents do not include European Media Freedom Act"
    assert named.abstain_explanation == named.abstain_reason == expected
    assert Answer(question="q", text="x", abstained=False).to_dict()["abstain_reason"] == ""
