"""Answering over HTTP: the admission queue in front of the one model, and a request's place in
it given back as soon as its client hangs up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
from fastapi import Request

from ..admission import Admission, Ticket
from ..assistant import Answer, Assistant, Delta
from ..retrieval import SearchFilters
from .errors import APIError
from .sse import drive


class Answering:
    """The assistant behind the app's queue; shared by the native and OpenAI-compatible routes."""

    def __init__(self, assistant: Assistant, queue: Admission) -> None:
        self.assistant = assistant
        self.queue = queue

    def admit(self) -> Ticket:
        return self.queue.admit()  # QueueFull → 503 before any response has started

    def release(self, ticket: Ticket) -> None:
        self.queue.release(ticket)

    async def events(
        self,
        ticket: Ticket,
        question: str,
        history: list[dict],
        k: int | None,
        filters: SearchFilters | None,
    ) -> AsyncIterator[Delta | Answer]:
        """The library's stream, run once this request's turn comes; the place is freed on exit."""
        async with self.queue.slot(ticket):
            events = self.assistant.stream(question, history or None, k, filters)
            async with aclosing(drive(events)) as driven:
                async for event in driven:
                    yield event

    async def final(self, request: Request, ticket: Ticket, *args: Any) -> Answer:
        """Run to the final answer; a client that hangs up gives its place back."""
        result: list[Answer] = []
        failure: list[BaseException] = []

        async def run() -> None:
            async with aclosing(self.events(ticket, *args)) as events:
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
                    except Exception as exc:  # noqa: BLE001 — re-raised below, outside the group
                        failure.append(exc)
                    finally:
                        group.cancel_scope.cancel()

                group.start_soon(watch)
                group.start_soon(main)
        finally:
            self.release(ticket)
        if failure:
            raise failure[0]
        if not result:
            raise APIError(499, "Client closed the request.", "client_closed")
        return result[0]
