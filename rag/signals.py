"""Retrieval's ranked lists, declared once: what each one ranks, when it applies, its weight.

A search fuses several rankings of the passages by weighted reciprocal rank. Text signals rank by
the question's words (per query form: the question, and its translation when there is one); their
fusion, inside the question's scope, is the "base" ranking that every later signal reads. Derived
signals rank by what the question says about itself (a cited article, an exact string, the kind of
value it asks for). `SIGNALS` is the whole list, in the order `Retriever.search` runs it; setting a
signal's weight to 0 switches it off, which is how `bench/retrieval_compare.py` ablates each one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .answer_types import DATE
from .fusion import CANDIDATES, best_rows, weighted_rrf
from .query import normalise_text

if TYPE_CHECKING:
    from .passages import PassageTable
    from .search_plan import RetrievalOptions, SearchPlan


@dataclass
class SearchState:
    """One search as the signals see it; each signal appends its list to `lists`."""

    plan: SearchPlan
    table: PassageTable
    options: RetrievalOptions
    base: np.ndarray
    """Rows the filters allow."""
    scope: np.ndarray
    """Rows of the documents the question is about (inside `base`)."""
    query_vectors: list[np.ndarray | None]
    """Per query form, its embedding (None when no dense signal runs)."""
    lexical: Callable[[str], np.ndarray]
    lists: list[np.ndarray] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    base_fused: np.ndarray | None = None
    pinned: list[int] = field(default_factory=list)
    """Rows that go first whatever the fusion says (a paragraph the question cites)."""
    _cache: dict = field(default_factory=dict)

    def add(self, name: str, scores: np.ndarray, weight: float) -> None:
        self.lists.append(scores)
        self.weights.append(weight)
        self.names.append(name)

    def fused_so_far(self) -> np.ndarray:
        fused, _ = weighted_rrf(
            self.lists, self.scope, CANDIDATES, self.weights, self.options.rrf_k
        )
        return fused

    @property
    def kind(self) -> str | None:
        return self.plan.analysis.answer_kind

    @property
    def asks_application(self) -> bool:
        return self.plan.analysis.asks_application


@dataclass(frozen=True)
class Signal:
    name: str
    weight: str
    """The `RetrievalOptions` field with its fusion weight."""
    applies: Callable[[SearchState], bool]
    score: Callable[..., np.ndarray]
    """`score(state)`, or `score(state, form_index)` for a text signal."""
    per_form: bool = False
    """A text signal: scored once per query form, fused into the base ranking."""


def _finite(scores: np.ndarray) -> np.ndarray:
    return np.where(scores > 0, scores, -np.inf).astype(np.float32)


# --------------------------------------------------------------------------- text signals


def _dense(state: SearchState, form: int) -> np.ndarray:
    return state.table.vectors @ state.query_vectors[form]


def _sentence(state: SearchState, form: int) -> np.ndarray:
    return state.table.sentences.best_similarity(state.query_vectors[form])


def _bm25(state: SearchState, form: int) -> np.ndarray:
    return _finite(state.lexical(state.plan.forms[form][0]))


def _heading(state: SearchState, form: int) -> np.ndarray:
    return _finite(state.table.headings.scores(state.plan.forms[form][0]))


# --------------------------------------------------------------------------- derived signals


def _references(state: SearchState) -> np.ndarray:
    """Passages of cited units: the cited paragraph/point first, then the rest of the unit. A
    paragraph or point the question cites explicitly ("Article 33(1)") is pinned first."""
    plan, table, base_fused = state.plan, state.table, state.base_fused
    scores = np.full(len(table.texts), -np.inf, dtype=np.float32)
    scoped_docs = plan.scope_docs or list(table.doc_lang)
    if not plan.act_docs:
        # No act named: "Article 6(1)" means that unit of the acts the question is about, i.e.
        # of the documents its words retrieve best, not of every act in the index.
        scoped_docs = _leading_docs(base_fused, table, state.options.reference_docs)
    for ref, act in plan.analysis.references:
        docs = plan.act_docs.get(act, scoped_docs) if act else scoped_docs
        for doc in docs:
            for row in table.units.get((doc, ref.kind, ref.number), []):
                exact_part = bool(ref.parts) and ref.parts[0] in table.spans[row]
                # Tie-break inside a unit by the question's own relevance (base_fused < 1).
                scores[row] = max(
                    scores[row], (2.0 if exact_part else 1.0) + float(base_fused[row])
                )
    state.pinned = sorted(
        (int(r) for r in np.flatnonzero(scores >= 2.0) if state.scope[r]), key=lambda r: -scores[r]
    )
    return scores


def _defining(state: SearchState) -> np.ndarray:
    """Passages where a term the question quotes or states exactly appears in quotes, i.e. where
    legislation defines it ("‘connected product’ means …"); more such terms rank higher."""
    needles = [normalise_text(t) for t in state.plan.analysis.exact]
    quoted = [f"{a}{nd}{b}" for nd in needles for a, b in _QUOTES]
    defines = np.zeros(len(state.table.texts), dtype=np.float32)
    texts = state.table.texts
    for row in np.flatnonzero(state.scope):
        text = texts[row]
        if any(_contains_term(text, nd) for nd in needles):
            defines[row] = sum(1 for q in quoted if q in text)
    return _count_then_relevance(state, defines)


def _count_then_relevance(state: SearchState, counts: np.ndarray) -> np.ndarray:
    """Passages with a count above 0 ranked by it, ties broken by the question's own relevance
    (base_fused < 1); the others not ranked."""
    tie = state.base_fused.astype(np.float32)
    return np.where(counts > 0, counts + tie, -np.inf).astype(np.float32)


def _defined_in_question(state: SearchState) -> dict[str, list[int]]:
    """Terms the scoped documents define that the question uses, unquoted, with their defining
    rows; read from the query form searched with most weight (the translation, if any)."""
    if "defined" not in state._cache:
        text, _ = max(state.plan.forms, key=lambda form: form[1])
        terms: dict[str, list[int]] = {}
        for doc in state.plan.scope_docs or list(state.table.doc_lang):
            for term, rows in state.table.defined_terms(doc).items():
                terms.setdefault(term, []).extend(rows)
        state._cache["defined"] = {t: terms[t] for t in _terms_used(normalise_text(text), terms)}
    return state._cache["defined"]


def _terms_used(text: str, terms) -> list[str]:
    """The terms `text` uses (a plural "s"/"es" allowed), longest first, none inside another."""
    used, taken = [], []
    for term in sorted(terms, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(term)}(?:s|es)?(?!\w)", text):
            if not any(m.start() < end and start < m.end() for start, end in taken):
                taken.append((m.start(), m.end()))
                used.append(term)
                break
    return used


def _defining_unquoted(state: SearchState) -> np.ndarray:
    """Passages defining a term the question uses unquoted ("what is meant by a data holder"):
    more such terms rank higher, then the question's own relevance."""
    defines = np.zeros(len(state.table.texts), dtype=np.float32)
    for rows in _defined_in_question(state).values():
        defines[rows] += 1
    defines[~state.scope] = 0
    return _count_then_relevance(state, defines)


