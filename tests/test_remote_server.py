"""The scale-out path for real: llama-cpp-python's OpenAI-compatible server on loopback.

The same question goes through the in-process generator and through the server; retrieval must
be identical (it never leaves the front end) and both answers go through the same citation
pipeline. Latencies are printed for the record, never asserted.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, FAST_GENERATOR
from processes import stop

pytestmark = pytest.mark.slow

QUESTION = "Under which conditions is consent valid under the GDPR?"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tiny_corpus(dest: Path) -> Path:
    """GDPR title block plus Chapters I-II (Articles 1-11): a few dozen passages, seconds to embed."""
    lines = (CORPUS / "gdpr-2016-679.md").read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("## CHAPTER I "))
    end = next(i for i, line in enumerate(lines) if line.startswith("## CHAPTER III "))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "gdpr-2016-679.md").write_text("\n".join(lines[:8] + lines[start:end]) + "\n", "utf-8")
    return dest


def _clean_settings(**values):
    """Settings independent of the developer's sovrag.toml and SOVRAG_* variables."""
    from rag.config import load_settings

    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("SOVRAG_"):
                mp.delenv(key)
        mp.setenv("SOVRAG_CONFIG", str(values["index_dir"].parent / "absent.toml"))
        return load_settings(**values)


@pytest.fixture(scope="module")
def tiny_settings(tmp_path_factory):
    from rag.ingest import run_ingest
    from rag.runtime import Runtime

    base = tmp_path_factory.mktemp("remote")
    settings = _clean_settings(
        index_dir=base / "index",
        corpus_dir=_tiny_corpus(base / "corpus"),
        generator=FAST_GENERATOR,
        threads=2,
        context_size=4096,
        max_tokens=64,
        top_k=4,
    )
    runtime = Runtime(settings)
    run_ingest(
        runtime.store,
        runtime.embedder,
        [settings.corpus_dir],
        max_bytes=10**9,
        full_rebuild=True,
        show_progress=False,
    )
    return settings


@pytest.fixture(scope="module")
def llama_server(tiny_settings, tmp_path_factory):
    """`python -m llama_cpp.server` with the fast model on 127.0.0.1; stopped after the module."""
    from rag.models import resolve_generator

    pytest.importorskip(
        "sse_starlette", reason="needs the llama-cpp-python server extras (test extra)"
    )
    pytest.importorskip("starlette_context", reason="needs the llama-cpp-python server extras")
    model = resolve_generator(FAST_GENERATOR, tiny_settings.models_dir)
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "llama_server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                str(tiny_settings.context_size),
                "--n_threads",
                str(tiny_settings.threads),
                "--n_threads_batch",
                str(tiny_settings.threads),
                "--n_batch",
                "512",
                "--interrupt_requests",
                "False",
                "--verbose",
                "False",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in 120 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        stop(proc)


def _retrieval(answer) -> list[tuple[str, float]]:
    return [(h.chunk.id, round(h.score, 6)) for h in answer.passages]


def _assert_citations_consistent(answer) -> None:
    retrieved = [h.chunk.id for h in answer.passages]
    for citation in answer.citations:
        assert 1 <= citation.n <= len(retrieved)
        assert retrieved[citation.n - 1] == citation.chunk_id
        assert f"[{citation.n}]" in answer.text


