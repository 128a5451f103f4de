"""Settings as command-line flags, shared by every `sovrag` sub-command module.

Flags are generated from the settings model, so every setting can be given as a flag
(`--top-k 8`), an environment variable (`SOVRAG_TOP_K=8`) or a key in sovrag.toml. Sub-command
modules import this, never `rag.cli`, which imports them to register their commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from .config import Settings, load_settings

_FLAG_ALIASES = {"index_dir": ["--index"], "corpus_dir": ["--corpus"], "models_dir": ["--models"]}
_SECRET_FIELDS = {"api_key", "generator_api_key"}


def settings_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (override sovrag.toml and SOVRAG_* variables)")
    for name, info in Settings.model_fields.items():
        flags = [*_FLAG_ALIASES.get(name, []), "--" + name.replace("_", "-")]
        annotation = info.annotation
        kwargs: dict[str, Any] = {"dest": f"setting_{name}", "default": None,
                                  "help": info.description or name.replace("_", " ")}
        if annotation is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif get_origin(annotation) is Literal:
            kwargs["choices"] = list(get_args(annotation))
        elif annotation in (int, float):
            kwargs["type"] = annotation
        elif annotation is Path:
            kwargs["type"] = Path
            kwargs["metavar"] = "DIR"
        if name in _SECRET_FIELDS:
            kwargs["help"] = argparse.SUPPRESS
        group.add_argument(*flags, **kwargs)
    return parent


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {k.removeprefix("setting_"): v for k, v in vars(args).items()
                 if k.startswith("setting_")}
    return load_settings(**overrides)


def runtime_from_args(args: argparse.Namespace):
    """The runtime for a command's settings flags."""
    from .runtime import Runtime

    return Runtime(settings_from_args(args))
