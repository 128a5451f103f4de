"""Query latency (encode + search + fusion, no generator) on the default index, and vector search
at synthetic scale: exact FAISS (flat inner product) against approximate HNSW and IVF indexes.

    python bench/retrieval_latency.py                      # default index + 100k scale-up
    python bench/retrieval_latency.py --scales 100000 1000000   # the 1M run (~15 min, ~4 GB RAM)
    python bench/retrieval_latency.py --scales               # default index only

Default index: every dev question through the product's `Retriever` (translation off, so no
generator call), two passes; the first pass after a warm-up query. Scale-ups: the default
index's real vectors, followed by synthetic ones (a real passage vector, plus a random fraction of
another one, plus Gaussian noise, normalised), so that neighbourhoods look like real embeddings
rather than uniform noise; queries are the real dev-question embeddings. Recall@10 is measured
against the exact index on the same vectors. Per query, the measured path is: encode the question
(real), search 100 candidates, and fuse them by RRF with a second 100-candidate list; the
product's full-length fusion (`weighted_rrf` over six n-long score arrays, what `Retriever.search`
does today) is timed separately to show how it scales.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    DEV_QUESTIONS,
    ROOT,
    emit,
    index_settings,
    latency_summary,
    load_average,
    machine,
    rss_mb,
    table,
)

from rag.evaluation import load_questions
from rag.retrieval import CANDIDATES, RetrievalOptions, Retriever, weighted_rrf
from rag.runtime import Runtime

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = (100, 200)
"""At least CANDIDATES: HNSW returns at most efSearch results."""
IVF_NPROBE = (16, 32)


def default_corpus(runtime: Runtime, questions: list[str], passes: int) -> dict:
    """p50/p95 of the product's retrieval on the real index, with the encode share."""
    generation = runtime.generation()
    retriever = Retriever(generation, runtime.embedder, options=RetrievalOptions(translate=False))
    started = time.perf_counter()
    retriever.search("warm-up question about the GDPR", k=10)  # per-generation tables, model load
    first_query_s = time.perf_counter() - started
    totals, encodes = [], []
    for _ in range(passes):
        for q in questions:
            t0 = time.perf_counter()
            runtime.embedder.encode_query(q)
            t1 = time.perf_counter()
            retriever.search(q, k=10)
            t2 = time.perf_counter()
            encodes.append(t1 - t0)
            totals.append(t2 - t1)
    return {
        "passages": generation.size,
        "queries": len(totals),
        "search": latency_summary(totals),
        "encode_only": latency_summary(encodes),
        "first_query_s": round(first_query_s, 2),
        "rss_mb": rss_mb(),
    }


def synthetic(base: np.ndarray, n: int, seed: int = 7) -> np.ndarray:
    """n normalised vectors: the real ones first, then blends of real ones with noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    m = min(n, len(base))
    out[:m] = base[:m]
    step = 200_000
    for start in range(m, n, step):
        stop = min(n, start + step)
        count = stop - start
        a = base[rng.integers(0, len(base), count)]
        b = base[rng.integers(0, len(base), count)]
        mix = rng.uniform(0.0, 0.7, (count, 1)).astype(np.float32)
        block = a + mix * b + rng.normal(0.0, 0.03, a.shape).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def index_mb(index) -> float:
    """Size of an index's data structures (vectors, graph links, lists): its memory once loaded."""
    import faiss

    return round(len(faiss.serialize_index(index)) / 1e6, 1)


def _recall(approx: np.ndarray, exact: np.ndarray, k: int = 10) -> float:
    return float(np.mean([len(set(a[:k]) & set(e[:k])) / k for a, e in zip(approx, exact)]))


def _time_queries(index, queries: np.ndarray, encode, texts: list[str], lexical_top: np.ndarray):
    """Per query: encode + search CANDIDATES + RRF fusion of the dense and a lexical candidate list."""
    import faiss

    faiss.omp_set_num_threads(1)  # one query at a time: threads only add overhead here
    found, latencies = [], []
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        encode(text)
        _, ids = index.search(queries[i : i + 1], CANDIDATES)
        fused: dict[int, float] = {}
        for rank, row in enumerate(ids[0], start=1):
            fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (3 + rank)
        for rank, row in enumerate(lexical_top[i], start=1):
            fused[int(row)] = fused.get(int(row), 0.0) + 1.0 / (3 + rank)
        sorted(fused, key=fused.__getitem__, reverse=True)[:10]
        latencies.append(time.perf_counter() - t0)
        found.append(ids[0])
    faiss.omp_set_num_threads(2)
    return np.array(found), latencies


def full_length_fusion(n: int, repeats: int = 5) -> dict:
    """What `Retriever.search` spends fusing six n-long score arrays (dense, BM25, headings, …)."""
    rng = np.random.default_rng(3)
    lists = [rng.standard_normal(n).astype(np.float32) for _ in range(6)]
    mask = np.ones(n, dtype=bool)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        weighted_rrf(lists, mask, CANDIDATES, [1.0] * 6, 3)
        times.append(time.perf_counter() - t0)
    return latency_summary(times)