def test_remote_generator_gives_the_same_retrieval_and_pipeline(tiny_settings, llama_server):
    from rag.assistant import Assistant
    from rag.remote import OpenAICompatibleGenerator
    from rag.runtime import Runtime

    local_rt = Runtime(tiny_settings)
    remote_rt = Runtime(
        tiny_settings.model_copy(
            update={
                "generator_backend": "openai",
                "generator_base_url": llama_server,
                "generator_model": "",
            }
        )
    )
    assert isinstance(remote_rt.generator, OpenAICompatibleGenerator)
    local_rt.generator.load()  # both models resident before timing: the server loaded at start
    remote_rt.generator.load()
    local_rt.embedder.encode_query("warm-up")

    answers, seconds = {}, {}
    for label, runtime in (("in-process", local_rt), ("server", remote_rt)):
        started = time.perf_counter()
        answers[label] = Assistant(runtime).answer(QUESTION)
        seconds[label] = time.perf_counter() - started

    local, remote = answers["in-process"], answers["server"]
    assert remote.passages, "retrieval returned nothing"
    assert _retrieval(remote) == _retrieval(local)
    assert remote.raw_text.strip(), "the server streamed no text"
    # The remote draft went through the same parsing and verification as the local one.
    assert remote.sentences or remote.abstain_reason
    _assert_citations_consistent(local)
    _assert_citations_consistent(remote)
    if remote.raw_text == local.raw_text:
        assert (remote.text, remote.abstained, [c.chunk_id for c in remote.citations]) == (
            local.text,
            local.abstained,
            [c.chunk_id for c in local.citations],
        )

    logged = remote_rt.provenance.get(remote.id)  # provenance stays local, naming the server
    assert logged["model"]["backend"] == "openai" and logged["model"]["base_url"] == llama_server
    described = remote_rt.generator.describe()
    assert described["backend"] == "openai" and described["base_url"] == llama_server
    for label, answer in answers.items():
        t = answer.timings
        print(
            f"\nlatency {label}: answer {seconds[label]:.2f} s (first token "
            f"{t.get('first_token', 0):.2f} s, generation {t.get('generation', 0):.2f} s), "
            f"{len(answer.raw_text)} chars, identical text: {remote.raw_text == local.raw_text}"
        )


def test_a_cited_remote_reply_is_verified_and_cited_like_a_local_one(tiny_settings):
    """A server reply that quotes passage 1 with [1] comes back as a verified, cited answer."""
    import json

    from rag.assistant import Assistant
    from rag.remote import OpenAICompatibleGenerator
    from rag.runtime import Runtime

    runtime = Runtime(tiny_settings.model_copy(update={"generator_backend": "openai"}))
    hits = runtime.retriever().search(QUESTION, k=tiny_settings.top_k)
    # Its first sentence that says something (a leading "1." paragraph number does not).
    first = next(
        p
        for p in " ".join(hits[0].chunk.text.split()).split(". ")
        if sum(c.isalpha() for c in p) > 3
    )
    first = first.rstrip(".")
    reply = f"{first} [1]."

    def handler(request: httpx.Request) -> httpx.Response:
        prompt = json.loads(request.content)["messages"][-1]["content"]
        assert hits[0].chunk.text.split()[0] in prompt  # the passages travel in the prompt
        chunk = {"model": "scripted", "choices": [{"index": 0, "delta": {"content": reply}}]}
        return httpx.Response(
            200, content=f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
        )

    runtime._generator = OpenAICompatibleGenerator(
        "http://127.0.0.1:9/v1", transport=httpx.MockTransport(handler)
    )
    answer = Assistant(runtime).answer(QUESTION)
    assert not answer.abstained, answer.abstain_reason
    assert [c.chunk_id for c in answer.citations] == [hits[0].chunk.id]
    assert answer.citations[0].locator == hits[0].chunk.locator


def test_cli_ask_through_the_server_by_environment(
    tiny_settings, llama_server, monkeypatch, capsys
):
    """Scripts switch backends with the documented SOVRAG_GENERATOR_* names only."""
    import json

    from rag.cli import main

    monkeypatch.setenv("SOVRAG_GENERATOR_BACKEND", "openai")
    monkeypatch.setenv("SOVRAG_GENERATOR_BASE_URL", llama_server)
    monkeypatch.setenv("SOVRAG_GENERATOR_MODEL", "whatever-the-server-serves")
    monkeypatch.setenv("SOVRAG_GENERATOR_API_KEY", "not-checked-by-this-server")
    code = main(
        [
            "ask",
            QUESTION,
            "--json",
            "--index",
            str(tiny_settings.index_dir),
            "--max-tokens",
            str(tiny_settings.max_tokens),
            "--top-k",
            str(tiny_settings.top_k),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert data["passages"] and data["answer"].strip()
