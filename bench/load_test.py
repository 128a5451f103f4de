"""Full-size load test on loopback: `sovrag serve` under 200 mixed requests, 16 concurrent.

The same code as tests/test_reliability_load.py (which runs a reduced size in CI): /v1/search and
streamed and non-streamed /v1/chat/completions; every request must get a 2xx or a 503 with
Retry-After, /health must answer throughout; peak RSS of the server is reported.
The full hostile-file set: `python tests/hostile_files.py generate DIR 25` then
`sovrag index update DIR --index SOME_TMP_INDEX` (or `python tests/hostile_files.py probe DIR`).

    python bench/load_test.py [--requests 200] [--concurrency 16] [--generator smollm2-135m]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]


def main() -> int:
    from test_api_fixtures import tiny_corpus
    from test_reliability_load import run_load, served, server_env

    from rag.config import load_settings
    from rag.ingest import run_ingest
    from rag.runtime import Runtime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--generator", default="smollm2-135m")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sovrag-load-") as tmp_name:
        tmp = Path(tmp_name)
        corpus, index = tiny_corpus(tmp / "corpus"), tmp / "index"
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
        env = server_env(tmp, SOVRAG_GENERATOR=args.generator)
        with served(index, corpus, tmp, env=env) as (base, proc):
            result = run_load(base, proc.pid, args.requests, args.concurrency)
            alive = proc.poll() is None
    print(result.summary())
    for problem in result.problems[:20]:
        print("problem:", problem)
    ok = (
        alive
        and not result.problems
        and set(result.statuses) <= {200, 503}
        and not result.health_failures
    )
    print(
        json.dumps(
            {
                "requests": result.sent,
                "statuses": dict(result.statuses),
                "by_kind": dict(result.by_kind),
                "problems": len(result.problems),
                "health_checks": result.health_checks,
                "health_failures": len(result.health_failures),
                "peak_rss_mb": round(result.peak_rss_mb),
                "seconds": round(result.seconds, 1),
                "generator": args.generator,
                "passed": ok,
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
