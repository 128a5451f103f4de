"""Request and response models of the HTTP API, and the request limits they enforce.

Request bodies are strict (a misspelt option is an error); response models document the
contract and let the library add fields.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..config import TOP_K_MAX, TOP_K_MIN
from ..retrieval import SearchFilters

MAX_QUESTION_CHARS = 2000
"""Longest question accepted; longer ones crowd the passages out of the model's context."""
MAX_MESSAGE_CHARS = 32_000
MAX_MESSAGES = 100
MAX_JSON_BYTES = 1 << 20
"""Request body cap for JSON endpoints (1 MiB: a long conversation fits easily)."""
MAX_UPLOAD_FILES = 20


# --------------------------------------------------------------------------- request models


class _Strict(BaseModel):
    """Native request bodies reject unknown fields, so a misspelt option is an error, not a no-op,
    and are not coerced (`"stream": 0` is a mistake, not false)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    """Response models document the contract but let the library add fields."""

    model_config = ConfigDict(extra="allow")


DocId = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LangCode = Annotated[str, StringConstraints(min_length=2, max_length=16)]
Question = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_QUESTION_CHARS, pattern=r"\S")
]


class Filters(_Strict):
    docs: list[DocId] = Field(
        default_factory=list, max_length=100, description="Only these document ids"
    )
    langs: list[LangCode] = Field(
        default_factory=list, max_length=20, description="Only these languages"
    )

    def to_search(self) -> SearchFilters | None:
        return (
            SearchFilters(docs=self.docs, langs=self.langs) if (self.docs or self.langs) else None
        )


class Turn(_Strict):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class AskRequest(_Strict):
    question: Question
    history: list[Turn] = Field(
        default_factory=list,
        max_length=MAX_MESSAGES,
        description="Earlier turns of the conversation, oldest first",
    )
    k: int | None = Field(
        None, ge=TOP_K_MIN, le=TOP_K_MAX, description="Passages given to the model"
    )
    filters: Filters | None = None
    stream: bool = Field(
        False, description="Server-sent events: `delta` events, then one `answer` event"
    )


class SearchRequest(_Strict):
    query: Question
    k: int = Field(10, ge=1, le=50)
    filters: Filters | None = None


MessageText = Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    type: str = Field(max_length=64)
    text: str | None = Field(None, max_length=MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: MessageText | Annotated[list[ContentPart], Field(max_length=MAX_MESSAGES)] | None = (
        None
    )
    name: str | None = Field(None, max_length=256)


class ChatCompletionRequest(BaseModel):
    """OpenAI's request; sampling options are accepted and ignored (answers are deterministic)."""

    model_config = ConfigDict(extra="ignore", strict=True)
    model: str = Field("", max_length=256, description="Ignored: the configured generator answers")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool | None = False
    n: int | None = Field(None, ge=1, le=1, description="Only one choice is produced")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = Field(None, max_length=256)
    stream_options: dict | None = None
    tools: list[dict] | None = Field(
        None, description="Tool calling is not supported: must be empty"
    )
    tool_choice: str | dict | None = None
    response_format: dict | None = Field(None, description='Only {"type": "text"}')
    logprobs: bool | None = Field(None, description="Not supported: must be false")


# --------------------------------------------------------------------------- response models


class CitationOut(_Open):
    n: int
    doc: str
    title: str = ""
    locator: str = ""
    text: str = ""
    quote: str = ""
    chunk_id: str = ""
    score: float = 0.0


class SentenceOut(_Open):
    text: str
    citations: list[int] = []
    supported: bool | None = None
    reason: str | None = None


class PassageOut(_Open):
    id: str = ""
    doc: str
    title: str = ""
    locator: str = ""
    text: str = ""
    score: float = 0.0
    similarity: float = 0.0


class AskResponse(_Open):
    """The same object as `sovrag ask --json`; `id` is the provenance-log entry \
(GET /v1/log/{id})."""

    id: str | None = None
    question: str = ""
    answer: str
    abstained: bool
    citations: list[CitationOut]
    sentences: list[SentenceOut] = []
    passages: list[PassageOut] = []
    timings: dict[str, float] = {}


class SearchResponse(_Open):
    query: str
    generation: str
    hits: list[PassageOut]


class DocumentOut(_Open):
    id: str
    title: str
    lang: str
    passages: int
    sha256: str
    added_at: str
    uploaded: bool = Field(description="Stored by POST /v1/documents (else: from a corpus folder)")


class DocumentList(_Open):
    generation: str | None
    documents: list[DocumentOut]


class FileResult(_Open):
    filename: str
    doc: str | None = None
    status: Literal["added", "changed", "unchanged", "skipped", "rejected"]
    reason: str | None = None


class UploadResponse(_Open):
    generation: str
    files: list[FileResult]
    summary: str


class DeleteResponse(_Open):
    removed: str
    generation: str
    summary: str


class JobOut(_Open):
    state: Literal["idle", "running", "done", "failed"]
    kind: str | None = None
    stage: str | None = None
    progress: float = 0.0
    started_at: str | None = None
    finished_at: str | None = None
    summary: str | None = None
    error: str | None = None


class IndexStatus(_Open):
    index: dict | None
    job: JobOut


class Health(_Open):
    status: str
    model: dict
    index: dict
    queue: dict


class ModelOut(_Open):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "sovrag"


class ModelList(_Open):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ChatChoiceMessage(_Open):
    role: Literal["assistant"] = "assistant"
    content: str
    citations: list[CitationOut] = Field(
        description="The sources behind the [n] markers in `content`"
    )


class ChatChoice(_Open):
    index: int
    message: ChatChoiceMessage
    finish_reason: str


class ChatCompletion(_Open):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    sovrag: dict = Field(description="answer_id (provenance log), abstained, per-sentence support")
