"""Helpers shared by the HTTP tests: a tiny real index, a scripted generator, a loopback server.

Kept in a module of its own (it holds no tests) so the contract, client, concurrency and fuzz
tests can build the same small setup without re-embedding a big corpus.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.config import load_settings
from rag.generator import GenerationParams
from rag.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "corpus" / "interoperable-europe-act-2024-903.md"
FAST_GENERATOR = "smollm2-135m"


def tiny_corpus(dest: Path) -> Path:
    """Articles 1–3 of the Interoperable Europe Act as one small Markdown file (a dozen passages)."""
    lines = SOURCE.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("### Article 1 "))
    end = next(i for i, line in enumerate(lines) if line.startswith("### Article 4 "))
    dest.mkdir(parents=True, exist_ok=True)
    text = (
        "# Interoperable Europe Act — Regulation (EU) 2024/903\n\n"
        + "\n".join(lines[start:end])
        + "\n"
    )
    (dest / "interoperable-europe-act.md").write_text(text, "utf-8")
    return dest


def tiny_runtime(base: Path, **overrides) -> Runtime:
    """A runtime over a freshly built tiny index in `base` (real embedder, fast generator)."""
    from rag.ingest import run_ingest

    corpus = tiny_corpus(base / "corpus")
    settings = load_settings(
        index_dir=base / "index",
        corpus_dir=corpus,
        generator=FAST_GENERATOR,
        threads=2,
        **overrides,
    )
    runtime = Runtime(settings)
    run_ingest(
        runtime.store,
        runtime.embedder,
        [corpus],
        max_bytes=10**8,
        full_rebuild=True,
        show_progress=False,
        say=lambda message: None,
    )
    return runtime


class ScriptedGenerator:
    """A stand-in for the model that writes a fixed reply piece by piece (contract tests only).

    `delay` slows each piece so tests can disconnect mid-stream; `closed` records that the consumer
    stopped the generation, which is what frees the model for the next request.
    """

    name = "scripted"
    loaded = True
    sha256 = "0" * 64

    def __init__(self, reply: str | None = None, delay: float = 0.0, clauses: int = 1) -> None:
        self.reply = reply
        self.clauses = clauses
        self.delay = delay
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.closed = threading.Event()
        self.calls = 0

    def load(self):
        return self

    def _reply_to(self, messages: list[dict]) -> str:
        """The fixed reply, or else the first `clauses` sentences of source [1], each cited as [1]
        (they verify)."""
        if self.reply is not None:
            return self.reply
        prompt = messages[-1]["content"]
        match = re.search(r"^\[1\] .*?\n<<<\n(.*?)\n>>>", prompt, flags=re.DOTALL | re.MULTILINE)
        if not match:  # not an answering prompt (e.g. rewriting a follow-up): echo the last line
            return prompt.strip().splitlines()[-1]
        # The first clauses that say something (a leading "1." paragraph number does not).
        pieces = re.split(r"(?<=[.;:])\s", " ".join(match.group(1).split()))
        saying = [p for p in pieces if sum(c.isalpha() for c in p) > 3] or pieces[:1]
        return " ".join(p.rstrip(".;:") + " [1]." for p in saying[: self.clauses])

    def stream_chat(self, messages: list[dict], params: GenerationParams) -> Iterator[str]:
        self.calls += 1
        reply = self._reply_to(messages)
        with self.lock:
            self.started.set()
            try:
                for word in reply.split(" "):
                    if self.delay:
                        time.sleep(self.delay)
                    yield word + " "
            finally:
                self.closed.set()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def describe(self) -> dict:
        return {"backend": "scripted", "model": self.name, "sha256": self.sha256}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields the base URL."""
    import httpx
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/health", timeout=2)
            break
        except httpx.TransportError as exc:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("test server did not start") from exc
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll until `predicate()` is true; a deadline, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
