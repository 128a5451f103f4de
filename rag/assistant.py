"""Question → retrieved passages → grounded generation → parsed, checked citations → Answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import evidence
from .abstention import AbstainReason
from .act_coverage import NamedActs
from .answer_types import VALUE_NAMES, states_value
from .citations import AnswerSentence, drop_invalid_markers, split_sentences, strip_markers
from .generator import GenerationParams, loop_start
from .language import detect_language
from .parallels import find_parallels, parallel_sentence
from .prompts import (
    NOT_FOUND,
    PROMPT_VERSION,
    build_messages,
    rewrite_messages,
    source_label,
    unit_title_of,
)
from .query import unknown_act_names
from .retrieval import Hit, Retriever, SearchFilters
from .runtime import Runtime
from .store import IndexGeneration
from .verify import best_quote, embedding_similarity, numbers_in, verify_sentences, with_marker

ABSTAIN_TEXT = "The indexed documents do not answer this."


def _declined(raw: str) -> bool:
    """The model wrote nothing or NOT_FOUND."""
    return not raw or NOT_FOUND in raw.upper().replace(" ", "_")


def _add_parallels(answer: Answer, hits: list[Hit]) -> str:
    """Append, verbatim and cited, what other articles say in the same words with another figure;
    returns the text appended ("" when none)."""
    added = ""
    for parallel in find_parallels(answer.sentences, hits):
        hit = hits[parallel.n - 1]
        sentence = parallel_sentence(parallel, hit, answer.lang, unit_title_of(hit.chunk.heading))
        answer.sentences.append(sentence)
        answer.text = f"{answer.text.rstrip()} {sentence.text}"
        added += f" {sentence.text}"
        answer.citations.append(_citation(parallel.n, hit, parallel.quote))
    return added


def _citation(n: int, hit: Hit, quote: str) -> Citation:
    return Citation(
        n=n,
        doc=hit.chunk.doc,
        title=hit.doc_title,
        locator=hit.chunk.locator,
        text=hit.chunk.text,
        chunk_id=hit.chunk.id,
        score=hit.score,
        quote=quote,
    )


def _run_silently(stream: Iterator) -> str:
    """Run a generator of deltas to its end without passing them on; return its return value."""
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value


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
        return {
            "n": self.n,
            "doc": self.doc,
            "title": self.title,
            "locator": self.locator,
            "text": self.text,
            "quote": self.quote,
            "chunk_id": self.chunk_id,
            "score": round(self.score, 6),
        }


@dataclass
class Answer:
    question: str
    text: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    standalone_question: str = ""
    searched: list[str] = field(default_factory=list)
    """The query forms retrieval searched: the question (act names taken out), its translation
    by the model when the index lacks its language, with any acronyms added."""
    lang: str = "en"
    raw_text: str = ""
    timings: dict = field(default_factory=dict)
    id: str = ""
    abstain: AbstainReason | None = None
    abstain_detail: str = ""
    """What the reason names, for `AbstainReason.UNKNOWN_ACT` the acts the index lacks."""
    mode: str = "draft"
    """How the text was made: "draft" (written by the model) or "evidence" (quoted sentences)."""

    @property
    def abstain_reason(self) -> str:
        """Why there is no answer, as the API, the CLI's JSON and the log write it ("" if none)."""
        return self.abstain.message(self.abstain_detail) if self.abstain else ""

    @property
    def abstain_explanation(self) -> str:
        """Why there is no answer, as the UI tells a reader ("" if none)."""
        return self.abstain.explanation(self.abstain_detail) if self.abstain else ""

    def sentence_verdicts(self) -> list[dict]:
        """Each checked sentence with its markers and the check's verdict and reason."""
        return [
            {"text": s.text, "citations": s.cited, "supported": s.supported, "reason": s.reason}
            for s in self.sentences
        ]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "searched": self.searched,
            "answer": self.text,
            "abstained": self.abstained,
            "abstain_reason": self.abstain_reason,
            "citations": [c.to_dict() for c in self.citations],
            "sentences": self.sentence_verdicts(),
            "passages": [h.to_dict() for h in self.passages],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


@dataclass
class Delta:
    """A piece of answer text, streamed while the model writes."""

    text: str


