"""Query analysis: which acts a question names, which articles/annexes/recitals it cites, and
which exact strings (quoted terms, numbers with units) it relies on.

Analysts name the act they ask about ("under the GDPR", "DSGVO", "KI-Verordnung", "2024/1689")
far more often than they cite an article, and generic retrieval ignores both. The catalog of names
is derived from the indexed documents' titles (so user-added documents are recognised too) and
extended with `data/acts.toml`, which holds the names used in other EU languages.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from .answer_types import asked_kind, asks_when_applicable
from .language import detect_language
from .lexicon import DATE, PERIOD_UNITS, UNIT_WORDS

_ACT_NUMBER = re.compile(r"(?<![\d/])((?:19|20)\d{2})/(\d{1,4})(?![\d/])")
_UPPER_ACRONYM = re.compile(r"^[A-ZÄÖÜ0-9][A-ZÄÖÜ0-9\-]{1,9}$")


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for name matching ("KI-VO" = "ki vo")."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[’'`´]", "'", text)
    text = re.sub(r"[^\w']+", " ", text)
    # "nis2" and "nis 2" are the same name: split letters from digits.
    text = re.sub(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", " ", text)
    return " ".join(text.split())


def fold_mapped(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each of its characters, the index of the raw character it comes from:
    a name found in the folded text can be cut out of, or replaced in, the raw text."""
    chars: list[tuple[str, int]] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch.casefold()):
            if unicodedata.combining(c):
                continue
            c = "'" if c in "’'`´" else c if (c.isalnum() or c in "_'") else " "
            prev = chars[-1][0] if chars else " "
            if c == " " and prev == " ":
                continue
            if (
                prev != " "
                and c != " "
                and (prev.isdigit() and c.isalpha() or prev.isalpha() and c.isdigit())
            ):
                chars.append((" ", i))
            chars.append((c, i))
    while chars and chars[-1][0] == " ":
        chars.pop()
    return "".join(c for c, _ in chars), [i for _, i in chars]


