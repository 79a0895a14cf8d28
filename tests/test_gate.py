"""The second hearing of an answer with the room turned down (``ListenSettings.gate_db``).

In babble the recogniser hears the other voices' words between the
patient's; the endpointer also keeps the answer with every frame that is no
louder than the room turned down, and where the first hearing was not one
of the grammar's phrases the listener decodes that too.  The dialogue reads
the nearer of the two, and two hearings that mean different things are not
clear.
"""

from __future__ import annotations

import numpy as np
import pytest

from voice_triage.core.dialogue import Dialogue, Heard, Say
from voice_triage.core.locale import load_locale
from voice_triage.speech.speech_in import FRAME_MS, Endpointer, ListenSettings, frame_db
from voice_triage.speech.synthetic import Noise, Speech, Voice, mix, noise_gain

RATE = 16000
FRAME = RATE * FRAME_MS // 1000


def _listen(gate_db: float) -> tuple[bytes, Endpointer, object]:
    """An answer in pink noise at 10 dB: (what the recogniser was fed, the endpointer, the utterance)."""
    speech = Speech(RATE)
    said = speech.say("아니요", Voice("ko", 150))
    noise = Noise("pink", RATE, seed=3)
    gain = noise_gain(said, 10)
    endpointer = Endpointer(ListenSettings(gate_db=gate_db), RATE)
    endpointer.hear_room(noise.take(5 * RATE) * gain)
    clip = np.concatenate([mix(said, noise, 10, 0.6, RATE), noise.take(3 * RATE) * gain])
    pcm = (np.clip(clip, -1, 1) * 32767).astype("<i2")
    frames = iter(range(0, len(pcm) - FRAME + 1, FRAME))
    fed: list[bytes] = []

    def read(_timeout: float) -> tuple[float, bytes] | None:
        start = next(frames)
        return start / RATE, pcm[start : start + FRAME].tobytes()

    utterance = endpointer.listen(read, fed.append, lambda: float("-inf"))
    return b"".join(fed), endpointer, utterance


@pytest.fixture(scope="module")
def espeak() -> None:
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("needs espeak-ng")


def test_the_gate_turns_down_only_frames_no_louder_than_the_room(espeak: None) -> None:
    fed, endpointer, utterance = _listen(3.0)
    assert utterance.heard_speech and utterance.gated is not None  # type: ignore[attr-defined]
    gated: bytes = utterance.gated  # type: ignore[attr-defined]
    assert len(gated) == len(fed)
    threshold = endpointer.room.level_db + 3.0
    turned = kept = 0
    for start in range(0, len(fed), 2 * FRAME):
        plain, down = fed[start : start + 2 * FRAME], gated[start : start + 2 * FRAME]
        if frame_db(plain) < threshold:
            assert frame_db(down) == pytest.approx(frame_db(plain) - 20.0, abs=0.5)
            turned += 1
        else:
            assert down == plain
            kept += 1
    assert turned and kept  # the room between the words, and the words themselves


def test_no_gate_no_second_hearing(espeak: None) -> None:
    _, _, utterance = _listen(0.0)
    assert utterance.heard_speech and utterance.gated is None  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def locale_ko():  # type: ignore[no-untyped-def]
    return load_locale("ko")


def _asking(locale_ko, safety: bool) -> Dialogue:  # type: ignore[no-untyped-def]
    """A spoken session at its first yes/no question that is (or is not) a warning sign."""
    dialogue = Dialogue(locale_ko.content, locale_ko.grammar)
    dialogue.start()
    while not (
        dialogue.current is not None
        and dialogue.awaiting.kind == "answer"
        and dialogue.current.type.value == "yes_no"
        and dialogue.current.safety is safety
    ):
        assert dialogue.current is not None
        dialogue.handle(Heard("아니요"))  # typed
    return dialogue


def test_the_nearer_of_two_hearings_is_read(locale_ko) -> None:  # type: ignore[no-untyped-def]
    """Babble words in the first hearing, the answer in the second: the answer is taken."""
    dialogue = _asking(locale_ko, safety=True)
    question = dialogue.current
    babble = (("어느 예요 하지 요 기억 이 그렇 진 않 아요 이전 있는 거", 70.0),)
    dialogue.handle(Heard(babble[0][0], 0.4, babble, spoken=True, gated=(("아니요", 80.0),)))
    assert question is not None and dialogue.answers.get(question.id) in ("no", "unknown")


def test_two_hearings_that_disagree_are_not_clear(locale_ko) -> None:  # type: ignore[no-untyped-def]
    """네 in one hearing and 아니요 in the other: asked again, nothing recorded."""
    content = locale_ko.content
    dialogue = _asking(locale_ko, safety=False)
    question = dialogue.current
    assert question is not None
    actions = dialogue.handle(Heard("아니요", 0.4, (("아니요", 80.0),), spoken=True, gated=(("네", 80.0),)))
    assert question.id not in dialogue.answers
    assert any(isinstance(a, Say) and a.text == content.messages.say("recheck") for a in actions)
    # without the second hearing the same reply is taken
    dialogue = _asking(locale_ko, safety=False)
    dialogue.handle(Heard("아니요", 0.4, (("아니요", 80.0),), spoken=True))
    assert dialogue.answers.get(question.id) in ("no", "unknown")
