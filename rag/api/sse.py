"""Server-sent events: the wire format, a response that notices a vanished client at once, and
the bridge from the library's blocking answer iterator to async code."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from typing import Any

import anyio
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

SSE_EVENT_SCHEMA = {
    "type": "object",
    "required": ["data"],
    "description": "One server-sent event; `data` is a JSON document (or `[DONE]` for chat).",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}


def sse(data: Any, event: str | None = None) -> bytes:
    """One event on the wire; `data` is sent as is when a string, else as JSON."""
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

    def __init__(
        self, events: AsyncIterator[bytes], on_close: Callable[[], None] = lambda: None
    ) -> None:
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
                        await send(
                            {
                                "type": "http.response.start",
                                "status": self.status_code,
                                "headers": self.raw_headers,
                            }
                        )
                        async with aclosing(self.events) as events:
                            async for chunk in events:
                                await send(
                                    {"type": "http.response.body", "body": chunk, "more_body": True}
                                )
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


async def drive(events: Iterator) -> AsyncIterator:
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
