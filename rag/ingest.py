"""Documents → chunks → vectors → a new index generation, incrementally by content hash.

`build` re-embeds everything from one folder; `update` embeds only new or changed documents
(and, within them, only passages whose text changed), drops deleted ones, and keeps the rest;
`remove` drops documents. Every run writes a new generation atomically (see `store`).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import Chunk, chunk_document, sentence_units
from .documents import LoadedDocument, SkipFile, load_document, supported_suffixes
from .embedder import Embedder
from .errors import SovragError
from .store import (
    DocumentRecord,
    IndexGeneration,
    IndexStore,
    SentenceVectors,
    StoredChunk,
    check_embedder,
    embed_text,
)

IGNORED_NAMES = {"SOURCES.md", "README.md", ".DS_Store", "Thumbs.db"}
"""Corpus bookkeeping files, not documents (nor are Office lock files `~$…`)."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    """(document id, why it was not indexed: "same text as gdpr-2016-679.md"); also `unchanged`."""
    passages: int = 0
    documents: int = 0
    embedded: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0
    generation: str = ""

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
            f"{self.documents} documents, {self.passages} passages ({self.embedded} embedded, "
            f"{self.sentences_embedded} sentences embedded) "
            f"in {self.seconds:.1f} s; generation {self.generation or '-'}"
        )


Reporter = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


UPLOAD_DIR_NAME = "uploads"
"""Documents uploaded through the HTTP API are stored in this folder of the index directory."""


def uploads_dir(index_dir: Path) -> Path:
    return Path(index_dir) / UPLOAD_DIR_NAME


def is_uploaded(source_path: str | Path, index_dir: Path) -> bool:
    """Whether a document's source file lies in the upload folder (else it came from a corpus)."""
    try:
        Path(source_path).resolve().relative_to(uploads_dir(index_dir).resolve())
        return True
    except (ValueError, OSError):
        return False


def rebuild_sources(corpus_dir: Path, index_dir: Path) -> list[Path]:
    """What a full rebuild reads: the corpus folder and the uploaded documents, where they exist.
    Every full rebuild (CLI, API, first start) reads both, so none silently drops the uploads."""
    return [p for p in (Path(corpus_dir), uploads_dir(index_dir)) if p.is_dir()]


def collect_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """(file, document id) pairs; the id is the path relative to the folder given, or the file name."""
    out: list[tuple[Path, str]] = []
    for root in paths:
        root = Path(root)
        if root.is_file():
            out.append((root, root.name))
        elif root.is_dir():
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root)
                if (
                    path.is_file()
                    and not any(part.startswith(".") for part in rel.parts)
                    and path.name not in IGNORED_NAMES
                    and not path.name.startswith("~$")
                ):
                    out.append((path, rel.as_posix()))
        else:
            raise SovragError(f"No such file or folder: {root}")
    return out


def _sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    except OSError:
        return None


def _embed_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _load_all(
    files: list[tuple[Path, str]],
    max_bytes: int,
    report: IngestReport,
    say: Reporter,
    show_progress: bool,
) -> list[tuple[LoadedDocument, Path]]:
    from tqdm import tqdm

    loaded: list[tuple[LoadedDocument, Path]] = []
    for path, doc_id in tqdm(
        files, desc="Reading", unit="file", disable=not show_progress or not files, file=sys.stderr
    ):
        if path.suffix.lower() not in supported_suffixes():
            report.skipped.append((doc_id, f"unsupported file type '{path.suffix or path.name}'"))
            say(f"skipped {doc_id}: unsupported file type '{path.suffix or path.name}'")
            continue
        try:
            loaded.append((load_document(path, doc_id, max_bytes), path))
        except SkipFile as exc:
            report.skipped.append((doc_id, str(exc)))
            say(f"skipped {doc_id}: {exc}")
    return loaded


@dataclass
class _Run:
    """One ingestion run: what it writes into, the index it starts from, and its report."""

    store: IndexStore
    embedder: Embedder
    full_rebuild: bool
    report: IngestReport
    hook: Callable[[str, float], None]
    say: Reporter
    show_progress: bool
    previous: IndexGeneration | None = None
    old_docs: dict[str, DocumentRecord] = field(default_factory=dict)


