"""Which of the acts a question names an answer speaks for.

A question naming two or more acts ("… under the DSA, compared with DORA?") is answered only when
each act is backed by a checked sentence: a passage backs an act when it belongs to one of the
act's documents, or when its text names the act (a Data Act provision about DMA gatekeepers
speaks for the DMA too). An answer for one side of a comparison is not an answer to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .citations import AnswerSentence
from .query import ActCatalog
from .retrieval import Hit


@dataclass
class NamedActs:
    """The acts a question names: their documents and titles, by act key."""

    docs: dict[str, set[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    acts_in: Callable[[str], list[str]] = lambda text: []
    """The keys of the acts a text names (the index's act catalog)."""

    @classmethod
    def in_text(
        cls, text: str, catalog: ActCatalog, titles: dict[str, str], lang: str = "en"
    ) -> NamedActs:
        """The indexed acts `text` names; `titles` (document id → title) name them in messages,
        by the act's version in `lang` (the reader's language), else its English one."""
        acts = [catalog.acts[key] for key, _ in catalog.find(text)]
        return cls(
            {act.key: set(act.doc_ids()) for act in acts},
            {act.key: _title(act.preferred_doc_ids(lang), titles, act.key) for act in acts},
            lambda passage: [key for key, _ in catalog.find(passage)],
        )

    @property
    def count(self) -> int:
        return len(self.docs)

    @property
    def all_docs(self) -> set[str]:
        return {d for docs in self.docs.values() for d in docs}

    def spoken_for(self, hit: Hit) -> set[str]:
        """The named acts a passage speaks for: its own, and those its text names."""
        own = {key for key, docs in self.docs.items() if hit.chunk.doc in docs}
        return own | (set(self.acts_in(hit.chunk.text)) & self.docs.keys())

    def unbacked(self, sentences: list[AnswerSentence], hits: list[Hit]) -> list[str]:
        """For a question naming several acts, the titles of those no supported sentence cites a
        passage for (empty when the question names fewer than two)."""
        if self.count < 2:
            return []
        cited = {n for s in sentences if s.supported for n in s.cited if 0 < n <= len(hits)}
        backed = set().union(*(self.spoken_for(hits[n - 1]) for n in cited))
        return [self.titles.get(key, key) for key in self.docs if key not in backed]


def _title(doc_ids: list[str], titles: dict[str, str], key: str) -> str:
    return titles.get(doc_ids[0], key) if doc_ids else key