def scale(
    n: int,
    base: np.ndarray,
    queries: np.ndarray,
    texts: list[str],
    encode,
    methods: tuple[str, ...] = ("hnsw", "ivf"),
) -> dict:
    import faiss

    vectors = synthetic(base, n)
    d = vectors.shape[1]
    rng = np.random.default_rng(11)
    lexical_top = rng.integers(0, n, (len(texts), CANDIDATES))
    out: dict = {"passages": n, "indexes": {}}

    exact = faiss.IndexFlatIP(d)
    exact.add(vectors)
    out["indexes"]["exact (IndexFlatIP)"] = entry = {"build_s": 0.0, "mb": index_mb(exact)}
    truth, lat = _time_queries(exact, queries, encode, texts, lexical_top)
    entry.update(latency=latency_summary(lat), recall_at_10=1.0)
    # The product's retriever computes a dense score for every passage (numpy matrix-vector).
    times = []
    for q in queries[:40]:
        t0 = time.perf_counter()
        vectors @ q
        times.append(time.perf_counter() - t0)
    out["numpy_full_scores"] = latency_summary(times)
    out["product_full_length_fusion"] = full_length_fusion(n)
    del exact
    gc.collect()

    if "hnsw" in methods:
        _hnsw(out, vectors, queries, encode, texts, lexical_top, truth)
    if "ivf" in methods:
        _ivf(out, vectors, queries, encode, texts, lexical_top, truth, rng)
    del vectors
    gc.collect()
    return out


def _hnsw(out, vectors, queries, encode, texts, lexical_top, truth) -> None:
    import faiss

    d = vectors.shape[1]
    t0 = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    build = time.perf_counter() - t0
    mb = index_mb(hnsw)
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = ef
        ids, lat = _time_queries(hnsw, queries, encode, texts, lexical_top)
        out["indexes"][f"HNSW M={HNSW_M} efSearch={ef}"] = {
            "build_s": round(build, 1),
            "mb": mb,
            "latency": latency_summary(lat),
            "recall_at_10": round(_recall(ids, truth), 4),
        }
    del hnsw
    gc.collect()


def _ivf(out, vectors, queries, encode, texts, lexical_top, truth, rng) -> None:
    import faiss

    n, d = vectors.shape
    nlist = int(4 * np.sqrt(n))
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(d)
    ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    train = vectors[rng.choice(n, min(n, 40 * nlist), replace=False)]
    ivf.train(train)
    ivf.add(vectors)
    build = time.perf_counter() - t0
    mb = index_mb(ivf)
    for nprobe in IVF_NPROBE:
        ivf.nprobe = nprobe
        ids, lat = _time_queries(ivf, queries, encode, texts, lexical_top)
        out["indexes"][f"IVF-Flat nlist={nlist} nprobe={nprobe}"] = {
            "build_s": round(build, 1),
            "mb": mb,
            "latency": latency_summary(lat),
            "recall_at_10": round(_recall(ids, truth), 4),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index", help="read only")
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--passes", type=int, default=2, help="passes over the questions")
    parser.add_argument("--scales", type=int, nargs="*", default=[100_000])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["hnsw", "ivf"],
        choices=["hnsw", "ivf"],
        help="approximate indexes to compare with exact search",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    info = machine()
    runtime = Runtime(index_settings(args.index, translate_queries=False))
    texts = [q["question"] for q in load_questions(args.questions)]
    result: dict = {
        "machine": info,
        "default": default_corpus(runtime, texts, args.passes),
        "scales": [],
    }
    d = result["default"]
    rows = [
        [
            f"default index ({d['passages']} passages), product retriever",
            "-",
            "-",
            d["search"]["p50_ms"],
            d["search"]["p95_ms"],
            "-",
            "-",
        ],
        [
            "  of which query encode",
            "",
            "",
            d["encode_only"]["p50_ms"],
            d["encode_only"]["p95_ms"],
            "",
            "",
        ],
    ]

    if args.scales:
        base = runtime.generation().all_vectors()
        queries = runtime.embedder.encode(texts)
        for n in args.scales:
            print(
                f"scale {n}: building indexes; load {load_average()}", file=sys.stderr, flush=True
            )
            s = scale(n, base, queries, texts, runtime.embedder.encode_query, tuple(args.methods))
            s["mb_per_million"] = {
                name: round(e["mb"] * 1e6 / n) for name, e in s["indexes"].items()
            }
            result["scales"].append(s)
            for name, e in s["indexes"].items():
                rows.append(
                    [
                        f"{n:,} passages, {name}",
                        e["build_s"],
                        e["mb"],
                        e["latency"]["p50_ms"],
                        e["latency"]["p95_ms"],
                        e["recall_at_10"],
                        s["mb_per_million"][name],
                    ]
                )
            rows.append(
                [
                    f"{n:,} passages, product full-length fusion only",
                    "",
                    "",
                    s["product_full_length_fusion"]["p50_ms"],
                    s["product_full_length_fusion"]["p95_ms"],
                    "",
                    "",
                ]
            )
            rows.append(
                [
                    f"{n:,} passages, numpy scores for all passages only",
                    "",
                    "",
                    s["numpy_full_scores"]["p50_ms"],
                    s["numpy_full_scores"]["p95_ms"],
                    "",
                    "",
                ]
            )
    readable = (
        table(
            rows, ["retrieval", "build s", "index MB", "p50 ms", "p95 ms", "recall@10", "MB per 1M"]
        )
        + f"\nload {info['load_start']} -> {load_average()}"
    )
    emit("retrieval_latency", result, readable, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
