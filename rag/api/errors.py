"""Error shapes and their rendering: every client mistake is a 4xx with a JSON reason, in
OpenAI's error shape so their clients show the message."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..admission import QueueFull
from ..errors import IndexMismatchError, IndexMissingError, ModelError, SovragError
from ..library import DocumentNotFound, IndexWriteError, LibraryBusy, NothingToIndex
from .sse import SSE_EVENT_SCHEMA


class ErrorDetail(BaseModel):
    message: str = Field(description="What went wrong and what to do about it")
    type: str = Field(
        description="invalid_request_error, authentication_error, not_found_error, "
        "conflict_error, overloaded_error, server_error"
    )
    code: str | None = None
    param: str | None = None
    details: list[dict] | None = Field(None, description="Per-field problems, or per-file results")


class ErrorResponse(BaseModel):
    """Every error, from every endpoint: OpenAI's error shape, so their clients show the message."""

    error: ErrorDetail


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    503: "overloaded_error",
}


class APIError(Exception):
    """An HTTP error with a user-facing message; raised by routes, rendered as `ErrorResponse`."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers, self.details = headers, details


def error_body(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    details: list[dict] | None = None,
) -> dict:
    error: dict[str, Any] = {
        "message": message,
        "type": _ERROR_TYPES.get(status, "server_error"),
        "code": code,
        "param": param,
    }
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int,
    message: str,
    code: str | None = None,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    details: list[dict] | None = None,
) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content=error_body(status, message, code, param, details),
        headers=headers,
    )


_LIBRARY_ERRORS = (
    (IndexWriteError, 409, "index_write_failed"),
    (NothingToIndex, 409, "nothing_to_index"),
    (DocumentNotFound, 404, "document_not_found"),
)


def client_error(exc: BaseException) -> tuple[int, str, str]:
    """Map a library error to (HTTP status, code, message) — for errors inside an SSE stream too."""
    if isinstance(exc, QueueFull):
        return 503, "queue_full", str(exc)
    if isinstance(exc, IndexMissingError):
        return 503, "index_missing", str(exc)
    if isinstance(exc, ModelError):
        return 503, "model_unavailable", str(exc)
    if isinstance(exc, IndexMismatchError):
        return 409, "index_mismatch", str(exc)
    if isinstance(exc, LibraryBusy):
        return (
            409,
            "index_busy",
            (
                f"The index cannot change right now: {exc.what}. Retry when "
                "GET /v1/index/status shows it finished."
            ),
        )
    for kind, status, code in _LIBRARY_ERRORS:
        if isinstance(exc, kind):
            return status, code, str(exc)
    if isinstance(exc, SovragError):
        return 400, "invalid_request", str(exc)
    return 500, "internal_error", "Internal error while answering; see the server log."


_DESCRIPTIONS = {
    400: "Malformed or unsupported request",
    401: "Missing or wrong bearer token",
    404: "Not found",
    409: "Conflicts with the index state or a running index job",
    413: "Body or file too large",
    415: "Unsupported file type",
    422: "A field is invalid",
    503: "Model busy (see Retry-After) or index unavailable",
}


def documented(
    *statuses: int,
    ok: type[BaseModel] | None = None,
    sse: str | None = None,
    ok_status: int = 200,
    links: dict | None = None,
) -> dict:
    """OpenAPI `responses` for a route: its success body (JSON and/or SSE) and its error codes."""
    out: dict[int | str, dict] = {
        s: {"model": ErrorResponse, "description": _DESCRIPTIONS[s]} for s in statuses
    }
    if ok is not None:
        out[ok_status] = {"description": sse or "Success", "model": ok}
        if sse is not None:
            out[ok_status]["content"] = {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}}
        if links:
            out[ok_status]["links"] = links
    return out


async def _api_error(request: Request, exc: APIError):
    return error_response(
        exc.status, exc.message, exc.code, param=exc.param, headers=exc.headers, details=exc.details
    )


async def _invalid(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "The request body is not valid JSON.", "invalid_json")
    details = [{"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", "")} for e in errors]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(p for p in first["loc"] if p != "body") or "body"
    return error_response(
        422,
        f"Invalid field '{where}': {first['msg']}",
        "invalid_field",
        param=where,
        details=details,
    )


async def _http_error(request: Request, exc: StarletteHTTPException):
    messages = {
        404: "No such endpoint.",
        405: "Method not allowed on this endpoint.",
        413: "The request body is too large.",
    }
    message = messages.get(exc.status_code, str(exc.detail))
    return error_response(
        exc.status_code, message, f"http_{exc.status_code}", headers=getattr(exc, "headers", None)
    )


async def _library_error(request: Request, exc: SovragError):
    status, code, message = client_error(exc)
    retry = getattr(exc, "retry_after", None)  # the queue or the index is busy
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return error_response(status, message, code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SovragError, _library_error)
