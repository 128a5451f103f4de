"""A live server on loopback, driven by the official `openai` package and by raw HTTP.

Uses the real fast generator (SmolLM2-135M) over a tiny real index: what an OpenAI client sees
must be a chat completion whose text keeps the [n] markers and whose citations field explains
each of them; streams must end with [DONE]; bursts must get answers or 503, never 500; a client
that hangs up mid-stream must give the model back.
"""

from __future__ import annotations

import json
import re
import threading

import httpx
import pytest

from rag.admission import Admission
from rag.api import create_app
from rag.assistant import ABSTAIN_TEXT
from rag.runtime import Runtime

try:  # tests/ may or may not be a package, depending on how pytest imports it
    from tests.test_api_fixtures import ScriptedGenerator, live_server, tiny_runtime, wait_until
except ImportError:
    from test_api_fixtures import ScriptedGenerator, live_server, tiny_runtime, wait_until

pytestmark = pytest.mark.slow

API_KEY = "test-key-123"
QUESTION = "What does 'GovTech' mean?"
"""Answered from Article 2 of the tiny index; the fast model (greedy, fixed seed) cites it."""
OFF_TOPIC = "Which football club won the 1998 World Cup final?"
"""Nothing in the tiny index answers this: the assistant must abstain, before or after drafting."""


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """The real fast model; two short passages and a short answer keep each generation brief."""
    runtime = tiny_runtime(tmp_path_factory.mktemp("live"), api_key=API_KEY, top_k=2, max_tokens=32)
    runtime.generator.load()
    return runtime


def sibling(runtime: Runtime, generator: ScriptedGenerator) -> Runtime:
    """Another runtime over the same (read-only) index and embedder, with a scripted model."""
    other = Runtime(runtime.settings)
    other._embedder = runtime.embedder
    other._generator = generator
    return other


@pytest.fixture(scope="module")
def server(runtime):
    with live_server(create_app(runtime, admission=Admission(max_waiting=1))) as base:
        yield base


@pytest.fixture(scope="module")
def scripted_server(runtime):
    """Same index, a scripted model that always cites [1]: the wire contract, deterministically."""
    app = create_app(
        sibling(runtime, ScriptedGenerator(delay=0.02)), admission=Admission(max_waiting=3)
    )
    with live_server(app) as base:
        yield base


def openai_client(base: str, key: str = API_KEY):
    from openai import OpenAI

    return OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=900)


@pytest.fixture
def client(server):
    return openai_client(server)


def markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def check_cited(content: str, citations: list[dict]) -> None:
    """Every [n] in the text has a citation n and every citation is used; or a clean abstention."""
    if content.strip() == ABSTAIN_TEXT:
        assert citations == []
        return
    assert markers(content), f"no [n] marker in: {content!r}"
    assert markers(content) == {c["n"] for c in citations}
    for citation in citations:
        assert citation["doc"] == "interoperable-europe-act.md"
        assert citation["locator"] and citation["text"]


def test_models_endpoint(client, runtime):
    assert [m.id for m in client.models.list().data] == [runtime.settings.generator]


def test_wrong_key_is_rejected(server):
    from openai import AuthenticationError

    with pytest.raises(AuthenticationError):
        openai_client(server, key="nope").models.list()


def complete(client, question: str) -> tuple[str, list[dict], dict]:
    completion = client.chat.completions.create(
        model="whatever-the-client-sends",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": question},
        ],
        temperature=0.2,
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    message = completion.choices[0].message
    return message.content, message.model_extra["citations"], completion.model_extra["sovrag"]


def complete_streaming(client, question: str) -> tuple[str, list[dict], dict]:
    stream = client.chat.completions.create(
        model="m", stream=True, messages=[{"role": "user", "content": question}]
    )
    text, citations, extra, finish = "", None, None, None
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        choice = chunk.choices[0]
        text += choice.delta.content or ""
        if choice.finish_reason:
            finish = choice.finish_reason
            citations = (choice.delta.model_extra or {}).get("citations")
            extra = chunk.model_extra["sovrag"]
    assert finish == "stop" and citations is not None, "the final chunk must carry the citations"
    return text, citations, extra


def test_cited_completion_over_the_openai_client(scripted_server):
    client = openai_client(scripted_server)
    for content, citations, extra in (
        complete(client, QUESTION),
        complete_streaming(client, QUESTION),
    ):
        assert extra["abstained"] is False
        assert citations and citations[0]["n"] == 1
        check_cited(content, citations)
        assert any(c["locator"].startswith("Article 2") for c in citations)