def _citations_of_asked_article(state: SearchState) -> np.ndarray:
    """Per passage, how strongly it cites the article the question is about: an article the
    question names (2) or one of the best text matches (1)."""
    if "asked" in state._cache:
        return state._cache["asked"]
    plan, table = state.plan, state.table
    targets: dict[tuple[str, str], float] = {}
    top_docs = plan.scope_docs or list(table.doc_lang)
    for ref, act in plan.analysis.references:
        if ref.kind == "article":
            for doc in plan.act_docs.get(act, top_docs) if act else top_docs:
                targets[(doc, ref.number)] = 2.0
    seen_units = 0
    for row in best_rows(state.base_fused, state.scope, 50):
        if seen_units >= state.options.asked_article_units:
            break
        unit = table.unit_of_row[row]
        if unit is not None:
            key = (table.doc_of_row[row], unit)
            if key not in targets:
                targets[key] = 1.0
                seen_units += 1
    cited = np.zeros(len(table.texts), dtype=np.float32)
    for (doc, article), weight in targets.items():
        cited[table.citing(doc, article)] += weight
    state._cache["asked"] = cited
    return cited


def _application_article(state: SearchState) -> np.ndarray:
    """Passages of the closing articles that set when the act applies, those citing the
    article asked about first."""
    cited = _citations_of_asked_article(state)
    held = state.scope & state.table.holding(DATE) & state.table.sets_dates
    return np.where(held, cited + state.base_fused, -np.inf).astype(np.float32)


