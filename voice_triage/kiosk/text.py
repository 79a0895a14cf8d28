"""The kiosk screen's own words: ``prompts/<locale>/kiosk.yaml``.

The dialogue's sentences come from ``messages.yaml``; this file holds what
only the kiosk shows: the idle screen, button labels, the names of the
page's regions, and the phrases that start a session while the kiosk is
idle.  Every key is required, so no locale can lack a label; a problem is
reported as ``path:line: message`` like every other content file.

It also fixes the single keyboard key of every button (:data:`KEYS`):
the same in every locale, unique on every screen, and never Space or Enter,
which the single-switch scanning uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.paths import PROMPTS
from ..core.yamlload import ContentError, LineDict, LineList, Problem, load_file, where

FIELDS = (
    "title",
    "invite",
    "invite_touch",
    "invite_noisy",
    "start",
    "still_there",
    "emergency_wait",
    "stopped_title",
    "error_title",
    "number_entered",
    "scan_prefix",
    "listen_speaking",
    "listen_listening",
    "listen_hearing",
    "listen_thinking",
    "heard",
    "progress",
    "progress_left",
    "progress_last",
    "unit_years",
    "slip_title",
    "slip_level",
    "slip_time",
    "slip_kiosk",
    "slip_answers",
    "slip_question",
    "slip_answer",
)
LABELS = (
    "repeat",
    "back",
    "help",
    "stop",
    "finish",
    "delete",
    "ok",
    "contrast",
    "text_larger",
    "text_smaller",
    "slower",
    "faster",
    "quieter",
    "louder",
    "pause",
    "print",
    "days",
    "weeks",
    "months",
    "years",
)
REGIONS = ("answers", "commands", "settings", "captions", "listening", "units")
# A duration answer's unit buttons: how many days each is (the record keeps days; age keeps years).
UNIT_DAYS: dict[str, int] = {"days": 1, "weeks": 7, "months": 30, "years": 365}
UNIT_KEYS: dict[str, str] = {"days": "e", "weeks": "w", "months": "m", "years": "y"}

# One key per button (KeyboardEvent.key).  Answers and commands share a
# screen, so no two of them may have the same key; Space and Enter belong to
# the switch scanning.
ANSWER_KEYS: dict[str, str] = {
    "yes": "y",
    "no": "n",
    "unknown": "u",
    "left": "l",
    "right": "r",
    "both": "b",
    **{str(n): str(n) for n in range(10)},
    "10": "t",
}
DIGIT_KEYS: dict[str, str] = {str(n): str(n) for n in range(10)}
KEYS: dict[str, str] = {
    "start": "s",
    "ok": "o",
    "delete": "d",
    "repeat": "a",
    "back": "z",
    "help": "h",
    "stop": "x",
    "finish": "x",  # the result screen's stop
    "contrast": "c",
    "text_larger": "+",
    "text_smaller": "-",
    "slower": ",",
    "faster": ".",
    "quieter": "[",
    "louder": "]",
    "pause": "p",
    "print": "k",
}
SETTINGS_BUTTONS = ("contrast", "text_larger", "text_smaller", "slower", "faster", "quieter", "louder", "pause")


@dataclass(frozen=True)
class KioskText:
    fields: Mapping[str, str]
    labels: Mapping[str, str]
    regions: Mapping[str, str]
    start_phrases: tuple[str, ...]

    def __getitem__(self, key: str) -> str:
        return self.fields[key]


def _text(node: LineDict, key: str, what: str, problems: list[Problem]) -> str:
    value = node.get(key)
    if key not in node:
        problems.append(Problem(node.path, node.line, f"{what}: missing {key!r}"))
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(*where(node, key), f"{what}: {key!r} must be non-empty text"))
        return ""
    return value.strip()


def _table(root: LineDict, name: str, keys: tuple[str, ...], problems: list[Problem]) -> dict[str, str]:
    node = root.get(name)
    if not isinstance(node, LineDict):
        problems.append(Problem(*where(root, name), f"kiosk: {name!r} must be a mapping"))
        return {}
    for key in node:
        if key not in keys:
            problems.append(Problem(*where(node, key), f"kiosk {name!r}: unknown key {key!r}"))
    return {key: _text(node, key, f"kiosk {name!r}", problems) for key in keys}


def load_kiosk_text(directory: Path) -> KioskText:
    """Load and validate ``kiosk.yaml`` of one locale's prompts folder; ContentError with every problem."""
    path = directory / "kiosk.yaml"
    data = load_file(path)
    problems: list[Problem] = []
    if not isinstance(data, LineDict):
        raise ContentError([Problem(str(path), 1, "kiosk: expected a mapping")])
    allowed = {*FIELDS, "labels", "regions", "start_phrases"}
    for key in data:
        if key not in allowed:
            problems.append(Problem(*where(data, key), f"kiosk: unknown key {key!r}"))
    fields = {key: _text(data, key, "kiosk", problems) for key in FIELDS}
    labels = _table(data, "labels", LABELS, problems)
    regions = _table(data, "regions", REGIONS, problems)
    phrases = data.get("start_phrases")
    starts: list[str] = []
    if not isinstance(phrases, LineList) or not phrases:
        problems.append(Problem(*where(data, "start_phrases"), "kiosk: 'start_phrases' must be a non-empty list"))
    else:
        for index, item in enumerate(phrases):
            if not isinstance(item, str) or not item.strip():
                problems.append(Problem(*where(phrases, index), f"kiosk: start phrase {index + 1} must be text"))
            else:
                starts.append(" ".join(item.lower().split()))
    if problems:
        raise ContentError(problems)
    return KioskText(fields, labels, regions, tuple(dict.fromkeys(starts)))


