"""Load on loopback: a served `sovrag serve` process under concurrent search and chat traffic.

Every request must get a 2xx, or a 503 with Retry-After when the model's queue is full; nothing
else (no 5xx, no broken stream), /health answers throughout, and memory stays bounded (peak RSS
reported). CI runs a reduced mix; `bench/load_test.py` runs the full size with the same code.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_api_fixtures import free_port, tiny_corpus

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CI_REQUESTS = 32
CONCURRENCY = 16
RSS_LIMIT_MB = 3000
"""Embedder + fast generator + Gradio take ~1 GB; far beyond this means memory is not bounded."""
QUESTIONS = [
    "What is an interoperability assessment?",
    "Who must publish interoperability solutions?",
    "What does the Interoperable Europe Act lay down?",
    "What is a trans-European digital public service?",
]


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVRAG_")}
    env.update(
        {
            "SOVRAG_CONFIG": str(tmp / "no-such.toml"),
            "SOVRAG_GENERATOR": "smollm2-135m",
            "SOVRAG_THREADS": "2",
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


@contextmanager
def served(
    index: Path,
    corpus: Path,
    tmp: Path,
    env: dict[str, str] | None = None,
    wait_for_model: bool = True,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`sovrag serve` in a subprocess on a free loopback port; always stopped on exit."""
    import httpx

    port = free_port()
    log = open(tmp / f"serve-{port}.log", "w")  # noqa: SIM115 — closed in finally
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "serve",
            "--port",
            str(port),
            "--index",
            str(index),
            "--corpus",
            str(corpus),
        ],
        cwd=tmp,
        env=env or server_env(tmp),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                health = httpx.get(base + "/health", timeout=5).json()
                if health["model"]["loaded"] or not wait_for_model:
                    break
            except (httpx.TransportError, ValueError, KeyError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {(tmp / f'serve-{port}.log').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become ready in 240 s")
            time.sleep(0.3)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        log.close()


@dataclass
class LoadResult:
    statuses: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    health_checks: int = 0
    health_failures: list[str] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    seconds: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def summary(self) -> str:
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        other = self.sent - ok - self.statuses.get(503, 0)
        return (
            f"{self.sent} requests ({dict(self.by_kind)}): {ok} 2xx, {self.statuses.get(503, 0)} 503, "
            f"{other} other; {self.health_checks} health checks, {len(self.health_failures)} failed; "
            f"peak RSS {self.peak_rss_mb:.0f} MB; {self.seconds:.0f} s"
        )


def _rss_mb(pid: int, field_name: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _one_request(
    client, kind: str, rng: random.Random, result: LoadResult, lock: threading.Lock
) -> None:
    question = rng.choice(QUESTIONS)
    problem = None
    if kind == "search":
        response = client.post("/v1/search", json={"query": question, "k": 5})
        status = response.status_code
    else:
        body = {
            "model": "sovrag",
            "messages": [{"role": "user", "content": question}],
            "stream": kind == "stream",
        }
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            status = response.status_code
            text = response.read().decode("utf-8", "replace")
        if status == 200 and kind == "stream":
            data = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
            if not data or data[-1] != "[DONE]":
                problem = f"stream did not end with [DONE]: {text[-300:]!r}"
            elif any('"error"' in d and d.startswith('{"error"') for d in data):
                problem = f"error inside the stream: {text[-300:]!r}"
        elif status == 200 and not json.loads(text)["choices"][0]["message"]["content"]:
            problem = "empty completion"
    if status == 503 and not response.headers.get("retry-after", "").isdigit():
        problem = "503 without a numeric Retry-After"
    if status >= 500 and status != 503:
        problem = f"{status}: {response.headers.get('content-type')}"
    with lock:
        result.statuses[status] += 1
        result.by_kind[kind] += 1
        if problem:
            result.problems.append(f"{kind}: {problem}")


def run_load(base: str, pid: int, requests: int, concurrency: int, seed: int = 16) -> LoadResult:
    """Fire `requests` mixed requests with `concurrency` workers; poll /health and RSS meanwhile."""
    import httpx

    rng = random.Random(seed)
    kinds = [rng.choice(["search", "search", "chat", "stream"]) for _ in range(requests)]
    result, lock, done = LoadResult(), threading.Lock(), threading.Event()

    def watch() -> None:
        with httpx.Client(base_url=base, timeout=10) as client:
            while not done.is_set():
                try:
                    if client.get("/health").status_code != 200:
                        result.health_failures.append("non-200")
                except httpx.HTTPError as exc:
                    result.health_failures.append(repr(exc))
                result.health_checks += 1
                result.peak_rss_mb = max(result.peak_rss_mb, _rss_mb(pid, "VmRSS"))
                done.wait(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    limits = httpx.Limits(max_connections=concurrency + 2)
    with (
        httpx.Client(base_url=base, timeout=300, limits=limits) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        futures = [
            pool.submit(_one_request, client, k, random.Random(seed + i), result, lock)
            for i, k in enumerate(kinds)
        ]
        for future in futures:
            try:
                future.result(timeout=600)
            except Exception as exc:  # noqa: BLE001 — a transport failure is a finding, not a crash
                result.problems.append(f"request failed: {exc!r}")
    result.seconds = time.monotonic() - started
    done.set()
    watcher.join(timeout=30)
    result.peak_rss_mb = max(result.peak_rss_mb, _rss_mb(pid, "VmHWM"))
    return result


def test_mixed_load_gets_2xx_or_503_with_retry_after(tmp_path):
    from rag.config import load_settings
    from rag.ingest import run_ingest
    from rag.runtime import Runtime

    corpus, index = tiny_corpus(tmp_path / "corpus"), tmp_path / "index"
    runtime = Runtime(load_settings(index_dir=index, corpus_dir=corpus, threads=2))
    run_ingest(
        runtime.store,
        runtime.embedder,
        [corpus],
        max_bytes=10**8,
        full_rebuild=True,
        show_progress=False,
        say=lambda m: None,
    )
    with served(index, corpus, tmp_path) as (base, proc):
        result = run_load(base, proc.pid, CI_REQUESTS, CONCURRENCY)
        assert proc.poll() is None, "server died under load"
    print("\nload:", result.summary())
    assert result.sent == CI_REQUESTS
    assert not result.problems, result.problems[:10]
    assert set(result.statuses) <= {200, 503}, result.statuses
    assert result.statuses[200] > 0
    assert result.health_checks > 0 and not result.health_failures, result.health_failures[:5]
    assert result.peak_rss_mb < RSS_LIMIT_MB, result.summary()
