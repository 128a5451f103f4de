"""Shared fixtures: the project's corpus, and small real-model runtimes for integration tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FAST_GENERATOR = "smollm2-135m"


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path, monkeypatch):
    """Tests never read the developer's sovrag.toml or SOVRAG_* environment."""
    for key in list(os.environ):
        if key.startswith("SOVRAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SOVRAG_CONFIG", str(tmp_path / "no-such-sovrag.toml"))


def corpus_slice(dest: Path, names: list[str]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CORPUS / name, dest / name)
    return dest


@pytest.fixture(scope="session")
def small_index(tmp_path_factory):
    """A real index (bundled embedder) over three corpus files, built once per test session."""
    from rag.config import load_settings
    from rag.ingest import run_ingest
    from rag.runtime import Runtime

    base = tmp_path_factory.mktemp("small")
    corpus = corpus_slice(
        base / "corpus",
        ["eu-ai-act-2024-1689.md", "gdpr-2016-679.md", "interoperable-europe-act-2024-903.md"],
    )
    settings = load_settings(
        index_dir=base / "index", corpus_dir=corpus, generator=FAST_GENERATOR, threads=2
    )
    runtime = Runtime(settings)
    run_ingest(
        runtime.store,
        runtime.embedder,
        [corpus],
        max_bytes=10**9,
        full_rebuild=True,
        show_progress=False,
    )
    return runtime
