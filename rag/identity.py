"""A legal act's identity read from its own text: official title, type, number, short title,
the acronyms it gives itself, and for consolidated texts the base act and consolidation date.

Files name themselves badly (an EUR-Lex XHTML's `<title>` is the publisher's file name, a
consolidated text's is `Consolidated TEXT: 32016R0679 — EN — …`, a PDF's metadata is often
empty), but every act opens with its official title ("REGULATION (EU) 2022/868 OF THE EUROPEAN
PARLIAMENT AND OF THE COUNCIL of 30 May 2022 on … (Data Governance Act)"). Titles, act-name
recognition and duplicate detection are built on what is read here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .blocks import Block
from .lexicon import human_date

HEAD_BLOCKS = 40
"""The official title is among the first blocks (after the OJ header, a disclaimer, a marker);
looking further would take an act merely cited in the text for the document's own."""

_TYPES = {
    "regulation": "Regulation",
    "directive": "Directive",
    "decision": "Decision",
    "forordning": "Forordning",
    "direktiv": "Direktiv",
    "afgørelse": "Afgørelse",
    "rozporządzenie": "Rozporządzenie",
    "dyrektywa": "Dyrektywa",
    "decyzja": "Decyzja",
    "verordnung": "Verordnung",
    "richtlinie": "Richtlinie",
    "beschluss": "Beschluss",
    "règlement": "Règlement",
    "décision": "Décision",
    "verordening": "Verordening",
    "richtlijn": "Richtlijn",
    "besluit": "Besluit",
    "reglamento": "Reglamento",
    "directiva": "Directiva",
    "decisión": "Decisión",
    "regolamento": "Regolamento",
    "direttiva": "Direttiva",
    "decisione": "Decisione",
}
_TYPE_WORDS = "|".join(sorted(_TYPES, key=len, reverse=True))
_DESIGNATION = re.compile(
    rf"(?:[^\s(]+\s+){{0,5}}?({_TYPE_WORDS})\b(?:\s+[^\s(]+){{0,6}}?\s*"
    r"\(([A-Z]{2}(?:,\s*Euratom)?)\)\s+(?:(?:No|nr|Nr)\.?\s+)?((?:19|20)\d{2}/\d{1,4})\b",
    re.IGNORECASE,
)
"""`REGULATION (EU) 2022/868`, `EUROPA-PARLAMENTETS OG RÅDETS FORORDNING (EU) 2023/2854`,
`Rozporządzenie Parlamentu Europejskiego i Rady (UE) 2024/1689` at the start of a block."""

_EEA = re.compile(
    r"\((?:Text with EEA relevance|EØS-relevant tekst|Tekst mający znaczenie dla EOG|"
    r"Text von Bedeutung für den EWR|Texte présentant de l'intérêt pour l'EEE)\)",
    re.IGNORECASE,
)
_DATE_LINE = re.compile(r"^(?:of|af|z dnia|vom|du|van|de|del)\s+\d", re.IGNORECASE)
_DATED = re.compile(
    r"\s(?:of|af|z dnia|vom|du|van|de|del)\s+\d{1,2}\.?\s+[^\W\d_]+\s+\d{4}", re.IGNORECASE
)
_MARKER = re.compile(r"[►▼◄]\s*(?:[A-Z]\d*|[A-Z]{1,2}\d+)?")
"""Amendment markers of EUR-Lex consolidated texts: ►B, ▼M2, ►C1, ◄ (see `strip_markers`)."""
_CONSOLIDATED_ID = re.compile(
    r"\b0((?:19|20)\d{2})([RLD])(\d{4})\s*[—–-]\s*([A-Z]{2})\s*[—–-]\s*(\d{2})\.(\d{2})\.(\d{4})"
)
"""`02016R0679 — EN — 04.05.2016`: the consolidated version's CELEX number, language and date."""
_CONSOLIDATED_TITLE = re.compile(
    r"Consolidated TEXT:\s*3((?:19|20)\d{2})([RLD])(\d{4})\s*[—–-]\s*([A-Z]{2})\s*[—–-]\s*"
    r"(\d{2})\.(\d{2})\.(\d{4})",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"meant purely as a documentation tool|only the official|"
    r"consolidated version",
    re.IGNORECASE,
)
_CITED_AS = re.compile(r"\bmay be cited as (?:the )?[‘'\"“]([^’'\"”]{3,80})[’'\"”]", re.IGNORECASE)
_ACRONYM_AFTER = r"\s*\((?:the )?[‘'\"“]?([A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9 ]{0,6})[’'\"”]?\)"


