"""The command line, run as a user runs it: ``python -m voice_triage ...`` in a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voice_triage.core.contract import Value
from voice_triage.core.locale import Locale
from voice_triage.core.simulate import patient_words, run_session

PUBLIC_VIGNETTES = ROOT / "clinical" / "vignettes-public.yaml"  # the repository copy of ../shared

pytestmark = pytest.mark.slow


def cli(*args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice_triage", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_main_module_exists() -> None:
    assert (ROOT / "voice_triage" / "__main__.py").is_file()


# ------------------------------------------------------------ simulate

VIGNETTE = """\
- id: v1
  summary: "Mild pain for two days after a football match."
  facts: {bladder_bowel_control_loss: "no", saddle_numbness: "no", stroke_signs: "no", pain_score: 2,
          duration_days: 2, overuse_or_strain: "yes", front_hip_groin_pain: "yes"}
  expect:
    level: self_care
    causes_any_of: [hip_flexor_strain]
"""


def check_session_json(data: dict[str, object]) -> None:
    assert list(data) == ["level", "red_flags", "causes", "questions_asked", "transcript"]
    causes = data["causes"]
    assert isinstance(causes, list) and causes
    # the three causes shown carry "Because you said ..." (empty when no answer raised one)
    assert all(list(c) == ["id", "score", "because"] for c in causes[:3])
    assert all(list(c) == ["id", "score"] for c in causes[3:])
    scores = [c["score"] for c in causes]
    assert scores == sorted(scores, reverse=True)
    transcript = data["transcript"]
    assert isinstance(transcript, list)
    assert all(list(t) == ["question", "answer"] for t in transcript)
    assert data["questions_asked"] == len(transcript)


def test_simulate_a_vignette_json(tmp_path: Path, locale: Locale) -> None:
    done = cli("simulate", "--facts", write(tmp_path / "v.yaml", VIGNETTE), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    check_session_json(data)
    assert data["level"] == "self_care"
    assert data["red_flags"] == []
    # "yes" to sport is enough to show a strain first: the front of the hip is no longer asked
    assert data["causes"][0] == {
        "id": "hip_flexor_strain",
        "score": 3.0,
        "because": "Because you said yes when asked about starting during sport, heavy work or a sudden movement.",
    }
    transcript = data["transcript"]
    content = locale.content
    assert transcript[0] == {"question": content.question("bladder_bowel_control_loss").text, "answer": "no"}
    # a fact the vignette lacks is answered "I don't know"
    by_question = {t["question"]: t["answer"] for t in transcript}
    assert by_question[content.question("cannot_bear_weight").text] == "I don't know"
    assert by_question[content.question("pain_score").text] == "2"
    assert by_question[content.question("overuse_or_strain").text] == "yes"


def test_simulate_a_bare_mapping_json(tmp_path: Path, locale: Locale) -> None:
    facts = write(tmp_path / "f.yaml", 'stroke_signs: "no"\nbladder_bowel_control_loss: "no"\nsaddle_numbness: "yes"\n')
    done = cli("simulate", "--facts", facts, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    check_session_json(data)
    assert data["level"] == "emergency"
    assert data["red_flags"] == ["saddle_numbness"]
    assert data["questions_asked"] == 2
    assert data["transcript"] == [
        {"question": locale.content.question("bladder_bowel_control_loss").text, "answer": "no"},
        {"question": locale.content.question("saddle_numbness").text, "answer": "yes"},
    ]
    assert data["causes"][0]["id"] == "cauda_equina"


def test_simulate_with_no_facts_answers_i_dont_know_throughout(tmp_path: Path) -> None:
    done = cli("simulate", "--facts", write(tmp_path / "f.yaml", "{}\n"), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["level"] == "routine"  # "I don't know" never gives self care
    assert {t["answer"] for t in data["transcript"]} == {"I don't know"}


def test_simulate_readable(tmp_path: Path) -> None:
    done = cli("simulate", "--facts", write(tmp_path / "v.yaml", VIGNETTE))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Q: Have you lost control of your bladder")
    assert "\nLevel: self_care (Home care)\n" in done.stdout
    assert "\nPossible causes: hip_flexor_strain (3), " in done.stdout
    assert "why:" not in done.stdout


def test_simulate_explain_says_why_each_question_was_asked(tmp_path: Path, locale: Locale) -> None:
    done = cli("simulate", "--facts", write(tmp_path / "v.yaml", VIGNETTE), "--explain")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    questions = [i for i, line in enumerate(lines) if line.startswith("Q: ")]
    assert questions
    for i in questions:  # each question: its answer, why it was chosen, what the answer did
        assert lines[i + 1].startswith("A: ")
        assert lines[i + 2].startswith("   why: ")
        assert lines[i + 3].startswith("   did: ")
    assert lines[questions[0] + 2].startswith("   why: red-flag screen")
    assert any("warning sign" in line for line in lines)
    assert any("   why: the level: " in line for line in lines)  # home care: is it short and mild?
    assert "   hip_flexor_strain: Because you said yes when asked about starting during sport" in done.stdout
    data = json.loads(cli("simulate", "--facts", write(tmp_path / "v.yaml", VIGNETTE), "--json", "--explain").stdout)
    whys = [line[len("   why: ") :] for line in lines if line.startswith("   why: ")]
    assert [step["why"] for step in data["explain"]] == whys
    buttock = write(tmp_path / "b.yaml", '{buttock_pain: "yes", worse_sitting: "yes", pain_score: 5, age: 40}\n')
    asked = cli("simulate", "--facts", buttock, "--explain").stdout
    assert "   why: the causes: chance a right cause is among the three shown " in asked
    assert "   did: top 3 " in asked
    assert data["explain"][0] == {
        "question": "bladder_bowel_control_loss",
        "why": data["explain"][0]["why"],
        "answer": "no",
        "level": ["routine", "routine"],
        "top3": data["explain"][0]["top3"],
    }


def test_simulate_matches_the_library(tmp_path: Path, locale: Locale) -> None:
    facts: dict[str, Value] = {"numbness_tingling": "yes", "low_back_pain": "yes", "pain_below_knee": "yes", "age": 40}
    path = write(tmp_path / "f.yaml", json.dumps(facts))
    done = cli("simulate", "--facts", path, "--json")
    assert json.loads(done.stdout) == run_session(locale.content, locale.grammar, facts).as_json()


# ------------------------------------------------------------ malformed input files


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("stroke_signs: [yes\n", 2, "invalid YAML: "),
        ('stroke_signs: "no"\nlimp: "yes"\n', 2, "unknown fact 'limp'"),
        ('stroke_signs: "no"\npain_score: 11\n', 2, "'pain_score' is scale_0_10: 11 is not a valid answer"),
        ("injury: maybe\n", 1, "'injury' is yes_no: 'maybe' is not a valid answer"),
        ("side: up\n", 1, "'side' is side: 'up' is not a valid answer"),
        ("age: -3\n", 1, "'age' is number: -3 is not a valid answer"),
        ("injury: true\n", 1, "'injury' is yes_no: True is not a valid answer"),
        (
            '- id: x\n  facts: {injury: "yes", pain_score: "7"}\n',
            2,
            "'pain_score' is scale_0_10: '7' is not a valid answer",
        ),
    ],
)
def test_simulate_malformed_facts(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    done = cli("simulate", "--facts", path, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"{path}:{line}: {message}")
    assert "Traceback" not in done.stdout + done.stderr


def test_simulate_reports_every_bad_fact(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", 'limp: "yes"\ninjury: "yes"\npain_score: 12\n')
    done = cli("simulate", "--facts", path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{path}:1: unknown fact 'limp'",
        f"{path}:3: 'pain_score' is scale_0_10: 12 is not a valid answer",
    ]


def test_simulate_missing_facts_file(tmp_path: Path) -> None:
    done = cli("simulate", "--facts", tmp_path / "nowhere.yaml")
    assert done.returncode == 2
    assert done.stderr == f"{tmp_path / 'nowhere.yaml'}:0: file not found\n"


# ------------------------------------------------------------ evaluate


@pytest.mark.skipif(not PUBLIC_VIGNETTES.is_file(), reason=f"{PUBLIC_VIGNETTES} is not present")
def test_evaluate_public_vignettes_json() -> None:
    done = cli("evaluate", PUBLIC_VIGNETTES, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert list(report) == ["results", "summary"]
    assert list(report["summary"]) == [
        "vignettes",
        "level_ok",
        "cause_in_top3",
        "under_triaged",
        "emergency_under_triaged",
        "median_questions",
        "max_questions",
    ]
    results = report["results"]
    assert report["summary"]["vignettes"] == len(results) == 16
    assert [r["id"] for r in results] == [f"p{n:03d}" for n in range(1, 17)]
    for r in results:
        assert list(r) == [
            "id",
            "level",
            "expected",
            "level_ok",
            "under_triaged",
            "causes",
            "cause_ok",
            "questions_asked",
        ]
        assert len(r["causes"]) == 3
    assert report["summary"]["level_ok"] == sum(r["level_ok"] for r in results)
    assert report["summary"]["max_questions"] == max(r["questions_asked"] for r in results)


UNDER = """\
- id: a_fine
  facts: {stroke_signs: "yes"}
  expect: {level: emergency, causes_any_of: [stroke]}
