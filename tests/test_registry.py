"""The shipped registry: complete where it claims facts, silent where facts are unknown, and true
to the bundled files themselves."""

from __future__ import annotations

import pytest

from rag.config import load_settings
from rag.errors import ModelError
from rag.models import load_registry, materialise, read_gguf_info, resolve_generator

EUROPEAN = {
    "mistral-7b-instruct-v0.3": "FR",
    "eurollm-9b-instruct": "PT",
    "salamandra-7b-instruct": "ES",
    "apertus-8b-instruct": "CH",
    "teuken-7b-instruct-commercial": "DE",
}


@pytest.fixture(scope="module")
def registry():
    return load_registry(load_settings().models_dir)


def test_bundled_generators_carry_verified_hashes_and_provenance(registry):
    assert registry["qwen2.5-coder-0.5b"].sha256 == (
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    )
    for model_id in ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"):
        entry = registry[model_id]
        assert len(entry.sha256) == 64 and entry.size and entry.file
        for key in (
            "licence",
            "origin",
            "country",
            "params",
            "quantisation",
            "context_length",
            "architecture",
        ):
            assert entry.extra.get(key), f"{model_id} lacks {key}"
        assert entry.source in ("pip-parts", "pip-file")


def test_european_entries_are_fetch_yourself_with_facts_not_guesses(registry):
    for model_id, country in EUROPEAN.items():
        entry = registry[model_id]
        assert entry.kind == "generator" and entry.source == "download"
        assert (
            entry.extra["country"] == country and entry.extra["licence"] and entry.extra["origin"]
        )
        assert entry.extra["weights"].startswith("https://")
        # No file of ours to check against: no made-up file name, size or hash.
        assert not entry.file and not entry.sha256 and entry.size is None
        # Unknown facts are absent, never empty placeholders.
        assert all(value not in ("", None) for value in entry.extra.values())


def test_a_fetch_yourself_model_explains_how_to_get_it(registry):
    with pytest.raises(ModelError, match="models add FILE --id salamandra-7b-instruct"):
        materialise(registry["salamandra-7b-instruct"], load_settings().models_dir)
    with pytest.raises(ModelError, match="huggingface.co/swiss-ai"):
        resolve_generator("apertus-8b-instruct", load_settings().models_dir)


def test_registry_agrees_with_the_fast_models_own_metadata(registry):
    entry = registry["smollm2-135m"]
    path = resolve_generator("smollm2-135m", load_settings().models_dir)
    info = read_gguf_info(path)
    assert info.architecture == entry.extra["architecture"]
    assert info.context_length == entry.extra["context_length"]
    assert info.quantisation == entry.extra["quantisation"]
    assert info.size_label == entry.extra["params"]
    assert info.chat_template
    assert path.stat().st_size == entry.size
