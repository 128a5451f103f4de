"""The HTTP API: native JSON endpoints and an OpenAI-compatible chat endpoint over the library.

Each router module translates HTTP to one library call (`Assistant`, `Retriever`, the document
library, the provenance log); HTTP's own business (limits, the bearer token, error shapes,
server-sent events, the admission queue) lives beside them. `rag.server` mounts the UI.
"""

import hmac  # noqa: F401 — the bearer check's constant-time comparison; tests spy on it here

from ..library import safe_name as _safe_upload_name
from .app import create_app
from .schemas import MAX_QUESTION_CHARS

__all__ = ["MAX_QUESTION_CHARS", "_safe_upload_name", "create_app"]
