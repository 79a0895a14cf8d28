"""Question choice (core/choice.py): the red-flag screen first and whole, then what can change the outcome."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import LocaleCopy
from voice_triage.core.choice import Choice, choose, content_model
from voice_triage.core.conditions import facts_of
from voice_triage.core.content import Content, load_content
from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.dialogue import Dialogue, Heard, NoInput
from voice_triage.core.engine import triage
from voice_triage.core.locale import Locale
from voice_triage.core.relevance import matters_for_level, possible
from voice_triage.core.simulate import patient_words, run_session
from voice_triage.core.yamlload import ContentError

SCREEN = (
    "bladder_bowel_control_loss",
    "saddle_numbness",
    "stroke_signs",
    "cannot_bear_weight",
    "sudden_onset",
    "pain_score",
    "getting_worse",
)

# Each answer a patient can give, "I don't know" included; None: nothing understood (the question gives way).
NOT_HEARD = None


def _answers(kind: AnswerType) -> st.SearchStrategy[Any]:
    if kind is AnswerType.YES_NO:
        return st.sampled_from(["yes", "no", "no", UNKNOWN, NOT_HEARD])
    if kind is AnswerType.SIDE:
        return st.sampled_from(["left", "right", "both", UNKNOWN, NOT_HEARD])
    if kind is AnswerType.SCALE_0_10:
        return st.one_of(st.integers(0, 10), st.sampled_from([UNKNOWN, NOT_HEARD]))
    return st.one_of(st.integers(0, 120), st.sampled_from([UNKNOWN, NOT_HEARD]))


@st.composite
def patients(draw: st.DrawFn, content: Content) -> dict[str, Any]:
    """A patient: an answer (or nothing understood) for some facts; a fact left out is "I don't know"."""
    facts = content.contract.facts
    return {fact: draw(_answers(kind)) for fact, kind in facts.items() if draw(st.booleans())}


def interview(content: Content, locale: Locale, patient: dict[str, Any]) -> tuple[Dialogue, list[str]]:
    """Run a whole typed session; a question the patient cannot answer is left after the attempt budget."""
    dialogue = Dialogue(content, locale.grammar)
    dialogue.start(typed=True)
    asked: list[str] = []
    for _ in range(400):
        if dialogue.finished:
            break
        assert dialogue.current is not None
        qid = dialogue.current.id
        if not asked or asked[-1] != qid:
            asked.append(qid)
        value = patient.get(qid, UNKNOWN)
        dialogue.handle(NoInput() if value is NOT_HEARD else Heard(patient_words(content, value)))
    assert dialogue.finished
    return dialogue, asked


def test_the_red_flag_screen_is_the_questions_red_flags_read(locale: Locale) -> None:
    model = content_model(locale.content)
    assert model.screen == frozenset(SCREEN)
    first = [q.id for q in locale.content.questions[: len(SCREEN)]]
    assert first == list(SCREEN)  # and it comes first in the flow, in this order


def test_the_red_flag_screen_is_always_completed_unless_a_red_flag_is_found(locale: Locale) -> None:
    """Fewer questions never drop a safety question, whatever the answers ("I don't know" and silence too)."""
    content = locale.content
    red_flags = [rule for rule in content.rules if rule.red_flag]

    @settings(max_examples=300, deadline=None)
    @given(patients(content))
    def check(patient: dict[str, Any]) -> None:
        dialogue, asked = interview(content, locale, patient)
        answers = dialogue.answers
        screen = [q for q in asked if q in SCREEN]
        # the screen comes first: no other question before it is over
        assert asked[: len(screen)] == screen, asked
        assert screen == [q for q in SCREEN if q in screen]  # in the flow's order
        if dialogue.outcome == "emergency":
            assert triage(content, answers).red_flags
            return
        # no red flag: every red-flag rule has been ruled out by the answers given
        assert not [r.id for r in red_flags if possible(r.when, answers)], (patient, asked)
        for fact in SCREEN:
            # a screen question not asked could find no red flag and could not change the level
            if fact not in answers:
                assert not any(fact in set(facts_of(r.when)) and possible(r.when, answers) for r in red_flags)
                assert not matters_for_level(content, answers, fact)

    check()


def test_i_dont_know_never_lowers_the_level_of_a_session(locale: Locale) -> None:
    """An "I don't know" gives no evidence: the session's level is never below what some answer would give."""
    content = locale.content
    urgency = content.contract.urgency
    known: dict[AnswerType, list[Value]] = {
        AnswerType.YES_NO: ["yes", "no"],
        AnswerType.SIDE: ["left", "right", "both"],
        AnswerType.SCALE_0_10: [0, 3, 4, 6, 7, 10],
        AnswerType.NUMBER: [0, 3, 4, 10, 42, 50, 65],
    }

    @settings(max_examples=120, deadline=None)
    @given(patients(content), st.sampled_from(sorted(content.contract.facts)))
    def check(patient: dict[str, Any], fact: str) -> None:
        facts = {k: v for k, v in patient.items() if v is not NOT_HEARD}
        level = run_session(content, locale.grammar, {**facts, fact: UNKNOWN}).level
        options = known[content.contract.facts[fact]]
        least = min(urgency(run_session(content, locale.grammar, {**facts, fact: v}).level) for v in options)
        assert urgency(level) >= least, (fact, facts)

    check()


