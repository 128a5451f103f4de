"""OpenAICompatibleGenerator against scripted HTTP answers: stream parsing, parameters sent,
retries only before the first token, and error messages that say what to do."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from rag.errors import ModelError
from rag.generator import GenerationParams
from rag.remote import OpenAICompatibleGenerator

BASE = "http://inference.test/v1"


def _sse(*pieces: str, model: str = "served.gguf") -> bytes:
    lines = []
    for piece in pieces:
        chunk = {
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        lines.append(f"data: {json.dumps(chunk)}\n\n")
    lines.append(": keep-alive comment\n\n")
    lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def _generator(handler, **kwargs) -> OpenAICompatibleGenerator:
    kwargs.setdefault("backoff", 0)
    return OpenAICompatibleGenerator(BASE, transport=httpx.MockTransport(handler), **kwargs)


def test_streams_text_and_sends_deterministic_parameters():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(
            200,
            content=_sse("Consent must be ", "freely given [1]."),
            headers={"content-type": "text/event-stream"},
        )

    gen = _generator(handler, model="eurollm-9b", api_key="s3cret")
    params = GenerationParams(max_tokens=64, temperature=0.0, seed=7, stop=("\n\n",))
    text = "".join(gen.stream_chat([{"role": "user", "content": "q"}], params))
    assert text == "Consent must be freely given [1]."
    assert seen["url"] == f"{BASE}/chat/completions"
    assert seen["auth"] == "Bearer s3cret"
    body = seen["body"]
    assert body["stream"] is True and body["model"] == "eurollm-9b"
    assert (body["max_tokens"], body["temperature"], body["seed"], body["stop"]) == (
        64,
        0.0,
        7,
        ["\n\n"],
    )
    assert gen.describe()["served_model"] == "served.gguf"


def test_no_model_name_lets_the_server_choose():
    def handler(request):
        assert "model" not in json.loads(request.content)
        return httpx.Response(200, content=_sse("ok"))

    assert "".join(_generator(handler).stream_chat([], GenerationParams())) == "ok"


def test_retries_an_overloaded_server_before_the_first_token():
    calls = []

    def handler(request):
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503, json={"error": {"message": "busy"}})
        return httpx.Response(200, content=_sse("fine"))

    gen = _generator(handler, retries=2)
    assert "".join(gen.stream_chat([], GenerationParams())) == "fine"
    assert len(calls) == 3


def test_gives_up_after_the_retries_with_the_servers_reason():
    gen = _generator(
        lambda r: httpx.Response(503, json={"error": {"message": "no slots"}}), retries=1
    )
    with pytest.raises(ModelError, match="no slots"):
        list(gen.stream_chat([], GenerationParams()))


def test_a_stream_broken_after_text_is_not_repeated():
    calls = []

    class Broken(httpx.SyncByteStream):
        def __iter__(self):
            yield _sse("half an ans").replace(b"data: [DONE]\n\n", b"")
            raise httpx.ReadError("connection reset")

    def handler(request):
        calls.append(1)
        return httpx.Response(200, stream=Broken())

    gen = _generator(handler, retries=3)
    received = []
    with pytest.raises(ModelError, match="middle of an answer"):
        for piece in gen.stream_chat([], GenerationParams()):
            received.append(piece)
    assert received == ["half an ans"] and len(calls) == 1


@pytest.mark.parametrize(
    "status, needle", [(401, "generator_api_key"), (404, "/v1"), (400, "rejected")]
)
def test_client_errors_say_what_to_fix(status, needle):
    gen = _generator(
        lambda r: httpx.Response(status, json={"error": {"message": "nope"}}), retries=3
    )
    with pytest.raises(ModelError, match=needle):
        list(gen.stream_chat([], GenerationParams()))


def test_error_event_inside_the_stream():
    body = b'data: {"error": {"message": "context length exceeded"}}\n\n'
    gen = _generator(lambda r: httpx.Response(200, content=body))
    with pytest.raises(ModelError, match="context length exceeded"):
        list(gen.stream_chat([], GenerationParams()))


def test_unreachable_server_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    gen = OpenAICompatibleGenerator(
        f"http://127.0.0.1:{port}/v1", retries=1, backoff=0, connect_timeout=2
    )
    with pytest.raises(ModelError, match="Cannot reach the inference server") as info:
        list(gen.stream_chat([], GenerationParams()))
    assert "SOVRAG_GENERATOR_BASE_URL" in str(info.value)
    with pytest.raises(ModelError, match="Cannot reach"):
        gen.load()


def test_load_checks_the_server_and_learns_its_model():
    def handler(request):
        assert request.url.path == "/v1/models"
        return httpx.Response(200, json={"object": "list", "data": [{"id": "/srv/eurollm.gguf"}]})

    gen = _generator(handler)
    assert not gen.loaded
    gen.load()
    assert gen.loaded and gen.describe()["served_model"] == "/srv/eurollm.gguf"


def test_credentials_in_the_url_never_reach_provenance_or_messages():
    gen = OpenAICompatibleGenerator(
        "https://user:pw@gpu.example.org:8443/v1",
        transport=httpx.MockTransport(lambda r: httpx.Response(500, text="boom")),
        retries=0,
        backoff=0,
    )
    assert gen.describe()["base_url"] == "https://gpu.example.org:8443/v1"
    with pytest.raises(ModelError) as info:
        list(gen.stream_chat([], GenerationParams()))
    assert "pw" not in str(info.value)


def test_bad_base_url():
    with pytest.raises(ModelError, match="http://"):
        OpenAICompatibleGenerator("127.0.0.1:8080/v1")


def test_backend_is_chosen_by_the_documented_environment_names(monkeypatch):
    from rag.config import load_settings
    from rag.runtime import make_generator

    monkeypatch.setenv("SOVRAG_GENERATOR_BACKEND", "openai")
    monkeypatch.setenv("SOVRAG_GENERATOR_BASE_URL", "http://127.0.0.1:8001/v1")
    monkeypatch.setenv("SOVRAG_GENERATOR_MODEL", "salamandra-7b-instruct")
    monkeypatch.setenv("SOVRAG_GENERATOR_API_KEY", "k")
    gen = make_generator(load_settings())  # constructing it opens no connection
    assert isinstance(gen, OpenAICompatibleGenerator)
    assert gen.describe()["model"] == "salamandra-7b-instruct"
    assert gen.base_url == "http://127.0.0.1:8001/v1"
