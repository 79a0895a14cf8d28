"""The kiosk controller: session lifecycle with a fake clock (no sleeping), alerts, records, wiping."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from voice_triage.core.contract import AnswerType, Value
from voice_triage.core.dialogue import Dialogue, Event, Expectation
from voice_triage.core.engine import triage
from voice_triage.core.locale import Locale
from voice_triage.kiosk import alerts
from voice_triage.kiosk.config import KioskConfig, Timeouts
from voice_triage.kiosk.controller import ERROR, IDLE, QUESTION, RESULT, KioskController
from voice_triage.kiosk.records import RecordStore
from voice_triage.kiosk.text import KioskText, load_locale_text

NOW = datetime(2025, 3, 14, 15, 0, tzinfo=UTC)
TIMEOUTS = Timeouts(still_there_s=45, reset_after_s=90, result_pause_s=120)
# answers a calm patient gives: nothing alarming
CALM: dict[AnswerType, Value] = {
    AnswerType.YES_NO: "no",
    AnswerType.SCALE_0_10: 3,
    AnswerType.NUMBER: 4,
    AnswerType.SIDE: "left",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """Collects what the controller publishes and the staff alerts it sends."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.sent: list[alerts.Alert] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def captions(self) -> list[str]:
        return [e["text"] for e in self.events if e["type"] == "caption"]


class FakeSpeech:
    def __init__(self) -> None:
        self.turns: list[tuple[int, list[str]]] = []
        self.interrupted = 0
        self.configured: list[tuple[int, float]] = []

    def speak(self, turn: int, texts: Sequence[str]) -> None:
        self.turns.append((turn, list(texts)))

    def interrupt(self) -> None:
        self.interrupted += 1

    def configure(self, rate: int, volume: float) -> None:
        self.configured.append((rate, volume))


@pytest.fixture(scope="module")
def text() -> KioskText:
    return load_locale_text("en")


def make(
    locale: Locale,
    text: KioskText,
    *,
    speech: FakeSpeech | None = None,
    factory: Any = None,
) -> tuple[KioskController, Clock, Recorder, RecordStore]:
    clock = Clock()
    recorder = Recorder()
    store = RecordStore(":memory:", clock=lambda: NOW)
    config = KioskConfig(name="Waiting room A", timeouts=TIMEOUTS)
    controller = KioskController(
        locale,
        text,
        config,
        store,
        clock=clock,
        wall=lambda: NOW,
        notify=recorder.sent.append,
        speech=speech,
        dialogue_factory=factory,
    )
    controller.subscribe(recorder)
    return controller, clock, recorder, store


def answer_all(controller: KioskController, answers: dict[str, Value] | None = None) -> list[str]:
    """Touch an answer to every question until the result; the question ids in order."""
    asked: list[str] = []
    while controller.state == QUESTION:
        question = controller.dialogue.current
        assert question is not None
        asked.append(question.id)
        assert len(asked) < 60, "the session never ended"
        value = (answers or {}).get(question.id, CALM[question.type])
        assert controller.answer(value)
    return asked


# ---------------------------------------------------------------- lifecycle


