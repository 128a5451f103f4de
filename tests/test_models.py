"""Model resolution: part order, hash checks, registry lookups (no model is loaded here)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.errors import ModelError
from rag.models import (
    ModelEntry,
    assemble_parts,
    load_registry,
    part_paths,
    resolve_generator,
    verify_file,
)


def _parts(tmp_path: Path, contents: list[bytes]) -> list[Path]:
    paths = []
    for i, data in enumerate(contents, start=1):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(data)
        paths.append(p)
    return paths


def test_assemble_joins_in_given_order_and_verifies(tmp_path):
    data = [b"GGUF", b"-one", b"-two"]
    expected = hashlib.sha256(b"".join(data)).hexdigest()
    dest = assemble_parts(_parts(tmp_path, data), tmp_path / "out" / "m.gguf", expected, 12)
    assert dest.read_bytes() == b"GGUF-one-two"


def test_assemble_hash_mismatch_is_a_clear_error_and_leaves_nothing(tmp_path):
    with pytest.raises(ModelError, match="sha256"):
        assemble_parts(_parts(tmp_path, [b"GGUF", b"x"]), tmp_path / "m.gguf", "0" * 64, None)
    assert not (tmp_path / "m.gguf").exists()
    assert not (tmp_path / "m.gguf.partial").exists()


def test_assemble_size_mismatch(tmp_path):
    with pytest.raises(ModelError, match="bytes"):
        assemble_parts(_parts(tmp_path, [b"GGUF"]), tmp_path / "m.gguf", "", 999)


def test_part_paths_are_numeric_not_alphabetical():
    registry = load_registry(load_settings().models_dir)
    parts = part_paths(registry["qwen2.5-coder-1.5b"])
    assert len(parts) == 22
    numbers = [int(p.parent.parent.name.rsplit("part", 1)[1]) for p in parts]
    assert numbers == list(range(1, 23))


def test_verify_file_detects_tampering(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF1234")
    good = hashlib.sha256(b"GGUF1234").hexdigest()
    verify_file(f, good, tmp_path)
    f.write_bytes(b"GGUF12345")
    with pytest.raises(ModelError, match="expected"):
        verify_file(f, good, tmp_path)


def test_registry_has_bundled_models():
    registry = load_registry(load_settings().models_dir)
    assert registry["qwen2.5-coder-1.5b"].sha256.startswith("cc324af0")
    assert registry["smollm2-135m"].sha256.startswith("b179c952")
    assert registry["all-minilm-l6-v2"].kind == "embedder"


def test_fast_generator_resolves_from_its_package():
    path = resolve_generator("smollm2-135m", load_settings().models_dir)
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.exists()


def test_unknown_generator_and_bad_path(tmp_path):
    models_dir = load_settings().models_dir
    with pytest.raises(ModelError, match="Unknown generator"):
        resolve_generator("no-such-model", models_dir)
    with pytest.raises(ModelError, match="not found"):
        resolve_generator(str(tmp_path / "missing.gguf"), models_dir)
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a GGUF"):
        resolve_generator(str(bogus), models_dir)


def test_entry_from_dict_keeps_descriptive_fields():
    entry = ModelEntry.from_dict(
        {"id": "x", "kind": "generator", "source": "download", "licence": "MIT"}
    )
    assert entry.extra["licence"] == "MIT"
