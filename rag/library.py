"""The document library: store uploads safely, add, remove, rebuild (also in the background),
status.

The CLI, the HTTP API and the UI all go through this one service, so they share one set of upload
rules and one index writer per process. Indexing itself (parsing, skipping bad files, incremental
update, crash safety) is `rag.ingest.run_ingest`'s; this module decides which files it is given.
"""

from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .documents import supported_suffixes
from .errors import SovragError
from .ingest import IGNORED_NAMES, IngestReport, is_uploaded, rebuild_sources, run_ingest
from .ingest import uploads_dir as _uploads_dir

Progress = Callable[[str, float], None]
MAX_NAME_CHARS = 200
_MAGIC = {".pdf": b"%PDF", ".docx": b"PK"}
"""The first bytes a file of this type must start with; a renamed file is refused, not parsed."""


class LibraryBusy(SovragError):
    """Another index change of this process is being written; retry once it has finished."""

    retry_after = 5

    def __init__(self, what: str) -> None:
        super().__init__(f"The index cannot change right now: {what}. Retry when it has finished.")
        self.what = what


class NothingToIndex(SovragError):
    """No corpus folder and no uploads: a rebuild would produce an empty index."""


class DocumentNotFound(SovragError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(f"No document '{doc_id}' in the index.")
        self.doc_id = doc_id


class IndexWriteError(SovragError):
    """Indexing refused or failed (another writer, a model mismatch…); the index is unchanged."""


class UploadRejected(SovragError):
    """One upload broke a rule; `code` names the rule (bad_filename, unsupported_type,
    file_too_large, empty_file, content_mismatch, duplicate_filename)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class FileResult:
    """What happened to one uploaded file."""

    filename: str
    doc: str | None
    status: str  # added, changed, unchanged, skipped, rejected
    reason: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"filename": self.filename}
        if self.doc is not None:
            out["doc"] = self.doc
        out["status"] = self.status
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def safe_name(raw: str | None) -> str:
    """The stored name of an upload: its last path component, tamed; ValueError if none is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name).strip()
    name = re.sub(r"[^\w.\- ()]+", "_", name).strip(" ").rstrip(".")
    if not name or name.startswith(".") or name in IGNORED_NAMES or len(name) > MAX_NAME_CHARS:
        raise ValueError(
            "unusable file name (empty, hidden, reserved or too long); rename the file"
        )
    return name


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class DocumentLibrary:
    """The documents of one runtime's index; one writer at a time (`write_lock`)."""

    def __init__(self, runtime, *, verbose: bool = False) -> None:
        self.runtime = runtime
        self.verbose = verbose
        self.write_lock = threading.Lock()
        self._job_lock = threading.Lock()
        self._job: dict[str, Any] = {
            "state": "idle",
            "kind": None,
            "stage": None,
            "progress": 0.0,
            "started_at": None,
            "finished_at": None,
            "summary": None,
            "error": None,
        }

    @property
    def settings(self):
        return self.runtime.settings

    @property
    def max_bytes(self) -> int:
        return int(self.settings.max_file_mb * 1e6)

    @property
    def uploads(self) -> Path:
        return _uploads_dir(self.settings.index_dir)

    # ---- the one call into ingestion

    def _ingest(
        self,
        paths: list[Path],
        *,
        full_rebuild: bool,
        remove_ids: list[str] | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        quiet: dict[str, Any] = (
            {} if self.verbose else {"say": lambda message: None, "show_progress": False}
        )
        return run_ingest(
            self.runtime.store,
            self.runtime.embedder,
            paths,
            max_bytes=self.max_bytes,
            full_rebuild=full_rebuild,
            remove_ids=remove_ids,
            progress_hook=progress,
            **quiet,
        )

    def _locked(self) -> None:
        if not self.write_lock.acquire(blocking=False):
            raise LibraryBusy(self._busy_with())

    def _busy_with(self) -> str:
        job = self.job()
        if job["state"] == "running":
            return f"an index {job['kind']} is running ({job['stage']}, {job['progress']:.0%})"
        return "another index change is being written"

    # ---- status

    def job(self) -> dict:
        """The state of the background rebuild (idle, running, done, failed) and its progress."""
        with self._job_lock:
            return dict(self._job)

    def _update_job(self, **fields: Any) -> None:
        with self._job_lock:
            self._job.update(fields)

    def status(self) -> dict:
        """What the current index holds; raises IndexMissingError when there is none."""
        rt = self.runtime
        generation = rt.generation()
        docs = generation.documents()
        sentences = generation.sentences
        return {
            "index_dir": str(rt.store.root),
            "generation": generation.name,
            "created_at": generation.manifest.get("created_at"),
            "embedder": generation.manifest.get("embedder"),
            "dimension": generation.manifest.get("dimension"),
            "documents": len(docs),
            "passages": generation.size,
            "sentences": len(sentences) if sentences is not None else None,
            "size_bytes": rt.store.size_bytes(),
            "document_list": [
                vars(d) | {"source_path": None, "act": _act_of(d)} for d in docs.values()
            ],
        }

    def documents(self) -> tuple[str, list[dict]]:
        """(generation, the documents of the current index, each marked uploaded or not)."""
        generation = self.runtime.generation()
        return generation.name, [
            {
                "id": d.id,
                "title": d.title,
                "lang": d.lang,
                "passages": d.passages,
                "sha256": d.sha256,
                "added_at": d.added_at,
                "uploaded": is_uploaded(d.source_path, self.settings.index_dir),
            }
            for d in generation.documents().values()
        ]

    # ---- building and updating from folders

    def sources(self) -> list[Path]:
        """What a full rebuild reads: the corpus folder plus the uploads, where they exist."""
        return rebuild_sources(self.settings.corpus_dir, self.settings.index_dir)

    def rebuild(self, progress: Progress | None = None) -> IngestReport:
        """Rebuild the whole index from the corpus folder plus the uploads; waits for it."""
        paths = self._rebuild_paths()
        self._locked()
        try:
            return self._ingest(paths, full_rebuild=True, progress=progress)
        finally:
            self.write_lock.release()

    def update(self, paths: list[Path]) -> IngestReport:
        """Index new and changed files under `paths`, drop deleted ones (a first build if none)."""
        self._locked()
        try:
            return self._ingest(paths, full_rebuild=not self.runtime.store.exists())
        finally:
            self.write_lock.release()

    def _rebuild_paths(self) -> list[Path]:
        paths = self.sources()
        if not paths:
            raise NothingToIndex(
                f"Nothing to rebuild from: no corpus folder at "
                f"{self.settings.corpus_dir} and no uploads."
            )
        return paths

    def start_rebuild(self) -> dict:
        """Start a full rebuild in a background thread; poll `job()` for its progress."""
        paths = self._rebuild_paths()
        self._locked()
        self._update_job(
            state="running",
            kind="rebuild",
            stage="starting",
            progress=0.0,
            started_at=_now(),
            finished_at=None,
            summary=None,
            error=None,
        )
        threading.Thread(
            target=self._rebuild_job, args=(paths,), name="index-rebuild", daemon=True
        ).start()
        return self.job()

    def _rebuild_job(self, paths: list[Path]) -> None:
        def progress(stage: str, fraction: float) -> None:
            self._update_job(stage=stage, progress=round(fraction, 3))

        try:
            report = self._ingest(paths, full_rebuild=True, progress=progress)
            self._update_job(
                state="done",
                stage="done",
                progress=1.0,
                finished_at=_now(),
                summary=report.summary(),
            )
        except Exception as exc:  # noqa: BLE001 — a background job reports, not raises
            self._update_job(
                state="failed", finished_at=_now(), error=str(exc) or type(exc).__name__
            )
        finally:
            self.write_lock.release()

    # ---- single documents

    def remove(self, doc_ids: list[str]) -> IngestReport:
        """Drop documents from the index, and their stored files where they were uploaded."""
        documents = self.runtime.generation().documents()
        records = [documents.get(doc_id) for doc_id in doc_ids]
        for doc_id, record in zip(doc_ids, records):
            if record is None:
                raise DocumentNotFound(doc_id)
        self._locked()
        try:
            report = self._write([], full_rebuild=False, remove_ids=list(doc_ids))
        finally:
            self.write_lock.release()
        for record in records:
            if is_uploaded(record.source_path, self.settings.index_dir):
                Path(record.source_path).unlink(missing_ok=True)
        return report

    def _write(self, paths: list[Path], **options: Any) -> IngestReport:
        try:
            return self._ingest(paths, **options)
        except SovragError as exc:
            raise IndexWriteError(str(exc)) from exc

    def add(
        self, files: list[tuple[str | None, BinaryIO]], progress: Progress | None = None
    ) -> tuple[list[FileResult], IngestReport | None]:
        """Store (file name, content) uploads and index them incrementally; a result per file.

        The report is None when no file was accepted. Raises LibraryBusy, or IndexWriteError when
        the index cannot be written (the files stored for this call are then removed again).
        """
        self._locked()
        try:
            results, stored, created = self._store_all(files)
            if not stored:
                return results, None
            try:
                report = self._write(
                    list(stored.values()),
                    progress=progress,
                    full_rebuild=not self.runtime.store.exists(),
                )
            except IndexWriteError:
                for path in created:
                    path.unlink(missing_ok=True)
                raise
        finally:
            self.write_lock.release()
        self._settle(results, stored, created, report)
        return results, report

    def _store_all(self, files: list[tuple[str | None, BinaryIO]]):
        results: list[FileResult] = []
        stored: dict[str, Path] = {}
        created: list[Path] = []
        for raw, content in files:
            try:
                name = self._name_for(raw)
                if name in stored:
                    raise UploadRejected(
                        "the same file name appears twice in this request", "duplicate_filename"
                    )
                path, existed = self.store_upload(name, content)
            except UploadRejected as exc:
                results.append(FileResult(raw or "", None, "rejected", str(exc), exc.code))
                continue
            stored[name] = path
            if not existed:
                created.append(path)
            results.append(FileResult(raw or "", name, "skipped"))
        return results, stored, created

    def _settle(
        self,
        results: list[FileResult],
        stored: dict[str, Path],
        created: list[Path],
        report: IngestReport,
    ) -> None:
        """Per-file status from the ingest report; a stored file that was skipped is removed."""
        skipped = dict(report.skipped)
        repeats = dict(report.duplicates)
        for result in results:
            doc = result.doc
            if doc is None:
                continue
            if doc in skipped:
                result.status, result.reason = "skipped", skipped[doc]
                if stored[doc] in created:
                    stored[doc].unlink(missing_ok=True)
            elif doc in report.added:
                result.status = "added"
            elif doc in report.changed:
                result.status = "changed"
            else:
                result.status, result.reason = "unchanged", repeats.get(doc)

    @staticmethod
    def _name_for(raw: str | None) -> str:
        try:
            name = safe_name(raw)
        except ValueError as exc:
            raise UploadRejected(str(exc), "bad_filename") from exc
        return name

    def store_upload(self, name: str, content: BinaryIO) -> tuple[Path, bool]:
        """Write `content` to uploads/<name> via a hidden temp file; (path, existed before).

        `name` must come from `safe_name`. The size limit is enforced while reading, PDF and DOCX
        must start with their magic bytes, and a link planted in the folder is refused.
        """
        suffix = Path(name).suffix.lower()
        if suffix not in supported_suffixes():
            raise UploadRejected(
                f"unsupported file type '{suffix or name}' "
                f"(supported: {', '.join(supported_suffixes())})",
                "unsupported_type",
            )
        folder = self.uploads
        folder.mkdir(parents=True, exist_ok=True)
        target = (folder / name).resolve()
        if target.parent != folder.resolve():
            raise UploadRejected("file name escapes the upload folder", "bad_filename")
        tmp = folder / f".upload-{uuid.uuid4().hex}"
        try:
            self._copy_checked(content, tmp, suffix)
            existed = target.exists()
            os.replace(tmp, target)
            return target, existed
        finally:
            tmp.unlink(missing_ok=True)

    def _copy_checked(self, content: BinaryIO, tmp: Path, suffix: str) -> None:
        size = 0
        head = b""
        with open(tmp, "xb") as out:
            while chunk := content.read(1 << 20):
                size += len(chunk)
                if size > self.max_bytes:
                    raise UploadRejected(
                        f"file is larger than {self.settings.max_file_mb:g} MB", "file_too_large"
                    )
                if len(head) < 8:
                    head += chunk[:8]
                out.write(chunk)
        if size == 0:
            raise UploadRejected("file is empty", "empty_file")
        if suffix in _MAGIC and not head.startswith(_MAGIC[suffix]):
            raise UploadRejected(f"content is not a {suffix} file", "content_mismatch")


def _act_of(record) -> dict | None:
    """The act's identity as read from its text (title, number, version), or None."""
    act = record.act()
    return act.to_dict() if act else None