_WS = re.compile(r"\s+")
_THOUSANDS = re.compile(r"(?<=\d)[ ,.](?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_SPACE_PERCENT = re.compile(r"\s+%")


def normalise_spaces(text: str) -> str:
    """Case-folded text with every whitespace run (incl. non-breaking spaces) as one space."""
    return _WS.sub(" ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip().casefold()


def normalise_text(text: str) -> str:
    """`normalise_spaces` plus one number style: `35 000 000` = `35,000,000`, `2,5 %` = `2.5%`.

    Thousands separators (space, comma or dot before a group of exactly three digits) are dropped,
    then a remaining decimal comma becomes a dot, so Official-Journal and English styles compare equal.
    """
    text = _THOUSANDS.sub("", normalise_spaces(text))
    return _SPACE_PERCENT.sub("%", _DECIMAL_COMMA.sub(".", text))


# --------------------------------------------------------------------------- act catalog


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    title: str
    lang: str
    names: tuple[str, ...] = ()  # names the act gives itself in its text (see `rag.identity`)


@dataclass
class Act:
    """One legal act; its documents are language versions of it (same number in the title)."""

    key: str
    docs: list[DocumentInfo] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    acronyms: set[str] = field(default_factory=set)

    def doc_ids(self, langs: Iterable[str] | None = None) -> list[str]:
        wanted = set(langs) if langs is not None else None
        return [d.id for d in self.docs if wanted is None or d.lang in wanted]

    @property
    def langs(self) -> set[str]:
        return {d.lang for d in self.docs}

    def preferred_doc_ids(self, lang: str) -> list[str]:
        """Its documents in `lang`, else in English, else all of them."""
        for wanted in (lang, "en"):
            docs = self.doc_ids([wanted])
            if docs:
                return docs
        return self.doc_ids()


@lru_cache(maxsize=1)
def bundled_aliases() -> dict[str, list[str]]:
    """Aliases per act number from `rag/data/acts.toml` (package data)."""
    text = resources.files("rag").joinpath("data/acts.toml").read_text("utf-8")
    return {
        key: list(entry.get("aliases", []))
        for key, entry in tomllib.loads(text).get("acts", {}).items()
    }


def names_from_title(title: str) -> tuple[set[str], set[str]]:
    """Names and acronyms a document title implies: short name, "(GDPR)", initials, the number."""
    names: set[str] = set()
    acronyms: set[str] = set()
    parts = [p.strip() for p in re.split(r"\s+[—–-]\s+", title) if p.strip()]
    for part in parts:
        for inner in re.findall(r"\(([^)]*)\)", part):
            if _UPPER_ACRONYM.match(inner.strip()) and len(inner.strip()) >= 3:
                acronyms.add(inner.strip())
        bare = " ".join(re.sub(r"\([^)]*\)", " ", part).split())
        if not bare or _ACT_NUMBER.search(bare):
            continue  # "Regulation (EU) 2016/679" is matched through its number
        names.add(bare)
        words = bare.split()
        if len(words) >= 3 and all(w[:1].isupper() and w.isalpha() for w in words):
            acronyms.add("".join(w[0] for w in words).upper())
    for year, num in _ACT_NUMBER.findall(title):
        names.add(f"{year}/{num}")
    return names, acronyms


def _inflectable(folded: str) -> str:
    """A name pattern that tolerates inflectional endings (Polish "aktu w sprawie…", Danish
    "dataforordningens"): up to 3 letters after words of 3+ letters in multi-word names, and after
    one-word names of 8+ letters; short words and numbers must match exactly. Words may also be
    written together."""
    words = folded.split()
    multi = len(words) > 1
    parts = []
    for w in words:
        grows = w.isalpha() and (len(w) >= 8 or (multi and len(w) >= 3))
        parts.append(re.escape(w) + (r"\w{0,3}" if grows else ""))
    # Compounds are written joined or hyphenated: "Chip-Gesetz" (folded "chip gesetz") = "Chipgesetz".
    return " ?".join(parts)


class ActMatches(NamedTuple):
    """What `ActCatalog.matches` found in one text."""

    acts: list[tuple[str, int]]
    """(act key, position) in order of first mention."""
    spans: list[tuple[int, int, str]]
    """(start, end) of each name in the raw text, and its act key."""


class ActCatalog:
    """Recognises act names in text; built once per index generation."""

    def __init__(
        self, documents: Iterable[DocumentInfo], aliases: dict[str, list[str]] | None = None
    ) -> None:
        aliases = bundled_aliases() if aliases is None else aliases
        self.acts: dict[str, Act] = {}
        for doc in documents:
            match = _ACT_NUMBER.search(doc.title)
            key = f"{match.group(1)}/{match.group(2)}" if match else doc.id
            act = self.acts.setdefault(key, Act(key))
            act.docs.append(doc)
            names, acronyms = names_from_title(doc.title)
            act.names |= names
            act.acronyms |= acronyms
            for name in doc.names:
                (act.acronyms if _UPPER_ACRONYM.match(name) and " " not in name else act.names).add(
                    name
                )
        for key, act in self.acts.items():
            for alias in aliases.get(key, []):
                (
                    act.acronyms if _UPPER_ACRONYM.match(alias) and " " not in alias else act.names
                ).add(alias)
        self._patterns = self._compile()

    def _compile(self) -> list[tuple[re.Pattern, str, int, bool]]:
        """(pattern, act key, name length, is acronym), longest first so longer names win overlaps."""
        entries: list[tuple[re.Pattern, str, int, bool]] = []
        for key, act in self.acts.items():
            for name in act.names:
                folded = fold(name)
                if len(folded) < 3:
                    continue
                entries.append(
                    (re.compile(rf"(?<!\w){_inflectable(folded)}(?!\w)"), key, len(folded), False)
                )
            for acronym in act.acronyms:
                entries.append(
                    (re.compile(rf"(?<![\w-]){re.escape(acronym)}(?!\w)"), key, len(acronym), True)
                )
        return sorted(entries, key=lambda e: -e[2])

    def find(self, text: str) -> list[tuple[str, int]]:
        """Acts named in `text` as (act key, position), in order of first mention."""
        return self.matches(text).acts

    def matches(self, text: str) -> ActMatches:
        """The acts named in `text` and where; returned, never kept: one catalog serves
        concurrent requests."""
        folded, origin = fold_mapped(text)
        taken = [False] * (len(folded) + 1)
        taken_raw = [False] * (len(text) + 1)
        found: dict[str, int] = {}
        spans: list[tuple[int, int, str]] = []
        for pattern, key, _, acronym in self._patterns:
            haystack, mask = (text, taken_raw) if acronym else (folded, taken)
            for m in pattern.finditer(haystack):
                if any(mask[m.start() : m.end()]):
                    continue
                for i in range(m.start(), m.end()):
                    mask[i] = True
                start, end = (
                    (m.start(), m.end())
                    if acronym
                    else (origin[m.start()], origin[m.end() - 1] + 1)
                )
                spans.append((start, end, key))
                # Positions in folded and raw text differ slightly; relative order is what matters.
                pos = m.start() / max(1, len(haystack))
                found[key] = min(found.get(key, 10**9), int(pos * 10_000))
        return ActMatches(sorted(found.items(), key=lambda kv: kv[1]), spans)

    def name_in(self, key: str, lang: str) -> str | None:
        """The act's short name in a language it is indexed in: the first part of that document's
        title ("Artificial Intelligence Act"), or None when the index has no such version."""
        act = self.acts.get(key)
        for doc in act.docs if act else []:
            if doc.lang == lang:
                first = re.split(r"\s+[—–]\s+", doc.title, maxsplit=1)[0].strip()
                if first and not _ACT_NUMBER.search(first):
                    return first
        return None

    def renamed(self, text: str, lang: str) -> str:
        """`text` with each act name it contains replaced by the act's name in `lang`
        ("Ab wann gilt die KI-Verordnung?" → "Ab wann gilt die Artificial Intelligence Act?").
        A translation by the small generator keeps a name it is given; a foreign name it mangles
        ("KI Ordinance"). Acts without a version in `lang` keep their name."""
        spans = self.matches(text).spans
        replacements = [
            (start, end, self.name_in(key, lang)) for start, end, key in _outermost(spans)
        ]
        for start, end, name in sorted(replacements, reverse=True):
            if name and not _ACT_NUMBER.search(
                text[start:end]
            ):  # a number reads the same in any language
                text = text[:start] + name + text[end:]
        return text


def _outermost(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans not inside a longer one ("NIS2" inside "NIS2-Richtlinie"), longest first."""
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda sp: sp[0] - sp[1]):
        if not any(span[0] < end and start < span[1] for start, end, _ in kept):
            kept.append(span)
    return kept


_NAMED_ACT = re.compile(
    r"\b((?:[A-Z][\w'’-]*\s+(?:(?:and|of|on|for|the|de|des|du)\s+)?){1,6}(?:Act|Directive|Regulation))\b"
)


def unknown_act_names(text: str, catalog: ActCatalog) -> list[str]:
    """Names of legal acts in `text` ("European Media Freedom Act") that no indexed document is.

    Only used when the text names no indexed act at all: a question about an act the index does
    not hold cannot be answered from it, however similar the retrieved passages look.
    """
    if catalog.find(text):
        return []
    return [m.group(1) for m in _NAMED_ACT.finditer(text) if not catalog.find(m.group(1))]


# --------------------------------------------------------------------------- legal references

_KIND_WORDS = UNIT_WORDS
_KIND_OF_WORD = [
    (kind, re.compile(rf"^(?:{words})$", re.IGNORECASE)) for kind, words in _KIND_WORDS.items()
]
_REFERENCE = re.compile(
    rf"(?<!\w)(?P<kind>{'|'.join(_KIND_WORDS.values())})\s*(?P<num>\d+[a-z]?|[IVXLC]+\b)"
    r"(?P<parts>(?:\s*\(\s*\w{1,4}\s*\))*)"
    r"(?P<words>(?:\s*,?\s*(?:paragraphe|paragraph|para\.?|absatz|abs\.?|ust\.?|stk\.?|point|pkt\.?|"
    r"litra|lit\.?|buchstabe|buchst\.?)\s*\(?\w{1,4}\)?)*)",
    re.IGNORECASE,
)
_PART = re.compile(r"\(\s*(\w{1,4})\s*\)")
_WORD_PART = re.compile(
    r"(?:paragraphe|paragraph|para\.?|absatz|abs\.?|ust\.?|stk\.?|point|pkt\.?|litra|"
    r"lit\.?|buchstabe|buchst\.?)\s*\(?(\w{1,4})\)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reference:
    """A cited unit: kind ("article", "annex", "recital"), its number, sub-parts such as ("1", "c")."""

    kind: str
    number: str
    parts: tuple[str, ...] = ()
    position: int = 0


def kind_of(word: str) -> str | None:
    for kind, pattern in _KIND_OF_WORD:
        if pattern.match(word.strip()):
            return kind
    return None


def parse_references(text: str) -> list[Reference]:
    """ "Art. 5(1)(c)", "Article 83", "Artikel 50 Abs. 2", "Annex III", "Recital 12" → references."""
    refs = []
    for m in _REFERENCE.finditer(text):
        kind = kind_of(m.group("kind"))
        if kind is None:
            continue
        number = m.group("num")
        if kind == "article" and not number[0].isdigit():
            continue  # "article I" is not how articles are numbered
        parts = tuple(p.lower() for p in _PART.findall(m.group("parts") or ""))
        parts += tuple(p.lower() for p in _WORD_PART.findall(m.group("words") or ""))
        refs.append(
            Reference(
                kind,
                number.upper() if not number[0].isdigit() else number.lower(),
                parts,
                m.start(),
            )
        )
    return refs


_CITED_ARTICLES = re.compile(
    rf"(?<!\w)(?:{_KIND_WORDS['article']})\s+"
    r"(\d+[a-z]?(?:\s*\(\w{1,4}\))*(?:\s*(?:,|and|or|to|und|bis|et|à|og|til)\s*"
    rf"(?:(?:{_KIND_WORDS['article']})\s+)?"
    r"(?:\d+[a-z]?|\(\w{1,4}\))(?:\s*\(\w{1,4}\))*)*)",
    re.IGNORECASE,
)
_ARTICLE_NUMBER = re.compile(r"(?<![\w(])\d+[a-z]?(?![\w)])")
_RANGE_WORDS = re.compile(r"^\s*(?:to|bis|à|til|do)\s*$")


def cited_articles(text: str) -> set[str]:
    """Article numbers a provision's text refers to: "Article 14", "Articles 5, 6 and 7",
    "Articles 35 to 51" (every number of the range), "Article 3(1) to (4) and Article 17"."""
    numbers: set[str] = set()
    for m in _CITED_ARTICLES.finditer(text):
        numbers |= _listed_numbers(m.group(1), max_range=200)
    return numbers


def _listed_numbers(listed: str, max_range: int) -> set[str]:
    """The numbers of a list such as "5, 6 and 7" or "35 to 51" (every number of a range)."""
    numbers: set[str] = set()
    found = list(_ARTICLE_NUMBER.finditer(listed))
    for i, n in enumerate(found):
        numbers.add(n.group().lower())
        if i and _RANGE_WORDS.match(listed[found[i - 1].end() : n.start()]):
            low, high = found[i - 1].group(), n.group()
            if low.isdigit() and high.isdigit() and 0 < int(high) - int(low) <= max_range:
                numbers.update(str(k) for k in range(int(low), int(high) + 1))
    return numbers


_LOCATOR = re.compile(
    r"^\s*(?P<kind>[^\W\d_]+\.?)\s+(?P<num>\d+[a-z]?|[IVXLC]+)\b(?P<rest>.*)$", re.IGNORECASE
)
_LOCATOR_PARTS = re.compile(r"\((\w{1,4})\)")


def parse_locator(locator: str) -> tuple[str, str, tuple[str, ...]] | None:
    """A passage locator ("Article 3(60)–(62)", "Artykuł 22(3)", "Annex III, point 3") as
    (kind, number, first sub-parts); None for other locators ("Preamble")."""
    m = _LOCATOR.match(locator)
    if not m:
        return None
    kind = kind_of(m.group("kind"))
    if kind is None:
        return None
    number = m.group("num")
    first = m.group("rest").split("–")[0]
    parts = tuple(p.lower() for p in _LOCATOR_PARTS.findall(first))
    return kind, number.upper() if not number[0].isdigit() else number.lower(), parts


def locator_span(locator: str) -> list[str]:
    """Sub-part labels a passage covers at its first level: "Article 3(60)–(62)" → 60, 61, 62."""
    m = re.search(r"\((\w{1,4})\)[^–]*–\s*\((\w{1,4})\)", locator)
    if m and m.group(1).isdigit() and m.group(2).isdigit():
        lo, hi = int(m.group(1)), int(m.group(2))
        if 0 <= hi - lo <= 200:
            return [str(i) for i in range(lo, hi + 1)]
    if m and len(m.group(1)) == 1 and len(m.group(2)) == 1 and m.group(1).isalpha():
        return [chr(c) for c in range(ord(m.group(1)), ord(m.group(2)) + 1)]
    parsed = parse_locator(locator)
    return list(parsed[2][:1]) if parsed else []


# --------------------------------------------------------------------------- acronyms

_ACRONYM_IN_BRACKETS = re.compile(
    r"\((?:the |hereinafter )?[‘'“]?([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*s?)[’'”]?\)"
)
_FILLER_WORDS = {
    "of",
    "and",
    "the",
    "for",
    "on",
    "in",
    "to",
    "a",
    "an",
    "und",
    "der",
    "des",
    "de",
    "du",
    "la",
    "et",
}


def acronym_definitions(text: str) -> list[tuple[str, str]]:
    """(acronym, long form) pairs a text introduces: "threat-led penetration testing (TLPT)",
    "Joint Oversight Network (‘JON’)": the words before the brackets whose initials (hyphenated
    parts count separately, filler words not at all) spell the acronym's capitals."""
    pairs: list[tuple[str, str]] = []
    for m in _ACRONYM_IN_BRACKETS.finditer(text):
        acronym = m.group(1)
        letters = "".join(c for c in acronym if c.isupper())
        if len(letters) < 2:
            continue
        words = re.findall(r"[^\W\d_][\w-]*", text[max(0, m.start() - 200) : m.start()])
        taken: list[str] = []
        initials = ""
        for word in reversed(words):
            parts = [p for p in word.split("-") if p]
            taken.insert(0, word)
            if word.lower() not in _FILLER_WORDS:
                initials = "".join(p[0].upper() for p in parts) + initials
            if initials == letters:
                if len(taken) >= 2:
                    pairs.append((acronym, " ".join(taken)))
                break
            if len(initials) >= len(letters) or not letters.endswith(initials):
                break
    return pairs


# --------------------------------------------------------------------------- exact-match terms

_CHAPTER = re.compile(
    r"(?<!\w)(chapters?|kapitel|kapitlet|chapitre|capítulo|capitolo|rozdzia[łl]\w{0,2}|hoofdstuk)"
    r"\s+([IVXLC]+|\d{1,2})(?!\w)",
    re.IGNORECASE,
)
_ROMAN = [
    "",
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "XIX",
    "XX",
]
_QUOTED = re.compile(r"(?<!\w)[‘“«„\"']\s*([^‘’“”«»„\"]{2,80}?)\s*[’”»\"“'](?!\w)")
_NUMBER_TERM = re.compile(r"(?<![\w/])(\d[\d.,]*(?:\s\d{3})*)(?:\s+([^\W\d_]{2,}))?", re.UNICODE)
_PERIOD_UNIT = re.compile(PERIOD_UNITS, re.IGNORECASE)
_QUANTITY_WORDS = set(
    "working minutes percent eur euro euros million millions billion users employees members".split()
)
"""Besides units of time, the words after a number that say what it counts ("7 percent")."""


def exact_terms(text: str, skip_spans: list[tuple[int, int]] = ()) -> list[str]:
    """Strings a matching passage should contain verbatim: quoted terms and numbers (with their unit).

    Numbers that are part of act numbers or references are skipped: they name, not describe.
    """
    terms: list[str] = []
    for m in _CHAPTER.finditer(text):
        # Chapters are cited in the text of other provisions ("Chapter IV (Articles 35 to 51) shall
        # apply from …"): the English form and the question's own word, in roman numerals.
        numeral = m.group(2).upper()
        if numeral.isdigit():
            numeral = _ROMAN[int(numeral)] if int(numeral) < len(_ROMAN) else numeral
        terms += [f"Chapter {numeral}", f"{m.group(1)} {numeral}"]
    for m in _QUOTED.finditer(text):
        inner = m.group(1).strip()
        if inner and len(inner.split()) <= 8:
            terms.append(inner)
    dates = [(m.start(), m.end()) for m in DATE.finditer(text)]
    terms += [" ".join(text[a:b].replace(".", " ").split()) for a, b in dates]
    for m in _NUMBER_TERM.finditer(text):
        if any(a <= m.start() < b for a, b in [*skip_spans, *dates]):
            continue
        number, unit = m.group(1).rstrip(".,"), m.group(2)
        if unit and (unit.casefold() in _QUANTITY_WORDS or _PERIOD_UNIT.fullmatch(unit)):
            terms.append(f"{number} {unit}")
        elif len(number.replace(" ", "")) >= 2:
            terms.append(number)
    seen: set[str] = set()
    return [t for t in terms if not (t.casefold() in seen or seen.add(t.casefold()))]


# --------------------------------------------------------------------------- analysis


@dataclass
class QueryAnalysis:
    text: str
    lang: str
    acts: list[str] = field(default_factory=list)
    references: list[tuple[Reference, str | None]] = field(default_factory=list)
    """Each reference with the act it belongs to (None when the question names no act)."""
    exact: list[str] = field(default_factory=list)
    answer_kind: str | None = None
    """The kind of value asked for (`rag.answer_types`): "date", "period", "amount" or None."""
    asks_definition: bool = False
    """Whether it asks what a term means (read by meaning, `rag.question_kinds`)."""
    asks_application: bool = False
    """Whether it asks from when something applies ("From when does Article 6(1) apply?")."""
    without_acts: str = ""
    """The question with the act names removed: once retrieval is scoped to those acts, the names
    match every passage of the scope and only blur the words that discriminate."""


def strip_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """`text` without the given (start, end, _) spans, each with a possessive that follows it."""
    for start, end, _ in sorted(_outermost(spans), reverse=True):
        tail = re.match(r"(?:'s|’s)(?!\w)", text[end:])
        text = text[:start] + " " + text[end + (tail.end() if tail else 0) :]
    return " ".join(text.split())


def analyse(text: str, catalog: ActCatalog) -> QueryAnalysis:
    """Everything retrieval uses from the question besides its words."""
    lang = detect_language(text)
    mentions, spans = catalog.matches(text)
    acts = [key for key, _ in mentions]
    refs = parse_references(text)
    n = max(1, len(text))
    linked: list[tuple[Reference, str | None]] = []
    for ref in refs:
        if not acts:
            linked.append((ref, None))
            continue
        # The nearest act mention owns the reference ("GDPR Article 83", "Art. 5 AI Act").
        rel = int(ref.position / n * 10_000)
        linked.append((ref, min(mentions, key=lambda kv: abs(kv[1] - rel))[0]))
    skip = [(m.start(), m.end()) for m in _REFERENCE.finditer(text)]
    skip += [(m.start(), m.end()) for m in _ACT_NUMBER.finditer(text)]
    skip += [(m.start(), m.end()) for m in _CHAPTER.finditer(text)]
    return QueryAnalysis(
        text=text,
        lang=lang,
        acts=acts,
        references=linked,
        exact=exact_terms(text, skip),
        answer_kind=asked_kind(text),
        asks_application=asks_when_applicable(text),
        without_acts=strip_spans(text, spans) if acts else text,
    )
