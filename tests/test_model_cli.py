"""`sovrag models list|verify|use|add` through the real CLI entry point, on a private models dir."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from rag.cli import main
from rag.config import PROJECT_ROOT, load_settings


def write_tiny_gguf(path: Path, *, arch: str = "llama", chat_template: bool = True) -> Path:
    """A small but well-formed GGUF file: metadata a registry cares about plus one tensor."""
    import gguf

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_name("Tiny Test Model")
    writer.add_size_label("96")
    writer.add_license("mit")
    writer.add_organization("Test Lab")
    writer.add_context_length(2048)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    if chat_template:
        writer.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    writer.add_tensor("token_embd.weight", np.zeros((12, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """The shipped registry in a private folder, so local.toml and hash caches stay in tmp."""
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "models" / "registry.toml", folder / "registry.toml")
    monkeypatch.setenv("SOVRAG_MODELS_DIR", str(folder))
    monkeypatch.setenv("SOVRAG_CONFIG", str(tmp_path / "sovrag.toml"))
    return folder


def _json(capsys, argv: list[str]):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_list_shows_bundled_and_european_models(models_dir, capsys):
    rows = {r["id"]: r for r in _json(capsys, ["models", "list", "--json"])}
    smol = rows["smollm2-135m"]
    assert smol["installed"] and smol["licence"] == "Apache-2.0" and smol["size"] == 98362432
    assert rows["qwen2.5-coder-1.5b"]["active"]  # the default generator
    assert rows["minilm-l6-sovrag-1"]["active"]
    assert not rows["all-minilm-l6-v2"]["active"]
    for eu in (
        "mistral-7b-instruct-v0.3",
        "eurollm-9b-instruct",
        "salamandra-7b-instruct",
        "apertus-8b-instruct",
        "teuken-7b-instruct-commercial",
    ):
        assert not rows[eu]["installed"] and "models add" in rows[eu]["how_to_install"]
    assert main(["models", "list"]) == 0
    table = capsys.readouterr().out
    assert "smollm2-135m" in table and "Mistral AI (FR)" in table


def test_add_reads_metadata_hashes_and_registers(models_dir, tmp_path, capsys):
    gguf_path = write_tiny_gguf(tmp_path / "Tiny-Model.Q8_0.gguf")
    data = _json(capsys, ["models", "add", str(gguf_path), "--json"])
    assert data["id"] == "tiny-model.q8-0"
    assert data["architecture"] == "llama" and data["context_length"] == 2048
    assert data["quantisation"] == "Q8_0" and data["chat_template"] is True
    assert data["param_count"] == 96 and data["params"] == "96"
    assert data["licence"] == "mit" and data["origin"] == "Test Lab"
    import hashlib

    assert data["sha256"] == hashlib.sha256(gguf_path.read_bytes()).hexdigest()
    local = tomllib.loads((models_dir / "local.toml").read_text("utf-8"))["model"]
    assert [m["id"] for m in local] == ["tiny-model.q8-0"]

    rows = {r["id"]: r for r in _json(capsys, ["models", "list", "--json"])}
    assert (
        rows["tiny-model.q8-0"]["installed"]
        and rows["tiny-model.q8-0"]["sha256_state"] == "verified"
    )

    # Registering again under the same id replaces the entry instead of duplicating it.
    _json(capsys, ["models", "add", str(gguf_path), "--json"])
    assert len(tomllib.loads((models_dir / "local.toml").read_text("utf-8"))["model"]) == 1


def test_add_under_a_fetch_yourself_id_keeps_its_facts(models_dir, tmp_path, capsys):
    gguf_path = write_tiny_gguf(tmp_path / "m.gguf")
    data = _json(capsys, ["models", "add", str(gguf_path), "--id", "eurollm-9b-instruct", "--json"])
    assert data["origin"].startswith("EuroLLM consortium") and data["country"] == "PT"
    assert data["licence"] == "Apache-2.0"  # the publisher's licence, not the file's tag
    rows = {r["id"]: r for r in _json(capsys, ["models", "list", "--json"])}
    assert rows["eurollm-9b-instruct"]["installed"]


def test_add_refuses_wrong_architecture_bundled_ids_and_non_gguf(models_dir, tmp_path, capsys):
    gguf_path = write_tiny_gguf(tmp_path / "m.gguf")
    assert main(["models", "add", str(gguf_path), "--id", "apertus-8b-instruct"]) == 2
    assert "not that model" in capsys.readouterr().err
    assert main(["models", "add", str(gguf_path), "--id", "smollm2-135m"]) == 2
    assert "bundled" in capsys.readouterr().err
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    assert main(["models", "add", str(junk)]) == 2
    assert "not a GGUF" in capsys.readouterr().err
    assert main(["models", "add", str(tmp_path / "missing.gguf")]) == 2
    assert not (models_dir / "local.toml").exists()


def test_use_writes_the_generator_to_sovrag_toml(models_dir, tmp_path, capsys):
    assert main(["models", "use", "smollm2-135m"]) == 0
    assert "written to" in capsys.readouterr().out
    assert load_settings().generator == "smollm2-135m"
    rows = {r["id"]: r for r in _json(capsys, ["models", "list", "--json"])}
    assert rows["smollm2-135m"]["active"] and not rows["qwen2.5-coder-1.5b"]["active"]

    gguf_path = write_tiny_gguf(tmp_path / "own.gguf")
    assert main(["models", "use", str(gguf_path)]) == 0
    assert load_settings().generator == str(gguf_path.resolve())

    assert main(["models", "use", "no-such-model"]) == 2
    assert "Unknown generator" in capsys.readouterr().err
    assert main(["models", "use", "all-minilm-l6-v2"]) == 2
    assert main(["models", "use", "teuken-7b-instruct-commercial"]) == 2
    assert "models add" in capsys.readouterr().err
    assert load_settings().generator == str(gguf_path.resolve())  # failures leave the choice alone


def test_verify_detects_a_changed_file(models_dir, tmp_path, capsys):
    gguf_path = write_tiny_gguf(tmp_path / "m.gguf")
    _json(capsys, ["models", "add", str(gguf_path), "--id", "mine", "--json"])
    results = _json(capsys, ["models", "verify", "mine", "smollm2-135m", "--json"])
    assert [r["ok"] for r in results] == [True, True]
    with open(gguf_path, "ab") as fh:
        fh.write(b"\0")
    assert main(["models", "verify", "mine"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
    assert main(["models", "verify", "no-such-id"]) == 2
