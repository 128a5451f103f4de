"""HTML for the UI: answers with clickable `[n]` references, the sources panel, the library table.

Pure functions of the library's objects (no Gradio, no I/O), so they are unit-testable. Every piece
of text that comes from a document or the model is escaped here: the page never renders markup it
did not write itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from rag.assistant import Answer
from rag.citations import marker_numbers
from rag.store import DocumentRecord

MARKER = re.compile(r"\[(\d+(?:\s*[,;–-]\s*\d+)*)\]")
"""`[1]`, `[1, 3]`, `[2-4]`: the citation markers the assistant leaves in an answer."""

LANGUAGE_LABELS = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "da": "Dansk",
    "pl": "Polski",
    "nl": "Nederlands",
    "es": "Español",
    "it": "Italiano",
    "sv": "Svenska",
    "pt": "Português",
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def source_id(turn: int, n: int | str) -> str:
    """DOM id of a source card: unique across the answers of one conversation."""
    return f"src-{turn}-{n}"


def _ref_link(turn: int, n: int, label: str, title: str) -> str:
    return f'<a class="cite-ref" href="#{source_id(turn, n)}" title="{esc(title)}">{esc(label)}</a>'


def link_markers(text: str, turn: int, titles: dict[int, str]) -> str:
    """Escape `text` and turn its `[n]` markers into links to the source cards of answer `turn`."""
    out: list[str] = []
    pos = 0
    for match in MARKER.finditer(text):
        out.append(esc(text[pos : match.start()]))
        numbers = [n for n in marker_numbers(match.group(1)) if n in titles]
        if numbers:
            out.append(
                "".join(_ref_link(turn, n, f"[{n}]", f"Source {n}: {titles[n]}") for n in numbers)
            )
        else:
            out.append(esc(match.group(0)))
        pos = match.end()
    out.append(esc(text[pos:]))
    return "".join(out)


CURSOR = '<span class="cursor" aria-hidden="true">▍</span>'


def streaming_html(text: str) -> str:
    """The answer while the model is still writing (references become links once it is checked)."""
    return f'<div class="answer streaming">{esc(text)}{CURSOR}</div>'


def answer_html(answer: Answer, turn: int) -> str:
    """The final answer as shown in the chat: linked references, unsupported sentences marked."""
    if answer.abstained:
        reason = answer.abstain_explanation
        because = f" {esc(reason.capitalize())}." if reason else ""
        opening = (
            '<div class="answer abstained"><p><strong>No answer found in '
            f"the indexed documents.</strong>{because}</p>"
        )
        parts = [opening]
        if answer.passages:
            links = "".join(
                f"<li>{_ref_link(turn, f'p{i}', f'{h.doc_title} — {h.chunk.locator}', 'Open this passage')}</li>"
                for i, h in enumerate(answer.passages[:3], start=1)
            )
            parts.append(
                f'<p>Possibly related passages (not an answer):</p><ul class="related">{links}</ul>'
            )
        parts.append("</div>")
        return "".join(parts)
    titles = {c.n: f"{c.title} — {c.locator}" for c in answer.citations}
    sentences = answer.sentences or []
    if not sentences:
        body = link_markers(answer.text, turn, titles)
    else:
        pieces = []
        for sentence in sentences:
            linked = link_markers(sentence.text, turn, titles)
            if sentence.supported is False:
                pieces.append(
                    f'<span class="unsupported" title="Not supported by the cited passage">'
                    f'{linked} <span class="flag">⚠ not supported by its source</span></span>'
                )
            else:
                pieces.append(linked)
        body = " ".join(pieces)
    return f'<div class="answer answered">{body}</div>'


def highlight(text: str, quote: str) -> str:
    """Escape a passage and wrap the quoted span (a verbatim substring) in <mark>."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return esc(text)
    end = start + len(quote)
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _score(score: float) -> str:
    return f'<span class="score" title="Fused retrieval score (higher ranks first)">score {score:.4f}</span>'


