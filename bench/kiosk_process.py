"""A real `voice-triage kiosk` process for the browser tests and the soak benchmark.

``KioskProcess.start(workdir)`` writes a config into ``workdir`` (a temporary
SQLite database, an alert command that copies the alert JSON from its stdin
to ``workdir/alert-N.json``, a free port on 127.0.0.1), sets the staff token
in the child's environment, starts ``python -m voice_triage kiosk --no-voice``
and waits, with a deadline, for ``kiosk ready on http://HOST:PORT``.
``stop()`` terminates it, then kills it, and never waits without a limit.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"kiosk ready on (http://\S+?)/?\s*$")
TOKEN_ENV = "VOICE_TRIAGE_TEST_STAFF_TOKEN"
KIOSK_NAME = "Test kiosk <B&1>"  # escaped everywhere it is shown

# The alert command: copy stdin to alert-<time>-<pid>.json in the given folder, atomically
# (written to a temporary name, then renamed), so a reader never sees half a file, and
# alerts that run at the same moment never overwrite each other.
ALERT_SCRIPT = """
import os, sys, time
folder = sys.argv[1]
data = sys.stdin.buffer.read()
name = f"alert-{time.time_ns():020d}-{os.getpid()}"
tmp = os.path.join(folder, f".{name}.tmp")
with open(tmp, "wb") as f:
    f.write(data)
os.replace(tmp, os.path.join(folder, name + ".json"))
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(workdir: Path, port: int, locale: str = "en", **timeouts: float) -> Path:
    """A kiosk config in workdir: temp database, alert command, long timeouts unless given."""
    alerts = workdir / "alerts"
    alerts.mkdir(exist_ok=True)
    script = workdir / "write_alert.py"
    script.write_text(ALERT_SCRIPT, encoding="utf-8")
    values = {"still_there_s": 3000.0, "reset_after_s": 6000.0, "result_pause_s": 3000.0, **timeouts}
    config = {
        "name": KIOSK_NAME,
        "locale": locale,
        "database": str(workdir / "records.sqlite3"),
        "retention_hours": 24,
        "timeouts": values,
        "alerts": {"command": [sys.executable, str(script), str(alerts)], "timeout_s": 10},
        "staff_token_env": TOKEN_ENV,
        "web": {"host": "127.0.0.1", "port": port},
    }
    path = workdir / "kiosk.yaml"
    # JSON is YAML: no quoting surprises
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


@dataclass
class KioskProcess:
    workdir: Path
    token: str
    process: subprocess.Popen[str]
    url: str
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alerts_dir(self) -> Path:
        return self.workdir / "alerts"

    def alert_files(self) -> list[Path]:
        return sorted(self.alerts_dir.glob("alert-*.json"))

    def log(self) -> str:
        """What the process printed so far (stdout and stderr), for failure messages."""
        err = self.workdir / "kiosk.stderr"
        text = "\n".join(self.lines)
        if err.exists():
            text += "\n--- stderr ---\n" + err.read_text(encoding="utf-8", errors="replace")[-6000:]
        return text

    @classmethod
    def start(
        cls,
        workdir: Path,
        ready_timeout_s: float = 60.0,
        extra_args: tuple[str, ...] = (),
        locale: str = "en",
        global_args: tuple[str, ...] = (),
        cwd: Path = ROOT,
        extra_env: dict[str, str] | None = None,
        voice: bool = False,
        **timeouts: float,
    ) -> KioskProcess:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = write_config(workdir, port, locale, **timeouts)
        token = secrets.token_urlsafe(24)
        env = {**os.environ, TOKEN_ENV: token, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        env.pop("VOICE_TRIAGE_STAFF_TOKEN", None)
        command = [sys.executable, "-m", "voice_triage", *global_args, "kiosk", "--config", str(config)]
        command += [] if voice else ["--no-voice"]  # voice: the speech model and the audio devices (extra_env)
        command += ["--host", "127.0.0.1", "--port", "0", *extra_args]  # the kiosk picks a free port and prints it
        stderr = (workdir / "kiosk.stderr").open("w", encoding="utf-8")
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        stderr.close()
        kiosk = cls(workdir=workdir, token=token, process=process, url="")
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + ready_timeout_s
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"the kiosk was not ready within {ready_timeout_s:g} s:\n{kiosk.log()}")
                try:
                    line = lines.get(timeout=min(left, 0.5))
                except queue.Empty:
                    continue
                if line is None:
                    process.wait(timeout=10)
                    raise RuntimeError(
                        f"the kiosk exited with {process.returncode} before it was ready:\n{kiosk.log()}"
                    )
                kiosk.lines.append(line)
                match = READY.search(line)
                if match:
                    kiosk.url = match.group(1).rstrip("/")
                    break
        except BaseException:
            kiosk.stop()
            raise

        def keep_reading() -> None:  # so the pipe never fills
            while True:
                item = lines.get()
                if item is None:
                    return
                kiosk.lines.append(item)

        threading.Thread(target=keep_reading, daemon=True).start()
        return kiosk

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """Terminate the kiosk (and anything it started), then kill it; its exit status."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, 9)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=timeout_s)
        return self.process.returncode

    def rss_kib(self) -> int:
        """The process's resident memory (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc status")

    def __enter__(self) -> KioskProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
