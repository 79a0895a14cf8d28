"""Soak benchmark: many consecutive sessions through ONE kiosk process, over HTTP.

    .venv/bin/python -m bench.kiosk_soak [--sessions 500] [--out bench/kiosk_soak.json]

Starts a real ``voice-triage kiosk --no-voice`` (temporary config, SQLite
database and alert command; free port on 127.0.0.1), keeps one live-update
stream (``GET /events``) open all the time as the kiosk page does, and drives
session after session exactly as the page does: ``POST /api/input``
``{"start": true}``, then ``{"answer": V, "step": N}`` for each question on
``GET /api/state`` (naming the screen's step), the answers taken from the
public vignettes and ``clinical/vignettes-dev.yaml`` in turn (a fact a vignette lacks is answered
"unknown").  Each session must end with the level the dialogue itself gives
for those answers (what ``voice-triage simulate --facts`` prints), then go back
to idle: ``{"command": "stop"}`` after an ordinary result, the staff
acknowledgement (``POST /api/staff/ack`` with the token) after an emergency.
Every emergency must also have run the alert command.

Resident memory (VmRSS from /proc/PID/status) is read once the first full
cycle of vignettes has run (the warm-up: every path taken once), every 50
sessions, and at the end.  Figures go to ``bench/kiosk_soak.json`` and a short
table is printed.  The exit status is 1 when any session failed or memory
grew by ``--max-growth-mb`` (10) or more.  Not a test: it measures and reports.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.kiosk_process import KioskProcess
from voice_triage.core.contract import UNKNOWN, Value
from voice_triage.core.locale import load_locale
from voice_triage.core.simulate import load_vignettes, run_session

ROOT = Path(__file__).resolve().parent.parent
VIGNETTE_FILES = (
    ROOT / "clinical" / "vignettes-public.yaml",  # the repository copy of ../shared/clinical
    ROOT / "clinical" / "vignettes-dev.yaml",
)
OUT = ROOT / "bench" / "kiosk_soak.json"
MAX_STEPS = 100  # inputs in one session before it counts as stuck
HTTP_TIMEOUT_S = 15.0
SAMPLE_EVERY = 50


class Failure(Exception):
    pass


@dataclass(frozen=True)
class Case:
    id: str
    facts: Mapping[str, Value]
    level: str  # what the dialogue gives for these answers


class Client:
    """One keep-alive HTTP connection to the kiosk; JSON in and out."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT_S)
        self.requests = 0
        self.request_ms: list[float] = []

    def call(self, method: str, path: str, body: Any = None, staff: bool = False) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if staff:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()  # a closed keep-alive connection: reconnect once
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT_S)
                if attempt == 2:
                    raise
        self.requests += 1
        self.request_ms.append((time.perf_counter() - started) * 1000)
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode("utf-8", "replace")[:200]
        return response.status, payload

    def state(self) -> dict[str, Any]:
        status, payload = self.call("GET", "/api/state")
        if status != 200 or not isinstance(payload, dict):
            raise Failure(f"GET /api/state: {status} {payload!r}")
        return payload

    def input(self, body: dict[str, Any]) -> None:
        status, payload = self.call("POST", "/api/input", body)
        if status != 200:
            raise Failure(f"POST /api/input {json.dumps(body)}: {status} {payload!r}")

    def close(self) -> None:
        self.conn.close()


