"""Settings precedence: defaults < sovrag.toml < SOVRAG_* environment < CLI flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.cli import build_parser, settings_from_args
from rag.config import PROJECT_ROOT, TOP_K_MAX, TOP_K_MIN, load_settings


def test_defaults():
    s = load_settings()
    assert s.generator == "qwen2.5-coder-1.5b"
    assert s.embedder == "minilm-l6-sovrag-1"
    assert s.host == "127.0.0.1" and s.port == 7860
    assert s.index_dir == PROJECT_ROOT / "index"


def test_precedence(tmp_path, monkeypatch):
    toml = tmp_path / "sovrag.toml"
    toml.write_text(
        'top_k = 3\nport = 8000\ngenerator = "from-file"\nindex_dir = "/tmp/from-file"\n'
    )
    monkeypatch.setenv("SOVRAG_CONFIG", str(toml))
    assert load_settings().top_k == 3
    monkeypatch.setenv("SOVRAG_PORT", "9000")
    monkeypatch.setenv("SOVRAG_GENERATOR", "smollm2-135m")
    s = load_settings()
    assert (s.top_k, s.port, s.generator) == (3, 9000, "smollm2-135m")
    args = build_parser().parse_args(["search", "q", "--port", "9100", "--index", "/tmp/x"])
    s = settings_from_args(args)
    assert s.port == 9100 and s.index_dir == Path("/tmp/x")
    assert s.generator == "smollm2-135m" and s.top_k == 3


def test_environment_names(monkeypatch):
    monkeypatch.setenv("SOVRAG_INDEX_DIR", "/tmp/i")
    monkeypatch.setenv("SOVRAG_CORPUS_DIR", "/tmp/c")
    monkeypatch.setenv("SOVRAG_EMBEDDER", "/tmp/e")
    monkeypatch.setenv("SOVRAG_HOST", "127.0.0.2")
    s = load_settings()
    assert (s.index_dir, s.corpus_dir, s.embedder, s.host) == (
        Path("/tmp/i"),
        Path("/tmp/c"),
        "/tmp/e",
        "127.0.0.2",
    )


def test_relative_paths_are_anchored_at_the_project():
    assert load_settings(index_dir="idx").index_dir == PROJECT_ROOT / "idx"


def test_invalid_value_is_rejected(monkeypatch):
    monkeypatch.setenv("SOVRAG_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        load_settings()


def test_one_bound_for_passages_per_answer():
    """The settings, `sovrag ask -k`, the API's `k` and the UI slider share one bound."""
    assert load_settings(top_k=TOP_K_MAX).top_k == TOP_K_MAX
    with pytest.raises(ValidationError):
        load_settings(top_k=TOP_K_MAX + 1)
    assert build_parser().parse_args(["ask", "q", "-k", str(TOP_K_MAX)]).k == TOP_K_MAX
    for bad in (TOP_K_MIN - 1, TOP_K_MAX + 1):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["ask", "q", "-k", str(bad)])


def _help(capsys, *command: str) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    return capsys.readouterr().out


def test_help_lists_only_the_settings_a_command_uses(capsys):
    update = _help(capsys, "index", "update")
    assert "--corpus" in update and "--embedder" in update
    assert not {"--host", "--port", "--temperature", "--top-k"} & set(update.split())
    ask = _help(capsys, "ask")
    assert "--temperature" in ask and "--top-k" in ask and "--port" not in ask
    assert "--port" in _help(capsys, "serve")
    # A setting a command does not use is still accepted, as before (and still ignored).
    args = build_parser().parse_args(["index", "update", "--port", "9100"])
    assert settings_from_args(args).port == 9100
