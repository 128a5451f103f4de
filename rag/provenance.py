"""Append-only provenance log of answers (SQLite with numbered migrations).

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
        record = {
            **record,
            "id": entry_id,
            "created_at": record.get("created_at")
            or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with self._lock:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry_id,
                    record["created_at"],
                    record["question"],
                    record.get("standalone_question", ""),
                    record.get("generation", ""),
                    record.get("model", {}).get("model", ""),
                    record.get("model", {}).get("sha256", ""),
                    record.get("prompt_version", ""),
                    record.get("answer", ""),
                    int(bool(record.get("abstained"))),
                    json.dumps(record, ensure_ascii=False),
                ),
            )
            self._db.commit()
        return entry_id

    def get(self, entry_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM answers WHERE id = ?", (entry_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def latest(self, n: int = 10) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM answers ORDER BY created_at DESC, rowid DESC LIMIT ?", (n,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]
