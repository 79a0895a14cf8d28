"""The kiosk's hand-off records: session summaries kept in SQLite for a short while.

:class:`RecordStore` keeps :class:`~voice_triage.core.summary.Summary` records
in SQLite (stdlib ``sqlite3``) and deletes every record older than the
retention period (default 24 hours) on each write and each read, so nothing
older can ever be shown.  Deleted rows are overwritten on disk
(``secure_delete``), a new database file is created readable by its owner
only, and no audio is ever stored.  Logs carry record ids and counts, never
answers.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..core.summary import Answer, CauseEntry, Summary
from ..core.summary import aware as _aware

log = logging.getLogger(__name__)

DEFAULT_RETENTION = timedelta(hours=24)

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    finished_ts REAL NOT NULL,
    finished_at TEXT NOT NULL,
    kiosk TEXT NOT NULL,
    locale TEXT NOT NULL,
    level TEXT NOT NULL,
    outcome TEXT NOT NULL,
    emergency INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_finished ON records (finished_ts);
"""
_COLUMNS = "id, finished_at, kiosk, locale, level, outcome, body"


def _body(summary: Summary) -> str:
    return json.dumps(
        {
            "red_flags": list(summary.red_flags),
            "causes": [list(cause) for cause in summary.causes],
            "answers": [list(answer) for answer in summary.answers],
        },
        ensure_ascii=False,
    )


def _summary(row: tuple[Any, ...]) -> Summary:
    record_id, finished_at, kiosk, locale, level, outcome, body = row
    data = json.loads(body)
    return Summary(
        kiosk=kiosk,
        finished_at=datetime.fromisoformat(finished_at),
        locale=locale,
        level=level,
        red_flags=tuple(data["red_flags"]),
        causes=tuple(CauseEntry(str(i), str(n), float(s)) for i, n, s in data["causes"]),
        answers=tuple(Answer(str(q), str(w), str(f), v) for q, w, f, v in data["answers"]),
        outcome=outcome,
        id=int(record_id),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RecordStore:
    """Hand-off records in SQLite, deleted once older than ``retention``.

    ``path`` is a file or ``":memory:"``.  One connection serves every thread
    behind a lock.  Every write and every read first purges expired records,
    so an expired record is never returned.  ``clock`` gives the time for
    :meth:`add` and :meth:`get` when no ``now`` is passed.
    """

    def __init__(
        self,
        path: str | Path = ":memory:",
        retention: timedelta = DEFAULT_RETENTION,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self.retention = retention
        self._clock = clock
        self._lock = threading.Lock()
        target = str(path)
        if target != ":memory:" and not target.startswith("file:"):
            file = Path(target)
            file.parent.mkdir(parents=True, exist_ok=True)
            if not file.exists():  # answers are health data: owner only
                os.close(os.open(file, os.O_WRONLY | os.O_CREAT, 0o600))
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._conn.execute("PRAGMA secure_delete = ON")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                self._conn.close()
                raise RuntimeError(f"record database {target} is schema {version}, newer than {_SCHEMA_VERSION}")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    # --------------------------------------------------------------- public

    def add(self, summary: Summary, now: datetime | None = None) -> int:
        """Store a summary; return its id."""
        with self._transaction() as conn:
            self._purge(conn, self._now(now), self.retention)
            cursor = conn.execute(
                "INSERT INTO records (finished_ts, finished_at, kiosk, locale, level, outcome, emergency, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    summary.finished_at.timestamp(),
                    summary.finished_at.isoformat(),
                    summary.kiosk,
                    summary.locale,
                    summary.level,
                    summary.outcome,
                    int(summary.emergency),
                    _body(summary),
                ),
            )
            record_id = cursor.lastrowid
        assert record_id is not None
        log.info("hand-off record %d stored (%s)", record_id, summary.outcome)
        return record_id

    def today(self, now: datetime) -> list[Summary]:
        """Today's records, emergencies first, then newest first.

        "Today" starts at midnight in ``now``'s own time zone: pass the
        kiosk's local time (``datetime.now().astimezone()``).
        """
        _aware(now)
        midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        return self.since(midnight, now)

    def since(self, start: datetime, now: datetime) -> list[Summary]:
        """Records finished at or after ``start``, emergencies first, then newest first."""
        _aware(start, "start")
        with self._transaction() as conn:
            self._purge(conn, _aware(now), self.retention)
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE finished_ts >= ?"
                " ORDER BY emergency DESC, finished_ts DESC, id DESC",
                (start.timestamp(),),
            ).fetchall()
        return [_summary(row) for row in rows]

    def get(self, record_id: int, now: datetime | None = None) -> Summary | None:
        """One record, or None if there is none (or it has expired)."""
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise TypeError(f"a record id is an int, not {type(record_id).__name__}")
        with self._transaction() as conn:
            self._purge(conn, self._now(now), self.retention)
            row = conn.execute(f"SELECT {_COLUMNS} FROM records WHERE id = ?", (record_id,)).fetchone()
        return _summary(row) if row is not None else None

    def purge(self, now: datetime, retention: timedelta | None = None) -> int:
        """Delete records finished more than ``retention`` (the store's, by default) before ``now``."""
        with self._transaction() as conn:
            return self._purge(conn, _aware(now), retention or self.retention)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ internals

    def _now(self, now: datetime | None) -> datetime:
        return _aware(now if now is not None else self._clock())

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _purge(conn: sqlite3.Connection, now: datetime, retention: timedelta) -> int:
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        cutoff = (now - retention).timestamp()
        deleted = conn.execute("DELETE FROM records WHERE finished_ts < ?", (cutoff,)).rowcount
        if deleted:
            log.info("purged %d hand-off record(s) older than %s", deleted, retention)
        return int(deleted)
