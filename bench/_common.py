"""Helpers shared by the benchmark scripts: timing statistics, memory, machine load, output.

Every benchmark prints one JSON line (machine-readable, last line of stdout) and a readable table,
and records the load average at start and end, because on a shared 2-core machine a busy neighbour
changes every figure; ratios measured side by side in one run are the figures to trust.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..1); with few samples p95 is close to the maximum."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def latency_summary(seconds: list[float]) -> dict:
    """p50/p95/mean/max in milliseconds."""
    if not seconds:
        return {}
    return {
        "p50_ms": round(percentile(seconds, 0.5) * 1000, 2),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 2),
        "max_ms": round(max(seconds) * 1000, 2),
        "n": len(seconds),
    }


def load_average() -> float:
    """1-minute load average: above ~2.5 on this 2-core machine, timings are inflated."""
    return round(os.getloadavg()[0], 2)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb(pid: int | None = None) -> float:
    """Current resident set size of a process (this one by default), from /proc."""
    path = f"/proc/{pid or 'self'}/status"
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process plus its children (uvicorn runs in the `sovrag serve` process itself,
    but a wrapper shell or launcher may sit in between)."""
    total = 0.0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            total += rss_mb(current)
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as fh:
                todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue
    return round(total, 1)


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "load_start": load_average(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def table(rows: list[list], header: list[str]) -> str:
    """A Markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells[1:]]
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return "-" if value is None else str(value)


def emit(name: str, result: dict, readable: str, out: Path | None = None) -> None:
    """Print the readable table to stderr and the JSON line to stdout (and to `out` if given)."""
    result = {"benchmark": name, **result}
    result.setdefault("machine", {})["load_end"] = load_average()
    print(readable, file=sys.stderr, flush=True)
    line = json.dumps(result, ensure_ascii=False)
    print(line, flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")


def index_settings(index: Path, **overrides):
    """Settings for reading an existing index with the embedder it was built with, so a benchmark
    runs on an index of any embedder (the product refuses a mismatch; a benchmark measures the
    index it is given)."""
    from rag.config import load_settings
    from rag.store import IndexStore

    store = IndexStore(index)
    built_with = store.open().manifest.get("embedder") if store.exists() else None
    return load_settings(index_dir=index, embedder=built_with, **overrides)
