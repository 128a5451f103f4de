"""What routes receive through FastAPI dependencies: the runtime, the answering queue, the document
library, and the optional bearer-token check. All of it is set on `app.state` by `create_app`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..library import DocumentLibrary
from ..runtime import Runtime
from .answering import Answering
from .errors import APIError


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _answering(request: Request) -> Answering:
    return request.app.state.answering


def _library(request: Request) -> DocumentLibrary:
    return request.app.state.library


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
AnsweringDep = Annotated[Answering, Depends(_answering)]
LibraryDep = Annotated[DocumentLibrary, Depends(_library)]

_bearer = HTTPBearer(auto_error=False, description="Required when SOVRAG_API_KEY is set")


def require_key(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Every /v1 route when a key is configured; compared in constant time."""
    expected = runtime.settings.api_key
    if not expected:
        return
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise APIError(
            401,
            "Missing or wrong API key: send 'Authorization: Bearer <SOVRAG_API_KEY>'.",
            "invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
