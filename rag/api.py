"""FastAPI app: the native JSON API and an OpenAI-compatible chat endpoint over the library.

Every route is a thin translation between HTTP and one library call (`Assistant`, `Retriever`,
`run_ingest`, the provenance log). What lives here is HTTP's own business: request limits,
the bearer token, error shapes, server-sent events, the admission queue in front of the model,
and storing uploaded files. The Gradio UI is mounted on the same app by `rag.server`.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, File, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from .admission import Admission, QueueFull, Ticket
from .assistant import Answer, Assistant, Delta
from .citations import cited_numbers
from .errors import IndexMismatchError, IndexMissingError, ModelError, SovragError
from .ingest import is_uploaded, rebuild_sources, uploads_dir
from .retrieval import SearchFilters
from .runtime import Runtime

MAX_QUESTION_CHARS = 2000
"""Longest question accepted; longer ones crowd the passages out of the model's context."""
MAX_MESSAGE_CHARS = 32_000
MAX_MESSAGES = 100
MAX_JSON_BYTES = 1 << 20
"""Request body cap for JSON endpoints (1 MiB: a long conversation fits easily)."""
MAX_UPLOAD_FILES = 20
MAX_ASK_K = 8
"""Passages per answer: 8 of the longest passages (~420 tokens each) still fit a 4096-token context
with the instructions and the answer; more can overflow it, which the model reports as a crash."""
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


# --------------------------------------------------------------------------- errors


class ErrorDetail(BaseModel):
    message: str = Field(description="What went wrong and what to do about it")
    type: str = Field(description="invalid_request_error, authentication_error, not_found_error, "
                                  "conflict_error, overloaded_error, server_error")
    code: str | None = None
    param: str | None = None
    details: list[dict] | None = Field(None, description="Per-field problems, or per-file results")


class ErrorResponse(BaseModel):
    """Every error, from every endpoint: OpenAI's error shape, so their clients show the message."""

    error: ErrorDetail


_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                405: "invalid_request_error", 409: "conflict_error", 413: "invalid_request_error",
                415: "invalid_request_error", 422: "invalid_request_error", 503: "overloaded_error"}


class APIError(Exception):
    """An HTTP error with a user-facing message; raised by routes, rendered as `ErrorResponse`."""

    def __init__(self, status: int, message: str, code: str | None = None, *, param: str | None = None,
                 headers: dict[str, str] | None = None, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers, self.details = headers, details


def error_body(status: int, message: str, code: str | None = None, param: str | None = None,
               details: list[dict] | None = None) -> dict:
    error: dict[str, Any] = {"message": message, "type": _ERROR_TYPES.get(status, "server_error"),
                             "code": code, "param": param}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(status: int, message: str, code: str | None = None, *, param: str | None = None,
                   headers: dict[str, str] | None = None, details: list[dict] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(status, message, code, param, details),
                        headers=headers)


SSE_EVENT_SCHEMA = {
    "type": "object", "required": ["data"],
    "description": "One server-sent event; `data` is a JSON document (or `[DONE]` for chat).",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"},
                   "retry": {"type": "integer"}},
}


def _documented(*statuses: int, ok: type[BaseModel] | None = None, sse: str | None = None,
                ok_status: int = 200, links: dict | None = None) -> dict:
    """OpenAPI `responses` for a route: its success body (JSON and/or SSE) and its error codes."""
    descriptions = {400: "Malformed or unsupported request", 401: "Missing or wrong bearer token",
                    404: "Not found", 409: "Conflicts with the index state or a running index job",
                    413: "Body or file too large", 415: "Unsupported file type",
                    422: "A field is invalid", 503: "Model busy (see Retry-After) or index unavailable"}
    out: dict[int | str, dict] = {s: {"model": ErrorResponse, "description": descriptions[s]} for s in statuses}
    if ok is not None:
        out[ok_status] = {"description": sse or "Success", "model": ok}
        if sse is not None:
            out[ok_status]["content"] = {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}}
        if links:
            out[ok_status]["links"] = links
    return out


# --------------------------------------------------------------------------- request models


