"""Because you said ...: every cause shown carries the answers that raised it most, in en and ko."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.test_fhir import run, triage_result, validate
from voice_triage.core import fhir
from voice_triage.core.because import because
from voice_triage.core.contract import Value
from voice_triage.core.engine import triage
from voice_triage.core.locale import Locale, load_locale
from voice_triage.core.summary import summarize

NOW = datetime(2025, 3, 14, 15, 0, 7, tzinfo=UTC)
CLICKING = {"front_hip_groin_pain": "yes", "clicking_locking": "yes", "pain_score": "four", "age": "thirty four"}


def test_the_answers_that_raised_a_cause_most_come_first(locale: Locale) -> None:
    answers: dict[str, Value] = {"front_hip_groin_pain": "yes", "clicking_locking": "yes", "pain_on_stairs": "yes"}
    labral = next(c for c in triage(locale.content, answers).causes if c.id == "labral_tear")
    assert labral.raised_by == ("clicking_locking", "front_hip_groin_pain")  # weight 4, then 1.5 (stairs 0.5)
    assert because(locale.content, labral, answers) == (
        "Because you said yes when asked about the hip clicking, catching or locking, "
        "and yes when asked about pain at the front of the hip or in the groin."
    )


def test_a_cause_no_answer_raised_says_nothing(locale: Locale) -> None:
    cause = next(c for c in triage(locale.content, {}).causes if c.id == "femoral_nerve")
    assert cause.raised_by == ()
    assert because(locale.content, cause, {}) == ""


def test_i_dont_know_and_no_never_raise_a_cause(locale: Locale) -> None:
    answers: dict[str, Value] = {"stroke_signs": "unknown", "bladder_bowel_control_loss": "no"}
    assert all(not c.raised_by for c in triage(locale.content, answers).causes)


def test_numbers_are_said_as_the_kiosk_says_them(locale: Locale) -> None:
    answers: dict[str, Value] = {"age": 70, "duration_days": 60}
    oa = next(c for c in triage(locale.content, answers).causes if c.id == "hip_osteoarthritis")
    assert because(locale.content, oa, answers) == (
        "Because you said 70 years when asked about your age, "
        "and 60 days when asked about how long it has been going on."
    )


def test_on_an_emergency_the_red_flag_is_the_reason(locale: Locale) -> None:
    answers: dict[str, Value] = {"sudden_onset": "yes", "pain_score": 9}
    result = triage(locale.content, answers)
    assert result.causes[0].id == "lumbar_radiculopathy"
    assert result.causes[0].raised_by == ("sudden_onset", "pain_score")


def test_summary_and_fhir_carry_because(locale: Locale) -> None:
    dialogue = run(locale, CLICKING)
    summary = summarize(dialogue, locale.content, "kiosk 1", NOW)
    assert len(summary.because) == len(summary.causes) == 3
    result = triage(locale.content, dialogue.answers)
    for entry, sentence, cause in zip(summary.causes, summary.because, result.causes, strict=False):
        assert entry.id == cause.id
        assert sentence == because(locale.content, cause, dialogue.answers, dialogue.approximate)
    assert summary.because[0].startswith("Because you said yes when asked about pain at the front of the hip")
    first = summary.causes[0].id
    response = fhir.questionnaire_response(summary, locale.content)
    validate(response)
    causes = triage_result(response)["cause"]
    parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in causes[0]}
    assert parts["id"] == first
    assert parts["because"] == summary.because[0]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_question_has_a_topic_and_every_locale_says_because(lang: str) -> None:
    content = load_locale(lang).content
    assert all(q.topic.strip() for q in content.questions)
    answers: dict[str, Value] = {"outer_hip_pain": "yes"}
    bursitis = triage(content, answers).causes[0]
    sentence = because(content, bursitis, answers)
    assert content.question("outer_hip_pain").topic in sentence
    assert content.messages.answer_words["yes"] in sentence
