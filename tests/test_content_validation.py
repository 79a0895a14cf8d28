"""Content validation: every class of error is reported as ``path:line: message``, all at once."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, LocaleCopy
from voice_triage.core.content import load_content
from voice_triage.core.contract import AnswerType, Contract, load_contract
from voice_triage.core.locale import Locale
from voice_triage.core.paths import PROMPTS
from voice_triage.core.yamlload import ContentError, load_text

VOCABULARIES = [t.value for t in AnswerType]


def problems(copy: LocaleCopy, contract: Contract | None = None) -> list[str]:
    """Every problem load_content reports for the copy, as text."""
    with pytest.raises(ContentError) as info:
        load_content(copy.prompts, contract or load_contract(), VOCABULARIES)
    return [str(p) for p in info.value.problems]


def test_the_shipped_content_loads(locale_copy: LocaleCopy) -> None:
    content = load_content(locale_copy.prompts, load_contract(), VOCABULARIES)
    assert content.questions[0].id == "bladder_bowel_control_loss"
    assert {q.id for q in content.questions} == set(content.contract.facts)


# ------------------------------------------------------------ structure


def test_unknown_key(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "flow.yaml", '    text: "Have you lost control', '    colour: red\n    text: "Have you lost control'
    )
    line = locale_copy.line_of("flow.yaml", "colour: red")
    assert problems(locale_copy) == [
        f"{locale_copy.path('flow.yaml')}:{line}: question: unknown key 'colour' "
        "(allowed: ask_if, denials, help, id, keywords, rephrase, safety, text, topic, type, unit)"
    ]


def test_unknown_key_in_a_rule(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "rules.yaml",
        "    level: urgent\n    when: {injury: yes}",
        "    level: urgent\n    urgent: true\n    when: {injury: yes}",
    )
    line = locale_copy.line_of("rules.yaml", "    urgent: true")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: rule: unknown key 'urgent' "
        "(allowed: id, level, points_to, red_flag, say, when)"
    ]


def test_missing_field(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "flow.yaml", '    rephrase: "Is there any new problem holding in, or passing, urine or stools?"\n', ""
    )
    line = locale_copy.line_of("flow.yaml", "- id: bladder_bowel_control_loss")
    assert problems(locale_copy) == [f"{locale_copy.path('flow.yaml')}:{line}: question: missing field 'rephrase'"]


def test_missing_message(locale_copy: LocaleCopy) -> None:
    locale_copy.replace("messages.yaml", 'first_question: "This is the first question."\n', "")
    line = locale_copy.line_of("messages.yaml", "welcome:")  # where the mapping starts
    assert problems(locale_copy) == [
        f"{locale_copy.path('messages.yaml')}:{line}: messages: missing field 'first_question'"
    ]


def test_wrong_type_number(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("flow.yaml", "max_questions: 14", "max_questions: many")
    assert problems(locale_copy) == [
        f"{locale_copy.path('flow.yaml')}:{line}: flow: 'max_questions' must be a number, not 'many'"
    ]


def test_spoken_numbers_must_be_ask_or_ranges(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("flow.yaml", "max_questions: 14", "max_questions: 14\nspoken_numbers: guess") + 1
    assert problems(locale_copy) == [
        f"{locale_copy.path('flow.yaml')}:{line}: flow: 'spoken_numbers' must be 'ask' or 'ranges', not 'guess'"
    ]
    locale_copy.replace("flow.yaml", "spoken_numbers: guess", "spoken_numbers: ranges")
    assert load_content(locale_copy.prompts, load_contract(), VOCABULARIES).spoken_numbers == "ranges"


def test_wrong_type_bool(locale_copy: LocaleCopy) -> None:
    """``safety: yes`` is the string "yes" (not YAML 1.1's true), so it is the wrong type."""
    locale_copy.replace(
        "flow.yaml",
        "  - id: saddle_numbness\n    type: yes_no\n    safety: true",
        "  - id: saddle_numbness\n    type: yes_no\n    safety: yes",
    )
    line = locale_copy.line_of("flow.yaml", "safety: yes")
    assert problems(locale_copy) == [
        f"{locale_copy.path('flow.yaml')}:{line}: question: 'safety' must be true or false, not 'yes'"
    ]


def test_wrong_type_text(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("rules.yaml", 'say: "Severe pain should be checked today."', "say: 7")
    assert problems(locale_copy) == [f"{locale_copy.path('rules.yaml')}:{line}: rule: 'say' must be text, not 7"]


# ------------------------------------------------------------ ids


def test_duplicate_question_id(locale_copy: LocaleCopy) -> None:
    """A duplicated question id: the duplicate is named with the first one's line."""
    first = locale_copy.line_of("flow.yaml", "- id: bladder_bowel_control_loss")
    line = locale_copy.replace("flow.yaml", "  - id: saddle_numbness\n", "  - id: bladder_bowel_control_loss\n")
    flow = locale_copy.path("flow.yaml")
    found = problems(locale_copy)
    assert f"{flow}:{line}: duplicate question id 'bladder_bowel_control_loss' (first at line {first})" in found
    # saddle_numbness is now missing, and the rule and cause that read it say so
    assert f"{flow}:1: the flow never asks the contract fact 'saddle_numbness'" in found
    rule_line = locale_copy.line_of("rules.yaml", "when: {saddle_numbness: yes}")
    assert (
        f"{locale_copy.path('rules.yaml')}:{rule_line}: condition refers to undefined question 'saddle_numbness'"
        in found
    )


def test_duplicate_rule_id(locale_copy: LocaleCopy) -> None:
    first = locale_copy.line_of("rules.yaml", "- id: bladder_bowel_control_loss")
    line = locale_copy.replace("rules.yaml", "  - id: saddle_numbness\n", "  - id: bladder_bowel_control_loss\n")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: "
        f"duplicate rule id 'bladder_bowel_control_loss' (first at line {first})"
    ]


def test_duplicate_cause_id(locale_copy: LocaleCopy) -> None:
    first = locale_copy.line_of("causes.yaml", "- id: deconditioning")
    line = locale_copy.replace("causes.yaml", "  - id: hip_flexor_strain\n", "  - id: deconditioning\n")
    causes = locale_copy.path("causes.yaml")
    assert problems(locale_copy) == [
        f"{causes}:1: the contract's condition 'hip_flexor_strain' has no cause entry",
        f"{causes}:{line}: duplicate cause id 'deconditioning' (first at line {first})",
    ]


# ------------------------------------------------------------ the contract


def test_condition_refers_to_undefined_question(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("rules.yaml", "when: {injury: yes}", "when: {injurie: yes}")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: condition refers to undefined question 'injurie'"
    ]


def test_ask_if_refers_to_undefined_question(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace(
        "flow.yaml",
        'ask_if: {numbness_tingling: yes}\n    text: "Is the front',
        'ask_if: {tingling: yes}\n    text: "Is the front',
    )
    assert problems(locale_copy) == [
        f"{locale_copy.path('flow.yaml')}:{line}: condition refers to undefined question 'tingling'"
    ]


def test_cause_not_in_the_contract(locale_copy: LocaleCopy) -> None:
    path = locale_copy.file("causes.yaml")
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n  - id: hamstring_tear\n    name: "a torn hamstring"\n    explain: "A torn muscle."\n'
        "    evidence:\n      - {when: {injury: yes}, weight: 1}\n",
        encoding="utf-8",
    )
    line = locale_copy.line_of("causes.yaml", "- id: hamstring_tear")
    assert problems(locale_copy) == [
        f"{path}:{line}: cause 'hamstring_tear' is not a condition id of the clinical contract"
    ]


def test_contract_condition_with_no_cause(locale_copy: LocaleCopy) -> None:
    contract = load_contract()
    wider = dataclasses.replace(contract, conditions={**contract.conditions, "gout": "Gout"})
    assert problems(locale_copy, wider) == [
        f"{locale_copy.path('causes.yaml')}:1: the contract's condition 'gout' has no cause entry"
    ]


def test_contract_fact_never_asked(locale_copy: LocaleCopy) -> None:
    contract = load_contract()
    wider = dataclasses.replace(contract, facts={**contract.facts, "smoker": AnswerType.YES_NO})
    assert problems(locale_copy, wider) == [
        f"{locale_copy.path('flow.yaml')}:1: the flow never asks the contract fact 'smoker'"
    ]


def test_question_not_in_the_contract(locale_copy: LocaleCopy) -> None:
    contract = load_contract()
    narrower = dataclasses.replace(contract, facts={k: v for k, v in contract.facts.items() if k != "side"})
    line = locale_copy.line_of("flow.yaml", "- id: side")
    assert problems(locale_copy, narrower) == [
        f"{locale_copy.path('flow.yaml')}:{line}: question 'side' is not a fact of the clinical contract"
    ]


def test_question_type_not_matching_the_contract(locale_copy: LocaleCopy) -> None:
    contract = load_contract()
    other = dataclasses.replace(contract, facts={**contract.facts, "age": AnswerType.SCALE_0_10})
    flow = locale_copy.file("flow.yaml").read_text(encoding="utf-8")
    line = flow[: flow.index("type: number\n    unit: years")].count("\n") + 1
    assert problems(locale_copy, other) == [
        f"{locale_copy.path('flow.yaml')}:{line}: question 'age': the contract says scale_0_10, not number"
    ]


def test_question_type_changed_in_the_flow(locale_copy: LocaleCopy) -> None:
    locale_copy.replace("flow.yaml", "  - id: injury\n    type: yes_no\n", "  - id: injury\n    type: side\n")
    line = locale_copy.line_of("flow.yaml", "- id: injury") + 1
    rule_line = locale_copy.line_of("rules.yaml", "when: {injury: yes}")
    found = problems(locale_copy)
    assert f"{locale_copy.path('flow.yaml')}:{line}: question 'injury': the contract says yes_no, not side" in found
    assert (
        f"{locale_copy.path('rules.yaml')}:{rule_line}: "
        "'injury' (side) can never be 'yes': the condition can never hold" in found
    )


def test_unknown_answer_type(locale_copy: LocaleCopy) -> None:
    locale_copy.replace("flow.yaml", "  - id: injury\n    type: yes_no\n", "  - id: injury\n    type: boolean\n")
    line = locale_copy.line_of("flow.yaml", "type: boolean")
    found = problems(locale_copy)
    assert (
        f"{locale_copy.path('flow.yaml')}:{line}: question 'injury': unknown answer type 'boolean' "
        "(use yes_no, scale_0_10, number, side)"
    ) in found


def test_unknown_rule_level(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "rules.yaml", "    level: urgent\n    when: {injury: yes}", "    level: soon\n    when: {injury: yes}"
    )
    line = locale_copy.line_of("rules.yaml", "level: soon")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: rule 'after_injury': unknown level 'soon' "
        "(use emergency, urgent, routine, self_care)"
    ]


