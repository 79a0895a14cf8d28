"""A complete spoken session through real audio devices, in Korean.

The kiosk (`voice-triage run --lang ko`) runs as its own process with the
real Korean vosk model, pyttsx3/espeak-ng and PortAudio, on a PulseAudio null
sink whose monitor is the default microphone: the kiosk's own prompts are
audible on that microphone.  A scripted patient reads what the kiosk prints,
and when it says "(listening)" plays its spoken answer (espeak-ng Korean) into
the microphone.  The session must end with the vignette's level.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.audio_env import espeak_wav, missing_tools, play, virtual_audio
from tests.spoken_answers import ListeningPatient
from voice_triage.core.contract import Value
from voice_triage.core.locale import load_locale

pytestmark = pytest.mark.audio

# a whole session through real devices: up to the dialogue's 40 turns of about 7 s, then the result
SESSION_TIMEOUT_S = 480

EMERGENCY: dict[str, Value] = {"stroke_signs": "yes", "sudden_onset": "yes", "bladder_bowel_control_loss": "no"}
SELF_CARE: dict[str, Value] = {
    "overuse_or_strain": "yes",
    "inactive_lifestyle": "yes",
    "pain_score": 2,
    "duration_days": 1,
    "sudden_onset": "no",
    "getting_worse": "no",
    "injury": "no",
    "numbness_tingling": "no",
    "bladder_bowel_control_loss": "no",
    "saddle_numbness": "no",
    "stroke_signs": "no",
    "fever_chills": "no",
    "weight_loss": "no",
    "cannot_bear_weight": "no",
    "side": "both",
}


def _needs_audio() -> None:
    missing = missing_tools()
    if missing:
        message = f"needs {', '.join(missing)} (./dev test installs them as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def run_spoken_session(
    facts: Mapping[str, Value], env: dict[str, str], tmp: Path, seed: int = 0
) -> tuple[str, list[str]]:
    """Run the kiosk; answer by voice; return (level, everything it printed)."""
    content = load_locale("ko").content
    patient = ListeningPatient(dict(facts), content, seed=seed)
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "voice_triage", "run", "--lang", "ko", "--rate", "190", "--no-input-timeout", "15"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert kiosk.stdout is not None
        for line in kiosk.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    printed: list[str] = []
    deadline = time.monotonic() + SESSION_TIMEOUT_S
    while time.monotonic() < deadline:
        line = lines.get(timeout=SESSION_TIMEOUT_S)
        if line is None:
            break
        printed.append(line)
        patient.hear(line)
        if line == "(listening)":
            phrase = patient.reply()
            wav = espeak_wav(phrase, tmp / "answer.wav")
            time.sleep(0.3)
            play(wav, env)
    else:
        kiosk.kill()
        pytest.fail("the spoken session did not finish in time:\n" + "\n".join(printed[-20:]))
    kiosk.wait(timeout=30)
    assert kiosk.returncode == 0, kiosk.stderr.read() if kiosk.stderr else ""
    levels = [level for level, text in content.messages.levels.items() if text in printed]
    assert len(levels) == 1, printed
    return levels[0], printed


@pytest.fixture(scope="module")
def audio_env() -> Iterator[dict[str, str]]:
    _needs_audio()
    with virtual_audio() as env:
        yield env


def test_spoken_emergency_session(audio_env: dict[str, str], tmp_path: Path) -> None:
    """A patient with stroke signs answering aloud: the emergency is never missed.

    The session ends as an emergency with the staff alerted, or, where voice
    could not get a red-flag answer, the result says staff will ask it and
    they are alerted: never a lower level on its own (the spoken evaluation's
    "missed"). How often voice gets the answer itself is the evaluation's
    figure (bench/README.md), not one session's.
    """
    level, printed = run_spoken_session(EMERGENCY, audio_env, tmp_path)
    joined = "\n".join(printed)
    messages = load_locale("ko").content.messages
    if level == "emergency":
        assert "[staff alerted: emergency]" in printed, joined
    else:
        assert messages.say("staff_check") in printed or messages.say("staff_handoff") in printed, joined
        assert "[staff alerted: assist]" in printed, joined


def test_spoken_self_care_session(audio_env: dict[str, str], tmp_path: Path) -> None:
    """A calm patient answering aloud in natural words: never an emergency, and any other level is explained.

    How often a spoken session reaches the right level is a benchmark (the
    spoken evaluation: bench/README.md), not one voice's session: through the
    real devices one session's recognition differs from machine to machine
    (CI once heard this patient's "no" to the sudden-onset question as yes).
    What must hold whatever is heard: the session ends; it is never raised to
    an emergency (every warning sign is read back, and the patient says no);
    and it ends with home care, or with staff told to finish it, or at the
    default level (a self-care condition not heard is never assumed), or at a
    level whose rule it says aloud, so the patient and staff hear why.
    """
    level, printed = run_spoken_session(SELF_CARE, audio_env, tmp_path)
    joined = "\n".join(printed)
    content = load_locale("ko").content
    messages = content.messages
    assert level != "emergency", joined
    assert "[staff alerted: emergency]" not in printed, joined
    handed_over = any(messages.say(key) in printed for key in ("staff_handoff", "staff_check"))
    if level == "self_care" or handed_over or level == content.default_level:
        return
    said = [rule for rule in content.rules if rule.level == level and rule.say in printed]
    assert said, f"ended {level} without saying why:\n{joined}"
    # the rule said was met by what the kiosk heard, not by what the patient said (a mishearing)
    assert not any(rule.when.holds(SELF_CARE) for rule in said), joined
