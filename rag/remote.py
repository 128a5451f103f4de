"""A generator on another machine: any OpenAI-compatible chat server (llama.cpp server, vLLM).

This is the scale-out path: many `sovrag` front ends share one inference cluster, while
retrieval, citation checks and provenance stay in the front end and are the same as in-process.
Only the chat completion crosses the network; nothing here falls back to a cloud service.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .errors import ModelError
from .generator import GenerationParams

_RETRY_STATUS = {408, 429, 500, 502, 503, 504}


def _redact(url: str) -> str:
    """The URL without user:password, so logs and provenance never carry credentials."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


class OpenAICompatibleGenerator:
    """Streams chat completions over HTTP(S) with timeouts and bounded retries.

    Retries happen only before the first token arrives: once text has been streamed to the
    user, repeating the request would duplicate it, so a broken stream is reported instead.
    """

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str = "",
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        retries: int = 2,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ModelError(
                f"Generator base URL '{base_url}' must start with http:// or https:// "
                "(for example http://127.0.0.1:8080/v1); set generator_base_url or "
                "SOVRAG_GENERATOR_BASE_URL."
            )
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = model or "remote"
        self.retries = max(0, retries)
        self.backoff = backoff
        self.read_timeout = read_timeout
        self.served_model = ""
        """The model id the server reported in its last reply (provenance)."""
        self.fingerprint = ""
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )
        self._checked = False

    # The in-process generator exposes these; the server and health endpoint rely on them.
    @property
    def loaded(self) -> bool:
        return self._checked

    def load(self) -> OpenAICompatibleGenerator:
        """Check that the server answers and knows a model; a readable error if it does not."""
        response = self._request("GET", "/models")
        try:
            ids = [m.get("id", "") for m in response.json().get("data", [])]
        except (ValueError, AttributeError):
            ids = []
        if not self.model and ids:
            self.served_model = ids[0]
        self._checked = True
        return self

    def stream_chat(self, messages: list[dict], params: GenerationParams) -> Iterator[str]:
        body: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": 1.0,
            "seed": params.seed,
        }
        if self.model:
            body["model"] = self.model
        if params.stop:
            body["stop"] = list(params.stop)
        attempt = 0
        while True:
            yielded = False
            try:
                with self._client.stream("POST", "/chat/completions", json=body) as response:
                    if response.status_code != 200:
                        response.read()
                        self._raise_for_status(response)
                    for text in self._parse_stream(response):
                        yielded = True
                        yield text
                self._checked = True
                return
            except _Retryable as exc:
                if yielded or attempt >= self.retries:
                    raise ModelError(exc.message) from None
            except httpx.TimeoutException as exc:
                if yielded:
                    raise ModelError(
                        f"The inference server at {_redact(self.base_url)} stopped sending text for "
                        f"{self.read_timeout:.0f} s in the middle of an answer; it may be overloaded."
                    ) from exc
                if attempt >= self.retries:
                    raise ModelError(self._timeout_message(exc)) from exc
            except httpx.TransportError as exc:
                if yielded:
                    raise ModelError(
                        f"The connection to the inference server at {_redact(self.base_url)} broke in "
                        f"the middle of an answer ({exc.__class__.__name__}); ask again."
                    ) from exc
                if attempt >= self.retries:
                    raise ModelError(self._unreachable_message(exc)) from exc
            attempt += 1
            time.sleep(self.backoff * (2 ** (attempt - 1)))

    def describe(self) -> dict:
        """Provenance facts; the server's own model id is recorded since no file hash is visible."""
        return {
            "backend": "openai",
            "model": self.name,
            "served_model": self.served_model,
            "base_url": _redact(self.base_url),
            "sha256": "",
            "system_fingerprint": self.fingerprint,
        }

    def close(self) -> None:
        self._client.close()

    # --- helpers -------------------------------------------------------------------------------

    def _parse_stream(self, response: httpx.Response) -> Iterator[str]:
        """Text deltas from a server-sent-event stream of chat.completion.chunk objects."""
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue  # comments, keep-alives, `event:` lines
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            try:
                chunk = json.loads(payload)
            except ValueError:
                raise ModelError(
                    f"The server at {_redact(self.base_url)} sent something that is not an "
                    "OpenAI-compatible stream; check that generator_base_url points at its /v1."
                ) from None
            if "error" in chunk:
                detail = chunk["error"]
                detail = detail.get("message", detail) if isinstance(detail, dict) else detail
                raise ModelError(f"The inference server reported an error: {detail}")
            self.served_model = chunk.get("model") or self.served_model
            self.fingerprint = chunk.get("system_fingerprint") or self.fingerprint
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield text

    def _request(self, method: str, path: str) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._client.request(method, path)
                if response.status_code == 200:
                    return response
                self._raise_for_status(response)
            except _Retryable as exc:
                if attempt >= self.retries:
                    raise ModelError(exc.message) from None
            except httpx.TimeoutException as exc:
                if attempt >= self.retries:
                    raise ModelError(self._timeout_message(exc)) from exc
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise ModelError(self._unreachable_message(exc)) from exc
            attempt += 1
            time.sleep(self.backoff * (2 ** (attempt - 1)))

    def _raise_for_status(self, response: httpx.Response) -> None:
        url = _redact(self.base_url)
        status = response.status_code
        detail = _error_detail(response)
        if status in (401, 403):
            raise ModelError(
                f"The inference server at {url} refused the request ({status}: {detail}); set the "
                "right key in generator_api_key or SOVRAG_GENERATOR_API_KEY."
            )
        if status == 404:
            raise ModelError(
                f"The inference server at {url} has no such endpoint or model (404: {detail}); the "
                "base URL usually ends in /v1, and generator_model must be a model it serves."
            )
        if status in _RETRY_STATUS:
            raise _Retryable(
                f"The inference server at {url} is not able to answer now "
                f"({status}: {detail}); try again later or add capacity."
            )
        raise ModelError(
            f"The inference server at {url} rejected the request ({status}: {detail})."
        )

    def _unreachable_message(self, exc: Exception) -> str:
        return (
            f"Cannot reach the inference server at {_redact(self.base_url)} "
            f"({exc.__class__.__name__}: {exc}). Start it (for example `python -m llama_cpp.server "
            "--model FILE.gguf --host 127.0.0.1 --port 8080`), or fix generator_base_url / "
            'SOVRAG_GENERATOR_BASE_URL, or set generator_backend = "llamacpp" to run in-process.'
        )

    def _timeout_message(self, exc: Exception) -> str:
        kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
        return (
            f"The inference server at {_redact(self.base_url)} did not {kind} in time "
            f"({exc.__class__.__name__}); it may be overloaded or the address may be wrong."
        )


class _Retryable(Exception):
    """A server answer worth one more try (overload, restart); carries the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _error_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    error = data.get("error", data.get("detail", data)) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message", error)
    return str(error)[:300]
