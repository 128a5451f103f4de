"""Access control: the API key guards every endpoint but /health (routes enumerated from the app
itself, so a new endpoint is covered without editing this file), the UI too, uploads stay in their
folder, and the server refuses to listen off loopback unless told to explicitly.

No model and no index are needed: a request is refused before anything is loaded.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from rag.api import _safe_upload_name, create_app
from rag.config import load_settings
from rag.errors import SovragError
from rag.runtime import Runtime

KEY = "k3y-for-tests-0123456789"
OPEN_PATHS = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
"""Documented as open: liveness, and the API's own description."""


@pytest.fixture
def keyed(tmp_path) -> tuple[Runtime, TestClient]:
    runtime = Runtime(
        load_settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none", api_key=KEY)
    )
    return runtime, TestClient(create_app(runtime))


def every_operation(client: TestClient) -> list[tuple[str, str]]:
    """(method, concrete path) for every operation in the OpenAPI schema and every API route."""
    found = {
        (m.upper(), p)
        for p, ops in client.get("/openapi.json").json()["paths"].items()
        for m in ops
    }
    for route in client.app.routes:
        if isinstance(route, APIRoute):
            found |= {(m, route.path) for m in route.methods if m != "HEAD"}
    concrete = set()
    for method, path in found:
        concrete.add((method, re.sub(r"\{[^}]+\}", "x", path)))
    return sorted(concrete)


BAD_CREDENTIALS = [
    {},
    {"Authorization": f"Bearer {KEY[:-1]}"},  # one character short
    {"Authorization": f"Bearer {KEY}x"},  # one too many
    {"Authorization": f"Bearer {KEY.upper()}"},
    {"Authorization": f"Basic {KEY}"},  # wrong scheme
    {"Authorization": "Bearer "},
    {"X-API-Key": KEY},  # right key, wrong header
    {
        "Authorization": f"Bearer {KEY}\u00e9".encode("latin-1")
    },  # non-ASCII must not crash the check
]


def test_every_endpoint_but_health_rejects_missing_or_wrong_tokens(keyed):
    _, client = keyed
    operations = every_operation(client)
    guarded = [(m, p) for m, p in operations if p not in OPEN_PATHS]
    assert len(guarded) >= 10, operations  # the enumeration found the API, not an empty schema
    for method, path in guarded:
        for headers in BAD_CREDENTIALS:
            response = client.request(method, path, headers=headers, json={})
            assert response.status_code == 401, (
                method,
                path,
                headers,
                response.status_code,
                response.text,
            )
            assert response.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/health").status_code == 200
    good = client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    assert good.status_code == 200


def test_key_is_compared_in_constant_time(keyed, monkeypatch):
    """The comparison goes through hmac.compare_digest (no early exit on the first wrong byte)."""
    import hmac

    import rag.api

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(rag.api.hmac, "compare_digest", spy)
    _, client = keyed
    assert client.get("/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert len(calls) == 2 and calls[1] == (KEY.encode(), KEY.encode())


def test_ui_is_behind_the_key_too(tmp_path):
    from rag.server import build_app

    runtime = Runtime(
        load_settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none", api_key=KEY)
    )
    client = TestClient(build_app(runtime, with_ui=True))
    for path in ("/config", "/gradio_api/info", "/gradio_api/queue/status"):
        assert client.get(path).status_code == 401, path
    join = client.post(
        "/gradio_api/queue/join", json={"data": ["q"], "fn_index": 0, "session_hash": "s"}
    )
    assert join.status_code == 401
    assert (
        client.post("/login", data={"username": "anyone", "password": "wrong"}).status_code >= 400
    )
    assert client.get("/config").status_code == 401
    assert client.post("/login", data={"username": "anyone", "password": KEY}).status_code == 200
    assert client.get("/config").status_code == 200


def test_ui_without_key_needs_no_login(tmp_path):
    from rag.server import build_app

    runtime = Runtime(load_settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "none"))
    assert TestClient(build_app(runtime, with_ui=True)).get("/config").status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd.md",
        "..\\..\\windows\\win.ini.txt",
        "/etc/shadow.md",
        "a/../../b.md",
        "uploads/../../x.md",
        "..",
        ".",
        "../",
        ".hidden.md",
        "\u202egnp.md",
        "x\x00.md",
        "line\nbreak.md",
        "C:\\Users\\x\\doc.md",
        "%2e%2e%2fx.md",
        "ＮＦＫＣ／slash.md",
        "a" * 500 + ".md",
        "",
    ],
)
def test_upload_names_cannot_leave_the_folder(raw, tmp_path):
    try:
        name = _safe_upload_name(raw)
    except ValueError:
        return  # refused outright: fine
    assert name and "/" not in name and "\\" not in name and "\x00" not in name and "\n" not in name
    assert name not in (".", "..") and not name.startswith(".")
    folder = (tmp_path / "uploads").resolve()
    assert (folder / name).resolve().parent == folder


