"""The OpenAI-compatible endpoints: the model list and chat completions (JSON or SSE)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request

from ..assistant import Answer, Delta
from ..citations import cited_numbers
from .answering import Answering
from .deps import AnsweringDep, RuntimeDep
from .errors import APIError, client_error, documented, error_body
from .schemas import (
    MAX_JSON_BYTES,
    MAX_QUESTION_CHARS,
    ChatCompletion,
    ChatCompletionRequest,
    ContentPart,
    ModelList,
    ModelOut,
)
from .sse import EventStream, sse

router = APIRouter(tags=["openai"])

_STREAM = (
    "With stream=true: chat.completion.chunk events; the last chunk's delta carries "
    "`citations`; then `data: [DONE]`"
)


def _model_card(model: str) -> dict:
    return {"id": model, "object": "model", "created": 0, "owned_by": "sovrag"}


@router.get("/v1/models", response_model=None, responses=documented(401, ok=ModelList))
def list_models(runtime: RuntimeDep) -> dict:
    """The configured generator, as OpenAI's model list."""
    return {"object": "list", "data": [_model_card(runtime.settings.generator)]}


@router.get(
    "/v1/models/{model_id:path}", response_model=None, responses=documented(401, 404, ok=ModelOut)
)
def get_model(model_id: str, runtime: RuntimeDep) -> dict:
    served = runtime.settings.generator
    if model_id != served:
        raise APIError(
            404,
            f"Model '{model_id}' is not served here; this server answers with '{served}'.",
            "model_not_found",
            param="model",
        )
    return _model_card(served)


def _text_of(content: str | list[ContentPart] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for part in content:
        if part.type != "text":
            raise APIError(
                400,
                f"Content of type '{part.type}' is not supported; send text.",
                "unsupported_content",
                param="messages",
            )
        texts.append(part.text or "")
    return "\n".join(texts)


def _unsupported(body: ChatCompletionRequest) -> None:
    if body.tools:
        raise APIError(
            400,
            "Tool calling is not supported by this server.",
            "unsupported_parameter",
            param="tools",
        )
    if body.logprobs:
        raise APIError(
            400,
            "logprobs are not supported by this server.",
            "unsupported_parameter",
            param="logprobs",
        )
    if body.response_format and body.response_format.get("type", "text") != "text":
        raise APIError(
            400,
            "Only response_format type 'text' is supported.",
            "unsupported_parameter",
            param="response_format",
        )


def _chat_arguments(body: ChatCompletionRequest) -> tuple[str, list[dict]]:
    """(question, history) from OpenAI messages; unsupported options are rejected here."""
    _unsupported(body)
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    if not turns or body.messages[-1].role != "user":
        raise APIError(
            400,
            "The last message must be the user's question.",
            "invalid_messages",
            param="messages",
        )
    question = _text_of(turns[-1].content).strip()
    if not question:
        raise APIError(400, "The last user message is empty.", "invalid_messages", param="messages")
    if len(question) > MAX_QUESTION_CHARS:
        raise APIError(
            400,
            f"The question is longer than {MAX_QUESTION_CHARS} characters.",
            "question_too_long",
            param="messages",
        )
    history = [{"role": m.role, "content": _text_of(m.content)} for m in turns[:-1]]
    return question, history


def _extra(answer: Answer) -> dict:
    return {
        "answer_id": answer.id or None,
        "abstained": answer.abstained,
        "sentences": answer.sentence_verdicts(),
    }


def _completion(completion_id: str, created: int, model: str, answer: Answer) -> dict:
    message = {
        "role": "assistant",
        "content": answer.text,
        "citations": answer.to_dict()["citations"],
    }
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None, "message": message}],
        "sovrag": _extra(answer),
    }


class _Chunks:
    """The chat.completion.chunk events of one streamed completion."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model

    def __call__(self, delta: dict, finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return sse(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [choice],
                **extra,
            }
        )


async def _stream(
    answering: Answering, ticket, chunk: _Chunks, question: str, history: list[dict]
) -> AsyncIterator[bytes]:
    yield chunk({"role": "assistant", "content": ""})
    streamed = False
    draft = ""
    try:
        async for event in answering.events(ticket, question, history, None, None):
            if isinstance(event, Delta):
                streamed = True
                draft += event.text
                yield chunk({"content": event.text})
                continue
            if not streamed:
                yield chunk({"content": event.text})
            elif event.abstained or not set(cited_numbers(event.text)) <= set(cited_numbers(draft)):
                # Verification withdrew the draft or moved its citations: the checked text
                # follows, so that every cited [n] appears in the content.
                yield chunk({"content": "\n\n" + event.text})
            yield chunk({"citations": event.to_dict()["citations"]}, "stop", sovrag=_extra(event))
    except Exception as exc:  # noqa: BLE001 — headers are sent: report in-band, as OpenAI does
        status, code, message = client_error(exc)
        yield sse(error_body(status, message, code))
    yield b"data: [DONE]\n\n"


@router.post(
    "/v1/chat/completions",
    response_model=None,
    max_body_size=MAX_JSON_BYTES,
    responses=documented(400, 401, 413, 422, 503, ok=ChatCompletion, sse=_STREAM),
)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, runtime: RuntimeDep, answering: AnsweringDep
):
    """OpenAI chat completions: the last user message is the question, earlier turns the history.

    The answer keeps its [n] markers; `message.citations` (or the final chunk's
    `delta.citations`) lists the passage behind each marker.
    """
    question, history = _chat_arguments(body)
    chunk = _Chunks(runtime.settings.generator)
    ticket = answering.admit()
    if not body.stream:
        answer = await answering.final(request, ticket, question, history, None, None)
        return _completion(chunk.id, chunk.created, chunk.model, answer)
    return EventStream(
        _stream(answering, ticket, chunk, question, history),
        on_close=lambda: answering.release(ticket),
    )
