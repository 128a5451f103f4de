"""On-disk index generations: FAISS vectors + BM25 + SQLite metadata + manifest.

Each build or update writes a complete new generation into a temporary directory, renames it into
place and then atomically replaces the `CURRENT` pointer. A process killed at any moment leaves
the previous generation current and loadable; leftover temporary directories are removed by the
next writer. Readers keep using the generation they opened.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .chunking import SENTENCE_UNITS_VERSION, Chunk
from .errors import IndexMismatchError, IndexMissingError, SovragError
from .lexical import LexicalIndex

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
_TMP_PREFIX = ".tmp-"

_SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, lang TEXT NOT NULL, sha256 TEXT NOT NULL,
    passages INTEGER NOT NULL, added_at TEXT NOT NULL, source_path TEXT NOT NULL,
    identity TEXT NOT NULL DEFAULT '', text_hash TEXT NOT NULL DEFAULT ''
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL, doc TEXT NOT NULL, locator TEXT NOT NULL,
    heading TEXT NOT NULL, context TEXT NOT NULL, text TEXT NOT NULL, page INTEGER,
    ordinal INTEGER NOT NULL, embed_hash TEXT NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc);
"""


@dataclass
class DocumentRecord:
    id: str
    title: str
    lang: str
    sha256: str
    passages: int
    added_at: str
    source_path: str
    identity: str = ""  # JSON of `rag.identity.ActIdentity` (title, number, version), or ""
    text_hash: str = ""  # hash of the normalised text: the same act in another file format

    def act(self):
        """The act's identity (official title, number, short title, version), or None."""
        from .identity import ActIdentity

        return ActIdentity.from_dict(json.loads(self.identity)) if self.identity else None


@dataclass
class StoredChunk:
    """A chunk as stored, with its row in the vector and BM25 indexes."""

    row: int
    chunk: Chunk
    embed_hash: str


class SentenceVectors:
    """One vector per sentence unit of every passage (`chunking.sentence_units`), grouped by row.

    `rows[i]` is the passage row of vector i; rows are non-decreasing and every passage has at
    least one unit, so a passage's units are the slice `starts[row]:starts[row + 1]`."""

    def __init__(self, vectors: np.ndarray, rows: np.ndarray, passages: int) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.rows = np.asarray(rows, dtype=np.int32)
        if len(self.vectors) != len(self.rows):
            raise ValueError("sentence vectors and rows must align")
        self.starts = np.searchsorted(self.rows, np.arange(passages + 1)).astype(np.int64)
        if passages and (np.any(np.diff(self.starts) <= 0) or np.any(np.diff(self.rows) < 0)):
            raise ValueError("every passage needs at least one sentence vector, in row order")

    def __len__(self) -> int:
        return len(self.rows)

    def of_row(self, row: int) -> np.ndarray:
        return self.vectors[self.starts[row] : self.starts[row + 1]]

    def best_similarity(self, query_vector: np.ndarray) -> np.ndarray:
        """Per passage, the cosine similarity of its best-matching sentence (vectors are normalised)."""
        if not len(self.rows):
            return np.zeros(len(self.starts) - 1, dtype=np.float32)
        return np.maximum.reduceat(self.vectors @ query_vector, self.starts[:-1]).astype(np.float32)

    def save(self, directory: Path) -> None:
        np.save(directory / "sentence_vectors.npy", self.vectors)
        np.save(directory / "sentence_rows.npy", self.rows)

    @classmethod
    def load(cls, directory: Path, passages: int) -> SentenceVectors | None:
        """The generation's sentence vectors; None for a generation written before they existed."""
        vectors, rows = directory / "sentence_vectors.npy", directory / "sentence_rows.npy"
        if not vectors.exists() or not rows.exists():
            return None
        return cls(np.load(vectors), np.load(rows), passages)


def _chunk_of(r: tuple) -> Chunk:
    """A chunk from a `chunks` row read as (row, id, doc, locator, heading, context, text, page,
    ordinal, …)."""
    return Chunk(
        id=r[1],
        doc=r[2],
        locator=r[3],
        heading=r[4],
        context=r[5],
        text=r[6],
        page=r[7],
        ordinal=r[8],
    )


