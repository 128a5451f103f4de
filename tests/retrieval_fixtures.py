"""A small real index (store, BM25, chunker) over slices of two corpus acts, for retrieval tests.

The fast variant embeds with a deterministic bag-of-words hash, so tests exercise the real index
and fusion code in seconds; slow tests pass the bundled embedder instead.
"""

from __future__ import annotations

from pathlib import Path

from fixtures.stub_embedder import StubEmbedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SLICES = {
    # file: (first line of the kept body, first line not kept); the title/header lines are kept.
    "gdpr-2016-679.md": ("## CHAPTER I", "#### Article 35"),
    "interoperable-europe-act-2024-903.md": ("## Chapter 1", "### Article 10 "),
}


def write_slices(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name, (start, stop) in SLICES.items():
        lines = (CORPUS / name).read_text("utf-8").splitlines()
        head = lines[:8]
        begin = next(i for i, line in enumerate(lines) if line.startswith(start))
        end = next(i for i, line in enumerate(lines) if line.startswith(stop))
        (dest / name).write_text("\n".join(head + lines[begin:end]) + "\n", "utf-8")
    return dest


class HashEmbedder(StubEmbedder):
    """Bag-of-words vectors from word hashes: cheap, deterministic, rewards shared words."""

    def __init__(self) -> None:
        super().__init__(model_id="test-hash-embedder", dimension=256)


def build_index(base: Path, embedder) -> Path:
    from rag.ingest import run_ingest
    from rag.store import IndexStore

    corpus = write_slices(base / "corpus")
    store = IndexStore(base / "index")
    run_ingest(
        store,
        embedder,
        [corpus],
        max_bytes=10**9,
        full_rebuild=True,
        show_progress=False,
        say=lambda *_: None,
    )
    return base / "index"
