"""Kiosk faults and attacks (issue 13), each against a real uvicorn kiosk and a real SQLite database.

Answers tied to the screen they answer (a double tap, taps queued while the
kiosk is paused, a spoken reply after the question changed); no record lost
when the database is removed, its folder unwritable or the disk full, and
staff told; 4xx for any path parameter; the staff token checked at start-up;
sign-in rate limits and revocable sessions; the Host header, X-Forwarded-For
from trusted proxies only; slow, too many and never-reading clients dropped.

Kiosk processes (``bench.kiosk_faults.start_kiosk``) where a fault needs a
process of its own (SIGSTOP, RLIMIT_FSIZE, a restart); else a uvicorn server
in a thread with the kiosk's own uvicorn configuration.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bench.kiosk_faults import AlertHook, set_file_size_limit, start_kiosk
from bench.kiosk_process import TOKEN_ENV, KioskProcess
from tests.test_kiosk_web import TIMEOUT_S, TOKEN, Server
from tests.test_records import NOW, make
from voice_triage.core.dialogue import Heard
from voice_triage.core.locale import Locale
from voice_triage.kiosk.config import KioskConfig, WebConfig
from voice_triage.kiosk.controller import KioskController
from voice_triage.kiosk.records import RecordKeeper, RecordStore
from voice_triage.kiosk.run import _bind
from voice_triage.kiosk.server import ConnectionLimits, uvicorn_config
from voice_triage.kiosk.staffauth import CLIENT_LOCK_S, OVERALL, PER_CLIENT, SignInLimiter, StaffSessions
from voice_triage.kiosk.text import load_locale_text
from voice_triage.kiosk.web import SECURITY_HEADERS, create_app

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 30.0
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
    """Poll until ``condition()`` is truthy (a deadline, not a timing assertion); its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# ------------------------------------------------------------------ a server in a thread


@contextlib.contextmanager
def serving(tmp_path: Path, locale: Locale, web: WebConfig | None = None) -> Iterator[Server]:
    """The kiosk app over real uvicorn with the kiosk's own configuration (protocol, limits), in a thread."""
    text = load_locale_text("en")
    database = tmp_path / "records.sqlite3"
    store = RecordStore(database, retention=timedelta(hours=1))
    config = KioskConfig(name="Faults kiosk", database=str(database), web=web or WebConfig())
    sent: list[Any] = []
    controller = KioskController(locale, text, config, store, notify=sent.append)
    app = create_app(controller, store, TOKEN)
    sock = _bind("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn_config(app, config.web))
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    wait_for(lambda: server.started or not thread.is_alive(), "the server to start", TIMEOUT_S)
    assert thread.is_alive(), "the server thread died"
    try:
        yield Server(host, port, controller, store, sent)
    finally:
        server.should_exit = True
        thread.join(TIMEOUT_S)
        store.close()


def sign_in(server: Server, token: str = TOKEN, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    status, got, _ = server.request("POST", "/staff/login", f"token={token}", {**FORM, **(headers or {})})
    return status, got


def cookie_of(headers: dict[str, str]) -> str:
    return headers["set-cookie"].split(";", 1)[0]


def has_security_headers(headers: dict[str, str]) -> bool:
    return all(headers.get(name) == value for name, value in SECURITY_HEADERS.items())


# ------------------------------------------------------------------ kiosk processes


class Staff:
    """The staff API of a kiosk process, with its token."""

    def __init__(self, kiosk: KioskProcess) -> None:
        self.kiosk = kiosk

    def get(self, path: str) -> tuple[int, Any]:
        host, port = self.kiosk.url.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT_S)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {self.kiosk.token}"})
            response = conn.getresponse()
            body = response.read()
            kind = response.getheader("content-type", "")
            return response.status, json.loads(body) if kind.startswith("application/json") else body.decode()
        finally:
            conn.close()

    def alerts(self) -> dict[str, Any]:
        status, data = self.get("/api/staff/alerts")
        assert status == 200, data
        return dict(data)

    def sessions(self) -> list[dict[str, Any]]:
        status, data = self.get("/api/staff/sessions")
        assert status == 200, data
        return list(data["sessions"])


def call(kiosk: KioskProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    host, port = kiosk.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT_S)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def state(kiosk: KioskProcess) -> dict[str, Any]:
    status, view = call(kiosk, "GET", "/api/state")
    assert status == 200
    return dict(view)


def one_session(kiosk: KioskProcess) -> None:
    """Start, answer the first question "no", then stop: a record with one answer."""
    assert call(kiosk, "POST", "/api/input", {"start": True})[0] == 200
    view = state(kiosk)
    assert call(kiosk, "POST", "/api/input", {"answer": "no", "step": view["step"]})[0] == 200
    view = state(kiosk)
    assert call(kiosk, "POST", "/api/input", {"command": "stop", "step": view["step"]})[0] == 200
    assert state(kiosk)["screen"] == "idle"


def at_once(kiosk: KioskProcess, body: dict[str, Any], times: int) -> list[tuple[int, Any]]:
    """The same input ``times`` times at the same moment, each on a connection of its own."""
    results: list[tuple[int, Any]] = []
    barrier = threading.Barrier(times)

    def send() -> None:
        barrier.wait()
        results.append(call(kiosk, "POST", "/api/input", body))

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    return results


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KioskProcess]:
    process = start_kiosk(tmp_path_factory.mktemp("kiosk"))
    try:
        yield process
    finally:
        process.stop()


