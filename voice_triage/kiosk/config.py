"""The kiosk's one configuration file, loaded once and validated fully.

``load_config(path)`` reads a YAML file such as ``deploy/kiosk.example.yaml``
into frozen dataclasses and reports *every* problem at once as
``path:line: message`` (a :class:`ConfigError`, which is a
:class:`~voice_triage.yamlload.ContentError`).  Every key except ``name`` is
optional; ``default_config()`` gives the defaults.  Relative ``model`` and
``database`` paths are taken relative to the config file's directory.

The staff token itself is never in the file: ``staff_token_env`` names the
environment variable that holds it (the systemd unit reads it from an
``EnvironmentFile``), and :meth:`KioskConfig.staff_token` reads it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..core.yamlload import ContentError, LineDict, LineList, Problem, load_file, where
from ..speech.speech_in import ListenSettings

LOCALES = ("en", "ko")
DEFAULT_DATABASE = "/var/lib/voice-triage/records.sqlite3"
IN_MEMORY = ":memory:"
DEFAULT_TOKEN_ENV = "VOICE_TRIAGE_STAFF_TOKEN"
MIN_TOKEN_LENGTH = 16
RATE_RANGE = (80, 400)  # words per minute
VOLUME_RANGE = (0.1, 4.0)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(ContentError):
    """Every problem of a config file, or one sentence about the environment."""

    def __init__(self, problems: Iterable[Problem] = (), sentence: str = "") -> None:
        super().__init__(list(problems))
        self.sentence = sentence
        if sentence:
            self.args = (sentence,)


@dataclass(frozen=True)
class AudioConfig:
    """Sound devices by PortAudio index or (part of) name; None is the system default."""

    input_device: int | str | None = None
    output_device: int | str | None = None
    # hear answers spoken over the kiosk's own voice (speex echo cancellation); off: the microphone is
    # ignored while the kiosk speaks (bench/README.md: barge-in, measured on the virtual loop)
    barge_in: bool = False
    # WebRTC noise suppression before listening (0 off .. 4 strongest; bench/README.md "Noise front end")
    noise_suppression: int = ListenSettings.noise_suppression
    # the same, used only while the room between answers is steady, loud noise (a fan); 0 never
    steady_noise_suppression: int = ListenSettings.steady_noise_suppression


@dataclass(frozen=True)
class Timeouts:
    no_input_s: float = 10.0  # silence after a question before it counts as no answer
    trailing_silence_ms: int = 500  # silence that ends an answer
    still_there_s: float = 45.0  # silence mid-session before "are you still there?"
    reset_after_s: float = 90.0  # silence mid-session before an abandoned session is wiped
    result_pause_s: float = 120.0  # how long the result stays before it is wiped
    short_silence_ms: int = 200  # silence that ends a complete answer no longer phrase starts with


@dataclass(frozen=True)
class SpeechConfig:
    voice: str | None = None  # a pyttsx3 voice id or name; None is the locale's default
    rate: int = 150  # words per minute
    volume: float = 1.0  # 1.0 is the unchanged level


@dataclass(frozen=True)
class AlertConfig:
    """Staff alert channels besides the staff page's banner."""

    command: tuple[str, ...] = ()  # argv, run without a shell; empty: no command
    webhook: str | None = None  # http or https URL that receives a JSON POST
    timeout_s: float = 5.0


