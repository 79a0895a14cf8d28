"""Suppression only in steady, loud noise: the room's verdict on real noise, and the endpointer that follows it.

Pink noise and espeak-ng babble are the spoken evaluation's own (speech/synthetic.py), at the levels the
evaluation mixes them (a voice's active level about -18 dBFS).
"""

from __future__ import annotations

import numpy as np
import pytest

from voice_triage.core.locale import load_locale
from voice_triage.speech.speech_in import FRAME_MS, Endpointer, ListenSettings
from voice_triage.speech.spoken_eval import babble_texts, babble_voices
from voice_triage.speech.steady_noise import RoomNoise
from voice_triage.speech.synthetic import Noise, Speech, Voice

RATE = 16000
FRAME = RATE * FRAME_MS // 1000
VOICE_DB = -18.0


def frames(samples: np.ndarray) -> list[bytes]:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    return [pcm[i : i + FRAME].tobytes() for i in range(0, len(pcm) - FRAME + 1, FRAME)]


def room(kind: str, snr_db: float, seconds: float = 5.0, seed: int = 1) -> np.ndarray:
    """Unit-RMS noise put ``snr_db`` below a voice at VOICE_DB."""
    speech = Speech(RATE) if kind == "babble" else None
    voices = [Voice("ko", 150), Voice("ko+m6", 145)]
    texts = babble_texts(load_locale("ko").content) if kind == "babble" else None
    noise = Noise(kind, RATE, seed=seed, speech=speech, babble_texts=texts, babble_voices=babble_voices(voices))
    gain = 10 ** ((VOICE_DB - snr_db) / 20)
    return noise.take(int(seconds * RATE)) * gain


def verdict(samples: np.ndarray, answers_db: float | None = None) -> RoomNoise:
    noise = RoomNoise(RATE)
    if answers_db is not None:
        noise.heard_answer(answers_db)
    for frame in frames(samples):
        noise.add(frame)
    noise.update()
    return noise


@pytest.mark.parametrize("kind", ["pink", "brown", "white"])
def test_steady_loud_noise_is_cleaned(kind: str) -> None:
    noise = verdict(room(kind, 10), answers_db=VOICE_DB)
    assert noise.spread_db is not None and noise.spread_db < 1.5, noise.spread_db
    assert noise.steady_and_loud


@pytest.mark.parametrize("seed", [1, 2])
def test_voices_in_the_room_are_never_cleaned(seed: int) -> None:
    noise = verdict(room("babble", 10, seed=seed), answers_db=VOICE_DB)
    assert noise.spread_db is not None and noise.spread_db > 2.5, noise.spread_db
    assert not noise.steady_and_loud


def test_a_quiet_room_is_never_cleaned() -> None:
    assert not verdict(np.zeros(RATE * 5, dtype=np.float32)).steady_and_loud  # digital silence: steady, not loud
    quiet = verdict(room("pink", 30), answers_db=VOICE_DB)
    assert quiet.spread_db is not None and quiet.spread_db < 1.5  # steady, but 30 dB under the answers
    assert not quiet.steady_and_loud


def test_too_little_heard_makes_no_verdict() -> None:
    noise = verdict(room("pink", 10, seconds=1.0), answers_db=VOICE_DB)
    assert noise.spread_db is None and not noise.steady_and_loud


def test_the_verdict_holds_inside_its_margin() -> None:
    """On under 15 dB; then on up to 18 dB (the 3 dB margin), off past it, and off again up to 15 dB.

    The room's level is the median of its frames' levels, about 1.5 dB under pink noise's power: the
    estimate of a room mixed at 12 dB is 13.5 dB.
    """
    noise = verdict(room("pink", 12), answers_db=VOICE_DB)
    assert noise.steady_and_loud
    for snr, on in ((15.0, True), (19.0, False), (15.0, False)):
        for frame in frames(room("pink", snr, seconds=11.0)):  # replaces every level held
            noise.add(frame)
        assert noise.update() is on, (snr, noise.snr_db)


def test_the_answers_heard_set_the_snr() -> None:
    """The same room is loud against quiet answers and quiet against loud ones."""
    samples = room("pink", 12)
    assert verdict(samples, answers_db=VOICE_DB).steady_and_loud
    assert not verdict(samples, answers_db=VOICE_DB + 10).steady_and_loud


def test_the_endpointer_hears_through_it_only_in_steady_loud_noise() -> None:
    pink = Endpointer(ListenSettings(), RATE)
    pink.hear_room(room("pink", 10))
    assert pink.cleaning
    babble = Endpointer(ListenSettings(), RATE)
    babble.hear_room(room("babble", 10))
    assert not babble.cleaning
    never = Endpointer(ListenSettings(steady_noise_suppression=0), RATE)
    never.hear_room(room("pink", 10))
    assert never.steady is None and not never.cleaning
    fixed = Endpointer(ListenSettings(noise_suppression=2), RATE)  # a fixed level wins: one front end only
    assert fixed.steady is None and fixed.clean is not None
    assert Endpointer(ListenSettings(barge_in=True), RATE).steady is None


def test_an_answer_in_steady_noise_is_heard_cleaned_and_its_level_kept() -> None:
    """Through the endpointer's own loop: the answer is found, marked cleaned, its frames are the cleaned ones."""
    speech = Speech(RATE).say("네", Voice("ko", 150))
    speech = speech * (10 ** (VOICE_DB / 20) / float(np.sqrt(np.mean(speech[np.abs(speech) > 1e-3] ** 2))))
    background = room("pink", 10, seconds=9.0, seed=4)
    endpointer = Endpointer(ListenSettings(), RATE)
    endpointer.hear_room(background[: RATE * 5])
    rest = background[RATE * 5 :].copy()
    lead = int(0.6 * RATE)
    rest[lead : lead + len(speech)] += speech
    raw = frames(rest)
    stream = iter(enumerate(raw))

    def read(_timeout: float) -> tuple[float, bytes] | None:
        index, frame = next(stream, (None, b""))
        return None if index is None else (index * FRAME_MS / 1000, frame)

    heard: list[bytes] = []
    utterance = endpointer.listen(read, heard.append, lambda: float("-inf"))
    assert utterance.heard_speech and utterance.cleaned
    assert heard and not set(heard) & set(raw), "the recogniser got the cleaned frames"
    assert endpointer.steady is not None and endpointer.steady.room.snr_db == pytest.approx(10, abs=4), (
        endpointer.steady.room.snr_db
    )