def _answer_kind(state: SearchState) -> np.ndarray:
    """Same relevance order as everything fused so far, restricted to passages that hold a value
    of the kind asked for (a date for "by when")."""
    so_far = state.fused_so_far()
    return np.where(state.table.holding(state.kind) & (so_far > 0), so_far, -np.inf)


SIGNALS: tuple[Signal, ...] = (
    Signal("dense", "weight_dense", lambda s: s.options.dense, _dense, per_form=True),
    Signal(
        "sentence",
        "weight_sentence",
        lambda s: s.options.dense and s.table.sentences is not None,
        _sentence,
        per_form=True,
    ),
    Signal("bm25", "weight_lexical", lambda s: s.options.lexical, _bm25, per_form=True),
    Signal(
        "headings",
        "weight_heading",
        lambda s: s.options.headings and s.table.headings is not None,
        _heading,
        per_form=True,
    ),
    Signal(
        "references",
        "weight_reference",
        lambda s: (
            s.options.references and bool(s.plan.analysis.references) and not s.asks_application
        ),
        _references,
    ),
    Signal(
        "definitions",
        "weight_definition",
        lambda s: s.options.exact and bool(s.plan.analysis.exact),
        _defining,
    ),
    Signal(
        "defined terms",
        "weight_defined_term",
        lambda s: (
            s.plan.analysis.asks_definition
            and not s.plan.analysis.exact
            and bool(_defined_in_question(s))
        ),
        _defining_unquoted,
    ),
    Signal(
        "closing article",
        "weight_application_article",
        lambda s: s.kind == DATE and s.asks_application,
        _application_article,
    ),
    Signal("answer kind", "weight_answer_kind", lambda s: bool(s.kind), _answer_kind),
)


def run_signals(state: SearchState) -> None:
    """Fuse the text signals into `state.base_fused`, then append every derived signal's list."""
    opts = state.options
    text = [s for s in SIGNALS if s.per_form and getattr(opts, s.weight) > 0 and s.applies(state)]
    for form, (_, form_weight) in enumerate(state.plan.forms):
        for signal in text:
            state.add(
                signal.name, signal.score(state, form), form_weight * getattr(opts, signal.weight)
            )
    state.base_fused = state.fused_so_far()
    for signal in SIGNALS:
        if not signal.per_form and getattr(opts, signal.weight) > 0 and signal.applies(state):
            state.add(signal.name, signal.score(state), getattr(opts, signal.weight))


def _leading_docs(base_fused: np.ndarray, table: PassageTable, n: int) -> list[str]:
    """The first `n` distinct documents of the fused text ranking."""
    docs: list[str] = []
    for row in best_rows(base_fused, None, 20 * n):
        doc = table.doc_of_row[row]
        if doc not in docs:
            docs.append(doc)
            if len(docs) == n:
                break
    return docs or list(table.doc_lang)


_QUOTES = [("‘", "’"), ("“", "”"), ('"', '"'), ("«", "»"), ("„", "“")]


def _contains_term(text: str, needle: str) -> bool:
    """Whole-token containment: "72 hours" must not match inside "172 hours"."""
    start = text.find(needle)
    while start >= 0:
        before = text[start - 1] if start else " "
        end = start + len(needle)
        after = text[end] if end < len(text) else " "
        if (
            not (before.isalnum() or (before in ",." and start > 1 and text[start - 2].isdigit()))
            and not after.isalnum()
        ):
            return True
        start = text.find(needle, start + 1)
    return False