@dataclass(frozen=True)
class WebConfig:
    """Where the kiosk and staff pages are served, and what the server believes and allows.

    ``allowed_hosts``: the ``Host`` names it answers to besides localhost, 127.0.0.1 and [::1]
    (and ``host`` itself); any other is 400, so a web page on another name (DNS rebinding)
    cannot drive the kiosk.  ``trusted_proxies``: addresses or networks whose
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed; from anyone else they are
    ignored.  ``tls_proxy``: the staff page is reached over https through such a proxy, so
    its cookie is ``Secure``.  A request's headers (and body) must arrive within
    ``header_timeout_s``; a client that reads nothing for ``send_timeout_s`` while the
    kiosk has something to send is dropped; at most ``max_connections`` are open at once,
    ``max_connections_per_client`` from one address (a trusted proxy is not held to that).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    tls_proxy: bool = False
    header_timeout_s: float = 10.0
    send_timeout_s: float = 30.0
    max_connections: int = 100
    max_connections_per_client: int = 20


@dataclass(frozen=True)
class KioskConfig:
    name: str
    locale: str = "en"
    model: Path | None = None
    audio: AudioConfig = field(default_factory=AudioConfig)
    timeouts: Timeouts = field(default_factory=Timeouts)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    retention_hours: float = 24.0
    database: str = DEFAULT_DATABASE  # an absolute path, or ":memory:"
    alerts: AlertConfig = field(default_factory=AlertConfig)
    staff_token_env: str = DEFAULT_TOKEN_ENV
    web: WebConfig = field(default_factory=WebConfig)
    # A receipt printer: argv run without a shell, the slip as plain text on its stdin; empty: the browser prints
    print_command: tuple[str, ...] = ()

    def staff_token(self, environ: Mapping[str, str] | None = None) -> str:
        """The staff token from the environment; ConfigError with one sentence if unset or too short."""
        env = os.environ if environ is None else environ
        token = env.get(self.staff_token_env, "")
        if not token.strip():
            raise ConfigError(
                sentence=f"The staff token is not set: put a secret of at least {MIN_TOKEN_LENGTH} characters "
                f"in the environment variable {self.staff_token_env}."
            )
        if token != token.strip() or any(not c.isprintable() for c in token):
            # a sign-in form or header never carries these, so nobody could ever sign in
            raise ConfigError(
                sentence=f"The staff token in the environment variable {self.staff_token_env} starts or ends with "
                "a space or holds a line break or another control character: remove it, or staff can never sign in."
            )
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                sentence=f"The staff token in the environment variable {self.staff_token_env} is too short: "
                f"it needs at least {MIN_TOKEN_LENGTH} characters."
            )
        return token


def default_config(name: str = "kiosk") -> KioskConfig:
    """Every setting at its default."""
    return KioskConfig(name=name)


# ------------------------------------------------------------------ checking

_Kind = type | tuple[type, ...]
_NUMBER: tuple[type, ...] = (int, float)
_DEVICE: tuple[type, ...] = (int, str)


def _is(value: Any, kind: _Kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _kind_name(kind: _Kind) -> str:
    names = {str: "text", bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if kinds == _DEVICE:
        return "a device number or name"
    if kinds == (int,):
        return "a whole number"
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


class _Checker:
    """Collects problems while reading mappings with known keys."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, at: tuple[str, int], message: str) -> None:
        self.problems.append(Problem(*at, message))

    def section(self, node: Any, at: tuple[str, int], what: str, keys: Mapping[str, _Kind]) -> LineDict | None:
        """Check a mapping's keys and value types; None if it is not a mapping.

        A key whose value is null counts as absent (so ``model:`` left empty
        means "no model"); a value of the wrong type is reported and dropped.
        """
        if not isinstance(node, LineDict):
            self.add(at, f"{what} must be a mapping")
            return None
        for key in node:
            if key not in keys:
                allowed = ", ".join(sorted(keys))
                self.add(where(node, key), f"{what}: unknown key {key!r} (allowed: {allowed})")
        for key, kind in keys.items():
            if key in node and node[key] is not None and not _is(node[key], kind):
                self.add(where(node, key), f"{what}: {key!r} must be {_kind_name(kind)}, not {node[key]!r}")
        return node

    def get(self, node: LineDict | None, key: str, kind: _Kind) -> Any:
        """The value of ``key`` if present, not null and of the right kind (already checked), else None."""
        if node is None or node.get(key) is None or not _is(node[key], kind):
            return None
        return node[key]

    def number(
        self,
        node: LineDict | None,
        key: str,
        what: str,
        default: float,
        low: float | None = None,
        high: float | None = None,
        whole: bool = False,
    ) -> Any:
        """A number within [low, high] (or > 0 when both are None); the default when absent or wrong."""
        value = self.get(node, key, int if whole else _NUMBER)
        if value is None or node is None:
            return default
        if low is None and high is None:
            if value <= 0:
                self.add(where(node, key), f"{what}: {key!r} must be more than 0, not {value!r}")
                return default
        elif (low is not None and value < low) or (high is not None and value > high):
            self.add(where(node, key), f"{what}: {key!r} must be from {low} to {high}, not {value!r}")
            return default
        return value

    def text(self, node: LineDict | None, key: str, what: str) -> str | None:
        """Non-empty text, or None (an empty or blank string is reported)."""
        value = self.get(node, key, str)
        if value is None or node is None:
            return None
        if not value.strip():
            self.add(where(node, key), f"{what}: {key!r} is empty")
            return None
        return str(value)


