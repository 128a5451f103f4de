"""Refuse a too-large declared body with a JSON 413 before reading it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response


class DeclaredSizeLimit:
    """Refuse a too-large declared Content-Length with a JSON 413 before the body is read.

    The per-route `max_body_size` also guards bodies of undeclared length, but its early refusal
    is plain text; this keeps every error JSON. Only `/v1/` routes: the mounted UI has its own.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int | None]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            limit = self.limit_for(scope["method"], scope["path"])
            declared = dict(scope.get("headers") or []).get(b"content-length", b"")
            if limit is not None and declared.isdigit() and int(declared) > limit:
                response = error_response(
                    413, f"The request body is larger than {limit} bytes.", "body_too_large"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
