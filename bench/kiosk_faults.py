"""Fault-injection soak: sessions through ONE kiosk process while its surroundings fail.

    .venv/bin/python -m bench.kiosk_faults [--sessions 300] [--out bench/kiosk_faults.json]

Starts a real ``voice-triage kiosk --no-voice`` (its database in a folder of
its own, alerts to a command and to a webhook this benchmark serves), keeps
one live-update stream open and read, and drives session after session over
HTTP as the page does (``bench.kiosk_soak``: the answers of the public and
development vignettes, each session checked against the dialogue's level).
After a warm-up of one cycle of vignettes, these faults are injected in turn,
each for ``--per-fault`` sessions, round and round:

* **database removed**: the file is deleted (a copy is kept aside);
* **database restored**: the copy is put back over the file the kiosk made again;
* **folder unwritable**: the database's folder is made read-only (``chmod
  0500``; run as root, the kiosk runs without capabilities so that this binds);
* **disk full**: the kiosk's ``RLIMIT_FSIZE`` is set to 1 byte (``prlimit``),
  so no file of it can grow, then set back;
* **server paused**: ``SIGSTOP`` with a question on screen, three taps on its
  answer queued (as a stuck double or triple tap), ``SIGCONT`` 5 s later; one
  tap must be taken, the others refused (409);

and at the start of each round five live-update clients that never read
anything connect (the kiosk must drop them, ``web.send_timeout_s``; at the end
400 screen changes make sure the latest ones have more to read than they take).

Once the last fault is cleared it waits for the kiosk to save what it kept,
then reports: sessions completed, records stored against sessions finished
(must be equal), 5xx responses (must be 0), resident memory growth after the
warm-up, queued taps taken and refused, never-reading clients still
connected, the staff page's backlog and the alerts the webhook got.  Figures
go to ``bench/kiosk_faults.json``.  The exit status is 1 when a session
failed, a record is missing, any 5xx was answered, or memory grew by
``--max-growth-mb`` (10) or more.  Not a test: it measures and reports.

``start_kiosk`` and ``AlertHook`` are also what ``tests/test_kiosk_faults.py``
uses to start a kiosk with a config of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import queue
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.kiosk_process import READY, ROOT, TOKEN_ENV, KioskProcess, free_port, write_config
from bench.kiosk_soak import Case, Client, EventStream, Failure, load_cases, mb, page_value
from voice_triage.core.contract import UNKNOWN

OUT = ROOT / "bench" / "kiosk_faults.json"
FAULTS = ("database removed", "database restored", "folder unwritable", "disk full", "server paused")
PAUSE_S = 5.0
QUEUED_TAPS = 3
PAUSED_SESSIONS = 3  # pauses per round
NON_READERS = 5  # live-update clients that never read, per round
SEND_TIMEOUT_S = 3.0
FLUSH_TOGGLES = 200  # at the end, pairs of contrast toggles (about 1.7 kB a screen change) for the last non-readers
MAX_STEPS = 100
SETTLE_S = 60.0  # how long to wait for the kiosk to save what it kept once the faults are cleared


# ------------------------------------------------------------------ a kiosk of one's own


def unprivileged_prefix() -> list[str]:
    """Run as root, the kiosk is started without capabilities, so file permissions bind it as they bind a
    service user (root would write into a read-only folder).  Empty when not root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running as root needs setpriv (util-linux) to drop the kiosk's capabilities")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--"]


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


def start_kiosk(
    workdir: Path,
    config: Mapping[str, Any] | None = None,
    *,
    unprivileged: bool = False,
    env: Mapping[str, str] | None = None,
    token: str | None = None,
    ready_timeout_s: float = 60.0,
) -> KioskProcess:
    """A kiosk process as ``KioskProcess.start`` makes one, with ``config`` merged into its config file.

    ``unprivileged``: without capabilities when run as root (:func:`unprivileged_prefix`).  The same
    ``workdir`` again is the same kiosk restarted (same database; stderr is appended to).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    path = write_config(workdir, free_port())
    data = _merge(json.loads(path.read_text(encoding="utf-8")), config or {})
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    token = token or secrets.token_urlsafe(24)
    child_env = {**os.environ, TOKEN_ENV: token, "PYTHONUNBUFFERED": "1", **(env or {})}
    child_env.pop("VOICE_TRIAGE_STAFF_TOKEN", None)
    prefix = unprivileged_prefix() if unprivileged else []
    command = [*prefix, sys.executable, "-m", "voice_triage", "kiosk", "--config", str(path), "--no-voice"]
    command += ["--host", "127.0.0.1", "--port", "0"]
    with (workdir / "kiosk.stderr").open("a", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
    kiosk = KioskProcess(workdir=workdir, token=token, process=process, url="")
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + ready_timeout_s
    try:
        while not kiosk.url:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"the kiosk was not ready within {ready_timeout_s:g} s:\n{kiosk.log()}")
            try:
                line = lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                process.wait(timeout=10)
                raise RuntimeError(f"the kiosk exited with {process.returncode} before it was ready:\n{kiosk.log()}")
            kiosk.lines.append(line)
            match = READY.search(line)
            if match:
                kiosk.url = match.group(1).rstrip("/")
    except BaseException:
        kiosk.stop()
        raise

    def keep_reading() -> None:
        while (item := lines.get()) is not None:
            kiosk.lines.append(item)

    threading.Thread(target=keep_reading, daemon=True).start()
    return kiosk


class AlertHook:
    """An alert webhook on 127.0.0.1: keeps every JSON body it is sent."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                with contextlib.suppress(ValueError):
                    received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def levels(self) -> list[str]:
        return [str(a.get("level")) for a in list(self.received)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def set_file_size_limit(pid: int, limit: int | None) -> None:
    """Another process's RLIMIT_FSIZE (soft): ``limit`` bytes, or back to its hard limit (None)."""
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard if limit is None else limit, hard))


