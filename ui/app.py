"""The Gradio Blocks app: chat with cited, checked answers and the sources beside them; the library.

The UI calls the library directly (`Assistant`, the document library `rag.library`, the
index's document list) and only renders what comes back. It is mounted on the API's FastAPI app by
`rag.server.build_app`; everything it needs on the page (style, script, fonts) is served by that
same server, so the page loads nothing from any other host.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import gradio as gr

from rag.assistant import Answer, Assistant, Delta
from rag.config import TOP_K_MAX, TOP_K_MIN
from rag.documents import supported_suffixes
from rag.errors import SovragError
from rag.library import FileResult
from rag.retrieval import SearchFilters
from rag.runtime import Runtime
from rag.store import DocumentRecord

from .assets import CSS, JS
from .render import (
    CURSOR,
    LANGUAGE_LABELS,
    answer_html,
    esc,
    ingest_results_html,
    library_html,
    notice_html,
    sources_group_html,
    sources_panel_html,
    streaming_html,
)

TITLE = "sovrag — EU legislation assistant"

EXAMPLE_QUESTIONS = [
    ("2024/1689", "What is the maximum fine for prohibited AI practices under the AI Act?"),
    ("2016/679", "How quickly must a controller notify a personal data breach under the GDPR?"),
    ("2023/2854", "From which date does the Data Act apply?"),
    ("2022/2065", "What must very large online platforms do about systemic risks under the DSA?"),
    ("2022/2555", "How quickly must an essential entity report a significant incident under NIS2?"),
    (
        "2024/2847",
        "How long must manufacturers handle vulnerabilities under the Cyber Resilience Act?",
    ),
    ("2022/1925", "Which obligations does the Digital Markets Act place on gatekeepers?"),
]
"""Example questions, each shown only when the index holds the act it is about (matched on its number)."""

WRITING = (
    '<span data-state="writing">Writing the answer… (references are checked when it is '
    "complete)</span>"
)

STREAM_INTERVAL = 0.1
"""Seconds between screen updates while the model writes (fewer, larger updates over the wire)."""


def example_questions(documents: dict[str, DocumentRecord], limit: int = 4) -> list[str]:
    haystack = " ".join(f"{d.id} {d.title}" for d in documents.values()).replace("-", "/")
    picked = [q for number, q in EXAMPLE_QUESTIONS if number in haystack][:limit]
    if not picked:
        picked = [f"What does {d.title} regulate?" for d in list(documents.values())[:3]]
    return picked


def _documents(runtime: Runtime) -> dict[str, DocumentRecord]:
    try:
        return runtime.generation().documents()
    except SovragError:
        return {}


def _result_rows(runtime: Runtime, results: list[FileResult]) -> list[tuple[str, str, str]]:
    """(file name, status, detail) per upload; an indexed file's detail is its passage count."""
    documents = _documents(runtime)
    rows = []
    for result in results:
        name = result.doc or Path(result.filename.replace("\\", "/")).name or result.filename
        detail = result.reason or ""
        if result.status in ("added", "changed"):
            count = documents[result.doc].passages if result.doc in documents else 0
            detail = f"{count} passage{'s' if count != 1 else ''}"
        rows.append((name, result.status, detail))
    return rows


def _skips(n: int) -> tuple:
    """Leave n outputs of a Gradio event unchanged."""
    return tuple(gr.skip() for _ in range(n))


def _doc_choices(documents: dict[str, DocumentRecord]) -> list[tuple[str, str]]:
    docs = sorted(documents.values(), key=lambda d: (d.title.lower(), d.id))
    return [(f"{d.title} ({d.lang}) — {d.id}", d.id) for d in docs]


