"""Gradio Blocks chat over the library: streaming answers and the cited sources beside them.

The UI holds no logic of its own: it calls `Assistant.stream` and renders what comes back.
"""

from __future__ import annotations

import html

import gradio as gr

from rag.assistant import Answer, Assistant, Delta
from rag.runtime import Runtime

EXAMPLES = [
    "What is the maximum fine for prohibited AI practices under the AI Act?",
    "How quickly must a controller notify a personal data breach under the GDPR?",
    "From which date does the Data Act apply?",
]


def render_sources(answer: Answer) -> str:
    if answer.abstained:
        items = "".join(
            f"<li><b>{html.escape(h.doc_title)}</b> — {html.escape(h.chunk.locator)}</li>"
            for h in answer.passages[:3]
        )
        return f"<p><i>{html.escape(answer.text)}</i></p><p>Possibly related:</p><ul>{items}</ul>"
    parts = []
    for c in answer.citations:
        parts.append(
            f"<div class='source' id='source-{c.n}'><p><b>[{c.n}] {html.escape(c.title)}</b><br>"
            f"{html.escape(c.locator)} · <code>{html.escape(c.doc)}</code></p>"
            f"<blockquote>{html.escape(c.text)}</blockquote></div>"
        )
    return "".join(parts) or "<p>No sources cited.</p>"


def build_ui(runtime: Runtime) -> gr.Blocks:
    assistant = Assistant(runtime)

    def respond(message: str, history: list[dict]):
        message = (message or "").strip()
        if not message:
            yield history, "", gr.skip()
            return
        history = history + [{"role": "user", "content": message},
                             {"role": "assistant", "content": ""}]
        text = ""
        for event in assistant.stream(message):
            if isinstance(event, Delta):
                text += event.text
                history[-1]["content"] = text
                yield history, "", gr.skip()
            else:
                history[-1]["content"] = event.text
                yield history, "", render_sources(event)

    with gr.Blocks(title="sovrag — EU legislation assistant", analytics_enabled=False) as demo:
        gr.Markdown("## sovrag — cited answers from EU digital legislation, computed on this machine")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=480)
                box = gr.Textbox(label="Your question", placeholder="Ask about the AI Act, GDPR, DSA…")
                send = gr.Button("Ask", variant="primary")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                sources = gr.HTML("<p>Sources of the answer appear here.</p>", label="Sources")
        send.click(respond, [box, chat], [chat, box, sources])
        box.submit(respond, [box, chat], [chat, box, sources])
    return demo
