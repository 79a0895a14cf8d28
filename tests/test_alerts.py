"""Staff alerts: a real command and a real HTTP server receive only kiosk, time and level."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voice_triage.kiosk.alerts import Alert, send, send_in_background
from voice_triage.kiosk.config import AlertConfig, KioskConfig

ALERT = Alert(kiosk="Waiting room A", time=datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC), level="emergency")
EXPECTED = {"kiosk": "Waiting room A", "time": "2025-03-01T09:30:00Z", "level": "emergency"}

# Writes its stdin, its VOICE_TRIAGE_* environment and the time it ran to argv[1] as JSON.
RECORDER = """
import json, os, sys, time
out = {
    "stdin": sys.stdin.read(),
    "env": {k: v for k, v in os.environ.items() if k.startswith("VOICE_TRIAGE_")},
    "at": time.time(),
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(out, f)
"""


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook tests talk to 127.0.0.1 directly, whatever proxy the environment sets."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


class Hook:
    """A real HTTP server on 127.0.0.1 that records each POST and answers ``status`` after ``delay`` seconds."""

    def __init__(self, status: int = 204, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.received: list[tuple[str, str, bytes]] = []
        self.received_at: list[float] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                hook.received.append((self.path, self.headers.get("Content-Type", ""), body))
                hook.received_at.append(time.time())
                time.sleep(hook.delay)
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert?key=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


@pytest.fixture
def slow_hook() -> Iterator[Hook]:
    server = Hook(delay=1.5)
    yield server
    server.close()


def recorder(out: Path) -> tuple[str, ...]:
    return (sys.executable, "-c", RECORDER, str(out))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ the alert


def test_an_alert_holds_only_kiosk_time_and_level() -> None:
    assert [f.name for f in fields(Alert)] == ["kiosk", "time", "level"]
    assert ALERT.as_dict() == EXPECTED
    assert json.loads(ALERT.to_json()) == EXPECTED
    assert ALERT.environment() == {
        "VOICE_TRIAGE_KIOSK": "Waiting room A",
        "VOICE_TRIAGE_TIME": "2025-03-01T09:30:00Z",
        "VOICE_TRIAGE_LEVEL": "emergency",
    }


def test_alert_time_is_aware_and_utc() -> None:
    seoul = timezone(timedelta(hours=9))
    alert = Alert("K", datetime(2025, 3, 1, 18, 30, tzinfo=seoul), "emergency")
    assert alert.time.utcoffset() == timedelta(0)
    assert alert.time_text == "2025-03-01T09:30:00Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        Alert("K", datetime(2025, 3, 1, 9, 30), "emergency")
    now = Alert.now("K", "assist")
    assert now.time.tzinfo is not None
    assert abs((datetime.now(UTC) - now.time).total_seconds()) < 5


# ------------------------------------------------------------------ channels


def test_command_gets_the_alert_on_stdin_and_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_TRIAGE_STAFF_TOKEN", "a-secret-staff-token-123")
    out = tmp_path / "alert.json"
    assert send(ALERT, AlertConfig(command=recorder(out))) == []
    record = json.loads(out.read_text(encoding="utf-8"))
    assert json.loads(record["stdin"]) == EXPECTED
    # The staff token is not passed on to the command.
    assert record["env"] == {
        "VOICE_TRIAGE_KIOSK": "Waiting room A",
        "VOICE_TRIAGE_TIME": "2025-03-01T09:30:00Z",
        "VOICE_TRIAGE_LEVEL": "emergency",
    }


def test_command_is_never_run_through_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    marker = tmp_path / "injected"
    # Shell syntax in an argument stays one literal argument.
    command = (*recorder(out), f"; touch {marker}")
    assert send(ALERT, AlertConfig(command=command)) == []
    assert out.exists()
    assert not marker.exists()


def test_the_kiosk_config_hides_its_own_token_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_TRIAGE_WARD_TOKEN", "a-secret-staff-token-123")
    out = tmp_path / "alert.json"
    config = KioskConfig(name="K", staff_token_env="VOICE_TRIAGE_WARD_TOKEN", alerts=AlertConfig(command=recorder(out)))
    assert send(ALERT, config) == []
    assert "VOICE_TRIAGE_WARD_TOKEN" not in json.loads(out.read_text(encoding="utf-8"))["env"]


def test_webhook_gets_json_with_exactly_kiosk_time_and_level(hook: Hook) -> None:
    assert send(ALERT, AlertConfig(webhook=hook.url)) == []
    ((path, content_type, body),) = hook.received
    assert path == "/alert?key=abc"
    assert content_type.startswith("application/json")
    payload = json.loads(body)
    assert set(payload) == {"kiosk", "time", "level"}
    assert payload == EXPECTED


def test_both_channels(tmp_path: Path, hook: Hook) -> None:
    out = tmp_path / "alert.json"
    assert send(ALERT, AlertConfig(command=recorder(out), webhook=hook.url)) == []
    assert json.loads(json.loads(out.read_text(encoding="utf-8"))["stdin"]) == EXPECTED
    assert json.loads(hook.received[0][2]) == EXPECTED


def test_no_channels_is_no_failure() -> None:
    assert send(ALERT, AlertConfig()) == []


# ------------------------------------------------------------------ failures are sentences


def test_failing_command(caplog: pytest.LogCaptureFixture) -> None:
    command = (sys.executable, "-c", "import sys; sys.stderr.write('pager offline'); sys.exit(3)")
    with caplog.at_level(logging.WARNING, logger="voice_triage.kiosk.alerts"):
        assert send(ALERT, AlertConfig(command=command)) == ["The alert command failed (exit 3)."]
    assert "The alert command failed (exit 3)." in caplog.text
    assert "pager offline" in caplog.text


def test_missing_command(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-pager")
    assert send(ALERT, AlertConfig(command=(missing,))) == [
        f"The alert command could not be started: {missing!r} was not found."
    ]


def test_command_that_is_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "pager"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    assert send(ALERT, AlertConfig(command=(str(script),))) == [
        f"The alert command could not be started: {str(script)!r} is not executable."
    ]


def test_command_that_hangs_is_stopped() -> None:
    command = (sys.executable, "-c", "import time; time.sleep(30)")
    started = time.monotonic()
    assert send(ALERT, AlertConfig(command=command, timeout_s=0.5)) == [
        "The alert command did not finish within 0.5 seconds."
    ]
    assert time.monotonic() - started < 5


def test_unreachable_webhook() -> None:
    url = f"http://127.0.0.1:{free_port()}/alert"
    (failure,) = send(ALERT, AlertConfig(webhook=url))
    assert failure.startswith("The alert webhook could not be reached (")
    assert failure.endswith(").")
    assert "Waiting room A" not in failure


def test_webhook_error_status() -> None:
    server = Hook(status=500)
    try:
        assert send(ALERT, AlertConfig(webhook=server.url)) == ["The alert webhook answered HTTP 500."]
    finally:
        server.close()


def test_webhook_that_does_not_answer_in_time() -> None:
    server = Hook(delay=3)
    try:
        started = time.monotonic()
        assert send(ALERT, AlertConfig(webhook=server.url, timeout_s=0.5)) == [
            "The alert webhook did not answer within 0.5 seconds."
        ]
        assert time.monotonic() - started < 2.5
    finally:
        server.close()


def test_both_channels_failing_give_two_sentences(caplog: pytest.LogCaptureFixture) -> None:
    command = (sys.executable, "-c", "raise SystemExit(2)")
    url = f"http://127.0.0.1:{free_port()}/alert"
    with caplog.at_level(logging.INFO, logger="voice_triage.kiosk.alerts"):
        failures = send(ALERT, AlertConfig(command=command, webhook=url))
    assert failures[0] == "The alert command failed (exit 2)."
    assert failures[1].startswith("The alert webhook could not be reached")
    assert len(failures) == 2


def test_a_broken_config_gives_a_sentence_not_an_exception() -> None:
    # A hand-built AlertConfig is not validated: a bad URL must still not raise.
    assert send(ALERT, AlertConfig(webhook="file:///etc/passwd")) == [
        "The alert webhook is not an http:// or https:// URL."
    ]
    assert send(ALERT, AlertConfig(command=("",))) != []


# ------------------------------------------------------------------ concurrency


def test_a_slow_webhook_does_not_delay_the_command(tmp_path: Path, slow_hook: Hook) -> None:
    out = tmp_path / "alert.json"
    started = time.time()
    assert send(ALERT, AlertConfig(command=recorder(out), webhook=slow_hook.url)) == []
    finished = time.time()
    ran_at = json.loads(out.read_text(encoding="utf-8"))["at"]
    assert finished - started >= slow_hook.delay  # send waited for the webhook...
    assert ran_at - started < 1.0  # ...but the command ran at once, not after it
    assert slow_hook.received


def test_a_slow_command_does_not_delay_the_webhook(tmp_path: Path, hook: Hook) -> None:
    command = (sys.executable, "-c", "import time; time.sleep(1.5)")
    started = time.time()
    assert send(ALERT, AlertConfig(command=command, webhook=hook.url)) == []
    assert time.time() - started >= 1.5
    (received_at,) = hook.received_at
    assert received_at - started < 1.0


def test_send_in_background_returns_at_once(slow_hook: Hook) -> None:
    got: list[list[str]] = []
    started = time.monotonic()
    future = send_in_background(ALERT, AlertConfig(webhook=slow_hook.url), got.append)
    assert time.monotonic() - started < 0.5
    assert future.result(timeout=10) == []
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == [[]]


# ------------------------------------------------------------------ the systemd unit

UNIT = ROOT / "deploy" / "voice-triage.service"
EXEC = "/opt/voice-triage/.venv/bin/voice-triage"


def verify_unit(path: Path) -> list[str]:
    """What ``systemd-analyze verify`` says about a unit, less the absent install location."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    done = subprocess.run([tool, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False)
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    # The unit names the installed program; on a build machine it is not there.
    absent = f"Command {EXEC} is not executable: No such file or directory"
    lines = [line for line in said if Path(EXEC).exists() or not line.endswith(absent)]
    if done.returncode != 0 and said == lines and not lines:
        lines.append(f"systemd-analyze verify exited with {done.returncode} and said nothing")
    return lines


def test_the_systemd_unit_verifies() -> None:
    assert verify_unit(UNIT) == []


def test_the_unit_check_catches_a_broken_unit(tmp_path: Path) -> None:
    broken = tmp_path / "voice-triage.service"
    broken.write_text(UNIT.read_text().replace("Restart=always", "Restart=sometimes"))
    assert any("Restart" in line or "restart" in line for line in verify_unit(broken))


def test_the_unit_runs_the_kiosk_and_always_restarts() -> None:
    text = UNIT.read_text()
    settings = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    for needed in (
        f"ExecStart={EXEC} kiosk --config /etc/voice-triage/kiosk.yaml",
        "Restart=always",
        "RestartSec=2",
        "User=voice-triage",
        "EnvironmentFile=/etc/voice-triage/staff.env",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/voice-triage",
        "PrivateTmp=yes",
    ):
        assert needed in settings
