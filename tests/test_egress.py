"""Zero egress: ingest, ask, serve and the UI page never open a connection off the machine.

Every outbound socket connection (and name lookup) to a non-loopback address is made to fail
loudly and is recorded — in this process by patching `socket`, in subprocesses through a
`sitecustomize.py` put first on PYTHONPATH — so library telemetry and update checks (Gradio,
huggingface_hub, transformers, llama.cpp) are caught too, even when they swallow the error.
A positive control proves the guard is active in each setting, so a zero is a real zero.
The subprocesses run without the offline variables in their environment: the product must set
them itself.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from test_api_fixtures import free_port, tiny_corpus

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

GUARD = r'''
"""Installed by sovrag's egress test: refuse and record every connection off the machine."""
import ipaddress as _ip
import json as _json
import os as _os
import socket as _socket
import traceback as _tb

_LOG = _os.environ.get("SOVRAG_EGRESS_LOG", "")


def _local(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return _ip.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what, host, port=None):
    record = {"what": what, "host": str(host), "port": port, "pid": _os.getpid(),
              "stack": "".join(_tb.format_stack(limit=12)[:-2])[-1500:]}
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(_json.dumps(record) + "\n")
    raise OSError(f"egress blocked by test guard: {what} {host}:{port}")


def _target(self, address):
    if self.family in (_socket.AF_INET, _socket.AF_INET6) and isinstance(address, tuple):
        return address[0], address[1]
    return None


_connect, _connect_ex, _sendto = _socket.socket.connect, _socket.socket.connect_ex, _socket.socket.sendto
_getaddrinfo, _gethostbyname = _socket.getaddrinfo, _socket.gethostbyname


def _guarded_connect(self, address):
    target = _target(self, address)
    if target and not _local(target[0]):
        _refuse("connect", *target)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    target = _target(self, address)
    if target and not _local(target[0]):
        _refuse("connect_ex", *target)
    return _connect_ex(self, address)


def _guarded_sendto(self, data, *args):
    address = args[-1]
    target = _target(self, address)
    if target and not _local(target[0]):
        _refuse("sendto", *target)
    return _sendto(self, data, *args)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        _refuse("getaddrinfo", host, args[0] if args else None)
    return _getaddrinfo(host, *args, **kwargs)


def _guarded_gethostbyname(host):
    if not _local(host):
        _refuse("gethostbyname", host)
    return _gethostbyname(host)


def install():
    _socket.socket.connect = _guarded_connect
    _socket.socket.connect_ex = _guarded_connect_ex
    _socket.socket.sendto = _guarded_sendto
    _socket.getaddrinfo = _guarded_getaddrinfo
    _socket.gethostbyname = _guarded_gethostbyname


def uninstall():
    _socket.socket.connect, _socket.socket.connect_ex, _socket.socket.sendto = _connect, _connect_ex, _sendto
    _socket.getaddrinfo, _socket.gethostbyname = _getaddrinfo, _gethostbyname


if _LOG:
    install()
