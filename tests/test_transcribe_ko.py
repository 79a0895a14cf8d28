"""The real Korean vosk model hears answers synthesised by espeak-ng, read as the dialogue reads them.

The replies are the shipped phrasings (clinical/spoken-ko.yaml: what people
say, never picked for how they decode), a seeded sample per value, in three
espeak-ng voices at two rates, through the code path of `voice-triage
transcribe` (the per-question grammar, the n-best list read against the
whole replies).  One reply heard alone is not a session: the dialogue hears
again, reads back, or asks numbers as yes/no questions, and the spoken
evaluation measures sessions (bench/README.md).  So what is asserted here is
a regression guard at the level measured on this model (see the floors), and
above all that a reply is rarely heard as *another* value: not understood is
asked again, a wrong value is not.  Numbers are left to the session tests:
espeak-ng's Korean numbers decode right about a third of the time.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.speech import VARIANTS, reseed_dither, synthesise
from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.grammar import Grammar, load_grammar
from voice_triage.core.paths import GRAMMAR
from voice_triage.core.phrasings import Phrasings, load_phrasings
from voice_triage.speech.asr import Recognizer, transcribe
from voice_triage.speech.models import find_model

pytestmark = pytest.mark.audio

ROOT = Path(__file__).resolve().parents[1]
PHRASINGS = ROOT / "clinical" / "spoken-ko.yaml"
VALUES: dict[AnswerType, tuple[Value, ...]] = {
    AnswerType.YES_NO: ("yes", "no", UNKNOWN),
    AnswerType.SIDE: ("left", "right", "both", UNKNOWN),
}
PER_VALUE = 3  # phrasings drawn per value (seeded)
# Measured on this model with this sample: yes/no 89% right and 4% another value, side 78% and 3%
FLOOR = {AnswerType.YES_NO: 0.8, AnswerType.SIDE: 0.7}
OTHER_VALUE_AT_MOST = 0.1
# The kiosk's command phrases (the first of each in grammar/ko/commands.yaml).  Measured: 13 of 42 heard
# as the command (31%), 5 of 42 as an answer; a known gap, left open (the kiosk shows each command as a
# button, and a command heard as an answer costs a turn, not an answer: see the closing note).
# The floor is a regression guard at the measured level, not the target.
COMMANDS = {
    "다시 한번": "repeat",
    "이전 질문": "back",
    "도와주세요": "help",
    "처음부터 다시": "start_over",
    "그만할래요": "stop",
    "천천히 말해 주세요": "slower",
    "크게 말해 주세요": "louder",
}
COMMAND_FLOOR = 0.3


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return load_grammar(GRAMMAR / "ko")


@pytest.fixture(scope="module")
def phrasings() -> Phrasings:
    return load_phrasings(PHRASINGS)


@pytest.fixture(scope="module")
def recognizer(grammar: Grammar) -> Recognizer:
    if subprocess.run(["which", "espeak-ng"], capture_output=True).returncode != 0:
        message = "needs espeak-ng (./dev test installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Recognizer(find_model("ko"), grammar)


@pytest.mark.parametrize("answer_type", list(VALUES), ids=lambda t: t.value)
def test_each_answer_vocabulary(
    recognizer: Recognizer, grammar: Grammar, phrasings: Phrasings, answer_type: AnswerType
) -> None:
    rng = random.Random(7)
    right: list[str] = []
    other: list[tuple[str, str, int, object, str]] = []
    missed: list[tuple[str, str, int, str]] = []
    for value in VALUES[answer_type]:
        for phrase in rng.sample(phrasings.choices(answer_type, value), PER_VALUE):
            for voice, rate in VARIANTS:
                reseed_dither()  # each answer decoded as in a fresh process, whatever ran before
                heard = transcribe(recognizer, grammar, synthesise(phrase, voice, rate).tobytes(), answer_type)
                if heard["value"] == value:
                    right.append(phrase)
                elif heard["value"] is None:
                    missed.append((phrase, voice, rate, str(heard["text"])))
                else:
                    other.append((phrase, voice, rate, heard["value"], str(heard["text"])))
    total = len(right) + len(other) + len(missed)
    assert len(other) / total <= OTHER_VALUE_AT_MOST, other
    assert len(right) / total >= FLOOR[answer_type], (other, missed)


def test_voice_commands(recognizer: Recognizer, grammar: Grammar) -> None:
    wrong = []
    for phrase, command in COMMANDS.items():
        for voice, rate in VARIANTS:
            reseed_dither()
            heard = transcribe(recognizer, grammar, synthesise(phrase, voice, rate).tobytes(), AnswerType.YES_NO)
            if heard["command"] != command:
                wrong.append((phrase, voice, rate, heard["text"], heard["command"] or heard["value"]))
    assert 1 - len(wrong) / (len(COMMANDS) * len(VARIANTS)) >= COMMAND_FLOOR, wrong


def test_silence_and_noise_are_not_answers(recognizer: Recognizer, grammar: Grammar) -> None:
    silence = np.zeros(16000, dtype="<i2").tobytes()
    heard = transcribe(recognizer, grammar, silence, AnswerType.YES_NO)
    assert heard["value"] is None and heard["command"] is None


def test_transcribe_command_any_rate_and_channels(tmp_path: Path) -> None:
    """The CLI converts a 44.1 kHz stereo file and prints text, value, command, confidence."""
    mono = tmp_path / "mono.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", str(mono), "양쪽 다리"], check=True)
    stereo = tmp_path / "stereo.wav"
    subprocess.run(["sox", str(mono), "-r", "44100", "-c", "2", str(stereo)], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "voice_triage", "transcribe", "--lang", "ko", "--type", "side", str(stereo), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"text", "value", "command", "confidence"}
    assert result["value"] == "both"
    assert result["command"] is None
    assert 0.0 < result["confidence"] <= 1.0


def test_transcribe_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    done = subprocess.run(
        [sys.executable, "-m", "voice_triage", "transcribe", "--lang", "ko", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "could not be read as audio" in done.stderr
    assert "Traceback" not in done.stderr
