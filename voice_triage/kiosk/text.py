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
)
REGIONS = ("answers", "commands", "settings", "captions")

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
