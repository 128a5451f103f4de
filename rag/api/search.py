"""POST /v1/search: retrieved passages, without the model."""

from __future__ import annotations

from fastapi import APIRouter

from .deps import RuntimeDep
from .errors import documented
from .schemas import MAX_JSON_BYTES, SearchRequest, SearchResponse

router = APIRouter(tags=["native"])


@router.post(
    "/v1/search",
    response_model=None,
    max_body_size=MAX_JSON_BYTES,
    responses=documented(400, 401, 413, 422, 503, ok=SearchResponse),
)
def search(body: SearchRequest, runtime: RuntimeDep) -> dict:
    """Retrieved passages with locators and scores; never waits for the model."""
    retriever = runtime.retriever()
    hits = retriever.search(
        body.query, k=body.k, filters=body.filters.to_search() if body.filters else None
    )
    return {
        "query": body.query,
        "generation": retriever.generation.name,
        "hits": [h.to_dict() for h in hits],
    }
