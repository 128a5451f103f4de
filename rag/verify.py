"""Checking that each answer sentence is supported by the passages it cites.

A sentence is supported when (1) every number, amount, percentage and date in it (other than those
the question gives) occurs in a cited passage (after normalising `35 000 000`/`35,000,000` and `2,5 %`/`2.5%`), and so does every name of
three or more capitalised words ("European Digital Identity Wallet"), and (2) it overlaps a cited
passage in content: enough of its content words occur there, or its embedding is close
enough. Each citation also gets a short verbatim quote: the passage span that best matches the
claims citing it, checked to be an exact substring of the stored passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .chunking import clause_spans
from .citations import AnswerSentence, strip_markers
from .lexical import tokenize
from .lexicon import DATE, NUMBER_WORDS, REFERENCE_WORDS, dates_in
from .query import normalise_spaces

MIN_LEXICAL_SUPPORT = 0.34
"""Share of a sentence's content words found in its cited passages (tuned on the dev set)."""
MIN_SEMANTIC_SUPPORT = 0.45
"""Cosine similarity of sentence and passage embeddings accepted as support (tuned on the dev set)."""
QUOTE_MAX_WORDS = 40
_VERDICT_WORDS = set("yes ja oui tak nej nein non nie".split())
"""Words that only give a verdict; they say nothing a passage could back."""

_NUMBER = re.compile(r"(?<![^\W\d_])(?:\d+(?:[  .,]\d{3})*(?:[.,]\d+)?(?:\s*%)?|\d+\^\d+)")
"""A figure. Digits glued to a letter before them are part of a name ("NIS2"), not a figure."""


_NUMBER_WORDS = {word: str(value) for word, value in NUMBER_WORDS.items()}
_NUMBER_WORD = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")(?![\w])",
    re.IGNORECASE,
)
"""Legislation writes small numbers as words ("within two months", "a two-month period")."""


_WORD = re.compile(r"[^\W_][\w’'-]*")
_NAME_JOINERS = {"of", "for", "the", "and", "on", "de", "des", "du", "la", "für", "der"}
NAME_MIN_WORDS = 3
"""Capitalised words that make a sentence's phrase a name a passage must hold: two-word runs are
often general terms or a German noun pair ("Member States", "Der Verantwortliche")."""


def proper_names(sentence: str) -> list[str]:
    """Names of bodies, instruments or programmes the sentence states ("European Digital Identity
    Wallet"): runs of `NAME_MIN_WORDS`+ capitalised words (joined by "of", "for", … and nothing
    else), not counting the sentence's first word, without a possessive ending."""
    names: list[str] = []
    run: list[tuple[str, int, int]] = []

    def close() -> None:
        while run and not run[-1][0][:1].isupper():
            run.pop()
        if sum(1 for w, _, _ in run if w[:1].isupper()) >= NAME_MIN_WORDS:
            names.append(re.sub(r"['’]s$", "", sentence[run[0][1] : run[-1][2]]))
        run.clear()

    for i, m in enumerate(_WORD.finditer(sentence)):
        word = m.group(0)
        capital = word[:1].isupper() and i > 0
        joins = bool(run) and word in _NAME_JOINERS
        if (run and not sentence[run[-1][2] : m.start()].isspace()) or not (capital or joins):
            close()
            joins = False
        if capital or joins:
            run.append((word, m.start(), m.end()))
    close()
    return names


def normalise_number(token: str) -> str:
    """Canonical form of a number: no thousands separators, '.' as decimal mark, '%' attached."""
    t = token.strip().replace("\u00a0", " ").replace("\u202f", " ")
    percent = t.endswith("%")
    t = t.rstrip("%").strip()
    if "^" in t:
        return t
    # Thousands groups: separators followed by exactly three digits.
    t = re.sub(r"(?<=\d)[ .,](?=\d{3}(?:\D|$))", "", t)
    t = t.replace(",", ".")
    if "." in t:
        t = t.rstrip("0").rstrip(".") if re.fullmatch(r"\d+\.\d+", t) else t
    t = t.lstrip("0") or "0"
    return t + ("%" if percent else "")


def numbers_in(text: str) -> set[str]:
    """Normalised numbers of a text (citation markers must be removed first)."""
    found = set()
    for match in _NUMBER.finditer(text):
        found.add(normalise_number(match.group(0)))
    # "10^25" is also written "10 25" or "1025" by some renderings; keep the caret form only.
    return found


