"""`sovrag serve`: time until /health answers, RSS idle with the default model loaded, and RSS
under 4 concurrent streamed /v1/ask requests (loopback only, answers capped in length).

    python bench/server_memory.py [--requests 4] [--max-tokens 64]

The server runs on a copy of the index in a temporary folder (it appends answers to a provenance
log there), on a free loopback port, and is stopped by its process id at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, load_average, machine, table, tree_rss_mb

QUESTIONS = [
    "What is the maximum administrative fine for engaging in a prohibited AI practice under the AI Act?",
    "How quickly must a controller notify a personal data breach under the GDPR?",
    "From which date does the Data Act apply?",
    "What is a gatekeeper under the Digital Markets Act?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_index(source: Path, target: Path) -> None:
    """The current generation and CURRENT pointer only (no logs, no older generations)."""
    name = (source / "CURRENT").read_text("utf-8").strip()
    target.mkdir(parents=True)
    shutil.copytree(source / name, target / name)
    (target / "CURRENT").write_text(name + "\n", "utf-8")


def get_json(url: str, timeout: float = 2.0) -> dict | None:
    import httpx

    try:
        return httpx.get(url, timeout=timeout).json()
    except (httpx.HTTPError, ValueError):
        return None


def ask_streamed(base: str, question: str, out: dict) -> None:
    import httpx

    started = time.perf_counter()
    try:
        with httpx.stream(
            "POST",
            f"{base}/v1/ask",
            json={"question": question, "stream": True},
            timeout=httpx.Timeout(10.0, read=900.0),
        ) as response:
            out["status"] = response.status_code
            for line in response.iter_lines():
                if line.startswith("event: delta") and "ttft_s" not in out:
                    out["ttft_s"] = round(time.perf_counter() - started, 2)
                if line.startswith("event: answer"):
                    out["answered"] = True
    except httpx.HTTPError as exc:
        out["error"] = str(exc)
    out["total_s"] = round(time.perf_counter() - started, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index", help="copied, never written")
    parser.add_argument("--requests", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--load-timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    info = machine()
    work = Path(tempfile.mkdtemp(prefix="sovrag-bench-serve-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    copy_index(args.index, work / "index")
    env = dict(os.environ, SOVRAG_MAX_TOKENS=str(args.max_tokens), SOVRAG_API_KEY="")
    sovrag = Path(sys.executable).parent / "sovrag"
    log = open(work / "server.log", "w")  # noqa: SIM115 — closed after the server stops
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            str(sovrag),
            "serve",
            "--index",
            str(work / "index"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    result: dict = {"machine": info, "max_tokens": args.max_tokens}
    try:
        health_s = loaded_s = None
        while time.perf_counter() - started < args.load_timeout:
            if server.poll() is not None:
                raise RuntimeError(f"server exited: {(work / 'server.log').read_text()[-2000:]}")
            health = get_json(f"{base}/health", timeout=1.0)
            if health is not None and health_s is None:
                health_s = time.perf_counter() - started
                result["health_first"] = health
            if health and health.get("model", {}).get("loaded"):
                loaded_s = time.perf_counter() - started
                break
            time.sleep(0.1)
        result["health_s"] = health_s and round(health_s, 2)
        result["model_loaded_s"] = loaded_s and round(loaded_s, 2)
        time.sleep(3.0)  # let the warm-up thread finish its query encode
        result["idle_rss_mb"] = tree_rss_mb(server.pid)

        outs: list[dict] = [{} for _ in range(args.requests)]
        threads = [
            threading.Thread(
                target=ask_streamed, args=(base, QUESTIONS[i % len(QUESTIONS)], outs[i])
            )
            for i in range(args.requests)
        ]
        samples: list[float] = []
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            samples.append(tree_rss_mb(server.pid))
            time.sleep(0.25)
        result["busy_rss_peak_mb"] = max(samples) if samples else None
        result["busy_rss_mean_mb"] = round(sum(samples) / len(samples), 1) if samples else None
        result["requests"] = outs
        result["after_rss_mb"] = tree_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ["/health answers after start", result["health_s"], "s"],
        ["model loaded (health reports loaded) after start", result["model_loaded_s"], "s"],
        ["RSS idle, default model loaded", result["idle_rss_mb"], "MB"],
        [
            f"RSS peak under {args.requests} concurrent streamed /v1/ask",
            result["busy_rss_peak_mb"],
            "MB",
        ],
        ["RSS after the requests", result["after_rss_mb"], "MB"],
    ]
    rows += [
        [
            f"request {i + 1}: TTFT / total (queued behind the others)",
            f"{o.get('ttft_s')} / {o.get('total_s')}",
            "s",
        ]
        for i, o in enumerate(result["requests"])
    ]
    readable = (
        table(rows, ["sovrag serve", "value", "unit"])
        + f"\nload {info['load_start']} -> {load_average()}"
    )
    emit("server_memory", result, readable, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
