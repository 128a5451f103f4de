"""Settings as command-line flags, shared by every `sovrag` sub-command module.

Flags are generated from the settings model, so every setting can be given as a flag
(`--top-k 8`), an environment variable (`SOVRAG_TOP_K=8`) or a key in sovrag.toml. Each command
lists in its --help only the settings it uses (the groups below); the others are still accepted,
so a script that passes one to every command keeps working. Sub-command modules import this,
never `rag.cli`, which imports them to register their commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .config import Settings, load_settings

_FLAG_ALIASES = {"index_dir": ["--index"], "corpus_dir": ["--corpus"], "models_dir": ["--models"]}
_SECRET_FIELDS = {"api_key", "generator_api_key"}

EMBEDDING = ("embedder", "models_dir", "threads", "embed_batch_size")
"""Loading the embedder (an index also records which one it was built with)."""
INDEXING = ("index_dir", *EMBEDDING, "corpus_dir", "max_file_mb")
"""Reading documents into an index."""
MODEL = (
    "generator",
    "generator_backend",
    "generator_base_url",
    "generator_model",
    "generator_api_key",
    "models_dir",
    "context_size",
    "threads",
)
"""Choosing and loading the generator."""
MODELS = (
    "models_dir",
    "generator",
    "embedder",
    "generator_backend",
    "generator_base_url",
    "generator_model",
)
"""The model registry and which models are active (`sovrag models`)."""
RETRIEVAL = ("index_dir", *EMBEDDING, "translate_queries", *MODEL)
"""Searching the index; translating a query runs the generator."""
ANSWERING = (
    *RETRIEVAL,
    "top_k",
    "max_tokens",
    "seed",
    "temperature",
    "verify",
    "verify_across_languages",
    "answer_in_sources_language",
)
"""Answering a question with citations."""
EVERYTHING = tuple(Settings.model_fields)
"""`sovrag serve`: the API and the UI answer, search, index and serve."""


def settings_parent(*groups: Iterable[str]) -> argparse.ArgumentParser:
    """Every setting as a flag; --help lists only those in `groups`, or all when none given."""
    listed = set().union(*groups) if groups else set(EVERYTHING)
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (override sovrag.toml and SOVRAG_* variables)")
    for name, info in Settings.model_fields.items():
        flags = [*_FLAG_ALIASES.get(name, []), "--" + name.replace("_", "-")]
        annotation = info.annotation
        kwargs: dict[str, Any] = {
            "dest": f"setting_{name}",
            "default": None,
            "help": info.description or name.replace("_", " "),
        }
        if annotation is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif get_origin(annotation) is Literal:
            kwargs["choices"] = list(get_args(annotation))
        elif annotation in (int, float):
            kwargs["type"] = annotation
        elif annotation is Path:
            kwargs["type"] = Path
            kwargs["metavar"] = "DIR"
        if name in _SECRET_FIELDS or name not in listed:
            kwargs["help"] = argparse.SUPPRESS
        group.add_argument(*flags, **kwargs)
    return parent


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        k.removeprefix("setting_"): v for k, v in vars(args).items() if k.startswith("setting_")
    }
    return load_settings(**overrides)


def runtime_from_args(args: argparse.Namespace):
    """The runtime for a command's settings flags."""
    from .runtime import Runtime

    return Runtime(settings_from_args(args))