def test_the_choice_is_deterministic_and_says_why(locale: Locale) -> None:
    content = locale.content
    answers: dict[str, Value] = dict.fromkeys(SCREEN, "no") | {"pain_score": 5}
    first = choose(content, answers)
    assert choose(content, dict(reversed(list(answers.items())))) == first
    assert first.kind == "warning" and first.question is not None
    assert first.question.safety
    assert "chance it makes" in first.why()


def test_warning_signs_come_before_cause_questions_and_are_never_spared(locale: Locale) -> None:
    content = locale.content
    answers: dict[str, Value] = dict.fromkeys(SCREEN, "no") | {"pain_score": 5}
    kinds = []
    for _ in range(40):
        choice = choose(content, answers)
        if choice.question is None:
            break
        kinds.append((choice.kind, choice.question.id))
        answers[choice.question.id] = UNKNOWN
    warnings = [q for kind, q in kinds if kind == "warning"]
    assert set(warnings) == {"injury", "fever_chills", "weight_loss"}
    assert kinds[: len(warnings)] == [("warning", q) for q in warnings]


def test_an_urgent_level_spares_the_warning_signs_that_cannot_change_it(locale: Locale) -> None:
    content = locale.content
    answers: dict[str, Value] = dict.fromkeys(SCREEN, "no") | {"pain_score": 8}
    choice = choose(content, answers)
    assert triage(content, answers).level == "urgent"
    assert choice.kind == "causes"  # injury, fever and weight loss can change only the causes now


def test_the_interview_stops_when_nothing_can_plausibly_change_the_outcome(locale: Locale) -> None:
    content = locale.content
    answers: dict[str, Value] = dict.fromkeys(SCREEN, "no") | {"pain_score": 5}
    answers |= {"injury": "no", "fever_chills": "no", "weight_loss": "no", "outer_hip_pain": "yes", "age": 60}
    choice = choose(content, answers)
    asked = len(answers)
    while choice.question is not None:
        answers[choice.question.id] = "no" if choice.question.type is AnswerType.YES_NO else UNKNOWN
        choice = choose(content, answers)
    assert choice == Choice(None, "done")
    assert len(answers) <= content.max_questions
    assert asked < content.max_questions
    assert "nothing left can plausibly change" in choice.why()


def test_past_max_questions_only_the_level_asks(locale: Locale) -> None:
    content = locale.content
    answers: dict[str, Value] = dict.fromkeys(SCREEN, "no") | {"pain_score": 5}
    answers |= {"injury": "no", "fever_chills": "no", "weight_loss": "no"}
    for question in content.questions:
        if len(answers) >= content.max_questions:
            break
        if question.id not in answers and question.ask_if is None and question.type is AnswerType.YES_NO:
            answers[question.id] = UNKNOWN
    choice = choose(content, answers)
    assert choice.question is None or choice.kind in ("screen", "warning", "level")


# ------------------------------------------------------------ causes on an emergency


