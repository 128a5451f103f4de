"""Contract tests of the HTTP API with FastAPI's test client.

The first group needs no model and no index (auth, limits, error shapes, the queue's 503). The
second uses a tiny real index (real embedder) with a scripted generator, so the shape of answers,
SSE streams and OpenAI chunks is checked deterministically; the real fast model is exercised by
tests/test_openai_client.py.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from rag.admission import Admission
from rag.api import MAX_QUESTION_CHARS, create_app
from rag.config import TOP_K_MAX, load_settings
from rag.ingest import UPLOAD_DIR_NAME
from rag.runtime import Runtime

try:  # tests/ may or may not be a package, depending on how pytest imports it
    from tests.test_api_fixtures import ScriptedGenerator, tiny_runtime, wait_until
except ImportError:
    from test_api_fixtures import ScriptedGenerator, tiny_runtime, wait_until


@pytest.fixture
def bare(tmp_path):
    """An app over an empty index folder: everything that must work without models or index."""
    runtime = Runtime(load_settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none"))
    return runtime, TestClient(create_app(runtime))


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["message"] and error["type"]
    if code:
        assert error["code"] == code
    return error


# --------------------------------------------------------------------------- no model, no index


def test_openapi_documents_every_endpoint(bare):
    _, client = bare
    schema = client.get("/openapi.json").json()
    expected = {
        ("/health", "get"),
        ("/v1/ask", "post"),
        ("/v1/search", "post"),
        ("/v1/documents", "get"),
        ("/v1/documents", "post"),
        ("/v1/documents/{doc_id}", "delete"),
        ("/v1/index/rebuild", "post"),
        ("/v1/index/status", "get"),
        ("/v1/log/{entry_id}", "get"),
        ("/v1/chat/completions", "post"),
        ("/v1/models", "get"),
    }
    documented = {(path, method) for path, ops in schema["paths"].items() for method in ops}
    assert expected <= documented
    for path, method in expected:
        op = schema["paths"][path][method]
        assert op.get("summary") and op.get("description"), (path, method)
    ask = schema["paths"]["/v1/ask"]["post"]["responses"]
    assert {"application/json", "text/event-stream"} <= set(ask["200"]["content"])
    assert "503" in ask and "422" in ask


def test_health_reports_missing_index_without_failing(bare):
    _, client = bare
    body = client.get("/health").json()
    assert body["status"] == "no_index"
    assert body["model"]["loaded"] is False
    assert body["index"]["generation"] is None
    assert body["queue"]["running"] == 0


def test_bearer_token_required_everywhere_but_health(bare, monkeypatch):
    runtime, client = bare
    monkeypatch.setattr(runtime.settings, "api_key", "s3cret")
    assert client.get("/health").status_code == 200
    for method, path in [
        ("get", "/v1/models"),
        ("get", "/v1/documents"),
        ("get", "/v1/index/status"),
        ("post", "/v1/search"),
        ("post", "/v1/ask"),
        ("post", "/v1/chat/completions"),
        ("get", "/v1/log/abc"),
        ("delete", "/v1/documents/x.md"),
        ("post", "/v1/index/rebuild"),
    ]:
        response = client.request(method, path, json={})
        assert_error(response, 401, "invalid_api_key")
        assert response.headers["www-authenticate"] == "Bearer"
    wrong = client.get("/v1/models", headers={"Authorization": "Bearer s3cre"})
    assert_error(wrong, 401)
    ok = client.get("/v1/models", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_models_lists_the_configured_generator(bare):
    runtime, client = bare
    body = client.get("/v1/models").json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [runtime.settings.generator]
    assert (
        client.get(f"/v1/models/{runtime.settings.generator}").json()["id"]
        == runtime.settings.generator
    )
    assert_error(client.get("/v1/models/gpt-4"), 404, "model_not_found")


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ("{not json", 400, "invalid_json"),
        ({}, 422, "invalid_field"),
        ({"question": "   "}, 422, "invalid_field"),
        ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, 422, "invalid_field"),
        ({"question": "ok?", "k": 0}, 422, "invalid_field"),
        ({"question": "ok?", "k": TOP_K_MAX + 1}, 422, "invalid_field"),
        ({"question": "ok?", "stream": "maybe"}, 422, "invalid_field"),
        ({"question": "ok?", "questoin": "typo"}, 422, "invalid_field"),
        (
            {"question": "ok?", "history": [{"role": "system", "content": "x"}]},
            422,
            "invalid_field",
        ),
    ],
)
def test_ask_rejects_client_mistakes_with_json_reason(bare, payload, status, code):
    _, client = bare
    if isinstance(payload, str):
        response = client.post(
            "/v1/ask", content=payload, headers={"content-type": "application/json"}
        )
    else:
        response = client.post("/v1/ask", json=payload)
    assert_error(response, status, code)


def test_body_size_limit(bare):
    _, client = bare
    big = json.dumps({"question": "q", "history": [{"role": "user", "content": "x" * 30000}] * 40})
    response = client.post("/v1/ask", content=big, headers={"content-type": "application/json"})
    assert_error(response, 413)


@pytest.mark.parametrize(
    "payload, status, param",
    [
        ({"model": "x", "messages": []}, 422, "messages"),
        ({"model": "x", "messages": [{"role": "assistant", "content": "hi"}]}, 400, "messages"),
        ({"model": "x", "messages": [{"role": "user", "content": "  "}]}, 400, "messages"),
        ({"model": "x", "messages": [{"role": "user", "content": "q"}], "n": 2}, 422, "n"),
        (
            {
                "model": "x",
                "messages": [{"role": "user", "content": "q"}],
                "tools": [{"type": "function"}],
            },
            400,
            "tools",
        ),
        (
            {"model": "x", "messages": [{"role": "user", "content": "q"}], "logprobs": True},
            400,
            "logprobs",
        ),
        (
            {
                "model": "x",
                "messages": [{"role": "user", "content": "q"}],
                "response_format": {"type": "json_object"},
            },
            400,
            "response_format",
        ),
        (
            {
                "model": "x",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            },
            400,
            "messages",
        ),
        (
            {
                "model": "x",
                "messages": [{"role": "user", "content": "x" * (MAX_QUESTION_CHARS + 1)}],
            },
            400,
            "messages",
        ),
    ],
)
def test_chat_completions_rejects_unsupported_requests(bare, payload, status, param):
    _, client = bare
    error = assert_error(client.post("/v1/chat/completions", json=payload), status)
    assert error["param"] == param


def test_full_queue_answers_503_with_retry_after(tmp_path):
    runtime = Runtime(load_settings(index_dir=tmp_path / "index"))
    queue = Admission(max_waiting=0)
    client = TestClient(create_app(runtime, admission=queue))
    holder = queue.admit()
    assert queue.wait_turn(holder, timeout=1)
    try:
        for path, payload in [
            ("/v1/ask", {"question": "q?"}),
            ("/v1/ask", {"question": "q?", "stream": True}),
            (
                "/v1/chat/completions",
                {"model": "m", "messages": [{"role": "user", "content": "q"}]},
            ),
            (
                "/v1/chat/completions",
                {"model": "m", "stream": True, "messages": [{"role": "user", "content": "q"}]},
            ),
        ]:
            response = client.post(path, json=payload)
            assert_error(response, 503, "queue_full")
            assert int(response.headers["retry-after"]) >= 1
    finally:
        queue.release(holder)
    assert queue.stats()["refused"] == 4


def test_missing_index_is_503_not_500(bare):
    _, client = bare
    assert_error(client.post("/v1/search", json={"query": "fines"}), 503, "index_missing")
    assert_error(client.get("/v1/documents"), 503, "index_missing")
    assert_error(client.post("/v1/ask", json={"question": "fines?"}), 503, "index_missing")
    status = client.get("/v1/index/status").json()
    assert status["job"]["state"] == "idle" and "error" in status["index"]


def test_log_entries(bare):
    runtime, client = bare
    entry_id = runtime.provenance.append({"question": "q", "answer": "a", "model": {"model": "m"}})
    assert client.get(f"/v1/log/{entry_id}").json()["answer"] == "a"
    assert_error(client.get("/v1/log/0000000000"), 404, "log_entry_not_found")
    assert_error(client.get("/v1/log/bad%20id"), 422)


def test_uploads_of_unsupported_or_hidden_files_are_rejected(bare):
    runtime, client = bare
    response = client.post(
        "/v1/documents", files=[("files", ("tool.exe", b"MZ...", "application/octet-stream"))]
    )
    error = assert_error(response, 415, "no_file_accepted")
    assert error["details"][0]["status"] == "rejected"
    response = client.post(
        "/v1/documents", files=[("files", ("../.hidden", b"text", "text/plain"))]
    )
    assert_error(response, 400)
    response = client.post(
        "/v1/documents", files=[("files", ("fake.pdf", b"not a pdf", "application/pdf"))]
    )
    assert_error(response, 415)
    assert not any((runtime.settings.index_dir / UPLOAD_DIR_NAME).glob("*"))
    assert_error(client.post("/v1/documents"), 422)


def test_rebuild_without_corpus_is_a_conflict(bare):
    _, client = bare
    assert_error(client.post("/v1/index/rebuild"), 409, "nothing_to_index")


# --------------------------------------------------------------------------- tiny index, scripted model


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    runtime = tiny_runtime(tmp_path_factory.mktemp("api"))
    runtime._generator = ScriptedGenerator()
    return runtime


@pytest.fixture
def client(indexed):
    return TestClient(create_app(indexed, admission=Admission()))


def sse_events(text: str) -> list[tuple[str | None, str]]:
    events = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith(":")]
        if not lines:
            continue
        name = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
        events.append((name, data))
    return events


@pytest.mark.slow
def test_search_returns_located_passages(client):
    body = client.post("/v1/search", json={"query": "interoperability assessment", "k": 3}).json()
    assert body["generation"].startswith("gen-")
    assert 1 <= len(body["hits"]) <= 3
    hit = body["hits"][0]
    assert hit["locator"].startswith("Article 3") and hit["doc"] == "interoperable-europe-act.md"
    assert hit["text"] and hit["score"] > 0


@pytest.mark.slow
def test_search_filters_and_retrieval_does_not_wait_for_the_model(indexed):
    queue = Admission(max_waiting=0)
    client = TestClient(create_app(indexed, admission=queue))
    holder = queue.admit()
    queue.wait_turn(holder, timeout=1)
    try:
        body = client.post(
            "/v1/search", json={"query": "definitions", "filters": {"docs": ["other.md"]}}
        )
        assert body.status_code == 200 and body.json()["hits"] == []
        assert client.post("/v1/search", json={"query": "definitions"}).json()["hits"]
    finally:
        queue.release(holder)


@pytest.mark.slow
def test_ask_returns_the_cli_json_object(client):
    body = client.post("/v1/ask", json={"question": "What does Article 1 lay down?", "k": 3}).json()
    assert set(body) >= {"id", "answer", "abstained", "citations", "sentences", "passages"}
    assert body["abstained"] is False
    assert "[1]" in body["answer"]
    assert body["citations"][0]["n"] == 1 and body["citations"][0]["locator"]
    assert all("supported" in s for s in body["sentences"])


@pytest.mark.slow
def test_ask_streams_deltas_then_the_final_answer(client):
    with client.stream(
        "POST",
        "/v1/ask",
        json={
            "question": "What does Article 1 lay down?",
            "stream": True,
            "history": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
            ],
        },
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    names = [name for name, _ in events]
    assert names[-1] == "answer" and names.count("answer") == 1
    assert names[:-1] and set(names[:-1]) == {"delta"}
    streamed = "".join(json.loads(data)["text"] for name, data in events if name == "delta")
    final = json.loads(events[-1][1])
    assert "[1]" in streamed and final["citations"] and "id" in final
    assert final["sentences"][0]["supported"] in (True, False, None)


@pytest.mark.slow
def test_chat_completion_carries_markers_and_citations(client):
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "anything",
            "temperature": 0.7,
            "messages": [
                {"role": "system", "content": "be brief"},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "What does Article 1 lay down?"}],
                },
            ],
        },
    )
    body = response.json()
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and "[1]" in message["content"]
    assert message["citations"][0]["n"] == 1
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["sovrag"]["abstained"] is False


@pytest.mark.slow
def test_chat_completion_stream_ends_with_done(client):
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "model": "m",
            "stream": True,
            "messages": [{"role": "user", "content": "What does Article 1 lay down?"}],
        },
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.read().decode())
    assert events[-1][1] == "[DONE]"
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "[1]" in text
    last = chunks[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and last["delta"]["citations"][0]["n"] == 1


@pytest.mark.slow
def test_abstention_is_reported_in_both_protocols(indexed):
    indexed._generator = ScriptedGenerator("NOT_FOUND")
    try:
        client = TestClient(create_app(indexed, admission=Admission()))
        body = client.post(
            "/v1/chat/completions",
            json={
                "model": "m",
                "messages": [{"role": "user", "content": "Who won the 1998 World Cup?"}],
            },
        ).json()
        assert body["sovrag"]["abstained"] is True
        assert body["choices"][0]["message"]["citations"] == []
        assert body["choices"][0]["message"]["content"]
        with client.stream(
            "POST",
            "/v1/chat/completions",
            json={
                "model": "m",
                "stream": True,
                "messages": [{"role": "user", "content": "Who won the 1998 World Cup?"}],
            },
        ) as response:
            events = sse_events(response.read().decode())
        chunks = [json.loads(data) for _, data in events[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text == body["choices"][0]["message"]["content"]
        assert chunks[-1]["choices"][0]["delta"]["citations"] == []
    finally:
        indexed._generator = ScriptedGenerator()


@pytest.mark.slow
def test_upload_list_and_delete_documents(client, indexed):
    uploads = indexed.settings.index_dir / UPLOAD_DIR_NAME
    note = "# Test note\n\n### Article 1 — Tea\n\n1. Every office shall provide green tea on Fridays.\n"
    response = client.post(
        "/v1/documents",
        files=[
            ("files", ("../../escape/tea-note.md", note.encode(), "text/markdown")),
            ("files", ("virus.exe", b"MZ", "application/octet-stream")),
        ],
    )
    assert response.status_code == 200, response.text
    files = response.json()["files"]
    assert files[0]["status"] == "added" and files[0]["doc"] == "tea-note.md"
    assert files[1]["status"] == "rejected" and "unsupported" in files[1]["reason"]
    assert (uploads / "tea-note.md").is_file()
    assert not (indexed.settings.index_dir.parent / "escape").exists()

    docs = {d["id"]: d for d in client.get("/v1/documents").json()["documents"]}
    assert docs["tea-note.md"]["uploaded"] is True
    assert docs["interoperable-europe-act.md"]["uploaded"] is False
    hits = client.post("/v1/search", json={"query": "green tea on Fridays", "k": 1}).json()["hits"]
    assert hits[0]["doc"] == "tea-note.md"

    again = client.post(
        "/v1/documents", files=[("files", ("tea-note.md", note.encode(), "text/markdown"))]
    )
    assert again.json()["files"][0]["status"] == "unchanged"

    removed = client.delete("/v1/documents/tea-note.md")
    assert removed.status_code == 200 and removed.json()["removed"] == "tea-note.md"
    assert not (uploads / "tea-note.md").exists()
    assert "tea-note.md" not in {d["id"] for d in client.get("/v1/documents").json()["documents"]}
    assert_error(client.delete("/v1/documents/tea-note.md"), 404, "document_not_found")


@pytest.mark.slow
def test_rebuild_runs_in_background_and_reports_progress(client):
    app = client.app
    jobs = app.state.index_jobs
    assert jobs.write_lock.acquire(blocking=False)  # another index change in progress
    try:
        assert_error(client.post("/v1/index/rebuild"), 409, "index_busy")
        assert_error(client.delete("/v1/documents/interoperable-europe-act.md"), 409, "index_busy")
    finally:
        jobs.write_lock.release()
    before = client.get("/v1/index/status").json()["index"]["generation"]
    started = client.post("/v1/index/rebuild")
    assert started.status_code == 202 and started.json()["state"] == "running"
    assert wait_until(
        lambda: client.get("/v1/index/status").json()["job"]["state"] != "running", 120
    )
    status = client.get("/v1/index/status").json()
    assert status["job"]["state"] == "done", status
    assert status["job"]["progress"] == 1.0 and "passages" in status["job"]["summary"]
    assert status["index"]["generation"] != before and status["index"]["passages"] > 0


def test_api_and_ui_share_one_app(bare):
    """`sovrag serve` mounts the Gradio UI at / on the API app: both must answer."""
    from rag.server import build_app

    runtime, _ = bare
    client = TestClient(build_app(runtime, with_ui=True))
    assert client.get("/health").status_code == 200
    assert client.get("/v1/models").json()["data"][0]["id"] == runtime.settings.generator
    assert "/v1/chat/completions" in client.get("/openapi.json").json()["paths"]
    assert client.get("/").status_code == 200
