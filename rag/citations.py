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


def split_sentences(text: str) -> list[AnswerSentence]:
    """Sentences with the markers that follow them; a marker after the full stop counts too."""
    sentences: list[AnswerSentence] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_SPLIT.finditer(line):
            piece = line[start:match.end(1)].strip()
            if piece:
                sentences.append(AnswerSentence(piece, cited_numbers(piece)))
            start = match.end()
        piece = line[start:].strip()
        if piece:
            sentences.append(AnswerSentence(piece, cited_numbers(piece)))
    # Markers written on their own (e.g. "[1]" after the last sentence) belong to the sentence before.
    merged: list[AnswerSentence] = []
    for sentence in sentences:
        if merged and not _MARKER.sub("", sentence.text).strip(" .;,"):
            merged[-1].text += " " + sentence.text
            merged[-1].cited += [n for n in sentence.cited if n not in merged[-1].cited]
        else:
            merged.append(sentence)
    return merged


def strip_markers(text: str) -> str:
    """The text without citation markers, and without the space a marker leaves before a stop."""
    bare = re.sub(r"\s+", " ", _MARKER.sub("", text))
    return re.sub(r" (?=[.,;:!?](?:\s|$))", "", bare).strip()
