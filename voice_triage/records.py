"""The hand-off record: a finished session as a summary for staff, kept for a short while.

``summarize`` turns a finished :class:`~voice_triage.dialogue.Dialogue` into a
:class:`Summary`: the urgency level, the red flags that fired, the three most
likely causes in the content's plain names, and every answer in the words
the kiosk says them ("yes", "I don't know", "6", "14 days").

:class:`RecordStore` keeps summaries in SQLite (stdlib ``sqlite3``) and
deletes every record older than the retention period (default 24 hours) on
each write and each read, so nothing older can ever be shown.  Deleted rows
are overwritten on disk (``secure_delete``), a new database file is created
readable by its owner only, and no audio is ever stored.  Logs carry record
ids and counts, never answers.

A summary is not a diagnosis: it records what the person answered and what
the kiosk advised.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from .content import Content, Question
from .contract import AnswerType, Value
from .dialogue import Dialogue
from .engine import triage

log = logging.getLogger(__name__)

DEFAULT_RETENTION = timedelta(hours=24)
EMERGENCY = "emergency"  # the contract's most urgent level, and the dialogue's outcome for a red flag
OUTCOMES = ("finished", "emergency", "stopped")
TOP_CAUSES = 3

# How a number answer is said, by locale and the question's unit: (one, many).
# The content has no words for units, so they live here; other locales fall
# back to "<number> <unit>".
UNIT_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {"days": ("{n} day", "{n} days"), "years": ("{n} year", "{n} years")},
    "ko": {"days": ("{n}일", "{n}일"), "years": ("{n}세", "{n}세")},
}


class CauseEntry(NamedTuple):
    id: str
    name: str  # the content's plain name
    score: float


class Answer(NamedTuple):
    """One answered question.  ``question`` and ``words`` are for people; ``fact`` and ``value`` for export."""

    question: str  # the question as the kiosk asked it
    words: str  # the answer as the kiosk says it
    fact: str  # the fact id (the question id)
    value: Value  # the answer as the engine saw it


@dataclass(frozen=True)
class Summary:
    kiosk: str
    finished_at: datetime  # aware, UTC
    locale: str
    level: str
    red_flags: tuple[str, ...]  # ids of the red-flag rules that fired
    causes: tuple[CauseEntry, ...]  # the most likely first
    answers: tuple[Answer, ...]  # in the order they were given
    outcome: str  # "finished" | "emergency" | "stopped"
    id: int | None = None  # set once stored

    def __post_init__(self) -> None:
        if self.finished_at.tzinfo is None or self.finished_at.utcoffset() is None:
            raise ValueError("finished_at must be an aware datetime")
        if self.finished_at.utcoffset() != timedelta(0):
            object.__setattr__(self, "finished_at", self.finished_at.astimezone(UTC))
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")

    @property
    def emergency(self) -> bool:
        return self.level == EMERGENCY or self.outcome == EMERGENCY or bool(self.red_flags)


def _aware(now: datetime, what: str = "now") -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (e.g. datetime.now(UTC))")
    return now


def answer_words(question: Question, value: Value, content: Content) -> str:
    """An answer as the kiosk says it: "yes", "I don't know", "6", "14 days"."""
    if isinstance(value, str):
        return content.messages.answer_words.get(value, value)
    number = round(float(value), 2)
    text = f"{number:g}"
    if question.type is not AnswerType.NUMBER:
        return text
    one, many = UNIT_WORDS.get(content.locale, {}).get(question.unit, ("{n} " + question.unit,) * 2)
    return (one if number == 1 else many).format(n=text)


def summarize(dialogue: Dialogue, content: Content, kiosk_name: str, now: datetime) -> Summary:
    """The hand-off summary of a session.

    A session that ended without a result (stopped, or abandoned before the
    end) is recorded as "stopped", with the level its answers so far give:
    the engine never lets a missing or "I don't know" answer lower urgency,
    but staff should read such a level as incomplete.
    """
    finished_at = _aware(now).astimezone(UTC)
    result = dialogue.result or triage(content, dialogue.answers)
    outcome = dialogue.outcome or "stopped"
    names = {cause.id: cause.name for cause in content.causes}
    causes = tuple(CauseEntry(c.id, names.get(c.id, c.id), c.score) for c in result.causes[:TOP_CAUSES])
    answers: list[Answer] = []
    for fact, value in dialogue.answers.items():  # in the order given ("back" removes an answer)
        question = content.question(fact)
        answers.append(Answer(question.text, answer_words(question, value, content), fact, value))
    return Summary(
        kiosk=kiosk_name,
        finished_at=finished_at,
        locale=content.locale,
        level=result.level,
        red_flags=result.red_flags,
        causes=causes,
        answers=tuple(answers),
        outcome=outcome,
    )


# ------------------------------------------------------------------ storage

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