class _Strict(BaseModel):
    """Native request bodies reject unknown fields, so a misspelt option is an error, not a no-op,
    and are not coerced (`"stream": 0` is a mistake, not false)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    """Response models document the contract but let the library add fields."""

    model_config = ConfigDict(extra="allow")


DocId = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LangCode = Annotated[str, StringConstraints(min_length=2, max_length=16)]
Question = Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S")]


class Filters(_Strict):
    docs: list[DocId] = Field(default_factory=list, max_length=100, description="Only these document ids")
    langs: list[LangCode] = Field(default_factory=list, max_length=20, description="Only these languages")

    def to_search(self) -> SearchFilters | None:
        return SearchFilters(docs=self.docs, langs=self.langs) if (self.docs or self.langs) else None


class Turn(_Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class AskRequest(_Strict):
    question: Question
    history: list[Turn] = Field(default_factory=list, max_length=MAX_MESSAGES,
                                description="Earlier turns of the conversation, oldest first")
    k: int | None = Field(None, ge=1, le=MAX_ASK_K, description="Passages given to the model")
    filters: Filters | None = None
    stream: bool = Field(False, description="Server-sent events: `delta` events, then one `answer` event")


class SearchRequest(_Strict):
    query: Question
    k: int = Field(10, ge=1, le=50)
    filters: Filters | None = None


MessageText = Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: str = Field(max_length=64)
    text: str | None = Field(None, max_length=MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: MessageText | Annotated[list[ContentPart], Field(max_length=MAX_MESSAGES)] | None = None
    name: str | None = Field(None, max_length=256)


class ChatCompletionRequest(BaseModel):
    """OpenAI's request; sampling options are accepted and ignored (answers are deterministic)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    model: str = Field("", max_length=256, description="Ignored: the configured generator answers")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool | None = False
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is produced")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = Field(None, max_length=256)
    stream_options: dict | None = None
    tools: list[dict] | None = Field(None, description="Tool calling is not supported: must be empty")
    tool_choice: str | dict | None = None
    response_format: dict | None = Field(None, description='Only {"type": "text"}')
    logprobs: bool | None = Field(None, description="Not supported: must be false")


# --------------------------------------------------------------------------- response models


class CitationOut(_Open):
    n: int
    doc: str
    title: str = ""
    locator: str = ""
    text: str = ""
    quote: str = ""
    chunk_id: str = ""
    score: float = 0.0


class SentenceOut(_Open):
    text: str
    citations: list[int] = []
    supported: bool | None = None
    reason: str | None = None


class PassageOut(_Open):
    id: str = ""
    doc: str
    title: str = ""
    locator: str = ""
    text: str = ""
    score: float = 0.0
    similarity: float = 0.0


class AskResponse(_Open):
    """The same object as `sovrag ask --json`; `id` is the provenance-log entry (GET /v1/log/{id})."""

    id: str | None = None
    question: str = ""
    answer: str
    abstained: bool
    citations: list[CitationOut]
    sentences: list[SentenceOut] = []
    passages: list[PassageOut] = []
    timings: dict[str, float] = {}


class SearchResponse(_Open):
    query: str
    generation: str
    hits: list[PassageOut]


class DocumentOut(_Open):
    id: str
    title: str
    lang: str
    passages: int
    sha256: str
    added_at: str
    uploaded: bool = Field(description="Stored by POST /v1/documents (else: from a corpus folder)")


class DocumentList(_Open):
    generation: str | None
    documents: list[DocumentOut]


class FileResult(_Open):
    filename: str
    doc: str | None = None
    status: Literal["added", "changed", "unchanged", "skipped", "rejected"]
    reason: str | None = None


class UploadResponse(_Open):
    generation: str
    files: list[FileResult]
    summary: str


class DeleteResponse(_Open):
    removed: str
    generation: str
    summary: str


class JobOut(_Open):
    state: Literal["idle", "running", "done", "failed"]
    kind: str | None = None
    stage: str | None = None
    progress: float = 0.0
    started_at: str | None = None
    finished_at: str | None = None
    summary: str | None = None
    error: str | None = None


class IndexStatus(_Open):
    index: dict | None
    job: JobOut


class Health(_Open):
    status: str
    model: dict
    index: dict
    queue: dict


class ModelOut(_Open):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "sovrag"


