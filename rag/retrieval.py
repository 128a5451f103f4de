"""Hybrid retrieval: dense (passage and best-sentence vectors) and BM25 rankings fused by weighted
reciprocal rank, scoped by what the question says about itself.

Besides its words, a question about EU law usually names its act ("under the GDPR", "DSGVO") and
sometimes cites a unit ("Art. 5(1)(c)") or relies on an exact string ("72 hours", a quoted defined
term). `rag.query` recognises those; here they become (1) a scope — passages of the named acts, in
the question's language where the act exists in it, are ranked before all others — and (2) extra
ranked lists fused with the dense and BM25 rankings. Questions in a language the scoped documents
lack are translated (optional callable) and both forms are searched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .chunking import Chunk
from .embedder import Embedder
from .fusion import CANDIDATES, RRF_K, ranks, weighted_rrf
from .passages import PassageTable, passage_table
from .query import QueryAnalysis, analyse, fold
from .question_kinds import kind_reader
from .search_plan import RetrievalOptions, SearchPlan
from .signals import SearchState, run_signals
from .store import IndexGeneration

log = logging.getLogger(__name__)

Translator = Callable[[str, str, str], "str | None"]


@dataclass
class SearchFilters:
    docs: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    doc_title: str = ""
    rank_dense: int | None = None
    rank_bm25: int | None = None
    dense_similarity: float = 0.0
    row: int = -1
    """The passage's row in its index generation (-1 when not known)."""

    def to_dict(self) -> dict:
        return {
            "id": self.chunk.id,
            "doc": self.chunk.doc,
            "title": self.doc_title,
            "locator": self.chunk.locator,
            "text": self.chunk.text,
            "score": round(float(self.score), 6),
            "similarity": round(float(self.dense_similarity), 4),
        }


