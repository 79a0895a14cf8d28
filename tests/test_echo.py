"""Echo cancellation of the kiosk's own prompt (libspeexdsp), and telling an answer from the echo residue.

Offline, frame by frame: the microphone hears a delayed, quieter copy of what
the loudspeaker played (as on the PulseAudio loop), optionally with a
patient's answer on top.  Barge-in through real devices is measured in the
benchmark (bench/README.md), where it is off by default.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.speech import synthesise
from voice_triage.speech.echo import EchoCanceller, EchoUnavailable
from voice_triage.speech.speech_in import FRAME_MS, BargeIn, Endpointer, ListenSettings, frame_db

RATE = 16000
FRAME = RATE * FRAME_MS // 1000
PROMPT = "오른쪽 다리에 힘이 빠지나요? 네 또는 아니요로 대답해 주세요."


@pytest.fixture
def canceller() -> EchoCanceller:
    try:
        return EchoCanceller(FRAME, RATE)
    except EchoUnavailable as exc:
        pytest.skip(str(exc))


def room(played: np.ndarray, delay: int = 1600, gain: float = 0.6) -> np.ndarray:
    """What the microphone hears of ``played``: later and quieter."""
    return np.concatenate([np.zeros(delay, dtype="<i2"), (played * gain).astype("<i2")])[: len(played)]


def test_the_prompt_echo_is_cancelled(canceller: EchoCanceller) -> None:
    one = synthesise(PROMPT, "ko", 190)
    played = np.concatenate([one, one, one])
    heard = room(played)
    out = np.concatenate(
        [
            np.frombuffer(canceller.cancel(heard[i : i + FRAME].tobytes(), played[i : i + FRAME]), dtype="<i2")
            for i in range(0, len(played) - FRAME + 1, FRAME)
        ]
    )
    last = slice(2 * len(one), len(out))  # the third time: the filter has adapted
    echo_db = frame_db(heard[last].tobytes())
    residue_db = frame_db(out[last].tobytes())
    assert residue_db < echo_db - 20


def test_an_answer_stands_out_from_the_residue_and_the_prompt_alone_does_not(canceller: EchoCanceller) -> None:
    one = synthesise(PROMPT, "ko", 190)
    played = np.concatenate([one, one, one])
    heard = room(played)
    answer = synthesise("아니요 없어요", "ko+f2", 165)
    at = 2 * len(one) + len(one) // 3  # the patient answers during the third prompt
    with_answer = heard.copy()
    with_answer[at : at + len(answer)] = np.clip(
        with_answer[at : at + len(answer)].astype(np.int32) + answer, -32768, 32767
    ).astype("<i2")
    endpointer = Endpointer(ListenSettings(), RATE)

    def stood_out(mic: np.ndarray, canceller: EchoCanceller) -> list[int]:
        state = {"index": 0}

        class Played:  # as the player keeps it: zeros before the first sample
            def index_at(self, until: float) -> int:
                return state["index"] + FRAME

            def samples(self, end: int, count: int) -> np.ndarray:
                recent = played[max(0, end - count) : end]
                return np.concatenate([np.zeros(count - len(recent), dtype="<i2"), recent])

        barge = BargeIn(canceller, Played(), lambda: None)
        frames = []
        for i in range(0, len(played) - FRAME + 1, FRAME):
            state["index"] = i
            cleaned = barge.cancel(i / RATE, mic[i : i + FRAME].tobytes())
            if barge.stands_out(cleaned, endpointer):
                frames.append(i)
        return frames

    alone = stood_out(heard, canceller)
    assert len(alone) <= 2  # the echo alone never starts an answer (3 frames of 5 do)
    other = EchoCanceller(FRAME, RATE)
    heard_over = stood_out(with_answer, other)
    during_answer = [i for i in heard_over if at <= i < at + len(answer)]
    assert len(during_answer) >= 5
