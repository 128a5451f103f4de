"""The one settings model: defaults < sovrag.toml < SOVRAG_* environment < CLI flags.

Relative paths are resolved against the project root (the folder holding `corpus/`, `index/`,
`models/`), so the app works the same from any working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE_NAME = "sovrag.toml"

TOP_K_MIN, TOP_K_MAX = 1, 8
"""Passages given to the model per answer: the one bound the settings, the API, the UI slider and
`sovrag ask -k` all apply. 8 of the longest passages (~420 tokens each) still fit a 4096-token
context with the instructions and the answer; more can overflow it, which the model reports as
a crash."""


def config_file() -> Path:
    """Where sovrag.toml is read from and written to: $SOVRAG_CONFIG, ./sovrag.toml, or the project's."""
    explicit = os.environ.get("SOVRAG_CONFIG")
    if explicit:
        return Path(explicit)
    local = Path.cwd() / CONFIG_FILE_NAME
    if local.exists():
        return local
    return PROJECT_ROOT / CONFIG_FILE_NAME


class Settings(BaseSettings):
    """Every tunable of the product, defined once; CLI flags and env names follow from these fields."""

    model_config = SettingsConfigDict(env_prefix="SOVRAG_", extra="ignore", validate_default=True)

    index_dir: Path = Field(Path("index"), description="Directory holding the on-disk index")
    corpus_dir: Path = Field(
        Path("corpus"), description="Default document folder for `index build`"
    )
    models_dir: Path = Field(Path("models"), description="Registry file and assembled GGUF files")
    generator: str = Field("qwen2.5-coder-1.5b", description="Generator model id or GGUF path")
    embedder: str = Field("minilm-l6-sovrag-1", description="Embedder model id or folder path")
    generator_backend: Literal["llamacpp", "openai"] = "llamacpp"
    generator_base_url: str = "http://127.0.0.1:8080/v1"
    generator_model: str = ""
    generator_api_key: str = ""
    context_size: int = Field(4096, ge=512, le=131072)
    threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1)
    max_tokens: int = Field(320, ge=16, le=4096, description="Answer length cap in tokens")
    top_k: int = Field(5, ge=TOP_K_MIN, le=TOP_K_MAX, description="Passages given to the generator")
    seed: int = 42
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    api_key: str = ""
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are skipped")
    embed_batch_size: int = Field(64, ge=1)
    verify: bool = True
    answer_mode: Literal["draft", "evidence"] = Field(
        "draft",
        description="draft: the model writes the answer; evidence: it points at the passage "
        "sentences that answer, which are quoted",
    )
    evidence_sentences: int = Field(
        10, ge=2, le=30, description="Candidate sentences shown in evidence mode"
    )
    prompt_sentences: int = Field(
        0,
        ge=0,
        le=60,
        description="Draft from this many sentences of the passages "
        "(chosen as in evidence mode); 0: whole passages",
    )
    translate_queries: bool = True
    verify_across_languages: bool = Field(
        True,
        description="Translate answer sentences into the sources' language before checking them",
    )
    answer_in_sources_language: bool = Field(
        True,
        description="Answer a question in another language than its passages in theirs (through "
        "the query translation), check it there, then translate the checked sentences back",
    )

    @field_validator("index_dir", "corpus_dir", "models_dir")
    @classmethod
    def _anchor(cls, value: Path) -> Path:
        value = Path(value).expanduser()
        return value if value.is_absolute() else PROJECT_ROOT / value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI-level overrides; `None` values mean "flag not given" and are dropped."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def write_config_value(key: str, value: Any) -> Path:
    """Set one top-level key in sovrag.toml, keeping the other keys (used by `models use`)."""
    import tomllib

    path = config_file()
    data: dict[str, Any] = tomllib.loads(path.read_text("utf-8")) if path.exists() else {}
    data[key] = value
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
