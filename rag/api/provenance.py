"""GET /v1/log/{id}: the provenance record of an answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam

from .deps import RuntimeDep
from .errors import APIError, documented

router = APIRouter(tags=["native"])

EntryId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/v1/log/{entry_id}", response_model=None, responses=documented(401, 404, 422))
def log_entry(entry_id: EntryId, runtime: RuntimeDep) -> dict:
    """The provenance record of an answer: question, passages, model hash, index generation."""
    entry = runtime.provenance.get(entry_id)
    if entry is None:
        raise APIError(404, f"No log entry '{entry_id}'.", "log_entry_not_found")
    return entry
