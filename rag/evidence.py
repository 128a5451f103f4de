"""Evidence-first answers: the model points at the passage sentences that answer, and the answer is
those sentences, quoted as the passages write them, each with its source marker.

A small model rewrites a sentence less reliably than it recognises one: its drafts drop a
condition, swap a figure or blend two articles, and the check then has to catch that. Here the
model reads a short list of numbered candidate sentences (the passage sentences closest to the
question, in the embedder's space) and replies with numbers only; nothing it writes reaches the
reader. The prompt is a few sentences instead of whole passages, so the wait before the answer
falls with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .chunking import unit_clauses, unit_title
from .citations import AnswerSentence
from .prompts import SYSTEM, neutralise_delimiters, source_label
from .retrieval import Hit

NONE_REPLY = "NONE"
MAX_CHOSEN = 3
"""Sentences an answer quotes at most: enough for a rule with its exception or two acts' rules."""


_PARAGRAPH_NUMBER = re.compile(r"^\s*(?:\d{1,3}\.|\(\d{1,3}\))\s+(?=\S)")


def _without_number(unit: str) -> str:
    """The unit without the paragraph or recital number it opens with ("9. ", "(52) ")."""
    return _PARAGRAPH_NUMBER.sub("", unit)


@dataclass(frozen=True)
class Candidate:
    """One sentence unit of a retrieved passage, as the passage writes it."""

    n: int
    """The passage's number among the hits (1-based), i.e. the marker its citation gets."""
    text: str
    score: float


def passage_units(hit: Hit) -> list[str]:
    """The passage's sentence units, verbatim (the spans `chunking.sentence_units` embeds)."""
    text = hit.chunk.text
    units = [text[group[0][0] : group[-1][1]] for group in unit_clauses(text)]
    return units or [text.strip()]


def candidates(
    hits: list[Hit], query_vector: np.ndarray, unit_vectors: list[np.ndarray | None], limit: int
) -> list[Candidate]:
    """`limit` sentence units of the hits, in passage order: each passage's closest unit to the
    question in the passages' rank order, then each one's second closest, and so on, so that every
    retrieved passage is represented before any gives a second sentence (measured against taking
    the closest units overall in bench/evidence_coverage.py).

    `unit_vectors[i]` holds the stored vectors of hit i's units (None where they are unknown, and
    then its units come in the passage's own order)."""
    in_order: list[list[Candidate]] = []
    for i, hit in enumerate(hits):
        units = passage_units(hit)
        vectors = unit_vectors[i] if i < len(unit_vectors) else None
        sims = (
            vectors @ query_vector
            if vectors is not None and len(vectors) == len(units)
            else -np.arange(len(units), dtype=np.float32)
        )
        in_order.append([Candidate(i + 1, u, float(s)) for u, s in zip(units, sims)])
    ranked = [sorted(units, key=lambda c: -c.score) for units in in_order]
    picked: list[Candidate] = []
    for depth in range(max((len(r) for r in ranked), default=0)):
        picked += [r[depth] for r in ranked if depth < len(r)]
    keep = {id(c) for c in picked[:limit]}
    return [c for units in in_order for c in units if id(c) in keep]


def stored_unit_vectors(hits: list[Hit], sentences) -> list[np.ndarray | None]:
    """Each hit's stored sentence-unit vectors from its generation's `SentenceVectors` (None for
    a hit without a known row, or an index written before sentence vectors existed)."""
    return [sentences.of_row(h.row) if sentences is not None and h.row >= 0 else None for h in hits]


def pointing_messages(question: str, chosen_from: list[Candidate], hits: list[Hit]) -> list[dict]:
    """The prompt: numbered candidate sentences under their sources' headers, then the question."""
    lines: list[str] = []
    current = None
    for number, cand in enumerate(chosen_from, start=1):
        if cand.n != current:
            current = cand.n
            hit = hits[cand.n - 1]
            title = unit_title(hit.chunk.heading)
            lines.append(f"{source_label(hit)}" + (f" ({title})" if title else ""))
        lines.append(f"  {number}. {neutralise_delimiters(_without_number(cand.text))}")
    user = (
        "Below are numbered sentences from EU legislation, then a question. Reply with the number of "
        "the sentence that answers the question. Add a second or third number (separated by commas) "
        f"only if the answer needs those sentences too. If no sentence answers it, reply {NONE_REPLY}.\n\n"
        "Sentences:\n<<<\n" + "\n".join(lines) + "\n>>>\n\n"
        f"Question: {question}\nNumber:"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_pointers(reply: str, count: int) -> list[int]:
    """The sentence numbers of the model's reply (1-based, in range, first mention kept)."""
    chosen: list[int] = []
    for match in re.finditer(r"\d+", reply):
        number = int(match.group(0))
        if 1 <= number <= count and number not in chosen:
            chosen.append(number)
    return chosen[:MAX_CHOSEN]


def compose(chosen: list[Candidate]) -> list[AnswerSentence]:
    """The answer's sentences: each chosen unit as the passage writes it (without its paragraph
    number), ending with its marker."""
    sentences = []
    for cand in chosen:
        text = _without_number(cand.text).rstrip(" ;,:")
        if not text:
            continue
        stop = text[-1] if text[-1] in ".!?" else "."
        body = text[:-1] if text[-1] in ".!?" else text
        sentences.append(AnswerSentence(f"{body} [{cand.n}]{stop}", [cand.n]))
    return sentences


def excerpts(hits: list[Hit], shown: list[Candidate]) -> list[Hit]:
    """The hits with each passage's text cut down to its candidate sentences (in its own order,
    gaps marked "[…]"), for a drafting prompt that reads sentences instead of whole passages."""
    out = []
    for n, hit in enumerate(hits, start=1):
        units = passage_units(hit)
        kept = {c.text for c in shown if c.n == n}
        pieces, gap = [], False
        for unit in units:
            if unit in kept:
                pieces.append(("[…] " if gap else "") + unit)
                gap = False
            else:
                gap = True
        text = "\n".join(pieces) + (" […]" if gap and pieces else "")
        out.append(replace(hit, chunk=replace(hit.chunk, text=text or units[0])))
    return out
