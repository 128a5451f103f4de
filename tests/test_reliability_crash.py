"""Crash safety of the served product: SIGKILL `sovrag serve` while an upload is being indexed and
while a full rebuild (POST /v1/index/rebuild) runs. On restart the last complete generation is
current and answers, the killed work left nothing current, and the next write cleans up.

The kill moment is observed, not timed: the index writer lock held (upload) or the rebuild job
reporting its embedding stage; the document being added is large enough (~700 passages) that the
kill lands long before its generation could be written.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from test_api_fixtures import tiny_corpus
from test_reliability_load import served

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
BIG = ROOT / "corpus" / "gdpr-2016-679.md"
QUERY = {
    "query": "interoperability assessment",
    "k": 3,
    "filters": {"docs": ["interoperable-europe-act.md"]},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from rag.config import load_settings
    from rag.ingest import run_ingest
    from rag.runtime import Runtime

    base = tmp_path_factory.mktemp("served-crash")
    corpus = tiny_corpus(base / "corpus")
    runtime = Runtime(load_settings(index_dir=base / "index", corpus_dir=corpus, threads=2))
    run_ingest(
        runtime.store,
        runtime.embedder,
        [corpus],
        max_bytes=10**8,
        full_rebuild=True,
        show_progress=False,
        say=lambda m: None,
    )
    return base


def writer_active(index: Path) -> bool:
    """True while some process holds the index writer lock."""
    try:
        with open(index / ".lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
    except FileNotFoundError:
        pass
    return False


def kill(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def wait_for(predicate, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"never saw: {what}"
        time.sleep(0.05)


def check_recovered(index: Path, corpus: Path, tmp: Path, before: str) -> None:
    """Restart: the previous generation is current and answers; a new write leaves no debris."""
    with served(index, corpus, tmp, wait_for_model=False) as (base, _):
        health = httpx.get(base + "/health", timeout=30).json()
        assert health["index"]["generation"] == before
        hits = httpx.post(base + "/v1/search", json=QUERY, timeout=60).json()["hits"]
        assert hits and hits[0]["doc"] == "interoperable-europe-act.md"
        docs = {d["id"] for d in httpx.get(base + "/v1/documents", timeout=30).json()["documents"]}
        assert docs == {"interoperable-europe-act.md"}
        small = httpx.post(
            base + "/v1/documents",
            timeout=300,
            files=[
                (
                    "files",
                    (
                        "note.md",
                        b"# Note\n\n## Article 1\n\nPublic bodies keep records of data flows.\n",
                        "text/markdown",
                    ),
                )
            ],
        )
        assert small.status_code == 200, small.text
        after = small.json()["generation"]
    leftovers = sorted(p.name for p in index.iterdir() if p.name.startswith((".tmp-", "gen-")))
    assert leftovers == sorted({before, after}), leftovers


def test_kill_during_upload_triggered_update(built, tmp_path):
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(built / "index", index)
    shutil.copytree(built / "corpus", corpus)
    before = (index / "CURRENT").read_text().strip()
    with served(index, corpus, tmp_path, wait_for_model=False) as (base, proc):

        def upload() -> None:
            try:
                httpx.post(
                    base + "/v1/documents",
                    timeout=600,
                    files=[("files", ("gdpr.md", BIG.read_bytes(), "text/markdown"))],
                )
            except httpx.HTTPError:
                pass  # the server is killed under it

        sender = threading.Thread(target=upload, daemon=True)
        sender.start()
        wait_for(lambda: writer_active(index), "the upload's index writer")
        time.sleep(1.0)  # well inside reading/embedding ~700 passages
        kill(proc)
        sender.join(timeout=60)
    assert (index / "CURRENT").read_text().strip() == before
    check_recovered(index, corpus, tmp_path, before)


def test_kill_during_full_rebuild(built, tmp_path):
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(built / "index", index)
    shutil.copytree(built / "corpus", corpus)
    shutil.copy(BIG, corpus / "gdpr.md")
    before = (index / "CURRENT").read_text().strip()
    with served(index, corpus, tmp_path, wait_for_model=False) as (base, proc):
        started = httpx.post(base + "/v1/index/rebuild", timeout=30)
        assert started.status_code == 202, started.text

        def embedding() -> bool:
            job = httpx.get(base + "/v1/index/status", timeout=30).json()["job"]
            assert job["state"] == "running", job
            return job["stage"] == "embedding"

        wait_for(embedding, "the rebuild's embedding stage")
        kill(proc)
    assert (index / "CURRENT").read_text().strip() == before
    (corpus / "gdpr.md").unlink()
    check_recovered(index, corpus, tmp_path, before)