class EventStream(threading.Thread):
    """The kiosk page's live updates (``GET /events``), read all along and counted."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        self.events = 0
        self.error: str | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            self.conn.request("GET", "/events", headers={"Accept": "text/event-stream"})
            response = self.conn.getresponse()
            if response.status != 200:
                self.error = f"GET /events: {response.status}"
                return
            while not self.stopping.is_set():
                line = response.readline()
                if not line:
                    if not self.stopping.is_set():
                        self.error = "the event stream ended"
                    return
                if line.startswith(b"data:"):
                    self.events += 1
        except Exception as exc:
            if not self.stopping.is_set():
                self.error = f"event stream: {type(exc).__name__}: {exc}"

    def stop(self) -> None:
        self.stopping.set()
        sock = self.conn.sock
        if sock is not None:  # wakes the blocked read (close() alone would wait for its lock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.join(timeout=5)
        self.conn.close()


def load_cases() -> list[Case]:
    locale = load_locale("en")
    cases = []
    for path in VIGNETTE_FILES:
        for vignette in load_vignettes(path, locale.content):
            level = run_session(locale.content, locale.grammar, vignette.facts).level
            cases.append(Case(vignette.id, vignette.facts, level))
    return cases


def page_value(value: Value) -> Value:
    """What the page sends for an answer: numbers as typed on the keypad or picked on the scale."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    return value


def run_one(client: Client, case: Case) -> tuple[str, int, bool]:
    """One whole session; (level, questions, emergency).  Failure if anything is off.

    The kiosk is always left idle for the next session: an emergency is acknowledged
    by staff and any other result finished, before the level is compared.
    """
    client.input({"start": True})
    asked = 0
    for _ in range(MAX_STEPS):
        state = client.state()
        screen = state.get("screen")
        if screen == "question":
            question = state["question"]
            if question.get("confirming"):
                raise Failure(f"{case.id}: a touch answer was read back for confirmation: {question.get('id')}")
            asked += 1
            client.input({"answer": page_value(case.facts.get(question["id"], UNKNOWN)), "step": state["step"]})
        elif screen == "result":
            result = state["result"]
            level, emergency = result["level"], bool(result.get("emergency"))
            if emergency:
                status, payload = client.call("POST", "/api/staff/ack", {}, staff=True)
                if status != 200 or not payload or payload.get("acknowledged", 0) < 1:
                    raise Failure(f"{case.id}: staff acknowledgement: {status} {payload!r}")
            else:
                client.input({"command": "stop", "step": state["step"]})
            after = client.state()
            if after.get("screen") != "idle" or after.get("question") or after.get("result"):
                raise Failure(f"{case.id}: not wiped back to idle after the result: screen {after.get('screen')}")
            return level, asked, emergency
        else:
            raise Failure(f"{case.id}: unexpected screen {screen!r} after {asked} answers")
    raise Failure(f"{case.id}: no result after {MAX_STEPS} inputs")


def mb(kib: int) -> float:
    return round(kib / 1024, 2)