def test_unknown_default_level(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("rules.yaml", "default_level: routine", "default_level: later")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: unknown level 'later' (use emergency, urgent, routine, self_care)"
    ]


def test_red_flag_must_be_an_emergency(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "rules.yaml",
        "    level: urgent\n    when: {injury: yes}",
        "    level: urgent\n    red_flag: true\n    when: {injury: yes}",
    )
    line = locale_copy.line_of("rules.yaml", "    red_flag: true\n    when: {injury: yes}")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: rule 'after_injury': a red flag interrupts the interview, "
        "so its level must be 'emergency'"
    ]


# ------------------------------------------------------------ ask_if


def test_ask_if_on_a_later_question_is_unreachable(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace(
        "flow.yaml",
        'ask_if: {numbness_tingling: yes}\n    text: "Is the front',
        'ask_if: {side: left}\n    text: "Is the front',
    )
    assert problems(locale_copy) == [
        f"{locale_copy.path('flow.yaml')}:{line}: question 'front_thigh_weakness' is unreachable: "
        "its ask_if needs 'side', which is not asked before it"
    ]


def test_ask_if_on_itself_is_unreachable(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace(
        "flow.yaml",
        'ask_if: {numbness_tingling: yes}\n    text: "Is the front',
        'ask_if: {front_thigh_weakness: yes}\n    text: "Is the front',
    )
    found = problems(locale_copy)
    assert (
        f"{locale_copy.path('flow.yaml')}:{line}: question 'front_thigh_weakness' is unreachable: "
        "its ask_if needs 'front_thigh_weakness', which is not asked before it"
    ) in found


def test_cycle_between_two_questions(locale_copy: LocaleCopy) -> None:
    first = locale_copy.replace(
        "flow.yaml",
        'ask_if: {numbness_tingling: yes}\n    text: "Is the front',
        'ask_if: {worse_walking_better_sitting: yes}\n    text: "Is the front',
    )
    locale_copy.replace(
        "flow.yaml",
        'ask_if: {numbness_tingling: yes}\n    text: "Is it worse',
        'ask_if: {front_thigh_weakness: yes}\n    text: "Is it worse',
    )
    id_line = locale_copy.line_of("flow.yaml", "- id: front_thigh_weakness")
    flow = locale_copy.path("flow.yaml")
    assert problems(locale_copy) == [
        f"{flow}:{id_line}: cycle in ask_if conditions: "
        "front_thigh_weakness -> worse_walking_better_sitting -> front_thigh_weakness",
        f"{flow}:{first}: question 'front_thigh_weakness' is unreachable: "
        "its ask_if needs 'worse_walking_better_sitting', which is not asked before it",
    ]


# ------------------------------------------------------------ conditions


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{side: up}", "'side' (side) can never be 'up': the condition can never hold"),
        ("{age: {ge: yes}}", "'ge' needs a number, not 'yes'"),
        ("{pain_score: 11}", "'pain_score' (scale_0_10) can never be 11: the condition can never hold"),
        ("{injury: maybe}", "'injury' (yes_no) can never be 'maybe': the condition can never hold"),
        ("{injury: unknown}", "'injury' (yes_no) can never be 'unknown': the condition can never hold"),
        ("{injury: {ge: 1}}", "'injury' is yes_no, not a number"),
        ("{age: {about: 3}}", "unknown comparison 'about' (use ge, gt, le, lt)"),
        ("{any: []}", "'any' needs a non-empty list of conditions"),
    ],
)
def test_condition_that_can_never_hold(locale_copy: LocaleCopy, condition: str, message: str) -> None:
    line = locale_copy.replace("rules.yaml", "when: {injury: yes}", f"when: {condition}")
    assert problems(locale_copy) == [f"{locale_copy.path('rules.yaml')}:{line}: {message}"]