def embed_text(chunk: Chunk, doc_title: str) -> str:
    """What the embedder and BM25 see: document title, unit heading, locator, context, text."""
    parts = [f"{doc_title} — {chunk.locator}", chunk.heading, chunk.context, chunk.text]
    return "\n".join(p for p in parts if p)


class IndexGeneration:
    """A read-only, loaded index generation."""

    def __init__(self, path: Path) -> None:
        import faiss

        self.path = path
        try:
            self.manifest = json.loads((path / "manifest.json").read_text("utf-8"))
            self.vectors = faiss.read_index(str(path / "vectors.faiss"))
            self.lexical = LexicalIndex.load(path / "bm25")
        except (OSError, ValueError, RuntimeError) as exc:
            raise SovragError(
                f"Index generation {path} is damaged ({exc}); run `sovrag index build`."
            ) from exc
        self._db = sqlite3.connect(
            f"file:{path / 'chunks.sqlite'}?mode=ro", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()
        self._documents: dict[str, DocumentRecord] | None = None
        self._sentences: SentenceVectors | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def size(self) -> int:
        return int(self.vectors.ntotal)

    def documents(self) -> dict[str, DocumentRecord]:
        if self._documents is None:
            with self._lock:
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(documents)")}
                extra = (
                    ", identity, text_hash" if "identity" in columns else ""
                )  # older generations
                rows = self._db.execute(
                    "SELECT id, title, lang, sha256, passages, added_at, source_path"
                    f"{extra} FROM documents ORDER BY id"
                ).fetchall()
            self._documents = {r[0]: DocumentRecord(*r) for r in rows}
        return self._documents

    def chunks(self, rows: list[int]) -> list[Chunk]:
        """Chunks for the given rows, in the same order."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        with self._lock:
            found = self._db.execute(
                f"SELECT row, id, doc, locator, heading, context, text, page, ordinal FROM chunks WHERE row IN ({marks})",
                [int(r) for r in rows],
            ).fetchall()
        by_row = {r[0]: _chunk_of(r) for r in found}
        return [by_row[int(r)] for r in rows if int(r) in by_row]

    def stored_chunks(self, doc_ids: set[str] | None = None) -> list[StoredChunk]:
        query = "SELECT row, id, doc, locator, heading, context, text, page, ordinal, embed_hash FROM chunks ORDER BY row"
        with self._lock:
            rows = self._db.execute(query).fetchall()
        return [
            StoredChunk(r[0], _chunk_of(r), r[9])
            for r in rows
            if doc_ids is None or r[2] in doc_ids
        ]

    @property
    def sentences(self) -> SentenceVectors | None:
        """Sentence vectors (None for generations written before they existed, or written with
        another sentence splitting: their units would not match `chunking.sentence_units`)."""
        if (
            self._sentences is None
            and self.manifest.get("sentence_units") == SENTENCE_UNITS_VERSION
        ):
            with self._lock:
                if self._sentences is None:
                    try:
                        self._sentences = SentenceVectors.load(self.path, self.size)
                    except (OSError, ValueError) as exc:
                        raise SovragError(
                            f"Index generation {self.path} is damaged ({exc}); "
                            "run `sovrag index build`."
                        ) from exc
        return self._sentences

    def all_vectors(self) -> np.ndarray:
        return (
            self.vectors.reconstruct_n(0, self.size)
            if self.size
            else np.zeros((0, self.manifest["dimension"]), np.float32)
        )

    def close(self) -> None:
        self._db.close()


def _write_metadata(
    path: Path, documents: list[DocumentRecord], chunks: list[Chunk], embed_hashes: list[str]
) -> None:
    """The generation's SQLite file: its documents, and its passages by row."""
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA)
    db.executemany(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [tuple(asdict(d).values()) for d in documents],
    )
    db.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (row, c.id, c.doc, c.locator, c.heading, c.context, c.text, c.page, c.ordinal, h)
            for row, (c, h) in enumerate(zip(chunks, embed_hashes))
        ],
    )
    db.commit()
    db.close()


