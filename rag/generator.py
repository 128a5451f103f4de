"""Text generation backends behind one small protocol.

`LlamaCppGenerator` runs a GGUF model in-process (the default); llama.cpp is not re-entrant, so
one lock serialises generations and every caller shares the one loaded model.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import ModelError


@dataclass
class GenerationParams:
    max_tokens: int = 320
    temperature: float = 0.0
    seed: int = 42
    stop: tuple[str, ...] = ()


LOOP_SPAN = 200
"""Characters that, written again word for word, mean the model is looping. Long enough that a
clause two provisions share ("… of its total worldwide annual turnover for the preceding financial
year, whichever is higher", ~90 characters) may appear twice in a comparison."""


def loop_start(text: str, span: int = LOOP_SPAN) -> int | None:
    """Where a reply starts repeating itself, or None.

    Small models sometimes copy a passage and then copy it again until the token cap. When the last
    `span` characters occurred before, the text repeats from the second occurrence of the repeated
    stretch on; the cut falls back to the last sentence end before it, so whole sentences remain."""
    if len(text) <= span:
        return None
    first = text.find(text[-span:])
    if first >= len(text) - span:
        return None
    second = text.find(text[first : first + span], first + 1)  # one period after the first copy
    head = text[:second]
    ends = [m.end() for m in re.finditer(r"[.!?](?:\s|$)", head)]
    return ends[-1] if ends else len(head)


class Generator(Protocol):
    name: str
    """A human-readable model name (file name or remote model id)."""

    def stream_chat(self, messages: list[dict], params: GenerationParams) -> Iterator[str]:
        """Yield text pieces of the assistant's reply, as they are generated."""
        ...

    def describe(self) -> dict:
        """Facts for provenance: backend, model name, file sha256 where known."""
        ...


class LlamaCppGenerator:
    def __init__(self, path: Path, n_ctx: int, threads: int, sha256: str = "") -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.n_ctx = n_ctx
        self.threads = threads
        self.sha256 = sha256
        self._llm = None
        self._load_lock = threading.Lock()
        self.lock = threading.Lock()
        """Held for the whole of one generation; llama.cpp contexts are not re-entrant."""

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self):
        if self._llm is None:
            with self._load_lock:
                if self._llm is None:
                    try:
                        from llama_cpp import Llama

                        self._llm = Llama(
                            model_path=str(self.path),
                            n_ctx=self.n_ctx,
                            n_threads=self.threads,
                            n_threads_batch=self.threads,
                            n_batch=512,
                            verbose=False,
                        )
                    except (ValueError, RuntimeError, OSError) as exc:
                        raise ModelError(f"Cannot load generator model {self.path}: {exc}") from exc
        return self._llm

    def count_tokens(self, text: str) -> int:
        llm = self.load()
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream_chat(self, messages: list[dict], params: GenerationParams) -> Iterator[str]:
        llm = self.load()
        with self.lock:
            # Evaluate every prompt from an empty cache. llama.cpp would otherwise reuse the prefix
            # the previous prompt shares with this one and cut the rest into batches at other
            # places, which moves the logits (by up to 0.4 measured): greedy answers then depend on
            # what was asked before. The shared prefix is the short system text, so little is lost.
            llm.reset()
            llm.set_seed(params.seed)
            stream = llm.create_chat_completion(
                messages=messages,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=1.0,
                top_k=1 if params.temperature == 0 else 40,
                seed=params.seed,
                stop=list(params.stop) or None,
                stream=True,
            )
            for part in stream:
                delta = part["choices"][0].get("delta", {})
                text = delta.get("content")
                if text:
                    yield text

    def describe(self) -> dict:
        return {
            "backend": "llamacpp",
            "model": self.name,
            "path": str(self.path),
            "sha256": self.sha256,
            "n_ctx": self.n_ctx,
        }