def run_ingest(
    store: IndexStore,
    embedder: Embedder,
    paths: list[Path],
    *,
    max_bytes: int,
    full_rebuild: bool,
    remove_ids: list[str] | None = None,
    say: Reporter = _stderr,
    show_progress: bool = True,
    progress_hook: Callable[[str, float], None] | None = None,
) -> IngestReport:
    """The one ingestion routine behind build, update, remove and uploads."""
    started = time.perf_counter()
    run = _Run(
        store,
        embedder,
        full_rebuild,
        IngestReport(),
        progress_hook or (lambda stage, fraction: None),
        say,
        show_progress,
    )
    with store.writer_lock():
        if store.exists():
            run.previous = store.open()
            if not full_rebuild:
                check_embedder(run.previous.manifest, embedder.model_id)
        run.old_docs = run.previous.documents() if run.previous and not full_rebuild else {}
        loaded, keep_ids, new_ids = _select(run, paths, remove_ids, max_bytes)
        if run.previous is not None and not full_rebuild and not loaded and not run.report.removed:
            # Nothing new, changed or removed: keep the current generation, load no model.
            _keep_current(run, keep_ids)
            run.report.seconds = time.perf_counter() - started
            run.hook("done", 1.0)
            return run.report
        _write(run, loaded, keep_ids, new_ids)
    run.report.seconds = time.perf_counter() - started
    run.hook("done", 1.0)
    return run.report


def _select(
    run: _Run,
    paths: list[Path],
    remove_ids: list[str] | None,
    max_bytes: int,
) -> tuple[list[tuple[LoadedDocument, Path]], set[str], set[str]]:
    """Read what is new or changed; decide what is removed. Returns the loaded documents, the
    ids kept from the previous generation, and the ids of the loaded documents."""
    report, old_docs = run.report, run.old_docs
    files = collect_files(paths) if paths else []
    run.hook("reading", 0.0)
    # Unchanged documents are recognised by file hash before any parsing.
    to_load: list[tuple[Path, str]] = []
    for path, doc_id in files:
        old = old_docs.get(doc_id)
        if (
            old is not None
            and path.suffix.lower() in supported_suffixes()
            and _sha256(path) == old.sha256
        ):
            report.unchanged.append(doc_id)
        else:
            to_load.append((path, doc_id))
    loaded = _load_all(to_load, max_bytes, report, run.say, run.show_progress)
    loaded = _drop_duplicates(loaded, old_docs, set(remove_ids or []), report, run.say)
    run.hook("chunking", 0.1)

    seen_ids = {doc_id for _, doc_id in files}
    scanned_roots = [Path(p).resolve() for p in paths if Path(p).is_dir()]
    removed = set(remove_ids or [])
    # A file whose new content repeats another document leaves the index (it is reported).
    removed |= {doc_id for doc_id, _ in report.duplicates if doc_id in old_docs}
    for doc_id in remove_ids or []:
        if doc_id not in old_docs:
            raise SovragError(f"No document '{doc_id}' in the index (see `sovrag index status`).")
    for doc_id, record in old_docs.items():
        source = Path(record.source_path)
        if (
            doc_id not in seen_ids
            and any(_is_under(source, r) for r in scanned_roots)
            and not source.exists()
        ):
            removed.add(doc_id)
    new_ids = {doc.path for doc, _ in loaded}
    keep_ids = {d for d in old_docs if d not in removed and d not in new_ids}
    # A file that became unreadable keeps its previous (last good) version in the index.
    report.removed = sorted(removed - new_ids)
    return loaded, keep_ids, new_ids


def _keep_current(run: _Run, keep_ids: set[str]) -> None:
    report, previous = run.report, run.previous
    report.unchanged = [d for d in report.unchanged if d in keep_ids]
    report.unchanged += [d for d, _ in report.duplicates]
    report.generation, report.passages = previous.name, previous.size
    report.documents = len(run.old_docs)
    previous.close()


def _write(
    run: _Run, loaded: list[tuple[LoadedDocument, Path]], keep_ids: set[str], new_ids: set[str]
) -> None:
    """Chunk and embed what changed, reuse what did not, and write the new generation."""
    report, previous, embedder = run.report, run.previous, run.embedder
    full_rebuild = run.full_rebuild
    kept = previous.stored_chunks(keep_ids) if previous and keep_ids else []
    reusable: dict[str, int] = {}
    if previous is not None and not full_rebuild:
        for sc in previous.stored_chunks({d for d in run.old_docs if d in new_ids}):
            reusable[sc.embed_hash] = sc.row
    old_vectors = previous.all_vectors() if previous is not None and not full_rebuild else None
    documents, chunks, hashes, titles = _assemble(run, loaded, keep_ids, kept)

    if not chunks:
        raise SovragError(
            "Nothing to index: no readable documents "
            f"({len(report.skipped)} skipped). Supported types: {', '.join(supported_suffixes())}."
        )
    texts = [embed_text(c, titles[c.doc]) for c in chunks]
    # An update keeps the index's dimension (the embedder id was checked above); reading it
    # from the manifest avoids loading the model when only removals are written.
    dimension = (
        int(previous.manifest["dimension"])
        if previous is not None and not full_rebuild
        else embedder.dimension
    )
    vectors, sentences = _vectors(
        run, chunks, texts, hashes, kept, reusable, old_vectors, dimension
    )
    run.hook("writing", 0.95)
    if (
        not report.added
        and not report.changed
        and not report.removed
        and previous is not None
        and not full_rebuild
    ):
        report.generation = previous.name
    else:
        generation = run.store.write_generation(
            documents, chunks, hashes, vectors, texts, embedder.model_id, dimension, sentences
        )
        report.generation = generation.name
        generation.close()
    report.passages = len(chunks)
    report.documents = len(documents)
    if previous is not None:
        previous.close()