def evidence_numbers(text: str) -> set[str]:
    """The numbers a passage states, in digits or in words: "two months" backs a claim of "2 months"."""
    return numbers_in(text) | {
        _NUMBER_WORDS[m.group(1).lower()] for m in _NUMBER_WORD.finditer(text)
    }


def claim_numbers(sentence: str) -> set[str]:
    """Numbers that make a claim: not list labels like '(a)' or '1.' at the start."""
    text = re.sub(r"^\s*\(?\d{1,2}[.)]\s+", "", sentence)
    return numbers_in(text)


_REFERENCE_BEFORE = re.compile(rf"(?:{REFERENCE_WORDS})\s*$", re.IGNORECASE)
QUANTITY_WINDOW = 5
"""Content words after a figure (two before) among which the passage must name the claim's noun."""


def _is_reference(text: str, start: int, end: int) -> bool:
    """Whether the number at text[start:end] numbers something ("Article 5", "(3)", a paragraph's
    "1." at the start of a line) rather than counting or measuring it."""
    before, after = text[max(0, start - 20) : start], text[end : end + 2]
    if _REFERENCE_BEFORE.search(before) or (before.endswith("(") and after.startswith(")")):
        return True
    line_start = before.rsplit("\n", 1)[-1].strip() == "" and (
        start == 0 or "\n" in before or not before.strip()
    )
    return line_start and after[:1] in ".)"


def _words_around(text: str, start: int, end: int, after: int, before: int = 0) -> list[str]:
    """The first `after` content words after text[start:end] and the last `before` ones before it,
    read from whole words (stop words fall out, so three times as many raw words are looked at)."""
    ahead = tokenize(" ".join(text[end:].split()[: 3 * after]))[:after]
    behind = tokenize(" ".join(text[:start].split()[-3 * before :]))[-before:] if before else []
    return behind + ahead


_CLAUSE_END = re.compile(r"\s*[,;:.!?)](?!\d)")
"""Punctuation right after a figure: the word that follows belongs to the next clause, not to the
figure as its unit."""


def quantities(text: str) -> list[tuple[str, str | None]]:
    """The figures a claim states as (number, noun): the stem of the word right after it, the unit
    or what is counted ("72 hours", "3 members", "7 % of turnover" → turnover), or None for a bare
    figure. References ("Article 5", "(3)") are not quantities."""
    figures = [
        (m.start(), m.end(), normalise_number(m.group(0)).rstrip("%"))
        for m in _NUMBER.finditer(text)
    ]
    # Small numbers written as words count too ("within two weeks"); "one" is mostly a pronoun.
    figures += [
        (m.start(), m.end(), _NUMBER_WORDS[m.group(1).lower()])
        for m in _NUMBER_WORD.finditer(text)
        if m.group(1).lower() != "one"
    ]
    # A date is checked whole, as a date (`check_sentence`), in whatever language either writes it.
    in_dates = [(m.start(), m.end()) for m in DATE.finditer(text)]
    found = []
    for start, end, number in sorted(figures):
        if _is_reference(text, start, end) or any(a <= start < b for a, b in in_dates):
            continue
        ends_clause = _CLAUSE_END.match(text, end)  # "by 17 July 2024, the ESAs …": no noun
        words = [] if ends_clause else _words_around(text, start, end, 1)
        words = [w for w in words if not w[:1].isdigit()]
        found.append((number, words[0] if words else None))
    return found


def states_quantity(evidence: str, number: str, noun: str | None) -> bool:
    """Whether the passage states this figure as a quantity: the number (in digits or words) not as
    a reference, with the claim's noun among the words around it."""
    spans = [
        (m.start(), m.end())
        for m in _NUMBER.finditer(evidence)
        if normalise_number(m.group(0)).rstrip("%") == number
    ]
    spans += [
        (m.start(), m.end())
        for m in _NUMBER_WORD.finditer(evidence)
        if _NUMBER_WORDS[m.group(1).lower()] == number
    ]
    for start, end in spans:
        if _is_reference(evidence, start, end):
            continue
        if noun is None or noun in _words_around(evidence, start, end, QUANTITY_WINDOW, 2):
            return True
    return False


@dataclass
class Support:
    supported: bool
    reason: str
    lexical: float
    semantic: float


