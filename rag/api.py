"""FastAPI app: the native JSON API; the Gradio UI is mounted on the same app by `server`."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .assistant import Assistant
from .errors import IndexMissingError, SovragError
from .retrieval import SearchFilters
from .runtime import Runtime

MAX_QUESTION_CHARS = 2000


class Filters(BaseModel):
    docs: list[str] = Field(default_factory=list, max_length=100)
    langs: list[str] = Field(default_factory=list, max_length=20)

    def to_search(self) -> SearchFilters | None:
        return SearchFilters(docs=self.docs, langs=self.langs) if (self.docs or self.langs) else None


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int | None = Field(default=None, ge=1, le=50)
    filters: Filters | None = None


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="sovrag", version="0.1.0",
                  description="Local, cited answers over EU legislation.")
    app.state.runtime = runtime
    assistant = Assistant(runtime)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"error": "invalid request", "details": errors})

    @app.exception_handler(IndexMissingError)
    async def _no_index(request: Request, exc: IndexMissingError):
        return JSONResponse(status_code=503, content={"error": str(exc)})

    @app.exception_handler(SovragError)
    async def _user_error(request: Request, exc: SovragError):
        return JSONResponse(status_code=400, content={"error": str(exc)})

    @app.get("/health")
    def health() -> dict:
        try:
            generation = runtime.generation()
            index = {"generation": generation.name, "passages": generation.size,
                     "documents": len(generation.documents())}
        except SovragError as exc:
            index = {"generation": None, "passages": 0, "documents": 0, "error": str(exc)}
        return {"status": "ok", "model_loaded": runtime.generator_loaded, "index": index}

    @app.post("/v1/ask")
    async def ask(body: AskRequest) -> dict:
        if not body.question.strip():
            raise HTTPException(status_code=422, detail="question is empty")
        answer = await run_in_threadpool(
            assistant.answer, body.question, None, body.k, body.filters.to_search() if body.filters else None
        )
        return answer.to_dict()

    return app
