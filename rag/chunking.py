"""Legal-structure-aware chunking: passages small enough to cite, never crossing a unit boundary.

EU acts are recognised by their own structure in any supported language: recitals `(N)` in the
preamble, chapters/sections, `Article N` with paragraphs `1.` and points `(a)`/`(i)`, annexes with
numbered points. Each passage gets a precise locator (`Article 5(1)(c)`, `Recital 12`,
`Annex III, point 1`, plus the page for PDFs) and its article title as context. Documents without
that structure fall back to heading-path chunks of bounded size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .documents import Block, LoadedDocument
from .query import parse_locator

MAX_WORDS = 180
"""Upper bound on a passage's words: a paragraph or a few short points."""
LEAD_WORDS = 40
"""How much of a paragraph's lead-in a point passage carries as context."""


@dataclass
class Chunk:
    id: str
    doc: str
    locator: str
    heading: str  # the unit's title path, e.g. "CHAPTER XII — PENALTIES > Article 99 — Penalties"
    context: str  # extra text that situates the passage (lead-in of a list); not part of `text`
    text: str  # verbatim passage text: what is quoted and verified
    page: int | None = None
    ordinal: int = 0

    def words(self) -> int:
        return len(self.text.split())


_ARTICLE = re.compile(
    r"^(Article|Artikel|Artykuł|Articolo|Artículo|Artigo|Artikla|Článek)\s+(\d+[a-z]?)\b\.?\s*(?:[—–:-]\s*(.*))?$",
    re.IGNORECASE,
)
_ANNEX = re.compile(
    r"^(ANNEX|ANNEXE|ANHANG|BILAG|BILAGA|ZAŁĄCZNIK|BIJLAGE|ALLEGATO|ANEXO)\b\s*([IVXLC]+|\d+)?\b\.?\s*(?:[—–:-]\s*(.*))?$",
    re.IGNORECASE,
)
_DIVISION = re.compile(
    r"^(CHAPTER|CHAPITRE|KAPITEL|ROZDZIAŁ|SECTION|SEKCJA|AFDELING|ABSCHNITT|TITLE|TITRE|TITEL|TYTUŁ|"
    r"AFSNIT|PART|TEIL|DZIAŁ)\s+([IVXLC\d]+[A-Z]?)\b",
    re.IGNORECASE,
)
_PREAMBLE = re.compile(
    r"^(Preamble|Recitals?\b|Præambel|Preambuła|Präambel|Préambule|Whereas|Considérant|Ud fra følgende|"
    r"Erwägungsgr|w sprawie|Motywy|a także mając na uwadze|mając na uwadze|in Erwägung)",
    re.IGNORECASE,
)
_NOTES = re.compile(r"^(Notes|Noter|Fodnoter|Przypisy|Fußnoten|Notes de bas)\b", re.IGNORECASE)
_RECITAL_START = re.compile(r"^\((\d{1,3})\)\s+\S")
_PARAGRAPH_START = re.compile(r"^(\d{1,3})\.\s+\S")
_POINT_START = re.compile(r"^\(([a-z]{1,2}|[ivxlc]+|\d{1,3})\)\s*\S")
_ANNEX_POINT_START = re.compile(r"^(\d{1,3})\.\s+\S")
_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[(\"‘'A-ZÆØÅÄÖÜÉÀŁŚŻŹ0-9])")

_RECITAL_WORD = {
    "en": "Recital",
    "da": "Betragtning",
    "pl": "Motyw",
    "de": "Erwägungsgrund",
    "fr": "Considérant",
    "nl": "Overweging",
    "sv": "Skäl",
}


@dataclass
class _Segment:
    """The smallest structural unit found in the text, before packing into passages."""

    unit: str  # "Article 99", "Recital 12", "Annex III", or a heading path for plain documents
    para: str | None
    points: tuple[str, ...]
    text: str
    page: int | None
    heading: str
    lead: str = ""  # the paragraph text that introduces this point list
    kind: str = "article"  # article | recital | annex | plain


@dataclass
class _State:
    lang: str
    unit: str = "Opening text"
    unit_kind: str = "plain"
    heading_path: list[str] = field(default_factory=list)
    para: str | None = None
    points: tuple[str, ...] = ()
    lead: str = ""
    annex_point: str | None = None
    annex_level: int = 2  # heading level of the current annex: its parts are the levels below
    in_preamble: bool = False
    seen_article: bool = False
    in_notes: bool = False


def chunk_document(doc: LoadedDocument, max_words: int = MAX_WORDS) -> list[Chunk]:
    segments = list(_segments(doc.blocks, doc.lang))
    chunks: list[Chunk] = []
    for passage in _pack(segments, max_words):
        chunks.append(passage)
    for ordinal, chunk in enumerate(chunks):
        chunk.doc = doc.path
        chunk.ordinal = ordinal
        chunk.id = _chunk_id(doc.path, ordinal, chunk.text)
    return chunks


def _chunk_id(doc: str, ordinal: int, text: str) -> str:
    return hashlib.sha1(f"{doc}\x00{ordinal}\x00{text}".encode()).hexdigest()[:16]


def _segments(blocks: list[Block], lang: str):
    st = _State(lang=lang)
    for block in blocks:
        text = block.text.strip()
        if block.indent == -2:  # Markdown block quotes: document header furniture
            continue
        if block.heading_level == 1:
            continue  # the document title
        if _start_unit(st, text, block.heading_level > 0):
            st.annex_level = block.heading_level or 2
            continue
        if block.heading_level > 0:
            # A heading inside a unit (annex sections) or a generic document heading.
            if st.unit_kind == "annex":  # nested: "Section 1" (###) > its title (####)
                keep = max(1, block.heading_level - st.annex_level)
                last = st.heading_path[-1] if len(st.heading_path) > 1 else ""
                if (
                    last
                    and _annex_part(last, st.lang)
                    and not _annex_part(text, st.lang)
                    and st.annex_point is None
                ):
                    keep = len(st.heading_path)  # the title printed under "Section 1"
                st.heading_path = st.heading_path[:keep] + [text]
                numbered = _NUMBERED_HEADING.match(text)  # "4. Control of the documentation"
                st.annex_point = numbered.group(1) if numbered else None
            else:
                level = block.heading_level
                st.heading_path = st.heading_path[: max(0, level - 2)] + [text]
                st.unit = " > ".join(st.heading_path)
                st.unit_kind = "plain"
            continue
        yield from _body_segment(st, block, text)


def _start_unit(st: _State, text: str, is_heading: bool) -> bool:
    """Recognise headings that open a new unit (article, annex, chapter, preamble, notes)."""
    article = _ARTICLE.match(text)
    if article and (is_heading or len(text.split()) <= 12):
        word, number, title = article.group(1), article.group(2), article.group(3) or ""
        st.unit = f"{word.capitalize()} {number}"
        st.unit_kind = "article"
        st.heading_path = [p for p in st.heading_path[:1] if _DIVISION.match(p)]
        st.heading_path.append(f"{st.unit} — {title}".rstrip(" —") if title else st.unit)
        st.para, st.points, st.lead = None, (), ""
        st.in_preamble, st.seen_article, st.in_notes = False, True, False
        return True
    annex = _ANNEX.match(text)
    # Unmarked, only an OJ-style "ANNEX III" line opens an annex: "Annex XIII." can be the end
    # of a sentence wrapped onto a line of its own in a PDF.
    if (
        annex
        and text[:1].isupper()
        and (is_heading or (len(text.split()) <= 25 and text.split()[0].isupper()))
    ):
        word = annex.group(1).capitalize()
        number = annex.group(2) or ""
        st.unit = f"{word} {number}".strip()
        st.unit_kind = "annex"
        st.heading_path = [text]
        st.annex_point = None
        st.para, st.points, st.lead = None, (), ""
        st.in_preamble, st.in_notes = False, False
        return True
    if is_heading and _NOTES.match(text):
        st.in_notes, st.in_preamble = True, False
        st.unit, st.unit_kind, st.heading_path = "Notes", "plain", [text]
        return True
    if is_heading and _PREAMBLE.match(text) and not st.seen_article:
        st.in_preamble = True
        st.unit, st.unit_kind, st.heading_path = "Preamble", "plain", [text]
        return True
    division = _DIVISION.match(text)
    if division and st.unit_kind == "annex":
        return False  # "Section 1", "PART A" of an annex: a sub-heading of the annex
    if division and (is_heading or (len(text.split()) <= 15 and text.isupper())):
        st.heading_path = [text]
        st.unit, st.unit_kind = text, "plain"
        st.para, st.points = None, ()
        st.in_preamble = False
        return True
    return False


def _body_segment(st: _State, block: Block, text: str):
    heading = " > ".join(st.heading_path)
    if st.in_preamble:
        recital = _RECITAL_START.match(text)
        if recital:
            word = _RECITAL_WORD.get(st.lang, "Recital")
            st.unit, st.unit_kind = f"{word} {recital.group(1)}", "recital"
            yield _Segment(
                st.unit, None, (), text, block.page, f"{word} {recital.group(1)}", kind="recital"
            )
            return
        if text.rstrip(":").lower() in {
            "whereas",
            "ud fra følgende betragtninger",
            "mając na uwadze, co następuje",
        }:
            return
        if st.unit_kind == "recital" and block.indent < 0 and not text[:1].isupper():
            pass  # continuation of a recital split by the loader
        yield _Segment(
            st.unit if st.unit_kind == "recital" else "Preamble",
            None,
            (),
            text,
            block.page,
            heading,
            kind="recital" if st.unit_kind == "recital" else "plain",
        )
        return
    if st.unit_kind == "article":
        yield _article_segment(st, block, text, heading)
        return
    if st.unit_kind == "annex":
        point = _ANNEX_POINT_START.match(text)
        if point and block.indent <= 0:
            st.annex_point = point.group(1)
        elif (
            block.indent < 0
            and not _POINT_START.match(text)
            and st.annex_point
            and not text[:1].islower()
        ):
            pass  # unnumbered text after a point stays with it
        unit = st.unit
        for part in (_annex_part(h, st.lang) for h in st.heading_path[1:]):
            unit = f"{unit}, {part}" if part else unit
        yield _Segment(unit, st.annex_point, (), text, block.page, heading, kind="annex")
        return
    yield _Segment(st.unit or "Opening text", None, (), text, block.page, heading, kind="plain")


_ANNEX_PART = re.compile(
    r"^(Section|Part|Chapter|Sekcja|Część|Afsnit|Del|Kapitel|Abschnitt|Teil|Partie|Titel)\s+"
    r"([A-Z]|[IVXLC]+|\d{1,2})\b",
    re.IGNORECASE,
)
_LETTERED_PART = re.compile(r"^([A-Z]|[IVXLC]+)\.(?:\s+\S|(?=[^\W\d_]))")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2})\.\s*[^\W\d_]")
_SECTION_WORD = {
    "en": "Section",
    "da": "Afsnit",
    "pl": "Sekcja",
    "de": "Abschnitt",
    "fr": "Section",
}