def _file_path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _device(check: _Checker, node: LineDict | None, key: str) -> int | str | None:
    value: int | str | None = check.get(node, key, _DEVICE)
    if value is None or node is None:
        return None
    if isinstance(value, int) and value < 0:
        check.add(where(node, key), f"audio: {key!r} must be a device number from 0 or a device name, not {value}")
        return None
    if isinstance(value, str) and not value.strip():
        check.add(where(node, key), f"audio: {key!r} is empty (leave it out for the default device)")
        return None
    return value


def _load_audio(check: _Checker, node: Any, at: tuple[str, int]) -> AudioConfig:
    if node is None:
        return AudioConfig()
    section = check.section(
        node,
        at,
        "audio",
        {
            "input_device": _DEVICE,
            "output_device": _DEVICE,
            "barge_in": bool,
            "noise_suppression": int,
            "steady_noise_suppression": int,
        },
    )
    barge_in = check.get(section, "barge_in", bool)
    default = AudioConfig.noise_suppression
    return AudioConfig(
        input_device=_device(check, section, "input_device"),
        output_device=_device(check, section, "output_device"),
        barge_in=bool(barge_in) if barge_in is not None else False,
        noise_suppression=int(check.number(section, "noise_suppression", "audio", default, 0, 4, whole=True)),
        steady_noise_suppression=int(
            check.number(
                section, "steady_noise_suppression", "audio", AudioConfig.steady_noise_suppression, 0, 4, whole=True
            )
        ),
    )


def _load_timeouts(check: _Checker, node: Any, at: tuple[str, int]) -> Timeouts:
    if node is None:
        return Timeouts()
    keys: dict[str, _Kind] = {name: _NUMBER for name in Timeouts.__dataclass_fields__}
    keys["trailing_silence_ms"] = int
    keys["short_silence_ms"] = int
    section = check.section(node, at, "timeouts", keys)
    d = Timeouts()
    result = Timeouts(
        no_input_s=float(check.number(section, "no_input_s", "timeouts", d.no_input_s)),
        trailing_silence_ms=int(
            check.number(section, "trailing_silence_ms", "timeouts", d.trailing_silence_ms, whole=True)
        ),
        short_silence_ms=int(check.number(section, "short_silence_ms", "timeouts", d.short_silence_ms, whole=True)),
        still_there_s=float(check.number(section, "still_there_s", "timeouts", d.still_there_s)),
        reset_after_s=float(check.number(section, "reset_after_s", "timeouts", d.reset_after_s)),
        result_pause_s=float(check.number(section, "result_pause_s", "timeouts", d.result_pause_s)),
    )
    if section is not None and result.reset_after_s <= result.still_there_s:
        key = "reset_after_s" if "reset_after_s" in section else "still_there_s"
        check.add(
            where(section, key),
            f"timeouts: 'reset_after_s' ({result.reset_after_s:g}) must be more than 'still_there_s' "
            f"({result.still_there_s:g}), so the kiosk asks whether anyone is there before it resets",
        )
    return result