def test_idle_screen_offers_start_only(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    view = controller.snapshot()
    assert view["screen"] == IDLE
    assert view["question"] is None and view["result"] is None
    assert [(b["kind"], b["key"]) for b in view["buttons"]] == [("start", "s")]
    assert not controller.answer("no"), "an answer means nothing while idle"


def test_a_whole_session_by_touch_ends_with_the_level_then_is_wiped(locale: Locale, text: KioskText) -> None:
    controller, clock, recorder, store = make(locale, text)
    assert controller.start()
    view = controller.snapshot()
    assert view["screen"] == QUESTION
    first = locale.content.questions[0]
    assert view["question"]["id"] == first.id and view["question"]["text"] == first.text
    assert first.text in recorder.captions(), "every sentence is captioned"
    # nothing listens here (no microphone, no model): the welcome asks for touch, not speech
    assert locale.content.messages.say("welcome_touch") in recorder.captions()
    assert locale.content.messages.say("welcome") not in recorder.captions()

    answer_all(controller)
    expected = triage(locale.content, controller.dialogue.answers).level
    view = controller.snapshot()
    assert view["screen"] == RESULT
    assert view["result"]["level"] == expected
    assert view["result"]["lines"][0] in view["captions"]["lines"]
    records = store.today(NOW)
    assert len(records) == 1 and records[0].level == expected and records[0].outcome == "finished"

    clock.advance(TIMEOUTS.result_pause_s - 1)
    controller.tick()
    assert controller.state == RESULT, "the result stays for the whole pause"
    clock.advance(1)
    controller.tick()
    view = controller.snapshot()
    assert view["screen"] == IDLE
    assert controller.dialogue.answers == {} and controller.dialogue.transcript == []
    assert view["captions"]["lines"] == [] and view["result"] is None
    assert store.count() == 1, "stored once, not again at the wipe"


def test_one_process_serves_session_after_session(locale: Locale, text: KioskText) -> None:
    controller, _clock, _, store = make(locale, text)
    for _ in range(3):
        assert controller.start()
        answer_all(controller)
        assert controller.command("stop")  # "Finish" on the result screen: wiped at once
        assert controller.state == IDLE
    assert store.count() == 3


def test_touch_and_spoken_answers_are_the_same_event(locale: Locale, text: KioskText) -> None:
    touched, *_ = make(locale, text)
    spoken, *_ = make(locale, text)
    for controller in (touched, spoken):
        controller.start()
    touched.answer("no")
    spoken.heard("no", confidence=1.0)
    assert touched.dialogue.answers == spoken.dialogue.answers == {locale.content.questions[0].id: "no"}
    assert touched.snapshot()["question"] == spoken.snapshot()["question"]


def test_a_start_phrase_starts_a_session_while_idle(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    assert not controller.heard("yes")
    assert controller.state == IDLE
    assert controller.heard("Start")
    assert controller.state == QUESTION


def test_the_result_is_repeated_on_request(locale: Locale, text: KioskText) -> None:
    controller, clock, recorder, _ = make(locale, text)
    controller.start()
    answer_all(controller)
    lines = controller.snapshot()["result"]["lines"]
    before = len(recorder.captions())
    clock.advance(100)
    assert controller.command("repeat")
    assert recorder.captions()[before:] == lines
    clock.advance(100)  # 200 s after the result, 100 s after the repeat
    controller.tick()
    assert controller.state == RESULT, "asking again restarts the pause"


def test_stop_mid_session_is_recorded_as_stopped_and_wiped(locale: Locale, text: KioskText) -> None:
    controller, _, _recorder, store = make(locale, text)
    controller.start()
    controller.answer("no")
    assert controller.command("stop")
    view = controller.snapshot()
    assert view["screen"] == IDLE and controller.dialogue.answers == {}
    assert view["captions"]["lines"] == [locale.content.messages.say("stopped")]
    [record] = store.today(NOW)
    assert record.outcome == "stopped" and len(record.answers) == 1


# ------------------------------------------------------------ silence


def test_silence_asks_are_you_still_there_then_resets(locale: Locale, text: KioskText) -> None:
    controller, clock, recorder, store = make(locale, text)
    controller.start()
    controller.answer("no")
    clock.advance(TIMEOUTS.still_there_s - 0.5)
    controller.tick()
    assert not controller.still_there
    clock.advance(0.5)
    controller.tick()
    assert controller.snapshot()["still_there"] is True
    assert recorder.captions()[-1] == text["still_there"]
    controller.tick()
    assert recorder.captions().count(text["still_there"]) == 1, "asked once"
    clock.advance(TIMEOUTS.reset_after_s - TIMEOUTS.still_there_s)
    controller.tick()
    assert controller.state == IDLE and controller.dialogue.answers == {}
    [record] = store.today(NOW)
    assert record.outcome == "stopped", "an abandoned session is kept for staff, as stopped"


def test_any_input_restarts_the_silence_timer(locale: Locale, text: KioskText) -> None:
    controller, clock, _, store = make(locale, text)
    controller.start()
    clock.advance(TIMEOUTS.still_there_s)
    controller.tick()
    assert controller.still_there
    controller.setting("text_larger")  # a touch anywhere counts
    assert not controller.still_there
    clock.advance(TIMEOUTS.reset_after_s - 1)
    controller.tick()
    assert controller.state == QUESTION
    clock.advance(1)
    controller.tick()
    assert controller.state == IDLE
    assert store.count() == 0, "nothing answered, nothing kept"


# ------------------------------------------------------------ emergency


def test_a_red_flag_alerts_staff_and_stays_until_acknowledged(
    locale: Locale, text: KioskText, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    controller, clock, recorder, store = make(locale, text)
    controller.start()
    first = locale.content.questions[0]
    assert first.safety
    controller.answer("yes")
    view = controller.snapshot()
    assert view["screen"] == RESULT
    assert view["result"]["level"] == "emergency" and view["result"]["emergency"] is True
    emergency_text = locale.content.messages.levels["emergency"]
    first_caption = next(e for e in recorder.events if e["type"] == "caption" and e["turn"] == view["captions"]["turn"])
    assert first_caption["text"] == emergency_text, "the emergency message comes first"
    commands = [b["value"] for b in view["buttons"] if b["kind"] != "print"]  # printing the slip dismisses nothing
    assert commands == ["repeat"], "no way to dismiss it but staff"

    [sent] = recorder.sent
    assert sent.as_dict() == {"kiosk": "Waiting room A", "time": "2025-03-14T15:00:00Z", "level": "emergency"}
    assert [a["level"] for a in controller.alerts_snapshot()] == ["emergency"]
    [record] = store.today(NOW)
    assert record.emergency

    clock.advance(TIMEOUTS.result_pause_s * 10)
    controller.tick()
    assert controller.command("stop")
    assert not controller.start()
    assert controller.state == RESULT, "neither time nor the patient clears an emergency"

    assert controller.staff_ack() == 1
    assert controller.state == IDLE and controller.alerts_snapshot() == []
    assert controller.dialogue.answers == {}
    assert first.text not in caplog.text and "yes" not in caplog.text.lower().split()


def test_staff_are_called_after_repeated_misunderstanding(locale: Locale, text: KioskText) -> None:
    controller, _, recorder, _ = make(locale, text)
    controller.start()
    for _ in range(4):
        controller.no_match()
    assert [a.level for a in recorder.sent] == ["assist"]
    assert controller.state == QUESTION, "the session goes on"
    assert controller.staff_ack(controller.alerts_snapshot()[0]["id"]) == 1
    assert controller.state == QUESTION


# ------------------------------------------------------------ errors


class Broken(Dialogue):
    def handle(self, event: Event) -> list[Any]:
        raise RuntimeError("secret answer text")


def test_an_internal_error_sends_the_person_to_the_front_desk(
    locale: Locale, text: KioskText, caplog: pytest.LogCaptureFixture
) -> None:
    controller, clock, recorder, _ = make(locale, text, factory=lambda: Broken(locale.content, locale.grammar))
    controller.start()
    assert controller.answer("no")
    view = controller.snapshot()
    assert view["screen"] == ERROR
    assert recorder.captions()[-1] == locale.content.messages.say("error")
    assert "secret answer text" not in caplog.text, "the exception's message is never logged"
    assert "RuntimeError" in caplog.text
    clock.advance(TIMEOUTS.result_pause_s)
    controller.tick()
    assert controller.state == IDLE


def test_a_store_that_fails_still_shows_the_result(locale: Locale, text: KioskText) -> None:
    controller, _, _, store = make(locale, text)
    store.close()
    controller.start()
    answer_all(controller)
    assert controller.state == RESULT


# ------------------------------------------------------------ settings and screen


def test_settings_return_to_defaults_for_the_next_person(locale: Locale, text: KioskText) -> None:
    speech = FakeSpeech()
    controller, *_ = make(locale, text, speech=speech)
    defaults = controller.snapshot()["settings"]
    controller.start()
    for name in ("contrast", "text_larger", "text_larger", "slower", "louder"):
        controller.setting(name)
    changed = controller.snapshot()["settings"]
    assert changed["contrast"] and changed["text_size"] == 2
    assert changed["rate"] < defaults["rate"] and changed["volume"] > defaults["volume"]
    assert speech.configured[-1] == (changed["rate"], changed["volume"])
    controller.command("stop")
    assert controller.snapshot()["settings"] == defaults
    assert speech.configured[-1] == (defaults["rate"], defaults["volume"])


def test_a_spoken_slower_changes_the_rate_setting(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    controller.start()
    rate = controller.settings.rate
    controller.heard("slower")
    assert controller.settings.rate < rate


def test_every_button_has_a_unique_single_key_on_every_screen(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    seen_types: set[str] = set()

    def check() -> None:
        view = controller.snapshot()
        keys = [b["key"] for b in view["buttons"] + view["settings_buttons"]]
        assert len(keys) == len(set(keys)), keys
        assert all(len(k) == 1 and k not in (" ", "\n") for k in keys)
        if view["question"]:
            seen_types.add(view["question"]["type"])

    check()
    controller.start()
    while controller.state == QUESTION:
        check()
        question = controller.dialogue.current
        assert question is not None
        controller.answer(CALM[question.type])
    check()
    assert seen_types >= {"yes_no", "scale_0_10", "number"}
    controller.command("stop")
    controller.start()
    controller.heard("maybe yes", confidence=0.1)  # read back: "Is that right?"
    assert controller.dialogue.confirming
    check()
    view = controller.snapshot()
    assert [b["value"] for b in view["buttons"] if b["kind"] == "answer"] == ["yes", "no"]
    assert view["question"]["confirming"] and "Is that right?" in view["question"]["text"]
    assert controller.answer("yes"), "a touch answers the read-back"
    assert not controller.dialogue.confirming


def test_number_keypad_and_bad_numbers(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    controller.start()
    while controller.dialogue.current is not None and controller.dialogue.current.type is not AnswerType.NUMBER:
        controller.answer(CALM[controller.dialogue.current.type])
    question = controller.dialogue.current
    assert question is not None
    kinds = [b["kind"] for b in controller.snapshot()["buttons"]]
    assert kinds.count("digit") == 10 and "ok" in kinds and "delete" in kinds
    for bad in (float("nan"), float("inf"), 10**9, "-3", "abc"):
        controller.answer(bad)
        assert controller.dialogue.current is question and question.id not in controller.dialogue.answers
    controller.answer("14")
    assert controller.dialogue.answers[question.id] == 14


def test_scan_says_the_highlighted_label(locale: Locale, text: KioskText) -> None:
    speech = FakeSpeech()
    controller, _, recorder, _ = make(locale, text, speech=speech)
    controller.start()
    assert controller.scan("y")
    assert recorder.events[-1] == {"type": "scan", "text": "Yes"}
    assert speech.turns[-1] == (-1, ["Yes"])
    assert not controller.scan("?")


def test_with_a_voice_captions_follow_the_speech(locale: Locale, text: KioskText) -> None:
    speech = FakeSpeech()
    controller, clock, recorder, _ = make(locale, text, speech=speech)
    controller.start()
    turn, texts = speech.turns[-1]
    assert recorder.captions() == [], "nothing is captioned before it is spoken"
    controller.speech_started(turn, texts[0])
    controller.speech_started(turn - 1, "stale")
    assert recorder.captions() == [texts[0]]
    clock.advance(TIMEOUTS.reset_after_s * 2)
    controller.tick()
    assert controller.state == QUESTION, "silence is not counted while the kiosk speaks"
    controller.speech_finished(turn)
    clock.advance(TIMEOUTS.still_there_s)
    controller.tick()
    assert controller.still_there
    interrupted = speech.interrupted
    controller.interrupt()
    assert speech.interrupted == interrupted + 1


def test_inputs_from_many_threads(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    controller.start()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for _ in range(30):
                question = controller.dialogue.current
                if question is not None:
                    controller.answer(CALM[question.type])
                controller.snapshot()
                controller.tick()
                if n == 0 and controller.state == RESULT:
                    controller.command("stop")
                    controller.start()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert controller.state in (QUESTION, RESULT, IDLE)
    json.dumps(controller.snapshot())  # always serialisable


def test_voice_reprompts_do_not_keep_an_abandoned_session_alive(locale: Locale, text: KioskText) -> None:
    speech = FakeSpeech()
    controller, clock, recorder, _ = make(locale, text, speech=speech)
    controller.start()
    controller.speech_finished(speech.turns[-1][0])
    for _ in range(8):  # the voice's no-input timeout, again and again: the dialogue reprompts
        clock.advance(10)
        controller.no_input()
        controller.speech_finished(speech.turns[-1][0])
        controller.tick()
    assert controller.state == QUESTION and controller.still_there
    clock.advance(TIMEOUTS.reset_after_s - 80)
    controller.tick()
    assert controller.state == IDLE, "reset after reset_after_s of the person's silence"
    assert [a.level for a in recorder.sent] == ["assist"], "staff were offered once"


def test_a_long_reply_is_not_counted_as_silence(locale: Locale, text: KioskText) -> None:
    speech = FakeSpeech()
    controller, clock, *_ = make(locale, text, speech=speech)
    controller.start()
    controller.command("help")
    clock.advance(TIMEOUTS.still_there_s + 5)  # the help takes a while to say
    controller.tick()
    assert not controller.still_there
    controller.speech_finished(speech.turns[-1][0])
    clock.advance(TIMEOUTS.still_there_s - 1)
    controller.tick()
    assert not controller.still_there, "the silence counts from the end of the help"
    clock.advance(1)
    controller.tick()
    assert controller.still_there


def test_spoken_commands_on_the_result_screen(locale: Locale, text: KioskText) -> None:
    controller, _, recorder, store = make(locale, text)
    controller.start()
    _, expect = controller.listening()
    first = locale.content.questions[0]
    assert expect == Expectation(first.type, first.keywords + first.denials), "the question's own key words too"
    answer_all(controller)
    assert controller.listening()[1] == Expectation(AnswerType.YES_NO), "the result screen: commands"
    lines = controller.snapshot()["result"]["lines"]
    assert not controller.heard("no"), "not a command"
    assert controller.heard("say that again")
    assert recorder.captions()[-len(lines) :] == lines
    assert controller.heard("stop")
    assert controller.state == IDLE and controller.listening()[1] is None
    assert store.count() == 1


def test_a_read_back_answer_is_wiped_too(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    controller.start()
    controller.heard("maybe yes", confidence=0.1)
    read_back = controller.snapshot()["question"]["text"]
    assert controller.dialogue.confirming and "I heard" in read_back
    controller.command("stop")
    shown = json.dumps(controller.snapshot(), ensure_ascii=False)
    # the read-back and the words heard are gone ("I heard" itself is also the heard caption's label)
    assert controller.prompt == "" and read_back not in shown and "maybe" not in shown
    assert controller.snapshot()["heard"] is None


def test_louder_and_slower_work_on_the_result_screen(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    controller.start()
    answer_all(controller)
    volume, rate = controller.settings.volume, controller.settings.rate
    assert controller.heard("louder") and controller.command("slower")
    assert controller.settings.volume > volume and controller.settings.rate < rate
    assert controller.state == RESULT


def test_a_kiosk_that_cannot_hear_never_asks_for_speech(locale: Locale, text: KioskText) -> None:
    controller, _, recorder, _ = make(locale, text)
    assert controller.snapshot()["text"]["invite"] == text["invite_touch"]
    controller.hears = True  # what kiosk_voice sets once a microphone and a model listen
    assert controller.snapshot()["text"]["invite"] == text["invite"]
    controller.start()
    assert recorder.captions()[0] == locale.content.messages.say("welcome")


def test_the_listening_indicator_is_published_without_flooding(locale: Locale, text: KioskText) -> None:
    speech = FakeSpeech()
    controller, clock, recorder, _ = make(locale, text, speech=speech)
    assert controller.snapshot()["listen"] is None, "no indicator where nothing listens"
    controller.hears = True
    controller.start()
    listen = [e for e in recorder.events if e["type"] == "listen"]
    assert listen == [{"type": "listen", "state": "speaking", "level": 0.0}], "speaking as the question is said"
    controller.listen_state("hearing", 0.9)  # the kiosk's own voice in the microphone: still speaking
    assert controller.snapshot()["listen"] == {"state": "speaking", "level": 0.0}
    controller.speech_finished(controller.turn)
    controller.listen_state("listening")
    for i in range(50):  # a live level every 30 ms frame for 1.5 s
        clock.advance(0.03)
        controller.listen_state("hearing", 0.3 + 0.5 * (i % 2))
    controller.listen_state("thinking")
    listen = [e for e in recorder.events if e["type"] == "listen"][1:]
    states = [e["state"] for e in listen]
    assert states[0] == "listening" and states[1] == "hearing" and states[-1] == "thinking", states
    assert len(listen) <= 2 + 1.5 / 0.15 + 1, f"{len(listen)} events for 1.5 s of speech: flooding"
    with pytest.raises(ValueError):
        controller.listen_state("dreaming")


def test_the_words_heard_are_shown_and_wiped(locale: Locale, text: KioskText) -> None:
    controller, _, recorder, _ = make(locale, text)
    controller.start()
    controller.heard("no", spoken=False)  # typed words are not "heard"
    assert controller.snapshot()["heard"] is None
    controller.heard("nope  not really", spoken=True)
    assert controller.snapshot()["heard"] == "nope not really"
    assert {"type": "heard", "text": "nope not really"} in recorder.events
    controller.heard("no", spoken=True)
    assert controller.snapshot()["heard"] == "no"
    controller.answer("no")  # a touch answer: the words heard before are not what it took
    assert controller.snapshot()["heard"] is None
    controller.heard("yes", spoken=True)
    controller.command("stop")
    assert controller.snapshot()["heard"] is None


def test_the_slip_and_the_printer(locale: Locale, text: KioskText, tmp_path: Path) -> None:
    """The slip: kiosk, time, level and the answers in plain words; printed through print_command's stdin."""
    import sys
    import time

    out = tmp_path / "slip.txt"
    part = tmp_path / "slip.part"  # written whole, then renamed: never read half-written
    script = (
        f"import os, sys; open({str(part)!r}, 'w', encoding='utf-8').write(sys.stdin.read()); "
        f"os.replace({str(part)!r}, {str(out)!r})"
    )
    controller, *_ = make(locale, text)
    controller.config = replace(controller.config, print_command=(sys.executable, "-c", script))
    assert not controller.print_slip(), "nothing to print before the result"
    controller.start()
    answer_all(controller)
    slip = controller.snapshot()["result"]["slip"]
    assert slip["kiosk"] == "Waiting room A" and slip["time"] == NOW.astimezone().strftime("%Y-%m-%d %H:%M")
    assert set(slip) == {"kiosk", "time", "level", "now", "answers", "disclaimer"}
    assert [a["question"] for a in slip["answers"]] == [
        locale.content.question(f).text for f in controller.dialogue.answers
    ]
    assert controller.print_slip()
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    printed = out.read_text(encoding="utf-8")
    assert printed == controller.slip_text()
    assert "Kiosk: Waiting room A" in printed and slip["level"] in printed
    controller.command("stop")
    assert controller.slip_text() is None and not controller.print_slip()