def _annex_part(heading: str, lang: str) -> str:
    """The label an annex sub-heading gives its part ("Section 1 — …" → "Section 1", "D. ‘Submission
    of information’" → "Section D"); "" for a title without a label, which names no part."""
    labelled = _ANNEX_PART.match(heading)
    if labelled:
        return f"{labelled.group(1).capitalize()} {labelled.group(2).upper()}"
    lettered = _LETTERED_PART.match(heading)
    if lettered:
        return f"{_SECTION_WORD.get(lang, 'Section')} {lettered.group(1)}"
    return ""


def _article_segment(st: _State, block: Block, text: str, heading: str) -> _Segment:
    para = _PARAGRAPH_START.match(text)
    point = _POINT_START.match(text)
    if para and block.indent < 0:
        st.para, st.points, st.lead = para.group(1), (), text
    elif point:
        label = point.group(1)
        depth = block.indent if block.indent >= 0 else _guess_depth(st, label)
        st.points = st.points[:depth] + (label,)
    elif block.indent > 0 and st.points:
        pass  # an indented dash item belongs to the current point
    elif block.indent < 0:
        st.points = ()  # a sub-paragraph after a list, or the article's opening text
        if st.para is None:
            st.lead = text
    return _Segment(st.unit, st.para, st.points, text, block.page, heading, lead=st.lead)