def added_words(claim: str, question: str) -> set[str]:
    """The content words a sentence adds to the question it answers (verdict words aside)."""
    return set(tokenize(strip_markers(claim))) - set(tokenize(question)) - _VERDICT_WORDS


def restates_question(claim: str, question: str) -> bool:
    """The sentence is the question turned into a statement ("Yes, X can be fined", "X does not
    list Y", "A applies first"): at most one content word and no figure of its own. Its only
    claim is the verdict, which word overlap with a passage cannot check."""
    claim = strip_markers(claim)
    said = set(tokenize(claim)) - _VERDICT_WORDS
    own = added_words(claim, question)
    if claim_numbers(claim) - numbers_in(question):
        return False
    return len(own) <= 1 and len(own) < 0.2 * max(len(said), 1)


def check_sentence(
    sentence: str,
    passages: list[str],
    similarity: Callable[[str, list[str]], float] | None = None,
    question: str = "",
) -> Support:
    """Does the text of the cited passages support this sentence (an answer to `question`)?"""
    claim = strip_markers(sentence)
    if not passages:
        return Support(False, "cites no passage", 0.0, 0.0)
    if not any(ch.isalpha() for word in tokenize(claim) for ch in word):
        # "1 [1]." or a bare figure: nothing a passage could vouch for.
        return Support(False, "states nothing checkable", 0.0, 0.0)
    if question and restates_question(claim, question):
        return Support(False, "restates the question as a verdict; no passage states it", 0.0, 0.0)
    evidence = "\n".join(passages)
    # A figure the question gives ("the three supervisory authorities") is its premise, repeated,
    # not a claim of the answer: like the question's words, only what the sentence adds is checked.
    given = {g.rstrip("%") for g in evidence_numbers(question)}
    stated = {e.rstrip("%") for e in evidence_numbers(evidence)} | given
    # A percentage written without its sign (or the reverse) still names the same figure.
    missing = {m for m in claim_numbers(claim) if m.rstrip("%") not in stated}
    if missing:
        return Support(
            False, f"number(s) not in the cited passage: {', '.join(sorted(missing))}", 0.0, 0.0
        )
    undated = dates_in(claim) - dates_in(evidence) - dates_in(question)
    if undated:
        shown = ", ".join(f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in sorted(undated))
        return Support(False, f"date(s) not in the cited passage: {shown}", 0.0, 0.0)
    unstated = [
        f"{number} {noun or ''}".strip()
        for number, noun in quantities(claim)
        if number not in given and not states_quantity(evidence, number, noun)
    ]
    if unstated:
        return Support(
            False,
            f"figure(s) not stated as such in the cited passage: {', '.join(unstated)}",
            0.0,
            0.0,
        )
    # A name the passage does not hold is a claim it cannot back, however many words it shares.
    said = normalise_spaces(evidence)
    unnamed = [n for n in proper_names(claim) if normalise_spaces(n) not in said]
    if unnamed:
        return Support(False, f"name(s) not in the cited passage: {', '.join(unnamed)}", 0.0, 0.0)
    held = set(tokenize(evidence))
    if question:
        # Words taken from the question overlap any passage on its subject; what the sentence
        # adds (its claim) is what the passage must hold.
        added = added_words(claim, question)
        found = share_found(added, held)
        if added and found < MIN_LEXICAL_SUPPORT:
            return Support(
                False, "what it adds to the question is not in the cited passage", found, 0.0
            )
    lexical = share_found(set(tokenize(claim)), held)
    if lexical >= MIN_LEXICAL_SUPPORT:
        return Support(True, "", lexical, 0.0)
    semantic = similarity(claim, passages) if similarity else 0.0
    if semantic >= MIN_SEMANTIC_SUPPORT:
        return Support(True, "", lexical, semantic)
    return Support(False, "little overlap with the cited passage", lexical, semantic)


def share_found(words: set[str], held: set[str]) -> float:
    """Share of `words` found among `held` (both tokens as `tokenize` makes them); 1.0 for none."""
    if not words:
        return 1.0
    return len(words & held) / len(words)