# ------------------------------------------------------------ messages


def test_unknown_message_placeholder(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("messages.yaml", 'confirm: "I heard: {answer}.', 'confirm: "I heard: {reply}.')
    assert problems(locale_copy) == [
        f"{locale_copy.path('messages.yaml')}:{line}: messages: 'confirm' uses unknown placeholder {{reply}}"
    ]


def test_placeholder_in_a_message_that_takes_none(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("messages.yaml", 'stopped: "We have', 'stopped: "{name}, we have')
    assert problems(locale_copy) == [
        f"{locale_copy.path('messages.yaml')}:{line}: messages: 'stopped' uses unknown placeholder {{name}}"
    ]


def test_missing_level_text(locale_copy: LocaleCopy) -> None:
    locale_copy.replace("messages.yaml", '  self_care: "Home care"\n', "")
    line = locale_copy.line_of("messages.yaml", "level_names:") + 1  # where the mapping starts
    assert problems(locale_copy) == [
        f"{locale_copy.path('messages.yaml')}:{line}: messages 'level_names': missing field 'self_care'"
    ]


# ------------------------------------------------------------ files


def test_broken_yaml_syntax_gives_the_line_of_the_error(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "rules.yaml", "  - id: saddle_numbness\n    level: emergency", "  - id: saddle_numbness\n   level: emergency"
    )
    line = locale_copy.line_of("rules.yaml", "   level: emergency\n    red_flag: true\n    when: {saddle")
    found = problems(locale_copy)
    assert (
        f"{locale_copy.path('rules.yaml')}:{line}: "
        "invalid YAML: expected <block end>, but found '<block mapping start>'" in found
    )


def test_broken_yaml_is_reported_once(locale_copy: LocaleCopy) -> None:
    """A file that does not parse is one problem: not also 'must be a mapping' at line 1."""
    locale_copy.replace(
        "rules.yaml", "  - id: saddle_numbness\n    level: emergency", "  - id: saddle_numbness\n   level: emergency"
    )
    line = locale_copy.line_of("rules.yaml", "   level: emergency\n    red_flag: true\n    when: {saddle")
    assert problems(locale_copy) == [
        f"{locale_copy.path('rules.yaml')}:{line}: "
        "invalid YAML: expected <block end>, but found '<block mapping start>'"
    ]


def test_duplicate_yaml_key(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "messages.yaml", 'louder: "I will speak louder."', 'louder: "I will speak louder."\nlouder: "Louder."'
    )
    line = locale_copy.line_of("messages.yaml", 'louder: "Louder."')
    assert f"{locale_copy.path('messages.yaml')}:{line}: invalid YAML: duplicate key 'louder'" in problems(locale_copy)


def test_missing_file(locale_copy: LocaleCopy) -> None:
    locale_copy.file("causes.yaml").unlink()
    found = problems(locale_copy)
    assert f"{locale_copy.path('causes.yaml')}:0: file not found" in found


def test_missing_file_is_reported_once(locale_copy: LocaleCopy) -> None:
    """A missing file is one problem: not also 'causes file must be a mapping'."""
    locale_copy.file("causes.yaml").unlink()
    assert problems(locale_copy) == [f"{locale_copy.path('causes.yaml')}:0: file not found"]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as info:
        load_content(tmp_path / "nowhere", load_contract(), VOCABULARIES)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path / 'nowhere'}:0: no such content directory"]


def test_several_problems_in_different_files_are_all_reported(locale_copy: LocaleCopy) -> None:
    locale_copy.replace(
        "flow.yaml", '    text: "Have you lost control', '    colour: red\n    text: "Have you lost control'
    )
    locale_copy.replace(
        "rules.yaml", "    level: urgent\n    when: {injury: yes}", "    level: soon\n    when: {injury: yes}"
    )
    first = locale_copy.line_of("causes.yaml", "- id: deconditioning")
    dup = locale_copy.replace("causes.yaml", "  - id: hip_flexor_strain\n", "  - id: deconditioning\n")
    placeholder = locale_copy.replace("messages.yaml", 'confirm: "I heard: {answer}.', 'confirm: "I heard: {reply}.')
    flow, rules, causes, messages = (
        locale_copy.path(n) for n in ("flow.yaml", "rules.yaml", "causes.yaml", "messages.yaml")
    )
    assert problems(locale_copy) == sorted(
        [
            f"{flow}:{locale_copy.line_of('flow.yaml', 'colour: red')}: question: unknown key 'colour' "
            "(allowed: ask_if, denials, help, id, keywords, rephrase, safety, text, topic, type, unit)",
            f"{rules}:{locale_copy.line_of('rules.yaml', 'level: soon')}: rule 'after_injury': unknown level 'soon' "
            "(use emergency, urgent, routine, self_care)",
            f"{causes}:1: the contract's condition 'hip_flexor_strain' has no cause entry",
            f"{causes}:{dup}: duplicate cause id 'deconditioning' (first at line {first})",
            f"{messages}:{placeholder}: messages: 'confirm' uses unknown placeholder {{reply}}",
        ]
    )


# ------------------------------------------------------------ YAML


def test_yaml_yes_and_no_stay_strings() -> None:
    data = load_text("a: yes\nb: no\nc: on\nd: off\ne: true\nf: false\ng: Yes\nh: [yes, no]\n", "x.yaml")
    assert data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False, "g": "Yes", "h": ["yes", "no"]}
    assert data.line_of("d") == 4
    assert data["h"].item_lines == [8, 8]


