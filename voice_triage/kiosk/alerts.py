"""Staff alerts through the configured command and webhook.

An :class:`Alert` carries the kiosk's name, the time (UTC) and the level,
and nothing else: never an answer, so no channel and no log can leak one.

``send(alert, config)`` raises nothing.  It runs the command (no shell; the
alert as JSON on stdin and as ``VOICE_TRIAGE_KIOSK``/``_TIME``/``_LEVEL``
environment variables) and POSTs the same JSON to the webhook, both at once
so a slow webhook never delays the command, and returns one sentence for each
channel that failed.  ``send_in_background`` does the same without blocking
the caller (the kiosk must speak the emergency message at once).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .config import DEFAULT_TOKEN_ENV, AlertConfig, KioskConfig

log = logging.getLogger(__name__)

# Extra time, beyond a channel's own timeout, before send() stops waiting for it.
_GRACE_S = 2.0
_STDERR_LOG_CHARS = 300


@dataclass(frozen=True)
class Alert:
    """What staff are told: which kiosk, when (aware, normalised to UTC), and how urgent."""

    kiosk: str
    time: datetime
    level: str

    def __post_init__(self) -> None:
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("an alert's time must be timezone-aware")
        object.__setattr__(self, "time", self.time.astimezone(UTC))

    @classmethod
    def now(cls, kiosk: str, level: str) -> Alert:
        return cls(kiosk=kiosk, time=datetime.now(UTC), level=level)

    @property
    def time_text(self) -> str:
        """ISO 8601 UTC to the second, e.g. ``2025-03-01T09:30:00Z``."""
        return self.time.strftime("%Y-%m-%dT%H:%M:%SZ")

    def as_dict(self) -> dict[str, str]:
        return {"kiosk": self.kiosk, "time": self.time_text, "level": self.level}

    def to_json(self) -> bytes:
        return json.dumps(self.as_dict(), ensure_ascii=False).encode("utf-8")

    def environment(self) -> dict[str, str]:
        return {
            "VOICE_TRIAGE_KIOSK": self.kiosk,
            "VOICE_TRIAGE_TIME": self.time_text,
            "VOICE_TRIAGE_LEVEL": self.level,
        }


def _seconds(value: float) -> str:
    return f"{value:g} second" + ("" if value == 1 else "s")


def run_command(
    alert: Alert, command: tuple[str, ...], timeout_s: float, hide_env: str = DEFAULT_TOKEN_ENV
) -> str | None:
    """Run the alert command; None on success, else one sentence saying what went wrong."""
    return run_quietly("alert command", command, alert.to_json(), timeout_s, hide_env, alert.environment())


def run_quietly(
    what: str,
    command: tuple[str, ...],
    stdin: bytes,
    timeout_s: float,
    hide_env: str = DEFAULT_TOKEN_ENV,
    extra_env: dict[str, str] | None = None,
) -> str | None:
    """Run a staff-configured command (no shell, ``stdin`` on its input, the staff token's variable
    hidden); None on success, else one sentence naming ``what`` failed and how."""
    env = {key: value for key, value in os.environ.items() if key != hide_env}
    env.update(extra_env or {})
    try:
        done = subprocess.run(
            list(command),
            input=stdin,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout_s,
            shell=False,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"The {what} did not finish within {_seconds(timeout_s)}."
    except FileNotFoundError:
        return f"The {what} could not be started: {command[0]!r} was not found."
    except PermissionError:
        return f"The {what} could not be started: {command[0]!r} is not executable."
    except (OSError, ValueError) as exc:
        return f"The {what} could not be started ({type(exc).__name__})."
    if done.returncode == 0:
        return None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if stderr:
        log.warning("%s stderr: %s", what, stderr[-_STDERR_LOG_CHARS:])
    if done.returncode < 0:
        return f"The {what} was killed (signal {-done.returncode})."
    return f"The {what} failed (exit {done.returncode})."


def post_webhook(alert: Alert, url: str, timeout_s: float) -> str | None:
    """POST the alert as JSON; None on a 2xx answer, else one sentence saying what went wrong."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "The alert webhook is not an http:// or https:// URL."
    request = urllib.request.Request(
        url,
        data=alert.to_json(),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "voice-triage"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"The alert webhook answered HTTP {exc.code}."
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return f"The alert webhook did not answer within {_seconds(timeout_s)}."
        reason = getattr(exc.reason, "strerror", None) or str(exc.reason)
        return f"The alert webhook could not be reached ({reason})."
    except TimeoutError:
        return f"The alert webhook did not answer within {_seconds(timeout_s)}."
    except (OSError, ValueError) as exc:
        return f"The alert webhook could not be reached ({type(exc).__name__})."
    if not 200 <= status < 300:
        return f"The alert webhook answered HTTP {status}."
    return None


def _channels(alert: Alert, config: AlertConfig, hide_env: str) -> dict[str, Callable[[], str | None]]:
    channels: dict[str, Callable[[], str | None]] = {}
    if config.command:
        channels["command"] = lambda: run_command(alert, config.command, config.timeout_s, hide_env)
    if config.webhook:
        url = config.webhook
        channels["webhook"] = lambda: post_webhook(alert, url, config.timeout_s)
    return channels


def send(alert: Alert, config: KioskConfig | AlertConfig) -> list[str]:
    """Raise the alert on every configured channel at once; one sentence per channel that failed.

    Never raises.  Waits at most about the configured timeout (plus a short
    grace) for each channel.
    """
    hide_env = config.staff_token_env if isinstance(config, KioskConfig) else DEFAULT_TOKEN_ENV
    alerts = config.alerts if isinstance(config, KioskConfig) else config
    try:
        channels = _channels(alert, alerts, hide_env)
        results: dict[str, str | None] = {}
        threads: dict[str, threading.Thread] = {}

        def run(name: str, channel: Callable[[], str | None]) -> None:
            try:
                results[name] = channel()
            except Exception as exc:  # a channel must never take the kiosk down
                results[name] = f"The alert {name} failed unexpectedly ({type(exc).__name__})."

        for name, channel in channels.items():
            threads[name] = threading.Thread(target=run, args=(name, channel), name=f"alert-{name}", daemon=True)
            threads[name].start()
        failures: list[str] = []
        for name, thread in threads.items():
            thread.join(alerts.timeout_s + _GRACE_S)
            if thread.is_alive():
                failure: str | None = f"The alert {name} did not finish within {_seconds(alerts.timeout_s)}."
            else:
                failure = results.get(name)
            if failure:
                failures.append(failure)
                log.warning("staff alert (level %s) not delivered: %s", alert.level, failure)
            else:
                log.info("staff alert (level %s) delivered by %s", alert.level, name)
        return failures
    except Exception as exc:
        failure = f"The staff alert could not be sent ({type(exc).__name__})."
        log.warning("%s", failure)
        return [failure]


def send_in_background(
    alert: Alert, config: KioskConfig | AlertConfig, done: Callable[[list[str]], None] | None = None
) -> Future[list[str]]:
    """Like :func:`send`, on a daemon thread; the future (and ``done``, if given) get the failures."""
    future: Future[list[str]] = Future()

    def work() -> None:
        failures = send(alert, config)
        future.set_result(failures)
        if done is not None:
            try:
                done(failures)
            except Exception:
                log.exception("alert completion callback failed")

    threading.Thread(target=work, name="alert-send", daemon=True).start()
    return future
