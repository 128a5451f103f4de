"""The document library service: one set of upload rules, add/remove/rebuild, one writer.

Indexing runs with a stub embedder (fast); the real pipeline is covered through the API and UI.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from fixtures import acts
from fixtures.stub_embedder import StubEmbedder

from rag.config import load_settings
from rag.library import (
    DocumentLibrary,
    DocumentNotFound,
    LibraryBusy,
    NothingToIndex,
    UploadRejected,
    safe_name,
)
from rag.runtime import Runtime

NOTE = acts.markdown(acts.section("### Article 99 "))


@pytest.fixture
def library(tmp_path, monkeypatch) -> DocumentLibrary:
    stub = StubEmbedder("stub-embedder")
    monkeypatch.setattr(Runtime, "embedder", property(lambda self: stub))
    settings = load_settings(
        index_dir=tmp_path / "index",
        corpus_dir=tmp_path / "corpus",
        embedder="stub-embedder",
        max_file_mb=0.01,
    )
    return DocumentLibrary(Runtime(settings))


def _file(data: bytes | str) -> io.BytesIO:
    return io.BytesIO(data.encode() if isinstance(data, str) else data)


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\Users\\x\\Bericht über KI.docx", "Bericht über KI.docx"),
        ("report.md.", "report.md"),
        ("a<b>.md", "a_b_.md"),
    ],
)
def test_names_are_reduced_to_a_base_name(raw, stored):
    assert safe_name(raw) == stored


@pytest.mark.parametrize(
    "raw", ["", None, "..", "/", "a/..", ".hidden.md", "SOURCES.md", "x" * 300]
)
def test_unusable_names_are_refused(raw):
    with pytest.raises(ValueError):
        safe_name(raw)


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("a.exe", "text", "unsupported_type"),
        ("a.pdf", "not a pdf", "content_mismatch"),
        ("a.docx", "not a zip", "content_mismatch"),
        ("a.md", "", "empty_file"),
        ("a.md", "x" * 20_000, "file_too_large"),  # the limit is 0.01 MB, enforced while reading
    ],
)
def test_upload_rules(library, name, data, code):
    with pytest.raises(UploadRejected) as caught:
        library.store_upload(name, _file(data))
    assert caught.value.code == code
    assert not library.uploads.exists() or [p.name for p in library.uploads.iterdir()] == []


def test_a_link_planted_in_the_upload_folder_is_refused(library, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("original", "utf-8")
    library.uploads.mkdir(parents=True)
    (library.uploads / "doc.md").symlink_to(outside)
    with pytest.raises(UploadRejected, match="escapes"):
        library.store_upload("doc.md", _file("# Replaced"))
    assert outside.read_text("utf-8") == "original"


def test_add_remove_and_per_file_results(library):
    results, report = library.add(
        [("../note.md", _file(NOTE)), ("bad.exe", _file("x")), ("note.md", _file(NOTE))]
    )
    assert [(r.doc, r.status, r.code) for r in results] == [
        ("note.md", "added", None),
        (None, "rejected", "unsupported_type"),
        (None, "rejected", "duplicate_filename"),
    ]
    assert report.added == ["note.md"] and (library.uploads / "note.md").exists()
    again, _ = library.add([("note.md", _file(NOTE)), ("other.md", _file(NOTE + "\nMore."))])
    assert [r.status for r in again] == ["unchanged", "added"]
    generation, documents = library.documents()
    assert generation and {d["id"]: d["uploaded"] for d in documents} == {
        "note.md": True,
        "other.md": True,
    }
    assert library.status()["documents"] == 2
    library.remove(["note.md"])
    assert not (library.uploads / "note.md").exists()
    with pytest.raises(DocumentNotFound):
        library.remove(["note.md"])


def test_nothing_accepted_does_not_touch_the_index(library):
    results, report = library.add([("a.exe", _file("x"))])
    assert report is None and results[0].status == "rejected"
    assert not library.runtime.store.exists()


def test_one_writer_at_a_time(library):
    assert library.write_lock.acquire(blocking=False)
    try:
        with pytest.raises(LibraryBusy, match="another index change is being written"):
            library.add([("note.md", _file(NOTE))])
        with pytest.raises(LibraryBusy):
            library.update([Path("anything")])
    finally:
        library.write_lock.release()
    assert not (library.uploads / "note.md").exists()


def test_background_rebuild_reads_corpus_and_uploads(library):
    with pytest.raises(NothingToIndex):
        library.start_rebuild()
    corpus = library.settings.corpus_dir
    corpus.mkdir()
    (corpus / "act.md").write_text(NOTE, "utf-8")
    library.add([("note.md", _file(NOTE.replace("Article 99", "Article 98")))])
    assert library.start_rebuild()["state"] == "running"
    deadline = time.monotonic() + 60
    while library.job()["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    job = library.job()
    assert job["state"] == "done" and job["progress"] == 1.0, job
    assert {d["id"] for d in library.documents()[1]} == {"act.md", "note.md"}


def test_the_api_reports_a_busy_library_as_409_with_where_to_poll():
    from rag.api.errors import client_error

    status, code, message = client_error(LibraryBusy("an index rebuild is running (embed, 40%)"))
    assert (status, code) == (409, "index_busy")
    assert "an index rebuild is running (embed, 40%)" in message
    assert "GET /v1/index/status" in message
