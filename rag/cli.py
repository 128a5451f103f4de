"""`sovrag` command line: index, search, ask, serve, eval, models, log.

Settings flags are generated from the settings model, so every setting can be given as a flag
(`--top-k 8`), an environment variable (`SOVRAG_TOP_K=8`) or a key in sovrag.toml.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .cli_settings import (
    ANSWERING,
    EVERYTHING,
    INDEXING,
    RETRIEVAL,
    runtime_from_args,
    settings_from_args,
    settings_parent,
)
from .config import TOP_K_MAX, TOP_K_MIN
from .errors import SovragError
from .identity import ActIdentity


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sovrag", description="Local, cited answers over EU legislation."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = sub.add_parser("index", help="build, update, inspect the index")
    isub = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    indexing = settings_parent(INDEXING)
    p = isub.add_parser("build", parents=[indexing], help="(re)build the index from a folder")
    p.set_defaults(func=cmd_index_build)
    p = isub.add_parser(
        "update", parents=[indexing], help="index new/changed files, drop deleted ones"
    )
    p.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: the corpus folder)"
    )
    p.set_defaults(func=cmd_index_update)
    p = isub.add_parser("remove", parents=[indexing], help="remove documents from the index")
    p.add_argument("docs", nargs="+", help="document ids as shown by `index status`")
    p.set_defaults(func=cmd_index_remove)
    p = isub.add_parser(
        "status", parents=[settings_parent(("index_dir", "embedder"))], help="what the index holds"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_index_status)

    p = sub.add_parser(
        "search", parents=[settings_parent(RETRIEVAL)], help="retrieve passages for a question"
    )
    p.add_argument("question")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--doc", action="append", default=[], help="only this document (repeatable)")
    p.add_argument("--lang", action="append", default=[], help="only documents in this language")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "ask", parents=[settings_parent(ANSWERING)], help="answer a question with citations"
    )
    p.add_argument("question")
    p.add_argument(
        "-k",
        type=_top_k,
        default=None,
        help=f"passages given to the model ({TOP_K_MIN}-{TOP_K_MAX})",
    )
    p.add_argument("--doc", action="append", default=[])
    p.add_argument("--lang", action="append", default=[])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "serve", parents=[settings_parent(EVERYTHING)], help="start the HTTP API and the web UI"
    )
    p.set_defaults(func=cmd_serve)

    _register_module_commands(sub)
    return parser


def _register_module_commands(sub) -> None:
    """Commands living in their own modules: eval, models, log."""
    from . import evaluation, log_cli, model_cli

    for module in (evaluation, model_cli, log_cli):
        module.register_cli(sub)


def _top_k(value: str) -> int:
    """`ask -k`, bounded like the `top_k` setting and the API's `k`."""
    k = int(value)
    if not TOP_K_MIN <= k <= TOP_K_MAX:
        raise argparse.ArgumentTypeError(f"must be between {TOP_K_MIN} and {TOP_K_MAX}, not {k}")
    return k


def _runtime(args):
    return runtime_from_args(args)


def _filters(args):
    from .retrieval import SearchFilters

    if not args.doc and not args.lang:
        return None
    return SearchFilters(docs=args.doc, langs=args.lang)


def _print_report(report) -> None:
    for doc_id, reason in report.skipped:
        print(f"skipped: {doc_id} — {reason}", file=sys.stderr)
    print(report.summary())


def _library(args):
    """The document library, reporting progress on the terminal."""
    from .library import DocumentLibrary

    return DocumentLibrary(_runtime(args), verbose=True)


def cmd_index_build(args) -> int:
    library = _library(args)
    corpus = library.settings.corpus_dir
    if not corpus.is_dir():
        raise SovragError(
            f"Corpus folder not found: {corpus} (set --corpus DIR or SOVRAG_CORPUS_DIR)."
        )
    sources = library.sources()
    if len(sources) > 1:
        print(
            f"Also indexing the documents uploaded through the API ({sources[1]}).", file=sys.stderr
        )
    report = library.rebuild()
    _print_report(report)
    return 1 if report.skipped else 0


def cmd_index_update(args) -> int:
    library = _library(args)
    report = library.update(args.paths or [library.settings.corpus_dir])
    _print_report(report)
    return 1 if report.skipped else 0


def cmd_index_remove(args) -> int:
    report = _library(args).remove(args.docs)
    _print_report(report)
    return 0


def cmd_index_status(args) -> int:
    status = _library(args).status()
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return 0
    print(f"index:      {status['index_dir']}")
    print(f"generation: {status['generation']} (built {status['created_at']})")
    print(f"embedder:   {status['embedder']} ({status['dimension']} dimensions)")
    sentences = (
        status["sentences"]
        if status["sentences"] is not None
        else "none (written by an older sovrag: `sovrag index build` adds them)"
    )
    print(
        f"documents:  {status['documents']}    passages: {status['passages']}    "
        f"sentence vectors: {sentences}    size: {status['size_bytes'] / 1e6:.1f} MB"
    )
    for d in status["document_list"]:
        print(f"  {d['id']:<45} {d['lang']}  {d['passages']:>5} passages  {d['title'][:60]}")
        if d.get("act"):
            act = ActIdentity.from_dict(d["act"])
            print(f"  {'':<45}     {act.designation}, {act.edition()}")
    return 0


def cmd_search(args) -> int:
    rt = _runtime(args)
    hits = rt.retriever().search(args.question, k=args.k, filters=_filters(args))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "doc": h.chunk.doc,
                        "locator": h.chunk.locator,
                        "text": h.chunk.text,
                        "score": round(h.score, 6),
                    }
                    for h in hits
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    if not hits:
        print("No passages found.")
    for rank, hit in enumerate(hits, start=1):
        text = " ".join(hit.chunk.text.split())
        print(
            f"{rank:>2}. [{hit.score:.4f}] {hit.doc_title} — {hit.chunk.locator}  ({hit.chunk.doc})"
        )
        print(f"    {text[:300]}{'…' if len(text) > 300 else ''}")
    return 0


def cmd_ask(args) -> int:
    from .assistant import Assistant, Delta

    rt = _runtime(args)
    assistant = Assistant(rt)
    if args.json:
        answer = assistant.answer(args.question, k=args.k, filters=_filters(args))
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    answer = None
    streamed = False
    for event in assistant.stream(args.question, k=args.k, filters=_filters(args)):
        if isinstance(event, Delta):
            print(event.text, end="", flush=True)
            streamed = True
        else:
            answer = event
    if streamed:
        print("\n")
    print_answer(answer, show_text=not streamed or answer.abstained)
    return 0


def print_answer(answer, show_text: bool = True) -> None:
    if show_text:
        print(answer.text)
        print()
    unsupported = [s for s in answer.sentences if s.supported is False]
    for sentence in unsupported:
        print(f"! not supported by its sources: {sentence.text}")
    if answer.abstained:
        if answer.passages:
            print("Possibly related:")
            for hit in answer.passages[:3]:
                print(f"  - {hit.doc_title} — {hit.chunk.locator} ({hit.chunk.doc})")
        return
    print("Sources:")
    for c in answer.citations:
        quote = f' — "{c.quote}"' if c.quote else ""
        print(f"  [{c.n}] {c.title} — {c.locator} ({c.doc}){quote}")


def cmd_serve(args) -> int:
    from .server import serve

    explicit_host = args.setting_host is not None
    return serve(settings_from_args(args), explicit_host=explicit_host)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    from pydantic import ValidationError

    try:
        return func(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"error: invalid setting — {problems}", file=sys.stderr)
        return 2
    except SovragError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
