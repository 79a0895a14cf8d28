"""The spoken evaluation (`voice-triage evaluate --spoken`) and its phrasings-file contract.

The small evaluation runs the real thing: vignettes answered aloud in the
shipped Korean phrasings, synthesised by espeak-ng in two voices, clean and
in 10 dB babble, heard by the real Korean vosk model through the live loop's
recognition and dialogue code.  What must hold at any size: no emergency is
missed and every session ends.  (Accuracy is a benchmark: bench/README.md.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from voice_triage.core.contract import UNKNOWN, AnswerType
from voice_triage.core.phrasings import english, load_phrasings, native, say_days, sino
from voice_triage.core.yamlload import ContentError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"ko": ROOT / "clinical" / "spoken-ko.yaml", "en": ROOT / "clinical" / "spoken-en.yaml"}
SUMMARY_KEYS = {
    "vignettes",
    "level_ok",
    "emergency_missed",
    "false_emergency",
    "handed_to_staff",
    "unfinished",
    "median_turns",
    "readbacks",
    "answers",
    "answer_errors",
}
RESULT_KEYS = {"id", "level", "expected", "level_ok", "outcome", "turns", "questions_asked", "readbacks"}


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice_triage", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


# ------------------------------------------------------------ the phrasings file


@pytest.mark.parametrize("lang", sorted(SHIPPED))
def test_shipped_phrasings_load_with_six_forms_or_more(lang: str) -> None:
    phrasings = load_phrasings(SHIPPED[lang])
    for value in ("yes", "no", UNKNOWN):
        forms = phrasings.choices(AnswerType.YES_NO, value)
        assert len(set(forms)) >= 6, (value, forms)
    for value in ("left", "right", "both", UNKNOWN):
        assert phrasings.choices(AnswerType.SIDE, value)
    assert phrasings.choices(AnswerType.SCALE_0_10, 7)
    assert phrasings.choices(AnswerType.NUMBER, 45, unit="years")


def test_a_day_count_is_said_in_the_largest_unit_that_divides_it() -> None:
    assert say_days(14) == ("weeks", 2)
    assert say_days(60) == ("months", 2)
    assert say_days(730) == ("years", 2)
    assert say_days(10) == ("days", 10)
    phrasings = load_phrasings(SHIPPED["ko"])
    assert any("주" in form for form in phrasings.choices(AnswerType.NUMBER, 14))
    assert phrasings.choices(AnswerType.NUMBER, 1) == list(phrasings.exact[1]), "exact phrasings come first"


def test_number_fields() -> None:
    assert sino(44) == "사십사"
    assert native(44) == "마흔넷"
    assert native(44, counter=True) == "마흔네"
    assert english(44) == "forty four"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "phrasings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
yes_no:
  "yes": [네]
  "no": [아니요]
  unknown: [몰라요]
side:
  left: [왼쪽]
  right: [오른쪽]
  both: [양쪽]
  unknown: [몰라요]
scale_0_10:
  number: ["{sino}점"]
  unknown: [몰라요]
number:
  days: ["{sino}일"]
  weeks: ["{sino}주"]
  months: ["{native_counter} 달"]
  years: ["{sino}년"]
  age: ["{sino}살"]
  unknown: [몰라요]
  exact: {0: [오늘]}
"""


def test_a_minimal_file_in_the_contract_loads(tmp_path: Path) -> None:
    phrasings = load_phrasings(write(tmp_path, GOOD))
    assert phrasings.choices(AnswerType.NUMBER, 60) == ["두 달"]
    assert phrasings.choices(AnswerType.NUMBER, 0) == ["오늘"]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('  "no": [아니요]\n', "", 2, "yes_no: missing 'no'"),
        ("  left: [왼쪽]\n", "  left: 왼쪽\n", 6, "'left' must be a non-empty list of phrasings"),
        ('  number: ["{sino}점"]\n', '  number: ["{digit}점"]\n', 11, "unknown field {digit}"),
        ('  days: ["{sino}일"]\n', "  days: [일]\n", 14, "has no number field"),
        ("  unknown: [몰라요]\nside", '  unknown: ["몰라{sino}"]\nside', 4, "template fields are only for numbers"),
        ("  exact: {0: [오늘]}\n", "  exact: {today: [오늘]}\n", 20, "'today' is not a number of days"),
        ("side:\n", "sides:\n", 5, "unknown answer type 'sides'"),
    ],
)
def test_a_bad_phrasings_file_is_reported_as_path_line_message(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ContentError) as raised:
        load_phrasings(path)
    reported = [str(problem) for problem in raised.value.problems]
    assert any(p.startswith(f"{path}:{line}: ") and message in p for p in reported), reported


