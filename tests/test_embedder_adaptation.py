"""The derived embedder: its training pairs, when it is rebuilt, and that fine-tuning really moves
questions towards their passages (with the real bundled MiniLM)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag import models
from rag.embedder_adaptation import Recipe, fine_tune, is_current, training_pairs
from rag.errors import ModelError
from rag.models import load_registry, model_state, resolve_embedder

ROOT = Path(__file__).resolve().parent.parent


def _questions(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = [json.dumps({"question": q, "passage": p}) for q, p in rows]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def test_training_pairs_keep_one_of_each_real_question(tmp_path):
    path = _questions(
        tmp_path / "q.jsonl",
        [("Who pays?", "a"), ("Who pays?", "b"), ("A statement.", "c"), ("When?", "d")],
    )
    assert training_pairs(path) == [("Who pays?", "a"), ("When?", "d")]


def test_unreadable_training_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="training questions"):
        training_pairs(tmp_path / "missing.jsonl")


def test_fingerprint_follows_the_training_file(tmp_path):
    path = _questions(tmp_path / "q.jsonl", [("Who pays?", "a")])
    recipe = Recipe("base", "1.0", path)
    before = recipe.fingerprint()
    assert Recipe("base", "1.0", path).fingerprint() == before
    assert Recipe("base", "1.1", path).fingerprint() != before
    _questions(path, [("Who pays?", "b")])
    assert recipe.fingerprint() != before


def _registry(tmp_path: Path, training: Path) -> Path:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    shipped = (ROOT / "models" / "registry.toml").read_text("utf-8")
    extra = f"""
[[model]]
id = "test-derived"
kind = "embedder"
source = "derived"
base = "all-minilm-l6-v2"
training = "{training}"
file = "test-derived"
"""
    (models_dir / "registry.toml").write_text(shipped + extra, "utf-8")
    return models_dir


def test_derived_embedder_is_built_once_then_reused(tmp_path, monkeypatch):
    training = _questions(tmp_path / "q.jsonl", [("Who pays?", "a"), ("When?", "b")])
    models_dir = _registry(tmp_path, training)
    built = []

    def fake_build(recipe, base, dest):
        built.append(base)
        dest.mkdir()
        stamp = {"fingerprint": recipe.fingerprint()}
        (dest / "sovrag-adaptation.json").write_text(json.dumps(stamp), "utf-8")
        return dest

    monkeypatch.setattr(models, "build_derived", fake_build)
    entry = load_registry(models_dir)["test-derived"]
    assert model_state(entry, models_dir).sha256_state == "derived"
    folder = resolve_embedder("test-derived", models_dir)
    assert folder == models_dir / "test-derived"
    assert resolve_embedder("test-derived", models_dir) == folder
    assert len(built) == 1 and (built[0] / "config.json").exists()
    assert model_state(entry, models_dir).installed
    _questions(training, [("Who pays?", "c"), ("When?", "b")])
    assert not is_current(folder, models._derived_recipe(entry, models_dir)[0])
    shutil.rmtree(folder)
    resolve_embedder("test-derived", models_dir)
    assert len(built) == 2


def test_fine_tuning_brings_questions_closer_to_their_passages(tmp_path):
    from sentence_transformers import SentenceTransformer

    base = resolve_embedder("all-minilm-l6-v2", ROOT / "models")
    pairs = [
        (
            "Who settles the bill for the watchdog?",
            "The supervisory fee shall be borne by providers.",
        ),
        ("How long may records be kept?", "Logs shall be retained for a period of six months."),
        (
            "Which body hears complaints?",
            "Each Member State shall designate a competent authority.",
        ),
        ("When must a breach be reported?", "The incident shall be notified within 24 hours."),
    ]

    def matched(folder: Path) -> float:
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        q = model.encode([q for q, _ in pairs], normalize_embeddings=True)
        p = model.encode([p for _, p in pairs], normalize_embeddings=True)
        return float(np.mean(np.sum(q * p, axis=1)))

    fine_tune(base, pairs, tmp_path / "tuned", epochs=8, lr=1e-4)
    assert matched(tmp_path / "tuned") > matched(base) + 0.02