def build_ui(runtime: Runtime) -> gr.Blocks:
    assistant = Assistant(runtime)
    settings = runtime.settings
    suffixes = supported_suffixes()

    def ask_stream(question: str, conversation: list[dict], k: int, docs: list[str], lang: str):
        """The library's event stream for one question, with the conversation and settings applied."""
        filters = SearchFilters(docs=list(docs)) if docs else None
        kwargs = {"answer_lang": lang} if lang and lang != "auto" else {}
        return assistant.stream(
            question, conversation or None, int(k) if k else None, filters, **kwargs
        )

    def respond(message, chat, conversation, groups, k, docs, lang):
        """Generator behind Ask/Enter/examples: streams the answer, then renders the checked one."""
        message = (message or "").strip()
        if not message:
            gr.Info("Type a question first.")
            yield _skips(8)
            return
        turn = len(groups) + 1
        chat = list(chat or []) + [
            {"role": "user", "content": esc(message)},
            {"role": "assistant", "content": streaming_html("")},
        ]
        running = (gr.Button(interactive=False), gr.Button(interactive=True))
        idle = (gr.Button(interactive=True), gr.Button(interactive=False))
        status = '<span data-state="waiting">Waiting for the model…</span>'
        yield chat, "", status, gr.skip(), gr.skip(), gr.skip(), *running
        try:
            ticket = runtime.admission.admit()
        except SovragError as exc:
            chat[-1]["content"] = notice_html(str(exc), "error")
            yield chat, message, notice_html(str(exc), "error"), *_skips(3), *idle
            return
        events = None
        try:
            runtime.admission.wait_turn(ticket)
            status = '<span data-state="searching">Searching the documents…</span>'
            yield chat, gr.skip(), status, gr.skip(), gr.skip(), gr.skip(), *running
            events = ask_stream(message, conversation, k, docs, lang)
            text, shown_at, final = "", 0.0, None
            for event in events:
                if isinstance(event, Delta):
                    text += event.text
                    now = time.monotonic()
                    if now - shown_at >= STREAM_INTERVAL:
                        shown_at = now
                        chat[-1]["content"] = streaming_html(text)
                        yield chat, gr.skip(), WRITING, gr.skip(), gr.skip(), gr.skip(), *running
                elif isinstance(event, Answer):
                    final = event
            if final is None:
                raise SovragError("The assistant returned no answer.")
        except SovragError as exc:
            chat[-1]["content"] = notice_html(str(exc), "error")
            yield chat, gr.skip(), notice_html(str(exc), "error"), *_skips(3), *idle
            return
        finally:
            if events is not None:
                events.close()
            runtime.admission.release(ticket)
        chat[-1]["content"] = answer_html(final, turn)
        conversation = list(conversation or []) + [
            {"role": "user", "content": message},
            {"role": "assistant", "content": final.text},
        ]
        groups = [sources_group_html(final, turn, message)] + list(groups)
        panel = sources_panel_html(groups)
        yield chat, gr.skip(), _final_status(final), panel, conversation, groups, *idle

    def on_stop(chat):
        chat = list(chat or [])
        last = _message_text(chat[-1].get("content")) if chat else ""
        if chat and chat[-1].get("role") == "assistant" and 'class="answer streaming"' in last:
            chat[-1] = {
                "role": "assistant",
                "content": last.replace(CURSOR, "")
                + '<p class="stopped"><em>Stopped before the answer was checked; '
                "this text is not an answer.</em></p>",
            }
        return (
            chat,
            '<span data-state="stopped">Stopped.</span>',
            gr.Button(interactive=True),
            gr.Button(interactive=False),
        )

    def new_conversation():
        return [], [], [], sources_panel_html([]), '<span data-state="idle"></span>', ""

    def use_example(evt: gr.SelectData):
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    # ---- the library

    def library_outputs(note: str | None = None):
        documents = _documents(runtime)
        choices = _doc_choices(documents)
        return (
            library_html(documents.values()),
            gr.Dropdown(choices=choices, value=None),
            gr.Dropdown(choices=choices),
            gr.Chatbot(examples=[{"text": q} for q in example_questions(documents)]),
        )

    def on_upload(files, progress=gr.Progress()):  # noqa: B008 (Gradio's idiom)
        if not files:
            return gr.skip(), *library_outputs(), None
        paths = [Path(f) for f in (files if isinstance(files, list) else [files])]
        progress(0.0, desc="Reading the files")
        try:
            with ExitStack() as stack:
                uploads = [(p.name, stack.enter_context(open(p, "rb"))) for p in paths]
                results, report = runtime.library.add(
                    uploads,
                    progress=lambda stage, fraction: progress(fraction, desc=stage.capitalize()),
                )
        except (SovragError, OSError) as exc:
            return notice_html(str(exc), "error"), *library_outputs(), None
        summary = report.summary() if report else "No file was accepted."
        rows = _result_rows(runtime, results)
        return ingest_results_html(rows, summary), *library_outputs(), None

    def on_remove(doc_id):
        if not doc_id:
            return notice_html(
                "Nothing removed (choose a document, then confirm).", "info"
            ), *library_outputs()
        try:
            report = runtime.library.remove([doc_id])
        except SovragError as exc:
            return notice_html(str(exc), "error"), *library_outputs()
        return ingest_results_html([(doc_id, "removed", "")], report.summary()), *library_outputs()

    def on_rebuild(confirmed, progress=gr.Progress()):  # noqa: B008 (Gradio's idiom)
        if not confirmed:
            return notice_html("Nothing rebuilt.", "info"), *library_outputs()
        progress(0.0, desc="Starting")
        try:
            report = runtime.library.rebuild(
                progress=lambda stage, fraction: progress(fraction, desc=stage.capitalize()),
            )
        except SovragError as exc:
            return notice_html(str(exc), "error"), *library_outputs()
        skipped = "".join(f"; skipped {doc}: {why}" for doc, why in report.skipped)
        return notice_html(
            f"Index rebuilt: {report.summary()}{skipped}", "info"
        ), *library_outputs()

    documents = _documents(runtime)
    choices = _doc_choices(documents)
    languages = [("Same as the question", "auto")] + [
        (label, code) for code, label in LANGUAGE_LABELS.items()
    ]
    private = {"api_visibility": "private"}

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(f"<style>{CSS}</style>", elem_id="sovrag-style", padding=False)
        gr.HTML(
            "<header class='sovrag-header'><h1>sovrag — EU legislation, answered with sources</h1>"
            "<p>Answers come only from the documents in this index and are computed on this "
            "machine. Every claim cites the article or recital it rests on; open a reference "
            "to read the passage.</p></header>",
            padding=False,
        )
        conversation = gr.State([])
        groups = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    chat = gr.Chatbot(
                        label="Conversation",
                        elem_id="sovrag-chat",
                        height=380,
                        placeholder="Ask a question about the indexed legislation, or pick an example.",
                        examples=[{"text": q} for q in example_questions(documents)],
                        feedback_options=None,
                        buttons=["copy"],
                        group_consecutive_messages=False,
                    )
                    status = gr.HTML(
                        '<span data-state="idle"></span>', elem_id="sovrag-status", padding=False
                    )
                    box = gr.Textbox(
                        label="Your question",
                        elem_id="sovrag-question",
                        max_lines=6,
                        placeholder="e.g. Which AI practices are prohibited? "
                        "(Enter to ask, Shift+Enter for a new line)",
                    )
                    with gr.Row():
                        ask_btn = gr.Button(
                            "Ask", variant="primary", elem_id="sovrag-ask", min_width=80
                        )
                        stop_btn = gr.Button(
                            "Stop",
                            variant="stop",
                            interactive=False,
                            elem_id="sovrag-stop",
                            min_width=80,
                        )
                        new_btn = gr.Button("New chat", elem_id="sovrag-new", min_width=80)
                    with gr.Accordion("Settings for this conversation", open=False):
                        k = gr.Slider(
                            TOP_K_MIN,
                            TOP_K_MAX,
                            value=settings.top_k,
                            step=1,
                            label="Passages given to the model",
                            info="More passages: more context, slower answers.",
                        )
                        doc_filter = gr.Dropdown(
                            choices=choices,
                            multiselect=True,
                            value=[],
                            label="Search only these documents",
                            info="Empty: all documents.",
                            elem_id="sovrag-filter",
                        )
                        lang = gr.Dropdown(
                            languages, value="auto", label="Answer language", elem_id="sovrag-lang"
                        )
                with gr.Column(scale=2, min_width=300):
                    gr.HTML(
                        "<h2 class='sources-title' style='font-size:1.1rem;margin:0'>Sources</h2>",
                        padding=False,
                    )
                    sources = gr.HTML(
                        sources_panel_html([]), elem_id="sovrag-sources", padding=False
                    )
            with gr.Tab("Documents", id="documents"):
                library_table = gr.HTML(
                    library_html(documents.values()), elem_id="sovrag-library", padding=False
                )
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=300):
                        upload = gr.File(
                            label="Add documents: PDF, HTML, DOCX, Markdown or plain text "
                            "(indexed as soon as they are uploaded)",
                            file_count="multiple",
                            file_types=suffixes,
                            elem_id="sovrag-upload",
                        )
                        upload_result = gr.HTML(elem_id="sovrag-upload-result", padding=False)
                    with gr.Column(min_width=300):
                        remove_choice = gr.Dropdown(
                            choices=choices,
                            value=None,
                            label="Document to remove",
                            elem_id="sovrag-remove-choice",
                        )
                        remove_btn = gr.Button(
                            "Remove document", variant="stop", elem_id="sovrag-remove"
                        )
                        rebuild_btn = gr.Button("Rebuild the index", elem_id="sovrag-rebuild")
                        gr.HTML(
                            "<p style='font-size:.9em;margin:0'>Rebuilding re-reads the corpus folder and "
                            "all uploads and embeds every passage again (minutes for the full corpus). "
                            "Answers keep using the current index until the new one is complete.</p>",
                            padding=False,
                        )
                        index_result = gr.HTML(elem_id="sovrag-index-result", padding=False)
                        confirmed = gr.Checkbox(False, visible=False)

        answer_inputs = [box, chat, conversation, groups, k, doc_filter, lang]
        answer_outputs = [chat, box, status, sources, conversation, groups, ask_btn, stop_btn]
        answering = dict(
            concurrency_id="answer", concurrency_limit=2, show_progress="hidden", **private
        )
        submitted = box.submit(respond, answer_inputs, answer_outputs, **answering)
        clicked = ask_btn.click(respond, answer_inputs, answer_outputs, **answering)
        picked = chat.example_select(use_example, None, box, queue=False, **private).then(
            respond, answer_inputs, answer_outputs, **answering
        )
        stop_btn.click(
            on_stop,
            [chat],
            [chat, status, ask_btn, stop_btn],
            cancels=[submitted, clicked, picked],
            queue=False,
            **private,
        )
        new_btn.click(
            new_conversation,
            None,
            [chat, conversation, groups, sources, status, box],
            cancels=[submitted, clicked, picked],
            queue=False,
            **private,
        ).then(
            lambda: (gr.Button(interactive=True), gr.Button(interactive=False)),
            None,
            [ask_btn, stop_btn],
            queue=False,
            **private,
        )

        library_targets = [library_table, remove_choice, doc_filter, chat]
        writing = dict(concurrency_id="index-write", concurrency_limit=1, **private)
        upload.upload(
            on_upload,
            [upload],
            [upload_result, *library_targets, upload],
            show_progress_on=[upload_result],
            **writing,
        )
        remove_btn.click(
            on_remove,
            [remove_choice],
            [index_result, *library_targets],
            js="(doc) => (doc && confirm('Remove ' + doc + ' from the index?')) ? doc : null",
            **writing,
        )
        rebuild_btn.click(
            on_rebuild,
            [confirmed],
            [index_result, *library_targets],
            js="() => confirm('Rebuild the whole index now? This re-embeds every passage.')",
            show_progress_on=[index_result],
            **writing,
        )
        demo.load(
            lambda: library_outputs(),
            None,
            library_targets,
            queue=False,
            show_progress="hidden",
            **private,
        )
        demo.load(None, None, None, js=JS)
    return demo


def _message_text(content) -> str:
    """The text of a chat message as the Chatbot hands it back (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, list):
        return "".join(_message_text(part) for part in content)
    return ""


def _final_status(answer: Answer) -> str:
    if answer.abstained:
        return (
            '<span data-state="abstained">No answer: the indexed documents do not support one. '
            "Possibly related passages are listed in the sources panel.</span>"
        )
    unsupported = sum(1 for s in answer.sentences if s.supported is False)
    cited = len(answer.citations)
    note = f"{cited} source{'s' if cited != 1 else ''} cited"
    if unsupported:
        note += f"; {unsupported} sentence{'s' if unsupported != 1 else ''} not supported by its source (marked ⚠)"
    ident = f" · answer id {esc(answer.id)}" if answer.id else ""
    return f'<span data-state="answered">Answer checked: {note}{ident}.</span>'