def _guess_depth(st: _State, label: str) -> int:
    """Without list indentation (PDF, plain text): roman numerals after a letter point nest under it."""
    if st.points and re.fullmatch(r"[ivx]+", label) and re.fullmatch(r"[a-z]{1,2}", st.points[0]):
        if not (label == "i" and st.points[0] == "h"):
            return 1
    return 0


def _locator(seg: _Segment, first_points: tuple[str, ...], last_points: tuple[str, ...]) -> str:
    if seg.kind == "annex":
        return f"{seg.unit}, point {seg.para}" if seg.para else seg.unit
    if seg.kind != "article":
        return seg.unit
    loc = seg.unit
    if seg.para:
        loc += f"({seg.para})"
    if first_points:
        loc += "".join(f"({p})" for p in first_points[:2])
        if last_points and last_points[:1] != first_points[:1]:
            loc += f"–({last_points[0]})"
    return loc


def _pack(segments: list[_Segment], max_words: int):
    """Merge consecutive segments of the same unit/paragraph into passages of at most max_words."""
    group: list[_Segment] = []
    for seg in segments:
        if group and (seg.unit, seg.para, seg.kind) != (
            group[0].unit,
            group[0].para,
            group[0].kind,
        ):
            yield from _pack_group(group, max_words)
            group = []
        group.append(seg)
    if group:
        yield from _pack_group(group, max_words)


