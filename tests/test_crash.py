"""Crash safety: a build killed (SIGKILL) at any stage leaves the previous generation current,
loadable and answering; the next writer cleans up what the dead one left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ingest import _small_corpus

from rag.ingest import run_ingest
from rag.store import IndexStore

pytestmark = pytest.mark.slow
TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small real index (bundled embedder) and its corpus, to copy for each kill."""
    from rag.config import load_settings
    from rag.runtime import Runtime

    base = tmp_path_factory.mktemp("crash")
    corpus = _small_corpus(base / "corpus")
    rt = Runtime(load_settings(index_dir=base / "index", corpus_dir=corpus, threads=2))
    run_ingest(
        rt.store, rt.embedder, [corpus], max_bytes=10**8, full_rebuild=True, show_progress=False
    )
    return base, rt.embedder


def _kill_build_at(moment: str, index: Path, corpus: Path, tmp_path: Path) -> None:
    marker = tmp_path / f"reached-{moment}"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(TESTS / "fixtures" / "crash_writer.py"),
            str(index),
            str(corpus),
            moment,
            str(marker),
        ],
        cwd=TESTS.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(
                f"build exited before reaching '{moment}': {proc.stdout.read().decode()[-2000:]}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"build never reached '{moment}'")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


@pytest.mark.parametrize("moment", ["embedding", "writing", "swapping"])
def test_killed_build_leaves_previous_generation_answering(built, tmp_path, moment):
    from rag.retrieval import Retriever, SearchFilters

    base, embedder = built
    index, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(base / "index", index)
    shutil.copytree(base / "corpus", corpus)
    store = IndexStore(index)
    before = store.current_name()

    _kill_build_at(moment, index, corpus, tmp_path)

    assert store.current_name() == before
    generation = store.open(embedder.model_id)
    hits = Retriever(generation, embedder).search(
        "maximum fine for prohibited AI practices", k=5, filters=SearchFilters(docs=["ai-act.md"])
    )
    assert [h.chunk.locator for h in hits if "EUR 35 000 000" in h.chunk.text] == ["Article 99(3)"]
    leftovers = {p.name for p in index.iterdir() if p.name not in (before, "CURRENT", ".lock")}
    if moment == "writing":
        assert any(name.startswith(".tmp-gen-") for name in leftovers)
    if moment == "swapping":
        assert any(name.startswith("gen-") for name in leftovers)  # renamed, never made current

    # The next writer removes the dead build's temporary directory or orphaned generation.
    path = corpus / "ai-act.md"
    path.write_text(path.read_text("utf-8").replace("EUR 35 000 000", "EUR 36 000 000"), "utf-8")
    report = run_ingest(
        store,
        embedder,
        [corpus],
        max_bytes=10**8,
        full_rebuild=False,
        show_progress=False,
        say=lambda m: None,
    )
    assert report.changed == ["ai-act.md"] and report.embedded == 1
    remaining = sorted(p.name for p in index.iterdir() if p.name not in ("CURRENT", ".lock"))
    assert remaining == sorted([before, report.generation])
