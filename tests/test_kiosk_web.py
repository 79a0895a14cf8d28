"""The kiosk's web server over real HTTP: a uvicorn server on a free port (in a thread), and the CLI in a subprocess.

Security: the staff page and API refuse requests without the token (401);
malformed or oversized requests get 4xx, never 5xx; content from answers and
from YAML is escaped; records older than the retention period are gone.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from voice_triage.cli import main
from voice_triage.core.locale import Locale, load_locale
from voice_triage.core.paths import PROMPTS
from voice_triage.core.summary import Answer, CauseEntry, Summary
from voice_triage.core.yamlload import ContentError
from voice_triage.kiosk import alerts
from voice_triage.kiosk.config import KioskConfig
from voice_triage.kiosk.controller import KioskController
from voice_triage.kiosk.records import RecordStore
from voice_triage.kiosk.run import _bind
from voice_triage.kiosk.server import uvicorn_config
from voice_triage.kiosk.text import load_kiosk_text, load_locale_text
from voice_triage.kiosk.web import MAX_BODY, create_app, kiosk_page

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "staff-token-0123456789-abcdef"
NASTY = "<script>alert('x')</script>"
KIOSK_NAME = 'Kiosk <b>"A"</b> & co'
TIMEOUT_S = 10.0


@dataclass
class Server:
    host: str
    port: int
    controller: KioskController
    store: RecordStore
    sent: list[alerts.Alert]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        try:
            data = body.encode("utf-8") if isinstance(body, str) else body
            conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def post_json(self, path: str, data: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        status, _, body = self.request(
            "POST", path, json.dumps(data), {"Content-Type": "application/json", **(headers or {})}
        )
        return status, json.loads(body) if body else None

    def staff(self, path: str) -> tuple[int, bytes]:
        status, _, body = self.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        return status, body


@pytest.fixture
def server(tmp_path: Path, locale: Locale) -> Iterator[Server]:
    text = load_locale_text("en")
    store = RecordStore(tmp_path / "records.sqlite3", retention=timedelta(hours=1))
    config = KioskConfig(name=KIOSK_NAME, database=str(tmp_path / "records.sqlite3"))
    sent: list[alerts.Alert] = []
    controller = KioskController(locale, text, config, store, notify=sent.append)
    app = create_app(controller, store, TOKEN)
    sock = _bind("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    uv = uvicorn.Server(uvicorn_config(app, config.web))  # as `voice-triage kiosk` serves it
    thread = threading.Thread(target=lambda: asyncio.run(uv.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start"
        assert thread.is_alive(), "the server thread died"
        time.sleep(0.01)
    try:
        yield Server(host, port, controller, store, sent)
    finally:
        uv.should_exit = True
        thread.join(TIMEOUT_S)
        store.close()


def record(at: datetime, *, question: str = "Is there numbness?", words: str = "yes", level: str = "urgent") -> Summary:
    return Summary(
        kiosk=KIOSK_NAME,
        finished_at=at,
        locale="en",
        level=level,
        red_flags=("saddle_numbness",) if level == "emergency" else (),
        causes=(CauseEntry("hip_flexor_strain", "a strained <hip> flexor", 1.5),),
        answers=(Answer(question, words, "saddle_numbness", "yes"),),
        outcome="emergency" if level == "emergency" else "finished",
    )


# ------------------------------------------------------------------ the kiosk page


def test_kiosk_page_and_headers(server: Server) -> None:
    status, headers, body = server.request("GET", "/")
    assert status == 200
    page = body.decode()
    assert '<html lang="en">' in page and 'id="caption" aria-live="polite"' in page
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    for asset in ("/static/kiosk.js", "/static/kiosk.css", "/static/staff.js", "/static/staff.css"):
        status, _, body = server.request("GET", asset)
        assert status == 200 and body, asset
    js = server.request("GET", "/static/kiosk.js")[2].decode()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js, "content is rendered as text only"


def test_yaml_text_is_escaped_on_the_kiosk_page() -> None:
    page = kiosk_page("en", NASTY, {"captions": NASTY, "settings": "S"})
    assert NASTY not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_a_session_over_http_and_the_live_stream(server: Server) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT_S)
    try:
        conn.request("GET", "/events")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("content-type", "").startswith("text/event-stream")

        def next_event() -> dict[str, Any]:
            while True:
                line = response.fp.readline().decode()
                assert line, "the stream ended"
                if line.startswith("data: "):
                    event: dict[str, Any] = json.loads(line[6:])
                    return event

        first = next_event()
        assert first["type"] == "state" and first["state"]["screen"] == "idle"
        assert server.post_json("/api/input", {"answer": "yes", "step": first["state"]["step"]})[0] == 409, "idle"
        assert server.post_json("/api/input", {"start": True}) == (200, {"ok": True})
        seen = [next_event() for _ in range(4)]
        captions = [e["text"] for e in seen if e["type"] == "caption"]
        assert captions[:2] == [
            server.controller.content.messages.say("welcome_touch"),  # no voice here: touch to answer
            server.controller.content.messages.say("disclaimer"),
        ]
        status, _, body = server.request("GET", "/api/state")
        view = json.loads(body)
        assert status == 200 and view["screen"] == "question"
        assert server.post_json("/api/input", {"answer": "yes", "step": view["step"]})[0] == 200  # a red flag
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            event = next_event()
            if event["type"] == "state" and event["state"]["screen"] == "result":
                break
            assert time.monotonic() < deadline
        assert event["state"]["result"]["level"] == "emergency"
    finally:
        conn.close()
    [sent] = server.sent
    assert set(sent.as_dict()) == {"kiosk", "time", "level"}
    status, body = server.staff("/staff")
    page = body.decode()
    assert status == 200 and 'id="staff-alert" role="alert"' in page
    assert "Kiosk &lt;b&gt;&quot;A&quot;&lt;/b&gt; &amp; co" in page and KIOSK_NAME not in page
    status, _ = server.post_json("/api/staff/ack", {}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    assert server.controller.snapshot()["screen"] == "idle"
    assert 'id="staff-alert"' not in server.staff("/staff")[1].decode()


# ------------------------------------------------------------------ staff auth


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/staff"), ("GET", "/api/staff/sessions"), ("GET", "/api/staff/alerts"), ("POST", "/api/staff/ack")],
)
@pytest.mark.parametrize(
    "auth", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x", "Bearer ü"]
)
def test_staff_refuses_requests_without_the_token(server: Server, method: str, path: str, auth: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    status, _, body = server.request(method, path, "{}" if method == "POST" else None, headers)
    assert status == 401
    assert b"saddle" not in body


def test_staff_token_and_login_cookie(server: Server) -> None:
    server.store.add(record(datetime.now(UTC)))
    status, body = server.staff("/api/staff/sessions")
    assert status == 200 and len(json.loads(body)["sessions"]) == 1

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, body = server.request("POST", "/staff/login", "token=nope", form)
    assert status == 401 and b'role="alert"' in body
    status, headers, _ = server.request("POST", "/staff/login", f"token={TOKEN}", form)
    assert status == 303 and headers["location"] == "/staff"
    cookie = headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie, "the cookie is not the token itself"
    value = cookie.split(";", 1)[0]
    status, _, body = server.request("GET", "/staff", headers={"Cookie": value})
    assert status == 200 and b"Today's sessions" in body
    status, _, _ = server.request("GET", "/api/staff/sessions", headers={"Cookie": value + "x"})
    assert status == 401


def test_sessions_are_listed_emergencies_first(server: Server) -> None:
    now = datetime.now(UTC)
    server.store.add(record(now - timedelta(minutes=5), level="emergency"))
    server.store.add(record(now, level="routine"))
    _, body = server.staff("/api/staff/sessions")
    sessions = json.loads(body)["sessions"]
    assert [s["level"] for s in sessions] == ["emergency", "routine"]
    assert sessions[0]["answers"] == [{"question": "Is there numbness?", "answer": "yes"}]
    page = server.staff("/staff")[1].decode()
    assert page.count('class="print"') == 2, "each record can be printed"


# ------------------------------------------------------------------ escaping and retention


def test_answer_and_yaml_text_are_escaped_on_the_staff_page(server: Server) -> None:
    server.store.add(record(datetime.now(UTC), question=NASTY, words='<img src=x onerror="alert(1)">'))
    status, body = server.staff("/staff")
    page = body.decode()
    assert status == 200
    assert NASTY not in page and "<img" not in page and "<hip>" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    _, headers, _ = server.request("GET", "/staff", headers={"Authorization": f"Bearer {TOKEN}"})
    assert headers["content-type"].startswith("text/html")


def test_records_older_than_the_retention_period_are_gone(server: Server, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    server.store.add(record(now - timedelta(hours=2), question="old question"), now=now - timedelta(hours=2))
    server.store.add(record(now - timedelta(minutes=59), question="recent question"))
    status, body = server.staff("/api/staff/sessions")
    questions = [a["question"] for s in json.loads(body)["sessions"] for a in s["answers"]]
    assert status == 200 and "old question" not in questions
    with sqlite3.connect(tmp_path / "records.sqlite3") as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM records")]
    assert len(bodies) == 1 and "recent question" in bodies[0], "the expired record is deleted from the file"


# ------------------------------------------------------------------ malformed input


BAD_INPUTS: list[tuple[str, bytes]] = [
    ("application/json", b""),
    ("application/json", b"not json"),
    ("application/json", b"[1, 2]"),
    ("application/json", b'"start"'),
    ("application/json", b"{}"),
    ("application/json", b'{"start": true, "answer": "yes"}'),
    ("application/json", b'{"start": 1}'),
    ("application/json", b'{"start": "yes"}'),
    ("application/json", b'{"answer": true}'),
    ("application/json", b'{"answer": null}'),
    ("application/json", b'{"answer": ["yes"]}'),
    ("application/json", b'{"answer": {"a": 1}}'),
    ("application/json", b'{"answer": ""}'),
    ("application/json", b'{"answer": "' + b"9" * 40 + b'"}'),
    ("application/json", b'{"answer": NaN}'),
    ("application/json", b'{"answer": Infinity}'),
    ("application/json", b'{"command": "explode"}'),
    ("application/json", b'{"command": 3}'),
    ("application/json", b'{"setting": "__class__"}'),
    ("application/json", b'{"scan": "' + b"k" * 40 + b'"}'),
    ("application/json", b'{"unknown": 1}'),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b"[" * 3000 + b"]" * 3000),
    ("application/json", b'{"a": ' * 1000 + b"1" + b"}" * 1000),
    ("text/plain", b'{"start": true}'),
    ("application/x-www-form-urlencoded", b"start=true"),
]


@pytest.mark.parametrize(("kind", "body"), BAD_INPUTS, ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_malformed_input_is_a_4xx(server: Server, kind: str, body: bytes) -> None:
    status, _, answer = server.request("POST", "/api/input", body, {"Content-Type": kind})
    assert 400 <= status < 500, (status, answer)
    assert server.controller.snapshot()["screen"] == "idle"


def test_oversized_bodies_are_refused(server: Server) -> None:
    big = json.dumps({"answer": "x" * (MAX_BODY + 10)})
    status, _, _ = server.request("POST", "/api/input", big, {"Content-Type": "application/json"})
    assert status == 413
    status, _, _ = server.request(
        "POST", "/staff/login", "token=" + "a" * (MAX_BODY * 4), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 413
    status, _ = server.post_json("/api/staff/ack", {"id": "x" * (MAX_BODY * 2)}, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 413


def test_a_lying_content_length_is_refused(server: Server) -> None:
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT_S) as sock:
        sock.sendall(
            b"POST /api/input HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999999999\r\n\r\n{}"
        )
        reply = sock.recv(200)
    assert reply.startswith(b"HTTP/1.1 4"), reply


@pytest.mark.parametrize(
    "body",
    [b'{"id": "1"}', b'{"id": true}', b'{"id": 1, "x": 2}', b"[]", b"nope", b'{"id": 1.5}'],
)
def test_malformed_staff_ack_is_a_4xx(server: Server, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    status, _, _ = server.request("POST", "/api/staff/ack", body, headers)
    assert status == 400


def test_bad_routes_and_methods_are_4xx(server: Server) -> None:
    for method, path in [
        ("GET", "/nowhere"),
        ("GET", "/api/input"),
        ("DELETE", "/staff"),
        ("GET", "/static/../web.py"),
    ]:
        status, _, _ = server.request(method, path)
        assert 400 <= status < 500, (method, path, status)
    status, _, _ = server.request(
        "POST", "/staff/login", b"\xff\xfe", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status in (400, 401)


# ------------------------------------------------------------------ kiosk text


def test_both_locales_have_every_kiosk_word() -> None:
    en, ko = load_locale_text("en"), load_locale_text("ko")
    assert set(en.fields) == set(ko.fields) and set(en.labels) == set(ko.labels)
    assert "start" in en.start_phrases and ko.start_phrases


def test_a_broken_kiosk_file_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (PROMPTS / "en" / "kiosk.yaml").read_text(encoding="utf-8")
    (tmp_path / "kiosk.yaml").write_text(text.replace('  stop: "Stop"\n', "  stop: 3\n  shout: x\n"), encoding="utf-8")
    with pytest.raises(ContentError) as err:
        load_kiosk_text(tmp_path)
    lines = [str(p) for p in err.value.problems]
    line_no = text[: text.index('  stop: "Stop"')].count("\n") + 1
    assert any(f":{line_no}: " in line and "'stop'" in line for line in lines), lines
    assert any("unknown key 'shout'" in line for line in lines), lines


# ------------------------------------------------------------------ the command


def _config(tmp_path: Path, token_env: str = "VT_TEST_TOKEN") -> Path:
    path = tmp_path / "kiosk.yaml"
    path.write_text(
        json.dumps({"name": "CLI kiosk", "database": str(tmp_path / "r.sqlite3"), "staff_token_env": token_env}),
        encoding="utf-8",
    )
    return path


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice_triage", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_without_a_staff_token_the_kiosk_says_so_and_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VT_TEST_TOKEN"}
    done = _run(["kiosk", "--config", str(_config(tmp_path)), "--no-voice", "--port", "0"], env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "VT_TEST_TOKEN" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_config_is_reported_as_path_line(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.yaml"
    path.write_text("name: x\ntimeouts:\n  still_there_s: -1\n", encoding="utf-8")
    done = _run(["kiosk", "--config", str(path), "--no-voice"], dict(os.environ))
    assert done.returncode == 2 and f"{path}:3:" in done.stderr, done.stderr


def test_the_kiosk_command_serves_and_says_where(tmp_path: Path) -> None:
    env = {**os.environ, "VT_TEST_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "voice_triage", "kiosk", "--config", str(_config(tmp_path)), "--no-voice"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(process.stdout.readline() if process.stdout else ""))
        reader.start()
        reader.join(60)
        assert lines and lines[0].startswith("kiosk ready on http://127.0.0.1:"), (lines, process.poll())
        port = int(lines[0].strip().rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
        conn.request("POST", "/api/input", body=b'{"start": true}', headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate(timeout=15)
    assert "Traceback" not in err, err
    assert "bladder" not in err.lower(), "nothing of the session is logged"


def test_validate_checks_the_kiosk_words(locale_copy: Any, capsys: pytest.CaptureFixture[str]) -> None:

    line = locale_copy.replace("kiosk.yaml", '  help: "Help"\n', '  help: ""\n')
    assert main(["validate", str(locale_copy.prompts)]) == 2
    err = capsys.readouterr().err
    assert f"kiosk.yaml:{line}: kiosk 'labels': 'help' must be non-empty text" in err, err


def test_an_unopenable_database_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    path = tmp_path / "kiosk.yaml"
    path.write_text(
        json.dumps({"name": "k", "database": str(blocker / "sub" / "r.sqlite3"), "staff_token_env": "VT_TEST_TOKEN"}),
        encoding="utf-8",
    )
    done = _run(["kiosk", "--config", str(path), "--no-voice", "--port", "0"], {**os.environ, "VT_TEST_TOKEN": TOKEN})
    assert done.returncode == 1
    assert done.stderr.startswith("The record database ") and done.stderr.count("\n") == 1, done.stderr


def test_the_korean_kiosk_speaks_korean(tmp_path: Path) -> None:

    controller = KioskController(
        load_locale("ko"), load_locale_text("ko"), KioskConfig(name="k", locale="ko"), None, notify=lambda a: None
    )
    controller.start()
    view = controller.snapshot()
    assert view["lang"] == "ko"
    labels = {b["value"]: b["label"] for b in view["buttons"]}
    assert labels["yes"] == "네" and labels["repeat"] == "다시 듣기"
    assert '<html lang="ko">' in kiosk_page("ko", controller.text["title"], dict(controller.text.regions))


def _asgi_get(app: Any, path: str, client: tuple[str, int], headers: list[tuple[bytes, bytes]]) -> int:
    """One GET straight through the ASGI app, as if from ``client``; the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080"), *headers],
        "client": client,
        "server": ("0.0.0.0", 8080),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(asyncio.wait_for(app(scope, receive, send), TIMEOUT_S))
    return statuses[0]


