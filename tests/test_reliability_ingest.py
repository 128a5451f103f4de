"""Hostile files through every way in (loader, CLI, HTTP upload): no crash, no hang, bounded memory,
one clear reason per skipped file, and the index still answers afterwards.

The CI size is a few files of each kind (`PER_KIND`); `python tests/hostile_files.py generate DIR`
makes the full few-hundred set for a manual run of the same checks.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hostile_files import HUGE_BYTES, Hostile, generate, kinds
from test_api_fixtures import live_server, tiny_corpus, tiny_runtime

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PER_KIND = 3
FILE_DEADLINE_S = 60.0
"""No single file may take longer than this to load and chunk (a hang detector, not a benchmark)."""
PEAK_RSS_LIMIT_MB = 600
"""Loading every hostile file in one process must stay under this (bombs inflate to 400 MB)."""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, list[Hostile]]:
    folder = tmp_path_factory.mktemp("hostile") / "files"
    return folder, generate(folder, per_kind=PER_KIND)


def cli_env(tmp: Path) -> dict[str, str]:
    """The CLI's environment without the developer's settings, on the fast generator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOVRAG_")}
    env.update(
        SOVRAG_CONFIG=str(tmp / "no-such.toml"), SOVRAG_GENERATOR="smollm2-135m", SOVRAG_THREADS="2"
    )
    return env