class Retriever:
    def __init__(
        self,
        generation: IndexGeneration,
        embedder: Embedder,
        translator: Translator | None = None,
        options: RetrievalOptions | None = None,
    ) -> None:
        self.generation = generation
        self.embedder = embedder
        self.translator = translator
        self.options = options or RetrievalOptions()
        self._table: PassageTable | None = None

    @property
    def table(self) -> PassageTable:
        if self._table is None:
            self._table = passage_table(self.generation)
        return self._table

    # ------------------------------------------------------------------ filters and scope

    def _allowed_rows(self, filters: SearchFilters | None) -> np.ndarray | None:
        if not filters or (not filters.docs and not filters.langs):
            return None
        mask = np.ones(self.generation.size, dtype=bool)
        if filters.docs:
            mask &= self.table.mask_of_docs(filters.docs)
        if filters.langs:
            mask &= self.table.mask_of_docs(
                [d for d, lang in self.table.doc_lang.items() if lang in filters.langs]
            )
        return mask

    def plan(self, query: str, translate: bool = True) -> SearchPlan:
        """Analyse the question and decide the scope and the query forms to search."""
        opts, table = self.options, self.table
        analysis = analyse(query, table.catalog)
        act_docs: dict[str, list[str]] = {}
        if opts.act_scope:
            for key in analysis.acts:
                act_docs[key] = table.catalog.acts[key].preferred_doc_ids(analysis.lang)
        scope: list[str] | None = None
        if act_docs:
            scope = [d for docs in act_docs.values() for d in docs]
        elif opts.language_scope:
            same_lang = [d for d, lang in table.doc_lang.items() if lang == analysis.lang]
            scope = same_lang or None
        forms = [(analysis.without_acts if act_docs and opts.strip_act_names else query, 1.0)]
        scope_langs = {table.doc_lang[d] for d in (scope or table.doc_lang)}
        if translate and opts.translate and self.translator and analysis.lang not in scope_langs:
            target = "en" if "en" in scope_langs else min(scope_langs)
            translated = self.translation(query, analysis.lang, target)
            if translated:
                if act_docs and opts.strip_act_names:
                    translated = analyse(translated, table.catalog).without_acts or translated
                forms = [(forms[0][0], opts.weight_original_when_translated), (translated, 1.0)]
        if opts.acronyms:
            forms = [(self._with_acronyms(text, scope), weight) for text, weight in forms]
        vectors = [self.embedder.encode_query(text).astype(np.float32) for text, _ in forms]
        analysis = self._with_kind(analysis, forms, vectors)
        return SearchPlan(analysis, scope, forms, act_docs, vectors)

    def _with_kind(self, analysis: QueryAnalysis, forms, vectors) -> QueryAnalysis:
        """The analysis with the kind of value asked for read as `options.question_kind` says; the
        meaning is read from the form searched with most weight (the translation, if any)."""
        how = self.options.question_kind
        if how == "cues":
            return analysis
        main = max(range(len(forms)), key=lambda i: forms[i][1])
        meant = kind_reader(self.embedder).read(vectors[main])
        analysis = replace(analysis, asks_definition=meant.asks_definition)
        if meant.kind is None:  # asks for a rule, an actor, a scope: no value, whatever its words
            return replace(analysis, answer_kind=None, asks_application=False)
        if how == "gated":
            return analysis
        return replace(analysis, answer_kind=meant.kind, asks_application=meant.asks_application)

    def _with_acronyms(self, text: str, docs: list[str] | None) -> str:
        """The query with the acronyms the documents introduce for long forms it spells out
        ("threat-led penetration testing" + "TLPT"), which the provisions then use alone."""
        folded = f" {fold(text)} "
        added = [
            acronym
            for doc in (docs or self.table.acronyms)
            for long_form, acronym in self.table.acronyms.get(doc, {}).items()
            if f" {long_form} " in folded
            and not re.search(rf"(?<!\w){re.escape(acronym)}(?!\w)", text)
        ]
        return f"{text} ({', '.join(dict.fromkeys(added))})" if added else text

    def translation(self, query: str, lang: str, target: str) -> str | None:
        """The question in the target language (None without a translator or when it fails).
        Act names go in as the target version's own name, which the translation keeps."""
        if not self.translator or lang == target:
            return None
        return self.translator(self.table.catalog.renamed(query, target), lang, target)

    # ------------------------------------------------------------------ search

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, translate: bool = True
    ) -> list[Hit]:
        """Top-k passages; `translate=False` never calls the generator."""
        if not self.can_search(query):
            return []
        return self.search_planned(self.plan(query, translate), k, filters)

    def can_search(self, query: str) -> bool:
        """Whether there is anything to search, and anything to search for."""
        return self.generation.size > 0 and bool(query.strip())

    def search_planned(
        self, plan: SearchPlan, k: int = 10, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Top-k passages for a plan from `plan` (whose query forms a caller may record)."""
        if self.options.cover_acts and len(plan.act_docs) > 1:
            return self._search_each_act(plan, k, filters)
        return self._search_plan(plan, k, filters)

    def _search_plan(self, plan: SearchPlan, k: int, filters: SearchFilters | None) -> list[Hit]:
        state = self._state(plan, filters)
        run_signals(state)
        order, fused = self._ranked(state.lists, state.weights, state.scope, k)
        if state.pinned:
            order = state.pinned[:k] + [r for r in order if r not in state.pinned]
        if len(order) < k and state.scope is not state.base:
            rest, rest_fused = self._ranked(
                state.lists, state.weights, state.base & ~state.scope, k - len(order)
            )
            fused = np.where(state.scope, fused, rest_fused * 0.5)  # scoped passages stay ahead
            order += rest
        if self.options.mmr_lambda is not None:
            order = self._mmr(order, fused, self.options.mmr_lambda, k)
        return self._hits(order[:k], fused, state)

    def _search_each_act(
        self, plan: SearchPlan, k: int, filters: SearchFilters | None
    ) -> list[Hit]:
        """A question naming several acts (a comparison) needs passages of each: one search per
        act, scoped to it, and the k places shared out in turn, each act's best first."""
        per_act = []
        for key, docs in plan.act_docs.items():
            refs = [(ref, act) for ref, act in plan.analysis.references if act in (None, key)]
            analysis = replace(plan.analysis, acts=[key], references=refs)
            per_act.append(
                self._search_plan(
                    replace(plan, analysis=analysis, scope_docs=docs, act_docs={key: docs}),
                    k,
                    filters,
                )
            )
        hits: list[Hit] = []
        seen: set[str] = set()
        for rank in range(k):
            for act_hits in per_act:
                if rank < len(act_hits) and act_hits[rank].chunk.id not in seen:
                    seen.add(act_hits[rank].chunk.id)
                    hits.append(act_hits[rank])
        return hits[:k]

    def _state(self, plan: SearchPlan, filters: SearchFilters | None) -> SearchState:
        """The masks and query vectors every signal of one search reads."""
        n = self.generation.size
        allowed = self._allowed_rows(filters)
        base = np.ones(n, dtype=bool) if allowed is None else allowed
        scope = base
        if plan.scope_docs is not None:
            scope = base & self.table.mask_of_docs(plan.scope_docs)
            if not scope.any():
                scope = base
        vectors = plan.vectors if self.options.dense else [None] * len(plan.forms)
        return SearchState(
            plan, self.table, self.options, base, scope, vectors, self.generation.lexical.scores
        )

    def _ranked(self, lists, weights, mask, k) -> tuple[list[int], np.ndarray]:
        fused, _ = weighted_rrf(lists, mask, CANDIDATES, weights, self.options.rrf_k)
        if self.options.recital_prior != 1.0:
            fused = np.where(self.table.is_recital, fused * self.options.recital_prior, fused)
        if self.options.notes_prior != 1.0:
            fused = np.where(self.table.is_note, fused * self.options.notes_prior, fused)
        depth = max(k, 50)
        top = (
            np.argpartition(-fused, min(depth, len(fused) - 1))[:depth]
            if len(fused) > depth
            else np.arange(len(fused))
        )
        top = sorted((int(r) for r in top if fused[r] > 0), key=lambda r: (-fused[r], r))
        return top, fused

    def _mmr(self, order: list[int], fused: np.ndarray, lam: float, k: int) -> list[int]:
        """Maximal marginal relevance over the ranked candidates, using passage vectors."""
        if len(order) <= 1:
            return order
        vecs = self.table.vectors[order]
        rel = np.array([fused[r] for r in order], dtype=np.float64)
        rel = (rel - rel.min()) / (rel.max() - rel.min() or 1.0)
        chosen: list[int] = [0]
        rest = list(range(1, len(order)))
        while rest and len(chosen) < k:
            sims = vecs[rest] @ vecs[chosen].T
            scores = lam * rel[rest] - (1 - lam) * sims.max(axis=1)
            pick = rest[int(np.argmax(scores))]
            chosen.append(pick)
            rest.remove(pick)
        return [order[i] for i in chosen] + [order[i] for i in rest]

    def _hits(self, order: list[int], fused: np.ndarray, state: SearchState) -> list[Hit]:
        # Per passage, the best over the query forms: a German question's English translation is
        # what matches English passages, and relevance checks downstream must see that match.
        n = self.generation.size
        dense_lists = [lst for name, lst in zip(state.names, state.lists) if name == "dense"]
        lexical_lists = [lst for name, lst in zip(state.names, state.lists) if name == "bm25"]
        dense = np.max(dense_lists, axis=0) if dense_lists else np.zeros(n, dtype=np.float32)
        dense_rank = ranks(dense, state.base) if dense_lists else {}
        bm25_rank = ranks(np.max(lexical_lists, axis=0), state.base) if lexical_lists else {}
        chunks = self.generation.chunks(order)
        titles = self.table.titles
        return [
            Hit(
                chunk=c,
                score=float(fused[r]),
                doc_title=titles.get(c.doc, c.doc),
                rank_dense=dense_rank.get(r),
                rank_bm25=bm25_rank.get(r),
                dense_similarity=float(dense[r]) if np.isfinite(dense[r]) else 0.0,
                row=int(r),
            )
            for r, c in zip(order, chunks)
        ]


def build_retriever(runtime, options: RetrievalOptions | None = None, generation=None) -> Retriever:
    """The product's retriever for a runtime: translation through the runtime's generator, loaded
    only when a question needs it (and `translate_queries` is on)."""
    translator = runtime.translator if runtime.settings.translate_queries else None
    return Retriever(
        generation or runtime.generation(), runtime.embedder, translator=translator, options=options
    )


__all__ = [
    "CANDIDATES",
    "RRF_K",
    "Hit",
    "RetrievalOptions",
    "Retriever",
    "SearchFilters",
    "build_retriever",
    "weighted_rrf",
]
