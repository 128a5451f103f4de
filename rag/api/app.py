"""`create_app`: the API app for one runtime — state, error rendering, size limits, routers."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from ..admission import Admission
from ..assistant import Assistant
from ..runtime import Runtime
from . import answers, documents, index, openai, provenance, search, service
from .answering import Answering
from .deps import require_key
from .errors import install_error_handlers
from .middleware import DeclaredSizeLimit
from .schemas import MAX_JSON_BYTES

_DESCRIPTION = (
    "Local, cited answers over EU legislation: a native JSON API and an "
    "OpenAI-compatible chat-completions endpoint. Errors always have the shape "
    '`{"error": {"message", "type", "code", "param"}}`.'
)


def create_app(runtime: Runtime, admission: Admission | None = None) -> FastAPI:
    """The API app for one runtime; `admission` defaults to the runtime's shared queue."""
    app = FastAPI(title="sovrag", version="0.1.0", description=_DESCRIPTION)
    queue = admission or runtime.admission
    app.state.runtime = runtime
    app.state.admission = queue
    app.state.answering = Answering(Assistant(runtime), queue)
    app.state.library = runtime.library
    app.state.index_jobs = runtime.library  # its write_lock guards every index change
    install_error_handlers(app)

    keyed = [Depends(require_key)]
    upload_limit = runtime.library.max_bytes
    app.include_router(service.router)
    for router in (
        answers.router,
        search.router,
        documents.router(upload_limit),
        index.router,
        provenance.router,
        openai.router,
    ):
        app.include_router(router, dependencies=keyed)

    def limit_for(method: str, path: str) -> int | None:
        if method != "POST":
            return None
        return upload_limit + (1 << 20) if path == "/v1/documents" else MAX_JSON_BYTES

    app.add_middleware(DeclaredSizeLimit, limit_for=limit_for)
    return app