class IndexStore:
    """The index directory: which generation is current, and writing new ones safely."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT_FILE).read_text("utf-8").strip()
        except OSError:
            return None
        return name if name and (self.root / name / "manifest.json").exists() else None

    def exists(self) -> bool:
        return self.current_name() is not None

    def open(self, embedder_id: str | None = None) -> IndexGeneration:
        name = self.current_name()
        if name is None:
            raise IndexMissingError(
                f"No index found in {self.root}. Build one with `sovrag index build` "
                "(or pass --index DIR to use another location)."
            )
        generation = IndexGeneration(self.root / name)
        if embedder_id is not None:
            check_embedder(generation.manifest, embedder_id)
        return generation

    @contextlib.contextmanager
    def writer_lock(self):
        """One writer at a time (across processes); readers are never blocked."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise SovragError(
                    f"Another process is already writing the index in {self.root}; wait for it to finish."
                ) from exc
            self._remove_stale_temporaries()
            yield

    def _remove_stale_temporaries(self) -> None:
        for entry in self.root.glob(f"{_TMP_PREFIX}*"):
            shutil.rmtree(entry, ignore_errors=True)

    def write_generation(
        self,
        documents: list[DocumentRecord],
        chunks: list[Chunk],
        embed_hashes: list[str],
        vectors: np.ndarray,
        lexical_texts: list[str],
        embedder_id: str,
        dimension: int,
        sentences: SentenceVectors | None = None,
        extra_manifest: dict | None = None,
    ) -> IndexGeneration:
        """Write a complete generation and make it current. Call inside `writer_lock()`."""
        import faiss

        if len(chunks) != len(vectors) or len(chunks) != len(embed_hashes):
            raise ValueError("chunks, vectors and hashes must align")
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"gen-{stamp}-{uuid.uuid4().hex[:8]}"
        tmp = self.root / f"{_TMP_PREFIX}{name}"
        tmp.mkdir(parents=True)
        _write_metadata(tmp / "chunks.sqlite", documents, chunks, embed_hashes)

        index = faiss.IndexFlatIP(dimension)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        LexicalIndex.build(lexical_texts).save(tmp / "bm25")
        if sentences is not None:
            sentences.save(tmp)

        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": name,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "embedder": embedder_id,
            "dimension": dimension,
            "passages": len(chunks),
            "documents": len(documents),
            **(
                {"sentence_units": SENTENCE_UNITS_VERSION, "sentences": len(sentences)}
                if sentences is not None
                else {}
            ),
            **(extra_manifest or {}),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
        return self._make_current(tmp, name)

    def _make_current(self, tmp: Path, name: str) -> IndexGeneration:
        """Move a fully written generation into place and swap the CURRENT pointer atomically:
        a crash before the swap leaves the previous generation current."""
        _fsync_tree(tmp)
        final = self.root / name
        replaced = self.current_name()
        os.rename(tmp, final)
        pointer = self.root / f"{CURRENT_FILE}.tmp"
        pointer.write_text(name + "\n", "utf-8")
        with open(pointer, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer, self.root / CURRENT_FILE)
        _fsync_dir(self.root)
        self._prune(keep={name, replaced})
        return IndexGeneration(final)

    def _prune(self, keep: set[str | None]) -> None:
        """Keep the new generation and the one it replaced (readers may still have it open);
        anything else is older, or was orphaned by a writer killed before the pointer swap."""
        for gen in self.root.glob("gen-*"):
            if gen.is_dir() and gen.name not in keep:
                shutil.rmtree(gen, ignore_errors=True)

    def size_bytes(self) -> int:
        name = self.current_name()
        if not name:
            return 0
        return sum(f.stat().st_size for f in (self.root / name).rglob("*") if f.is_file())


def check_embedder(manifest: dict, embedder_id: str) -> None:
    built_with = manifest.get("embedder")
    if built_with != embedder_id:
        raise IndexMismatchError(
            f"The index was built with embedder '{built_with}' but '{embedder_id}' is configured. "
            "Rebuild it with `sovrag index build`, or set the embedder back."
        )


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