def _assemble(
    run: _Run,
    loaded: list[tuple[LoadedDocument, Path]],
    keep_ids: set[str],
    kept: list[StoredChunk],
) -> tuple[list[DocumentRecord], list[Chunk], list[str], dict[str, str]]:
    """The new generation's documents and passages (kept ones first) with their embedding
    hashes, and the document titles."""
    report, old_docs = run.report, run.old_docs
    documents: list[DocumentRecord] = [old_docs[d] for d in sorted(keep_ids)]
    chunks: list[Chunk] = [sc.chunk for sc in kept]
    hashes: list[str] = [sc.embed_hash for sc in kept]
    titles = {d.id: d.title for d in documents}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for doc, path in loaded:
        doc_chunks = chunk_document(doc)
        if not doc_chunks:
            report.skipped.append((doc.path, "no passages after chunking"))
            continue
        (report.changed if doc.path in old_docs else report.added).append(doc.path)
        identity = json.dumps(doc.identity.to_dict(), ensure_ascii=False) if doc.identity else ""
        documents.append(
            DocumentRecord(
                doc.path,
                doc.title,
                doc.lang,
                doc.sha256,
                len(doc_chunks),
                old_docs[doc.path].added_at if doc.path in old_docs else now,
                str(path.resolve()),
                identity,
                text_hash(doc),
            )
        )
        titles[doc.path] = doc.title
        for chunk in doc_chunks:
            chunks.append(chunk)
            hashes.append(_embed_hash(embed_text(chunk, doc.title)))
    report.unchanged = [d for d in report.unchanged if d in keep_ids]
    report.unchanged += [d for d, _ in report.duplicates]
    return documents, chunks, hashes, titles


def _vectors(
    run: _Run,
    chunks: list[Chunk],
    texts: list[str],
    hashes: list[str],
    kept: list[StoredChunk],
    reusable: dict[str, int],
    old_vectors: np.ndarray | None,
    dimension: int,
) -> tuple[np.ndarray, SentenceVectors | None]:
    """Passage and sentence vectors: copied for unchanged passages, embedded for the rest."""
    report, previous, embedder, hook = run.report, run.previous, run.embedder, run.hook
    vectors = np.zeros((len(chunks), dimension), dtype=np.float32)
    kept_rows = np.array([sc.row for sc in kept], dtype=np.int64)
    if len(kept_rows) and old_vectors is not None:
        vectors[: len(kept)] = old_vectors[kept_rows]
    todo: list[int] = []
    for i in range(len(kept), len(chunks)):
        row = reusable.get(hashes[i])
        if row is not None and old_vectors is not None:
            vectors[i] = old_vectors[row]
        else:
            todo.append(i)
    if todo:
        vectors[todo] = _encode(
            embedder,
            [texts[i] for i in todo],
            "passage",
            run.show_progress,
            lambda f: hook("embedding", 0.2 + 0.35 * f),
        )
    report.embedded = len(todo)
    # Sentence vectors of unchanged passages are copied like their passage vectors.
    sources = [sc.row for sc in kept] + [reusable.get(h) for h in hashes[len(kept) :]]
    old_sentences = previous.sentences if previous is not None and not run.full_rebuild else None
    sentences, report.sentences_embedded = _sentence_vectors(
        chunks,
        sources,
        old_sentences,
        embedder,
        dimension,
        run.show_progress,
        lambda f: hook("embedding", 0.55 + 0.4 * f),
    )
    return vectors, sentences


