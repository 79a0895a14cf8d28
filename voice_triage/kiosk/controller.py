"""The kiosk: one dialogue after another, for one stranger after another.

:class:`KioskController` wraps :class:`~voice_triage.dialogue.Dialogue` in
the kiosk's session lifecycle::

    idle --start--> question ... --End--> result --result_pause_s--> idle (wiped)
                      |  silence still_there_s: "Are you still there?"
                      |  silence reset_after_s: wiped (kept as a "stopped" record)

Every input (a touch, a key, a switch, a spoken answer) is the same dialogue
event, whichever thread it comes from: every public method takes one lock.
An input names what it answers: the screen's ``step`` (a number that changes
whenever another question, a read-back, the result or the idle screen is
shown) for a touch or key (:meth:`at_step`), the listening key
(:meth:`listening`) for a spoken reply.  An input for a screen that is no
longer shown is refused, so a double tap or taps queued while the server was
paused never answer a question the person did not see.
Time comes from an injected monotonic ``clock`` and is looked at only by
:meth:`tick`, which the server calls a few times a second; tests pass a fake
clock and never sleep.

A red flag says and shows the emergency message at once, fires the staff
alert (kiosk name, time, level only) without waiting for it, and keeps the
emergency on screen until staff acknowledge it.  Each session that ends
becomes a :class:`~voice_triage.records.Summary` kept by the
:class:`~voice_triage.kiosk.records.RecordKeeper` (stored, or kept and
retried when the database cannot be written); then the screen and every
answer are dropped.  Any internal error tells the
person to ask the front desk: never silence.

What the screen shows is published to subscribers as plain dicts (JSON):
``{"type": "state", "state": ...}`` whenever the screen changes, and
``{"type": "caption", "turn": n, "text": ...}`` for each sentence as it is
spoken (at once without a voice).  Logs carry states and counts, never an
answer.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from ..core.contract import AnswerType, Value
from ..core.dialogue import (
    CHOICES,
    Action,
    Adjust,
    Alert,
    Chose,
    Command,
    Dialogue,
    End,
    Event,
    Expectation,
    Heard,
    NoInput,
    NoMatch,
    Say,
)
from ..core.grammar import COMMANDS
from ..core.locale import Locale
from ..core.outcome import result_view, slip
from ..core.progress import remaining
from ..core.room import RoomCalibration, RoomEstimate, load_room_calibration
from ..core.summary import summarize
from ..core.understanding import interpret
from . import alerts, printer
from .config import RATE_RANGE, VOLUME_RANGE, KioskConfig
from .records import RecordKeeper, RecordStore
from .text import ANSWER_KEYS, DIGIT_KEYS, KEYS, SETTINGS_BUTTONS, UNIT_DAYS, UNIT_KEYS, KioskText

log = logging.getLogger(__name__)

IDLE, QUESTION, RESULT, ERROR = "idle", "question", "result", "error"
SCREEN_COMMANDS = ("repeat", "back", "help", "stop")
SETTINGS = ("contrast", "text_larger", "text_smaller", "slower", "faster", "quieter", "louder", "pause")
TEXT_SIZES = 4  # 0 = normal, then larger steps
RATE_STEP = 0.8
VOLUME_STEP = 1.4
MAX_ANSWER = 100_000
# The listening indicator: the kiosk speaking, listening, hearing speech (with a live level), or deciding.
SPEAKING, LISTENING, HEARING, THINKING = "speaking", "listening", "hearing", "thinking"
LISTEN_STATES = (SPEAKING, LISTENING, HEARING, THINKING)
LEVEL_EVERY_S = 0.15  # a live level is published at most this often (a state change at once)
LEVEL_STEP = 0.1  # and only when it moved this much
SCAN_TURN = (
    -1
)  # a scanned label is its own turn, never the current one: no caption, no timers  # no age or number of days is larger


class Speech(Protocol):
    """The loudspeaker side: speaks a turn's sentences, calling back the controller.

    ``speak`` replaces whatever is being said (interrupting it) and must call
    :meth:`KioskController.speech_started` as each sentence starts and
    :meth:`KioskController.speech_finished` once the turn is done or cut off.
    """

    def speak(self, turn: int, texts: Sequence[str]) -> None: ...

    def interrupt(self) -> None: ...

    def configure(self, rate: int, volume: float) -> None: ...


@dataclass(frozen=True)
class Settings:
    contrast: bool = False
    text_size: int = 0
    rate: int = 150
    volume: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"contrast": self.contrast, "text_size": self.text_size, "rate": self.rate, "volume": self.volume}


@dataclass(frozen=True)
class StaffAlert:
    """An alert on the staff page: which kiosk, when, and how urgent (or "assist"); nothing else."""

    id: int
    alert: alerts.Alert

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, **self.alert.as_dict()}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class KioskController:
    def __init__(
        self,
        locale: Locale,
        text: KioskText,
        config: KioskConfig,
        store: RecordStore | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _utc_now,
        notify: Callable[[alerts.Alert], object] | None = None,
        speech: Speech | None = None,
        dialogue_factory: Callable[[], Dialogue] | None = None,
        records: RecordKeeper | None = None,
        room: RoomCalibration | None = None,
    ) -> None:
        self.locale = locale
        self.content = locale.content
        self.text = text
        self.config = config
        self.store = store
        self.clock = clock
        self.wall = wall
        self.notify = notify if notify is not None else (lambda alert: alerts.send_in_background(alert, config))
        self.speech = speech
        # True once a microphone and a model listen (kiosk/voice.py); until then the
        # kiosk never asks for a spoken answer: touch and keys only.
        self.hears = False
        # The room's noise against the locale's calibration (core/room.py), measured while listening.
        calibration = room if room is not None else load_room_calibration(locale.content.locale)
        self.room = RoomEstimate(calibration) if calibration is not None else None
        self._new_dialogue = dialogue_factory or (lambda: Dialogue(locale.content, locale.grammar, touch=True))
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self.defaults = Settings(rate=config.speech.rate, volume=config.speech.volume)
        self.settings = self.defaults
        self.dialogue = self._new_dialogue()
        self.state = IDLE
        self.version = 0
        self.turn = 0
        self.captions: list[str] = []
        self.result_lines: tuple[str, ...] = ()
        self.prompt = ""  # the latest question or read-back said
        self.still_there = False
        self.speaking = False
        self.listen = LISTENING  # the indicator (shown only while the kiosk hears)
        self.listen_level = 0.0
        self._level_at = -1e9
        self.heard_text: str | None = None  # the words heard last in this session, shown as "I heard: ..."
        self.result_wall: datetime | None = None  # when the result was shown (the slip's time)
        self._progress: tuple[tuple[object, ...], int] | None = None
        self.input_turn = True  # the latest thing said answers the person (not a reprompt)
        self.last_activity = clock()
        self.result_at = self.last_activity
        self.stored = False
        self.emergency: StaffAlert | None = None  # shown on the kiosk until acknowledged
        self.staff_alerts: list[StaffAlert] = []  # unacknowledged, for the staff page
        self.sessions = 0
        self._alert_ids = 0
        self.step = 0  # what a touch answers: changes with the question, a read-back, the result, idle
        self._step_key: tuple[object, ...] = self._screen_key()
        self.records = records if records is not None else RecordKeeper(store, notify=self._records_alert, wall=wall)

    # ------------------------------------------------------------ subscribers

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``callback`` with every screen event (it must not block); returns the unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def connect(self, callback: Callable[[dict[str, Any]], None]) -> tuple[dict[str, Any], Callable[[], None]]:
        """Subscribe and take the current screen at the same moment: no event is missed or seen twice."""
        with self._lock:
            return self._snapshot(), self.subscribe(callback)

    def _publish(self, event: dict[str, Any]) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.warning("a screen subscriber failed and was dropped", exc_info=False)
                self._subscribers.remove(callback)

    def _changed(self) -> None:
        key = self._screen_key()
        if key != self._step_key:
            self._step_key = key
            self.step += 1
        self.version += 1
        self._publish({"type": "state", "state": self._snapshot()})

    def _screen_key(self) -> tuple[object, ...]:
        """What a person answers on screen: the session, the screen, the question, a read-back, the answers so far."""
        question = self.dialogue.current if self.state == QUESTION else None
        return (
            self.sessions,
            self.state,
            question.id if question is not None else None,
            self.dialogue.asking_yes_no if question is not None else False,
            len(self.dialogue.answers),
            self.emergency is not None,
        )

    def at_step(self, step: int, act: Callable[[], bool]) -> bool | None:
        """``act()`` if ``step`` is the screen's step now (atomically); None if the screen has moved on."""
        with self._lock:
            if step != self.step:
                log.info("an input for step %d refused: the screen is at step %d", step, self.step)
                return None
            return act()

    # ------------------------------------------------------------ inputs

    def start(self) -> bool:
        """Start a session (the Start button, or a start phrase while idle)."""
        with self._guard():
            if self.state == QUESTION or self.emergency is not None:
                return False
            if self.state == RESULT:
                self._end_of_result()
            self._wipe(publish=False)
            self.sessions += 1
            self.stored = False
            log.info("session %d started", self.sessions)
            # never ask for speech nobody hears; in a loud room, also offer touch
            self._perform(self.dialogue.start(listening=self.hears, noisy=not self.voice_reliable))
            return True
        return True

    def answer(self, value: Value) -> bool:
        """An answer picked on screen: the same event as a spoken answer, without read-back."""
        with self._guard():
            if self.state != QUESTION:
                return False
            if isinstance(value, float) and not (value == value and abs(value) <= MAX_ANSWER):
                value = "invalid"  # NaN or infinite: not an answer; the dialogue says it did not understand
            if isinstance(value, int | float) and abs(value) > MAX_ANSWER:
                value = "invalid"
            self.heard_text = None  # answered by touch: the words heard last are no longer what was taken
            self._activity()
            self._perform(self.dialogue.handle(Chose(value)))
            return True
        return True

    def heard(
        self,
        text: str,
        confidence: float = 1.0,
        alternatives: tuple[tuple[str, float], ...] = (),
        spoken: bool = False,
        key: tuple[object, ...] | None = None,
    ) -> bool:
        """Words from the recogniser: a start phrase while idle, else a dialogue event.

        ``key`` is the :meth:`listening` key the words were listened for: if the
        screen has moved on since (a touch answered meanwhile), they are dropped.
        """
        with self._guard():
            if key is not None and key != self._listening_key():
                log.info("a spoken reply for a screen no longer shown was dropped")
                return False
            if self.state in (IDLE, ERROR):
                said = " " + " ".join(text.lower().split()) + " "
                if any(f" {phrase} " in said for phrase in self.text.start_phrases):
                    return self.start()
                return False
            if spoken:
                self._show_heard(text)
            if self.state == RESULT:  # only commands mean anything now: the same as their buttons
                command = interpret(text, AnswerType.YES_NO, self.locale.grammar).command
                return self.command(command) if command is not None else False
            self._activity()
            self._perform(self.dialogue.handle(Heard(text, confidence, alternatives, spoken)))
            return True
        return True

    def hear_event(self, event: Event, key: tuple[object, ...] | None = None) -> bool:
        """What the listener made of one spoken reply (nothing, speech that fits nothing, or words).

        ``key``: as for :meth:`heard`; a reply for a screen no longer shown is dropped.
        """
        if not isinstance(event, NoInput | NoMatch | Heard):
            raise TypeError(f"not a spoken event: {type(event).__name__}")
        with self._lock:
            if key is not None and key != self._listening_key():
                log.info("a spoken reply for a screen no longer shown was dropped")
                return False
            if isinstance(event, NoInput):
                return self.no_input()
            if isinstance(event, NoMatch):
                return self.no_match()
            return self.heard(event.text, event.confidence, event.alternatives, event.spoken)

    def command(self, name: str) -> bool:
        """repeat, back, help, stop, start_over, slower, louder (the dialogue's commands)."""
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        with self._guard():
            if self.state in (IDLE, ERROR):
                return False
            self._activity()
            if self.state == RESULT and name in ("slower", "louder"):  # while the result is read out
                return self.setting(name)
            if self.state == RESULT and name in ("stop", "start_over", "back"):
                if self.emergency is not None:
                    self._perform(self.dialogue.handle(Command("repeat")))  # the emergency stays
                    return True
                if name == "back":
                    return False
                self._end_of_result()
                if name == "start_over":
                    return self.start()
                self._wipe()
                return True
            self._perform(self.dialogue.handle(Command(name)))
            return True
        return True

    def no_input(self) -> bool:
        """Nobody answered (the voice's timeout): the dialogue reprompts; not the person's activity."""
        return self._event(NoInput())

    def no_match(self) -> bool:
        """Speech that fits no answer: the person is there."""
        return self._event(NoMatch())

    def _event(self, event: Event) -> bool:
        with self._guard():
            if self.state != QUESTION:
                return False
            if isinstance(event, NoMatch):
                self._activity()
            else:
                self.input_turn = False
            self._perform(self.dialogue.handle(event))
            return True
        return True

    def setting(self, name: str) -> bool:
        """A screen or speech setting; every one returns to its default for the next person."""
        if name not in SETTINGS:
            raise ValueError(f"unknown setting {name!r}")
        with self._guard():
            self._activity()
            s = self.settings
            if name == "pause":
                if self.speech is not None:
                    self.speech.interrupt()
                return True
            if name == "contrast":
                s = replace(s, contrast=not s.contrast)
            elif name in ("text_larger", "text_smaller"):
                step = 1 if name == "text_larger" else -1
                s = replace(s, text_size=int(_clamp(s.text_size + step, 0, TEXT_SIZES - 1)))
            elif name in ("slower", "faster"):
                rate = s.rate * (RATE_STEP if name == "slower" else 1 / RATE_STEP)
                s = replace(s, rate=round(_clamp(rate, *RATE_RANGE)))
            else:
                volume = s.volume * (VOLUME_STEP if name == "louder" else 1 / VOLUME_STEP)
                s = replace(s, volume=round(_clamp(volume, *VOLUME_RANGE), 3))
            self._apply(s)
            return True
        return True

    def scan(self, key: str) -> bool:
        """The switch scanning highlighted the button with this key: say its label."""
        with self._guard():
            label = next((b["label"] for b in self._buttons() if b["key"] == key), None)
            if label is None:
                label = next((b["label"] for b in self._settings_buttons() if b["key"] == key), None)
            if label is None:
                return False
            self._activity()
            self._publish({"type": "scan", "text": label})
            if self.speech is not None:
                self.speech.speak(SCAN_TURN, [label])  # said, not captioned: the page shows the highlight
            return True
        return True

    def print_slip(self) -> bool:
        """The Print button on the result screen, with a ``print_command``: the slip goes to the printer."""
        with self._guard():
            command = self.config.print_command
            text = self.slip_text()
            if not command or text is None:
                return False
            self._activity()
            printer.print_in_background(command, text, self.config.staff_token_env)
            return True
        return True

    def interrupt(self) -> bool:
        """Any touch or key: stop speaking now."""
        with self._guard():
            self._activity()
            if self.speech is not None:
                self.speech.interrupt()
            return True
        return True

    def staff_ack(self, alert_id: int | None = None) -> int:
        """Staff acknowledge one alert (or all): returns how many; an acknowledged emergency is wiped."""
        with self._guard():
            acked = [a for a in self.staff_alerts if alert_id is None or a.id == alert_id]
            self.staff_alerts = [a for a in self.staff_alerts if a not in acked]
            if self.emergency is not None and self.emergency in acked:
                log.info("emergency acknowledged by staff")
                self.emergency = None
                self._wipe()
            elif acked:
                self._changed()
            return len(acked)
        return 0

    # ------------------------------------------------------------ callbacks

    def speech_started(self, turn: int, text: str) -> None:
        with self._lock:
            if turn == self.turn:
                self._caption(text)

    def speech_finished(self, turn: int) -> None:
        with self._lock:
            if turn == self.turn:
                self.speaking = False
                self._listen_state(LISTENING, 0.0)
                if self.input_turn:  # the silence counts from the end of the reply, not of a reprompt
                    self.last_activity = self.clock()
                if self.state == RESULT:
                    self.result_at = self.clock()

    def listen_state(self, state: str, level: float = 0.0) -> None:
        """The listener's word on the microphone: listening, hearing speech (``level`` 0 to 1), or thinking.

        Published as ``{"type": "listen", "state", "level"}``: a change of state at once, the live
        level at most every :data:`LEVEL_EVERY_S`, so neither the page nor a screen reader is flooded.
        While the kiosk speaks the indicator says so, whatever the microphone hears.
        """
        if state not in LISTEN_STATES:
            raise ValueError(f"unknown listening state {state!r}")
        with self._lock:
            self._listen_state(state, level)

    def _listen_state(self, state: str, level: float) -> None:
        if not self.hears:
            return
        if self.speaking:
            state, level = SPEAKING, 0.0
        level = round(_clamp(level, 0.0, 1.0), 2)
        now = self.clock()
        if state == self.listen and (
            abs(level - self.listen_level) < LEVEL_STEP or now - self._level_at < LEVEL_EVERY_S
        ):
            return
        self.listen, self.listen_level, self._level_at = state, level, now
        self._publish({"type": "listen", "state": state, "level": level})

    def _show_heard(self, text: str) -> None:
        words = " ".join(text.split())
        if not words:
            return
        self.heard_text = words
        self._publish({"type": "heard", "text": words})

    def listening(self) -> tuple[tuple[object, ...], Expectation | None]:
        """What a spoken reply would answer now: (a key that changes with it, what to listen for).

        None while idle (only start phrases mean anything); yes/no for a
        read-back and on the result screen (commands); else the question's.
        """
        with self._lock:
            question = self.dialogue.current
            key = self._listening_key()
            if self.state == QUESTION and question is not None:
                return key, self.dialogue.listening_for
            if self.state == RESULT:
                return key, Expectation(AnswerType.YES_NO)
            return key, None

    def _listening_key(self) -> tuple[object, ...]:
        question = self.dialogue.current
        return (self.state, question.id if question else None, self.dialogue.asking_yes_no, self.turn)

    def tick(self) -> None:
        """Look at the clock: "are you still there?", abandoned sessions, the end of the result pause.

        Also lets the record keeper look at the database and retry records not saved.
        """
        self.records.tick()
        with self._guard():
            now = self.clock()
            timeouts = self.config.timeouts
            if self.state == QUESTION and not self.speaking:
                quiet = now - self.last_activity
                if quiet >= timeouts.reset_after_s:
                    log.info("session %d abandoned: wiped", self.sessions)
                    self._store()
                    self._wipe()
                elif quiet >= timeouts.still_there_s and not self.still_there:
                    self.still_there = True
                    self.input_turn = False
                    self._perform([Say(self.text["still_there"], "question")])
            elif (
                self.state in (RESULT, ERROR)
                and self.emergency is None
                and not self.speaking
                and now - self.result_at >= timeouts.result_pause_s
            ):
                self._end_of_result()
                self._wipe()

    # ------------------------------------------------------------ views

    @property
    def voice_reliable(self) -> bool:
        """False when the room, as last measured, is too loud for spoken answers to be heard reliably."""
        state = self.room.state if self.room is not None else None
        return state is None or state.reliable

    def room_measured(self, background_db: float, speech_db: float | None) -> None:
        """The listener's latest measure of the room (and of the answer just heard, if any)."""
        if self.room is None:
            return
        with self._lock:
            was = self.voice_reliable
            if speech_db is not None:
                self.room.heard_answer(speech_db)
            state = self.room.update(background_db)
            if state.reliable != was:
                log.info(
                    "room %s for spoken answers: estimated SNR %.0f dB",
                    "fit again" if state.reliable else "too loud",
                    state.snr_db,
                )
                if self.state == IDLE:
                    self._changed()

    def room_snapshot(self) -> dict[str, Any] | None:
        """The room as last measured, for the staff page (None: not measured, or no calibration)."""
        with self._lock:
            if not self.hears or self.room is None or self.room.state is None:
                return None
            return {**self.room.state.as_dict(), "min_snr_db": self.room.calibration.min_snr_db}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot()

    def alerts_snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [a.as_dict() for a in self.staff_alerts]

    def _snapshot(self) -> dict[str, Any]:
        messages = self.content.messages
        view: dict[str, Any] = {
            "screen": self.state,
            "step": self.step,
            "version": self.version,
            "lang": self.content.locale,
            "still_there": self.still_there,
            "speaking": self.speaking,  # as of this snapshot; not published when it changes
            "listen": {"state": self.listen, "level": self.listen_level} if self.hears else None,
            "heard": self.heard_text,
            "captions": {"turn": self.turn, "lines": list(self.captions)},
            "settings": self.settings.as_dict(),
            "text": {
                **self.text.fields,
                "invite": self.text[
                    "invite_touch" if not self.hears else "invite" if self.voice_reliable else "invite_noisy"
                ],
                "error": messages.say("error"),
            },
            "regions": dict(self.text.regions),
            "buttons": self._buttons(),
            "settings_buttons": self._settings_buttons(),
            "question": None,
            "result": None,
        }
        question = self.dialogue.current
        if self.state == QUESTION and question is not None:
            confirming = self.dialogue.asking_yes_no
            view["question"] = {
                "id": question.id,
                "text": self.prompt if confirming else question.text,
                "type": "yes_no" if confirming else question.type.value,
                "confirming": confirming,
                "unit": question.unit if question.type is AnswerType.NUMBER and not confirming else None,
                "progress": self._progress_view(),
            }
        elif self.state == RESULT and self.dialogue.result is not None:
            result = self.dialogue.result
            view["result"] = {
                **result_view(self.content, result, self.dialogue.answers, self.dialogue.approximate),
                "lines": list(self.result_lines),
                "emergency": self.emergency is not None,
                "wait": self.text["emergency_wait"] if self.emergency is not None else None,
                "slip": self._slip(),
                "printer": bool(self.config.print_command),
            }
        return view

    def _progress_view(self) -> dict[str, int]:
        """Question N, and about how many follow it (never fewer than the safety questions still open)."""
        answers = self.dialogue.answers
        key = tuple(answers.items())
        if self._progress is None or self._progress[0] != key:
            self._progress = (key, remaining(self.content, answers))
        left = self._progress[1]
        return {"n": len(answers) + 1, "left": max(0, left - 1)}  # remaining() counts the one asked now

    def _slip(self) -> dict[str, Any] | None:
        """The hand-off slip of the result shown: level, answers in plain words, time, kiosk; no identifier."""
        result = self.dialogue.result
        if self.state != RESULT or result is None:
            return None
        at = (self.result_wall or self.wall()).astimezone()
        return slip(self.content, result.level, self.dialogue.answers, self.dialogue.approximate, self.config.name, at)

    def slip_text(self) -> str | None:
        """The slip as plain text, for a receipt printer (``print_command``); None off the result screen."""
        with self._lock:
            data = self._slip()
            if data is None:
                return None
            t = self.text
            lines = [
                t["slip_title"],
                f"{t['slip_kiosk']}: {data['kiosk']}",
                f"{t['slip_time']}: {data['time']}",
                f"{t['slip_level']}: {data['level']}. {data['now']}",
                "",
                t["slip_answers"] + ":",
                *(f"- {row['question']} {row['answer']}" for row in data["answers"]),
                "",
                data["disclaimer"],
            ]
            return "\n".join(lines) + "\n"

    def _buttons(self) -> list[dict[str, str]]:
        labels = self.text.labels
        words = self.content.messages.answer_words
        if self.state in (IDLE, ERROR):
            return [{"kind": "start", "value": "start", "label": self.text["start"], "key": KEYS["start"]}]
        if self.state == RESULT:
            buttons = [{"kind": "command", "value": "repeat", "label": labels["repeat"], "key": KEYS["repeat"]}]
            buttons.append({"kind": "print", "value": "print", "label": labels["print"], "key": KEYS["print"]})
            if self.emergency is None:
                buttons.append({"kind": "command", "value": "stop", "label": labels["finish"], "key": KEYS["finish"]})
            return buttons
        question = self.dialogue.current
        if question is None:
            return []
        answer_type = AnswerType.YES_NO if self.dialogue.asking_yes_no else question.type
        buttons = []
        if answer_type is AnswerType.NUMBER:
            buttons += [{"kind": "digit", "value": d, "label": d, "key": k} for d, k in DIGIT_KEYS.items()]
            buttons.append({"kind": "delete", "value": "delete", "label": labels["delete"], "key": KEYS["delete"]})
            buttons.append({"kind": "ok", "value": "ok", "label": labels["ok"], "key": KEYS["ok"]})
            if question.unit == "days":  # a duration: say it in days, weeks, months or years (kept as days)
                buttons += [
                    {"kind": "unit", "value": str(days), "label": labels[unit], "key": UNIT_KEYS[unit], "unit": unit}
                    for unit, days in UNIT_DAYS.items()
                ]
        choices = ("yes", "no") if self.dialogue.confirming else CHOICES[answer_type]
        for value in choices:
            label = words.get(value, value)
            buttons.append(
                {"kind": "answer", "value": value, "label": label[:1].upper() + label[1:], "key": ANSWER_KEYS[value]}
            )
        for name in SCREEN_COMMANDS:
            buttons.append({"kind": "command", "value": name, "label": labels[name], "key": KEYS[name]})
        return buttons

    def _settings_buttons(self) -> list[dict[str, str]]:
        return [{"kind": "setting", "value": n, "label": self.text.labels[n], "key": KEYS[n]} for n in SETTINGS_BUTTONS]

    # ------------------------------------------------------------ internals

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Hold the lock; any internal error tells the person to ask the front desk."""
        with self._lock:
            try:
                yield
            except Exception as exc:
                # the traceback's frames, never the exception's message (it could quote an answer)
                frames = " < ".join(
                    f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                    for f in reversed(traceback.extract_tb(exc.__traceback__))
                )
                log.error("internal error in the kiosk (%s) at %s", type(exc).__name__, frames)
                self._fail()

    def _fail(self) -> None:
        try:
            self.dialogue = self._new_dialogue()
            self.state = ERROR
            self.still_there = False
            self.result_at = self.clock()
            self._say([self.content.messages.say("error")])
            self._changed()
        except Exception:
            log.critical("the kiosk could not even report an internal error", exc_info=False)

    def _activity(self) -> None:
        self.last_activity = self.clock()
        self.input_turn = True
        if self.state == RESULT:
            self.result_at = self.last_activity
        if self.still_there:
            self.still_there = False
            self._changed()

    def _apply(self, settings: Settings) -> None:
        self.settings = settings
        if self.speech is not None:
            self.speech.configure(settings.rate, settings.volume)
        self._changed()

    def _perform(self, actions: Sequence[Action]) -> None:
        says: list[str] = []
        ended: End | None = None
        for action in actions:
            if isinstance(action, Say):
                says.append(action.text)
            elif isinstance(action, Alert):
                self._raise_alert(action)
            elif isinstance(action, Adjust):
                self.setting(action.setting)
            elif isinstance(action, End):
                ended = action
        if ended is not None and ended.outcome == "stopped" and self.state == QUESTION:
            self._store()
            self._wipe(publish=False)
            self._say(says)
            self._changed()
            return
        if ended is not None:
            if self.state != RESULT:
                self.state = RESULT
                self._store()
            self.result_lines = tuple(says)
            self.result_at = self.clock()
            self.result_wall = self.wall()
        elif self.dialogue.current is not None:
            self.state = QUESTION
            if says and self.dialogue.asking_yes_no:
                self.prompt = says[-1]
        self._say(says)
        self._changed()

    def _say(self, texts: Sequence[str]) -> None:
        if not texts:
            return
        self.turn += 1
        self.captions = []
        if self.speech is None:
            self.captions = list(texts)
            for text in texts:
                self._publish({"type": "caption", "turn": self.turn, "text": text})
            return
        self.speaking = True
        self._listen_state(SPEAKING, 0.0)
        self.speech.speak(self.turn, list(texts))

    def _caption(self, text: str) -> None:
        self.captions.append(text)
        self._publish({"type": "caption", "turn": self.turn, "text": text})

    def _raise_alert(self, action: Alert) -> None:
        level = action.level if action.kind == "emergency" and action.level else action.kind
        self._alert_ids += 1
        staff = StaffAlert(self._alert_ids, alerts.Alert(kiosk=self.config.name, time=self.wall(), level=level))
        self.staff_alerts.append(staff)
        if action.kind == "emergency":
            self.emergency = staff
        log.warning("staff alert raised (%s)", level)
        try:
            self.notify(staff.alert)
        except Exception:
            log.error("the staff alert could not be sent", exc_info=False)

    def _store(self) -> None:
        """The hand-off record of the session now ending (once; only if anything was answered or decided)."""
        if self.stored or (not self.dialogue.answers and self.dialogue.result is None):
            return
        self.stored = True
        if self.store is None:
            return
        try:
            summary = summarize(self.dialogue, self.content, self.config.name, self.wall())
        except Exception as exc:  # the person still gets the result on screen
            log.error("the hand-off record could not be made (%s)", type(exc).__name__)
            return
        record_id = self.records.keep(summary)  # never raises; kept and retried if not stored
        if record_id is not None:
            log.info("session %d stored as record %d (%s)", self.sessions, record_id, summary.outcome)
        else:
            log.warning("session %d not stored yet (%s): kept to be saved later", self.sessions, summary.outcome)

    def _records_alert(self, kind: str) -> None:
        """Tell the alert channels about the records (kiosk, time and what happened; never an answer)."""
        try:
            self.notify(alerts.Alert(kiosk=self.config.name, time=self.wall(), level=kind))
        except Exception:
            log.error("the records alert could not be sent", exc_info=False)

    def _end_of_result(self) -> None:
        self._store()

    def _wipe(self, publish: bool = True) -> None:
        """Back to idle: a new dialogue, no captions, default settings; every answer dropped."""
        if self.speech is not None:
            self.speech.interrupt()
        self.dialogue = self._new_dialogue()
        self.state = IDLE
        self.captions = []
        self.result_lines = ()
        self.result_wall = None
        self.heard_text = None
        self.prompt = ""
        self.still_there = False
        self.speaking = False
        self.turn += 1
        self.last_activity = self.clock()
        self.input_turn = True
        if self.settings != self.defaults:
            self.settings = self.defaults
            if self.speech is not None:
                self.speech.configure(self.defaults.rate, self.defaults.volume)
        if publish:
            self._changed()
