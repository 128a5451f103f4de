"""Fuzz the live API from its own OpenAPI schema with schemathesis: no input may cause a 500.

Runs the schemathesis CLI against a loopback server over a tiny real index (real embedder, real
ingestion for uploads, deletes and rebuilds). The model is the scripted stand-in: the fuzzer
targets the HTTP layer, and a real generation per example would not fit a bounded run on a shared
CPU. The bearer token is set, so the `ignored_auth` check also proves every protected endpoint
refuses requests without it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.api import create_app

try:  # tests/ may or may not be a package, depending on how pytest imports it
    from tests.test_api_fixtures import ScriptedGenerator, live_server, tiny_runtime
except ImportError:
    from test_api_fixtures import ScriptedGenerator, live_server, tiny_runtime

pytestmark = pytest.mark.slow

KEY = "fuzz-key"
EXAMPLES_PER_OPERATION = 12
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,negative_data_rejection,ignored_auth,"
    "use_after_free,ensure_resource_availability"
)


def test_schemathesis_finds_no_server_errors(tmp_path):
    runtime = tiny_runtime(tmp_path, api_key=KEY)
    runtime._generator = ScriptedGenerator()
    cli = Path(sys.executable).with_name("schemathesis")
    with live_server(create_app(runtime)) as base:
        run = subprocess.run(
            [
                str(cli),
                "run",
                f"{base}/openapi.json",
                "--header",
                f"Authorization: Bearer {KEY}",
                "--checks",
                CHECKS,
                "--max-examples",
                str(EXAMPLES_PER_OPERATION),
                "--seed",
                "20240903",
                "--workers",
                "1",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--generation-database",
                "none",
                "--request-timeout",
                "120",
                "--no-color",
                "--suppress-health-check",
                "too_slow,filter_too_much",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            check=False,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=900,
        )
    summary = run.stdout[-6000:]
    print(summary)
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "500" not in [
        line.split()[0] for line in run.stdout.splitlines() if line.strip()[:3].isdigit()
    ]