def test_upload_through_a_planted_symlink_is_refused(keyed, tmp_path):
    """A link left in the upload folder must not let an upload overwrite the file it points to."""
    runtime, client = keyed
    outside = tmp_path / "outside.md"
    outside.write_text("original", "utf-8")
    uploads = runtime.settings.index_dir / "uploads"
    uploads.mkdir(parents=True)
    (uploads / "doc.md").symlink_to(outside)
    response = client.post(
        "/v1/documents",
        headers={"Authorization": f"Bearer {KEY}"},
        files=[("files", ("doc.md", b"# Replaced\n\nText.", "text/markdown"))],
    )
    assert response.status_code == 400, response.text
    assert outside.read_text("utf-8") == "original"


# --------------------------------------------------------------------------- binding


@pytest.fixture
def fake_serving(monkeypatch):
    """serve() up to uvicorn.run, with nothing loaded: records the address it would bind."""
    import uvicorn

    import rag.server

    bound: list[str] = []
    monkeypatch.setattr(
        rag.server,
        "Runtime",
        lambda settings: type("R", (), {"generation": lambda self: None, "settings": settings})(),
    )
    monkeypatch.setattr(rag.server, "ensure_index", lambda runtime: None)
    monkeypatch.setattr(rag.server, "build_app", lambda runtime: object())
    monkeypatch.setattr(
        rag.server.threading, "Thread", lambda **kw: type("T", (), {"start": lambda s: None})()
    )
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: bound.append(host))
    return bound


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_non_loopback_address_from_configuration_alone_is_refused(host, fake_serving):
    from rag.server import serve

    with pytest.raises(SovragError, match="pass --host explicitly"):
        serve(load_settings(host=host), explicit_host=False)
    assert fake_serving == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_nothing(host, fake_serving, capsys):
    from rag.server import serve

    serve(load_settings(host=host), explicit_host=False)
    assert fake_serving == [host] and "warning" not in capsys.readouterr().err


def test_explicit_host_binds_and_warns_without_a_key(fake_serving, capsys):
    from rag.server import serve

    serve(load_settings(host="0.0.0.0"), explicit_host=True)
    assert fake_serving == ["0.0.0.0"]
    assert "without an API key" in capsys.readouterr().err
    serve(load_settings(host="0.0.0.0", api_key=KEY), explicit_host=True)
    assert "warning" not in capsys.readouterr().err


def test_cli_tells_explicit_host_from_configured_host(monkeypatch, tmp_path):
    """`--host` on the command line is explicit; SOVRAG_HOST or sovrag.toml is not."""
    import rag.server
    from rag.cli import main

    seen: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        rag.server,
        "serve",
        lambda settings, explicit_host=False: seen.append((settings.host, explicit_host)) or 0,
    )
    monkeypatch.setenv("SOVRAG_HOST", "0.0.0.0")
    assert main(["serve"]) == 0
    assert main(["serve", "--host", "0.0.0.0"]) == 0
    assert seen == [("0.0.0.0", False), ("0.0.0.0", True)]


def test_cli_refuses_configured_public_host(monkeypatch, capsys):
    from rag.cli import main

    monkeypatch.setenv("SOVRAG_HOST", "0.0.0.0")
    assert main(["serve"]) == 2
    assert "Refusing to listen on non-loopback address 0.0.0.0" in capsys.readouterr().err
