"""The triage engine and relevance, on the shipped rules (one test per seed statement)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_triage.core.conditions import thresholds
from voice_triage.core.content import Content
from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.engine import Reason, emergency, level_of, score_causes, triage
from voice_triage.core.locale import Locale
from voice_triage.core.relevance import matters_for_level, possible


def level(locale: Locale, answers: dict[str, Value]) -> str:
    return triage(locale.content, answers).level


# ------------------------------------------------------------ levels, one seed statement each


@pytest.mark.parametrize(
    ("answers", "rule"),
    [
        ({"bladder_bowel_control_loss": "yes"}, "bladder_bowel_control_loss"),
        ({"saddle_numbness": "yes"}, "saddle_numbness"),
        ({"stroke_signs": "yes"}, "stroke_signs"),
        ({"cannot_bear_weight": "yes"}, "cannot_bear_weight"),
        ({"sudden_onset": "yes", "pain_score": 7}, "sudden_severe_pain"),
        ({"sudden_onset": "yes", "pain_score": 10}, "sudden_severe_pain"),
        ({"sudden_onset": "yes", "getting_worse": "yes"}, "rapid_weakness_progression"),
    ],
)
def test_each_emergency_rule_alone(locale: Locale, answers: dict[str, Value], rule: str) -> None:
    result = triage(locale.content, answers)
    assert result.level == "emergency"
    assert result.red_flags == (rule,)
    assert [r.id for r in emergency(locale.content, answers)] == [rule]


@pytest.mark.parametrize(
    ("answers", "rule"),
    [
        ({"injury": "yes"}, "after_injury"),
        ({"sudden_onset": "yes"}, "sudden_onset"),
        ({"getting_worse": "yes"}, "progressive_weakness"),
        ({"pain_score": 7}, "severe_pain"),
        ({"pain_score": 9}, "severe_pain"),
        ({"fever_chills": "yes"}, "fever_or_chills"),
        ({"weight_loss": "yes", "cancer_history": "yes"}, "weight_loss_after_cancer"),
    ],
)
def test_each_urgent_rule_alone(locale: Locale, answers: dict[str, Value], rule: str) -> None:
    result = triage(locale.content, answers)
    assert result.level == "urgent"
    assert result.red_flags == ()
    assert rule in [r.id for r in result.rules if r.level == "urgent"]
    assert emergency(locale.content, answers) == ()


@pytest.mark.parametrize(
    ("answers", "rule"),
    [
        ({"numbness_tingling": "yes"}, "numbness"),
        ({"front_thigh_weakness": "yes"}, "numbness"),
        ({"weight_loss": "yes"}, "unexplained_weight_loss"),
        ({"duration_days": 4}, "persistent"),
        ({"duration_days": 3.5}, "persistent"),
        ({"pain_score": 4}, "moderate_pain"),
        ({"pain_score": 6}, "moderate_pain"),
        ({"neuro_history": "yes"}, "needs_assessment"),
        ({"widespread_pain_fatigue": "yes"}, "needs_assessment"),
        ({"clicking_locking": "yes"}, "needs_assessment"),
        ({"hip_stiffness": "yes"}, "needs_assessment"),
        ({"cancer_history": "yes"}, "needs_assessment"),
    ],
)
def test_each_routine_rule_alone(locale: Locale, answers: dict[str, Value], rule: str) -> None:
    result = triage(locale.content, answers)
    assert result.level == "routine"
    assert [r.id for r in result.rules] == [rule]


def test_no_answers_gives_the_default_level(locale: Locale) -> None:
    assert locale.content.default_level == "routine"
    result = triage(locale.content, {})
    assert (result.level, result.rules, result.red_flags) == ("routine", (), ())


def test_all_unknown_gives_the_default_level(locale: Locale) -> None:
    answers: dict[str, Value] = dict.fromkeys(locale.content.contract.facts, UNKNOWN)
    assert triage(locale.content, answers).level == "routine"


def test_all_no_gives_the_default_level(locale: Locale) -> None:
    facts = locale.content.contract.facts
    answers: dict[str, Value] = {f: "no" for f, t in facts.items() if t is AnswerType.YES_NO}
    assert triage(locale.content, answers).level == "routine"


SELF_CARE_BASE: dict[str, Value] = {"duration_days": 2, "pain_score": 2, "overuse_or_strain": "yes"}


@pytest.mark.parametrize(
    "answers",
    [
        SELF_CARE_BASE,
        {"duration_days": 3, "pain_score": 3, "overuse_or_strain": "yes"},
        {"duration_days": 0, "pain_score": 0, "inactive_lifestyle": "yes"},
        {"duration_days": 1, "pain_score": 1, "overuse_or_strain": "no", "inactive_lifestyle": "yes"},
        {**SELF_CARE_BASE, "injury": "no", "numbness_tingling": "no", "age": 30, "side": "left"},
    ],
)
def test_self_care_on_positive_answers(locale: Locale, answers: dict[str, Value]) -> None:
    result = triage(locale.content, answers)
    assert result.level == "self_care"
    assert [r.id for r in result.rules] == ["short_mild_overuse"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"duration_days": UNKNOWN}, "routine"),
        ({"pain_score": UNKNOWN}, "routine"),
        ({"overuse_or_strain": UNKNOWN}, "routine"),
        ({"overuse_or_strain": "no"}, "routine"),
        ({"overuse_or_strain": "no", "inactive_lifestyle": "no"}, "routine"),
        ({"duration_days": 4}, "routine"),
        ({"pain_score": 4}, "routine"),
        ({"pain_score": 7}, "urgent"),
        ({"numbness_tingling": "yes"}, "routine"),
        ({"injury": "yes"}, "urgent"),
        ({"stroke_signs": "yes"}, "emergency"),
    ],
)
def test_self_care_needs_every_positive_answer(locale: Locale, change: dict[str, Value], expected: str) -> None:
    assert level(locale, {**SELF_CARE_BASE, **change}) == expected


def test_missing_duration_or_pain_never_gives_self_care(locale: Locale) -> None:
    assert level(locale, {"pain_score": 2, "overuse_or_strain": "yes", "inactive_lifestyle": "yes"}) == "routine"
    assert level(locale, {"duration_days": 2, "overuse_or_strain": "yes", "inactive_lifestyle": "yes"}) == "routine"


def test_most_urgent_rule_wins_and_rules_are_listed_most_urgent_first(locale: Locale) -> None:
    answers: dict[str, Value] = {
        "stroke_signs": "yes",
        "injury": "yes",
        "numbness_tingling": "yes",
        "duration_days": 2,
        "pain_score": 2,
        "overuse_or_strain": "yes",
    }
    lvl, rules = level_of(locale.content, answers)
    assert lvl == "emergency"
    assert [r.id for r in rules] == ["stroke_signs", "after_injury", "numbness", "short_mild_overuse"]


# ------------------------------------------------------------ determinism and explanations


def test_triage_is_deterministic(locale: Locale) -> None:
    answers: dict[str, Value] = {
        "low_back_pain": "yes",
        "pain_below_knee": "yes",
        "numbness_tingling": "yes",
        "pain_score": 5,
        "age": 50,
        "side": "right",
    }
    first = triage(locale.content, answers)
    assert triage(locale.content, answers) == first
    assert triage(locale.content, dict(reversed(list(answers.items())))) == first


def test_ties_keep_the_order_of_the_causes_file(locale: Locale) -> None:
    causes = score_causes(locale.content, {})
    file_order = [c.id for c in locale.content.causes]
    scores = [c.score for c in causes]
    assert scores == sorted(scores, reverse=True)
    zero = [c.id for c in causes if c.score == 0]
    assert zero == [c for c in file_order if c in zero]


def test_explanation_lists_the_evidence(locale: Locale) -> None:
    result = triage(locale.content, {"low_back_pain": "yes", "pain_below_knee": "yes", "numbness_tingling": "yes"})
    top = result.causes[0]
    assert top.id == "lumbar_radiculopathy"
    assert top.score == 6.5
    assert top.reasons == (
        Reason("pain_below_knee is yes", 3.0),
        Reason("low_back_pain is yes", 2.0),
        Reason("numbness_tingling is yes", 1.5),
    )
    assert sum(r.weight for r in top.reasons) == top.score  # no prior for this cause
    assert result.level == "routine"
    assert [r.id for r in result.rules] == ["numbness"]


def test_explanation_of_a_comparison_and_a_negative_weight(locale: Locale) -> None:
    causes = {c.id: c for c in score_causes(locale.content, {"age": 70, "pain_score": 2, "injury": "yes"})}
    deconditioning = causes["deconditioning"]
    assert deconditioning.reasons == (
        Reason("age >= 65", 1.0),
        Reason("pain_score <= 3", 1.0),
        Reason("(numbness_tingling is yes or injury is yes or sudden_onset is yes)", -2.0),
    )
    assert deconditioning.score == 0.0


def test_score_includes_the_prior(locale: Locale) -> None:
    causes = {c.id: c for c in score_causes(locale.content, {})}
    assert causes["muscle_imbalance"].score == -0.5
    assert causes["muscle_imbalance"].reasons == ()
    assert causes["muscle_imbalance"] == score_causes(locale.content, {})[-1]


# ------------------------------------------------------------ "I don't know" never lowers urgency


def _known_values(content: Content, fact: str) -> list[Value]:
    kind = content.contract.facts[fact]
    if kind is AnswerType.YES_NO:
        return ["yes", "no"]
    if kind is AnswerType.SIDE:
        return ["left", "right", "both"]
    bounds = {b for rule in content.rules for b in thresholds(rule.when, fact)}
    values: set[float] = {0.0}
    for b in bounds:
        values |= {b - 1, b - 0.5, b, b + 0.5, b + 1}
    if kind is AnswerType.SCALE_0_10:
        return sorted({int(v) for v in values if 0 <= v <= 10 and float(v).is_integer()} | {0, 10})
    return sorted(v for v in values if v >= 0)


def _value_strategy(kind: AnswerType) -> st.SearchStrategy[Any]:
    if kind is AnswerType.YES_NO:
        return st.sampled_from(["yes", "no", UNKNOWN])
    if kind is AnswerType.SIDE:
        return st.sampled_from(["left", "right", "both", UNKNOWN])
    if kind is AnswerType.SCALE_0_10:
        return st.one_of(st.integers(0, 10), st.just(UNKNOWN))
    return st.one_of(st.integers(0, 120), st.sampled_from([0.5, 2.5, 3.5, 14.0]), st.just(UNKNOWN))


@st.composite
def answer_sets(draw: st.DrawFn, content: Content) -> tuple[dict[str, Value], str]:
    facts = content.contract.facts
    answers: dict[str, Value] = {}
    for fact, kind in facts.items():
        if draw(st.booleans()):
            answers[fact] = draw(_value_strategy(kind))
    fact = draw(st.sampled_from(sorted(facts)))
    return answers, fact


def test_i_dont_know_never_lowers_urgency(locale: Locale) -> None:
    content = locale.content
    urgency = content.contract.urgency

    @settings(max_examples=400, deadline=None)
    @given(answer_sets(content))
    def check(case: tuple[dict[str, Value], str]) -> None:
        answers, fact = case
        known = _known_values(content, fact)
        if fact in answers and answers[fact] != UNKNOWN:
            known.append(answers[fact])
        unknown_level = triage(content, {**answers, fact: UNKNOWN}).level
        least = min(urgency(triage(content, {**answers, fact: v}).level) for v in known)
        assert urgency(unknown_level) >= least, (fact, answers, unknown_level)
        # "I don't know" is the same as not having been asked
        without = {k: v for k, v in answers.items() if k != fact}
        assert triage(content, without).level == unknown_level

    check()


def test_known_values_cover_every_threshold(locale: Locale) -> None:
    assert _known_values(locale.content, "duration_days") == [0.0, 2.0, 2.5, 3.0, 3.5, 4.0]
    assert _known_values(locale.content, "pain_score") == [0, 2, 3, 4, 5, 6, 7, 8, 10]


# ------------------------------------------------------------ relevance


@pytest.mark.parametrize(
    ("answers", "fact", "expected"),
    [
        ({}, "bladder_bowel_control_loss", True),
        ({}, "overuse_or_strain", True),  # self care is still possible
        ({}, "age", False),  # no rule reads it
        ({}, "side", False),
        ({"bladder_bowel_control_loss": "no"}, "bladder_bowel_control_loss", False),  # answered
        ({"bladder_bowel_control_loss": "yes"}, "bladder_bowel_control_loss", False),
        ({"injury": "yes"}, "stroke_signs", True),  # could still become an emergency
        ({"injury": "yes"}, "fever_chills", False),  # already urgent
        ({"injury": "yes"}, "numbness_tingling", False),
        ({"sudden_onset": "yes"}, "pain_score", True),  # sudden severe pain is an emergency
        ({"sudden_onset": "no", "injury": "yes"}, "pain_score", False),
        ({"sudden_onset": "no"}, "getting_worse", True),  # progressive weakness is urgent
        ({"sudden_onset": "no", "injury": "yes"}, "getting_worse", False),
        ({"numbness_tingling": "yes"}, "overuse_or_strain", False),  # routine already: self care is out
        ({"duration_days": 10}, "overuse_or_strain", False),
        ({"duration_days": UNKNOWN}, "overuse_or_strain", False),  # self care needs a known duration
        ({"duration_days": UNKNOWN}, "pain_score", True),
        ({"pain_score": 2, "duration_days": 2}, "overuse_or_strain", True),
        ({"pain_score": 2, "duration_days": 2, "inactive_lifestyle": "yes"}, "overuse_or_strain", False),
        ({"weight_loss": "yes"}, "cancer_history", True),
        ({"weight_loss": "no"}, "cancer_history", True),  # needs_assessment (routine) is still possible
        ({"weight_loss": "no", "numbness_tingling": "yes"}, "cancer_history", False),
    ],
)
def test_matters_for_level(locale: Locale, answers: dict[str, Value], fact: str, expected: bool) -> None:
    assert matters_for_level(locale.content, answers, fact) is expected


def test_possible(locale: Locale) -> None:
    rules = {r.id: r for r in locale.content.rules}
    sudden_severe = rules["sudden_severe_pain"].when
    assert possible(sudden_severe, {}) is True
    assert possible(sudden_severe, {"sudden_onset": "yes"}) is True
    assert possible(sudden_severe, {"sudden_onset": "no"}) is False
    assert possible(sudden_severe, {"sudden_onset": "yes", "pain_score": 6}) is False
    assert possible(sudden_severe, {"pain_score": UNKNOWN}) is False
    numbness = rules["numbness"].when
    assert possible(numbness, {"numbness_tingling": "no"}) is True
    assert possible(numbness, {"numbness_tingling": "no", "front_thigh_weakness": "no"}) is False
