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
import threading
import weakref
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .answer_types import DATE, holds_value, sets_application_dates
from .chunking import Chunk, unit_title
from .embedder import Embedder
from .lexical import LexicalIndex, tokenize_truncated
from .query import (ActCatalog, DocumentInfo, QueryAnalysis, acronym_definitions, analyse, cited_articles,
                    cited_paragraphs, fold, locator_span, normalise_text, parse_locator)
from .store import IndexGeneration

log = logging.getLogger(__name__)

RRF_K = 60
"""The usual reciprocal-rank-fusion constant: damps the weight of the very first ranks."""
CANDIDATES = 100
"""Candidates taken from each ranking before fusion."""

Translator = Callable[[str, str, str], "str | None"]


@dataclass
class SearchFilters:
    docs: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)


@dataclass
class RetrievalOptions:
    """Switches and fusion weights; the defaults are the product's, the bench flips them."""

    dense: bool = True
    lexical: bool = True
    act_scope: bool = True
    language_scope: bool = True
    references: bool = True
    exact: bool = True
    translate: bool = True
    cover_acts: bool = True
    acronyms: bool = True
    """Add to the query the acronyms the scoped documents define for long forms it spells out."""
    strip_act_names: bool = True
    rrf_k: int = 3
    """Inside a scope of a few hundred passages the first ranks must count: a small k sharpens RRF."""
    mmr_lambda: float | None = None
    """MMR trade-off (1 = relevance only); None disables diversification."""
    weight_dense: float = 0.5
    weight_lexical: float = 1.0
    weight_reference: float = 2.0
    """An explicitly cited unit is strong intent: it outweighs either text ranking."""
    weight_exact: float = 1.0
    reference_docs: int = 3
    """A reference naming no act ("Article 6(1)") means that unit in the first this-many documents
    of the text ranking, not in every act of the index."""
    weight_answer_kind: float = 1.0
    """Passages holding a value of the kind asked for (a date for "by when"), ranked by relevance."""
    weight_definition: float = 2.0
    """A passage defining the question's quoted term ("‘connected product’ means") is near-decisive."""
    headings: bool = True
    weight_heading: float = 0.5
    recital_prior: float = 0.5
    """Multiplier on recitals' fused scores: answers are expected in the operative provisions."""
    weight_sentence: float = 0.5
    """Dense similarity of a passage's best-matching sentence (`chunking.sentence_units`): a
    question usually meets one sentence, which the passage's single vector blurs or truncates."""
    weight_applicability: float = 0.5
    """For date questions: passages holding a date that cite the article asked about ("Article 14
    shall apply from …"), since acts set their provisions' dates in separate articles."""
    applicability_units: int = 3
    """How many of the best-matching articles count as "the article asked about"."""
    weight_application_article: float = 2.0
    """For questions asking from when something applies: passages of the act's closing article
    ("Entry into force and application", "Transposition"), where acts set those dates."""
    weight_cited_paragraph: float = 1.0
    """For questions asking for a value: sibling paragraphs that hold one and refer back to one of
    the best-matching paragraphs ("fines imposed in the cases referred to in paragraph 1 …")."""
    cited_paragraph_units: int = 3
    """How many of the best-matching paragraphs count as the rule asked about."""
    weight_original_when_translated: float = 0.5
    """Weight of the untranslated question's lists once a translation exists (English-only models)."""


@dataclass
class Hit:
    chunk: Chunk
    score: float
    doc_title: str = ""
    rank_dense: int | None = None
    rank_bm25: int | None = None
    dense_similarity: float = 0.0

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