'''
_OFFLINE_VARS = (
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "HF_HUB_DISABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "GRADIO_ANALYTICS_ENABLED",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
)


def attempts(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture
def guarded_env(tmp_path) -> tuple[dict[str, str], Path]:
    """A subprocess environment whose Python refuses egress and logs each attempt to a file."""
    site = tmp_path / "egress-site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GUARD, "utf-8")
    log = tmp_path / "egress.jsonl"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SOVRAG_") and k not in _OFFLINE_VARS
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]),
        SOVRAG_EGRESS_LOG=str(log),
        SOVRAG_CONFIG=str(tmp_path / "no-such.toml"),
        SOVRAG_GENERATOR="smollm2-135m",
        SOVRAG_THREADS="2",
        SOVRAG_INDEX_DIR=str(tmp_path / "index"),
        SOVRAG_CORPUS_DIR=str(tiny_corpus(tmp_path / "corpus")),
    )
    return env, log


@pytest.fixture
def in_process_guard(tmp_path, monkeypatch):
    """The same guard in this process, removed again after the test."""
    log = tmp_path / "egress-inproc.jsonl"
    monkeypatch.setenv("SOVRAG_EGRESS_LOG", str(log))
    namespace: dict = {"__name__": "egress_guard"}
    exec(compile(GUARD, "egress_guard", "exec"), namespace)  # noqa: S102 — our own guard source
    try:
        yield log
    finally:
        namespace["uninstall"]()


def test_guard_catches_attempts_in_process(in_process_guard):
    """Positive control: an outbound connection, lookup or UDP datagram is refused and recorded."""
    import socket
    import urllib.request

    with pytest.raises(OSError, match="egress blocked"):
        socket.create_connection(("192.0.2.10", 443), timeout=2)
    with pytest.raises(OSError):
        urllib.request.urlopen("http://huggingface.co/api/models", timeout=2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(OSError):
        udp.sendto(b"x", ("198.51.100.7", 53))
    with socket.socket() as sock:  # loopback stays allowed
        sock.bind(("127.0.0.1", 0))
    assert {a["host"] for a in attempts(in_process_guard)} >= {
        "192.0.2.10",
        "huggingface.co",
        "198.51.100.7",
    }


def test_ingest_search_and_ui_in_process_make_no_outbound_attempt(in_process_guard, tmp_path):
    """In this process: ingest with the real embedder, retrieve, serve the UI (the fast model's
    answers are asked in the subprocess test below, which covers the whole product)."""
    from test_api_fixtures import live_server

    from rag.config import load_settings
    from rag.ingest import run_ingest
    from rag.runtime import Runtime
    from rag.server import build_app

    corpus = tiny_corpus(tmp_path / "corpus")
    runtime = Runtime(
        load_settings(
            index_dir=tmp_path / "index", corpus_dir=corpus, generator="smollm2-135m", threads=2
        )
    )
    run_ingest(
        runtime.store,
        runtime.embedder,
        [corpus],
        max_bytes=10**8,
        full_rebuild=True,
        show_progress=False,
        say=lambda m: None,
    )
    assert runtime.retriever().search("What is an interoperability assessment?", k=3)
    with live_server(build_app(runtime, with_ui=True)) as url:
        fetched = fetch_page_and_assets(url)
    assert fetched >= 1
    assert attempts(in_process_guard) == []


def test_guard_is_active_in_subprocesses(guarded_env):
    """Positive control for the sitecustomize route: a child's attempt lands in the log."""
    env, log = guarded_env
    script = "import urllib.request as u\ntry:\n u.urlopen('http://example.org', timeout=2)\nexcept OSError:\n pass"
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert [a["host"] for a in attempts(log)] == ["example.org"]


def fetch_page_and_assets(base: str) -> int:
    """GET the UI page and every same-origin script/stylesheet/icon it names; the page must name
    no off-machine resource (a browser would fetch it). Returns how many resources were fetched."""
    import httpx

    with httpx.Client(timeout=60, follow_redirects=True) as client:
        page = client.get(base + "/")
        assert page.status_code == 200, page.text[:500]
        html = page.text
        external = [
            u
            for u in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
            if urlparse(urljoin(base + "/", u)).hostname not in ("127.0.0.1", "localhost")
            and not u.startswith(("data:", "#", "mailto:"))
        ]
        links = [
            u
            for u in re.findall(
                r"""<(?:script|link)[^>]+(?:src|href)\s*=\s*["']([^"']+)["']""", html
            )
        ]
        assert not [u for u in external if u in links], (
            f"the UI page loads off-machine resources: {external}"
        )
        fetched = 1
        for link in links:
            target = urljoin(base + "/", link)
            if urlparse(target).hostname in ("127.0.0.1", "localhost"):
                assert client.get(target).status_code < 400, target
                fetched += 1
        for path in ("/config", "/gradio_api/info", "/health", "/openapi.json"):
            client.get(base + path)
        return fetched


def test_served_product_makes_no_outbound_attempt(guarded_env, tmp_path):
    """One `sovrag serve` process does it all: builds the index on first start (ingest), loads
    both models, serves the UI page and its assets, searches and answers (ask)."""
    import httpx

    env, log = guarded_env
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/health", timeout=5).json()["model"]["loaded"]:
                    break
            except (httpx.TransportError, ValueError, KeyError):
                pass
            assert server.poll() is None, server.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.5)
        assert fetch_page_and_assets(base) >= 1
        search = httpx.post(
            base + "/v1/search", json={"query": "interoperability assessment"}, timeout=60
        )
        assert search.status_code == 200 and search.json()["hits"], search.text
        ask = httpx.post(
            base + "/v1/ask",
            json={"question": "What does the Interoperable Europe Act lay down?"},
            timeout=300,
        )
        assert ask.status_code == 200 and ask.json()["answer"], ask.text
        time.sleep(2)  # give background telemetry threads, if any, the chance to try
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
    seen = attempts(log)
    assert seen == [], "outbound attempts:\n" + "\n".join(
        f"{a['what']} {a['host']}:{a['port']}\n{a['stack']}" for a in seen
    )
