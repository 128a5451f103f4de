"""POST /v1/ask: a cited answer, or its stream of server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request

from ..assistant import Delta
from .deps import AnsweringDep
from .errors import client_error, documented, error_body
from .schemas import MAX_JSON_BYTES, AskRequest, AskResponse
from .sse import EventStream, sse

router = APIRouter(tags=["native"])

_LINKS = {
    "GetLogEntry": {
        "operationId": "log_entry_v1_log__entry_id__get",
        "parameters": {"entry_id": "$response.body#/id"},
        "description": "The provenance record of this answer",
    }
}
_STREAM = (
    "With stream=true: `delta` events ({text}) while the model writes, then one `answer` "
    "event (the full answer object)"
)


@router.post(
    "/v1/ask",
    response_model=None,
    max_body_size=MAX_JSON_BYTES,
    responses=documented(400, 401, 413, 422, 503, ok=AskResponse, links=_LINKS, sse=_STREAM),
)
async def ask(body: AskRequest, request: Request, answering: AnsweringDep):
    """A cited answer (the `sovrag ask --json` object), or its SSE stream when `stream` is true."""
    history = [t.model_dump() for t in body.history]
    filters = body.filters.to_search() if body.filters else None
    args = (body.question, history, body.k, filters)
    ticket = answering.admit()
    if not body.stream:
        return (await answering.final(request, ticket, *args)).to_dict()

    async def events() -> AsyncIterator[bytes]:
        yield b": waiting for the model\n\n"
        try:
            async for event in answering.events(ticket, *args):
                if isinstance(event, Delta):
                    yield sse({"text": event.text}, "delta")
                else:
                    yield sse(event.to_dict(), "answer")
        except Exception as exc:  # noqa: BLE001 — headers are sent: report in-band
            status, code, message = client_error(exc)
            yield sse(error_body(status, message, code), "error")

    return EventStream(events(), on_close=lambda: answering.release(ticket))
