"""BM25 over passages: tokenisation that keeps legal identifiers, and the persisted bm25s index."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"\d+(?:[/.,]\d+)*|[^\W\d_]+", re.UNICODE)
_STOPWORDS = set(
    """a an the of and or to in on at by for with from as is are was were be been being that this
    these those it its which who whom what when where how does do did shall may must can could
    would should will not no any such other than into under within upon about between there their
    they them he she his her we our you your i if so also only more most very has have had
    der die das und oder zu im in ist sind den dem des ein eine einer eines nach für mit von auf
    wie was wann welche welcher welches muss kann gilt bei ab nicht über werden wird sich als auch
    le la les de des du et à en est sont un une pour par sur dans que qui quel quelle quels quelles
    doit peut au aux ne pas ou il elle ce cette leur être l d
    og i at af til er en et det den som for med på ved skal kan fra hvilken hvilke hvor hvad
    w z na do się jest są że o od przez dla jak czy lub nie oraz po""".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased word and number tokens; numbers like 2024/1689 or 2,5 stay whole; English stems."""
    words = [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]
    stem = _stemmer().stemWords
    return stem(words)


TRUNCATE = 5
"""Stem prefix length for short fields: stems of one family differ in their tails ("appli" for
apply, "applic" for application; "defin"/"definit"), their first five letters rarely do."""


def tokenize_truncated(text: str) -> list[str]:
    """`tokenize`, with word stems cut to `TRUNCATE` letters (numbers kept whole): for titles,
    where a question's verb must meet a heading's noun ("apply" / "application")."""
    return [t if t[:1].isdigit() else t[:TRUNCATE] for t in tokenize(text)]


class LexicalIndex:
    """A bm25s index whose rows are the passage rows of the same index generation."""

    def __init__(self, bm25, tokenizer: Callable[[str], list[str]] = tokenize) -> None:
        self._bm25 = bm25
        self._tokenize = tokenizer
        self._vocab: dict[str, int] = bm25.vocab_dict
        self.size = int(bm25.scores["num_docs"])

    @classmethod
    def build(
        cls, texts: list[str], tokenizer: Callable[[str], list[str]] = tokenize
    ) -> LexicalIndex:
        """Index `texts`; an in-memory index may use another tokenizer (persisted ones use `tokenize`)."""
        import bm25s

        bm25 = bm25s.BM25()
        corpus = [tokenizer(t) or [""] for t in texts]
        bm25.index(corpus, show_progress=False)
        return cls(bm25, tokenizer)

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), mmap=False))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no query term is indexed)."""
        tokens = [t for t in self._tokenize(query) if t in self._vocab]
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
