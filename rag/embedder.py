"""Sentence embeddings from a local sentence-transformers folder; normalised float32 vectors."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

SINGLE_THREAD_MAX_TEXTS = 8
"""Inputs this small (a query, a few answer sentences) are encoded on one thread. A short forward
pass is a long chain of small parallel regions; with two OpenMP threads each region waits for both,
and on a busy CPU (llama.cpp writing an answer, a neighbour's build) the second thread is often
descheduled: measured 60 ms on one thread vs 910 ms on two for one query at load average 7."""


class Embedder:
    """Loads the model once on first use; `encode` is safe to call from several threads."""

    def __init__(self, model_id: str, path: Path, threads: int, batch_size: int = 64) -> None:
        self.model_id = model_id
        self.path = Path(path)
        self.threads = threads
        self.batch_size = batch_size
        self._model = None
        self.calls = 0  # passages embedded so far: lets tests and the CLI report embed work
        import threading

        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(
                        str(self.path), device="cpu", local_files_only=True
                    )
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(getter())

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed texts in batches (longest first for less padding); rows follow the input order."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) <= SINGLE_THREAD_MAX_TEXTS and self.threads > 1:
            with _torch_threads(1):
                return self._encode(model, texts, progress)
        return self._encode(model, texts, progress)

    def _encode(
        self, model, texts: list[str], progress: Callable[[int], None] | None
    ) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            vecs = model.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[idx] = vecs.astype(np.float32, copy=False)
            self.calls += len(idx)
            if progress:
                progress(len(idx))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run a block with `n` intra-op threads. torch keeps the OpenMP/MKL thread count per calling
    thread once that thread has initialised, so a concurrent batch encode elsewhere keeps its own."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