def test_fast_model_completion_keeps_markers_and_citations(client):
    """The real model may cite or abstain; either way the answer must explain itself."""
    content, citations, extra = complete(client, QUESTION)
    assert content.strip()
    assert extra["abstained"] == (content == ABSTAIN_TEXT)
    check_cited(content, citations)

    streamed, streamed_citations, streamed_extra = complete_streaming(client, QUESTION)
    # Greedy decoding with a fixed seed: the stream must reach the same verdict and sources.
    assert streamed_extra["abstained"] == extra["abstained"]
    assert [c["chunk_id"] for c in streamed_citations] == [c["chunk_id"] for c in citations]
    if extra["abstained"]:
        assert streamed.endswith(ABSTAIN_TEXT) and streamed_citations == []
    else:
        assert markers(streamed) >= {c["n"] for c in streamed_citations}


def test_abstention_over_the_wire(client):
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": OFF_TOPIC}]
    )
    message = completion.choices[0].message
    assert completion.model_extra["sovrag"]["abstained"] is True
    assert message.content == ABSTAIN_TEXT and message.model_extra["citations"] == []
    # A draft the model already streamed and verification then rejected ends with the abstention.
    text, citations, extra = complete_streaming(client, OFF_TOPIC)
    assert extra["abstained"] is True and citations == []
    assert text.endswith(ABSTAIN_TEXT)


def test_burst_of_eight_gets_answers_or_503_never_500(scripted_server):
    server = scripted_server
    statuses: list[int] = []
    retry_after: list[str | None] = []
    lock = threading.Lock()
    go = threading.Barrier(8)

    def one(i: int) -> None:
        go.wait()
        response = httpx.post(
            f"{server}/v1/chat/completions",
            timeout=600,
            headers={"Authorization": f"Bearer {API_KEY}"},
            json={
                "model": "m",
                "stream": i % 2 == 0,
                "messages": [{"role": "user", "content": QUESTION}],
            },
        )
        with lock:
            statuses.append(response.status_code)
            retry_after.append(response.headers.get("retry-after"))
            if response.status_code == 200 and i % 2 == 0:
                assert response.text.rstrip().endswith("data: [DONE]")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == 8
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses
    assert all(int(r) >= 1 for s, r in zip(statuses, retry_after) if s == 503)


def test_disconnect_mid_stream_and_in_queue_frees_the_model(runtime):
    """A scripted slow 'model' makes the timing irrelevant: we hang up while it is writing."""
    slow = ScriptedGenerator(" ".join(["word"] * 400) + " [1].", delay=0.05)
    runtime = sibling(runtime, slow)
    queue = Admission(max_waiting=2)
    with (
        live_server(create_app(runtime, admission=queue)) as base,
        httpx.Client(timeout=60) as http,
    ):
        http.headers["Authorization"] = f"Bearer {API_KEY}"
        request = {
            "model": "m",
            "stream": True,
            "messages": [{"role": "user", "content": QUESTION}],
        }
        with http.stream("POST", f"{base}/v1/chat/completions", json=request) as response:
            lines = response.iter_lines()
            while '"content": "word ' not in next(lines):
                pass
            assert queue.stats()["running"] == 1
        # The client has hung up: the generation must stop and the place be given back.
        assert wait_until(slow.closed.is_set, 30), "generation went on after the client left"
        assert wait_until(
            lambda: (
                queue.stats() | {"served": 0}
                == {"running": 0, "waiting": 0, "max_waiting": 2, "served": 0, "refused": 0}
            ),
            30,
        ), queue.stats()

        # Waiting in line and hanging up leaves the line too.
        holder = queue.admit()
        assert queue.wait_turn(holder, timeout=5)
        try:
            with http.stream(
                "POST", f"{base}/v1/ask", json={"question": QUESTION, "stream": True}
            ) as response:
                assert response.status_code == 200
                # Keep the line iterator: once a half-read one is garbage-collected, httpx closes
                # the connection, the server rightly sees a hang-up and frees the place early.
                lines = response.iter_lines()
                next(lines)
                # Admitted before the response started; a grace period for a loaded machine.
                assert wait_until(lambda: queue.stats()["waiting"] == 1, 10), queue.stats()
            assert wait_until(lambda: queue.stats()["waiting"] == 0, 30), queue.stats()
        finally:
            queue.release(holder)
        body = http.get(f"{base}/health").json()
        assert body["queue"]["running"] == 0 and body["queue"]["waiting"] == 0
        final = http.post(
            f"{base}/v1/ask",
            json={"question": QUESTION},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        assert final.status_code == 200 and "answer" in json.loads(
            final.text
        )  # the model is free again