def text_hash(doc: LoadedDocument) -> str:
    """Hash of the document's text with spacing and case evened out: the same act saved as .html
    and .xhtml, or re-encoded, has the same text hash but not the same file hash."""
    digest = hashlib.sha256()
    for block in doc.blocks:
        digest.update(" ".join(block.text.casefold().split()).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


SAME_ACT_SIZE = (0.8, 1.25)
"""Bounds on the ratio of passage counts within which two renditions of one act (same number,
language and version) count as the same document: an excerpt or a compilation falls outside."""


def _same_document(
    doc: LoadedDocument, digest: str, passages: int, other: DocumentRecord
) -> str | None:
    """Why `doc` (its text hash `digest`) repeats the indexed `other`, or None."""
    if doc.sha256 == other.sha256:
        return f"same file as {other.id}"
    if other.text_hash and digest == other.text_hash:
        return f"same text as {other.id}"
    theirs = other.act()
    mine = doc.identity
    if mine is None or theirs is None or doc.lang != other.lang:
        return None
    if (mine.number, mine.consolidated) != (theirs.number, theirs.consolidated):
        return None  # another act, or another version of this one: indexed, its version titled
    low, high = SAME_ACT_SIZE
    if other.passages and low <= passages / other.passages <= high:
        version = mine.version or "as published in the Official Journal"
        return f"same act as {other.id} ({mine.designation}, {version}, {doc.lang})"
    return None


def _drop_duplicates(
    loaded: list[tuple[LoadedDocument, Path]],
    old_docs: dict[str, DocumentRecord],
    removing: set[str],
    report: IngestReport,
    say: Reporter,
) -> list[tuple[LoadedDocument, Path]]:
    """Leave out documents that repeat one already indexed or read earlier in this run: the same
    act indexed twice makes every hit come in pairs. The first one read is kept. Indexed documents
    on their way out (removed, file deleted, or re-read in this run) count for nothing: replacing
    gdpr.md by gdpr.html in one update keeps the act."""
    reread = {doc.path for doc, _ in loaded}
    known = {
        d: r
        for d, r in old_docs.items()
        if d not in reread and d not in removing and Path(r.source_path).exists()
    }
    out: list[tuple[LoadedDocument, Path]] = []
    for doc, path in loaded:
        passages = len(chunk_document(doc)) if doc.identity is not None else 0
        digest = text_hash(doc)
        reason = next(
            (r for other in known.values() if (r := _same_document(doc, digest, passages, other))),
            None,
        )
        if reason is not None:
            report.duplicates.append((doc.path, reason))
            say(f"unchanged: {doc.path} — {reason}; not indexed again")
            continue
        identity = json.dumps(doc.identity.to_dict()) if doc.identity else ""
        known[doc.path] = DocumentRecord(
            doc.path, doc.title, doc.lang, doc.sha256, passages, "", "", identity, digest
        )
        out.append((doc, path))
    return out


def _encode(
    embedder: Embedder,
    texts: list[str],
    unit: str,
    show_progress: bool,
    fraction: Callable[[float], None],
) -> np.ndarray:
    """Embed with a progress bar (`unit` names what is counted) and a 0→1 progress callback."""
    from tqdm import tqdm

    fraction(0.0)
    with tqdm(
        total=len(texts), desc="Embedding", unit=unit, disable=not show_progress, file=sys.stderr
    ) as bar:
        done = [0]

        def advance(n: int) -> None:
            bar.update(n)
            done[0] += n
            fraction(done[0] / len(texts))

        return embedder.encode(texts, progress=advance)


def _sentence_vectors(
    chunks: list[Chunk],
    sources: list[int | None],
    old: SentenceVectors | None,
    embedder: Embedder,
    dimension: int,
    show_progress: bool,
    fraction: Callable[[float], None],
) -> tuple[SentenceVectors, int]:
    """Vectors of every passage's sentence units; a passage whose vectors come from the previous
    generation (`sources[i]` is its old row) takes its sentence vectors from there too."""
    units = [sentence_units(c) for c in chunks]
    counts = np.array([len(u) for u in units], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)])
    vectors = np.zeros((int(starts[-1]), dimension), dtype=np.float32)
    todo: list[int] = []
    for i, source in enumerate(sources):
        previous = old.of_row(source) if old is not None and source is not None else None
        if previous is not None and len(previous) == counts[i]:
            vectors[starts[i] : starts[i + 1]] = previous
        else:
            todo.extend(range(starts[i], starts[i + 1]))
    if todo:
        flat = [u for passage in units for u in passage]
        vectors[todo] = _encode(
            embedder, [flat[j] for j in todo], "sentence", show_progress, fraction
        )
    return SentenceVectors(vectors, np.repeat(np.arange(len(chunks)), counts), len(chunks)), len(
        todo
    )


def _is_under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False
