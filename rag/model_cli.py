"""`sovrag models list|verify|use|add`: choosing, checking and registering generator models.

Registered from `rag.cli` through `register_cli`; all work is done by `rag.models`, this module
only parses arguments and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelError

_SHA_LABEL = {
    "verified": "verified",
    "mismatch": "MISMATCH",
    "unchecked": "not checked",
    "parts": "not assembled",
    "derived": "fine-tuned on first use",
    "no-reference": "no reference",
    "n/a": "-",
}


def register_cli(sub: Any) -> None:
    from .cli_settings import MODELS, settings_parent

    common = settings_parent(MODELS)
    models = sub.add_parser("models", help="list, verify, choose and add models")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    p = msub.add_parser("list", parents=[common], help="known models: installed, available, active")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_list)

    p = msub.add_parser(
        "verify", parents=[common], help="re-hash model files and compare with the registry"
    )
    p.add_argument(
        "ids", nargs="*", metavar="ID", help="model ids (default: every installed model)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_verify)

    p = msub.add_parser(
        "use", parents=[common], help="make a model id or GGUF file the generator (sovrag.toml)"
    )
    p.add_argument("model", metavar="ID|PATH")
    p.set_defaults(func=cmd_models_use)

    p = msub.add_parser(
        "add", parents=[common], help="register a GGUF file (reads its metadata, hashes it)"
    )
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument(
        "--id",
        dest="model_id",
        default=None,
        help="id to register it under (default: from the file name); a fetch-yourself "
        "registry id keeps that entry's licence and origin",
    )
    p.add_argument("--use", action="store_true", help="also make it the generator")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_add)


def _settings(args: argparse.Namespace):
    from .cli_settings import settings_from_args

    return settings_from_args(args)


def _size(n: Any) -> str:
    if not isinstance(n, int) or n <= 0:
        return "-"
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def model_rows(settings) -> list[dict[str, Any]]:
    """One dict per registry entry, with its state here; shared by the CLI and (later) HTTP."""
    from .models import is_active, load_registry, model_state

    rows = []
    for entry in load_registry(settings.models_dir).values():
        state = model_state(entry, settings.models_dir)
        if entry.kind == "embedder":
            active = is_active(entry, settings.embedder, settings.models_dir)
        else:
            active = settings.generator_backend == "llamacpp" and is_active(
                entry, settings.generator, settings.models_dir
            )
        extra = entry.extra
        rows.append(
            {
                "id": entry.id,
                "kind": entry.kind,
                "name": extra.get("name", ""),
                "installed": state.installed,
                "active": active,
                "source": entry.source,
                "path": str(state.path) if state.path else None,
                "size": entry.size,
                "params": extra.get("params", ""),
                "quantisation": extra.get("quantisation", ""),
                "context_length": extra.get("context_length"),
                "licence": extra.get("licence", ""),
                "origin": extra.get("origin", ""),
                "country": extra.get("country", ""),
                "sha256": entry.sha256,
                "sha256_state": state.sha256_state,
                "how_to_install": state.hint,
            }
        )
    return rows


def cmd_models_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = model_rows(settings)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    header = (
        "",
        "ID",
        "KIND",
        "STATE",
        "SHA256",
        "SIZE",
        "PARAMS",
        "QUANT",
        "CONTEXT",
        "LICENCE",
        "ORIGIN",
    )
    table = [header]
    for r in rows:
        origin = r["origin"].split(" (")[0]
        if r["country"]:
            origin = f"{origin} ({r['country']})"
        table.append(
            (
                "*" if r["active"] else "",
                r["id"],
                r["kind"],
                "installed" if r["installed"] else "available",
                _SHA_LABEL.get(r["sha256_state"], r["sha256_state"]),
                _size(r["size"]),
                r["params"] or "-",
                r["quantisation"] or "-",
                str(r["context_length"] or "-"),
                r["licence"] or "-",
                origin or "-",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    print()
    print(
        "* = active.  `sovrag models verify` checks hashes, `sovrag models use ID` switches, "
        "`sovrag models add FILE.gguf` registers your own file."
    )
    if settings.generator_backend == "openai":
        print(
            f"Generator backend is 'openai': answers come from {settings.generator_base_url} "
            f"(model '{settings.generator_model or settings.generator}')."
        )
    for r in rows:
        if not r["installed"] and r["how_to_install"]:
            print(f"  {r['id']}: {r['how_to_install']}")
    return 0


def _progress_factory() -> Callable[[str, int], Callable[[int], None]]:
    from tqdm import tqdm

    bars = []

    def make(label: str, total: int) -> Callable[[int], None]:
        for old in bars:
            old.close()
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=f"Hashing {label}",
            leave=False,
            file=sys.stderr,
        )
        bars.append(bar)
        return bar.update

    return make


def cmd_models_verify(args: argparse.Namespace) -> int:
    from .models import load_registry, model_state, verify_model

    settings = _settings(args)
    registry = load_registry(settings.models_dir)
    unknown = [i for i in args.ids if i not in registry]
    if unknown:
        raise ModelError(f"Unknown model id(s): {', '.join(unknown)}. See `sovrag models list`.")
    if args.ids:
        entries = [registry[i] for i in args.ids]
    else:
        entries = [
            e
            for e in registry.values()
            if e.source != "pip-folder" and model_state(e, settings.models_dir).installed
        ]
    progress = None if args.json else _progress_factory()
    results, failed = [], False
    for entry in entries:
        result = verify_model(entry, settings.models_dir, progress)
        failed |= bool(result.expected) and not result.ok
        results.append(result)
        if not args.json:
            if not result.expected:
                verdict = f"no reference hash; sha256 is {result.actual}"
            elif result.ok:
                verdict = "ok"
            else:
                verdict = (
                    f"MISMATCH: sha256 {result.actual}, expected {result.expected}; the file is "
                    "damaged or not this model — delete it (or reinstall its packages)"
                )
            print(f"{entry.id:<28} {verdict}  ({result.path})")
    if args.json:
        print(json.dumps([{**vars(r), "ok": r.ok} for r in results], indent=2))
    return 1 if failed else 0


def cmd_models_use(args: argparse.Namespace) -> int:
    from .config import write_config_value
    from .models import load_registry, resolve_generator

    settings = _settings(args)
    spec = args.model
    registry = load_registry(settings.models_dir)
    if spec in registry and registry[spec].kind != "generator":
        raise ModelError(f"'{spec}' is an {registry[spec].kind}, not a generator model.")
    path = resolve_generator(
        spec, settings.models_dir
    )  # assembles + verifies; fails before writing
    value = spec if spec in registry else str(path.resolve())
    written = write_config_value("generator", value)
    print(f"generator = {value!r} written to {written}")
    if settings.generator_backend == "openai":
        print(
            f"note: the generator backend is 'openai' ({settings.generator_base_url}); this file is "
            "used only when generator_backend is 'llamacpp'."
        )
    return 0


def cmd_models_add(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .config import write_config_value
    from .models import add_local_model

    settings = _settings(args)
    path = args.path.expanduser()
    if not path.is_file():
        raise ModelError(f"Model file not found: {path}")
    if not args.json:
        print(f"reading the metadata of {path.name} …", file=sys.stderr)
    bars: list[Any] = []

    def tick(n: int) -> None:
        # Created on the first chunk, so the bar measures hashing, not the metadata read.
        if not bars:
            bars.append(
                tqdm(
                    total=path.stat().st_size,
                    unit="B",
                    unit_scale=True,
                    leave=False,
                    desc=f"Hashing {path.name}",
                    file=sys.stderr,
                    disable=args.json,
                )
            )
        bars[0].update(n)

    try:
        entry = add_local_model(path, settings.models_dir, args.model_id, tick)
    finally:
        for bar in bars:
            bar.close()
    if args.use:
        write_config_value("generator", entry.id)
    if args.json:
        print(
            json.dumps(
                {"id": entry.id, "sha256": entry.sha256, "size": entry.size, **entry.extra},
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    _print_registered(entry, settings.models_dir, args.use)
    return 0


def _print_registered(entry: Any, models_dir: Path, used: bool) -> None:
    """What `models add` registered, for a reader."""
    x = entry.extra
    print(f"registered '{entry.id}' in {models_dir / 'local.toml'}")
    print(f"  file:          {x['path']} ({_size(entry.size)})")
    print(f"  sha256:        {entry.sha256}")
    print(
        f"  architecture:  {x.get('architecture')}   parameters: {x.get('params')} "
        f"({x.get('param_count'):,} tensor elements)"
    )
    print(
        f"  quantisation:  {x.get('quantisation') or '-'}   context length: {x.get('context_length') or '-'}"
    )
    print(
        f"  chat template: {'yes' if x.get('chat_template') else 'NO — chat answers will need a template'}"
    )
    print(f"  licence:       {x.get('licence') or '-'}   origin: {x.get('origin') or '-'}")
    print(
        f"use it with `sovrag models use {entry.id}`"
        if not used
        else f"generator = '{entry.id}' written to sovrag.toml"
    )
