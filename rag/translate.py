"""Translation with the local generator, for text in a language the index lacks.

The bundled embedder and the English stemmer only understand English, so a German question about
an English act retrieves poorly. One short generation (~1–3 s on CPU) turns it into English; the
retriever then searches both forms and fuses them. The same holds for checking a German answer
against English passages: each answer sentence is translated before its support is measured.
Translations are cached per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from .generator import GenerationParams, Generator
from .language import LANGUAGE_NAMES

_SYSTEM = (
    "You translate {kind}s about EU law into {target}. Use the terms of the official {target} text of "
    "EU legislation. Keep acronyms, numbers, dates and article references as they are. "
    "Reply with the translated {kind} only."
)
_CACHE_SIZE = 512


class QueryTranslator:
    """Callable `(text, source_lang, target_lang) -> translation | None`; loads the model lazily."""

    def __init__(self, generator: Callable[[], Generator], max_tokens: int = 96) -> None:
        self._generator = generator
        self._max_tokens = max_tokens
        self._cache: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()
        self.calls = 0  # generator calls made (cache misses): lets benches report the cost

    def __call__(
        self,
        text: str,
        source_lang: str,
        target_lang: str = "en",
        kind: str = "question",
        max_tokens: int | None = None,
    ) -> str | None:
        """`kind` names what is translated ("question", "sentence"): it only words the instruction.
        `max_tokens` bounds the translation (default: the translator's, enough for a question)."""
        key = (text, target_lang, kind)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        translation = self._translate(
            text, source_lang, target_lang, kind, max_tokens or self._max_tokens
        )
        with self._lock:
            self._cache[key] = translation
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return translation

    def _translate(
        self, text: str, source_lang: str, target_lang: str, kind: str, max_tokens: int
    ) -> str | None:
        target = LANGUAGE_NAMES.get(target_lang, target_lang)
        source = LANGUAGE_NAMES.get(source_lang, "another language")
        messages = [
            {"role": "system", "content": _SYSTEM.format(target=target, kind=kind)},
            {"role": "user", "content": f"Translate from {source} into {target}:\n{text}"},
        ]
        params = GenerationParams(max_tokens=max_tokens, temperature=0.0, seed=0)
        self.calls += 1
        out = "".join(self._generator().stream_chat(messages, params)).strip()
        return clean_translation(out, text)


def clean_translation(output: str, original: str) -> str | None:
    """First non-empty line without quotes or a "Translation:" prefix; None when it is unusable."""
    for line in output.splitlines():
        line = line.strip().strip('"“”«»').strip()
        if ":" in line[:20] and line.split(":", 1)[0].strip().lower() in {
            "translation",
            "english",
            "question",
        }:
            line = line.split(":", 1)[1].strip().strip('"“”').strip()
        if line:
            if line.casefold() == original.strip().casefold() or len(line) > 4 * len(original) + 40:
                return None
            return line
    return None
