"""Question → retrieved passages → grounded generation → parsed, checked citations → Answer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterator

from .citations import AnswerSentence, drop_invalid_markers, split_sentences
from .generator import GenerationParams
from .language import detect_language
from .prompts import NOT_FOUND, PROMPT_VERSION, build_messages
from .retrieval import Hit, SearchFilters
from .runtime import Runtime

ABSTAIN_TEXT = "The indexed documents do not answer this."


@dataclass
class Citation:
    n: int
    doc: str
    title: str
    locator: str
    text: str
    chunk_id: str
    score: float
    quote: str = ""

    def to_dict(self) -> dict:
        return {"n": self.n, "doc": self.doc, "title": self.title, "locator": self.locator,
                "text": self.text, "quote": self.quote, "chunk_id": self.chunk_id,
                "score": round(self.score, 6)}


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    standalone_question: str = ""
    lang: str = "en"
    raw_text: str = ""
    timings: dict = field(default_factory=dict)
    id: str = ""

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "sentences": [{"text": s.text, "citations": s.cited, "supported": s.supported,
                           "reason": s.reason} for s in self.sentences],
            "passages": [h.to_dict() for h in self.passages],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


@dataclass
class Delta:
    """A piece of answer text, streamed while the model writes."""

    text: str


class Assistant:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def answer(self, question: str, history: list[dict] | None = None, k: int | None = None,
               filters: SearchFilters | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, k, filters):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(self, question: str, history: list[dict] | None = None, k: int | None = None,
               filters: SearchFilters | None = None) -> Iterator[Delta | Answer]:
        """Yield `Delta`s as the model writes, then the final `Answer` with its citations."""
        settings = self.runtime.settings
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = question.strip()
        standalone = question
        lang = detect_language(question)
        hits = self.runtime.retriever().search(standalone, k=k or settings.top_k, filters=filters)
        timings["retrieval"] = time.perf_counter() - started
        answer = Answer(question=question, text="", abstained=True, passages=hits,
                        standalone_question=standalone, lang=lang, timings=timings)
        if not hits:
            answer.text = ABSTAIN_TEXT
            yield answer
            return

        messages = build_messages(standalone, hits, lang)
        params = GenerationParams(max_tokens=settings.max_tokens, temperature=settings.temperature,
                                  seed=settings.seed)
        pieces: list[str] = []
        gen_started = time.perf_counter()
        first_token = None
        held = ""
        for piece in self.runtime.generator.stream_chat(messages, params):
            if first_token is None:
                first_token = time.perf_counter() - gen_started
            pieces.append(piece)
            held += piece
            # Hold back text that could still turn out to be the NOT_FOUND reply.
            if NOT_FOUND.startswith(held.strip()[: len(NOT_FOUND)]) and len(held.strip()) <= len(NOT_FOUND):
                continue
            if NOT_FOUND in held:
                continue
            yield Delta(held)
            held = ""
        timings["first_token"] = first_token or 0.0
        timings["generation"] = time.perf_counter() - gen_started
        raw = "".join(pieces).strip()
        answer.raw_text = raw
        self._finish(answer, raw, hits)
        timings["total"] = time.perf_counter() - started
        answer.timings = timings
        yield answer

    def _finish(self, answer: Answer, raw: str, hits: list[Hit]) -> None:
        if not raw or NOT_FOUND in raw.upper().replace(" ", "_"):
            answer.text = ABSTAIN_TEXT
            answer.abstained = True
            return
        text = drop_invalid_markers(raw, set(range(1, len(hits) + 1)))
        sentences = split_sentences(text)
        cited: list[int] = []
        for sentence in sentences:
            for n in sentence.cited:
                if n not in cited:
                    cited.append(n)
        answer.text = text
        answer.sentences = sentences
        answer.abstained = False
        answer.citations = [
            Citation(n=n, doc=hits[n - 1].chunk.doc, title=hits[n - 1].doc_title,
                     locator=hits[n - 1].chunk.locator, text=hits[n - 1].chunk.text,
                     chunk_id=hits[n - 1].chunk.id, score=hits[n - 1].score)
            for n in cited
        ]


__all__ = ["Answer", "Assistant", "Citation", "Delta", "ABSTAIN_TEXT", "PROMPT_VERSION"]