def run_cli(args: list[str], tmp: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        check=False,
        cwd=ROOT,
        env=cli_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def check_outcomes(files: list[Hostile], outcome: dict[str, tuple[str, str]]) -> None:
    """Every file has an outcome; those that must be skipped are, each with a one-line reason."""
    for f in files:
        assert f.name in outcome, f"no outcome for {f.name!r} ({f.kind})"
        status, reason = outcome[f.name]
        if f.must_skip:
            assert status in ("skipped", "rejected"), f"{f.kind} file {f.name!r} was {status}"
        if status in ("skipped", "rejected"):
            assert reason.strip() and "\n" not in reason and len(reason) <= 300, (f.name, reason)


def test_every_file_loads_or_skips_in_bounded_time_and_memory(hostile):
    folder, files = hostile
    proc = subprocess.Popen(
        [sys.executable, str(TESTS / "hostile_files.py"), "probe", str(folder)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    outcome: dict[str, tuple[str, str]] = {}
    peak = 0.0
    current = None
    try:
        while True:
            try:
                line = lines.get(timeout=FILE_DEADLINE_S)
            except queue.Empty:
                pytest.fail(f"no progress for {FILE_DEADLINE_S:.0f} s while loading {current!r}")
            if line is None:
                break
            record = json.loads(line)
            if "start" in record:
                current = record["start"]
                continue
            outcome[record["name"]] = (record["outcome"], record["reason"])
            peak = max(peak, record["peak_rss_mb"])
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode in (0, -9), proc.stderr.read()[-2000:]
    check_outcomes(files, outcome)
    assert peak < PEAK_RSS_LIMIT_MB, f"peak RSS {peak:.0f} MB while loading hostile files"
    print(
        f"\nloader: {len(files)} files {kinds(files)}; skipped "
        f"{sum(s == 'skipped' for s, _ in outcome.values())}; peak RSS {peak:.0f} MB"
    )


def test_cli_update_survives_hostile_folder_and_index_still_answers(hostile, tmp_path):
    folder, files = hostile
    corpus, index = tiny_corpus(tmp_path / "corpus"), tmp_path / "index"
    built = run_cli(
        ["index", "build", "--corpus", str(corpus), "--index", str(index)], tmp_path, 300
    )
    assert built.returncode == 0, built.stderr[-2000:]

    update = run_cli(
        ["index", "update", str(folder), "--index", str(index)],
        tmp_path,
        timeout=60 + 10 * len(files),
    )
    assert update.returncode == 1, update.stderr[-3000:]  # 1: indexed, with skips
    assert "Traceback" not in update.stderr
    skipped: dict[str, str] = {}
    for line in update.stderr.splitlines():
        # A file repeating another one's text is not indexed either, reported as "unchanged: ".
        for prefix in ("skipped: ", "unchanged: "):
            if line.startswith(prefix):
                name, _, reason = line.removeprefix(prefix).partition(" — ")
                skipped[name] = reason
    status = json.loads(
        run_cli(["index", "status", "--json", "--index", str(index)], tmp_path, 120).stdout
    )
    indexed = {d["id"] for d in status["document_list"]}
    outcome = {
        f.name: ("indexed", "") if f.name in indexed else ("skipped", skipped.get(f.name, ""))
        for f in files
    }
    # A name with a line break cannot be matched line by line: it must be indexed or skipped anyway.
    for f in files:
        if "\n" in f.name and f.name not in indexed:
            outcome[f.name] = ("skipped", "reported")
    check_outcomes(files, outcome)
    assert "interoperable-europe-act.md" in indexed

    search = run_cli(
        [
            "search",
            "interoperability assessment",
            "--doc",
            "interoperable-europe-act.md",
            "--json",
            "--index",
            str(index),
        ],
        tmp_path,
        120,
    )
    assert search.returncode == 0 and json.loads(search.stdout), search.stderr[-2000:]
    print(f"\nCLI: {len(files)} files, {len(indexed) - 1} indexed, {len(skipped)} skipped")


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    """A live server over the tiny index, with a 5 MB upload limit (the 200 MB file is far over)."""
    from rag.server import build_app

    base = tmp_path_factory.mktemp("upload")
    runtime = tiny_runtime(base, max_file_mb=5.0)
    with live_server(build_app(runtime, with_ui=False)) as url:
        yield url, runtime, base


def test_http_upload_of_hostile_files(hostile, upload_server):
    import httpx

    folder, files = hostile
    url, runtime, base = upload_server
    before = {p for p in base.parent.rglob("*")}
    outcome: dict[str, tuple[str, str]] = {}
    small = [f for f in files if f.kind != "huge"]
    by_kind: dict[str, list[Hostile]] = {}
    for f in small:
        by_kind.setdefault(f.kind, []).append(f)
    with httpx.Client(base_url=url, timeout=120) as client:

        def send(batch: list[Hostile]) -> None:
            parts = [
                (
                    "files",
                    (f.upload_name, (folder / f.name).read_bytes(), "application/octet-stream"),
                )
                for f in batch
            ]
            response = client.post("/v1/documents", files=parts)
            assert response.status_code < 500, response.text
            body = response.json()
            if response.status_code == 413 and "details" not in body["error"]:
                if len(batch) > 1:  # the request as a whole is over the limit: one file at a time
                    for f in batch:
                        send([f])
                    return
                outcome[batch[0].name] = ("rejected", body["error"]["message"])
                return
            assert response.status_code == 200 or "details" in body["error"], (
                response.status_code,
                body,
            )
            results = body["files"] if response.status_code == 200 else body["error"]["details"]
            assert len(results) == len(batch)
            for f, result in zip(batch, results):
                outcome[f.name] = (result["status"], result.get("reason") or "")

        for batch in by_kind.values():
            send(batch)
        assert client.get("/health").json()["status"] == "ok"
        hits = client.post(
            "/v1/search",
            json={
                "query": "interoperability assessment",
                "k": 3,
                "filters": {"docs": ["interoperable-europe-act.md"]},
            },
        )
        assert hits.status_code == 200 and hits.json()["hits"]
    check_outcomes(small, outcome)

    uploads = runtime.settings.index_dir / "uploads"
    new_files = {p for p in base.parent.rglob("*") if p.is_file()} - before
    outside = [
        p
        for p in new_files
        if uploads not in p.parents and runtime.settings.index_dir not in p.parents
    ]
    assert not outside, f"uploads wrote outside the upload folder: {outside}"
    assert all(p.parent == uploads for p in uploads.rglob("*") if p.is_file())
    assert not any(p.name.startswith(".upload-") for p in uploads.iterdir())
    print(
        f"\nHTTP: {len(small)} files uploaded; "
        f"{sum(s in ('skipped', 'rejected') for s, _ in outcome.values())} skipped or rejected"
    )


def _raw_upload(url: str, body_head: bytes, headers: dict[str, str], extra_mb: int) -> bytes:
    """Send a multipart upload by hand (httpx would insist on sending all 200 MB first) and read
    whatever the server answers once it has seen enough; the socket deadline catches a hang."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            f"POST /v1/documents HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode() + body_head
        )
        try:
            chunk = b"\0" * (1 << 20)
            for _ in range(extra_mb):
                sock.sendall(
                    chunk if "Content-Length" in headers else b"100000\r\n" + chunk + b"\r\n"
                )
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early and closed: what we want
        reply = b""
        while b"\r\n\r\n" not in reply:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
        return reply


@pytest.mark.parametrize("declared", [True, False])
def test_http_upload_of_200_mb_is_refused_without_reading_it(upload_server, declared):
    url, runtime, _ = upload_server
    boundary = "hostileboundary"
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="huge.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if declared:
        headers["Content-Length"] = str(len(part) + HUGE_BYTES)
        reply = _raw_upload(url, part, headers, extra_mb=1)
    else:  # chunked: the size is only known by counting, so the server must stop counting in time
        headers["Transfer-Encoding"] = "chunked"
        reply = _raw_upload(
            url, f"{len(part):x}\r\n".encode() + part + b"\r\n", headers, extra_mb=12
        )
    assert reply.startswith(b"HTTP/1.1 413"), reply[:300]
    assert not any((runtime.settings.index_dir / "uploads").glob("huge*"))