@dataclass(frozen=True)
class ActIdentity:
    """What an act says about itself. `number` ("2022/868") is the key that joins versions and
    language renditions of one act; `version` is empty for the act as published in the OJ."""

    designation: str  # "Regulation (EU) 2022/868" (or the document language's form)
    act_type: str  # "Regulation"
    number: str  # "2022/868"
    official_title: str  # the title line, in sentence case, without "(Text with EEA relevance)"
    short_title: str = ""  # "Data Governance Act": the name the act gives itself
    acronyms: tuple[str, ...] = ()  # acronyms the text defines for its short title
    consolidated: str = ""  # ISO date of a consolidated version ("2016-05-04"), else ""
    base_act: str = ""  # for a consolidated text: the designation of the act it consolidates
    names: tuple[str, ...] = field(default=())  # every name the act gives itself

    @property
    def version(self) -> str:
        return f"consolidated text of {human_date(self.consolidated)}" if self.consolidated else ""

    def edition(self) -> str:
        """Which text of the act this is, as the library shows it: "consolidated text of 4 May
        2016", or "as published in the OJ"."""
        return self.version or "as published in the OJ"

    def display_title(self) -> str:
        """'Data Governance Act — Regulation (EU) 2022/868', the form the bundled corpus uses;
        a consolidated text adds its date so two versions of one act are told apart."""
        name = self.short_title[:1].upper() + self.short_title[1:]
        if name and self.acronyms and self.acronyms[0] not in name:
            name = f"{name} ({self.acronyms[0]})"
        title = f"{name} — {self.designation}" if name else self.designation
        return f"{title} ({self.version})" if self.version else title

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ActIdentity:
        data = dict(data)
        for key in ("acronyms", "names"):
            data[key] = tuple(data.get(key) or ())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def strip_markers(text: str) -> str:
    """Text without EUR-Lex amendment markers (►B, ▼M2, ►C1 … ◄), spaces evened out."""
    if not any(ch in text for ch in "►▼◄"):
        return text
    return " ".join(_MARKER.sub(" ", text).split())


def identify(blocks: list[Block], file_title: str | None = None) -> ActIdentity | None:
    """The act a document holds, from its opening blocks; None when it opens with no act title.

    `file_title` is the loader's title (HTML `<title>`, PDF metadata): only its consolidated-text
    form is used, for the consolidation date when the text itself does not repeat it."""
    head = [b for b in blocks[:HEAD_BLOCKS] if b.text.strip()]
    for i, block in enumerate(head):
        text = strip_markers(block.text.strip())
        match = _designation_in(text)
        if match is None:
            continue
        text = _title_only(text[match.start() :])
        match = _DESIGNATION.match(text)
        parts = [text]
        # OJ layouts put the title on several lines: designation, date, subject, EEA note.
        for nxt in head[i + 1 : i + 4]:
            line = strip_markers(nxt.text.strip())
            if _EEA.fullmatch(line):
                break
            if _DATE_LINE.match(line) or (
                len(parts) > 1
                and _DATE_LINE.match(parts[1])
                and line[:1].islower()
                and len(parts) == 2
            ):
                parts.append(line)
            else:
                break
        title = " ".join(parts)
        if _DATED.search(title):  # an editor's heading "GDPR — Regulation (EU) 2016/679" is not it
            return _build(match, title, blocks, head, file_title)
    return None


_UPPER_TYPE = re.compile(r"\b(?:" + "|".join(t.upper() for t in _TYPES) + r")\b")
_AFTER_TITLE = re.compile(
    r"\s(?:THE EUROPEAN PARLIAMENT AND THE COUNCIL|THE COUNCIL OF THE EUROPEAN|"
    r"THE EUROPEAN COMMISSION|Having regard)"
)