- id: b_level
  facts: {numbness_tingling: "yes", injury: "yes"}
  expect: {level: routine, causes_any_of: [stroke]}
- id: z_under
  facts: {numbness_tingling: "yes", bladder_bowel_control_loss: "no", stroke_signs: "no"}
  expect: {level: emergency, acceptable: [emergency], causes_any_of: [stroke]}
"""


def test_evaluate_table_lists_under_triaged_cases_first(tmp_path: Path) -> None:
    done = cli("evaluate", write(tmp_path / "v.yaml", UNDER))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "level", "expected", "ok", "top", "3", "causes", "cause", "asked"]
    assert [line.split()[0] for line in lines[1:4]] == ["z_under", "b_level", "a_fine"]
    assert "UNDER" in lines[1]
    assert lines[4] == ""
    assert lines[5].startswith(
        "3 vignettes: level acceptable 1, cause in top 3 1, under-triaged 1 (emergencies missed 1), median questions "
    )


def test_evaluate_table_columns_stay_apart(tmp_path: Path) -> None:
    """Every column is separated by a space, "UNDER" included."""
    lines = cli("evaluate", write(tmp_path / "v.yaml", UNDER)).stdout.splitlines()
    rows = [line.split()[:4] for line in lines[1:4]]
    assert rows == [
        ["z_under", "routine", "emergency", "UNDER"],
        ["b_level", "urgent", "routine", "no"],
        ["a_fine", "emergency", "emergency", "yes"],
    ]


def test_evaluate_json_flags_under_triage(tmp_path: Path) -> None:
    done = cli("evaluate", write(tmp_path / "v.yaml", UNDER), "--json")
    results = {r["id"]: r for r in json.loads(done.stdout)["results"]}
    assert results["z_under"]["under_triaged"] is True
    assert results["z_under"]["level_ok"] is False
    assert results["b_level"]["under_triaged"] is False
    assert results["a_fine"]["cause_ok"] is True
    assert results["a_fine"]["questions_asked"] == 3


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- id: x\n  facts: {injury: [yes\n", 3, "invalid YAML: "),
        ('- id: x\n  facts: {limp: "yes"}\n  expect: {level: urgent}\n', 2, "unknown fact 'limp'"),
        (
            '- id: x\n  facts: {injury: "perhaps"}\n  expect: {level: urgent}\n',
            2,
            "'injury' is yes_no: 'perhaps' is not a valid answer",
        ),
        ('- id: x\n  facts: {injury: "yes"}\n  expect:\n    level: soon\n', 4, "unknown level 'soon'"),
        ('- id: x\n  facts: {injury: "yes"}\n  expect:\n    causes_any_of: [gout]\n', 4, "unknown condition 'gout'"),
        ("- facts: {}\n", 1, "a vignette must be a mapping with an 'id'"),
        ('id: x\nfacts: {injury: "yes"}\n', 1, "expected a list of vignettes"),
    ],
)
def test_evaluate_malformed_vignettes(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    done = cli("evaluate", path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"{path}:{line}: {message}")
    assert "Traceback" not in done.stderr


def test_evaluate_a_vignette_without_expectations(tmp_path: Path) -> None:
    """``expect`` is optional (a Vignette's level may be None): leaving it out is not an error."""
    done = cli("evaluate", write(tmp_path / "v.yaml", '- id: x\n  facts: {injury: "yes"}\n'), "--json")
    assert done.stderr == ""
    assert done.returncode == 0
    (result,) = json.loads(done.stdout)["results"]
    assert (result["id"], result["level"], result["expected"], result["under_triaged"]) == ("x", "urgent", None, False)


# ------------------------------------------------------------ interpret


@pytest.mark.parametrize(
    ("kind", "words", "expected"),
    [
        ("yes_no", ["yeah"], {"value": "yes", "command": None}),
        ("yes_no", ["I", "don't", "know"], {"value": "unknown", "command": None}),
        ("yes_no", ["could", "you", "repeat", "that"], {"value": None, "command": "repeat"}),
        ("yes_no", ["purple"], {"value": None, "command": None}),
        ("scale_0_10", ["seven", "out", "of", "ten"], {"value": 7, "command": None}),
        ("side", ["the", "left", "one"], {"value": "left", "command": None}),
        ("number", ["two", "weeks"], {"value": 14, "command": None}),
    ],
)
def test_interpret(kind: str, words: list[str], expected: dict[str, object]) -> None:
    done = cli("interpret", "--type", kind, *words)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def test_interpret_without_text() -> None:
    done = cli("interpret", "--type", "yes_no")
    assert done.returncode == 2
    assert "give the TEXT" in done.stderr


def test_interpret_batch_in_order() -> None:
    lines = [
        {"type": "yes_no", "say": "nope"},
        {"type": "scale_0_10", "say": "about a six"},
        {"type": "side", "say": "both of them"},
        {"type": "number", "say": "three days"},
        {"type": "yes_no", "say": "go back"},
    ]
    done = cli("interpret", "--batch", stdin="".join(json.dumps(x) + "\n" for x in lines))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"value": "no", "command": None},
        {"value": 6, "command": None},
        {"value": "both", "command": None},
        {"value": 3, "command": None},
        {"value": None, "command": "back"},
    ]