def sources_group_html(answer: Answer, turn: int, question: str) -> str:
    """The source cards of one answer: cited passages, or for an abstention the related ones."""
    cards: list[str] = []
    if not answer.abstained:
        for c in answer.citations:
            cards.append(
                f'<article class="source" id="{source_id(turn, c.n)}" tabindex="-1">'
                f'<h3><span class="num">[{c.n}]</span> {esc(c.title)}</h3>'
                f'<p class="meta"><span class="locator">{esc(c.locator)}</span> · '
                f'<span class="doc">{esc(c.doc)}</span> · {_score(c.score)}</p>'
                f"<blockquote>{highlight(c.text, c.quote)}</blockquote></article>"
            )
        heading = f"{len(answer.citations)} cited source{'s' if len(answer.citations) != 1 else ''}"
    else:
        for i, h in enumerate(answer.passages[:3], start=1):
            cards.append(
                f'<article class="source related" id="{source_id(turn, f"p{i}")}" tabindex="-1">'
                f"<h3>{esc(h.doc_title)}</h3>"
                f'<p class="meta"><span class="locator">{esc(h.chunk.locator)}</span> · '
                f'<span class="doc">{esc(h.chunk.doc)}</span> · {_score(h.score)}</p>'
                f"<blockquote>{esc(h.chunk.text)}</blockquote></article>"
            )
        heading = (
            "no answer — possibly related passages" if cards else "no answer, no related passage"
        )
    if not cards:
        cards.append('<p class="empty">The answer cites no source.</p>')
    short = question if len(question) <= 90 else question[:87] + "…"
    return (
        f'<details class="turn" id="turn-{turn}">'
        f'<summary><span class="turn-n">Answer {turn}</span> · {esc(heading)}'
        f'<span class="turn-q">{esc(short)}</span></summary>{"".join(cards)}</details>'
    )


SOURCES_PLACEHOLDER = (
    '<div class="sources-empty"><p>The passages an answer cites appear here: the document, '
    "the article or recital, the passage with the quoted words highlighted, and its "
    'retrieval score. Click a reference such as <span class="cite-ref">[1]</span> in an '
    "answer to jump to its source.</p></div>"
)


def sources_panel_html(groups: Iterable[str]) -> str:
    """All answers' source groups, newest first (only the newest open)."""
    items = list(groups)
    if items:
        items[0] = items[0].replace('<details class="turn"', '<details class="turn" open', 1)
    return '<div class="sources">' + ("".join(items) if items else SOURCES_PLACEHOLDER) + "</div>"


def _act_cell(document: DocumentRecord) -> str:
    """The act a document holds, as read from its text: number and edition ("" if none found)."""
    act = document.act()
    return f"{esc(act.designation)}<br><small>{esc(act.edition())}</small>" if act else ""


def library_html(documents: Iterable[DocumentRecord]) -> str:
    docs = sorted(documents, key=lambda d: (d.title.lower(), d.id))
    if not docs:
        return '<p class="empty">The index holds no documents yet. Upload some below.</p>'
    rows = "".join(
        f"<tr><td>{esc(d.title)}</td><td>{_act_cell(d)}</td>"
        f"<td>{esc(LANGUAGE_LABELS.get(d.lang, d.lang))}</td>"
        f'<td class="num">{d.passages}</td><td>{esc(d.added_at.replace("T", " ").rstrip("Z"))}</td>'
        f'<td class="doc">{esc(d.id)}</td></tr>'
        for d in docs
    )
    total = sum(d.passages for d in docs)
    return (
        '<div class="library-wrap"><table class="library">'
        f"<caption>{len(docs)} document{'s' if len(docs) != 1 else ''}, {total} passages</caption>"
        '<thead><tr><th scope="col">Title</th><th scope="col">Act</th><th scope="col">Language</th>'
        '<th scope="col">Passages</th><th scope="col">Added (UTC)</th><th scope="col">File</th></tr>'
        f"</thead><tbody>{rows}</tbody></table></div>"
    )


def ingest_results_html(results: list[tuple[str, str, str]], summary: str = "") -> str:
    """Per-file outcome of an upload: (file name, status, detail)."""
    labels = {
        "added": "indexed",
        "changed": "re-indexed",
        "unchanged": "already indexed, unchanged",
        "skipped": "skipped",
        "rejected": "rejected",
        "removed": "removed",
        "error": "error",
    }
    items = "".join(
        f'<li class="result {esc(status)}"><span class="file">{esc(name)}</span> — '
        f"<strong>{esc(labels.get(status, status))}</strong>{': ' + esc(detail) if detail else ''}</li>"
        for name, status, detail in results
    )
    note = f'<p class="summary">{esc(summary)}</p>' if summary else ""
    return f'<div class="ingest-results" role="status"><ul>{items}</ul>{note}</div>'


def notice_html(message: str, kind: str = "info") -> str:
    return f'<div class="notice {esc(kind)}" role="status">{esc(message)}</div>'
