"""The local generator answers a prompt the same way whatever was asked before it (real model)."""

from __future__ import annotations

import pytest

from rag.generator import GenerationParams, LlamaCppGenerator
from rag.models import ModelError, resolve_generator

try:
    from tests.conftest import CORPUS, FAST_GENERATOR, ROOT
except ImportError:  # run from inside tests/
    from conftest import CORPUS, FAST_GENERATOR, ROOT

SYSTEM = {"role": "system", "content": "Answer from the numbered source passages only."}
PARAMS = GenerationParams(max_tokens=48)


def _ask(passage: str, question: str) -> list[dict]:
    user = f"Sources:\n\n[1] GDPR\n<<<\n{passage}\n>>>\n\nQuestion: {question}"
    return [SYSTEM, {"role": "user", "content": user}]


@pytest.fixture(scope="module")
def generator():
    try:
        path = resolve_generator(FAST_GENERATOR, ROOT / "models")
    except ModelError as exc:
        pytest.skip(f"fast generator not installed: {exc}")
    return LlamaCppGenerator(path, n_ctx=2048, threads=2)


def _reply(generator, messages) -> str:
    return "".join(generator.stream_chat(messages, PARAMS))


def test_each_prompt_is_evaluated_from_an_empty_cache(generator):
    """llama.cpp would reuse the prefix two prompts share and batch the rest differently, which
    moves the logits: the cache must be empty when each prompt starts."""
    gdpr = (CORPUS / "gdpr-2016-679.md").read_text(encoding="utf-8")
    first = _ask(gdpr[40_000:42_000], "What must the controller do?")
    second = _ask(gdpr[60_000:62_000], "Who decides on the purposes?")
    llm = generator.load()
    cached_at_start: list[int] = []
    original = llm.create_chat_completion

    def recording(*args, **kwargs):
        cached_at_start.append(llm.n_tokens)
        return original(*args, **kwargs)

    llm.create_chat_completion = recording
    try:
        fresh = _reply(generator, second)
        _reply(generator, first)
        after_another = _reply(generator, second)
    finally:
        del llm.create_chat_completion
    assert cached_at_start == [0, 0, 0]
    assert after_another == fresh and fresh.strip()