def test_interpret_batch_malformed_line_then_carries_on() -> None:
    stdin = (
        '{"type": "yes_no", "say": "yes"}\n'
        "this is not json\n"
        "\n"
        '{"type": "colour", "say": "red"}\n'
        '{"say": "no"}\n'
        '{"type": "yes_no", "say": 3}\n'
        '{"type": "side", "say": "right"}\n'
    )
    done = cli("interpret", "--batch", stdin=stdin)
    assert done.returncode == 2
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == 6  # the blank line is skipped
    assert out[0] == {"value": "yes", "command": None}
    for item in out[1:5]:
        assert item["value"] is None and item["command"] is None and item["error"]
    assert out[5] == {"value": "right", "command": None}
    errors = done.stderr.splitlines()
    assert [e.split(": ", 1)[0] for e in errors] == ["<stdin>:2", "<stdin>:4", "<stdin>:5", "<stdin>:6"]
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------ text sessions


def spoken_answers(locale: Locale, facts: dict[str, Value]) -> list[str]:
    """The words a patient with ``facts`` types, in the order the flow asks."""
    session = run_session(locale.content, locale.grammar, facts)
    return [answer for _, answer in session.transcript]


def test_text_session_to_the_result(locale: Locale) -> None:
    facts: dict[str, Value] = {
        "bladder_bowel_control_loss": "no",
        "saddle_numbness": "no",
        "stroke_signs": "no",
        "cannot_bear_weight": "no",
        "sudden_onset": "no",
        "pain_score": 2,
        "getting_worse": "no",
        "injury": "no",
        "fever_chills": "no",
        "weight_loss": "no",
        "numbness_tingling": "no",
        "duration_days": 2,
        "overuse_or_strain": "yes",
        "front_hip_groin_pain": "yes",
        "pain_on_stairs": "yes",
    }
    answers = spoken_answers(locale, facts)
    assert answers[:3] == ["no", "no", "no"]
    messages = locale.content.messages
    done = cli("text", stdin="".join(a + "\n" for a in answers))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(messages.say("welcome_typed") + "\n" + messages.say("disclaimer") + "\n")
    assert messages.say("result_intro") in out
    assert messages.levels["self_care"] in out
    assert "A strained hip flexor muscle." in out
    end = out.index(messages.say("finished"))
    assert end > out.index(messages.levels["self_care"])
    # then the input ends: the session stops cleanly
    assert out.rstrip().endswith(messages.say("stopped"))
    assert "Traceback" not in out + done.stderr
    assert "Sorry" not in out


