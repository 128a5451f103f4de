"""Fine-tuning a bundled embedder on (question, passage) pairs: how the derived embedder is made.

The pairs are plain-words questions the local generator wrote for passages drawn at random from
the bundled acts (`bench/embedder_adaptation.py` writes and measures them); the passage text is
stored with each question, so the model does not depend on how today's chunker splits the corpus.
Training is one pass with in-batch negatives (every other passage of a batch is a negative),
seeded, on the CPU; the result is a sentence-transformers folder like the base model's.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

SEED = 37
BATCH = 16
LOGIT_SCALE = 20.0
STAMP_FILE = "sovrag-adaptation.json"
RECIPE_VERSION = 1
"""Bump when `fine_tune` changes in a way that changes the weights it produces."""


@dataclass(frozen=True)
class Recipe:
    """What a derived embedder is made from; its fingerprint says whether a built one is current."""

    base_id: str
    base_version: str
    training: Path
    epochs: int = 1
    lr: float = 2e-5

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.training.read_bytes()).hexdigest()
        parts = [self.base_id, self.base_version, digest, self.epochs, self.lr, RECIPE_VERSION]
        return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:16]


def training_pairs(path: Path) -> list[tuple[str, str]]:
    """(question, passage) pairs of a questions file: one per distinct question ending in '?'."""
    pairs, seen = [], set()
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise ModelError(f"Cannot read the embedder's training questions {path}: {exc}") from exc
    for line in lines:
        item = json.loads(line)
        question = item["question"]
        if not question.endswith("?") or question in seen:
            continue
        seen.add(question)
        pairs.append((question, item["passage"]))
    return pairs


def batch_starts(pairs: int) -> range:
    """Where each training batch starts; a lone last pair has no in-batch negative, so it is
    left out."""
    return range(0, pairs - 1, BATCH)


def fine_tune(
    base: Path,
    pairs: list[tuple[str, str]],
    out: Path,
    epochs: int = 1,
    lr: float = 2e-5,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Multiple-negatives ranking loss (scaled cosine), linear warm-up over a tenth, then decay."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(SEED)
    order = random.Random(SEED)
    pairs = list(pairs)
    model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
    model.train()
    steps = epochs * -(-len(pairs) // BATCH)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps)
    )

    def embed(texts: list[str]):
        features = model.preprocess(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    for _ in range(epochs):
        order.shuffle(pairs)
        for start in batch_starts(len(pairs)):
            part = pairs[start : start + BATCH]
            logits = LOGIT_SCALE * embed([q for q, _ in part]) @ embed([p for _, p in part]).T
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(part)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if progress:
                progress(1)
    model.eval()
    model.save(str(out))


def is_current(folder: Path, recipe: Recipe) -> bool:
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("fingerprint") == recipe.fingerprint()


def build_derived(recipe: Recipe, base: Path, dest: Path) -> Path:
    """Fine-tune `base` into `dest` (through a temporary folder, renamed when complete)."""
    from tqdm import tqdm

    pairs = training_pairs(recipe.training)
    if len(pairs) < 2:
        raise ModelError(f"{recipe.training} holds fewer than two usable training questions.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    steps = recipe.epochs * len(batch_starts(len(pairs)))
    label = f"Adapting the embedder to the bundled acts (one-off, {len(pairs)} questions)"
    with tqdm(total=steps, desc=label, unit="batch") as bar:
        fine_tune(base, pairs, tmp, recipe.epochs, recipe.lr, bar.update)
    stamp = {"fingerprint": recipe.fingerprint(), "base": recipe.base_id, "pairs": len(pairs)}
    (tmp / STAMP_FILE).write_text(json.dumps(stamp, indent=1), "utf-8")
    old = dest.with_name(f"{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest
