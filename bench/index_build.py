"""Index build throughput next to its ceiling: raw `SentenceTransformer.encode` on the same passages.

The build (read → chunk → embed → BM25 + SQLite + FAISS + fsync) runs through `run_ingest`, the
routine behind `sovrag index build`, into a temporary index; the ceiling is the model's own
`encode` over exactly the texts the build embeds, in the same process, model already loaded.
Then one document is changed and `run_ingest` updates incrementally (only changed passages are
embedded), and a no-op update is timed.

    python bench/index_build.py                 # the whole default corpus (~8.5k passages, ~8 min)
    python bench/index_build.py --sample 1000   # the smallest documents holding >= 1000 passages

`--sample N` takes whole documents, smallest first, until N passages are reached, so the build
still reads real files; the number of passages measured is printed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, load_average, machine, peak_rss_mb, rss_mb, table

from rag.chunking import chunk_document
from rag.config import load_settings
from rag.documents import load_document
from rag.embedder import Embedder
from rag.ingest import collect_files, run_ingest
from rag.models import resolve_embedder
from rag.store import IndexStore, embed_text


def select_documents(corpus: Path, sample: int) -> tuple[list[tuple[Path, str]], list[str]]:
    """The documents to build from and the texts the build will embed, in ingest order."""
    docs = []
    for path, doc_id in collect_files([corpus]):
        try:
            doc = load_document(path, doc_id, 10**9)
        except Exception:  # noqa: BLE001, S112 — a file the product skips is skipped here too
            continue
        docs.append((path, doc_id, [embed_text(c, doc.title) for c in chunk_document(doc)]))
    if sample:
        docs.sort(key=lambda d: (len(d[2]), d[1]))
        chosen, total = [], 0
        for d in docs:
            if total >= sample:
                break
            chosen.append(d)
            total += len(d[2])
        docs = chosen
    docs.sort(key=lambda d: d[1])  # run_ingest embeds documents in file order
    return [(p, i) for p, i, _ in docs], [t for _, _, texts in docs for t in texts]


def raw_encode(embedder: Embedder, texts: list[str]) -> float:
    """Seconds for the model's own batched encode of all texts: the ceiling for this model."""
    model = embedder._load()
    started = time.perf_counter()
    model.encode(
        texts,
        batch_size=embedder.batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return time.perf_counter() - started


def change_one_document(corpus: Path) -> str:
    """Append a sentence to one paragraph in the middle of the largest copied file (one passage
    changes); returns the document id."""
    target = max(corpus.iterdir(), key=lambda p: p.stat().st_size)
    lines = target.read_text("utf-8").splitlines()
    middle = len(lines) // 2
    for i in range(middle, len(lines)):
        if len(lines[i]) > 120 and not lines[i].startswith("#"):
            lines[i] += " This sentence was appended by the benchmark."
            break
    target.write_text("\n".join(lines) + "\n", "utf-8")
    return target.name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="passages to build from (whole smallest documents); 0 = whole corpus",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON result here")
    args = parser.parse_args(argv)

    info = machine()
    settings = load_settings()
    files, texts = select_documents(args.corpus, args.sample)
    work = Path(tempfile.mkdtemp(prefix="sovrag-bench-build-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        for path, doc_id in files:
            shutil.copy2(path, corpus / doc_id)
        embedder = Embedder(
            settings.embedder,
            resolve_embedder(settings.embedder, settings.models_dir),
            settings.threads,
            settings.embed_batch_size,
        )
        embedder.encode(texts[:8])  # model load and first-call set-up are not throughput
        rss_loaded = rss_mb()
        print(
            f"{len(files)} documents, {len(texts)} passages; load {load_average()}", file=sys.stderr
        )

        # Ceiling measured before and after the build and averaged: bracketing cancels a load
        # that drifts linearly, which on a shared machine is the larger error.
        raw_first = raw_encode(embedder, texts)
        stages: dict[str, float] = {}
        started = time.perf_counter()

        def hook(stage: str, _fraction: float) -> None:
            stages.setdefault(stage, time.perf_counter() - started)

        store = IndexStore(work / "index")
        report = run_ingest(
            store,
            embedder,
            [corpus],
            max_bytes=10**9,
            full_rebuild=True,
            say=lambda m: None,
            show_progress=False,
            progress_hook=hook,
        )
        build_s = time.perf_counter() - started
        raw_second = raw_encode(embedder, texts)
        raw_s = (raw_first + raw_second) / 2

        changed = change_one_document(corpus)
        started = time.perf_counter()
        update = run_ingest(
            store,
            embedder,
            [corpus],
            max_bytes=10**9,
            full_rebuild=False,
            say=lambda m: None,
            show_progress=False,
        )
        update_s = time.perf_counter() - started
        started = time.perf_counter()
        run_ingest(
            store,
            embedder,
            [corpus],
            max_bytes=10**9,
            full_rebuild=False,
            say=lambda m: None,
            show_progress=False,
        )
        noop_s = time.perf_counter() - started
        index_mb = store.size_bytes() / 1e6
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = report.passages
    embed_s = stages.get("writing", build_s) - stages.get("embedding", 0.0)
    result = {
        "machine": info,
        "documents": len(files),
        "passages": n,
        "sample": args.sample or None,
        "build_s": round(build_s, 2),
        "build_passages_per_s": round(n / build_s, 2),
        "raw_encode_s": round(raw_s, 2),
        "raw_passages_per_s": round(n / raw_s, 2),
        "raw_encode_runs_s": [round(raw_first, 2), round(raw_second, 2)],
        "ratio_build_to_raw": round(raw_s / build_s, 3),
        "stages_s": {
            "read+chunk": round(stages.get("embedding", 0.0), 2),
            "embed": round(embed_s, 2),
            "write (sqlite+bm25+faiss+fsync)": round(build_s - stages.get("writing", build_s), 2),
        },
        "peak_rss_mb": peak_rss_mb(),
        "rss_model_loaded_mb": rss_loaded,
        "index_mb": round(index_mb, 1),
        "incremental": {
            "changed_document": changed,
            "seconds": round(update_s, 2),
            "embedded": update.embedded,
            "passages": update.passages,
        },
        "noop_update_s": round(noop_s, 3),
    }
    rows = [
        ["raw SentenceTransformer.encode (ceiling)", n, round(raw_s, 1), round(n / raw_s, 1), ""],
        [
            "sovrag build (run_ingest)",
            n,
            round(build_s, 1),
            round(n / build_s, 1),
            f"{result['ratio_build_to_raw']:.2f}x raw",
        ],
        [
            f"incremental update ({changed}, 1 paragraph)",
            update.embedded,
            round(update_s, 2),
            "",
            "",
        ],
        ["no-op update", 0, round(noop_s, 3), "", ""],
    ]
    readable = table(rows, ["index build", "passages", "seconds", "passages/s", "ratio"]) + (
        f"\nstages: {result['stages_s']}; peak RSS {result['peak_rss_mb']} MB "
        f"(model loaded {rss_loaded} MB); index {result['index_mb']} MB; "
        f"load {info['load_start']} -> {load_average()}"
    )
    emit("index_build", result, readable, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