def test_text_session_emergency(locale: Locale) -> None:
    done = cli("text", stdin="yes\n")
    assert done.returncode == 0
    out = done.stdout
    assert out.index(locale.content.messages.levels["emergency"]) < out.index(
        locale.content.messages.say("red_flag_intro")
    )
    assert locale.content.question("saddle_numbness").text not in out


def test_text_session_gibberish_and_empty_lines(locale: Locale) -> None:
    messages = locale.content.messages
    first = locale.content.question("bladder_bowel_control_loss")
    done = cli("text", stdin="wibble wobble\n\n   \n")
    assert done.returncode == 0
    out = done.stdout
    assert "> " + messages.say("no_match") + "\n" + first.text + "\n" in out
    # silence and words not understood share the question's attempts: the second is the rephrase
    assert "> " + messages.say("no_input") + "\n" + first.rephrase + "\n" in out
    # the third lists the answers it can take
    assert "> You can say: yes, no, i don't know.\n" + first.text + "\n" in out
    assert out.count(messages.say("no_input")) == 1
    assert out.rstrip().endswith(messages.say("stopped"))


def test_text_session_end_of_input(locale: Locale) -> None:
    done = cli("text", stdin="")
    assert done.returncode == 0
    assert done.stdout.endswith("\n" + locale.content.messages.say("stopped") + "\n")
    assert done.stderr == ""


