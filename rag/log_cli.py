"""`sovrag log show|replay`: reading the provenance log of answers and replaying an entry.

The log itself is `rag.provenance`; this module only prints it, so the log depends on nothing
of the command line or the assistant.
"""

from __future__ import annotations

import json

from .cli_settings import ANSWERING, runtime_from_args, settings_parent
from .errors import SovragError


def register_cli(sub) -> None:
    log = sub.add_parser("log", help="inspect and replay the provenance log of answers")
    lsub = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    p = lsub.add_parser(
        "show",
        parents=[settings_parent(("index_dir",))],
        help="print an entry (by id) or the latest N",
    )
    p.add_argument("entry", nargs="?", default="1", help="entry id, or a count of latest entries")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_show)
    p = lsub.add_parser(
        "replay",
        parents=[settings_parent(ANSWERING)],
        help="re-run an entry and compare the answer",
    )
    p.add_argument("entry")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_replay)


def _open(args):
    return runtime_from_args(args)


def _cmd_show(args) -> int:
    runtime = _open(args)
    log = runtime.provenance
    entries = [log.get(args.entry)] if not args.entry.isdigit() else log.latest(int(args.entry))
    entries = [e for e in entries if e]
    if not entries:
        raise SovragError(f"No log entry '{args.entry}' in {log.path}.")
    if args.json:
        print(json.dumps(entries if len(entries) > 1 else entries[0], indent=2, ensure_ascii=False))
        return 0
    for e in entries:
        model = e.get("model", {})
        print(
            f"id {e['id']}  at {e['created_at']}  index {e.get('generation')}  "
            f"model {model.get('model')} ({model.get('sha256', '')[:12]})"
        )
        print(f"  question:  {e['question']}")
        if e.get("standalone_question") and e["standalone_question"] != e["question"]:
            print(f"  rewritten: {e['standalone_question']}")
        print(f"  answer:    {e['answer']}")
        for c in e.get("citations", []):
            print(f"    [{c['n']}] {c['doc']} — {c['locator']}")
        print(f"  params: {json.dumps(e.get('params'))}  prompt {e.get('prompt_version')}")
        print()
    return 0


def _cmd_replay(args) -> int:
    from .assistant import Assistant

    runtime = _open(args)
    entry = runtime.provenance.get(args.entry)
    if entry is None:
        raise SovragError(f"No log entry '{args.entry}' in {runtime.provenance.path}.")
    result = Assistant(runtime).replay(entry)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print("identical" if result["identical"] else "DIFFERENT")
        for key, note in result.get("notes", {}).items():
            print(f"  {key}: {note}")
        if not result["identical"]:
            print(f"  logged:   {result['logged_answer']}")
            print(f"  replayed: {result['replayed_answer']}")
    return 0 if result["identical"] else 1
