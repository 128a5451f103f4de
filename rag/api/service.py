"""GET /health: liveness and readiness; the one route that needs no token."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import SovragError
from .deps import AnsweringDep, RuntimeDep
from .errors import documented
from .schemas import Health

router = APIRouter(tags=["service"])


@router.get("/health", response_model=None, responses=documented(ok=Health))
def health(runtime: RuntimeDep, answering: AnsweringDep) -> dict:
    """Liveness and readiness: model loaded, index generation and size, queue. No token needed."""
    try:
        generation = runtime.generation()
        index = {
            "generation": generation.name,
            "passages": generation.size,
            "documents": len(generation.documents()),
        }
    except SovragError as exc:
        index = {"generation": None, "passages": 0, "documents": 0, "error": str(exc)}
    return {
        "status": "ok" if index["generation"] else "no_index",
        "model": {"id": runtime.settings.generator, "loaded": runtime.generator_loaded},
        "index": index,
        "queue": answering.queue.stats(),
    }
