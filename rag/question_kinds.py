"""The kind of value a question asks for, read from its meaning rather than from cue words.

Cue words only know the wordings someone listed ("how long", "deadline"); users paraphrase ("what
is the time frame for notifying", "for what duration"). Here a question's kind is the kind of its
nearest prototype questions (`data/question_kinds.toml`) in the embedder's space, so a wording
nobody listed still lands next to the prototypes that mean the same. The prototypes are encoded
once per embedder; reading a question costs one matrix-vector product on its query vector.
"""

from __future__ import annotations

import threading
import tomllib
import weakref
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .answer_types import AMOUNT, DATE, FREQUENCY, PERIOD

APPLICATION, DEFINITION, OTHER = "application", "definition", "other"
_KINDS = {
    DATE: (DATE, False),
    APPLICATION: (DATE, True),
    PERIOD: (PERIOD, False),
    FREQUENCY: (FREQUENCY, False),
    AMOUNT: (AMOUNT, False),
    DEFINITION: (None, False),
    OTHER: (None, False),
}
NEAREST = 2
"""Prototypes per kind whose similarities are averaged: one close prototype is weak evidence."""


@dataclass(frozen=True)
class QuestionKind:
    kind: str | None
    """"date", "period", "amount", "frequency" (`rag.answer_types`) or None."""
    asks_application: bool
    """Whether it asks from when an act or provision applies (a date its closing article sets)."""
    asks_definition: bool = False
    """Whether it asks what a term means or what counts as it (the act's definitions answer)."""


@lru_cache(maxsize=1)
def prototypes() -> dict[str, list[str]]:
    """Prototype questions per kind, from the package's data file."""
    text = resources.files("rag").joinpath("data/question_kinds.toml").read_text("utf-8")
    kinds = tomllib.loads(text)["kinds"]
    unknown = set(kinds) - set(_KINDS)
    if unknown:
        raise ValueError(f"question_kinds.toml: unknown kinds {sorted(unknown)}")
    return kinds


class KindReader:
    """Classifies query vectors by their nearest prototypes (encoded once, with the same model)."""

    def __init__(self, encode) -> None:
        labels, texts = [], []
        for kind, questions in prototypes().items():
            labels += [kind] * len(questions)
            texts += questions
        self.labels = np.array(labels)
        self.kinds = list(prototypes())
        self.vectors = np.asarray(encode(texts), dtype=np.float32)

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        """Per kind, the mean similarity of its `NEAREST` closest prototypes."""
        sims = self.vectors @ vector
        return {
            kind: float(np.sort(sims[self.labels == kind])[-NEAREST:].mean()) for kind in self.kinds
        }

    def read(self, vector: np.ndarray) -> QuestionKind:
        scores = self.scores(vector)
        defining = scores.pop(DEFINITION, -1.0)
        best = max(scores, key=scores.get)
        return QuestionKind(*_KINDS[best], asks_definition=defining > scores[best])


_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def kind_reader(embedder) -> KindReader:
    """The reader for an embedder, built on first use and kept as long as the embedder lives."""
    with _LOCK:
        reader = _READERS.get(embedder)
        if reader is None:
            reader = _READERS[embedder] = KindReader(embedder.encode)
        return reader