class _PassageTable:
    """Per-generation arrays that query-time signals need; built once, shared by all retrievers."""

    def __init__(self, generation: IndexGeneration) -> None:
        docs = generation.documents()
        self.catalog = ActCatalog(DocumentInfo(d.id, d.title, d.lang) for d in docs.values())
        self.doc_lang = {d.id: d.lang for d in docs.values()}
        self.titles = {d.id: d.title for d in docs.values()}
        stored = generation.stored_chunks()
        n = generation.size
        self.doc_of_row = np.empty(n, dtype=object)
        self.rows_of_doc: dict[str, np.ndarray] = {}
        self.units: dict[tuple[str, str, str], list[int]] = {}
        """(doc, kind, number) → rows of that article/annex/recital, in document order."""
        self.spans: list[list[str]] = [[] for _ in range(n)]
        self.texts: list[str] = [""] * n
        self.raw_texts: list[str] = [""] * n
        self.unit_of_row: list[str | None] = [None] * n
        self.paragraph_of_row: list[str | None] = [None] * n
        self._citing: dict[tuple[str, str], list[int]] | None = None
        self._citing_paragraph: dict[tuple[str, str, str], list[int]] | None = None
        by_doc: dict[str, list[int]] = {}
        for s in stored:
            self.doc_of_row[s.row] = s.chunk.doc
            by_doc.setdefault(s.chunk.doc, []).append(s.row)
            self.texts[s.row] = normalise_text(s.chunk.text)
            self.raw_texts[s.row] = s.chunk.text
            parsed = parse_locator(s.chunk.locator)
            if parsed and parsed[0] == "article":
                self.unit_of_row[s.row] = parsed[1]
                if parsed[2] and parsed[2][0].isdigit():
                    self.paragraph_of_row[s.row] = parsed[2][0]
            if parsed:
                self.units.setdefault((s.chunk.doc, parsed[0], parsed[1]), []).append(s.row)
                self.spans[s.row] = locator_span(s.chunk.locator)
        self.rows_of_doc = {d: np.array(rows, dtype=np.int64) for d, rows in by_doc.items()}
        self.is_recital = np.zeros(n, dtype=bool)
        self.sets_dates = np.zeros(n, dtype=bool)
        """Rows of articles that set when the act applies ("Entry into force and application")."""
        unit_titles = [""] * n
        for s in stored:
            parsed = parse_locator(s.chunk.locator)
            self.is_recital[s.row] = bool(parsed and parsed[0] == "recital") or s.chunk.locator.startswith("Recitals")
            unit_titles[s.row] = unit_title(s.chunk.heading)
            self.sets_dates[s.row] = (bool(parsed and parsed[0] == "article")
                                      and sets_application_dates(unit_titles[s.row]))
        self.acronyms: dict[str, dict[str, str]] = {}
        """Per document, the acronyms it introduces ("threat-led penetration testing (TLPT)"), by
        their folded long form: later provisions and titles use the acronym alone."""
        for row, text in enumerate(self.raw_texts):
            for acronym, long_form in acronym_definitions(text):
                self.acronyms.setdefault(self.doc_of_row[row], {}).setdefault(fold(long_form), acronym)
        self.headings = LexicalIndex.build(unit_titles, tokenize_truncated) if n else None
        """BM25 over unit titles alone ("Entry into force and application", "Penalties"): short,
        precise fields that the passage-level BM25 dilutes."""
        self._holding_lock = threading.Lock()
        self._holding: dict[str, np.ndarray] = {}
        self.vectors = np.ascontiguousarray(generation.all_vectors(), dtype=np.float32)
        self.sentences = generation.sentences
        if self.sentences is None and n:
            log.warning("Index generation %s has no sentence vectors (written by an older sovrag): "
                        "retrieval runs without them until `sovrag index build` rebuilds it.", generation.name)

    def citing(self, doc: str, article: str) -> list[int]:
        """Rows of `doc` whose text cites its Article `article` (not counting the article itself)."""
        return self._citation_maps()[0].get((doc, article), [])

    def citing_paragraph(self, doc: str, article: str, paragraph: str) -> list[int]:
        """Rows of `doc`'s Article `article` whose text refers to its paragraph `paragraph`
        ("the fines referred to in paragraph 1, point (a), shall not exceed …")."""
        return self._citation_maps()[1].get((doc, article, paragraph), [])

    def _citation_maps(self) -> tuple[dict, dict]:
        """Who cites which article, and which paragraph of its own article; every passage is read
        once, on first use."""
        with self._holding_lock:
            if self._citing is None or self._citing_paragraph is None:
                articles: dict[tuple[str, str], list[int]] = {}
                paragraphs: dict[tuple[str, str, str], list[int]] = {}
                for row, text in enumerate(self.raw_texts):
                    doc, own_article = self.doc_of_row[row], self.unit_of_row[row]
                    for number in cited_articles(text):
                        if number != own_article:
                            articles.setdefault((doc, number), []).append(row)
                    if own_article is not None:
                        for number in cited_paragraphs(text):
                            if number != self.paragraph_of_row[row]:
                                paragraphs.setdefault((doc, own_article, number), []).append(row)
                self._citing, self._citing_paragraph = articles, paragraphs
            return self._citing, self._citing_paragraph

    def holding(self, kind: str) -> np.ndarray:
        """Rows whose passage holds a value of this kind (`rag.answer_types`); computed once."""
        with self._holding_lock:
            if kind not in self._holding:
                self._holding[kind] = np.array([holds_value(t, kind) for t in self.texts], dtype=bool)
            return self._holding[kind]

    def mask_of_docs(self, doc_ids) -> np.ndarray:
        mask = np.zeros(len(self.texts), dtype=bool)
        for d in doc_ids:
            rows = self.rows_of_doc.get(d)
            if rows is not None:
                mask[rows] = True
        return mask