def test_text_session_stop_command(locale: Locale) -> None:
    done = cli("text", stdin="no\nI want to stop\nyes\n")
    assert done.returncode == 0
    assert done.stdout.count(locale.content.messages.say("stopped")) == 1
    # it stopped at once: "yes" never reached the second question
    assert locale.content.question("stroke_signs").text not in done.stdout


def test_text_session_repeat_after_the_result(locale: Locale) -> None:
    """The result ends with "Say repeat to hear this again": typing repeat must say it again."""
    done = cli("text", stdin="yes\nrepeat\n")
    assert done.stdout.count(locale.content.messages.levels["emergency"]) == 2


def test_text_session_ctrl_c(locale: Locale) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "voice_triage", "text"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # as from a terminal: a job started in the background inherits Ctrl-C ignored, and Python keeps it so
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        seen = ""
        deadline = time.monotonic() + 60
        first = locale.content.question("bladder_bowel_control_loss").text
        while first not in seen and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen += line
        assert first in seen
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)  # stdin stays open: an end of input racing the signal would end it as Ctrl-D
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert "Traceback" not in out + err
    assert locale.content.messages.say("stopped") in out


def test_patient_words(locale: Locale) -> None:
    assert patient_words(locale.content, "unknown") == "I don't know"
    assert patient_words(locale.content, 2.5) == "2.5"
    assert patient_words(locale.content, 3) == "3"
