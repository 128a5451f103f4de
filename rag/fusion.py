"""Reciprocal-rank fusion of full score vectors, and the rank helpers retrieval's signals share."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

RRF_K = 60
"""The usual reciprocal-rank-fusion constant: damps the weight of the very first ranks."""
CANDIDATES = 100
"""Candidates taken from each ranking before fusion."""


def weighted_rrf(
    score_lists: list[np.ndarray],
    mask: np.ndarray | None,
    candidates: int,
    weights: list[float] | None = None,
    k: int = RRF_K,
) -> tuple[np.ndarray, list[dict[int, int]]]:
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


def best_rows(scores: np.ndarray, mask: np.ndarray | None, depth: int) -> Iterator[int]:
    """Rows of the first `depth` ranks by score (inside `mask`), up to the first that scores ≤ 0."""
    masked = scores if mask is None else np.where(mask, scores, -np.inf)
    for row in np.argsort(-masked)[:depth]:
        if masked[row] <= 0:
            return
        yield int(row)


def ranks(scores: np.ndarray, mask: np.ndarray, depth: int = CANDIDATES) -> dict[int, int]:
    """1-based rank of each of the first `depth` rows by score inside `mask`."""
    masked = np.where(mask, scores, -np.inf)
    top = np.argsort(-masked, kind="stable")[:depth]
    return {int(r): i for i, r in enumerate((r for r in top if np.isfinite(masked[r])), start=1)}
