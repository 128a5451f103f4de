"""POST /v1/search: retrieved passages; the model drafts nothing here."""

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
    """Retrieved passages with locators and scores; no answer is drafted. A query in a language
    the searched documents lack is translated first, which is the one use of the model here."""
    retriever = runtime.retriever()
    hits = retriever.search(
        body.query, k=body.k, filters=body.filters.to_search() if body.filters else None
    )
    return {
        "query": body.query,
        "generation": retriever.generation.name,
        "hits": [h.to_dict() for h in hits],
    }