def open_sockets(pid: int) -> int:
    """How many sockets the process holds open."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the backup API takes its locks)."""
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def non_reader(url: str) -> socket.socket:
    """A live-update client that asks for /events and never reads a byte."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    return sock


# ------------------------------------------------------------------ driving sessions


class CountingClient(Client):
    """kiosk_soak's keep-alive client, counting every status it gets."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token)
        self.statuses: Counter[int] = Counter()

    def call(self, method: str, path: str, body: Any = None, staff: bool = False) -> tuple[int, Any]:
        status, payload = super().call(method, path, body, staff)
        self.statuses[status] += 1
        return status, payload


def post_once(url: str, body: dict[str, Any], timeout_s: float = 30.0) -> tuple[int, Any]:
    """One POST /api/input on a connection of its own (a tap queued while the kiosk is paused)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        conn.request("POST", "/api/input", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def finish(client: CountingClient, case: Case, asked: int = 0) -> tuple[str, int]:
    """Answer the session on screen to its end, then leave the kiosk idle; (level, questions asked)."""
    for _ in range(MAX_STEPS):
        state = client.state()
        if state["screen"] == "question":
            question = state["question"]
            asked += 1
            client.input({"answer": page_value(case.facts.get(question["id"], UNKNOWN)), "step": state["step"]})
        elif state["screen"] == "result":
            result = state["result"]
            if result.get("emergency"):
                status, payload = client.call("POST", "/api/staff/ack", {}, staff=True)
                if status != 200 or not payload or payload.get("acknowledged", 0) < 1:
                    raise Failure(f"{case.id}: staff acknowledgement: {status} {payload!r}")
            else:
                client.input({"command": "stop", "step": state["step"]})
            if client.state()["screen"] != "idle":
                raise Failure(f"{case.id}: not back to idle after the result")
            level = str(result["level"])
            if level != case.level:
                raise Failure(f"{case.id}: the kiosk gave {level}, the dialogue gives {case.level}")
            return level, asked
        else:
            raise Failure(f"{case.id}: unexpected screen {state['screen']!r}")
    raise Failure(f"{case.id}: no result after {MAX_STEPS} inputs")


def paused_session(client: CountingClient, kiosk: KioskProcess, case: Case) -> tuple[str, Counter[int]]:
    """A session whose first question is answered by taps queued while the kiosk is stopped."""
    client.input({"start": True})
    state = client.state()
    if state["screen"] != "question":
        raise Failure(f"{case.id}: no question after start")
    tap = {"answer": page_value(case.facts.get(state["question"]["id"], UNKNOWN)), "step": state["step"]}
    results: list[int] = []
    os.kill(kiosk.pid, signal.SIGSTOP)
    try:
        threads = [
            threading.Thread(target=lambda: results.append(post_once(kiosk.url, tap)[0])) for _ in range(QUEUED_TAPS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(PAUSE_S)
    finally:
        os.kill(kiosk.pid, signal.SIGCONT)
    for thread in threads:
        thread.join(60)
    taps = Counter(results)
    level, _ = finish(client, case, asked=1)
    return level, taps


# ------------------------------------------------------------------ the soak


class Faults:
    """Injects and clears the faults on one kiosk."""

    def __init__(self, kiosk: KioskProcess, database: Path) -> None:
        self.kiosk = kiosk
        self.database = database
        self.aside = database.with_name("aside.sqlite3")
        self.active: str | None = None

    def inject(self, fault: str) -> None:
        self.clear()
        if fault == "database removed":
            copy_database(self.database, self.aside)
            self.database.unlink()
        elif fault == "database restored":
            if self.aside.exists():
                os.replace(self.aside, self.database)
        elif fault == "folder unwritable":
            self.database.parent.chmod(0o500)
        elif fault == "disk full":
            set_file_size_limit(self.kiosk.pid, 1)
        self.active = fault

    def clear(self) -> None:
        if self.active == "folder unwritable":
            self.database.parent.chmod(0o700)
        elif self.active == "disk full":
            set_file_size_limit(self.kiosk.pid, None)
        self.active = None


def soak(sessions: int, workdir: Path, per_fault: int = 20, warmup: int | None = None) -> dict[str, Any]:
    cases = load_cases()
    warmup = min(len(cases), sessions) if warmup is None else min(warmup, sessions)
    hook = AlertHook()
    dbdir = workdir / "db"
    dbdir.mkdir(parents=True, exist_ok=True)
    database = dbdir / "records.sqlite3"
    kiosk = start_kiosk(
        workdir / "kiosk",
        {
            "database": str(database),
            "alerts": {"webhook": hook.url, "timeout_s": 5},
            "web": {"send_timeout_s": SEND_TIMEOUT_S},
        },
        unprivileged=True,
    )
    client = CountingClient(kiosk.url, kiosk.token)
    stream = EventStream(kiosk.url)
    stream.start()
    faults = Faults(kiosk, database)
    failures: list[str] = []
    levels: Counter[str] = Counter()
    taps: Counter[int] = Counter()
    phases: Counter[str] = Counter()
    problems: set[str] = set()
    notices: list[str] = []
    max_unsaved = finished = completed = stored = listed = 0
    non_readers: list[socket.socket] = []
    samples: list[dict[str, Any]] = []
    sockets_baseline = sockets_end = rss_start = rss_end = 0
    elapsed = 0.0
    started = time.perf_counter()
    schedule = [f for f in FAULTS for _ in range(PAUSED_SESSIONS if f == "server paused" else per_fault)]
    previous: str | None = None
    try:
        for n in range(1, sessions + 1):
            case = cases[(n - 1) % len(cases)]
            at = (n - warmup - 1) % len(schedule)
            fault = schedule[at] if n > warmup else None
            if fault != previous:
                faults.clear()
                if fault is not None and fault != "server paused":
                    faults.inject(fault)
                previous = fault
            if fault is not None and at == 0:  # a new round: clients that will never read
                non_readers += [non_reader(kiosk.url) for _ in range(NON_READERS)]
            phases[fault or "warm-up"] += 1
            try:
                if fault == "server paused":
                    level, got = paused_session(client, kiosk, case)
                    taps.update(got)
                    if got[200] != 1:
                        failures.append(f"session {n}: {QUEUED_TAPS} queued taps gave {dict(got)}, not one taken")
                else:
                    client.input({"start": True})
                    level, _ = finish(client, case)
                levels[level] += 1
                completed += 1
                finished += 1
            except (Failure, OSError, http.client.HTTPException, KeyError, TypeError) as exc:
                failures.append(f"session {n} ({fault or 'warm-up'}): {type(exc).__name__}: {exc}")
                if kiosk.process.poll() is not None:
                    failures.append(f"the kiosk exited with {kiosk.process.returncode}")
                    break
                client.call("POST", "/api/staff/ack", {}, staff=True)
                with contextlib.suppress(Exception):
                    state = client.state()
                    if state["screen"] != "idle":
                        finished += 1  # a record is made of what was answered
                        client.call("POST", "/api/input", {"command": "stop", "step": state["step"]})
            status, info = client.call("GET", "/api/staff/alerts", staff=True)
            if status == 200 and isinstance(info, dict):
                max_unsaved = max(max_unsaved, int(info.get("unsaved") or 0))
                if info.get("problem"):
                    problems.add(str(info["problem"]))
            if n == warmup:
                rss_start = kiosk.rss_kib()
                sockets_baseline = open_sockets(kiosk.pid)
            if n == warmup or n % 50 == 0:
                samples.append({"after_sessions": n, "fault": fault, "rss_mb": mb(kiosk.rss_kib())})
        faults.clear()
        settle_deadline = time.monotonic() + SETTLE_S
        while True:
            status, info = client.call("GET", "/api/staff/alerts", staff=True)
            if status == 200 and info.get("unsaved") == 0 and not info.get("problem"):
                break
            if time.monotonic() > settle_deadline:
                failures.append(f"{info.get('unsaved')} records still not saved {SETTLE_S:g} s after the last fault")
                break
            time.sleep(0.5)
        notices = [n["text"] for n in info.get("notices", [])] if isinstance(info, dict) else []
        for _ in range(2 * FLUSH_TOGGLES):  # screen changes enough to fill the buffers of the latest non-readers
            client.call("POST", "/api/input", {"setting": "contrast"})
        time.sleep(SEND_TIMEOUT_S + 1)  # then they are dropped
        sockets_end = open_sockets(kiosk.pid)
        rss_end = kiosk.rss_kib()
        elapsed = time.perf_counter() - started
        _, listing = client.call("GET", "/api/staff/sessions", staff=True)
        listed = len(listing["sessions"]) if isinstance(listing, dict) else -1
        with contextlib.closing(sqlite3.connect(database)) as db:
            stored = int(db.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        if stored != finished:
            failures.append(f"{finished} sessions finished but {stored} records are in the database")
        if stream.error:
            failures.append(stream.error)
    finally:
        faults.clear()
        stream.stop()
        client.close()
        for sock in non_readers:
            sock.close()
        code = kiosk.stop()
        hook.close()
    log_lines = kiosk.log().splitlines()
    errors = sum(count for status, count in client.statuses.items() if status >= 500)
    if errors:
        failures.append(f"{errors} responses were 5xx")
    return {
        "sessions": sessions,
        "completed": completed,
        "finished": finished,
        "records_stored": stored,
        "records_listed_for_staff": listed,
        "failures": len(failures),
        "failure_messages": failures[:20],
        "responses_5xx": errors,
        "statuses": {str(k): v for k, v in sorted(client.statuses.items())},
        "sessions_per_fault": dict(phases),
        "queued_taps": {
            "taken": taps[200],
            "refused_409": taps[409],
            "other": sum(taps.values()) - taps[200] - taps[409],
        },
        "max_unsaved_seen_by_staff": max_unsaved,
        "staff_problem_sentences": sorted(problems),
        "notices_at_the_end": notices,
        "webhook_alerts": dict(Counter(hook.levels())),
        "never_reading_clients": len(non_readers),
        "kiosk_sockets_after_warmup": sockets_baseline,
        "kiosk_sockets_at_the_end": sockets_end,
        "warmup_sessions": warmup,
        "rss_start_mb": mb(rss_start),
        "rss_end_mb": mb(rss_end),
        "rss_growth_mb": round(mb(rss_end) - mb(rss_start), 2),
        "rss_samples": samples,
        "levels": dict(sorted(levels.items())),
        "elapsed_s": round(elapsed, 1),
        "kiosk_exit_status": code,
        "kiosk_log": {
            "tracebacks": sum("Traceback" in line for line in log_lines),
            "error_lines": [line for line in log_lines if line.startswith(("ERROR", "CRITICAL"))][:20],
            "warning_lines": sum(line.startswith("WARNING") for line in log_lines),
        },
        "ran_as_root_without_capabilities": os.geteuid() == 0,
        "machine": {"python": platform.python_version(), "cores": len(os.sched_getaffinity(0))},
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def table(report: Mapping[str, Any]) -> str:
    taps = report["queued_taps"]
    rows = [
        ("sessions", f"{report['completed']} / {report['sessions']} completed, {report['failures']} failures"),
        ("records", f"{report['records_stored']} stored for {report['finished']} sessions finished"),
        ("5xx responses", str(report["responses_5xx"])),
        ("queued taps", f"{taps['taken']} taken, {taps['refused_409']} refused (409), {taps['other']} other"),
        ("staff backlog", f"at most {report['max_unsaved_seen_by_staff']} records not saved at once"),
        ("alerts (webhook)", ", ".join(f"{k} {v}" for k, v in sorted(report["webhook_alerts"].items()))),
        (
            "never-reading clients",
            f"{report['never_reading_clients']} connected; kiosk sockets {report['kiosk_sockets_after_warmup']} "
            f"after the warm-up, {report['kiosk_sockets_at_the_end']} at the end",
        ),
        (
            "RSS",
            f"{report['rss_start_mb']} MB after {report['warmup_sessions']} warm-up sessions, "
            f"{report['rss_end_mb']} MB at the end: growth {report['rss_growth_mb']:+} MB",
        ),
        ("time", f"{report['elapsed_s']} s"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--per-fault", type=int, default=20, help="sessions under each fault (default 20)")
    parser.add_argument("--warmup", type=int, default=None, help="sessions before the faults (one cycle of vignettes)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-growth-mb", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.per_fault < 1:
        parser.error("--sessions and --per-fault must be at least 1")
    with tempfile.TemporaryDirectory(prefix="kiosk-faults-") as tmp:
        report = soak(args.sessions, Path(tmp), args.per_fault, args.warmup)
        Path(tmp, "db").chmod(0o700)  # so that it can be removed
    report["max_growth_mb"] = args.max_growth_mb
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    for message in report["failure_messages"]:
        print("FAIL", message, file=sys.stderr)
    print(f"figures in {args.out}")
    ok = report["failures"] == 0 and report["rss_growth_mb"] < args.max_growth_mb
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