def test_yes_in_content_is_the_answer_yes(locale: Locale) -> None:
    rule = next(r for r in locale.content.rules if r.id == "after_injury")
    assert rule.when.holds({"injury": "yes"}) is True
    assert rule.when.holds({"injury": "no"}) is False
    assert rule.when.holds({"injury": True}) is False


# ------------------------------------------------------------ the validate command


def validate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voice_triage", "validate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_validate_the_real_content() -> None:
    done = validate()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: en")
    assert done.stdout.rstrip().endswith("content is valid.")
    assert done.stderr == ""


def test_validate_one_real_locale() -> None:
    done = validate(PROMPTS / "en")
    assert (done.returncode, done.stdout, done.stderr) == (0, "OK: en content is valid.\n", "")


def test_validate_a_copy_reports_every_problem_on_stderr(locale_copy: LocaleCopy) -> None:
    assert validate(locale_copy.root).returncode == 0
    line = locale_copy.replace("rules.yaml", "when: {injury: yes}", "when: {side: up}")
    placeholder = locale_copy.replace("messages.yaml", 'confirm: "I heard: {answer}.', 'confirm: "I heard: {reply}.')
    expected = [
        f"{locale_copy.path('messages.yaml')}:{placeholder}: messages: 'confirm' uses unknown placeholder {{reply}}",
        f"{locale_copy.path('rules.yaml')}:{line}: 'side' (side) can never be 'up': the condition can never hold",
    ]
    for target in (locale_copy.root, locale_copy.prompts):
        done = validate(target)
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.splitlines() == [*expected, "2 problem(s) found."]
        assert "Traceback" not in done.stderr


def test_validate_a_folder_without_prompts(tmp_path: Path) -> None:
    done = validate(tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"{tmp_path}:0: no prompts/ folder here")
