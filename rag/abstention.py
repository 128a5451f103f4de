"""Why the assistant gave no answer: one member per reason, with a stable code and its words.

The assistant sets the reason; the API, the CLI's JSON and the provenance log write its
`message`, and the UI shows its `explanation`. Nothing downstream matches on English text.
"""

from __future__ import annotations

from enum import Enum


class AbstainReason(Enum):
    """(code, message, explanation). `message` may name a `{detail}` (the acts not indexed)."""

    UNKNOWN_ACT = ("unknown_act", "the indexed documents do not include {detail}", "")
    NOT_RELEVANT = (
        "not_relevant",
        "no sufficiently relevant passage",
        "no passage in the index is close enough to the question",
    )
    MODEL_DECLINED = (
        "model_declined",
        "the model found no answer in the passages",
        "the retrieved passages do not contain the answer",
    )
    NO_SENTENCE = (
        "no_sentence",
        "the model pointed at no sentence that answers",
        "none of the retrieved passages' sentences answers the question",
    )
    UNSUPPORTED = (
        "unsupported",
        "no sentence of the draft answer is supported by its sources",
        (
            "the draft answer was withdrawn because none of its sentences is backed by "
            "a cited passage"
        ),
    )
    NO_ASKED_VALUE = (
        "no_asked_value",
        "no checked sentence states the {detail} asked for",
        (
            "the question asks for a {detail}, but no sentence backed by a passage states one, "
            "so an answer that does not give it is not shown"
        ),
    )

    UNCOVERED_ACT = (
        "uncovered_act",
        "no checked sentence answers for {detail}",
        (
            "the question compares several acts, but no sentence backed by a passage of "
            "{detail} was found, so a one-sided answer is not shown"
        ),
    )

    def __init__(self, code: str, message: str, explanation: str) -> None:
        self.code = code
        self._message = message
        self._explanation = explanation or message

    def message(self, detail: str = "") -> str:
        """The reason as the API, `sovrag ask --json` and the provenance log write it."""
        return self._message.format(detail=detail)

    def explanation(self, detail: str = "") -> str:
        """The reason as a reader of the UI is told it."""
        return self._explanation.format(detail=detail)