def stopped_record_answers(kiosk: KioskProcess) -> list[dict[str, str]]:
    view = state(kiosk)
    assert call(kiosk, "POST", "/api/input", {"command": "stop", "step": view["step"]})[0] == 200
    newest = max(Staff(kiosk).sessions(), key=lambda s: s["finished_at"])
    assert newest["outcome"] == "stopped"
    return list(newest["answers"])


# ------------------------------------------------------------------ 1. answers tied to the question


def test_a_double_tap_answers_one_question_only(kiosk: KioskProcess) -> None:
    assert call(kiosk, "POST", "/api/input", {"start": True})[0] == 200
    first = state(kiosk)
    results = at_once(kiosk, {"answer": "no", "step": first["step"]}, 2)
    assert sorted(status for status, _ in results) == [200, 409]
    [refused] = [body for status, body in results if status == 409]
    now = state(kiosk)
    assert refused["state"]["step"] == now["step"] != first["step"], "the page is sent the screen really shown"
    assert now["question"]["id"] != first["question"]["id"]
    answers = stopped_record_answers(kiosk)
    assert [a["question"] for a in answers] == [first["question"]["text"]], "the next question was never answered"


def test_taps_queued_while_the_kiosk_is_paused_answer_one_question_only(kiosk: KioskProcess) -> None:
    assert call(kiosk, "POST", "/api/input", {"start": True})[0] == 200
    first = state(kiosk)
    os.kill(kiosk.pid, signal.SIGSTOP)
    try:
        results: list[tuple[int, Any]] = []
        tap = {"answer": "no", "step": first["step"]}
        threads = [
            threading.Thread(target=lambda: results.append(call(kiosk, "POST", "/api/input", tap))) for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the taps reach the paused kiosk's socket (not a timing assertion)
    finally:
        os.kill(kiosk.pid, signal.SIGCONT)
    for thread in threads:
        thread.join(DEADLINE_S)
    assert sorted(status for status, _ in results) == [200, 409, 409]
    assert all(body["state"]["step"] != first["step"] for status, body in results if status == 409)
    assert len(stopped_record_answers(kiosk)) == 1, "queued taps answered no question the person did not see"


def test_an_answer_must_name_its_screen(kiosk: KioskProcess) -> None:
    assert call(kiosk, "POST", "/api/input", {"start": True})[0] == 200
    first = state(kiosk)
    status, body = call(kiosk, "POST", "/api/input", {"answer": "no"})
    assert status == 400 and "'step'" in body["error"]
    for bad in (True, "3", 1.5, None):
        assert call(kiosk, "POST", "/api/input", {"answer": "no", "step": bad})[0] == 400, bad
    assert call(kiosk, "POST", "/api/input", {"command": "back"})[0] == 400
    assert call(kiosk, "POST", "/api/input", {"setting": "contrast"})[0] == 200, "settings act on any screen"
    assert call(kiosk, "POST", "/api/input", {"setting": "contrast"})[0] == 200
    now = state(kiosk)
    assert (now["step"], now["question"]) == (first["step"], first["question"]), "nothing was answered"
    assert call(kiosk, "POST", "/api/input", {"command": "stop", "step": now["step"]})[0] == 200


def test_a_spoken_reply_for_a_question_no_longer_shown_is_dropped(locale: Locale) -> None:
    controller = KioskController(locale, load_locale_text("en"), KioskConfig(name="k"), None, notify=lambda a: None)
    controller.start()
    heard_for, _ = controller.listening()
    first = controller.dialogue.current
    assert controller.answer("no")  # a touch answers while the listener still hears
    assert controller.hear_event(Heard("yes", 0.99), key=heard_for) is False
    assert controller.heard("yes", key=heard_for) is False
    assert list(controller.dialogue.answers) == [first.id if first else None], "only the touched answer"
    key, _ = controller.listening()
    assert controller.hear_event(Heard("no", 0.99), key=key) is True, "a reply for the screen shown is taken"
    assert len(controller.dialogue.answers) == 2


# ------------------------------------------------------------------ 2. no record lost


def test_a_database_removed_while_running_or_before_a_start_loses_no_record_and_is_noticed(tmp_path: Path) -> None:
    hook = AlertHook()
    workdir = tmp_path / "kiosk"
    config = {"alerts": {"webhook": hook.url}}
    database = workdir / "records.sqlite3"
    kiosk = start_kiosk(workdir, config)
    try:
        one_session(kiosk)
        one_session(kiosk)
        database.unlink()  # deleted while the kiosk runs: its records would be gone at the next start
        one_session(kiosk)
        notices = wait_for(lambda: Staff(kiosk).alerts()["notices"], "a notice on the staff page")
        assert "removed while the kiosk ran; it was made again with the 2 records" in notices[0]["text"]
        wait_for(lambda: "database_removed" in hook.levels(), "the alert")
        assert "removed while the kiosk ran" in Staff(kiosk).get("/staff")[1]
    finally:
        assert kiosk.stop() == 0, kiosk.log()
    kiosk = start_kiosk(workdir, config)
    try:
        assert len(Staff(kiosk).sessions()) == 3, "the records survive the restart"
    finally:
        kiosk.stop()
    database.unlink()  # removed while the kiosk is not running: noticed at start-up
    kiosk = start_kiosk(workdir, config)
    try:
        alerts = Staff(kiosk).alerts()
        assert "was gone when the kiosk started" in alerts["notices"][0]["text"]
        assert wait_for(lambda: hook.levels().count("database_removed") == 2, "the start-up alert")
    finally:
        kiosk.stop()
        hook.close()
    said = [line for line in kiosk.log().splitlines() if "was gone when the kiosk started" in line]
    assert len(said) == 1, kiosk.log()


def test_an_unwritable_folder_keeps_records_in_the_spool_across_a_restart(tmp_path: Path) -> None:
    hook = AlertHook()
    folder = tmp_path / "db"
    folder.mkdir()
    config = {"database": str(folder / "records.sqlite3"), "alerts": {"webhook": hook.url}}
    kiosk = start_kiosk(tmp_path / "kiosk", config, unprivileged=True)  # root would write anyway
    try:
        folder.chmod(0o500)
        one_session(kiosk)
        one_session(kiosk)
        alerts = Staff(kiosk).alerts()
        assert alerts["unsaved"] == 2
        assert alerts["problem"].startswith("2 records not saved (the database or its folder cannot be written)")
        assert "spool folder" in alerts["problem"]
        page = Staff(kiosk).get("/staff")[1]
        assert 'id="records-problem" role="alert">2 records not saved' in page
        assert page.count("Not saved yet") == 2, "staff can still read the records"
        wait_for(lambda: "records_unsaved" in hook.levels(), "the alert")
    finally:
        assert kiosk.stop() == 0, kiosk.log()
    folder.chmod(0o700)
    kiosk = start_kiosk(tmp_path / "kiosk", config, unprivileged=True)
    try:
        staff = Staff(kiosk)
        assert staff.alerts()["unsaved"] == 0 and staff.alerts()["problem"] is None
        assert len(staff.sessions()) == 2 and all(s["saved"] for s in staff.sessions())
        wait_for(lambda: "records_saved" in hook.levels(), "the all-saved alert")
        assert not list((folder / "records.sqlite3.spool").glob("record-*.json")), "the spool is emptied"
    finally:
        kiosk.stop()
        hook.close()


def test_a_full_disk_keeps_records_in_memory_until_there_is_room(tmp_path: Path) -> None:
    hook = AlertHook()
    kiosk = start_kiosk(tmp_path / "kiosk", {"alerts": {"webhook": hook.url}})
    staff = Staff(kiosk)
    try:
        one_session(kiosk)
        set_file_size_limit(kiosk.pid, 1)  # no file of the kiosk can grow: a full disk, for it
        try:
            one_session(kiosk)
            one_session(kiosk)
            alerts = staff.alerts()
            assert alerts["unsaved"] == 2 and "in memory" in alerts["problem"]
            assert alerts["problem"].startswith("2 records not saved (the disk")
            wait_for(lambda: "records_unsaved" in hook.levels(), "the alert")
            assert len(staff.sessions()) == 3, "staff see the saved record and the two kept"
        finally:
            set_file_size_limit(kiosk.pid, None)
        wait_for(lambda: staff.alerts()["unsaved"] == 0, "the kept records to be saved")
        wait_for(lambda: "records_saved" in hook.levels(), "the all-saved alert")
        assert all(s["saved"] for s in staff.sessions()) and len(staff.sessions()) == 3
    finally:
        assert kiosk.stop() == 0, kiosk.log()
        hook.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "kiosk" / "records.sqlite3")) as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone() == (3,)
    own = [line for line in kiosk.log().splitlines() if line.startswith("Traceback")]  # not the alert command's
    assert own == [], kiosk.log()