def _load_speech(check: _Checker, node: Any, at: tuple[str, int]) -> SpeechConfig:
    if node is None:
        return SpeechConfig()
    section = check.section(node, at, "speech", {"voice": str, "rate": int, "volume": _NUMBER})
    d = SpeechConfig()
    return SpeechConfig(
        voice=check.text(section, "voice", "speech"),
        rate=int(check.number(section, "rate", "speech", d.rate, *RATE_RANGE, whole=True)),
        volume=float(check.number(section, "volume", "speech", d.volume, *VOLUME_RANGE)),
    )


def _command(check: _Checker, section: LineDict | None, key: str, what: str) -> list[str]:
    """A command as a list of words (run without a shell); [] when it is left out."""
    command: list[str] = []
    items = check.get(section, key, object)
    if isinstance(items, str):
        check.add(
            where(section, key),
            f"{what}: {key!r} must be a list of words (the program and its arguments), not a shell command line",
        )
    elif items is not None and not isinstance(items, LineList):
        check.add(where(section, key), f"{what}: {key!r} must be a list of words, not {items!r}")
    elif isinstance(items, LineList):
        if not items:
            check.add(where(section, key), f"{what}: {key!r} is empty (leave it out for no command)")
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                check.add(where(items, index), f"{what}: {key!r} item {index + 1} must be non-empty text, not {item!r}")
            else:
                command.append(item)
    return command