def test_the_command_reports_a_bad_phrasings_file_and_stops(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('  "no": [아니요]\n', ""))
    done = cli(
        "evaluate",
        str(ROOT / "clinical" / "vignettes-public.yaml"),
        "--spoken",
        "--lang",
        "ko",
        "--phrasings",
        str(path),
    )
    assert done.returncode == 2
    assert f"{path}:2: yes_no: missing 'no'" in done.stderr
    assert "Traceback" not in done.stderr


def test_spoken_evaluation_needs_a_phrasings_file() -> None:
    done = cli("evaluate", str(ROOT / "clinical" / "vignettes-public.yaml"), "--spoken", "--lang", "ko")
    assert done.returncode == 2
    assert "--phrasings" in done.stderr


# ------------------------------------------------------------ a small spoken evaluation

SMALL = ("p001", "p002", "p004", "p006", "p009", "p014")  # three emergencies, urgent, routine, self care
VOICES = "ko:150,ko+f2:165"


@pytest.fixture(scope="module")
def small_vignettes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    every = yaml.safe_load((ROOT / "clinical" / "vignettes-public.yaml").read_text(encoding="utf-8"))
    chosen = [v for v in every if v["id"] in SMALL]
    assert len(chosen) == len(SMALL)
    path = tmp_path_factory.mktemp("spoken") / "small.yaml"
    path.write_text(yaml.safe_dump(chosen, allow_unicode=True), encoding="utf-8")
    return path


def spoken_evaluation(vignettes: Path, *extra: str) -> dict[str, Any]:
    done = cli(
        "evaluate",
        str(vignettes),
        "--spoken",
        "--lang",
        "ko",
        "--phrasings",
        str(SHIPPED["ko"]),
        "--voices",
        VOICES,
        "--jobs",
        "2",
        "--json",
        *extra,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.mark.audio
@pytest.mark.parametrize("noise", [(), ("--noise", "babble", "--snr", "10")], ids=["clean", "babble-10dB"])
def test_small_spoken_evaluation_misses_no_emergency_and_every_session_ends(
    small_vignettes: Path, noise: tuple[str, ...]
) -> None:
    report = spoken_evaluation(small_vignettes, *noise)
    summary, results = report["summary"], report["results"]
    assert set(summary) >= SUMMARY_KEYS
    assert summary["vignettes"] == len(SMALL) * 2 == len(results)
    for result in results:
        assert set(result) >= RESULT_KEYS
    emergencies = [r for r in results if r["expected"] == "emergency"]
    assert len(emergencies) == 6
    missed = [r for r in emergencies if r["level"] != "emergency" and r["outcome"] != "staff"]
    assert summary["emergency_missed"] == len(missed) == 0, missed
    assert summary["unfinished"] == 0, [r for r in results if r["outcome"] not in ("finished", "emergency", "staff")]
    assert all(r["outcome"] in ("finished", "emergency", "staff") for r in results)


@pytest.mark.audio
def test_the_spoken_evaluation_gives_the_same_figures_however_it_is_split(small_vignettes: Path) -> None:
    """Seeded and deterministic: each session is its own kiosk, so one process or two give the same sessions."""
    pink = ("--noise", "pink", "--snr", "10", "--voices", "ko+m3:135")
    one = spoken_evaluation(small_vignettes, *pink, "--jobs", "1")
    two = spoken_evaluation(small_vignettes, *pink, "--jobs", "2")
    assert one["results"] == two["results"]
    assert one["summary"] == two["summary"]