def test_a_replaced_database_gets_the_kiosks_records(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    notified: list[str] = []
    store = RecordStore(path, clock=lambda: NOW)
    keeper = RecordKeeper(store, notify=notified.append, wall=lambda: NOW)
    assert keeper.keep(make(NOW)) is not None
    other = tmp_path / "other.sqlite3"
    with RecordStore(other, clock=lambda: NOW) as replacement:
        replacement.add(make(NOW, kiosk="Restored from a copy"))
    os.replace(other, path)
    assert keeper.keep(make(NOW, kiosk="After")) is not None
    assert notified == ["database_replaced"]
    assert sorted(s.kiosk for s in store.today(NOW)) == ["After", "Kiosk A", "Restored from a copy"]
    assert "replaced while the kiosk ran" in keeper.notices()[0]["text"]
    store.close()


def test_a_database_replaced_by_a_damaged_file_keeps_new_records_until_it_is_fixed(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite3"
    clock = [0.0]
    store = RecordStore(path, clock=lambda: NOW)
    keeper = RecordKeeper(store, notify=lambda kind: None, wall=lambda: NOW, clock=lambda: clock[0])
    assert keeper.keep(make(NOW)) is not None
    damaged = tmp_path / "damaged"
    damaged.write_bytes(b"not a database at all " * 500)
    os.replace(damaged, path)
    assert keeper.keep(make(NOW, kiosk="While damaged")) is None, "kept, not written into the old file"
    problem = keeper.problem()
    assert problem is not None and problem.startswith("1 record not saved (the database file is damaged)")
    assert [s.kiosk for _, s in keeper.unsaved_records()] == ["While damaged"]
    path.unlink()  # someone removes the damaged file
    clock[0] += 10
    keeper.tick()
    assert keeper.unsaved == 0 and keeper.problem() is None
    assert sorted(s.kiosk for s in store.today(NOW)) == ["Kiosk A", "While damaged"], "nothing lost"
    store.close()


# ------------------------------------------------------------------ 3. path parameters


def test_huge_and_odd_path_parameters_are_4xx_with_security_headers(tmp_path: Path, locale: Locale) -> None:
    with serving(tmp_path, locale) as server:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        for path in (
            "/api/staff/sessions/9223372036854775808/fhir",
            "/api/staff/sessions/9223372036854775807/fhir",
            "/api/staff/sessions/" + "9" * 400 + "/fhir",
            "/api/staff/sessions/0/fhir",
            "/api/staff/sessions/-1/fhir",
            "/api/staff/sessions/1.5/fhir",
            "/api/staff/sessions/%00/fhir",
            "/static/%00",
            "/static/" + "a" * 5000,
            "/static/..%2f..%2fweb.py",
            "/%ff%fe",
        ):
            status, headers, body = server.request("GET", path, headers=bearer)
            assert 400 <= status < 500, (path, status, body[:200])
            assert has_security_headers(headers), path


def test_an_internal_error_is_one_sentence_with_security_headers(
    tmp_path: Path, locale: Locale, caplog: pytest.LogCaptureFixture
) -> None:
    with serving(tmp_path, locale) as server:
        server.store.close()  # every read of the records now fails inside the app
        status, body = server.staff("/api/staff/sessions/1/fhir")
        assert status == 503 and json.loads(body)["error"].endswith("try again in a moment.")
        server.controller.snapshot = None  # type: ignore[assignment, method-assign]
        status, headers, body = server.request("GET", "/api/state")
        assert status == 500 and has_security_headers(headers)
        assert json.loads(body) == {
            "error": "The kiosk had an internal error; try again, or ask for it to be restarted."
        }
    assert "Traceback" not in caplog.text and "internal error in the web server (TypeError)" in caplog.text


# ------------------------------------------------------------------ 4. the staff token at start-up


@pytest.mark.parametrize(
    "token", ["a-good-long-staff-token-0123 ", " a-good-long-staff-token-0123", "tok\nen-0123456789abc"]
)
def test_a_staff_token_with_surrounding_space_is_refused_at_start_up(tmp_path: Path, token: str) -> None:
    config = tmp_path / "kiosk.yaml"
    config.write_text(json.dumps({"name": "k", "database": str(tmp_path / "r.sqlite3"), "staff_token_env": TOKEN_ENV}))
    done = subprocess.run(
        [sys.executable, "-m", "voice_triage", "kiosk", "--config", str(config), "--no-voice", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, TOKEN_ENV: token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and TOKEN_ENV in lines[0] and "staff can never sign in" in lines[0], done.stderr
    assert token.strip() not in done.stderr and "Traceback" not in done.stderr


# ------------------------------------------------------------------ sign-in


def test_fifty_wrong_sign_ins_lock_the_client_out(tmp_path: Path, locale: Locale) -> None:
    proxy = WebConfig(trusted_proxies=("127.0.0.1/32",))  # so that two clients can be told apart
    with serving(tmp_path, locale, proxy) as server:
        attacker = {"X-Forwarded-For": "198.51.100.7"}
        status, early = sign_in(server, headers={"X-Forwarded-For": "198.51.100.9"})
        assert status == 303
        statuses = [sign_in(server, f"wrong-{n}-0123456789abcdef", attacker)[0] for n in range(50)]
        assert statuses[:PER_CLIENT] == [401] * PER_CLIENT and set(statuses[PER_CLIENT:]) == {429}
        status, headers = sign_in(server, TOKEN, attacker)
        assert status == 429 and int(headers["retry-after"]) > 0, "locked out even with the right token"
        status, headers, body = server.request("POST", "/staff/login", f"token={TOKEN}", {**FORM, **attacker})
        assert b"Too many wrong staff tokens: sign-in is locked for" in body
        bearer = {"Authorization": f"Bearer {TOKEN}", **attacker}
        assert server.request("GET", "/api/staff/sessions", headers=bearer)[0] == 429
        assert sign_in(server, TOKEN, {"X-Forwarded-For": "198.51.100.8"})[0] == 303, "another client still can"
        cookie = {"Cookie": cookie_of(early), **attacker}
        assert server.request("GET", "/api/staff/sessions", headers=cookie)[0] == 200, "a session signed in before"


def test_the_lock_out_is_short_and_all_clients_together_are_limited_too() -> None:
    now = [0.0]
    limiter = SignInLimiter(clock=lambda: now[0])
    for _ in range(PER_CLIENT):
        limiter.failed("192.0.2.1")
    assert limiter.wait_s("192.0.2.1") == CLIENT_LOCK_S and limiter.wait_s("192.0.2.2") == 0
    now[0] += CLIENT_LOCK_S
    assert limiter.wait_s("192.0.2.1") == 0, "the lock-out ends"
    for n in range(OVERALL - PER_CLIENT):  # from many addresses, a few each
        limiter.failed(f"203.0.113.{n % 200}")
    assert limiter.wait_s("192.0.2.99") > 0, "past the overall limit every client waits"
    assert limiter.wait_s("127.0.0.1", local=True) == 0, "but the kiosk machine itself can still sign in"


def test_signing_out_revokes_the_cookie_and_sessions_are_per_sign_in(tmp_path: Path, locale: Locale) -> None:
    with serving(tmp_path, locale) as server:
        one = cookie_of(sign_in(server)[1])
        two = cookie_of(sign_in(server)[1])
        assert one != two, "one session per sign-in"
        assert "secure" not in sign_in(server)[1]["set-cookie"].lower(), "plain http on the kiosk itself"
        for cookie in (one, two):
            assert server.request("GET", "/api/staff/sessions", headers={"Cookie": cookie})[0] == 200
        status, headers, _ = server.request("POST", "/staff/logout", headers={"Cookie": one})
        assert status == 303 and "max-age=0" in headers["set-cookie"].lower()
        assert server.request("GET", "/api/staff/sessions", headers={"Cookie": one})[0] == 401, "revoked"
        assert server.request("GET", "/staff", headers={"Cookie": one})[0] == 401
        assert server.request("GET", "/api/staff/sessions", headers={"Cookie": two})[0] == 200, "the other stays"


def test_sessions_expire_and_the_oldest_goes_first() -> None:
    now = [0.0]
    sessions = StaffSessions(max_age_s=60, limit=2, clock=lambda: now[0])
    first, second = sessions.new(), sessions.new()
    third = sessions.new()
    assert not sessions.valid(first) and sessions.valid(second) and sessions.valid(third)
    now[0] += 60
    assert not sessions.valid(second) and len(sessions) == 1


def test_the_cookie_is_secure_behind_a_tls_proxy(tmp_path: Path, locale: Locale) -> None:
    with serving(tmp_path / "a", locale, WebConfig(tls_proxy=True)) as server:
        assert "; secure" in sign_in(server)[1]["set-cookie"].lower()
    trusted = WebConfig(trusted_proxies=("127.0.0.1",))
    with serving(tmp_path / "b", locale, trusted) as server:
        https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.3"}
        assert "; secure" in sign_in(server, headers=https)[1]["set-cookie"].lower()
    with serving(tmp_path / "c", locale) as server:  # X-Forwarded-Proto from a peer nobody trusts
        assert "secure" not in sign_in(server, headers={"X-Forwarded-Proto": "https"})[1]["set-cookie"].lower()


# ------------------------------------------------------------------ Host and proxies


def test_a_foreign_host_is_refused(tmp_path: Path, locale: Locale) -> None:
    web = WebConfig(allowed_hosts=("kiosk.clinic.example",))
    with serving(tmp_path, locale, web) as server:
        for method, path in (("GET", "/"), ("GET", "/api/state"), ("GET", "/events"), ("GET", "/staff")):
            status, headers, body = server.request(method, path, headers={"Host": f"rebound.example:{server.port}"})
            assert status == 400 and has_security_headers(headers), path
            assert json.loads(body)["error"].startswith("This kiosk does not answer to that host name")
        start = json.dumps({"start": True})
        status, _, _ = server.request(
            "POST", "/api/input", start, {"Content-Type": "application/json", "Host": "rebound.example"}
        )
        assert status == 400 and server.controller.snapshot()["screen"] == "idle", "a rebound page drives nothing"
        for host in (f"127.0.0.1:{server.port}", "localhost", "[::1]:8080", "kiosk.clinic.example"):
            assert server.request("GET", "/api/state", headers={"Host": host})[0] == 200, host
        assert server.request("GET", "/api/state", headers={"Host": "evil.kiosk.clinic.example"})[0] == 400


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path, locale: Locale) -> None:
    with serving(tmp_path / "a", locale) as server:  # no trusted proxy: the peer is the client
        remote = {"X-Forwarded-For": "203.0.113.9"}
        assert server.request("GET", "/api/state", headers=remote)[0] == 200, "still the kiosk machine itself"
        statuses = [
            sign_in(server, f"wrong-{n}-0123456789abcdef", {"X-Forwarded-For": f"203.0.113.{n}"})[0]
            for n in range(PER_CLIENT + 1)
        ]
        assert statuses[-1] == 429, "a new X-Forwarded-For each time does not escape the lock-out"
    with serving(tmp_path / "b", locale, WebConfig(trusted_proxies=("127.0.0.0/8",))) as server:
        status = server.request("GET", "/api/state", headers={"X-Forwarded-For": "203.0.113.9"})[0]
        assert status == 403, "through the proxy, a remote client never sees the kiosk screen"
        chain = {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}  # a client that claims to be local, then the proxy
        assert server.request("GET", "/api/state", headers=chain)[0] == 403
        assert server.request("GET", "/api/state")[0] == 200


# ------------------------------------------------------------------ slow and many clients


def read_reply(sock: socket.socket) -> bytes:
    """One whole response (headers and its Content-Length body), or what came before the server closed."""
    sock.settimeout(DEADLINE_S)
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(4096):
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                if len(body) >= length:
                    break
    return data


def test_slow_header_clients_are_dropped(tmp_path: Path, locale: Locale) -> None:
    web = WebConfig(header_timeout_s=0.5, max_connections_per_client=40)
    with serving(tmp_path, locale, web) as server:
        slow = []
        for _ in range(25):
            sock = socket.create_connection((server.host, server.port), timeout=TIMEOUT_S)
            sock.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            slow.append(sock)
        for sock in slow:
            reply = read_reply(sock)
            assert reply.startswith(b"HTTP/1.1 408 "), reply[:100]
            assert sock.recv(100) == b"", "and the connection is closed"
            sock.close()
        with socket.create_connection((server.host, server.port), timeout=TIMEOUT_S) as sock:
            sock.sendall(b"POST /api/input HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
            sock.sendall(b"Content-Length: 100\r\n\r\n{")  # the body never comes
            reply = read_reply(sock)
        assert reply.startswith(b"HTTP/1.1 408 ") and b"did not arrive in time" in reply
        assert server.request("GET", "/api/state")[0] == 200


def test_connections_past_the_limit_are_refused(tmp_path: Path, locale: Locale) -> None:
    with serving(tmp_path, locale, WebConfig(max_connections_per_client=3, header_timeout_s=60)) as server:
        held = [socket.create_connection((server.host, server.port), timeout=TIMEOUT_S) for _ in range(3)]
        try:
            with socket.create_connection((server.host, server.port), timeout=TIMEOUT_S) as extra:
                reply = read_reply(extra)
            assert reply.startswith(b"HTTP/1.1 429 ") and b"Too many connections from this address" in reply
            held.pop().close()
            wait_for(lambda: _status_or_none(server) == 200, "a connection to be free again")
        finally:
            for sock in held:
                sock.close()


def _status_or_none(server: Server) -> int | None:
    try:
        return server.request("GET", "/api/state")[0]
    except (ConnectionError, http.client.HTTPException):
        return None


def test_the_overall_connection_limit_and_trusted_proxies() -> None:
    limits = ConnectionLimits(WebConfig(max_connections=3, max_connections_per_client=1, trusted_proxies=("10.0.0.1",)))
    assert limits.admit("192.0.2.1") is None
    assert b" 429 " in (limits.admit("192.0.2.1") or b"")
    assert limits.admit("10.0.0.1") is None and limits.admit("10.0.0.1") is None, "a proxy carries many clients"
    assert b" 503 " in (limits.admit("192.0.2.2") or b""), "past max_connections nobody gets in"
    limits.release("10.0.0.1")
    assert limits.admit("192.0.2.2") is None


def test_a_live_stream_nobody_reads_is_dropped(tmp_path: Path, locale: Locale) -> None:
    web = WebConfig(send_timeout_s=0.5)
    with serving(tmp_path, locale, web) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((server.host, server.port))
        sock.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        subscribers = server.controller._subscribers  # the live streams the kiosk feeds
        wait_for(lambda: len(subscribers) == 1, "the stream to be open")
        # 2 MB to send in fewer events than a stream may queue (QUEUE_LIMIT): only the send timeout can end it
        for _ in range(100):
            server.controller._publish({"type": "caption", "turn": 0, "text": "x" * 20_000})
        wait_for(lambda: not subscribers, "the never-reading stream to be dropped")
        sock.close()
        assert server.request("GET", "/api/state")[0] == 200
