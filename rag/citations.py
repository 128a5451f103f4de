"""Citation markers in answer text: parsing `[n]`, splitting sentences, dropping dangling numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")
_SENTENCE_SPLIT = re.compile(
    r"((?<!\b[A-Z])(?<!\bNo)(?<!\bArt)(?<!\bart)(?<!\bpp)(?<!\bnr)(?<!\bNr)[.!?](?:\s*\[\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\])*)\s+(?=[A-ZÀ-ÖØ-Þ0-9(\"'‘“])"
)


@dataclass
class AnswerSentence:
    text: str  # the sentence as shown, markers included
    cited: list[int] = field(default_factory=list)
    supported: bool | None = None  # None: not checked
    reason: str = ""


def marker_numbers(marker_body: str) -> list[int]:
    """'1, 3' -> [1, 3]; '2-4' -> [2, 3, 4]."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", marker_body):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            if 0 < hi - lo < 10:
                numbers.extend(range(lo, hi + 1))
                continue
        numbers.extend(int(b) for b in bounds if b.isdigit())
    return numbers


def cited_numbers(text: str) -> list[int]:
    out: list[int] = []
    for match in _MARKER.finditer(text):
        for n in marker_numbers(match.group(1)):
            if n not in out:
                out.append(n)
    return out


def drop_invalid_markers(text: str, valid: set[int]) -> str:
    """Remove citation numbers that point to no passage; a marker left empty disappears."""

    def fix(match: re.Match) -> str:
        kept = [n for n in marker_numbers(match.group(1)) if n in valid]
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    cleaned = _MARKER.sub(fix, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip()


_LEADING_MARKER = re.compile(r"^\s*\[\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\]")
_PLAIN_SPLIT = re.compile(
    r"((?<!\b[A-Z])(?<!\bNo)(?<!\bArt)(?<!\bart)(?<!\bpp)(?<!\bnr)(?<!\bNr)[.!?])\s+"
    r"(?=[\[A-ZÀ-ÖØ-Þ0-9(\"'‘“])"
)


def split_sentences(text: str) -> list[AnswerSentence]:
    """Sentences with the markers that belong to them. Markers usually follow their sentence ("…
    72 hours [1]." or after the full stop); a model that writes them in front ("[1] The fine …")
    does so from its first sentence on, and then every marker belongs to the sentence after it."""
    leading = bool(_LEADING_MARKER.match(text))
    splitter = _PLAIN_SPLIT if leading else _SENTENCE_SPLIT
    sentences: list[AnswerSentence] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in splitter.finditer(line):
            piece = line[start : match.end(1)].strip()
            if piece:
                sentences.append(AnswerSentence(piece, cited_numbers(piece)))
            start = match.end()
        piece = line[start:].strip()
        if piece:
            sentences.append(AnswerSentence(piece, cited_numbers(piece)))
    return _attach_lone_markers(sentences, forward=leading)


def _attach_lone_markers(sentences: list[AnswerSentence], forward: bool) -> list[AnswerSentence]:
    """A piece that is only markers ("[1]" on a line of its own) belongs to the sentence before it,
    or, in an answer that writes its markers in front, to the sentence after it."""
    merged: list[AnswerSentence] = []
    pending: AnswerSentence | None = None
    for sentence in sentences:
        lone = not _MARKER.sub("", sentence.text).strip(" .;,")
        if lone and forward:
            pending = sentence if pending is None else _joined(pending, sentence)
        elif lone and merged:
            merged[-1] = _joined(merged[-1], sentence)
        else:
            merged.append(_joined(pending, sentence) if pending else sentence)
            pending = None
    if pending is not None:
        merged.append(pending)
    return merged


def _joined(first: AnswerSentence, second: AnswerSentence) -> AnswerSentence:
    cited = first.cited + [n for n in second.cited if n not in first.cited]
    return AnswerSentence(f"{first.text} {second.text}", cited)


def strip_markers(text: str) -> str:
    """The text without citation markers, and without the space a marker leaves before a stop."""
    bare = re.sub(r"\s+", " ", _MARKER.sub("", text))
    return re.sub(r" (?=[.,;:!?](?:\s|$))", "", bare).strip()