@dataclass
class _Turn:
    """One question on its way through `Assistant.stream`: what each stage reads and leaves."""

    question: str
    history: list[dict]
    filters: SearchFilters | None
    params: GenerationParams
    started: float
    timings: dict[str, float]
    standalone: str
    lang: str
    generation: IndexGeneration
    k: int
    retriever: Retriever | None = None
    hits: list[Hit] = field(default_factory=list)
    answer: Answer | None = None
    sources_lang: str = ""
    pivot: str | None = None
    """The question in the passages' language, when the draft is written in theirs."""
    asked: str = ""
    asked_lang: str = ""
    raw: str = ""
    named_acts: NamedActs = field(default_factory=NamedActs)
    """The acts the question names: their passages alone may back an answer, and a comparison
    needs each of them backed."""
    quoted: list[AnswerSentence] | None = None
    """Evidence mode: the passage sentences the model pointed at, as the answer's sentences."""
    asked_kind: str | None = None
    """The kind of value the question asks for (`rag.answer_types`), as retrieval read it."""


class Assistant:
    """The answering pipeline; UI, HTTP API and CLI all call this one class."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def answer(
        self,
        question: str,
        history: list[dict] | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
        **options,
    ) -> Answer:
        final = None
        for event in self.stream(question, history, k, filters, **options):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        history: list[dict] | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
        *,
        generation: IndexGeneration | None = None,
        standalone: str | None = None,
        log: bool = True,
        answer_lang: str | None = None,
        params: GenerationParams | None = None,
    ) -> Iterator[Delta | Answer]:
        """Yield `Delta`s as the model writes, then the final, verified `Answer`.

        `answer_lang` (ISO 639-1) overrides the language detected from the question; `params`
        override the settings' generation parameters for this answer only (replay)."""
        turn = self._begin(
            question, history, k, filters, generation, standalone, answer_lang, params
        )
        self._retrieve(turn)
        if self._worth_answering(turn):
            self._choose_language(turn)
            if self.runtime.settings.answer_mode == "evidence":
                self._point_at_evidence(turn)
            else:
                yield from self._draft(turn)
            self._finish(
                turn.answer,
                turn.raw,
                turn.hits,
                turn.asked_lang,
                turn.asked,
                quoted=turn.quoted,
                named_acts=turn.named_acts,
                asked_kind=turn.asked_kind,
            )
            yield from self._complete(turn)
        turn.timings["total"] = time.perf_counter() - turn.started
        if log:
            self._record(turn)
        yield turn.answer

    # The stages of `stream`, in order; each reads and extends one `_Turn`.

    def _begin(
        self,
        question: str,
        history: list[dict] | None,
        k: int | None,
        filters: SearchFilters | None,
        generation: IndexGeneration | None,
        standalone: str | None,
        answer_lang: str | None,
        params: GenerationParams | None,
    ) -> _Turn:
        """The question made ready: parameters, bounded history, a standalone question."""
        settings = self.runtime.settings
        params = params or GenerationParams(
            max_tokens=settings.max_tokens, temperature=settings.temperature, seed=settings.seed
        )
        started = time.perf_counter()
        question = question.strip()
        history = bound_history(history or [])
        if standalone is None:
            standalone = (
                self._standalone_question(question, history, params) if history else question
            )
        timings = {"rewrite": time.perf_counter() - started}
        lang = answer_lang or detect_language(question)
        generation = generation or self.runtime.generation()
        return _Turn(
            question=question,
            history=history,
            filters=filters,
            params=params,
            started=started,
            timings=timings,
            standalone=standalone,
            lang=lang,
            generation=generation,
            k=k or settings.top_k,
        )

    def _retrieve(self, turn: _Turn) -> None:
        """The passages for the standalone question; the answer starts as an abstention."""
        turn.retriever = self.runtime.retriever(turn.generation)
        can = turn.retriever.can_search(turn.standalone)
        plan = turn.retriever.plan(turn.standalone) if can else None
        turn.hits = (
            turn.retriever.search_planned(plan, k=turn.k, filters=turn.filters) if plan else []
        )
        turn.timings["retrieval"] = time.perf_counter() - turn.started - turn.timings["rewrite"]
        turn.asked_kind = plan.analysis.answer_kind if plan else None
        turn.answer = Answer(
            question=turn.question,
            text=ABSTAIN_TEXT,
            abstained=True,
            passages=turn.hits,
            standalone_question=turn.standalone,
            searched=[text for text, _ in plan.forms] if plan else [],
            lang=turn.lang,
            timings=turn.timings,
            mode=self.runtime.settings.answer_mode,
        )

    def _worth_answering(self, turn: _Turn) -> bool:
        """Whether the passages can answer at all; if not, the answer says why it abstains."""
        catalog = turn.retriever.table.catalog
        missing_names = unknown_act_names(turn.standalone, catalog)
        turn.named_acts = NamedActs.in_text(
            turn.standalone, catalog, turn.retriever.table.titles, turn.lang
        )
        if missing_names:
            turn.answer.abstain = AbstainReason.UNKNOWN_ACT
            turn.answer.abstain_detail = ", ".join(missing_names)
        elif not turn.hits or not is_relevant(
            turn.hits, names_indexed_act=turn.named_acts.count > 0
        ):
            turn.answer.abstain = AbstainReason.NOT_RELEVANT
        else:
            return True
        return False

    def _choose_language(self, turn: _Turn) -> None:
        """A question in another language than its passages is answered in theirs (the small
        model reads and cites them far better so), checked there, then translated back."""
        turn.sources_lang = detect_language(" ".join(h.chunk.text for h in turn.hits))
        if self.runtime.settings.answer_in_sources_language and turn.lang != turn.sources_lang:
            turn.pivot = turn.retriever.translation(turn.standalone, turn.lang, turn.sources_lang)
        turn.asked, turn.asked_lang = (
            (turn.pivot, turn.sources_lang) if turn.pivot else (turn.standalone, turn.lang)
        )

    def _draft(self, turn: _Turn) -> Iterator[Delta]:
        """The model's draft over the passages that fit its context, streamed unless it is
        written in the passages' language for a reader of another."""
        turn.hits = self._fit_to_context(
            turn.hits, lambda selected: self._prompt(turn, selected), turn.params
        )
        turn.answer.passages = turn.hits
        shown = self._excerpts(turn) if self.runtime.settings.prompt_sentences else turn.hits
        drafted = self._generate(self._prompt(turn, shown), turn.params, turn.timings)
        raw = _run_silently(drafted) if turn.pivot else (yield from drafted)
        turn.raw = turn.answer.raw_text = raw

    def _complete(self, turn: _Turn) -> Iterator[Delta]:
        """A checked answer back in the reader's language, with the parallels it should mention."""
        answer = turn.answer
        if answer.abstained:
            return
        if turn.pivot:  # each sentence as soon as it is translated, not the whole answer at the end
            for piece in self._translate_back(answer, turn.sources_lang, turn.params.max_tokens):
                yield Delta(piece)
        added = _add_parallels(answer, turn.hits)
        if turn.pivot:
            if added:
                yield Delta(added)
        elif answer.mode == "evidence":  # nothing was streamed: the quoted sentences are the answer
            yield Delta(answer.text)

    def _candidates(self, turn: _Turn, limit: int) -> list[evidence.Candidate]:
        """The `limit` passage sentences closest to the question (see `evidence.candidates`)."""
        query_vector = self.runtime.embedder.encode_query(turn.asked)
        unit_vectors = evidence.stored_unit_vectors(turn.hits, turn.generation.sentences)
        return evidence.candidates(turn.hits, query_vector, unit_vectors, limit)

    def _excerpts(self, turn: _Turn) -> list[Hit]:
        """The hits cut down to the `prompt_sentences` sentences closest to the question."""
        return evidence.excerpts(
            turn.hits, self._candidates(turn, self.runtime.settings.prompt_sentences)
        )

    def _point_at_evidence(self, turn: _Turn) -> None:
        """Evidence mode: the model says which candidate sentences answer; those are the answer."""
        shown = self._candidates(turn, self.runtime.settings.evidence_sentences)
        pointing = GenerationParams(max_tokens=24, temperature=0.0, seed=turn.params.seed)
        messages = evidence.pointing_messages(turn.asked, shown, turn.hits)
        reply = _run_silently(self._generate(messages, pointing, turn.timings))
        chosen = [shown[i - 1] for i in evidence.parse_pointers(reply, len(shown))]
        turn.raw = turn.answer.raw_text = reply
        turn.quoted = evidence.compose(chosen)

    def _record(self, turn: _Turn) -> None:
        """The answer's entry in the provenance log; its id goes on the answer."""
        turn.answer.id = self.runtime.provenance.append(
            provenance_record(
                turn.answer,
                turn.generation.name,
                self.runtime.generator.describe(),
                turn.params,
                turn.k,
                turn.filters,
                turn.history,
            )
        )

    def _prompt(self, turn: _Turn, selected: list[Hit]) -> list[dict]:
        return build_messages(turn.asked, selected, turn.asked_lang, turn.named_acts.count)

    def _generate(
        self, messages: list[dict], params: GenerationParams, timings: dict
    ) -> Iterator[Delta]:
        """Stream the model's reply as deltas (holding back a NOT_FOUND reply); returns the full text."""
        reply = ""
        started = time.perf_counter()
        held = ""
        stream = iter(self.runtime.generator.stream_chat(messages, params))
        for piece in stream:
            if "first_token" not in timings:
                timings["first_token"] = time.perf_counter() - started
            reply += piece
            cut = loop_start(reply)
            if cut is not None:  # looping: stop generating and keep the text before the repeat
                getattr(stream, "close", lambda: None)()  # ends the generation, frees the model
                reply = reply[:cut]
                break
            held += piece
            probe = held.strip().upper().replace(" ", "_")
            if NOT_FOUND.startswith(probe[: len(NOT_FOUND)]) or NOT_FOUND in probe:
                continue
            yield Delta(held)
            held = ""
        timings["generation"] = time.perf_counter() - started
        return reply.strip()

    def _fit_to_context(
        self, hits: list[Hit], prompt: Callable[[list[Hit]], list[dict]], params: GenerationParams
    ) -> list[Hit]:
        """Drop the lowest-ranked passages until prompt plus answer fit the model's context."""
        budget = self.runtime.settings.context_size - params.max_tokens - 64
        count = getattr(self.runtime.generator, "count_tokens", None)

        def size(selected: list[Hit]) -> int:
            text = "".join(m["content"] for m in prompt(selected))
            return count(text) if count else len(text) // 3

        while len(hits) > 1 and size(hits) > budget:
            hits = hits[:-1]
        return hits

    def _standalone_question(
        self, question: str, history: list[dict], params: GenerationParams
    ) -> str:
        """Rewrite a follow-up ("and for GDPR?") into a question that stands on its own."""
        messages = rewrite_messages(question, history)
        rewrite_params = GenerationParams(max_tokens=80, temperature=0.0, seed=params.seed)
        text = "".join(self.runtime.generator.stream_chat(messages, rewrite_params)).strip()
        text = text.splitlines()[0].strip().strip('"').strip() if text else ""
        return text if 3 <= len(text) <= 400 else question

    def _finish(
        self,
        answer: Answer,
        raw: str,
        hits: list[Hit],
        draft_lang: str,
        question: str = "",
        quoted: list[AnswerSentence] | None = None,
        named_acts: NamedActs | None = None,
        asked_kind: str | None = None,
    ) -> None:
        """Parse and check the draft (written in `draft_lang`, answering `question`) into the
        answer's sentences and citations.
        `asked_kind`: the kind of value the question asks for; an answer none of whose supported
        sentences states one (no period for "how long") abstains.
        `quoted`: the answer's sentences already made (evidence mode), instead of parsing `raw`.
        `named_acts`: the documents of each act the question names; a sentence citing a passage of
        any other act is not supported (it answers for another act than the one asked about), and
        an answer comparing acts abstains unless a supported sentence cites each of them."""
        if quoted is not None and not quoted:
            answer.abstain = AbstainReason.NO_SENTENCE
            return
        if quoted is None and _declined(raw):
            answer.abstain = AbstainReason.MODEL_DECLINED
            return
        text = (
            " ".join(s.text for s in quoted)
            if quoted
            else drop_invalid_markers(raw, set(range(1, len(hits) + 1)))
        )
        sentences = quoted or split_sentences(text)
        checked = (
            sentences  # what was compared with the passages (translated when languages differ)
        )
        if self.runtime.settings.verify:
            named_acts = named_acts or NamedActs()
            checked, text = self._check(
                sentences, text, hits, draft_lang, question, named_acts.all_docs
            )
            if sentences and not any(s.supported for s in sentences):
                answer.sentences = sentences
                answer.abstain = AbstainReason.UNSUPPORTED
                return
            if sentences and not any(
                s.supported and states_value(s.text, asked_kind) for s in checked
            ):
                answer.sentences = sentences
                answer.abstain = AbstainReason.NO_ASKED_VALUE
                answer.abstain_detail = VALUE_NAMES[asked_kind]
                return
            uncovered = named_acts.unbacked(sentences, hits)
            if uncovered:
                answer.sentences = sentences
                answer.abstain = AbstainReason.UNCOVERED_ACT
                answer.abstain_detail = " and ".join(uncovered)
                return
        cited: list[int] = []
        for sentence in sentences:
            for n in sentence.cited:
                if n not in cited:
                    cited.append(n)
        answer.text = text
        answer.sentences = sentences
        answer.abstained = False
        answer.citations = []
        for n in cited:
            hit = hits[n - 1]
            claims = [c.text for s, c in zip(sentences, checked) if n in s.cited]
            answer.citations.append(_citation(n, hit, best_quote(hit.chunk.text, claims)))

    def _check(
        self,
        sentences: list[AnswerSentence],
        text: str,
        hits: list[Hit],
        draft_lang: str,
        question: str,
        named_docs: set[str] | None,
    ) -> tuple[list[AnswerSentence], str]:
        """Verify the sentences in place against their passages (through a translation when the
        draft's language differs); returns what was compared and the text with any re-attributed
        markers."""
        similarity = embedding_similarity(self.runtime.embedder.encode)
        shown = [s.text for s in sentences]
        checked = self._in_sources_language(sentences, draft_lang, hits)
        verify_sentences(
            checked,
            lambda n: _support_text(hits[n - 1]),
            similarity,
            available=list(range(1, len(hits) + 1)),
            question=question if checked is sentences else "",
            labels=[source_label(h) for h in hits],
        )
        for sentence, check in zip(sentences, checked):
            if check is not sentence:
                sentence.supported, sentence.reason = check.supported, check.reason
                if check.cited != sentence.cited:  # re-attributed to another source
                    sentence.text, sentence.cited = (
                        with_marker(sentence.text, check.cited[0]),
                        check.cited,
                    )
        _reject_other_acts(sentences, hits, named_docs)
        for before, sentence in zip(shown, sentences):
            if sentence.text != before:
                text = text.replace(before, sentence.text, 1)
        return checked, text

    def _translate_back(self, answer: Answer, sources_lang: str, max_tokens: int) -> Iterator[str]:
        """Each checked sentence into the answer's language, followed by the checked sentence
        itself in quotes, its markers kept: the translation is not what was checked, and the
        local model's translations drop or garble terms. A sentence whose translation fails, or
        loses or changes a figure, stays as it was checked. Yields each sentence as it is done
        (space-separated: together they are the answer's text)."""
        translator = self.runtime.translator
        for i, sentence in enumerate(answer.sentences):
            bare = strip_markers(sentence.text)
            out = (
                translator(bare, sources_lang, answer.lang, kind="sentence", max_tokens=max_tokens)
                if translator
                else None
            )
            if out and numbers_in(out) == numbers_in(bare):
                markers = "".join(f" [{n}]" for n in sentence.cited)
                sentence.text = f"{out.rstrip()} (“{bare.strip()}”){markers}"
            yield (" " if i else "") + sentence.text
        answer.text = " ".join(s.text for s in answer.sentences)

    def _in_sources_language(
        self, sentences: list[AnswerSentence], lang: str, hits: list[Hit]
    ) -> list[AnswerSentence]:
        """Stand-ins for the sentences, translated into the passages' language when that differs
        from the answer's: word overlap and the (English) embedder cannot compare a German claim
        with an English passage. Sentences that fail to translate stand for themselves."""
        if not self.runtime.settings.verify_across_languages:
            return sentences
        sources_lang = detect_language(" ".join(h.chunk.text for h in hits))
        translator = self.runtime.translator
        if lang == sources_lang or translator is None:
            return sentences
        checked = []
        for sentence in sentences:
            translated = translator(
                strip_markers(sentence.text), lang, sources_lang, kind="sentence"
            )
            checked.append(
                AnswerSentence(translated, list(sentence.cited)) if translated else sentence
            )
        return checked

    def replay(self, entry: dict) -> dict:
        """Re-run a logged answer with its index generation and parameters; compare the text."""
        notes: dict[str, str] = {}
        settings = self.runtime.settings
        model = self.runtime.generator.describe()
        if entry.get("model", {}).get("sha256") and model.get("sha256") != entry["model"]["sha256"]:
            notes["model"] = (
                f"configured model {model.get('model')} differs from logged {entry['model'].get('model')}"
            )
        logged = entry.get("params", {})
        params = GenerationParams(
            **{
                key: logged.get(key, getattr(settings, key))
                for key in ("max_tokens", "temperature", "seed")
            }
        )
        generation = self.runtime.generation_named(entry["generation"])
        filters = SearchFilters(**entry["filters"]) if entry.get("filters") else None
        replayed = self.answer(
            entry["question"],
            entry.get("history") or None,
            entry.get("k"),
            filters,
            generation=generation,
            standalone=entry.get("standalone_question"),
            log=False,
            answer_lang=entry.get("answer_lang"),
            params=params,
        )
        same_passages = [h.chunk.id for h in replayed.passages] == [
            p["id"] for p in entry.get("passages", [])
        ]
        if not same_passages:
            notes["passages"] = "retrieved passages differ"
        return {
            "id": entry["id"],
            "identical": replayed.text == entry["answer"] and same_passages,
            "logged_answer": entry["answer"],
            "replayed_answer": replayed.text,
            "notes": notes,
        }