@pytest.mark.parametrize(
    ("answers", "first"),
    [
        ({"bladder_bowel_control_loss": "yes"}, ["cauda_equina"]),
        ({"bladder_bowel_control_loss": "no", "saddle_numbness": "yes"}, ["cauda_equina"]),
        ({"stroke_signs": "yes"}, ["stroke"]),
        ({"cannot_bear_weight": "yes"}, ["serious_injury"]),
        ({"fever_chills": "yes", "cannot_bear_weight": "yes"}, ["systemic_illness", "serious_injury"]),
        (
            {"stroke_signs": "no", "sudden_onset": "yes", "pain_score": 9},
            ["lumbar_radiculopathy", "serious_injury", "hip_flexor_strain"],
        ),
        (
            {"sudden_onset": "yes", "getting_worse": "yes"},
            ["cauda_equina", "lumbar_radiculopathy", "stroke"],
        ),
    ],
)
def test_a_red_flag_ranks_its_own_causes_first(locale: Locale, answers: dict[str, Value], first: list[str]) -> None:
    result = triage(locale.content, answers)
    assert result.red_flags
    assert list(result.top(len(first))) == first
    for cause in result.causes[: len(first)]:
        assert cause.raised_by  # and each says which answer raised it


def test_without_a_red_flag_causes_are_ranked_by_score(locale: Locale) -> None:
    result = triage(locale.content, {"injury": "yes", "fever_chills": "yes"})
    scores = [c.score for c in result.causes]
    assert scores == sorted(scores, reverse=True)


def test_a_no_to_a_sign_of_a_cause_lowers_it_and_i_dont_know_does_not(locale: Locale) -> None:
    content = locale.content

    def score(answers: dict[str, Value]) -> float:
        return {c.id: c.score for c in triage(content, answers).causes}["stroke"]

    assert score({"stroke_signs": "no"}) < score({}) == score({"stroke_signs": UNKNOWN})
    assert score({"stroke_signs": "yes"}) > score({})


# ------------------------------------------------------------ validation: reachable causes, useful questions


def test_every_cause_can_be_shown_and_every_question_can_change_something(locale: Locale) -> None:
    content = locale.content
    assert len(content.causes) == len(content.contract.conditions)  # all present, and the load checked each


def test_a_cause_that_can_never_be_shown_is_reported(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace(
        "causes.yaml", "  - id: trochanteric_bursitis\n", "  - id: trochanteric_bursitis\n    prior: -6\n"
    )
    with pytest.raises(ContentError) as caught:
        load_content(locale_copy.prompts)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"{locale_copy.path('causes.yaml')}:{line}: cause 'trochanteric_bursitis' can never be among the three "
        "shown: even with every sign of it, "
    )


def test_a_question_that_can_never_change_anything_is_reported(locale_copy: LocaleCopy) -> None:
    text = locale_copy.file("causes.yaml").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.split("\n") if "{side: both}" not in line)
    locale_copy.file("causes.yaml").write_text(text, encoding="utf-8")
    line = locale_copy.line_of("flow.yaml", "  - id: side")
    with pytest.raises(ContentError) as caught:
        load_content(locale_copy.prompts)
    assert [str(p) for p in caught.value.problems] == [
        f"{locale_copy.path('flow.yaml')}:{line}: question 'side' can never change anything: "
        "no rule or cause reads it, and it opens no question that does"
    ]


def test_choice_settings_are_checked(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("flow.yaml", "  cause_threshold: 0.04", "  cause_threshold: 4")
    with pytest.raises(ContentError) as caught:
        load_content(locale_copy.prompts)
    assert [str(p) for p in caught.value.problems] == [
        f"{locale_copy.path('flow.yaml')}:{line}: flow 'choice': 'cause_threshold' is a chance, "
        "so it must be between 0 and 1, not 4"
    ]


def test_points_to_names_contract_causes(locale_copy: LocaleCopy) -> None:
    line = locale_copy.replace("rules.yaml", "    points_to: [stroke]", "    points_to: [brain_attack]")
    with pytest.raises(ContentError) as caught:
        load_content(locale_copy.prompts)
    assert [str(p) for p in caught.value.problems] == [
        f"{locale_copy.path('rules.yaml')}:{line}: rule 'stroke_signs': points_to 'brain_attack' "
        "is not a condition id of the clinical contract"
    ]
