"""The document library as the UI uses it: store uploads safely, then hand them to `run_ingest`.

Indexing itself (parsing, skipping bad files, incremental update, crash safety) is the library's;
this module only decides where an uploaded file lives and turns the report into per-file results.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

from rag.documents import supported_suffixes
from rag.errors import SovragError
from rag import ingest
from rag.ingest import IGNORED_NAMES, IngestReport, is_uploaded, rebuild_sources, run_ingest
from rag.runtime import Runtime

Progress = Callable[[str, float], None]


def uploads_dir(runtime: Runtime) -> Path:
    """The same folder the HTTP API stores uploads in (`rag.ingest.uploads_dir`)."""
    return ingest.uploads_dir(runtime.settings.index_dir)


def safe_name(raw: str) -> str:
    """The stored name of an upload: its last path component, tamed; ValueError if nothing is left."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").split("/")[-1]).strip()
    name = re.sub(r"[^\w.\- ()]+", "_", name).strip(" .")
    if not name or name.startswith(".") or name in IGNORED_NAMES or len(name) > 200:
        raise ValueError(
            "unusable file name (empty, hidden, reserved or too long); rename the file"
        )
    return name


def add_files(
    runtime: Runtime, files: list[tuple[str, Path]], progress: Progress | None = None
) -> tuple[list[tuple[str, str, str]], IngestReport | None]:
    """Copy (original name, temp path) uploads into the upload folder and index them.

    Returns per-file (name, status, detail) with status added/changed/unchanged/skipped/rejected, and
    the ingest report (None when no file was accepted). Raises SovragError when the index cannot be
    written (e.g. another writer holds it); files copied for this call are then removed again.
    """
    folder = uploads_dir(runtime)
    suffixes = set(supported_suffixes())
    results: dict[str, tuple[str, str, str]] = {}
    stored: dict[str, Path] = {}
    created: list[Path] = []
    order: list[str] = []
    for original, temp in files:
        display = Path(original.replace("\\", "/")).name or original
        try:
            name = safe_name(original)
        except ValueError as exc:
            order.append(display)
            results[display] = (display, "rejected", str(exc))
            continue
        order.append(name)
        if Path(name).suffix.lower() not in suffixes:
            results[name] = (
                name,
                "rejected",
                f"unsupported file type; use one of {', '.join(sorted(suffixes))}",
            )
            continue
        if name in stored:
            results[name] = (name, "rejected", "the same file name was given twice")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        existed = target.exists()
        partial = folder / f".partial-{name}"
        shutil.copyfile(temp, partial)
        partial.replace(target)
        stored[name] = target
        if not existed:
            created.append(target)
    if not stored:
        return [results[n] for n in order], None
    try:
        report = run_ingest(
            runtime.store,
            runtime.embedder,
            list(stored.values()),
            max_bytes=int(runtime.settings.max_file_mb * 1e6),
            full_rebuild=not runtime.store.exists(),
            say=lambda message: None,
            show_progress=False,
            progress_hook=progress,
        )
    except SovragError:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    skipped = dict(report.skipped)
    for name, path in stored.items():
        if name in skipped:
            results[name] = (name, "skipped", skipped[name])
            if path in created:
                path.unlink(missing_ok=True)
        elif name in report.added:
            results[name] = (name, "added", _passages(runtime, name))
        elif name in report.changed:
            results[name] = (name, "changed", _passages(runtime, name))
        else:
            results[name] = (name, "unchanged", "")
    return [results[n] for n in order], report


def _passages(runtime: Runtime, doc_id: str) -> str:
    record = runtime.generation().documents().get(doc_id)
    count = record.passages if record else 0
    return f"{count} passage{'s' if count != 1 else ''}"


def remove_document(runtime: Runtime, doc_id: str) -> IngestReport:
    """Drop a document from the index (and its stored file if it was uploaded)."""
    record = runtime.generation().documents().get(doc_id)
    if record is None:
        raise SovragError(f"No document '{doc_id}' in the index; refresh the list.")
    report = run_ingest(
        runtime.store,
        runtime.embedder,
        [],
        max_bytes=int(runtime.settings.max_file_mb * 1e6),
        full_rebuild=False,
        remove_ids=[doc_id],
        say=lambda message: None,
        show_progress=False,
    )
    if is_uploaded(record.source_path, runtime.settings.index_dir):
        Path(record.source_path).unlink(missing_ok=True)
    return report


def rebuild(runtime: Runtime, progress: Progress | None = None) -> IngestReport:
    """Rebuild the whole index from the corpus folder plus the uploads."""
    paths = rebuild_sources(runtime.settings.corpus_dir, runtime.settings.index_dir)
    if not paths:
        raise SovragError(
            f"Nothing to rebuild from: no corpus folder at {runtime.settings.corpus_dir} "
            "and no uploads."
        )
    return run_ingest(
        runtime.store,
        runtime.embedder,
        paths,
        max_bytes=int(runtime.settings.max_file_mb * 1e6),
        full_rebuild=True,
        say=lambda message: None,
        show_progress=False,
        progress_hook=progress,
    )
