"""The web UI: rendering and upload helpers (fast), and a real Chromium against `sovrag serve`.

Browser tests drive Debian's /usr/bin/chromium through Playwright (never a downloaded browser).
Locally they are skipped when Chromium or Playwright is missing; with `CI` set they must run.

What the fast model does (investigated before writing the assertions): SmolLM2-135M copies
passages verbatim but never writes `[n]` markers, so verification withdraws its drafts and the UI
shows an abstention with the possibly related passages. The cited-answer path is therefore driven
by a scripted OpenAI-compatible generator (the product's `openai` backend) that cites the passage
holding the answer, plus one deliberately unsupported sentence; retrieval, verification and the
rendering are the real ones. A second test runs the real fast model end to end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from conftest import CORPUS, FAST_GENERATOR, ROOT
from processes import stop

from rag import library
from rag.abstention import AbstainReason
from rag.assistant import Answer, Citation
from rag.chunking import Chunk
from rag.citations import AnswerSentence
from rag.retrieval import Hit
from ui.app import example_questions
from ui.render import answer_html, highlight, link_markers, sources_group_html, sources_panel_html

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FINAL = "#sovrag-status [data-state=answered], #sovrag-status [data-state=abstained], #sovrag-status .notice"
BREACH_QUESTION = "How quickly must a controller notify a personal data breach under the GDPR?"


# --------------------------------------------------------------------------- rendering (fast)


def _chunk(locator: str, text: str, doc: str = "gdpr.md") -> Chunk:
    return Chunk(id=f"{doc}#{locator}", doc=doc, locator=locator, heading="", context="", text=text)


def _answer(**fields) -> Answer:
    base = {"question": "q", "text": "", "abstained": False}
    base.update(fields)
    return Answer(**base)


def test_markers_become_links_and_text_is_escaped():
    html = link_markers(
        "Fines <b>up to</b> 4 % [1]. Also [2, 9].", turn=3, titles={1: "GDPR — Art 83", 2: "x"}
    )
    assert "&lt;b&gt;up to&lt;/b&gt;" in html and "<b>" not in html
    assert 'href="#src-3-1"' in html and 'href="#src-3-2"' in html
    assert "src-3-9" not in html  # a number with no citation is not linked


def test_unsupported_sentence_is_marked_and_quote_highlighted():
    passage = "the controller shall without undue delay and not later than 72 hours notify"
    answer = _answer(
        text="Within 72 hours [1]. Fee of EUR 5 [1].",
        citations=[
            Citation(
                1,
                "gdpr.md",
                "GDPR",
                "Article 33(1)",
                passage,
                "c1",
                0.5,
                quote="not later than 72 hours",
            )
        ],
        sentences=[
            AnswerSentence("Within 72 hours [1].", [1], True),
            AnswerSentence("Fee of EUR 5 [1].", [1], False),
        ],
    )
    html = answer_html(answer, turn=1)
    assert html.count('class="cite-ref"') == 2
    assert (
        html.count('class="unsupported"') == 1
        and "Fee of EUR 5" in html.split('class="unsupported"')[1]
    )
    panel = sources_panel_html([sources_group_html(answer, 1, "q")])
    assert 'id="src-1-1"' in panel and "<mark>not later than 72 hours</mark>" in panel
    assert (
        "Article 33(1)" in panel
        and "score 0.5000" in panel
        and '<details class="turn" open' in panel
    )
    assert highlight("a <b> c", "missing") == "a &lt;b&gt; c"


def test_abstention_lists_related_passages_that_link_to_their_cards():
    hit = Hit(chunk=_chunk("Article 34(1)", "communicate the breach"), score=0.2, doc_title="GDPR")
    answer = _answer(
        text="The indexed documents do not answer this.",
        abstained=True,
        passages=[hit],
        abstain=AbstainReason.MODEL_DECLINED,
    )
    html = answer_html(answer, turn=2)
    assert "No answer found" in html and 'href="#src-2-p1"' in html and "Article 34(1)" in html
    assert "The retrieved passages do not contain the answer." in html
    assert 'id="src-2-p1"' in sources_group_html(answer, 2, "q")


def test_upload_names_cannot_escape_the_upload_folder():
    assert library.safe_name("../../etc/passwd.md") == "passwd.md"
    assert library.safe_name("C:\\Users\\x\\Bericht über KI.docx") == "Bericht über KI.docx"
    assert library.safe_name("report.md.") == "report.md"
    for bad in ["", "..", "/", "a/..", "SOURCES.md", ".hidden.md"]:  # never a hidden file
        with pytest.raises(ValueError):
            library.safe_name(bad)


def test_examples_follow_the_indexed_acts():
    from rag.store import DocumentRecord

    gdpr = DocumentRecord(
        "gdpr-2016-679.md", "GDPR — Regulation (EU) 2016/679", "en", "", 9, "", ""
    )
    assert example_questions({"g": gdpr}) == [BREACH_QUESTION]
    other = DocumentRecord("notes.md", "House rules", "en", "", 2, "", "")
    assert example_questions({"n": other}) == ["What does House rules regulate?"]


# --------------------------------------------------------------------------- browser


def _require_browser():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests but {' and '.join(missing)} is missing")
        pytest.skip(f"{' and '.join(missing)} not installed (set CI=1 to make this a failure)")


def _excerpt(src: str, first: str, upto: str) -> str:
    """The title line and the units from heading `first` up to heading `upto` of a corpus file."""
    lines = (CORPUS / src).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and first in line)
    end = next(
        i for i, line in enumerate(lines) if i > start and line.startswith("#") and upto in line
    )
    return lines[0] + "\n\n" + "\n".join(lines[start:end]) + "\n"


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory):
    """GDPR Articles 33-34 only (9 passages): small to embed, and it answers the breach question."""
    from rag.config import load_settings
    from rag.ingest import run_ingest
    from rag.runtime import Runtime

    base = tmp_path_factory.mktemp("ui")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / "gdpr-2016-679.md").write_text(
        _excerpt("gdpr-2016-679.md", "Article 33 —", "Section 3 —"), encoding="utf-8"
    )
    runtime = Runtime(load_settings(index_dir=base / "index", corpus_dir=corpus, threads=2))
    run_ingest(
        runtime.store,
        runtime.embedder,
        [corpus],
        max_bytes=10**8,
        full_rebuild=True,
        show_progress=False,
    )
    return base


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serve(base: Path, extra_env: dict[str, str], args: list[str]):
    """`sovrag serve` on loopback with its own copy of the tiny index; yields its origin."""
    index = base / f"index-{len(list(base.glob('index-*')))}"
    shutil.copytree(base / "index", index)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVRAG_")}
    env.update(SOVRAG_CONFIG=str(base / "none.toml"), SOVRAG_THREADS="2", **extra_env)
    log = open(base / f"serve-{port}.log", "w+")  # noqa: SIM115 (outlives this frame)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--index",
            str(index),
            "--corpus",
            str(base / "corpus"),
            *args,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=base,
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"sovrag serve exited early:\n{log.read()}")
            try:
                with urlopen(origin + "/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("sovrag serve did not come up within 180 s")
                time.sleep(0.5)
        yield origin
    finally:
        stop(proc)
        log.close()


class _ScriptedLLM(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible server that answers from the prompt's numbered sources."""

    requests: ClassVar[list[dict]] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def _json(self, data: dict) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._json({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = "\n".join(m["content"] for m in body["messages"])
        type(self).requests.append(body)
        delay = 0.05
        if "Follow-up question:" in prompt:
            reply = "What must a processor do after becoming aware of a personal data breach under the GDPR?"
        elif "keep talking" in prompt.lower():
            reply, delay = "Counting slowly: " + " ".join(str(i) for i in range(200)), 0.3
        else:
            sources = dict(
                re.findall(r"^\[(\d+)\] [^\n]*\n<<<\n(.*?)\n>>>", prompt, re.DOTALL | re.MULTILINE)
            )
            key = (
                "72 hours"
                if "processor" not in prompt.split("Question:")[-1]
                else "processor shall notify"
            )
            n = next((k for k, text in sources.items() if key in text), "1")
            if key == "72 hours":
                reply = (
                    f"The controller shall notify the personal data breach not later than 72 hours "
                    f"after having become aware of it [{n}]. A fee of EUR 5 000 is due for every "
                    f"notification [{n}]."
                )
            else:
                reply = (
                    f"The processor shall notify the controller without undue delay after becoming "
                    f"aware of a personal data breach [{n}]."
                )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for word in re.findall(r"\S+\s*", reply):
                chunk = {
                    "object": "chat.completion.chunk",
                    "model": "scripted",
                    "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(delay)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextlib.contextmanager
def _scripted_llm():
    _ScriptedLLM.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _browser(origin: str, log_name: str):
    """A fresh headless Chromium page that records every request and websocket it opens."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    seen: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="sovrag-chromium-"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        context.on("request", lambda request: seen.append(f"{request.method} {request.url}"))
        page = context.new_page()
        page.on("websocket", lambda ws: seen.append(f"WS {ws.url}"))
        page.set_default_timeout(60_000)
        try:
            yield page, seen
        finally:
            (ARTIFACTS / log_name).write_text("\n".join(seen) + "\n", encoding="utf-8")
            context.close()
    foreign = [line for line in seen if not _same_origin(line.split(" ", 1)[1], origin)]
    print(
        f"\n{len(seen)} requests recorded in {ARTIFACTS / log_name}; other origins: {len(foreign)}"
    )
    assert seen, "no request was recorded"
    assert not foreign, f"the page contacted other hosts: {foreign[:10]}"


def _same_origin(url: str, origin: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    parts, own = urlsplit(url), urlsplit(origin)
    return parts.hostname == own.hostname and parts.port == own.port


def _shot(page, name: str) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path


def _ask(page, question: str, turn: int, timeout_ms: int) -> str:
    """Type a question, press Enter, wait for the checked answer of `turn`; returns the final state."""
    page.fill("#sovrag-question textarea", question)
    page.press("#sovrag-question textarea", "Enter")
    page.wait_for_selector(f"#sovrag-sources #turn-{turn}", timeout=timeout_ms)
    page.wait_for_selector(FINAL, timeout=timeout_ms)
    return page.get_attribute("#sovrag-status [data-state]", "data-state") or "error"


def _open_reference(page, link, card_id: str) -> None:
    """Click a reference and check that its source card is highlighted and scrolled into view."""
    link.click()
    card = page.locator(f"#{card_id}")
    page.wait_for_function(
        "id => { const el = document.getElementById(id); if (!el) return false;"
        " const r = el.getBoundingClientRect();"
        " return el.classList.contains('flash') && r.bottom > 0 && r.top < window.innerHeight; }",
        arg=card_id,
        timeout=10_000,
    )
    assert card.locator("blockquote").inner_text().strip()


@pytest.mark.browser
@pytest.mark.slow
def test_browser_cited_answer_sources_library_and_same_origin(tiny_index, tmp_path):
    _require_browser()
    with (
        _scripted_llm() as llm_url,
        _serve(
            tiny_index,
            {
                "SOVRAG_GENERATOR_BACKEND": "openai",
                "SOVRAG_GENERATOR_BASE_URL": llm_url,
                "SOVRAG_GENERATOR": "scripted",
            },
            [],
        ) as origin,
        _browser(origin, "ui-requests-cited.txt") as (page, _),
    ):
        started = time.monotonic()
        page.goto(origin + "/")
        example = page.get_by_text(BREACH_QUESTION).first
        example.wait_for(timeout=60_000)
        assert page.get_by_role("heading", name=re.compile("answered with sources")).is_visible()
        print(f"first paint with examples after {time.monotonic() - started:.1f} s")
        _shot(page, "ui-desktop-first-load.png")

        # An example question: streamed, then the checked answer with linked references.
        page.evaluate("""() => { window.__states = [];
            new MutationObserver(() => { const s = document.querySelector('#sovrag-status [data-state]');
              if (s) window.__states.push(s.dataset.state); })
            .observe(document.body, {subtree: true, childList: true, attributes: true}); }""")
        example.click()
        page.wait_for_selector(FINAL, timeout=120_000)
        assert page.get_attribute("#sovrag-status [data-state]", "data-state") == "answered"
        assert "writing" in page.evaluate("window.__states"), "the answer was not streamed"
        answer = page.locator("#sovrag-chat .answer.answered").last
        refs = answer.locator("a.cite-ref")
        assert refs.count() >= 1, answer.inner_html()
        assert "72 hours" in answer.inner_text()
        assert answer.locator(".unsupported").count() == 1  # the invented fee is flagged
        card_id = refs.first.get_attribute("href")[1:]
        _open_reference(page, refs.first, card_id)
        card = page.locator(f"#{card_id}")
        assert "72 hours" in card.locator("mark").inner_text()
        assert re.search(r"Article 33\(1\)", card.locator(".locator").inner_text())
        assert re.search(r"score \d\.\d{4}", card.inner_text())
        _shot(page, "ui-desktop-chat.png")

        # A follow-up goes to the model together with the conversation.
        state = _ask(page, "And what must the processor do?", turn=2, timeout_ms=120_000)
        assert state == "answered"
        rewrites = [
            r
            for r in _ScriptedLLM.requests
            if "Follow-up question:" in r["messages"][-1]["content"]
        ]
        assert rewrites and BREACH_QUESTION in rewrites[-1]["messages"][-1]["content"]
        assert (
            "processor shall notify the controller"
            in page.locator("#sovrag-chat .answer").last.inner_text()
        )

        _shot(page, "ui-desktop-follow-up.png")

        # Stop ends a long answer (the scripted model talks slowly) and frees the Ask button.
        page.click("#sovrag-new")
        page.wait_for_function("() => !document.querySelector('#sovrag-sources details')")
        page.fill(
            "#sovrag-question textarea",
            "Under the GDPR, how fast must a breach be notified? Keep talking.",
        )
        page.click("#sovrag-ask")
        page.wait_for_selector("#sovrag-status [data-state=writing]", timeout=60_000)
        page.click("#sovrag-stop")
        page.wait_for_selector("#sovrag-status [data-state=stopped]", timeout=20_000)
        page.wait_for_function(
            "() => !document.querySelector('#sovrag-ask').disabled", timeout=20_000
        )
        last = page.locator("#sovrag-chat .message").last.inner_text()
        assert "Counting" in last and "Stopped" in last and "199" not in last

        # The library: documents listed; an upload is indexed and listed.
        page.get_by_role("tab", name="Documents").click()
        table = page.locator("#sovrag-library table")
        table.wait_for()
        assert "General Data Protection Regulation" in table.inner_text()
        upload = tmp_path / "house-rules.md"
        upload.write_text(
            "# Office House Rules\n\n## Article 1 — Quiet hours\n\n1. Meeting rooms are "
            "silent after 18:00 on working days.\n",
            encoding="utf-8",
        )
        page.set_input_files("#sovrag-upload input[type=file]", str(upload))
        page.wait_for_selector("#sovrag-upload-result li.added", timeout=120_000)
        assert "house-rules.md" in page.locator("#sovrag-upload-result").inner_text()
        page.wait_for_function(
            "() => document.querySelector('#sovrag-library').innerText.includes('Office House Rules')",
            timeout=30_000,
        )
        _shot(page, "ui-desktop-library.png")

        # Phone width: the same page stacks into one column.
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("tab", name="Ask").click()
        page.locator("#sovrag-chat").scroll_into_view_if_needed()
        _shot(page, "ui-narrow-chat.png")
        page.locator("#sovrag-sources").scroll_into_view_if_needed()
        _shot(page, "ui-narrow-sources.png")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the page scrolls sideways at phone width ({width}px)"


@pytest.mark.browser
@pytest.mark.slow
def test_browser_real_fast_model_answer_or_abstention_opens_sources(tiny_index):
    """The real SmolLM2 end to end. It abstains on this index (it never cites); either way the
    page must end in a checked state and the passages it shows must open."""
    _require_browser()
    with (
        _serve(tiny_index, {"SOVRAG_MAX_TOKENS": "48"}, ["--generator", FAST_GENERATOR]) as origin,
        _browser(origin, "ui-requests-fast-model.txt") as (page, _),
    ):
        page.goto(origin + "/")
        page.wait_for_selector("#sovrag-question textarea")
        state = _ask(page, BREACH_QUESTION, turn=1, timeout_ms=600_000)
        answer = page.locator("#sovrag-chat .answer").last
        links = answer.locator("a.cite-ref")
        if state == "answered":
            assert links.count() >= 1, "an answer was shown without any reference"
        else:
            assert state == "abstained", page.inner_text("#sovrag-status")
            assert "No answer found" in answer.inner_text()
            assert links.count() >= 1, "an abstention must list the possibly related passages"
            assert "Article 33" in answer.inner_text() or "Article 34" in answer.inner_text()
        _open_reference(page, links.first, links.first.get_attribute("href")[1:])
        _shot(page, "ui-desktop-fast-model.png")