class ModelList(_Open):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ChatChoiceMessage(_Open):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut] = Field(description="The sources behind the [n] markers in `content`")


class ChatChoice(_Open):
    index: int
    message: ChatChoiceMessage
    finish_reason: str


class ChatCompletion(_Open):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    sovrag: dict = Field(description="answer_id (provenance log), abstained, per-sentence support")


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _sse(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


class EventStream(Response):
    """An SSE response that stops producing as soon as the client disconnects.

    Starlette's StreamingResponse notices a vanished client only on its next write, and not at all
    while a request is still waiting in the queue; here a watcher on `receive` cancels the producer
    at once, so the queue place (or the model) is given back immediately.
    """

    media_type = "text/event-stream"

    def __init__(self, events: AsyncIterator[bytes], on_close: Callable[[], None] = lambda: None) -> None:
        # Not Response.__init__: with no body it would declare Content-Length: 0.
        self.status_code = 200
        self.background = None
        self.init_headers(_SSE_HEADERS)
        self.events = events
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def produce() -> None:
                    try:
                        await send({"type": "http.response.start", "status": self.status_code,
                                    "headers": self.raw_headers})
                        async with aclosing(self.events) as events:
                            async for chunk in events:
                                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    except OSError:  # the client went away between two writes
                        pass
                    finally:
                        group.cancel_scope.cancel()

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(produce)
                group.start_soon(watch)
        finally:
            self.on_close()


_END = object()


def _next(iterator: Iterator) -> Any:
    return next(iterator, _END)


async def _drive(events: Iterator[Delta | Answer]) -> AsyncIterator[Delta | Answer]:
    """Pull a blocking library iterator from worker threads; closing it stops the generation."""
    try:
        while True:
            item = await anyio.to_thread.run_sync(_next, events)
            if item is _END:
                return
            yield item
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(events.close)


def _client_error(exc: BaseException) -> tuple[int, str, str]:
    """Map a library error to (HTTP status, code, message) — for errors inside an SSE stream too."""
    if isinstance(exc, QueueFull):
        return 503, "queue_full", str(exc)
    if isinstance(exc, IndexMissingError):
        return 503, "index_missing", str(exc)
    if isinstance(exc, ModelError):
        return 503, "model_unavailable", str(exc)
    if isinstance(exc, IndexMismatchError):
        return 409, "index_mismatch", str(exc)
    if isinstance(exc, SovragError):
        return 400, "invalid_request", str(exc)
    return 500, "internal_error", "Internal error while answering; see the server log."


def _safe_upload_name(raw: str | None) -> str:
    """The stored file name for an upload: its last path component, with no way out of the folder."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    name = re.sub(r"[^\w.\- ()]+", "_", name).strip(" ")
    if not name or name.startswith(".") or len(name) > 200:
        raise ValueError("file name is empty, hidden or too long")
    return name


def _text_of(content: str | list[ContentPart] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if part.type != "text":
            raise APIError(400, f"Content of type '{part.type}' is not supported; send text.",
                           "unsupported_content", param="messages")
        texts.append(part.text or "")
    return "\n".join(texts)


class DeclaredSizeLimit:
    """Refuse a too-large declared Content-Length with a JSON 413 before the body is read.

    The per-route `max_body_size` also guards bodies of undeclared length, but its early refusal
    is plain text; this keeps every error JSON. Only `/v1/` routes: the mounted UI has its own.
    """

    def __init__(self, app, limit_for: Callable[[str, str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            limit = self.limit_for(scope["method"], scope["path"])
            declared = dict(scope.get("headers") or []).get(b"content-length", b"")
            if limit is not None and declared.isdigit() and int(declared) > limit:
                response = error_response(413, f"The request body is larger than {limit} bytes.",
                                          "body_too_large")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class IndexJobs:
    """One index write at a time in this process, and the progress of the background rebuild."""

    def __init__(self) -> None:
        self.write_lock = threading.Lock()
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {"state": "idle", "kind": None, "stage": None, "progress": 0.0,
                                       "started_at": None, "finished_at": None, "summary": None,
                                       "error": None}

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._state)

    def update(self, **fields: Any) -> None:
        with self._lock:
            self._state.update(fields)

    def busy_error(self) -> APIError:
        job = self.snapshot()
        what = f"an index {job['kind']} is running ({job['stage']}, {job['progress']:.0%})" \
            if job["state"] == "running" else "another index change is being written"
        return APIError(409, f"The index cannot change right now: {what}. Retry when "
                             "GET /v1/index/status shows it finished.", "index_busy",
                        headers={"Retry-After": "5"})


# --------------------------------------------------------------------------- the app


def create_app(runtime: Runtime, admission: Admission | None = None) -> FastAPI:
    """The API app for one runtime; `admission` defaults to the runtime's shared queue."""
    app = FastAPI(
        title="sovrag", version="0.1.0",
        description="Local, cited answers over EU legislation: a native JSON API and an "
                    "OpenAI-compatible chat-completions endpoint. Errors always have the shape "
                    '`{"error": {"message", "type", "code", "param"}}`.',
    )
    app.state.runtime = runtime
    queue = admission or runtime.admission
    app.state.admission = queue
    assistant = Assistant(runtime)
    jobs = IndexJobs()
    app.state.index_jobs = jobs
    settings = runtime.settings
    upload_limit = int(settings.max_file_mb * 1e6)
    uploads = uploads_dir(settings.index_dir)

    # ---- error rendering: every client mistake is a 4xx with a JSON reason

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError):
        return error_response(exc.status, exc.message, exc.code, param=exc.param, headers=exc.headers,
                              details=exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "The request body is not valid JSON.", "invalid_json")
        details = [{"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", "")} for e in errors]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p != "body") or "body"
        return error_response(422, f"Invalid field '{where}': {first['msg']}", "invalid_field",
                              param=where, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        messages = {404: "No such endpoint.", 405: "Method not allowed on this endpoint.",
                    413: "The request body is too large."}
        message = messages.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, message, f"http_{exc.status_code}",
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(QueueFull)
    async def _busy(request: Request, exc: QueueFull):
        return error_response(503, str(exc), "queue_full", headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(SovragError)
    async def _library_error(request: Request, exc: SovragError):
        status, code, message = _client_error(exc)
        return error_response(status, message, code)

    # ---- optional bearer token on everything but /health

    bearer = HTTPBearer(auto_error=False, description="Required when SOVRAG_API_KEY is set")

    def require_key(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008 — local scheme
    ) -> None:
        expected = runtime.settings.api_key
        if not expected:
            return
        given = credentials.credentials if credentials else ""
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise APIError(401, "Missing or wrong API key: send 'Authorization: Bearer <SOVRAG_API_KEY>'.",
                           "invalid_api_key", headers={"WWW-Authenticate": "Bearer"})

    api = APIRouter(dependencies=[Depends(require_key)])

    # ---- answering: the admission queue in front of the one model

    def admit() -> Ticket:
        return queue.admit()  # QueueFull → 503 before any response has started

    async def answer_events(ticket: Ticket, question: str, history: list[dict], k: int | None,
                            filters: SearchFilters | None) -> AsyncIterator[Delta | Answer]:
        """The library's stream, run once this request's turn comes; the place is freed on exit."""
        async with queue.slot(ticket):
            events = assistant.stream(question, history or None, k, filters)
            async with aclosing(_drive(events)) as driven:
                async for event in driven:
                    yield event

    async def final_answer(request: Request, ticket: Ticket, *args: Any) -> Answer:
        """Run to the final answer; a client that hangs up gives its place back."""
        result: list[Answer] = []
        failure: list[BaseException] = []

        async def run() -> None:
            async with aclosing(answer_events(ticket, *args)) as events:
                async for event in events:
                    if isinstance(event, Answer):
                        result.append(event)

        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    while (await request.receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                async def main() -> None:
                    try:
                        await run()
                    except Exception as exc:  # noqa: BLE001 — re-raised below, outside the task group
                        failure.append(exc)
                    finally:
                        group.cancel_scope.cancel()

                group.start_soon(watch)
                group.start_soon(main)
        finally:
            queue.release(ticket)
        if failure:
            raise failure[0]
        if not result:
            raise APIError(499, "Client closed the request.", "client_closed")
        return result[0]

    # ---- native endpoints

    @app.get("/health", tags=["service"], response_model=None, responses=_documented(ok=Health))
    def health() -> dict:
        """Liveness and readiness: model loaded, index generation and size, queue. No token needed."""
        try:
            generation = runtime.generation()
            index = {"generation": generation.name, "passages": generation.size,
                     "documents": len(generation.documents())}
        except SovragError as exc:
            index = {"generation": None, "passages": 0, "documents": 0, "error": str(exc)}
        return {"status": "ok" if index["generation"] else "no_index",
                "model": {"id": settings.generator, "loaded": runtime.generator_loaded},
                "index": index, "queue": queue.stats()}

    @api.post("/v1/ask", tags=["native"], response_model=None, max_body_size=MAX_JSON_BYTES,
              responses=_documented(400, 401, 413, 422, 503, ok=AskResponse, links={
                  "GetLogEntry": {"operationId": "log_entry_v1_log__entry_id__get",
                                  "parameters": {"entry_id": "$response.body#/id"},
                                  "description": "The provenance record of this answer"}},
                                    sse="With stream=true: `delta` events ({text}) while the model "
                                        "writes, then one `answer` event (the full answer object)"))
    async def ask(body: AskRequest, request: Request):
        """A cited answer (the `sovrag ask --json` object), or its SSE stream when `stream` is true."""
        history = [t.model_dump() for t in body.history]
        filters = body.filters.to_search() if body.filters else None
        args = (body.question, history, body.k, filters)
        ticket = admit()
        if not body.stream:
            return (await final_answer(request, ticket, *args)).to_dict()

        async def events() -> AsyncIterator[bytes]:
            yield b": waiting for the model\n\n"
            try:
                async for event in answer_events(ticket, *args):
                    if isinstance(event, Delta):
                        yield _sse({"text": event.text}, "delta")
                    else:
                        yield _sse(event.to_dict(), "answer")
            except Exception as exc:  # noqa: BLE001 — headers are sent: report in-band
                status, code, message = _client_error(exc)
                yield _sse(error_body(status, message, code), "error")

        return EventStream(events(), on_close=lambda: queue.release(ticket))

    @api.post("/v1/search", tags=["native"], response_model=None, max_body_size=MAX_JSON_BYTES,
              responses=_documented(400, 401, 413, 422, 503, ok=SearchResponse))
    def search(body: SearchRequest) -> dict:
        """Retrieved passages with locators and scores; never waits for the model."""
        retriever = runtime.retriever()
        hits = retriever.search(body.query, k=body.k,
                                filters=body.filters.to_search() if body.filters else None)
        return {"query": body.query, "generation": retriever.generation.name,
                "hits": [h.to_dict() for h in hits]}

    @api.get("/v1/documents", tags=["documents"], response_model=None,
             responses=_documented(401, 503, ok=DocumentList))
    def list_documents() -> dict:
        """The documents of the current index generation."""
        generation = runtime.generation()
        return {"generation": generation.name, "documents": [
            {"id": d.id, "title": d.title, "lang": d.lang, "passages": d.passages, "sha256": d.sha256,
             "added_at": d.added_at, "uploaded": is_uploaded(d.source_path, settings.index_dir)}
            for d in generation.documents().values()]}

    def _store_upload(upload: UploadFile, name: str) -> tuple[Path, bool]:
        """Write an upload to uploads/<name> via a hidden temp file; (path, existed before)."""
        from .documents import supported_suffixes

        suffix = Path(name).suffix.lower()
        if suffix not in supported_suffixes():
            raise APIError(415, f"unsupported file type '{suffix or name}' "
                                f"(supported: {', '.join(supported_suffixes())})", "unsupported_type")
        uploads.mkdir(parents=True, exist_ok=True)
        target = (uploads / name).resolve()
        if target.parent != uploads.resolve():
            raise APIError(400, "file name escapes the upload folder", "bad_filename")
        tmp = uploads / f".upload-{uuid.uuid4().hex}"
        size = 0
        head = b""
        try:
            with open(tmp, "wb") as out:
                while chunk := upload.file.read(1 << 20):
                    size += len(chunk)
                    if size > upload_limit:
                        raise APIError(413, f"file is larger than {settings.max_file_mb:g} MB",
                                       "file_too_large")
                    if len(head) < 8:
                        head += chunk[:8]
                    out.write(chunk)
            if size == 0:
                raise APIError(400, "file is empty", "empty_file")
            magic = {".pdf": b"%PDF", ".docx": b"PK"}
            if suffix in magic and not head.startswith(magic[suffix]):
                raise APIError(415, f"content is not a {suffix} file", "content_mismatch")
            existed = target.exists()
            os.replace(tmp, target)
            return target, existed
        finally:
            tmp.unlink(missing_ok=True)

    @api.post("/v1/documents", tags=["documents"], response_model=None,
              max_body_size=upload_limit + (1 << 20),  # files plus multipart overhead
              responses=_documented(400, 401, 409, 413, 415, 422, 503, ok=UploadResponse, links={
                  "DeleteDocument": {"operationId": "delete_document_v1_documents__doc_id__delete",
                                     "parameters": {"doc_id": "$response.body#/files/0/doc"},
                                     "description": "Remove the first uploaded document again"}}))
    def upload_documents(
        files: Annotated[list[UploadFile], File(description="Documents to index (md, txt, html, pdf, "
                                                            "docx); the file name becomes the id")],
    ) -> dict:
        """Store uploaded files under the index folder and index them incrementally; per-file result."""
        from .ingest import IGNORED_NAMES, run_ingest

        if len(files) > MAX_UPLOAD_FILES:
            raise APIError(400, f"At most {MAX_UPLOAD_FILES} files per request.", "too_many_files")
        if not jobs.write_lock.acquire(blocking=False):
            raise jobs.busy_error()
        try:
            results: list[dict] = []
            stored: dict[str, Path] = {}
            created: list[Path] = []
            statuses: list[int] = []
            for upload in files:
                try:
                    name = _safe_upload_name(upload.filename)
                    if name in IGNORED_NAMES:
                        raise APIError(400, f"'{name}' is a reserved name; rename the file", "bad_filename")
                    if name in stored:
                        raise APIError(400, "the same file name appears twice in this request",
                                       "duplicate_filename")
                    path, existed = _store_upload(upload, name)
                    stored[name] = path
                    if not existed:
                        created.append(path)
                    results.append({"filename": upload.filename or "", "doc": name, "status": "skipped"})
                except ValueError as exc:
                    results.append({"filename": upload.filename or "", "status": "rejected", "reason": str(exc)})
                    statuses.append(400)
                except APIError as exc:
                    results.append({"filename": upload.filename or "", "status": "rejected",
                                    "reason": exc.message})
                    statuses.append(exc.status)
            if not stored:
                status = statuses[0] if len(set(statuses)) == 1 else 400
                raise APIError(status, "No file was accepted: " + "; ".join(
                    f"{r['filename'] or '(no name)'}: {r['reason']}" for r in results), "no_file_accepted",
                    details=results)
            try:
                report = run_ingest(runtime.store, runtime.embedder, list(stored.values()),
                                    max_bytes=upload_limit, full_rebuild=not runtime.store.exists(),
                                    say=lambda message: None, show_progress=False)
            except SovragError as exc:
                for path in created:
                    path.unlink(missing_ok=True)
                raise APIError(409, str(exc), "index_write_failed") from exc
        finally:
            jobs.write_lock.release()
        skipped = dict(report.skipped)
        for result in results:
            doc = result.get("doc")
            if doc is None:
                continue
            if doc in skipped:
                result.update(status="skipped", reason=skipped[doc])
                if stored[doc] in created:
                    stored[doc].unlink(missing_ok=True)
            elif doc in report.added:
                result["status"] = "added"
            elif doc in report.changed:
                result["status"] = "changed"
            else:
                result["status"] = "unchanged"
        return {"generation": report.generation, "files": results, "summary": report.summary()}

    @api.delete("/v1/documents/{doc_id:path}", tags=["documents"], response_model=None,
                responses=_documented(401, 404, 409, 503, ok=DeleteResponse))
    def delete_document(doc_id: Annotated[str, PathParam(min_length=1, max_length=500)]) -> dict:
        """Remove a document from the index (and its stored file, if it was uploaded)."""
        from .ingest import run_ingest

        record = runtime.generation().documents().get(doc_id)
        if record is None:
            raise APIError(404, f"No document '{doc_id}' in the index (see GET /v1/documents).",
                           "document_not_found")
        if not jobs.write_lock.acquire(blocking=False):
            raise jobs.busy_error()
        try:
            report = run_ingest(runtime.store, runtime.embedder, [], max_bytes=upload_limit,
                                full_rebuild=False, remove_ids=[doc_id], say=lambda message: None,
                                show_progress=False)
        except SovragError as exc:
            raise APIError(409, str(exc), "index_write_failed") from exc
        finally:
            jobs.write_lock.release()
        if is_uploaded(record.source_path, settings.index_dir):
            Path(record.source_path).unlink(missing_ok=True)
        return {"removed": doc_id, "generation": report.generation, "summary": report.summary()}

    def _rebuild(paths: list[Path]) -> None:
        from .ingest import run_ingest

        def progress(stage: str, fraction: float) -> None:
            jobs.update(stage=stage, progress=round(fraction, 3))

        try:
            report = run_ingest(runtime.store, runtime.embedder, paths,
                                max_bytes=upload_limit, full_rebuild=True, say=lambda message: None,
                                show_progress=False, progress_hook=progress)
            jobs.update(state="done", stage="done", progress=1.0, finished_at=_now(),
                        summary=report.summary())
        except Exception as exc:  # noqa: BLE001 — a background job reports, not raises
            jobs.update(state="failed", finished_at=_now(), error=str(exc) or type(exc).__name__)
        finally:
            jobs.write_lock.release()

    @api.post("/v1/index/rebuild", tags=["index"], response_model=None, status_code=202,
              responses=_documented(401, 409, ok=JobOut, ok_status=202))
    def rebuild() -> dict:
        """Start rebuilding the index from the corpus folder plus uploads; poll GET /v1/index/status."""
        paths = rebuild_sources(settings.corpus_dir, settings.index_dir)
        if not paths:
            raise APIError(409, f"Nothing to rebuild from: no corpus folder at {settings.corpus_dir} "
                                "and no uploads.", "nothing_to_index")
        if not jobs.write_lock.acquire(blocking=False):
            raise jobs.busy_error()
        jobs.update(state="running", kind="rebuild", stage="starting", progress=0.0, started_at=_now(),
                    finished_at=None, summary=None, error=None)
        threading.Thread(target=_rebuild, args=(paths,), name="index-rebuild", daemon=True).start()
        return jobs.snapshot()

    @api.get("/v1/index/status", tags=["index"], response_model=None,
             responses=_documented(401, ok=IndexStatus))
    def index_status() -> dict:
        """What the current index holds, and the progress of a running rebuild."""
        from .cli import index_status as describe

        try:
            index = describe(runtime)
            index.pop("document_list", None)
            index.pop("index_dir", None)
        except SovragError as exc:
            index = {"error": str(exc)}
        return {"index": index, "job": jobs.snapshot()}

    @api.get("/v1/log/{entry_id}", tags=["native"], response_model=None,
             responses=_documented(401, 404, 422))
    def log_entry(entry_id: Annotated[str, PathParam(min_length=1, max_length=64,
                                                     pattern=r"^[A-Za-z0-9_-]+$")]) -> dict:
        """The provenance record of an answer: question, passages, model hash, index generation."""
        entry = runtime.provenance.get(entry_id)
        if entry is None:
            raise APIError(404, f"No log entry '{entry_id}'.", "log_entry_not_found")
        return entry

    # ---- OpenAI-compatible endpoints

    def _model_card() -> dict:
        return {"id": settings.generator, "object": "model", "created": 0, "owned_by": "sovrag"}

    @api.get("/v1/models", tags=["openai"], response_model=None, responses=_documented(401, ok=ModelList))
    def list_models() -> dict:
        """The configured generator, as OpenAI's model list."""
        return {"object": "list", "data": [_model_card()]}

    @api.get("/v1/models/{model_id:path}", tags=["openai"], response_model=None,
             responses=_documented(401, 404, ok=ModelOut))
    def get_model(model_id: str) -> dict:
        if model_id != settings.generator:
            raise APIError(404, f"Model '{model_id}' is not served here; this server answers with "
                                f"'{settings.generator}'.", "model_not_found", param="model")
        return _model_card()

    def _chat_arguments(body: ChatCompletionRequest) -> tuple[str, list[dict]]:
        """(question, history) from OpenAI messages; unsupported options are rejected here."""
        if body.tools:
            raise APIError(400, "Tool calling is not supported by this server.", "unsupported_parameter",
                           param="tools")
        if body.logprobs:
            raise APIError(400, "logprobs are not supported by this server.", "unsupported_parameter",
                           param="logprobs")
        if body.response_format and body.response_format.get("type", "text") != "text":
            raise APIError(400, "Only response_format type 'text' is supported.", "unsupported_parameter",
                           param="response_format")
        turns = [m for m in body.messages if m.role in ("user", "assistant")]
        if not turns or body.messages[-1].role != "user":
            raise APIError(400, "The last message must be the user's question.", "invalid_messages",
                           param="messages")
        question = _text_of(turns[-1].content).strip()
        if not question:
            raise APIError(400, "The last user message is empty.", "invalid_messages", param="messages")
        if len(question) > MAX_QUESTION_CHARS:
            raise APIError(400, f"The question is longer than {MAX_QUESTION_CHARS} characters.",
                           "question_too_long", param="messages")
        history = [{"role": m.role, "content": _text_of(m.content)} for m in turns[:-1]]
        return question, history

    def _openai_extra(answer: Answer) -> dict:
        return {"answer_id": answer.id or None, "abstained": answer.abstained,
                "sentences": answer.to_dict()["sentences"]}

    @api.post("/v1/chat/completions", tags=["openai"], response_model=None, max_body_size=MAX_JSON_BYTES,
              responses=_documented(400, 401, 413, 422, 503, ok=ChatCompletion,
                                    sse="With stream=true: chat.completion.chunk events; the last "
                                        "chunk's delta carries `citations`; then `data: [DONE]`"))
    async def chat_completions(body: ChatCompletionRequest, request: Request):
        """OpenAI chat completions: the last user message is the question, earlier turns the history.

        The answer keeps its [n] markers; `message.citations` (or the final chunk's
        `delta.citations`) lists the passage behind each marker.
        """
        question, history = _chat_arguments(body)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        ticket = admit()
        if not body.stream:
            answer = await final_answer(request, ticket, question, history, None, None)
            data = answer.to_dict()
            return {"id": completion_id, "object": "chat.completion", "created": created,
                    "model": settings.generator,
                    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                 "message": {"role": "assistant", "content": answer.text,
                                             "citations": data["citations"]}}],
                    "sovrag": _openai_extra(answer)}

        def chunk(delta: dict, finish: str | None = None, **extra: Any) -> bytes:
            return _sse({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                         "model": settings.generator,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                         **extra})

        async def events() -> AsyncIterator[bytes]:
            yield chunk({"role": "assistant", "content": ""})
            streamed = False
            draft = ""
            try:
                async for event in answer_events(ticket, question, history, None, None):
                    if isinstance(event, Delta):
                        streamed = True
                        draft += event.text
                        yield chunk({"content": event.text})
                        continue
                    if not streamed:
                        yield chunk({"content": event.text})
                    elif event.abstained or not set(cited_numbers(event.text)) <= set(cited_numbers(draft)):
                        # Verification withdrew the draft or moved its citations: the checked text
                        # follows, so that every cited [n] appears in the content.
                        yield chunk({"content": "\n\n" + event.text})
                    yield chunk({"citations": event.to_dict()["citations"]}, "stop",
                                sovrag=_openai_extra(event))
            except Exception as exc:  # noqa: BLE001 — headers are sent: report in-band, as OpenAI does
                status, code, message = _client_error(exc)
                yield _sse(error_body(status, message, code))
            yield b"data: [DONE]\n\n"

        return EventStream(events(), on_close=lambda: queue.release(ticket))

    app.include_router(api)

    def limit_for(method: str, path: str) -> int | None:
        if method != "POST":
            return None
        return upload_limit + (1 << 20) if path == "/v1/documents" else MAX_JSON_BYTES

    app.add_middleware(DeclaredSizeLimit, limit_for=limit_for)
    return app