def _pack_group(group: list[_Segment], max_words: int):
    pieces: list[_Segment] = []
    for seg in group:
        if len(seg.text.split()) > max_words:
            pieces.extend(_split_long(seg, max_words))
        else:
            pieces.append(seg)
    batches: list[list[_Segment]] = [[]]
    count = 0
    for seg in pieces:
        n = len(seg.text.split())
        if batches[-1] and count + n > max_words:
            batches.append([])
            count = 0
        batches[-1].append(seg)
        count += n
    whole = len(batches) == 1
    for batch in batches:
        yield _make_chunk(batch, whole)


def _split_long(seg: _Segment, max_words: int) -> list[_Segment]:
    sentences = _SENTENCE_END.split(seg.text)
    out: list[_Segment] = []
    buf: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        while len(words) > max_words:  # a single enormous sentence: cut by words
            if buf:
                out.append(_with_text(seg, " ".join(buf)))
                buf = []
            out.append(_with_text(seg, " ".join(words[:max_words])))
            words = words[max_words:]
        if buf and len(" ".join(buf).split()) + len(words) > max_words:
            out.append(_with_text(seg, " ".join(buf)))
            buf = []
        if words:
            buf.append(" ".join(words))
    if buf:
        out.append(_with_text(seg, " ".join(buf)))
    return out


def _with_text(seg: _Segment, text: str) -> _Segment:
    return _Segment(seg.unit, seg.para, seg.points, text, seg.page, seg.heading, seg.lead, seg.kind)


