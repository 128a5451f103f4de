"""Parallel provisions: another article of the same act that says the same thing with another figure.

Legislation often repeats a rule in a second article for a special case: the AI Act's fine for
prohibited practices is "up to 35 000 000 EUR" in Article 99(3) and, in the same words, "up to
EUR 1 500 000" for Union institutions in Article 100(2). A short answer built on one of them reads
as if it were the only figure. When the answer's figure comes from a sentence that another
retrieved article repeats almost word for word with a different figure, that sentence is added to
the answer verbatim, with its locator and citation, so the reader sees both cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from .chunking import clauses
from .citations import AnswerSentence, strip_markers
from .lexical import tokenize
from .query import parse_locator
from .retrieval import Hit
from .verify import claim_numbers

MIN_SHARED_WORDS = 0.8
"""Share of the answer's source sentence's words that the parallel sentence repeats."""
MIN_ORIGIN_WORDS = 6
"""A shorter source sentence ("It shall apply from 2 May 2023.") is repeated by too many others."""
MAX_PARALLELS = 2

LEAD = {
    "en": "{where} says the same with another figure",
    "de": "{where} sagt dasselbe mit einer anderen Zahl",
    "fr": "{where} dit la même chose avec un autre chiffre",
}


@dataclass
class Parallel:
    n: int  # the source (1-based) that holds the parallel sentence
    quote: str  # verbatim from that source


def _words(text: str) -> set[str]:
    return {w for w in tokenize(text) if not w[0].isdigit()}


def _unit(hit: Hit) -> tuple | None:
    """(kind, number) of the passage's article, annex or recital."""
    parsed = parse_locator(hit.chunk.locator)
    return parsed[:2] if parsed else None


def find_parallels(sentences: list[AnswerSentence], hits: list[Hit]) -> list[Parallel]:
    """Sentences of other sources, in another article of the same act, that repeat the source
    sentence of an answer figure with a figure the answer does not state."""
    stated = set().union(*(claim_numbers(strip_markers(s.text)) for s in sentences))
    found: list[Parallel] = []
    for sentence in sentences:
        figures = claim_numbers(strip_markers(sentence.text))
        if not sentence.supported or not figures:
            continue
        for n in sentence.cited:
            source, unit = hits[n - 1], _unit(hits[n - 1])
            if unit is None:
                continue
            # Another article (annex, ...) of the same act and kind: a recital restating an
            # article is commentary, not a second rule.
            others = [
                (m, h)
                for m, h in enumerate(hits, start=1)
                if h.chunk.doc == source.chunk.doc
                and _unit(h) not in (None, unit)
                and _unit(h)[0] == unit[0]
            ]
            for origin in clauses(source.chunk.text):
                origin_numbers = claim_numbers(origin)
                if not origin_numbers & figures or len(_words(origin)) < MIN_ORIGIN_WORDS:
                    continue
                for m, other in others:
                    quote = _repeat(origin, origin_numbers, other, figures, stated)
                    if quote and all(p.n != m for p in found):
                        found.append(Parallel(m, quote))
                    if len(found) >= MAX_PARALLELS:
                        return found
    return found


def _repeat(
    origin: str, origin_numbers: set[str], other: Hit, figures: set[str], stated: set[str]
) -> str | None:
    """The sentence of `other` that repeats `origin` without the sentence's `figures` and with a
    figure of its own that the answer has not `stated`."""
    origin_words = _words(origin)
    for candidate in clauses(other.chunk.text):
        numbers = claim_numbers(candidate)
        if numbers & figures or not numbers - origin_numbers - stated:
            continue
        if len(origin_words & _words(candidate)) >= MIN_SHARED_WORDS * len(origin_words):
            return candidate
    return None


def parallel_sentence(parallel: Parallel, hit: Hit, lang: str, unit_title: str) -> AnswerSentence:
    """The added sentence: a lead in the answer's language, the locator, the verbatim quote, [n]."""
    where = hit.chunk.locator + (f" ({unit_title})" if unit_title else "")
    lead = LEAD.get(lang, LEAD["en"]).format(where=where)
    text = f"{lead}: “{parallel.quote}” [{parallel.n}]"
    return AnswerSentence(text, [parallel.n], supported=True, reason="verbatim from the source")
