"""`sovrag serve`: one process serving the HTTP API and the Gradio UI on loopback by default."""

from __future__ import annotations

import hmac
import importlib
import ipaddress
import sys
import threading
from collections.abc import Callable
from typing import Any

from .config import Settings
from .errors import SovragError
from .runtime import Runtime


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


UIBuilder = Callable[[Runtime], Any]
"""Builds the web UI (a Gradio Blocks) for a runtime."""

DEFAULT_UI = "ui.app:build_ui"
"""The web UI `sovrag serve` mounts, named by reference (as uvicorn names an app): the `ui` package
depends on `rag`, and `rag` never imports it; it is loaded only when a server mounts it."""


def load_ui(reference: str = DEFAULT_UI) -> UIBuilder:
    """The UI builder named `module:function`."""
    module_name, _, attribute = reference.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise SovragError(f"Cannot load the web UI '{reference}': {exc}") from exc


def build_app(runtime: Runtime, with_ui: bool = True, ui: UIBuilder | None = None):
    """The API app, with the web UI mounted at / (the default UI, or `ui` when given)."""
    from .api import create_app

    app = create_app(runtime)
    if with_ui:
        app = mount_ui(app, runtime, ui or load_ui())
    return app


def mount_ui(app, runtime: Runtime, build_ui: UIBuilder):
    import gradio as gr

    key = runtime.settings.api_key
    # With an API key, the UI is behind Gradio's login form (any user name, the key as
    # password): otherwise its own endpoints would answer questions without any token.
    auth = (
        (lambda _user, password: hmac.compare_digest(password.encode("utf-8"), key.encode("utf-8")))
        if key
        else None
    )
    return gr.mount_gradio_app(
        app,
        build_ui(runtime),
        path="/",
        auth=auth,
        auth_message="Enter the server's API key (SOVRAG_API_KEY) as the password.",
    )


def ensure_index(runtime: Runtime) -> None:
    """Build the index from the configured corpus when none exists yet (first start)."""
    if runtime.store.exists():
        return
    from .library import DocumentLibrary

    corpus = runtime.settings.corpus_dir
    if not corpus.is_dir():
        raise SovragError(
            f"No index in {runtime.store.root} and no corpus folder at {corpus} to build one from."
        )
    print(
        f"No index yet: building it from {corpus} (first start only)…", file=sys.stderr, flush=True
    )
    report = DocumentLibrary(runtime, verbose=True).rebuild()
    print(report.summary(), file=sys.stderr, flush=True)


def serve(settings: Settings, explicit_host: bool = False) -> int:
    import uvicorn

    if not is_loopback(settings.host):
        if not explicit_host:
            raise SovragError(
                f"Refusing to listen on non-loopback address {settings.host} from configuration alone; "
                "pass --host explicitly to expose the server."
            )
        if not settings.api_key:
            print(
                f"warning: listening on {settings.host} without an API key; anyone on the network "
                "can use this server. Set SOVRAG_API_KEY.",
                file=sys.stderr,
            )
    runtime = Runtime(settings)
    ensure_index(runtime)
    runtime.generation()
    app = build_app(runtime)

    def warm_up() -> None:
        try:
            runtime.embedder.encode_query("warm-up")
            runtime.generator.load()
        except SovragError as exc:
            print(f"error: {exc}", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 — keep serving retrieval without a generator
            print(f"error: generator failed to load: {exc}", file=sys.stderr)

    threading.Thread(target=warm_up, name="model-warm-up", daemon=True).start()
    print(
        f"sovrag: serving on http://{settings.host}:{settings.port}/ (UI at /, API at /v1, docs at /docs)",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
