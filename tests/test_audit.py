"""``voice-triage audit``: the grammar's phrases said by espeak-ng, heard by the live loop's own code.

Real espeak-ng and the real Korean vosk model, no mocks.  Two answer types in
two voices keep it to about half a minute of CPU; the whole audit (every
type, five voices) is a report to run by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from voice_triage.core.contract import AnswerType
from voice_triage.core.grammar import load_grammar
from voice_triage.core.paths import GRAMMAR
from voice_triage.core.understanding import Interpretation
from voice_triage.speech.asr import Recognizer
from voice_triage.speech.audit import NOT_UNDERSTOOD_OUTCOME, OK, OTHER, Auditor, Check, checks, run_audit
from voice_triage.speech.models import ModelError, find_model
from voice_triage.speech.synthetic import Voice

pytestmark = pytest.mark.audio

ROOT = Path(__file__).resolve().parents[1]
VOICES = "ko:150,ko+f2:165"
TYPES = (AnswerType.SIDE, AnswerType.SCALE_0_10)  # a choice type and a numeric one


@pytest.fixture(scope="module", autouse=True)
def espeak() -> None:
    if shutil.which("espeak-ng") is None:
        message = "needs espeak-ng (./dev test installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VOICE_TRIAGE_MODEL"}
    return subprocess.run(
        [sys.executable, "-m", "voice_triage", "audit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )


def test_audit_report_adds_up() -> None:
    types = ",".join(t.value for t in TYPES)
    done = audit("--lang", "ko", "--voices", VOICES, "--types", types, "--json", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    summary = report["summary"]
    voices = VOICES.split(",")
    assert summary["voices"] == voices

    # every phrase the audit should say is listed, once, with a clip per voice
    expected = [(c.answer_type.value, c.phrase) for c in checks(load_grammar(GRAMMAR / "ko"), TYPES)]
    listed = [(p["type"], p["phrase"]) for p in report["phrases"]]
    assert listed == expected
    assert summary["phrases"] == len(expected)
    assert summary["clips"] == len(expected) * len(voices)
    assert {"scale_0_10", "side"} == set(summary["by_type"])
    assert ("scale_0_10", "칠") in listed and ("side", "왼쪽") in listed  # a number, an answer
    assert ("side", "도움말") in listed  # a voice command

    # the counts add up: per phrase, per type and in total
    for phrase in report["phrases"]:
        assert [c["voice"] for c in phrase["clips"]] == voices
        outcomes = [c["outcome"] for c in phrase["clips"]]
        assert phrase[OK] + phrase[OTHER] + phrase[NOT_UNDERSTOOD_OUTCOME] == len(voices)
        assert all(phrase[o] == outcomes.count(o) for o in (OK, OTHER, NOT_UNDERSTOOD_OUTCOME))
    for key in (OK, OTHER, NOT_UNDERSTOOD_OUTCOME):
        assert summary[key] == sum(p[key] for p in report["phrases"])
        assert summary[key] == sum(t[key] for t in summary["by_type"].values())
    assert summary["clips"] == summary[OK] + summary[OTHER] + summary[NOT_UNDERSTOOD_OUTCOME]
    assert summary[OK] > summary["clips"] / 3  # the audit hears most of what is said as meant

    # each confusion names a value other than the one meant, and is one of the phrases' clips
    assert summary["phrases_heard_as_other_value"] == len(report["confusions"])
    assert sum(len(c["heard"]) for c in report["confusions"]) == summary[OTHER]
    for confusion in report["confusions"]:
        assert confusion["heard"]
        for heard in confusion["heard"]:
            assert heard["outcome"] == OTHER
            assert heard["read_as"] != confusion["intended"]
            assert heard["read_as"] != {"value": None, "command": None}


def test_audit_text_report() -> None:
    done = audit("--lang", "ko", "--voices", "ko:150", "--types", "side", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    said = len(checks(load_grammar(GRAMMAR / "ko"), [AnswerType.SIDE]))
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{said} phrases checked in 1 voice ({said} clips): heard as meant ")
    assert "heard as another value" in last and "not understood" in last


def test_a_phrase_heard_as_another_value_is_reported() -> None:
    """The same clip twice: claimed as what it is, it is heard as meant; claimed as "yes", it is a confusion."""
    grammar = load_grammar(GRAMMAR / "ko")
    auditor = Auditor(grammar, Recognizer(find_model("ko"), grammar))
    right = Check(AnswerType.YES_NO, "아니요", Interpretation("no", None))
    wrong = Check(AnswerType.YES_NO, "아니요", Interpretation("yes", None))  # the audit is told 아니요 means yes
    report = run_audit(lambda: auditor, [right, wrong], [Voice.parse("ko:150")])
    first, second = report["phrases"]
    assert first[OK] == 1, first  # heard as the no it is
    assert second[OTHER] == 1, second
    assert second["clips"][0]["heard"] == first["clips"][0]["heard"]  # the same audio, heard the same
    (confusion,) = report["confusions"]
    assert confusion["intended"] == {"value": "yes", "command": None}
    assert confusion["heard"][0]["read_as"] == {"value": "no", "command": None}
    assert report["summary"][OTHER] == 1 and report["summary"][OK] == 1


def test_audit_without_a_model_says_so_in_one_line(tmp_path: Path) -> None:
    done = audit("--lang", "ko", "--voices", "ko:150", "--model", str(tmp_path / "no-model"))
    assert done.returncode != 0
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "--model" in done.stderr and "Traceback" not in done.stderr


def test_audit_for_a_language_with_no_model_installed() -> None:
    try:
        find_model("en", env={})
    except ModelError:
        pass
    else:
        pytest.skip("an English speech model is installed")
    done = audit("--lang", "en", "--voices", "en:150")
    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("No speech model for language 'en' is installed") and "models download" in line


def test_audit_rejects_a_bad_voice_or_type() -> None:
    assert audit("--lang", "ko", "--voices", "ko:fast").returncode == 2
    done = audit("--lang", "ko", "--types", "colour")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
