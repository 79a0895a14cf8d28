"""The kiosk's hand-off records: session summaries kept in SQLite for a short while.

:class:`RecordStore` keeps :class:`~voice_triage.core.summary.Summary` records
in SQLite (stdlib ``sqlite3``) and deletes every record older than the
retention period (default 24 hours) on each write and each read, so nothing
older can ever be shown.  Deleted rows are overwritten on disk
(``secure_delete``), a new database file is created readable by its owner
only, and no audio is ever stored.  Logs carry record ids and counts, never
answers.  Each record has a random ``uid``, so a record stored twice (a retry
after a write that did land) is kept once.

:class:`RecordKeeper` is what the kiosk stores through: it never drops a
record.  One that cannot be written (disk full, folder or file not writable,
database removed) is kept in memory and, when it can be, as a file in the
spool folder beside the database (``<database>.spool/``, owner only), and is
retried every few seconds, also after a restart.  It notices, at start-up and
while running, that the database file was removed or replaced: a file removed
while the kiosk runs is made again from the kiosk's open copy, and the
records of a replaced one are copied into the new file.  Staff see the
backlog in one sentence and every such event as a notice; the alert channels
are told (levels ``records_unsaved``, ``records_saved``, ``database_removed``,
``database_replaced``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import sqlite3
import threading
import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..core.summary import Answer, CauseEntry, Summary
from ..core.summary import aware as _aware

log = logging.getLogger(__name__)

DEFAULT_RETENTION = timedelta(hours=24)
MAX_ID = 2**63 - 1  # SQLite's largest integer: no record has a larger id

_SCHEMA_VERSION = 2  # 2: records.uid and the meta table (the database's identity)
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
    body TEXT NOT NULL,
    uid TEXT
);
CREATE INDEX IF NOT EXISTS records_finished ON records (finished_ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = "id, finished_at, kiosk, locale, level, outcome, body"
_COPY_COLUMNS = "finished_ts, finished_at, kiosk, locale, level, outcome, emergency, body, uid"


def _body(summary: Summary) -> str:
    return json.dumps(
        {
            "red_flags": list(summary.red_flags),
            "causes": [list(cause) for cause in summary.causes],
            "because": list(summary.because),
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
        because=tuple(str(b) for b in data.get("because", ())),  # records from before it have none
        answers=tuple(Answer(str(q), str(w), str(f), v) for q, w, f, v in data["answers"]),
        outcome=outcome,
        id=int(record_id),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RecordStore:
    """Hand-off records in SQLite, deleted once older than ``retention``.

    ``path`` is a file or ``":memory:"``.  One connection serves every thread
    behind a lock.  Every write and every read first purges expired records
    (a read still works, and still hides expired records, when the purge
    cannot be written).  ``clock`` gives the time for :meth:`add` and
    :meth:`get` when no ``now`` is passed.
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
        self.target = target
        self.file: Path | None = None
        self.created = False  # the file did not exist before this store opened it
        self._file_id: tuple[int, int] | None = None
        if target != ":memory:" and not target.startswith("file:"):
            self.file = Path(target)
            self.created = not self.file.exists()
        self._conn = self._connect()

    # --------------------------------------------------------------- public

    def add(self, summary: Summary, now: datetime | None = None, uid: str | None = None) -> int:
        """Store a summary; return its id.  A ``uid`` already stored is not stored again (its id is returned)."""
        uid = uid or secrets.token_hex(16)
        with self._transaction() as conn:
            self._purge(conn, self._now(now), self.retention)
            cursor = conn.execute(
                f"INSERT OR IGNORE INTO records ({_COPY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    summary.finished_at.timestamp(),
                    summary.finished_at.isoformat(),
                    summary.kiosk,
                    summary.locale,
                    summary.level,
                    summary.outcome,
                    int(summary.emergency),
                    _body(summary),
                    uid,
                ),
            )
            if cursor.rowcount:
                record_id = cursor.lastrowid
            else:
                record_id = conn.execute("SELECT id FROM records WHERE uid = ?", (uid,)).fetchone()[0]
        assert record_id is not None
        log.info("hand-off record %d stored (%s)", record_id, summary.outcome)
        return int(record_id)

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
        cutoff = self._purge_for_read(_aware(now))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE finished_ts >= ? AND finished_ts >= ?"
                " ORDER BY emergency DESC, finished_ts DESC, id DESC",
                (start.timestamp(), cutoff),
            ).fetchall()
        return [_summary(row) for row in rows]

    def get(self, record_id: int, now: datetime | None = None) -> Summary | None:
        """One record, or None if there is none (or it has expired)."""
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise TypeError(f"a record id is an int, not {type(record_id).__name__}")
        if not 0 < record_id <= MAX_ID:
            return None
        cutoff = self._purge_for_read(self._now(now))
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE id = ? AND finished_ts >= ?", (record_id, cutoff)
            ).fetchone()
        return _summary(row) if row is not None else None

    def purge(self, now: datetime, retention: timedelta | None = None) -> int:
        """Delete records finished more than ``retention`` (the store's, by default) before ``now``."""
        with self._transaction() as conn:
            return self._purge(conn, _aware(now), retention or self.retention)

    def count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def count_today(self, now: datetime) -> int:
        """How many records :meth:`today` would list, without reading them."""
        _aware(now)
        midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
        cutoff = self._purge_for_read(now)
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM records WHERE finished_ts >= ? AND finished_ts >= ?",
                (midnight.timestamp(), cutoff),
            ).fetchone()
        return int(row[0])

    def identity(self) -> str:
        """The database's own random id (kept in it since it was made)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchone()
        return str(row[0]) if row else ""

    def file_state(self) -> str | None:
        """None while the path still holds the file this store opened; else "removed" or "replaced"."""
        if self.file is None or self._file_id is None:
            return None
        try:
            st = os.stat(self.file)
        except FileNotFoundError:
            return "removed"
        except OSError:  # cannot look (a folder made unreadable): nothing to say
            return None
        return None if (st.st_dev, st.st_ino) == self._file_id else "replaced"

    def reattach(self) -> int:
        """Open the file at the path again (made anew if it is gone) and copy into it the records it lacks.

        Returns how many records were copied from the file opened before.
        Raises (``sqlite3.Error``, ``OSError``, ``RuntimeError``) when the file
        cannot be made, opened or written: then nothing changes.
        """
        if self.file is None:
            return 0
        with self._lock:
            new = self._connect()
            try:
                new.execute("BEGIN IMMEDIATE")
                try:
                    before = new.total_changes
                    rows = self._conn.execute(f"SELECT {_COPY_COLUMNS} FROM records")
                    while batch := rows.fetchmany(100):  # a day of records is never all in memory at once
                        new.executemany(
                            f"INSERT OR IGNORE INTO records ({_COPY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch
                        )
                    copied = new.total_changes - before
                    new.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        new.execute("ROLLBACK")
                    raise
            except BaseException:
                new.close()
                raise
            old, self._conn = self._conn, new
            with contextlib.suppress(sqlite3.Error):
                old.close()
        log.info("record database opened again; %d record(s) copied into it", copied)
        return copied

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ internals

    def _connect(self) -> sqlite3.Connection:
        """Open (making it if needed, owner only) the database at the path, at the current schema."""
        if self.file is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            if not self.file.exists():  # answers are health data: owner only
                os.close(os.open(self.file, os.O_WRONLY | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self.target, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete = ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise RuntimeError(f"record database {self.target} is schema {version}, newer than {_SCHEMA_VERSION}")
            if version < _SCHEMA_VERSION:
                try:  # one transaction (the script leaves it open): a new file, or schema 1 to 2
                    conn.executescript("BEGIN IMMEDIATE;\n" + _SCHEMA)
                    columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
                    if "uid" not in columns:  # schema 1
                        conn.execute("ALTER TABLE records ADD COLUMN uid TEXT")
                    conn.execute("UPDATE records SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL")
                    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS records_uid ON records (uid)")
                    conn.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', ?)", (secrets.token_hex(16),)
                    )
                    conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
            if self.file is not None:
                st = os.stat(self.file)
                self._file_id = (st.st_dev, st.st_ino)
        except BaseException:
            conn.close()
            raise
        return conn

    def _now(self, now: datetime | None) -> datetime:
        return _aware(now if now is not None else self._clock())

    def _purge_for_read(self, now: datetime) -> float:
        """Purge before a read if the database can be written; the cutoff a read must apply anyway."""
        try:
            with self._transaction() as conn:
                self._purge(conn, now, self.retention)
        except sqlite3.OperationalError as exc:
            log.warning("expired records could not be purged now (%s)", _reason(exc))
        return (now - self.retention).timestamp()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # a COMMIT that failed (disk full) leaves the transaction open: never leave it so
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _purge(conn: sqlite3.Connection, now: datetime, retention: timedelta) -> int:
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        cutoff = (now - retention).timestamp()
        deleted = conn.execute("DELETE FROM records WHERE finished_ts < ?", (cutoff,)).rowcount
        if deleted:
            log.info("purged %d hand-off record(s) older than %s", deleted, retention)
        return int(deleted)


# ------------------------------------------------------------------ never losing a record

RETRY_S = 2.0  # how often records not saved are tried again
CHECK_S = 1.0  # how often the database file is looked at (removed or replaced?)
MAX_NOTICES = 10
SPOOL_SUFFIX = ".spool"
IDENTITY_FILE = "database-id"


@dataclass(frozen=True)
class Notice:
    """Something staff should know about the records (never an answer): when, and one sentence."""

    at: datetime
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"time": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "text": self.text}


@dataclass
class _Held:
    uid: str
    summary: Summary
    spooled: Path | None = None


def _reason(exc: BaseException) -> str:
    """Why the database could not be used, in a few plain words (never the exception's own text)."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or "is full" in text:
        return "the disk is full"
    if code == errno.EFBIG or "disk i/o error" in text:
        return "the disk cannot be written, it may be full"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or any(
        word in text for word in ("readonly", "read-only", "unable to open", "permission")
    ):
        return "the database or its folder cannot be written"
    if "not a database" in text or "malformed" in text:
        return "the database file is damaged"
    if isinstance(exc, RuntimeError) and "newer" in text:
        return "the database file is from a newer version of the kiosk"
    return f"the database cannot be written ({type(exc).__name__})"


def _spool_bytes(held: _Held) -> bytes:
    s = held.summary
    data = {
        "uid": held.uid,
        "kiosk": s.kiosk,
        "finished_at": s.finished_at.isoformat(),
        "locale": s.locale,
        "level": s.level,
        "outcome": s.outcome,
        "body": json.loads(_body(s)),
    }
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _spool_record(raw: bytes) -> _Held:
    data = json.loads(raw.decode("utf-8"))
    body = data["body"]
    summary = Summary(
        kiosk=str(data["kiosk"]),
        finished_at=datetime.fromisoformat(data["finished_at"]),
        locale=str(data["locale"]),
        level=str(data["level"]),
        red_flags=tuple(str(f) for f in body["red_flags"]),
        causes=tuple(CauseEntry(str(i), str(n), float(s)) for i, n, s in body["causes"]),
        because=tuple(str(b) for b in body.get("because", ())),
        answers=tuple(Answer(str(q), str(w), str(f), v) for q, w, f, v in body["answers"]),
        outcome=str(data["outcome"]),
    )
    return _Held(str(data["uid"]), summary)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class RecordKeeper:
    """Stores each finished session's record, or keeps it and tries again: a record is never dropped.

    :meth:`keep` never raises.  :meth:`tick` (called a few times a second)
    looks at the database file and retries what is not saved.  ``notify`` is
    called with ``records_unsaved`` when records start waiting, ``records_saved``
    when they are all saved, and ``database_removed`` / ``database_replaced``.
    """

    def __init__(
        self,
        store: RecordStore | None,
        *,
        notify: Callable[[str], object] | None = None,
        clock: Callable[[], float] = _time.monotonic,
        wall: Callable[[], datetime] = _utc_now,
        retry_s: float = RETRY_S,
        check_s: float = CHECK_S,
    ) -> None:
        self.store = store
        self.notify = notify if notify is not None else (lambda kind: None)
        self.clock = clock
        self.wall = wall
        self.retry_s = retry_s
        self.check_s = check_s
        self._lock = threading.RLock()
        self._held: dict[str, _Held] = {}
        self._why: str | None = None  # why the latest write failed
        self._detached: str | None = None  # "removed" / "replaced": the path no longer holds our file
        self._reported = False  # records_unsaved was sent for the current backlog
        self._notices: list[Notice] = []
        self.startup_notice: str | None = None
        self._next_check = self._next_retry = clock()
        self.spool = Path(str(store.file) + SPOOL_SUFFIX) if store is not None and store.file is not None else None
        if store is not None:
            with self._lock:
                self._start_up()

    # ------------------------------------------------------------ public

    def keep(self, summary: Summary) -> int | None:
        """Store a record: its id, or None when it is kept (in memory and the spool) to be tried again."""
        if self.store is None:
            return None
        held = _Held(secrets.token_hex(16), summary)
        with self._lock:
            try:
                self._look()  # never write into a file that was removed: nobody would find it
                if self._detached is None:
                    record_id = self.store.add(summary, uid=held.uid)
                    if self._held:
                        self._flush()
                    return record_id
            except Exception as exc:
                self._failed(exc)
            self._hold(held)
            return None

    def tick(self) -> None:
        """Look at the database file, retry records not saved, drop any past the retention period."""
        if self.store is None:
            return
        with self._lock:
            try:
                now = self.clock()
                if now >= self._next_check:
                    self._next_check = now + self.check_s
                    self._look()
                    self._expire()
                if (self._held or self._detached) and now >= self._next_retry:
                    self._next_retry = now + self.retry_s
                    if self._detached is not None:
                        self._reattach()
                    if self._detached is None and self._held:
                        self._flush()
            except Exception as exc:  # the kiosk goes on: this is tried again
                log.error("the record keeper failed (%s)", type(exc).__name__)

    @property
    def unsaved(self) -> int:
        with self._lock:
            return len(self._held)

    def problem(self) -> str | None:
        """One sentence for staff while records are not saved (or the database is not the kiosk's), else None."""
        with self._lock:
            n = len(self._held)
            if n:
                spooled = all(h.spooled is not None for h in self._held.values())
                where = "in the spool folder beside the database" if spooled else "in memory (lost if it stops)"
                why = self._why or "the database cannot be written"
                return (
                    f"{_plural(n, 'record')} not saved ({why}): the kiosk keeps {'it' if n == 1 else 'them'} "
                    f"{where} and tries again every few seconds."
                )
            if self._detached is not None:
                return (
                    f"The record database was {self._detached} and cannot be opened again yet "
                    f"({self._why or 'unknown reason'}): new records will be kept until it can."
                )
            return None

    def notices(self) -> list[dict[str, str]]:
        with self._lock:
            return [n.as_dict() for n in self._notices]

    def unsaved_records(self) -> list[tuple[str, Summary]]:
        """(uid, summary) of each record not saved yet, emergencies first, then newest first."""
        with self._lock:
            held = list(self._held.values())
        held.sort(key=lambda h: (not h.summary.emergency, -h.summary.finished_at.timestamp()))
        return [(h.uid, h.summary) for h in held]

    # ------------------------------------------------------------ internals (hold the lock)

    def _notice(self, text: str) -> None:
        self._notices.append(Notice(self.wall(), text))
        del self._notices[:-MAX_NOTICES]

    def _failed(self, exc: BaseException) -> None:
        self._why = _reason(exc)
        log.warning("the record database cannot be written now (%s)", self._why)

    def _hold(self, held: _Held) -> None:
        held.spooled = self._spool_write(held)
        self._held[held.uid] = held
        log.warning(
            "hand-off record kept to be saved later (%s): %d not saved",
            "spooled" if held.spooled else "in memory",
            len(self._held),
        )
        if not self._reported:
            self._reported = True
            self.notify("records_unsaved")

    def _flush(self) -> None:
        assert self.store is not None
        for held in sorted(self._held.values(), key=lambda h: h.summary.finished_at):
            try:
                self.store.add(held.summary, uid=held.uid)
            except Exception as exc:
                self._failed(exc)
                return
            del self._held[held.uid]
            if held.spooled is not None:
                with contextlib.suppress(OSError):
                    held.spooled.unlink()
        self._why = None
        if self._reported:
            self._reported = False
            self._notice("Every record that could not be saved at first is saved now.")
            log.info("every record kept for later is saved now")
            self.notify("records_saved")

    def _look(self) -> None:
        assert self.store is not None
        if self._detached is not None:
            return
        state = self.store.file_state()
        if state is None:
            return
        self._detached = state
        log.warning("the record database file was %s while the kiosk ran", state)
        self.notify(f"database_{state}")
        if self._reattach():
            return
        self._notice(
            f"The record database was {state} while the kiosk ran and cannot be opened again yet "
            f"({self._why}): new records are kept until it can."
        )

    def _reattach(self) -> bool:
        assert self.store is not None
        state = self._detached
        try:
            copied = self.store.reattach()
        except Exception as exc:
            self._failed(exc)
            return False
        self._detached = None
        self._why = None
        if state == "removed":
            self._notice(
                f"The record database was removed while the kiosk ran; it was made again with the "
                f"{_plural(copied, 'record')} the kiosk still had."
            )
        else:
            self._notice(
                f"The record database was replaced while the kiosk ran; the kiosk copied its "
                f"{_plural(copied, 'record')} that the new file lacked into it."
            )
        self._write_identity()
        return True

    def _expire(self) -> None:
        assert self.store is not None
        cutoff = self.wall() - self.store.retention
        gone = [h for h in self._held.values() if h.summary.finished_at < cutoff]
        for held in gone:
            del self._held[held.uid]
            if held.spooled is not None:
                with contextlib.suppress(OSError):
                    held.spooled.unlink()
        if gone:
            self._notice(f"{_plural(len(gone), 'record')} never saved reached the end of the retention period.")
            log.warning("%d unsaved record(s) past the retention period deleted", len(gone))
            if not self._held and self._reported:
                self._reported = False

    # ------------------------------------------------------------ start-up and the spool

    def _start_up(self) -> None:
        """Notice a database removed or replaced since the last run; take up records spooled then."""
        assert self.store is not None
        if self.spool is None:
            return
        try:
            self.spool.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            log.warning("the spool folder cannot be made (%s)", _reason(exc))
        known = None
        with contextlib.suppress(OSError, UnicodeDecodeError):
            known = (self.spool / IDENTITY_FILE).read_text(encoding="ascii").strip() or None
        identity = self.store.identity()
        where = self.store.file
        if known is not None and self.store.created:
            self.startup_notice = (
                f"The record database {where} was gone when the kiosk started: the records it held are lost, "
                "and a new, empty one was made."
            )
            self.notify("database_removed")
        elif known is not None and known != identity:
            self.startup_notice = (
                f"The record database {where} was replaced since the kiosk last ran: "
                "the records the kiosk wrote before are not in it."
            )
            self.notify("database_replaced")
        if self.startup_notice:
            self._notice(self.startup_notice)
            log.warning("the record database was removed or replaced since the last run")
        self._write_identity()
        for path in sorted(self.spool.glob("record-*.json")):
            try:
                held = _spool_record(path.read_bytes())
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("a spooled record cannot be read (%s); it is left in the spool", type(exc).__name__)
                continue
            held.spooled = path
            self._held[held.uid] = held
        if self._held:
            log.warning("%d record(s) spooled before the restart are saved now", len(self._held))
            self._reported = True
            self._flush()

    def _write_identity(self) -> None:
        assert self.store is not None
        if self.spool is None:
            return
        try:
            identity = self.store.identity()
            tmp = self.spool / f".{IDENTITY_FILE}.tmp"
            tmp.write_text(identity + "\n", encoding="ascii")
            os.replace(tmp, self.spool / IDENTITY_FILE)
        except (OSError, sqlite3.Error) as exc:
            log.warning("the database's identity could not be noted (%s)", _reason(exc))

    def _spool_write(self, held: _Held) -> Path | None:
        if self.spool is None:
            return None
        stamp = int(held.summary.finished_at.timestamp() * 1_000_000)
        path = self.spool / f"record-{stamp:020d}-{held.uid}.json"
        tmp = self.spool / f".{path.name}.tmp"
        try:
            self.spool.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(_spool_bytes(held))
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("the record cannot be spooled either (%s): it is kept in memory", _reason(exc))
            with contextlib.suppress(OSError):
                tmp.unlink()
            return None
        return path