def load_locale_text(lang: str, prompts_root: Path = PROMPTS) -> KioskText:
    return load_kiosk_text(prompts_root / lang)


# The staff page's words (prompts/<locale>/staff.yaml), each with the placeholders it may use.
STAFF_FIELDS: dict[str, tuple[str, ...]] = {
    "product": (),
    "signin_title": ("kiosk",),
    "token_label": (),
    "sign_in": (),
    "sign_out": (),
    "wrong_token": (),
    "locked": ("seconds",),
    "records_title": ("kiosk",),
    "page_title": ("kiosk",),
    "sessions_title": ("count",),
    "no_sessions": (),
    "staff_needed": (),
    "acknowledge": (),
    "record_notices": (),
    "not_saved": (),
    "session_line": ("kiosk", "outcome"),
    "red_flags": ("flags",),
    "none": (),
    "causes": (),
    "answers": (),
    "question": (),
    "answer": (),
    "not_diagnosis": (),
    "print_record": (),
    "fhir": (),
    "room_level": ("background", "snr"),
    "room_quiet": ("level",),
    "room_loud": ("level", "min_snr"),
}


def load_staff_text(lang: str, prompts_root: Path = PROMPTS) -> dict[str, str]:
    """Load and validate ``staff.yaml`` of one locale: every key, no other, only its own placeholders."""
    import string

    path = prompts_root / lang / "staff.yaml"
    data = load_file(path)
    if not isinstance(data, LineDict):
        raise ContentError([Problem(str(path), 1, "staff: expected a mapping")])
    problems: list[Problem] = []
    for key in data:
        if key not in STAFF_FIELDS:
            problems.append(Problem(*where(data, key), f"staff: unknown key {key!r}"))
    words: dict[str, str] = {}
    for key, allowed in STAFF_FIELDS.items():
        value = _text(data, key, "staff", problems)
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError:
            problems.append(Problem(*where(data, key), f"staff: {key!r} has an unbalanced brace"))
            continue
        for name in sorted(used - set(allowed)):
            problems.append(Problem(*where(data, key), f"staff: {key!r} has an unknown placeholder {{{name}}}"))
        words[key] = value
    if problems:
        raise ContentError(problems)
    return words
