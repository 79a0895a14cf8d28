"""When the kiosk's own voice ends and the patient's turn begins.

A turn the kiosk says is often several sentences (what it heard, then the
next question); between two of them the loudspeaker is silent while the next
one is rendered.  That moment is not the patient's turn: the no-answer clock
starts only once the kiosk has finished the whole turn, so a patient who
answers straight after a long question is never told that no answer came.
"""

from __future__ import annotations

import threading
import time

from voice_triage.kiosk.voice import KioskSpeech
from voice_triage.speech.speech_in import FRAME_MS, Endpointer, ListenSettings

RATE = 16000
SILENCE = bytes(2 * RATE * FRAME_MS // 1000)


def test_the_no_answer_clock_starts_after_the_kiosk_last_spoke() -> None:
    """Silence, the kiosk speaking again from 1 s to 9 s, then silence: no answer only 8 s after 9 s."""
    settings = ListenSettings(no_input_timeout_s=8.0, echo_tail_ms=250)
    endpointer = Endpointer(settings, RATE)
    frame_s = FRAME_MS / 1000.0
    clock = {"at": 0.0}

    def quiet_after() -> float:
        at = clock["at"]
        if at < 1.0:
            return 0.0  # the first sentence has ended
        return float("inf") if at < 9.0 else 9.0  # the second one plays until 9 s

    def read(_timeout: float) -> tuple[float, bytes] | None:
        clock["at"] += frame_s
        if clock["at"] > 40.0:
            raise AssertionError("listened for ever")
        return clock["at"], SILENCE

    utterance = endpointer.listen(read, lambda _pcm: None, quiet_after)
    assert not utterance.heard_speech
    assert clock["at"] >= 9.0 + 0.25 + 8.0, f"no answer declared at {clock['at']:.2f} s, before 17.25 s"
    assert clock["at"] < 9.0 + 0.25 + 8.0 + 0.1


class BlockingSpeaker:
    """Says a sentence by waiting until the test lets it finish; the loudspeaker's time is its own."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.played_until = 0.0
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)
        self.started.release()
        assert self.release.acquire(timeout=10)
        self.played_until = time.monotonic()

    def stop(self) -> None:
        pass

    def configure(self, rate: int, volume: float) -> None:
        pass

    @property
    def busy_until(self) -> float:
        return self.played_until  # only the sentence just played, as a real loudspeaker knows it


class Captions:
    def __init__(self) -> None:
        self.finished = threading.Event()

    def speech_started(self, turn: int, text: str) -> None:
        pass

    def speech_finished(self, turn: int) -> None:
        self.finished.set()


def test_the_kiosk_is_speaking_for_its_whole_turn_not_only_each_sentence() -> None:
    speaker = BlockingSpeaker()
    speech = KioskSpeech(speaker)
    captions = Captions()
    speech.attach(captions)  # type: ignore[arg-type]
    try:
        assert speech.busy_until == 0.0
        speech.speak(1, ["I heard: yes.", "Next question?"])
        assert speaker.started.acquire(timeout=10)
        assert speech.busy_until == float("inf"), "while the first sentence plays"
        speaker.release.release()  # the first sentence ends; the second one is still to come
        assert speaker.started.acquire(timeout=10)
        assert speech.busy_until == float("inf"), "between and during the sentences of one turn"
        speaker.release.release()
        assert captions.finished.wait(timeout=10)
        assert speech.busy_until == speaker.played_until < float("inf"), "after the turn: the loudspeaker's own time"
        assert speaker.said == ["I heard: yes.", "Next question?"]
    finally:
        speaker.release.release()
        speech.close()