def soak(sessions: int, workdir: Path, warmup: int | None = None) -> dict[str, Any]:
    cases = load_cases()
    warmup = min(len(cases), sessions) if warmup is None else min(warmup, sessions)
    kiosk = KioskProcess.start(workdir)
    client = Client(kiosk.url, kiosk.token)
    stream = EventStream(kiosk.url)
    stream.start()
    failures: list[str] = []
    times_ms: list[float] = []
    questions: list[int] = []
    levels: Counter[str] = Counter()
    emergencies = 0
    samples: list[dict[str, Any]] = [{"after_sessions": 0, "rss_mb": mb(kiosk.rss_kib())}]
    rss_start = rss_end = alerts_written = events = 0
    elapsed = 0.0
    started = time.perf_counter()
    try:
        for n in range(1, sessions + 1):
            case = cases[(n - 1) % len(cases)]
            t0 = time.perf_counter()
            try:
                level, asked, emergency = run_one(client, case)
                times_ms.append((time.perf_counter() - t0) * 1000)
                questions.append(asked)
                levels[level] += 1
                emergencies += emergency
                if emergency != (level == "emergency"):
                    raise Failure(f"{case.id}: level {level} but emergency={emergency}")
                if level != case.level:
                    raise Failure(f"{case.id}: the kiosk gave {level}, the dialogue gives {case.level}")
            except (Failure, OSError, http.client.HTTPException, KeyError, TypeError) as exc:
                failures.append(f"session {n}: {type(exc).__name__}: {exc}")
                if kiosk.process.poll() is not None:
                    failures.append(f"the kiosk exited with {kiosk.process.returncode}")
                    break
                # leave the screen idle for the next one, whatever happened
                client.call("POST", "/api/staff/ack", {}, staff=True)
                client.call("POST", "/api/input", {"command": "stop", "step": client.state()["step"]})
            if n == warmup:
                rss_start = kiosk.rss_kib()
                samples.append({"after_sessions": n, "rss_mb": mb(rss_start), "warmup_end": True})
            elif n % SAMPLE_EVERY == 0 or n == sessions:
                samples.append({"after_sessions": n, "rss_mb": mb(kiosk.rss_kib())})
        rss_end = kiosk.rss_kib()
        elapsed = time.perf_counter() - started
        # every emergency ran the alert command (it runs in the background: give it a moment)
        deadline = time.monotonic() + 30
        while len(kiosk.alert_files()) < emergencies and time.monotonic() < deadline:
            time.sleep(0.2)
        alerts_written = len(kiosk.alert_files())
        if alerts_written != emergencies:
            failures.append(f"{emergencies} emergencies but the alert command wrote {alerts_written} alerts")
        for path in kiosk.alert_files()[:50]:
            alert = json.loads(path.read_text(encoding="utf-8"))
            if set(alert) != {"kiosk", "time", "level"} or alert["level"] != "emergency":
                failures.append(f"alert {path.name} carries {sorted(alert)} (level {alert.get('level')})")
                break
        if stream.error:
            failures.append(stream.error)
        events = stream.events
    finally:
        stream.stop()
        client.close()
        code = kiosk.stop()
    completed = len(times_ms)
    return {
        "sessions": sessions,
        "completed": completed,
        "failures": len(failures),
        "failure_messages": failures[:20],
        "warmup_sessions": warmup,
        "rss_start_mb": mb(rss_start),
        "rss_end_mb": mb(rss_end),
        "rss_growth_mb": round(mb(rss_end) - mb(rss_start), 2),
        "rss_samples": samples,
        "median_session_ms": round(statistics.median(times_ms), 1) if times_ms else None,
        "p95_session_ms": round(sorted(times_ms)[int(0.95 * (completed - 1))], 1) if times_ms else None,
        "max_session_ms": round(max(times_ms), 1) if times_ms else None,
        "median_questions": statistics.median(questions) if questions else None,
        "levels": dict(sorted(levels.items())),
        "emergencies_acknowledged": emergencies,
        "alerts_written": alerts_written,
        "events_streamed": events,
        "http_requests": client.requests,
        "median_request_ms": round(statistics.median(client.request_ms), 2) if client.request_ms else None,
        "elapsed_s": round(elapsed, 1),
        "vignettes": len(cases),
        "kiosk_exit_status": code,
        "machine": {"python": platform.python_version(), "cores": _cores(), "platform": platform.platform()},
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def table(report: Mapping[str, Any]) -> str:
    rows = [
        ("sessions", f"{report['completed']} / {report['sessions']} completed, {report['failures']} failures"),
        ("levels", ", ".join(f"{k} {v}" for k, v in report["levels"].items())),
        ("emergencies", f"{report['emergencies_acknowledged']} acknowledged, {report['alerts_written']} alerts run"),
        (
            "RSS",
            f"{report['rss_start_mb']} MB after {report['warmup_sessions']} warm-up sessions, "
            f"{report['rss_end_mb']} MB at the end: growth {report['rss_growth_mb']:+} MB",
        ),
        (
            "session time",
            f"median {report['median_session_ms']} ms, p95 {report['p95_session_ms']} ms, "
            f"max {report['max_session_ms']} ms (median {report['median_questions']} questions)",
        ),
        (
            "HTTP",
            f"{report['http_requests']} requests (median {report['median_request_ms']} ms), "
            f"{report['events_streamed']} live events streamed",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="sessions before the first RSS reading (default: one cycle of vignettes)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--max-growth-mb", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        report = soak(args.sessions, Path(tmp), args.warmup)
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
