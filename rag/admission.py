"""Admission in front of the one in-process model: a bounded FIFO of requests waiting their turn.

llama.cpp serves one generation at a time. Without a bound, a burst of requests would pile up
behind the model lock until clients time out; with this queue a request is either admitted (and
runs when its turn comes, in arrival order) or refused at once with an estimate of when to retry.
A ticket that is cancelled while waiting (its client went away) leaves the queue immediately.

The queue is thread-based so that both the async HTTP layer (via `slot`) and threaded callers
such as the UI (via `turn`) can share it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from .errors import SovragError

DEFAULT_MAX_WAITING = 8
"""Requests allowed to wait behind the running one; more are refused (HTTP 503)."""
_INITIAL_TURN_SECONDS = 10.0
"""Guess of one answer's duration before any has been measured (feeds Retry-After)."""


class QueueFull(SovragError):
    """The model is busy and the waiting line is full; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int, waiting: int) -> None:
        super().__init__(
            f"The model is busy ({waiting} requests waiting); retry in about {retry_after} s."
        )
        self.retry_after = retry_after


@dataclass(eq=False)
class Ticket:
    """One admitted request: waits for its turn, then holds the model until released."""

    admitted_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    done: bool = False


class Admission:
    """Bounded FIFO admission: at most one ticket holds the model, `max_waiting` wait behind it."""

    def __init__(self, max_waiting: int = DEFAULT_MAX_WAITING) -> None:
        if max_waiting < 0:
            raise ValueError("max_waiting must be >= 0")
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._waiting: deque[Ticket] = deque()
        self._holder: Ticket | None = None
        self._turn_seconds = _INITIAL_TURN_SECONDS
        self.served = 0
        self.refused = 0

    def admit(self) -> Ticket:
        """Take a place in line without blocking, or raise `QueueFull` when the line is full."""
        with self._cond:
            if len(self._waiting) + (self._holder is not None) > self.max_waiting:
                self.refused += 1
                raise QueueFull(self._retry_after_locked(), len(self._waiting))
            ticket = Ticket()
            self._waiting.append(ticket)
            return ticket

    def wait_turn(self, ticket: Ticket, timeout: float | None = None) -> bool:
        """Block until `ticket` holds the model; False when it was released/cancelled or timed out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not ticket.done and not (
                self._holder is None and self._waiting and self._waiting[0] is ticket
            ):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            if ticket.done:
                return False
            self._waiting.popleft()
            self._holder = ticket
            ticket.started_at = time.monotonic()
            return True

    def release(self, ticket: Ticket) -> None:
        """Give back the model or the place in line; safe to call more than once."""
        with self._cond:
            if ticket.done:
                return
            ticket.done = True
            if self._holder is ticket:
                self._holder = None
                self.served += 1
                if ticket.started_at is not None:
                    took = time.monotonic() - ticket.started_at
                    self._turn_seconds = 0.7 * self._turn_seconds + 0.3 * took
            else:
                with contextlib.suppress(ValueError):
                    self._waiting.remove(ticket)
            self._cond.notify_all()

    def _retry_after_locked(self) -> int:
        return max(1, math.ceil(self._turn_seconds * (len(self._waiting) + 1)))

    def retry_after(self) -> int:
        """Seconds a refused client should wait: the line ahead times the recent answer duration."""
        with self._cond:
            return self._retry_after_locked()

    def stats(self) -> dict:
        with self._cond:
            return {
                "running": int(self._holder is not None),
                "waiting": len(self._waiting),
                "max_waiting": self.max_waiting,
                "served": self.served,
                "refused": self.refused,
            }

    @contextlib.contextmanager
    def turn(self) -> Iterator[Ticket]:
        """Blocking use from a worker thread: admit, wait for the model, release on exit."""
        ticket = self.admit()
        try:
            self.wait_turn(ticket)
            yield ticket
        finally:
            self.release(ticket)

    @contextlib.asynccontextmanager
    async def slot(self, ticket: Ticket | None = None) -> AsyncIterator[Ticket]:
        """Async use: wait for the model without blocking the event loop; cancellation frees the place.

        Pass a ticket from `admit()` when the refusal must happen before a response starts
        (streaming); otherwise admission happens here and may raise `QueueFull`.
        """
        import anyio

        ticket = ticket or self.admit()
        try:
            got = await anyio.to_thread.run_sync(self.wait_turn, ticket, abandon_on_cancel=True)
            if not got:
                raise SovragError("The request left the queue before its turn.")
            yield ticket
        finally:
            # Wakes an abandoned waiting thread too, so nothing keeps the place.
            self.release(ticket)
