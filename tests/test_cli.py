"""The `sovrag` command as a user runs it: a subprocess, exit codes, JSON output, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args, env_extra=None, check=True):
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def test_missing_index_is_one_clear_line(tmp_path):
    proc = run("search", "anything", "--index", str(tmp_path / "none"), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: No index found")
    assert "Traceback" not in proc.stderr


def test_bad_generator_path_is_a_clear_error(tmp_path, small_index):
    proc = run(
        "ask",
        "question",
        "--index",
        str(small_index.settings.index_dir),
        "--generator",
        str(tmp_path / "nope.gguf"),
        check=False,
    )
    assert proc.returncode == 2 and "Generator model file not found" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_search_json_and_status(small_index):
    index = str(small_index.settings.index_dir)
    hits = json.loads(
        run(
            "search",
            "maximum fine for prohibited AI practices",
            "--json",
            "-k",
            "5",
            "--index",
            index,
        ).stdout
    )
    assert hits and set(hits[0]) == {"doc", "locator", "text", "score"}
    assert any(
        h["doc"] == "eu-ai-act-2024-1689.md" and h["locator"].startswith("Article 99") for h in hits
    )
    status = json.loads(run("index", "status", "--json", "--index", index).stdout)
    assert status["documents"] == 3 and status["passages"] > 100
    assert status["sentences"] >= status["passages"]  # at least one sentence vector per passage
    assert status["embedder"] == "minilm-l6-sovrag-1"


@pytest.mark.slow
def test_ask_json_with_fast_model(small_index):
    proc = run(
        "ask",
        "What is the maximum fine for prohibited AI practices under the AI Act?",
        "--json",
        "--index",
        str(small_index.settings.index_dir),
        "--generator",
        "smollm2-135m",
    )
    data = json.loads(proc.stdout)
    assert data["answer"].strip() and isinstance(data["abstained"], bool)
    assert data["passages"]


def test_index_build_keeps_the_documents_uploaded_through_the_api(tmp_path):
    from tests.test_api_fixtures import tiny_corpus

    corpus = tiny_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    uploads = index / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "ministry-note.md").write_text(
        "# Ministry note\n\n## Article 1 — Scope\n\nThis note covers sovereign cloud procurement.\n",
        "utf-8",
    )
    proc = run("index", "build", "--corpus", str(corpus), "--index", str(index))
    assert "uploaded" in proc.stderr
    status = json.loads(run("index", "status", "--json", "--index", str(index)).stdout)
    assert status["documents"] == 2


def test_log_show_prints_an_entry_and_refuses_an_unknown_one(tmp_path, capsys):
    """`sovrag log` is registered from its own module (rag.log_cli) and reads the provenance log."""
    from rag.cli import main
    from rag.provenance import LOG_FILE, ProvenanceLog

    index = tmp_path / "index"
    entry_id = ProvenanceLog(index / LOG_FILE).append(
        {
            "question": "Who enforces it?",
            "answer": "The authority [1].",
            "generation": "g1",
            "model": {"model": "tiny", "sha256": "ab" * 32},
            "citations": [{"n": 1, "doc": "act.md", "locator": "Article 5"}],
        }
    )
    assert main(["log", "show", entry_id, "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert f"id {entry_id}" in out and "model tiny (abababababab)" in out
    assert "[1] act.md — Article 5" in out
    assert main(["log", "show", entry_id, "--json", "--index", str(index)]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "The authority [1]."
    assert main(["log", "show", "nope", "--index", str(index)]) == 2
    assert "No log entry 'nope'" in capsys.readouterr().err