_TABLES: "weakref.WeakKeyDictionary[IndexGeneration, _PassageTable]" = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def passage_table(generation: IndexGeneration) -> _PassageTable:
    with _TABLES_LOCK:
        table = _TABLES.get(generation)
        if table is None:
            table = _TABLES[generation] = _PassageTable(generation)
        return table


@dataclass
class _Plan:
    """What one search will do: scope, query forms, analysis; kept for inspection and tests."""

    analysis: QueryAnalysis
    scope_docs: list[str] | None
    forms: list[tuple[str, float]]
    act_docs: dict[str, list[str]]


class Retriever:
    def __init__(self, generation: IndexGeneration, embedder: Embedder,
                 translator: Translator | None = None, options: RetrievalOptions | None = None) -> None:
        self.generation = generation
        self.embedder = embedder
        self.translator = translator
        self.options = options or RetrievalOptions()
        self._table: _PassageTable | None = None

    @property
    def table(self) -> _PassageTable:
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
            mask &= self.table.mask_of_docs([d for d, lang in self.table.doc_lang.items() if lang in filters.langs])
        return mask

    def plan(self, query: str, translate: bool = True) -> _Plan:
        """Analyse the question and decide the scope and the query forms to search."""
        opts, table = self.options, self.table
        analysis = analyse(query, table.catalog)
        act_docs: dict[str, list[str]] = {}
        if opts.act_scope:
            for key in analysis.acts:
                act_docs[key] = _preferred_versions(table.catalog.acts[key], analysis.lang)
        scope: list[str] | None = None
        if act_docs:
            scope = [d for docs in act_docs.values() for d in docs]
        elif opts.language_scope:
            same_lang = [d for d, lang in table.doc_lang.items() if lang == analysis.lang]
            scope = same_lang or None
        forms = [(analysis.without_acts if act_docs and opts.strip_act_names else query, 1.0)]
        scope_langs = {table.doc_lang[d] for d in (scope or table.doc_lang)}
        if translate and opts.translate and self.translator and analysis.lang not in scope_langs:
            target = "en" if "en" in scope_langs else sorted(scope_langs)[0]
            translated = self.translation(query, analysis.lang, target)
            if translated:
                if act_docs and opts.strip_act_names:
                    translated = analyse(translated, table.catalog).without_acts or translated
                forms = [(forms[0][0], opts.weight_original_when_translated), (translated, 1.0)]
        if opts.acronyms:
            forms = [(self._with_acronyms(text, scope), weight) for text, weight in forms]
        return _Plan(analysis, scope, forms, act_docs)

    def _with_acronyms(self, text: str, docs: list[str] | None) -> str:
        """The query with the acronyms the documents introduce for long forms it spells out
        ("threat-led penetration testing" + "TLPT"), which the provisions then use alone."""
        folded = f" {fold(text)} "
        added = [acronym for doc in (docs or self.table.acronyms)
                 for long_form, acronym in self.table.acronyms.get(doc, {}).items()
                 if f" {long_form} " in folded and not re.search(rf"(?<!\w){re.escape(acronym)}(?!\w)", text)]
        return f"{text} ({', '.join(dict.fromkeys(added))})" if added else text

    def translation(self, query: str, lang: str, target: str) -> str | None:
        """The question in the target language (None without a translator or when it fails).
        Act names go in as the target version's own name, which the translation keeps."""
        if not self.translator or lang == target:
            return None
        return self.translator(self.table.catalog.renamed(query, target), lang, target)

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None,
               translate: bool = True) -> list[Hit]:
        """Top-k passages; `translate=False` never calls the generator."""
        n = self.generation.size
        if n == 0 or not query.strip():
            return []
        opts, table = self.options, self.table
        plan = self.plan(query, translate)
        allowed = self._allowed_rows(filters)
        base = np.ones(n, dtype=bool) if allowed is None else allowed

        lists: list[np.ndarray] = []
        weights: list[float] = []
        dense_lists: list[int] = []
        lexical_lists: list[int] = []
        for text, weight in plan.forms:
            if opts.dense:
                vector = self.embedder.encode_query(text).astype(np.float32)
                lists.append(table.vectors @ vector)
                weights.append(weight * opts.weight_dense)
                dense_lists.append(len(lists) - 1)
                if opts.weight_sentence and table.sentences is not None:
                    lists.append(table.sentences.best_similarity(vector))
                    weights.append(weight * opts.weight_sentence)
            if opts.lexical:
                lexical = self.generation.lexical.scores(text)
                lists.append(np.where(lexical > 0, lexical, -np.inf).astype(np.float32))
                weights.append(weight * opts.weight_lexical)
                lexical_lists.append(len(lists) - 1)
        scope = base
        if plan.scope_docs is not None:
            scope = base & table.mask_of_docs(plan.scope_docs)
            if not scope.any():
                scope = base
        if opts.headings and table.headings is not None:
            for text, weight in plan.forms:
                heading = table.headings.scores(text)
                lists.append(np.where(heading > 0, heading, -np.inf).astype(np.float32))
                weights.append(weight * opts.weight_heading)
        base_fused, _ = weighted_rrf(lists, scope, CANDIDATES, weights, opts.rrf_k)
        pinned: list[int] = []
        # A question asking from when a cited unit applies ("From when does Article 6(1) apply?")
        # has its answer where that unit is dated, not in it: there the citation only tells which
        # article is asked about (`_citations_of_asked_article`).
        if opts.references and plan.analysis.references and not plan.analysis.asks_application:
            cited = self._reference_scores(plan, base_fused)
            lists.append(cited)
            weights.append(opts.weight_reference)
            # A paragraph or point the question cites explicitly ("Article 33(1)") comes first.
            pinned = sorted((int(r) for r in np.flatnonzero(cited >= 2.0) if scope[r]), key=lambda r: -cited[r])
        if opts.exact and plan.analysis.exact:
            exact, defining = self._exact_scores(plan.analysis.exact, base_fused, scope)
            lists += [exact, defining]
            weights += [opts.weight_exact, opts.weight_definition]
        kind = plan.analysis.answer_kind
        if kind == DATE and (opts.weight_applicability > 0 or opts.weight_application_article > 0):
            asked = self._citations_of_asked_article(plan, base_fused, scope)
            lists.append(self._applicability_scores(asked, base_fused, scope))
            weights.append(opts.weight_applicability)
            if plan.analysis.asks_application:
                lists.append(self._application_article_scores(asked, base_fused, scope))
                weights.append(opts.weight_application_article)
        if kind and opts.weight_cited_paragraph > 0 and not plan.analysis.asks_application:
            lists.append(self._cited_paragraph_scores(kind, base_fused, scope))
            weights.append(opts.weight_cited_paragraph)
        if opts.weight_answer_kind > 0 and kind:
            # Same relevance order, restricted to passages that hold such a value.
            so_far, _ = weighted_rrf(lists, scope, CANDIDATES, weights, opts.rrf_k)
            lists.append(np.where(table.holding(kind) & (so_far > 0), so_far, -np.inf))
            weights.append(opts.weight_answer_kind)
        order, fused = self._ranked(lists, weights, scope, k)
        if pinned:
            order = pinned[:k] + [r for r in order if r not in pinned]
        if len(order) < k and scope is not base:
            rest, rest_fused = self._ranked(lists, weights, base & ~scope, k - len(order))
            fused = np.where(scope, fused, rest_fused * 0.5)  # scoped passages stay ahead
            order += rest
        if opts.cover_acts and len(plan.act_docs) > 1:
            order = _cover(order, plan.act_docs, table, fused, scope)[:k]
        if opts.mmr_lambda is not None:
            order = self._mmr(order, fused, opts.mmr_lambda, k)
        # Per passage, the best over the query forms: a German question's English translation is
        # what matches English passages, and relevance checks downstream must see that match.
        dense = np.max([lists[i] for i in dense_lists], axis=0) if dense_lists else np.zeros(n, dtype=np.float32)
        lexical = np.max([lists[i] for i in lexical_lists], axis=0) if lexical_lists else None
        dense_ranks = _ranks(dense, base) if dense_lists else {}
        lexical_ranks = _ranks(lexical, base) if lexical is not None else {}
        return self._hits(order[:k], fused, dense, dense_ranks, lexical_ranks)

    def _ranked(self, lists, weights, mask, k) -> tuple[list[int], np.ndarray]:
        fused, _ = weighted_rrf(lists, mask, CANDIDATES, weights, self.options.rrf_k)
        if self.options.recital_prior != 1.0:
            fused = np.where(self.table.is_recital, fused * self.options.recital_prior, fused)
        depth = max(k, 50)
        top = np.argpartition(-fused, min(depth, len(fused) - 1))[:depth] if len(fused) > depth else np.arange(len(fused))
        top = sorted((int(r) for r in top if fused[r] > 0), key=lambda r: (-fused[r], r))
        return top, fused

    def _reference_scores(self, plan: _Plan, base_fused: np.ndarray) -> np.ndarray:
        """Passages of cited units: the cited paragraph/point first, then the rest of the unit."""
        table = self.table
        scores = np.full(self.generation.size, -np.inf, dtype=np.float32)
        scoped_docs = plan.scope_docs or list(table.doc_lang)
        if not plan.act_docs:
            # No act named: "Article 6(1)" means that unit of the acts the question is about, i.e.
            # of the documents its words retrieve best, not of every act in the index.
            scoped_docs = _leading_docs(base_fused, table, self.options.reference_docs)
        for ref, act in plan.analysis.references:
            docs = plan.act_docs.get(act, scoped_docs) if act else scoped_docs
            for doc in docs:
                for row in table.units.get((doc, ref.kind, ref.number), []):
                    exact_part = bool(ref.parts) and ref.parts[0] in table.spans[row]
                    # Tie-break inside a unit by the question's own relevance (base_fused < 1).
                    scores[row] = max(scores[row], (2.0 if exact_part else 1.0) + float(base_fused[row]))
        return scores

    def _citations_of_asked_article(self, plan: _Plan, base_fused: np.ndarray,
                                    scope: np.ndarray) -> np.ndarray:
        """Per passage, how strongly it cites the article the question is about: an article the
        question names (2) or one of the best text matches (1)."""
        table = self.table
        targets: dict[tuple[str, str], float] = {}
        top_docs = plan.scope_docs or list(table.doc_lang)
        for ref, act in plan.analysis.references:
            if ref.kind == "article":
                for doc in (plan.act_docs.get(act, top_docs) if act else top_docs):
                    targets[(doc, ref.number)] = 2.0
        seen_units = 0
        for row in _best_rows(base_fused, scope, 50):
            if seen_units >= self.options.applicability_units:
                break
            unit = table.unit_of_row[row]
            if unit is not None:
                key = (table.doc_of_row[row], unit)
                if key not in targets:
                    targets[key] = 1.0
                    seen_units += 1
        cited = np.zeros(self.generation.size, dtype=np.float32)
        for (doc, article), weight in targets.items():
            cited[table.citing(doc, article)] += weight
        return cited

    def _applicability_scores(self, cited: np.ndarray, base_fused: np.ndarray,
                              scope: np.ndarray) -> np.ndarray:
        """Dates of a provision are often set by another one that cites it ("Article 14 shall apply
        from 11 September 2026"): passages holding a date that cite the article asked about."""
        held = scope & self.table.holding(DATE) & (cited > 0)
        return np.where(held, cited + base_fused, -np.inf).astype(np.float32)

    def _cited_paragraph_scores(self, kind: str, base_fused: np.ndarray, scope: np.ndarray) -> np.ndarray:
        """Values are often set in a sibling paragraph that refers back to the rule ("Fines imposed
        in the cases referred to in paragraph 1, point (a), shall not exceed 1 %"): passages holding
        a value of the asked kind that refer to one of the best-matching paragraphs."""
        table = self.table
        cited = np.zeros(self.generation.size, dtype=np.float32)
        holding = table.holding(kind)
        seen: set[tuple[str, str, str]] = set()
        for row in _best_rows(base_fused, scope, 20):
            if len(seen) >= self.options.cited_paragraph_units:
                break
            article, paragraph = table.unit_of_row[row], table.paragraph_of_row[row]
            if article is None or paragraph is None:
                continue
            if holding[row]:
                break  # the best-matching rule states its own value
            key = (table.doc_of_row[row], article, paragraph)
            if key not in seen:
                seen.add(key)
                cited[table.citing_paragraph(*key)] += 1.0 / len(seen)
        held = scope & holding & (cited > 0)
        return np.where(held, cited + base_fused, -np.inf).astype(np.float32)

    def _application_article_scores(self, cited: np.ndarray, base_fused: np.ndarray,
                                    scope: np.ndarray) -> np.ndarray:
        """Passages of the closing articles that set when the act applies, those citing the
        article asked about first."""
        held = scope & self.table.holding(DATE) & self.table.sets_dates
        return np.where(held, cited + base_fused, -np.inf).astype(np.float32)

    def _exact_scores(self, terms: list[str], base_fused: np.ndarray,
                      scope: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Passages containing the question's exact strings (more distinct strings rank higher), and
        passages where a term appears in quotes, i.e. where legislation defines it."""
        needles = [normalise_text(t) for t in terms]
        # Legislation quotes a term where it defines it: "‘connected product’ means …".
        quoted = [f"{a}{nd}{b}" for nd in needles for a, b in _QUOTES]
        counts = np.zeros(self.generation.size, dtype=np.float32)
        defines = np.zeros(self.generation.size, dtype=np.float32)
        texts = self.table.texts
        for row in np.flatnonzero(scope):
            text = texts[row]
            counts[row] = sum(1 for nd in needles if _contains_term(text, nd))
            if counts[row]:
                defines[row] = sum(1 for q in quoted if q in text)
        tie = base_fused.astype(np.float32)
        return (np.where(counts > 0, counts + tie, -np.inf).astype(np.float32),
                np.where(defines > 0, defines + tie, -np.inf).astype(np.float32))

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

    def _hits(self, order, fused, dense, dense_rank, bm25_rank) -> list[Hit]:
        chunks = self.generation.chunks(order)
        titles = self.table.titles
        return [
            Hit(chunk=c, score=float(fused[r]), doc_title=titles.get(c.doc, c.doc),
                rank_dense=dense_rank.get(r), rank_bm25=bm25_rank.get(r),
                dense_similarity=float(dense[r]) if np.isfinite(dense[r]) else 0.0)
            for r, c in zip(order, chunks)
        ]


def _best_rows(scores: np.ndarray, mask: np.ndarray | None, depth: int):
    """Rows of the first `depth` ranks by score (inside `mask`), up to the first that scores ≤ 0."""
    masked = scores if mask is None else np.where(mask, scores, -np.inf)
    for row in np.argsort(-masked)[:depth]:
        if masked[row] <= 0:
            return
        yield int(row)


def _leading_docs(base_fused: np.ndarray, table: "_PassageTable", n: int) -> list[str]:
    """The first `n` distinct documents of the fused text ranking."""
    docs: list[str] = []
    for row in _best_rows(base_fused, None, 20 * n):
        doc = table.doc_of_row[row]
        if doc not in docs:
            docs.append(doc)
            if len(docs) == n:
                break
    return docs or list(table.doc_lang)


_QUOTES = [("‘", "’"), ("“", "”"), ('"', '"'), ("«", "»"), ("„", "“")]


def _preferred_versions(act, lang: str) -> list[str]:
    """The act's documents in the question's language, else in English, else all of them."""
    for wanted in (lang, "en"):
        docs = act.doc_ids([wanted])
        if docs:
            return docs
    return act.doc_ids()


def _contains_term(text: str, needle: str) -> bool:
    """Whole-token containment: "72 hours" must not match inside "172 hours"."""
    start = text.find(needle)
    while start >= 0:
        before = text[start - 1] if start else " "
        end = start + len(needle)
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or (before in ",." and start > 1 and text[start - 2].isdigit())) \
                and not after.isalnum():
            return True
        start = text.find(needle, start + 1)
    return False


def _cover(order: list[int], act_docs: dict[str, list[str]], table: _PassageTable,
           fused: np.ndarray, scope: np.ndarray) -> list[int]:
    """Comparison questions need every named act: lead with each act's best passage."""
    leaders: list[int] = []
    for docs in act_docs.values():
        rows = np.concatenate([table.rows_of_doc.get(d, np.zeros(0, np.int64)) for d in docs])
        rows = rows[scope[rows]] if len(rows) else rows
        if len(rows) and fused[rows].max() > 0:
            leaders.append(int(rows[np.argmax(fused[rows])]))
    leaders.sort(key=lambda r: -fused[r])
    return leaders + [r for r in order if r not in leaders]


def _ranks(scores: np.ndarray, mask: np.ndarray, depth: int = CANDIDATES) -> dict[int, int]:
    masked = np.where(mask, scores, -np.inf)
    top = np.argsort(-masked, kind="stable")[:depth]
    return {int(r): i for i, r in enumerate((r for r in top if np.isfinite(masked[r])), start=1)}


def weighted_rrf(score_lists: list[np.ndarray], mask: np.ndarray | None, candidates: int,
                 weights: list[float] | None = None, k: int = RRF_K) -> tuple[np.ndarray, list[dict[int, int]]]:
    """Weighted reciprocal rank fusion of full score vectors (-inf = not retrieved by that list).

    Ranks are taken inside `mask`, so a scope changes which passages compete, not their scores.
    """
    n = len(score_lists[0]) if score_lists else 0
    fused = np.zeros(n, dtype=np.float64)
    ranks: list[dict[int, int]] = []
    for i, scores in enumerate(score_lists):
        scores = np.asarray(scores, dtype=np.float64)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        depth = min(candidates, n)
        top = np.argpartition(-scores, depth - 1)[:depth] if n > depth else np.arange(n)
        top = sorted((int(r) for r in top if np.isfinite(scores[r])), key=lambda r: (-scores[r], r))
        weight = weights[i] if weights else 1.0
        rank_of = {}
        for rank, row in enumerate(top, start=1):
            fused[row] += weight / (k + rank)
            rank_of[row] = rank
        ranks.append(rank_of)
    return fused, ranks


def fuse_rrf(
    score_lists: list[np.ndarray], mask: np.ndarray | None, candidates: int, weights: list[float] | None = None
) -> tuple[np.ndarray, dict[int, int], dict[int, int]]:
    """Reciprocal rank fusion returning fused scores and the 1-based ranks of the first two lists."""
    fused, ranks = weighted_rrf(score_lists, mask, candidates, weights)
    while len(ranks) < 2:
        ranks.append({})
    return fused, ranks[0], ranks[1]


def build_retriever(runtime, options: RetrievalOptions | None = None, generation=None) -> Retriever:
    """The product's retriever for a runtime: translation through the runtime's generator, loaded
    only when a question needs it (and `translate_queries` is on)."""
    translator = runtime.translator if runtime.settings.translate_queries else None
    return Retriever(generation or runtime.generation(), runtime.embedder, translator=translator,
                     options=options)


__all__ = ["Hit", "Retriever", "RetrievalOptions", "SearchFilters", "build_retriever", "fuse_rrf",
           "weighted_rrf"]