def test_the_kiosk_screen_is_not_served_to_other_machines(locale: Locale) -> None:
    controller = KioskController(locale, load_locale_text("en"), KioskConfig(name="k"), None, notify=lambda a: None)
    app = create_app(controller, None, TOKEN)
    bearer = [(b"authorization", f"Bearer {TOKEN}".encode())]
    for path in ("/", "/api/state", "/events"):
        assert _asgi_get(app, path, ("192.0.2.7", 5000), []) == 403, path
    assert _asgi_get(app, "/api/state", ("127.0.0.1", 5000), []) == 200
    assert _asgi_get(app, "/api/state", ("::1", 5000), []) == 200
    assert _asgi_get(app, "/api/staff/sessions", ("192.0.2.7", 5000), bearer) == 200, "staff may be remote"
    assert _asgi_get(app, "/api/staff/sessions", ("192.0.2.7", 5000), []) == 401


def test_a_record_exports_as_a_valid_fhir_questionnaire_response(server: Server) -> None:
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    server.controller.start()
    server.controller.answer("yes")  # a red flag: the session ends and is stored
    [summary] = server.store.today(datetime.now().astimezone())
    path = f"/api/staff/sessions/{summary.id}/fhir"
    status, _, _ = server.request("GET", path)
    assert status == 401
    status, headers, body = server.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and headers["content-type"].startswith("application/fhir+json")
    resource = json.loads(body)
    QuestionnaireResponse.model_validate(resource)
    assert resource["author"]["display"] == KIOSK_NAME
    assert f'href="{path}"' in server.staff("/staff")[1].decode()
    assert server.staff("/api/staff/sessions/999999/fhir")[0] == 404
    assert server.staff("/api/staff/sessions/abc/fhir")[0] == 404


def test_the_staff_page_speaks_the_kiosks_locale(tmp_path: Path) -> None:
    from voice_triage.kiosk.text import STAFF_FIELDS, load_staff_text
    from voice_triage.kiosk.web import login_page, staff_page

    ko, en = load_staff_text("ko"), load_staff_text("en")
    assert set(ko) == set(en) == set(STAFF_FIELDS)
    page = staff_page("k", [], [{"id": 1, "kiosk": "k", "time": "t", "level": "emergency"}], words=ko, lang="ko")
    assert '<html lang="ko">' in page and "전달 기록: k" in page and "직원이 필요해요" in page and "로그아웃" in page
    assert "Hand-off records" not in page and "Sign out" not in page and "Staff needed" not in page
    assert 'data-acknowledge="확인"' in page  # the words staff.js draws with
    assert "직원 로그인: k" in login_page("k", failed=True, words=ko, lang="ko")
    # a placeholder a locale's file invents is refused with its line
    bad = tmp_path / "xx"
    bad.mkdir()
    text = (PROMPTS / "en" / "staff.yaml").read_text(encoding="utf-8").replace("{count}", "{number}")
    (bad / "staff.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        load_staff_text("xx", tmp_path)
    assert "unknown placeholder {number}" in str(exc.value)