def _load_alerts(check: _Checker, node: Any, at: tuple[str, int]) -> AlertConfig:
    if node is None:
        return AlertConfig()
    section = check.section(node, at, "alerts", {"command": object, "webhook": str, "timeout_s": _NUMBER})
    command = _command(check, section, "command", "alerts")
    webhook = check.text(section, "webhook", "alerts")
    if webhook is not None and section is not None:
        parts = urlsplit(webhook.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            check.add(
                where(section, "webhook"), f"alerts: 'webhook' must be an http:// or https:// URL, not {webhook!r}"
            )
            webhook = None
        else:
            webhook = webhook.strip()
    return AlertConfig(
        command=tuple(command),
        webhook=webhook,
        timeout_s=float(check.number(section, "timeout_s", "alerts", AlertConfig().timeout_s)),
    )


def _load_web(check: _Checker, node: Any, at: tuple[str, int]) -> WebConfig:
    if node is None:
        return WebConfig()
    section = check.section(
        node,
        at,
        "web",
        {
            "host": str,
            "port": int,
            "allowed_hosts": list,
            "trusted_proxies": list,
            "tls_proxy": bool,
            "header_timeout_s": _NUMBER,
            "send_timeout_s": _NUMBER,
            "max_connections": int,
            "max_connections_per_client": int,
        },
    )
    d = WebConfig()
    host = check.text(section, "host", "web")
    if host is not None and section is not None and any(c.isspace() or c == "/" for c in host.strip()):
        check.add(where(section, "host"), f"web: 'host' must be a host name or IP address, not {host!r}")
        host = None
    names = _word_list(check, section, "allowed_hosts", "a host name (no port, no scheme)", _host_name)
    proxies = _word_list(check, section, "trusted_proxies", "an IP address or network", _network)
    tls_proxy = check.get(section, "tls_proxy", bool)
    return WebConfig(
        host=host.strip() if host is not None else d.host,
        port=int(check.number(section, "port", "web", d.port, 1, 65535, whole=True)),
        allowed_hosts=names,
        trusted_proxies=proxies,
        tls_proxy=bool(tls_proxy) if tls_proxy is not None else d.tls_proxy,
        header_timeout_s=float(check.number(section, "header_timeout_s", "web", d.header_timeout_s, 0.1, 300)),
        send_timeout_s=float(check.number(section, "send_timeout_s", "web", d.send_timeout_s, 0.1, 3600)),
        max_connections=int(check.number(section, "max_connections", "web", d.max_connections, 1, 10000, whole=True)),
        max_connections_per_client=int(
            check.number(
                section, "max_connections_per_client", "web", d.max_connections_per_client, 1, 10000, whole=True
            )
        ),
    )


_HOST_NAME = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")


def _host_name(value: str) -> str | None:
    """A Host header name as Starlette's TrustedHostMiddleware compares it (lower case, IPv6 in brackets)."""
    value = value.strip().lower()
    try:
        address = ipaddress.ip_address(value[1:-1] if value.startswith("[") and value.endswith("]") else value)
    except ValueError:
        return value if _HOST_NAME.fullmatch(value) else None
    return f"[{address}]" if address.version == 6 else str(address)


def _network(value: str) -> str | None:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return None


def _word_list(
    check: _Checker, section: LineDict | None, key: str, what: str, parse: Callable[[str], str | None]
) -> tuple[str, ...]:
    items = check.get(section, key, list)
    if items is None or section is None:
        return ()
    found: list[str] = []
    for index, item in enumerate(items):
        value = parse(item) if isinstance(item, str) else None
        if value is None:
            at = where(items, index) if isinstance(items, LineList) else where(section, key)
            check.add(at, f"web: {key!r} item {index + 1} must be {what}, not {item!r}")
        else:
            found.append(value)
    return tuple(dict.fromkeys(found))


_TOP: dict[str, _Kind] = {
    "name": str,
    "locale": str,
    "model": str,
    "audio": dict,
    "timeouts": dict,
    "speech": dict,
    "retention_hours": _NUMBER,
    "database": str,
    "alerts": dict,
    "staff_token_env": str,
    "web": dict,
    "print_command": object,
}


def load_config(path: Path | str) -> KioskConfig:
    """Load and validate a kiosk config file; raise ConfigError with every problem."""
    path = Path(path)
    try:
        data = load_file(path)
    except ContentError as exc:
        raise ConfigError(exc.problems) from None
    check = _Checker()
    name = str(path)
    root = check.section(data, (name, 1), "config", _TOP)
    if root is None:
        raise ConfigError(check.problems)
    base = path.resolve().parent

    def sub(key: str) -> tuple[Any, tuple[str, int]]:
        # A section of the wrong type is already reported by check.section.
        value = root.get(key)
        return (value if isinstance(value, LineDict) else None), where(root, key)

    kiosk_name = check.text(root, "name", "config")
    if "name" not in root or root["name"] is None:
        check.add((name, root.line), "config: missing field 'name' (the kiosk's name, sent with staff alerts)")
    locale = check.get(root, "locale", str) or "en"
    if locale not in LOCALES:
        check.add(where(root, "locale"), f"config: unknown locale {locale!r} (use {', '.join(LOCALES)})")
    model_text = check.text(root, "model", "config")
    database = check.text(root, "database", "config") or DEFAULT_DATABASE
    if database != IN_MEMORY:
        database = str(_file_path(database, base))
    token_env = check.text(root, "staff_token_env", "config") or DEFAULT_TOKEN_ENV
    if not _ENV_NAME.fullmatch(token_env):
        check.add(
            where(root, "staff_token_env"),
            f"config: 'staff_token_env' must be the name of an environment variable "
            f"(letters, digits and _), not {token_env!r}",
        )
    config = KioskConfig(
        name=(kiosk_name or "").strip(),
        locale=locale,
        model=_file_path(model_text, base) if model_text is not None else None,
        audio=_load_audio(check, *sub("audio")),
        timeouts=_load_timeouts(check, *sub("timeouts")),
        speech=_load_speech(check, *sub("speech")),
        retention_hours=float(check.number(root, "retention_hours", "config", 24.0)),
        database=database,
        alerts=_load_alerts(check, *sub("alerts")),
        staff_token_env=token_env,
        web=_load_web(check, *sub("web")),
        print_command=tuple(_command(check, root, "print_command", "config")),
    )
    if check.problems:
        raise ConfigError(check.problems)
    return config
