"""POST /v1/index/rebuild and GET /v1/index/status: the background rebuild and its progress."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import SovragError
from .deps import LibraryDep
from .errors import documented
from .schemas import IndexStatus, JobOut

router = APIRouter(tags=["index"])


@router.post(
    "/v1/index/rebuild",
    response_model=None,
    status_code=202,
    responses=documented(401, 409, ok=JobOut, ok_status=202),
)
def rebuild(library: LibraryDep) -> dict:
    """Start rebuilding the index from the corpus folder plus uploads; poll GET /v1/index/status."""
    return library.start_rebuild()


@router.get("/v1/index/status", response_model=None, responses=documented(401, ok=IndexStatus))
def index_status(library: LibraryDep) -> dict:
    """What the current index holds, and the progress of a running rebuild."""
    try:
        index = library.status()
        index.pop("document_list", None)
        index.pop("index_dir", None)
    except SovragError as exc:
        index = {"error": str(exc)}
    return {"index": index, "job": library.job()}