def _reject_other_acts(
    sentences: list[AnswerSentence], hits: list[Hit], named_docs: set[str] | None
) -> None:
    """Mark unsupported every supported sentence that cites a passage outside the named acts."""
    if not named_docs:
        return
    for sentence in sentences:
        others = [
            hits[n - 1].doc_title for n in sentence.cited if hits[n - 1].chunk.doc not in named_docs
        ]
        if sentence.supported and others:
            sentence.supported = False
            sentence.reason = f"cites {others[0]}, not an act the question names"


MIN_RELEVANCE = 0.30
"""Below this cosine similarity of the best passage (and with no BM25 support) nothing is relevant."""


def is_relevant(hits: list[Hit], names_indexed_act: bool = False) -> bool:
    """Whether retrieval found anything worth giving to the model (calibrated on the dev set).

    A question that names an indexed act is on topic whatever the scores say: short questions
    such as "From what date does DORA apply?" score low against their own answer ("It shall apply
    from 17 January 2025"). Whether the act answers it is then the model's and the checks' call."""
    if names_indexed_act:
        return True
    best = max(h.dense_similarity for h in hits)
    return best >= MIN_RELEVANCE or any(h.rank_bm25 is not None and h.rank_bm25 <= 3 for h in hits)


def _support_text(hit: Hit) -> str:
    """What a citation can vouch for: the passage, its lead-in, and where it sits (title, locator)."""
    return "\n".join(p for p in (source_label(hit), hit.chunk.context, hit.chunk.text) if p)


