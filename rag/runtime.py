"""The process-wide runtime: settings plus lazily loaded, shared models and the current index.

CLI, HTTP API and UI each create one `Runtime` and call the library through it; models load once,
on first use, and the index generation is re-opened when another process made a new one current.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .embedder import Embedder
from .errors import SovragError
from .generator import Generator
from .models import file_sha256_cached, resolve_embedder, resolve_generator
from .retrieval import Retriever
from .store import IndexGeneration, IndexStore

if TYPE_CHECKING:
    from .admission import Admission
    from .library import DocumentLibrary
    from .provenance import ProvenanceLog


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = IndexStore(settings.index_dir)
        self._embedder: Embedder | None = None
        self._generator: Generator | None = None
        self._generation: IndexGeneration | None = None
        self._provenance = None
        self._translator = None
        self._lock = threading.RLock()
        self._generator_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                path = resolve_embedder(self.settings.embedder, self.settings.models_dir)
                self._embedder = Embedder(
                    self.settings.embedder,
                    path,
                    self.settings.threads,
                    self.settings.embed_batch_size,
                )
            return self._embedder

    @property
    def generator(self) -> Generator:
        # Its own lock: resolving a model may hash or assemble a 1 GB file, and /health must not wait.
        with self._generator_lock:
            if self._generator is None:
                self._generator = make_generator(self.settings)
            return self._generator

    @property
    def generator_loaded(self) -> bool:
        gen = self._generator
        return gen is not None and getattr(gen, "loaded", True)

    def generation(self) -> IndexGeneration:
        """The current index generation (re-opened if a newer one became current)."""
        with self._lock:
            name = self.store.current_name()
            if self._generation is None or self._generation.name != name:
                self._generation = self.store.open(self.settings.embedder)
            return self._generation

    def retriever(self, generation: IndexGeneration | None = None) -> Retriever:
        """The product's retriever (with query translation when enabled) on a generation."""
        from .retrieval import build_retriever

        return build_retriever(self, generation=generation)

    @property
    def translator(self):
        """One translator per process (queries, answer sentences for checking or for the reader), so its cache
        serves every request; None when neither use is switched on."""
        with self._lock:
            wanted = (
                self.settings.translate_queries
                or self.settings.verify_across_languages
                or self.settings.answer_in_sources_language
            )
            if self._translator is None and wanted:
                from .translate import QueryTranslator

                self._translator = QueryTranslator(lambda: self.generator)
            return self._translator

    def generation_named(self, name: str) -> IndexGeneration:
        """A specific (possibly older) generation, for replaying logged answers."""
        path = self.store.root / name
        if not (path / "manifest.json").exists():
            raise SovragError(f"Index generation {name} no longer exists in {self.store.root}.")
        return IndexGeneration(path)

    @property
    def admission(self) -> Admission:
        """The one queue in front of the in-process model, shared by the API and the UI."""
        with self._lock:
            if getattr(self, "_admission", None) is None:
                from .admission import Admission

                self._admission = Admission()
            return self._admission

    @property
    def provenance(self) -> ProvenanceLog:
        with self._lock:
            if self._provenance is None:
                from .provenance import LOG_FILE, ProvenanceLog

                self._provenance = ProvenanceLog(self.settings.index_dir / LOG_FILE)
            return self._provenance

    @property
    def library(self) -> DocumentLibrary:
        """The one document library of this process, shared by the API and the UI: one writer."""
        with self._lock:
            if getattr(self, "_library", None) is None:
                from .library import DocumentLibrary

                self._library = DocumentLibrary(self)
            return self._library


def make_generator(settings: Settings) -> Generator:
    """The one switch point between generator backends."""
    match settings.generator_backend:
        case "llamacpp":
            from .generator import LlamaCppGenerator

            path = resolve_generator(settings.generator, settings.models_dir)
            sha = file_sha256_cached(Path(path), settings.models_dir)
            return LlamaCppGenerator(path, settings.context_size, settings.threads, sha256=sha)
        case "openai":
            from .remote import OpenAICompatibleGenerator

            return OpenAICompatibleGenerator(
                base_url=settings.generator_base_url,
                model=settings.generator_model or settings.generator,
                api_key=settings.generator_api_key,
            )
    raise SovragError(f"Unknown generator backend '{settings.generator_backend}'")
