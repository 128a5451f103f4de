"""Hybrid retrieval: dense (FAISS) and BM25 rankings fused by reciprocal rank, with filters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .chunking import Chunk
from .embedder import Embedder
from .store import IndexGeneration

RRF_K = 60
"""The usual reciprocal-rank-fusion constant: damps the weight of the very first ranks."""
CANDIDATES = 100
"""Candidates taken from each ranking before fusion."""


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
    def __init__(self, generation: IndexGeneration, embedder: Embedder) -> None:
        self.generation = generation
        self.embedder = embedder

    def _allowed_rows(self, filters: SearchFilters | None) -> np.ndarray | None:
        if not filters or (not filters.docs and not filters.langs):
            return None
        mask = np.ones(self.generation.size, dtype=bool)
        if filters.docs:
            allowed = np.zeros_like(mask)
            allowed[self.generation.rows_of_documents(filters.docs)] = True
            mask &= allowed
        if filters.langs:
            allowed = np.zeros_like(mask)
            allowed[self.generation.rows_of_language(filters.langs)] = True
            mask &= allowed
        return mask

    def dense_scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity (vectors are normalised) for the best candidates; -inf elsewhere."""
        vector = self.embedder.encode_query(query).reshape(1, -1).astype(np.float32)
        n = self.generation.size
        depth = n if mask is not None else min(n, CANDIDATES)
        scores, rows = self.generation.vectors.search(vector, depth)
        out = np.full(n, -np.inf, dtype=np.float32)
        valid = rows[0] >= 0
        out[rows[0][valid]] = scores[0][valid]
        return out

    def search(self, query: str, k: int = 10, filters: SearchFilters | None = None) -> list[Hit]:
        n = self.generation.size
        if n == 0 or not query.strip():
            return []
        mask = self._allowed_rows(filters)
        dense = self.dense_scores(query, mask)
        lexical = self.generation.lexical.scores(query)
        lexical = np.where(lexical > 0, lexical, -np.inf)  # only passages sharing a term
        fused, dense_rank, bm25_rank = fuse_rrf([dense, lexical], mask, CANDIDATES)
        order = [int(r) for r in np.argsort(-fused, kind="stable")[:k] if fused[r] > 0]
        return self._hits(order, fused, dense, dense_rank, bm25_rank)

    def _hits(self, order, fused, dense, dense_rank, bm25_rank) -> list[Hit]:
        chunks = self.generation.chunks(order)
        titles = {d.id: d.title for d in self.generation.documents().values()}
        return [
            Hit(chunk=c, score=float(fused[r]), doc_title=titles.get(c.doc, c.doc),
                rank_dense=dense_rank.get(r), rank_bm25=bm25_rank.get(r),
                dense_similarity=float(dense[r]) if np.isfinite(dense[r]) else 0.0)
            for r, c in zip(order, chunks)
        ]


def fuse_rrf(
    score_lists: list[np.ndarray], mask: np.ndarray | None, candidates: int, weights: list[float] | None = None
) -> tuple[np.ndarray, dict[int, int], dict[int, int]]:
    """Reciprocal rank fusion of full score vectors; returns fused scores and 1-based ranks."""
    n = len(score_lists[0])
    fused = np.zeros(n, dtype=np.float64)
    ranks: list[dict[int, int]] = []
    for i, scores in enumerate(score_lists):
        scores = scores.astype(np.float64, copy=True)
        if mask is not None:
            scores[~mask] = -np.inf
        top = np.argsort(-scores, kind="stable")[:candidates]
        top = [int(r) for r in top if np.isfinite(scores[r])]
        weight = weights[i] if weights else 1.0
        rank_of = {}
        for rank, row in enumerate(top, start=1):
            fused[row] += weight / (RRF_K + rank)
            rank_of[row] = rank
        ranks.append(rank_of)
    while len(ranks) < 2:
        ranks.append({})
    return fused, ranks[0], ranks[1]


def build_retriever(runtime) -> Retriever:
    return Retriever(runtime.generation(), runtime.embedder)
