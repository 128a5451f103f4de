"""Per-index-generation arrays that retrieval's query-time signals read: which document, unit and
paragraph each passage row belongs to, its normalised text, who cites whom, which rows hold a value
of a kind. Built once per generation and shared by all retrievers."""

from __future__ import annotations

import logging
import re
import threading
import weakref

import numpy as np

from .answer_types import holds_value, sets_application_dates
from .chunking import unit_title
from .lexical import LexicalIndex, tokenize_truncated
from .query import (
    ActCatalog,
    DocumentInfo,
    acronym_definitions,
    cited_articles,
    fold,
    locator_span,
    normalise_text,
    parse_locator,
)
from .store import IndexGeneration, StoredChunk

log = logging.getLogger(__name__)


def _names_in_text(record) -> tuple[str, ...]:
    """The names a document's act gives itself in its text (`rag.identity`), for act recognition."""
    act = record.act()
    return tuple(act.names) if act else ()


class PassageTable:
    """Per-generation arrays that query-time signals need; built once, shared by all retrievers."""

    def __init__(self, generation: IndexGeneration) -> None:
        docs = generation.documents()
        self.catalog = ActCatalog(
            DocumentInfo(d.id, d.title, d.lang, _names_in_text(d)) for d in docs.values()
        )
        self.doc_lang = {d.id: d.lang for d in docs.values()}
        self.titles = {d.id: d.title for d in docs.values()}
        stored = generation.stored_chunks()
        n = generation.size
        self._citing: dict[tuple[str, str], list[int]] | None = None
        self._index_rows(stored, n)
        unit_titles = self._mark_rows(stored, n)
        self.acronyms: dict[str, dict[str, str]] = {}
        """Per document, the acronyms it introduces ("threat-led penetration testing (TLPT)"), by
        their folded long form: later provisions and titles use the acronym alone."""
        for row, text in enumerate(self.raw_texts):
            for acronym, long_form in acronym_definitions(text):
                self.acronyms.setdefault(self.doc_of_row[row], {}).setdefault(
                    fold(long_form), acronym
                )
        self.headings = LexicalIndex.build(unit_titles, tokenize_truncated) if n else None
        """BM25 over unit titles alone ("Entry into force and application", "Penalties"): short,
        precise fields that the passage-level BM25 dilutes."""
        self._holding_lock = threading.Lock()
        self._holding: dict[str, np.ndarray] = {}
        self._defined: dict[str, dict[str, list[int]]] = {}
        self.vectors = np.ascontiguousarray(generation.all_vectors(), dtype=np.float32)
        self.sentences = generation.sentences
        if self.sentences is None and n:
            log.warning(
                "Index generation %s has no sentence vectors (written by an older sovrag): "
                "retrieval runs without them until `sovrag index build` rebuilds it.",
                generation.name,
            )

    def _index_rows(self, stored: list[StoredChunk], n: int) -> None:
        """Per row: its document, texts, article/paragraph and locator span; rows per document
        and per unit."""
        self.doc_of_row = np.empty(n, dtype=object)
        self.rows_of_doc: dict[str, np.ndarray] = {}
        self.units: dict[tuple[str, str, str], list[int]] = {}
        """(doc, kind, number) → rows of that article/annex/recital, in document order."""
        self.spans: list[list[str]] = [[] for _ in range(n)]
        self.texts: list[str] = [""] * n
        self.raw_texts: list[str] = [""] * n
        self.unit_of_row: list[str | None] = [None] * n
        by_doc: dict[str, list[int]] = {}
        for s in stored:
            self.doc_of_row[s.row] = s.chunk.doc
            by_doc.setdefault(s.chunk.doc, []).append(s.row)
            self.texts[s.row] = normalise_text(s.chunk.text)
            self.raw_texts[s.row] = s.chunk.text
            parsed = parse_locator(s.chunk.locator)
            if parsed and parsed[0] == "article":
                self.unit_of_row[s.row] = parsed[1]
            if parsed:
                self.units.setdefault((s.chunk.doc, parsed[0], parsed[1]), []).append(s.row)
                self.spans[s.row] = locator_span(s.chunk.locator)
        self.rows_of_doc = {d: np.array(rows, dtype=np.int64) for d, rows in by_doc.items()}

    def _mark_rows(self, stored: list[StoredChunk], n: int) -> list[str]:
        """Flags per row (recital, note, sets application dates); returns each row's unit title."""
        self.is_recital = np.zeros(n, dtype=bool)
        self.is_note = np.zeros(n, dtype=bool)
        """Rows of a document's footnote section: citations of other acts, rarely an answer."""
        self.sets_dates = np.zeros(n, dtype=bool)
        """Rows of articles that set when the act applies ("Entry into force and application")."""
        unit_titles = [""] * n
        for s in stored:
            parsed = parse_locator(s.chunk.locator)
            self.is_recital[s.row] = bool(
                parsed and parsed[0] == "recital"
            ) or s.chunk.locator.startswith("Recitals")
            self.is_note[s.row] = s.chunk.locator.startswith("Notes")
            unit_titles[s.row] = unit_title(s.chunk.heading)
            self.sets_dates[s.row] = bool(
                parsed and parsed[0] == "article"
            ) and sets_application_dates(unit_titles[s.row])
        return unit_titles

    def citing(self, doc: str, article: str) -> list[int]:
        """Rows of `doc` whose text cites its Article `article` (not counting the article itself)."""
        return self._citing_articles().get((doc, article), [])

    def _citing_articles(self) -> dict[tuple[str, str], list[int]]:
        """Who cites which article of its own document; every passage is read once, on first use."""
        with self._holding_lock:
            if self._citing is None:
                articles: dict[tuple[str, str], list[int]] = {}
                for row, text in enumerate(self.raw_texts):
                    doc, own_article = self.doc_of_row[row], self.unit_of_row[row]
                    for number in cited_articles(text):
                        if number != own_article:
                            articles.setdefault((doc, number), []).append(row)
                self._citing = articles
            return self._citing

    def holding(self, kind: str) -> np.ndarray:
        """Rows whose passage holds a value of this kind (`rag.answer_types`); computed once."""
        with self._holding_lock:
            if kind not in self._holding:
                self._holding[kind] = np.array(
                    [holds_value(t, kind) for t in self.texts], dtype=bool
                )
            return self._holding[kind]

    def defined_terms(self, doc: str) -> dict[str, list[int]]:
        """The terms `doc` defines, by their case-folded form, with the rows that define them: the
        quoted terms of its definitions article, i.e. of the article that quotes the most terms
        (at least five; the act's language does not matter). Computed once per document."""
        with self._holding_lock:
            if doc not in self._defined:
                self._defined[doc] = _defined_terms(
                    [
                        (row, self.unit_of_row[row], self.texts[row])
                        for row in self.rows_of_doc.get(doc, [])
                    ]
                )
            return self._defined[doc]

    def mask_of_docs(self, doc_ids) -> np.ndarray:
        mask = np.zeros(len(self.texts), dtype=bool)
        for d in doc_ids:
            rows = self.rows_of_doc.get(d)
            if rows is not None:
                mask[rows] = True
        return mask


_TABLES: weakref.WeakKeyDictionary[IndexGeneration, PassageTable] = weakref.WeakKeyDictionary()
_TABLES_LOCK = threading.Lock()


def passage_table(generation: IndexGeneration) -> PassageTable:
    with _TABLES_LOCK:
        table = _TABLES.get(generation)
        if table is None:
            table = _TABLES[generation] = PassageTable(generation)
        return table


_QUOTED_TERM = re.compile(r"[‘“\"«„»]([^‘’“”\"«»„]{2,60}?)[’”\"»“«]")


def _defined_terms(rows: list[tuple[int, str | None, str]]) -> dict[str, list[int]]:
    by_article: dict[str, dict[str, list[int]]] = {}
    for row, article, text in rows:
        if article is None:
            continue
        for match in _QUOTED_TERM.finditer(text):
            term = match.group(1).strip()
            if term and not term[0].isdigit():
                by_article.setdefault(article, {}).setdefault(term, []).append(row)
    if not by_article:
        return {}
    terms = max(by_article.values(), key=len)
    return terms if len(terms) >= 5 else {}
