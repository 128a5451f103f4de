"""Append-only provenance log of answers (SQLite with numbered migrations), and `sovrag log`.

Each entry records what is needed to trace and replay an answer: question, rewritten question,
retrieved passage ids and scores, index generation, model name and file hash, generation
parameters and seed, prompt template version, answer, citations, verification and timings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

LOG_FILE = "provenance.sqlite"


def _m1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE answers (
            id TEXT PRIMARY KEY, created_at TEXT NOT NULL, question TEXT NOT NULL,
            standalone_question TEXT NOT NULL, generation TEXT NOT NULL, model TEXT NOT NULL,
            model_sha256 TEXT NOT NULL, prompt_version TEXT NOT NULL, answer TEXT NOT NULL,
            abstained INTEGER NOT NULL, record TEXT NOT NULL
        )"""
    )


MIGRATIONS = [_m1]
"""Schema changes, applied in order; the count applied is kept in `PRAGMA user_version`."""


class ProvenanceLog:
    """Thread-safe append-only log; one connection per process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, migrate in enumerate(MIGRATIONS[version:], start=version + 1):
                migrate(self._db)
                self._db.execute(f"PRAGMA user_version = {number}")
            self._db.commit()

    def append(self, record: dict[str, Any]) -> str:
        """Store one answer record; returns its new id."""
        entry_id = record.get("id") or uuid.uuid4().hex[:16]
        record = {**record, "id": entry_id,
                  "created_at": record.get("created_at") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with self._lock:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry_id, record["created_at"], record["question"], record.get("standalone_question", ""),
                 record.get("generation", ""), record.get("model", {}).get("model", ""),
                 record.get("model", {}).get("sha256", ""), record.get("prompt_version", ""),
                 record.get("answer", ""), int(bool(record.get("abstained"))),
                 json.dumps(record, ensure_ascii=False)),
            )
            self._db.commit()
        return entry_id

    def get(self, entry_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM answers WHERE id = ?", (entry_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def latest(self, n: int = 10) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM answers ORDER BY created_at DESC, rowid DESC LIMIT ?", (n,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]


def register_cli(sub, common) -> None:
    log = sub.add_parser("log", help="inspect and replay the provenance log of answers")
    lsub = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    p = lsub.add_parser("show", parents=[common], help="print an entry (by id) or the latest N")
    p.add_argument("entry", nargs="?", default="1", help="entry id, or a count of latest entries")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_show)
    p = lsub.add_parser("replay", parents=[common], help="re-run an entry and compare the answer")
    p.add_argument("entry")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_replay)


def _open(args):
    from .cli import settings_from_args
    from .runtime import Runtime

    return Runtime(settings_from_args(args))


def _cmd_show(args) -> int:
    from .errors import SovragError

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
        print(f"id {e['id']}  at {e['created_at']}  index {e.get('generation')}  "
              f"model {e.get('model', {}).get('model')} ({e.get('model', {}).get('sha256', '')[:12]})")
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
    from .errors import SovragError

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