def _make_chunk(segs: list[_Segment], whole: bool) -> Chunk:
    """One passage; a part of a long paragraph or list names the points it holds."""
    first = segs[0]
    pointed = [s.points for s in segs if s.points]
    starts_with_points = bool(first.points)
    first_points = pointed[0] if (pointed and not whole) else ()
    last_points = pointed[-1] if (pointed and not whole) else ()
    locator = _locator(first, first_points, last_points)
    pages = [s.page for s in segs if s.page is not None]
    if pages:
        locator += f", p. {pages[0]}" if pages[0] == pages[-1] else f", pp. {pages[0]}–{pages[-1]}"
    context = ""
    if starts_with_points and first.lead and first.lead != first.text:
        lead_words = first.lead.split()
        context = " ".join(lead_words[:LEAD_WORDS]) + (" …" if len(lead_words) > LEAD_WORDS else "")
    text = "\n".join(s.text for s in segs)
    return Chunk(
        id="",
        doc="",
        locator=locator,
        heading=first.heading,
        context=context,
        text=text,
        page=pages[0] if pages else None,
    )


# --------------------------------------------------------------------------- sentences

SENTENCE_MIN_WORDS = 8
"""Clauses shorter than this ("(a) where:") are joined to the next one: alone they say too little."""
SENTENCE_UNITS_VERSION = 1
"""Changes whenever `sentence_units` would split or label passages differently (index manifests
record it, so stored sentence vectors are reused only when they were made the same way)."""


def sentence_units(chunk: Chunk, min_words: int = SENTENCE_MIN_WORDS) -> list[str]:
    """The passage sentence by sentence, for the embedder: its clauses joined up to `min_words`
    words, each led by the unit's title ("Penalties: Non-compliance with … shall be subject to …").

    One vector per passage blurs its sentences together, and the embedder reads only the first
    256 tokens of a long passage; a question is usually answered by one sentence, which a vector of
    its own lets the question meet directly."""
    units = [
        " ".join(chunk.text[a:b] for a, b in group) for group in unit_clauses(chunk.text, min_words)
    ]
    units = units or [chunk.text.strip() or chunk.locator]  # every passage gets at least one
    title = unit_title(chunk.heading)
    return [f"{title}: {u}" for u in units] if title else units


def unit_clauses(text: str, min_words: int = SENTENCE_MIN_WORDS) -> list[list[tuple[int, int]]]:
    """The clause spans of each sentence unit of `text` (see `sentence_units`): clauses are
    gathered until they reach `min_words` words; a short tail joins the last unit. The text from a
    unit's first span start to its last span end is the unit as the passage writes it."""
    groups: list[list[tuple[int, int]]] = []
    pending: list[tuple[int, int]] = []
    words = 0
    for start, end in clause_spans(text):
        pending.append((start, end))
        words += len(text[start:end].split())
        if words >= min_words:
            groups.append(pending)
            pending, words = [], 0
    if pending:
        if groups:
            groups[-1] += pending
        else:
            groups.append(pending)
    return groups


def unit_title(heading: str) -> str:
    """The innermost title of a heading path, without its label: "… > Article 54 — Entry into
    force and application" → "Entry into force and application"."""
    last = heading.split(" > ")[-1]
    parts = last.split(" — ", 1)
    return parts[1] if len(parts) == 2 else ("" if parse_locator(last) else last)


_SPAN_BREAK = re.compile(r"(?<=[.;:])\s+|\n+")


def clauses(passage: str) -> list[str]:
    """The passage's sentences and clauses (split after '.', ';', ':' and at line breaks), trimmed."""
    return [passage[start:end] for start, end in clause_spans(passage)]


def clause_spans(passage: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _SPAN_BREAK.finditer(passage):
        if passage[start : match.start()].strip():
            spans.append(_trim(passage, start, match.start()))
        start = match.end()
    if passage[start:].strip():
        spans.append(_trim(passage, start, len(passage)))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