def verify_sentences(
    sentences: list[AnswerSentence],
    passage_text: Callable[[int], str | None],
    similarity: Callable[[str, list[str]], float] | None = None,
    available: list[int] | None = None,
    question: str = "",
    labels: list[str] | None = None,
) -> None:
    """Set `supported` and `reason` on each sentence in place.

    `labels` are the sources' headers as the model saw them ("Interoperable Europe Act — …
    — Article 2(14)"): a sentence that only repeats one of them names a source and says nothing.

    With `available` (the numbers of all passages the model was given), a sentence that its own
    markers do not support, or that carries none, is re-attributed to the one passage that
    supports it by the same test, if there is one: small models often cite the first source for
    everything or forget the marker, and the claim is still checkable."""
    label_words = [set(tokenize(label)) for label in labels or []]
    for sentence in sentences:
        said = set(tokenize(strip_markers(sentence.text)))
        if said and any(said <= words for words in label_words):
            sentence.supported, sentence.reason = False, "only repeats a source's header"
            continue
        texts = [t for t in (passage_text(n) for n in sentence.cited) if t]
        if sentence.cited:
            result = check_sentence(sentence.text, texts, similarity, question)
            sentence.supported, sentence.reason = result.supported, result.reason
        else:
            sentence.supported, sentence.reason = False, "no citation"
        if (
            not sentence.supported
            and available
            and not (question and restates_question(sentence.text, question))
        ):
            _reattribute(
                sentence,
                passage_text,
                similarity,
                [n for n in available if n not in sentence.cited],
                question,
            )


def _reattribute(
    sentence: AnswerSentence,
    passage_text: Callable[[int], str | None],
    similarity: Callable[[str, list[str]], float] | None,
    candidates: list[int],
    question: str = "",
) -> None:
    """Cite the best supporting passage among `candidates` instead of the sentence's own markers
    (by the same test, for an answer to `question`)."""
    best: tuple[float, int] | None = None
    for n in candidates:
        text = passage_text(n)
        if not text:
            continue
        # Lexical test first (cheap); the embedding test only when no passage passes it.
        result = check_sentence(sentence.text, [text], None, question)
        if result.supported and (best is None or result.lexical > best[0]):
            best = (result.lexical, n)
    if best is None and similarity is not None:
        for n in candidates:
            text = passage_text(n)
            if text and check_sentence(sentence.text, [text], similarity, question).supported:
                best = (0.0, n)
                break
    if best is None:
        return
    n = best[1]
    sentence.text = with_marker(sentence.text, n)
    sentence.cited = [n]
    sentence.supported, sentence.reason = True, f"cited source [{n}], which supports it"


def with_marker(sentence: str, n: int) -> str:
    """The sentence with its citation markers replaced by `[n]`, placed before the final stop."""
    bare = strip_markers(sentence)
    if bare and bare[-1] in ".!?":
        return f"{bare[:-1].rstrip()} [{n}]{bare[-1]}"
    return f"{bare} [{n}]"


def embedding_similarity(
    encode: Callable[[list[str]], np.ndarray],
) -> Callable[[str, list[str]], float]:
    """Max cosine similarity of a claim to any of its passages, with normalised embeddings."""

    def similarity(claim: str, passages: list[str]) -> float:
        vectors = encode([claim, *passages])
        return float(np.max(vectors[1:] @ vectors[0])) if len(vectors) > 1 else 0.0

    return similarity


def best_quote(passage: str, claims: list[str], max_words: int = QUOTE_MAX_WORDS) -> str:
    """The passage span (a sentence or clause, at most max_words) that best matches the claims.

    The result is always an exact substring of `passage`.
    """
    claim_words = set()
    figures: set[str] = set()
    for claim in claims:
        text = strip_markers(claim)
        claim_words |= set(tokenize(text))
        figures |= claim_numbers(text)
    spans = clause_spans(passage)
    if not spans:
        return ""

    def score(span: tuple[int, int]) -> float:
        text = passage[span[0] : span[1]]
        words = set(tokenize(text))
        hits = len(words & claim_words) + 2 * len(numbers_in(text) & figures)
        return hits / (1 + 0.02 * len(text.split()))

    start, end = max(spans, key=score)
    quote = passage[start:end]
    words = list(re.finditer(r"\S+", quote))
    if len(words) > max_words:
        # Keep the window of max_words words with most claim words, still a verbatim substring.
        best, best_hits = 0, -1
        for i in range(0, len(words) - max_words + 1):
            window = quote[words[i].start() : words[i + max_words - 1].end()]
            hits = len(set(tokenize(window)) & claim_words) + 2 * len(numbers_in(window) & figures)
            if hits > best_hits:
                best, best_hits = i, hits
        quote = quote[words[best].start() : words[best + max_words - 1].end()]
    assert quote in passage
    return quote