def _designation_in(text: str) -> re.Match | None:
    """The act's designation at the start of a block, or after a page header printed into the
    same block ('3.6.2022 EN Official Journal of the European Union L 152/1 REGULATION (EU) …')."""
    starts = [0] + [m.start() for m in _UPPER_TYPE.finditer(text[:300])]
    for start in starts:
        match = _DESIGNATION.match(text, start)
        if match is not None:
            return match
    return None


def _title_only(text: str) -> str:
    """The title line without what a PDF block may run on into: the EEA note and the preamble."""
    eea = _EEA.search(text)
    if eea:
        return text[: eea.start()].strip()
    after = _AFTER_TITLE.search(text)
    return (text[: after.start()] if after else text)[:1000].strip()


def _build(
    match: re.Match, title_text: str, blocks: list[Block], head: list[Block], file_title: str | None
) -> ActIdentity:
    type_word = match.group(1)
    act_type = _TYPES.get(type_word.lower(), type_word.capitalize())
    number = match.group(3)
    designation = f"{act_type} ({match.group(2)}) {number}"
    official = _EEA.sub("", title_text).strip()
    official = _sentence_case(official)
    short = _short_title(official, number)
    body = " ".join(strip_markers(b.text) for b in blocks[:2000] if b.heading_level == 0)
    if not short:
        cited = _CITED_AS.search(body)
        short = cited.group(1).strip() if cited else ""
    acronyms: list[str] = []
    if short:
        for m in re.finditer(re.escape(short) + _ACRONYM_AFTER, body):
            if m.group(1) not in acronyms:
                acronyms.append(m.group(1))
    consolidated = _consolidation_date(head, file_title)
    names = tuple(n for n in (short, *acronyms) if n)
    return ActIdentity(
        designation=designation,
        act_type=act_type,
        number=number,
        official_title=official,
        short_title=short,
        acronyms=tuple(acronyms),
        consolidated=consolidated,
        base_act=designation if consolidated else "",
        names=names,
    )


def _sentence_case(title: str) -> str:
    """'REGULATION (EU) 2022/868 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL of …' →
    'Regulation (EU) 2022/868 of the European Parliament and of the Council of …'."""
    cut = re.search(r"\s(?:of|af|z dnia|vom|du|van|de|del)\s+\d", title)
    end = cut.start() if cut else len(title)
    head, rest = title[:end], title[end:]
    if head.upper() != head:
        return title
    small = {"of", "the", "and", "og", "i", "des", "du", "und", "et", "de", "la", "le"}
    words = []
    for k, word in enumerate(head.split(" ")):
        if re.fullmatch(r"\(\w+(?:,\s*\w+)?\)|[\d/]+|No", word) and k:
            words.append(word)
        elif k and word.lower() in small:
            words.append(word.lower())
        else:
            words.append("-".join(p.capitalize() for p in word.split("-")))
    return " ".join(words) + rest


def _short_title(official: str, number: str) -> str:
    """The name in the title's last brackets: '… amending Regulation (EU) 2018/1724 (Data
    Governance Act)'. Brackets holding an act reference or an abbreviation of a union are not."""
    found = re.search(r"\(([^()]{3,120})\)\s*$", official)
    if not found:
        return ""
    inner = found.group(1).strip()
    if re.search(r"\d{2,4}/\d", inner) or re.fullmatch(r"[A-Z]{2}(?:,\s*Euratom)?", inner):
        return ""
    if not re.search(r"[^\W\d_]{3,}", inner):
        return ""
    return inner


def _consolidation_date(head: list[Block], file_title: str | None) -> str:
    for block in head:
        m = _CONSOLIDATED_ID.search(block.text)
        if m:
            return f"{m.group(7)}-{m.group(6)}-{m.group(5)}"
    if file_title:
        m = _CONSOLIDATED_TITLE.search(file_title)
        if m:
            return f"{m.group(7)}-{m.group(6)}-{m.group(5)}"
    return ""
