"""Whether spoken answers can be heard in this room: its background level against the calibration.

Pure.  The spoken evaluation (``voice-triage evaluate --spoken --noise ...
--snr ...``) measures, per locale, how sessions fare as the room gets louder
than the patient's voice; ``data/room.yaml`` keeps, per locale, the lowest
signal-to-noise ratio at which spoken answers are still heard reliably, with
the figures it comes from.  The kiosk measures its room while it listens (the
median level of the frames that are not speech) and the level of the answers
it hears (before any, an assumed level of a voice at the microphone, which a
clinic can set); their difference is the room's estimated SNR.  Below the
calibration's SNR, the welcome tells the person they can also touch the
screen, and staff see it on the staff page.  A margin (hysteresis) keeps the
verdict from flapping at the border.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from .paths import DATA
from .yamlload import ContentError, LineDict, Problem, load_file, where

ROOM_FILE = DATA / "room.yaml"


@dataclass(frozen=True)
class RoomCalibration:
    """One locale's calibration: below ``min_snr_db`` spoken answers are not heard reliably."""

    locale: str
    min_snr_db: float
    speech_db: float  # the level of a voice at the microphone assumed before any answer is heard (dBFS)
    margin_db: float = 3.0  # the verdict changes only this far past min_snr_db


@dataclass(frozen=True)
class RoomState:
    """The room as last measured."""

    background_db: float
    speech_db: float
    snr_db: float
    reliable: bool  # spoken answers are expected to be heard reliably at this level

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "background_db": round(self.background_db, 1),
            "speech_db": round(self.speech_db, 1),
            "snr_db": round(self.snr_db, 1),
            "reliable": self.reliable,
        }


class NoiseFloor:
    """The room's background level: a low percentile of recent frame levels (minimum statistics).

    Speech comes and goes; the room's noise stays.  So the level that the
    quietest fifth of the last ten seconds of frames stays under is the noise
    floor, whether or not a voice-activity detector takes the noise for speech
    (steady pink noise is "voiced" to webrtcvad).
    """

    QUIET_DB = -60.0  # never report a room quieter than this

    def __init__(self, frames: int = 333, percentile: float = 20.0) -> None:
        self._levels: deque[float] = deque(maxlen=frames)
        self.percentile = percentile

    def add(self, level_db: float) -> None:
        self._levels.append(level_db)

    @property
    def ready(self) -> bool:
        return len(self._levels) >= (self._levels.maxlen or 1) // 3

    @property
    def level_db(self) -> float:
        if not self._levels:
            return self.QUIET_DB
        ordered = sorted(self._levels)
        return max(self.QUIET_DB, ordered[int(len(ordered) * self.percentile / 100.0)])


class RoomEstimate:
    """Follows the room: the background level and the level of the answers heard, with hysteresis."""

    def __init__(self, calibration: RoomCalibration, answers: int = 5) -> None:
        self.calibration = calibration
        self._speech: deque[float] = deque(maxlen=answers)
        self.state: RoomState | None = None

    def heard_answer(self, speech_db: float) -> None:
        """The level of one answer heard (the median level of its speech frames)."""
        self._speech.append(speech_db)

    @property
    def speech_db(self) -> float:
        return statistics.median(self._speech) if self._speech else self.calibration.speech_db

    def update(self, background_db: float) -> RoomState:
        """The room with this background level; the verdict moves only past the margin."""
        cal = self.calibration
        speech = self.speech_db
        snr = speech - background_db
        was = self.state.reliable if self.state is not None else True
        border = cal.min_snr_db - cal.margin_db if was else cal.min_snr_db + cal.margin_db
        self.state = RoomState(background_db, speech, snr, snr >= border)
        return self.state


def load_room_calibration(locale: str, path: Path = ROOM_FILE) -> RoomCalibration | None:
    """The locale's calibration, or None where it has none (the kiosk then makes no claim)."""
    data = load_file(path)
    problems: list[Problem] = []
    if not isinstance(data, LineDict) or not isinstance(data.get("locales"), LineDict):
        raise ContentError([Problem(str(path), getattr(data, "line", 1), "expected a mapping with 'locales'")])
    node = data["locales"].get(locale)
    if node is None:
        return None
    if not isinstance(node, LineDict):
        raise ContentError([Problem(*where(data["locales"], locale), f"'{locale}' must be a mapping")])
    numbers: dict[str, float] = {}
    for key, low, high in (("min_snr_db", -10.0, 60.0), ("speech_db", -80.0, 0.0), ("margin_db", 0.0, 20.0)):
        value = node.get(key)
        if key == "margin_db" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem(*where(node, key), f"'{key}' must be a number"))
        elif not low <= value <= high:
            problems.append(Problem(*where(node, key), f"'{key}' must be between {low:g} and {high:g}"))
        else:
            numbers[key] = float(value)
    if problems:
        raise ContentError(problems)
    return RoomCalibration(locale, **numbers)