HISTORY_TURNS = 6
HISTORY_CHARS = 600


def bound_history(history: list[dict]) -> list[dict]:
    """The last few turns, each shortened, so rewriting fits comfortably in the context window."""
    turns = [
        t
        for t in history
        if t.get("role") in ("user", "assistant") and str(t.get("content", "")).strip()
    ]
    return [
        {"role": t["role"], "content": str(t["content"])[:HISTORY_CHARS]}
        for t in turns[-HISTORY_TURNS:]
    ]


def provenance_record(
    answer: Answer,
    generation: str,
    model: dict,
    params: GenerationParams,
    k: int,
    filters: SearchFilters | None,
    history: list[dict],
) -> dict:
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "searched": answer.searched,
        "answer_lang": answer.lang,
        "history": history,
        "generation": generation,
        "model": model,
        "params": {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        },
        "k": k,
        "filters": {"docs": filters.docs, "langs": filters.langs} if filters else None,
        "prompt_version": PROMPT_VERSION,
        "answer_mode": answer.mode,
        "passages": [
            {
                "id": h.chunk.id,
                "doc": h.chunk.doc,
                "locator": h.chunk.locator,
                "score": round(h.score, 6),
                "similarity": round(h.dense_similarity, 4),
            }
            for h in answer.passages
        ],
        "raw_answer": answer.raw_text,
        "answer": answer.text,
        "abstained": answer.abstained,
        "abstain_reason": answer.abstain_reason,
        "citations": [c.to_dict() | {"text": None} for c in answer.citations],
        "sentences": [
            {"text": s.text, "citations": s.cited, "supported": s.supported, "reason": s.reason}
            for s in answer.sentences
        ],
        "timings": {k: round(v, 3) for k, v in answer.timings.items()},
    }


__all__ = ["Answer", "Assistant", "Citation", "Delta", "ABSTAIN_TEXT", "PROMPT_VERSION"]
