"""The progress estimate: never fewer questions than the safety screen still needs, and exact when the
person answers the way the estimate assumes."""

from __future__ import annotations

import random

import pytest

from voice_triage.core.choice import candidates, choose
from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.locale import Locale, load_locale
from voice_triage.core.progress import remaining, safety_left
from voice_triage.core.relevance import matters_for_level

PATHS = 25  # random answer paths per locale


def _choices(question_type: AnswerType) -> list[Value]:
    if question_type is AnswerType.YES_NO:
        return ["yes", "no", "no", "no", UNKNOWN]
    if question_type is AnswerType.SCALE_0_10:
        return [*range(11), UNKNOWN]
    if question_type is AnswerType.NUMBER:
        return [0, 1, 3, 7, 14, 21, 42, 90, 400, 18, 35, 60, 80, UNKNOWN]
    return ["left", "right", "both", UNKNOWN]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_estimate_never_promises_fewer_than_the_safety_questions_left(lang: str) -> None:
    content = load_locale(lang).content
    rng = random.Random(12)
    checked = 0
    for _ in range(PATHS):
        answers: dict[str, Value] = {}
        for _step in range(len(content.questions)):
            question = choose(content, answers).question
            if question is None:
                assert remaining(content, answers) == 0 and safety_left(content, answers) == 0, answers
                break
            estimate = remaining(content, answers)
            open_safety = [
                q for q in candidates(content, answers) if q.safety and matters_for_level(content, answers, q.id)
            ]
            assert estimate >= len(open_safety) >= 0, (answers, estimate, [q.id for q in open_safety])
            assert estimate >= 1, "a question is being asked: at least it remains"
            checked += 1
            answers[question.id] = rng.choice(_choices(question.type))
    assert checked > PATHS * 3


def test_the_estimate_is_exact_when_answered_as_assumed(locale: Locale) -> None:
    """Answering "no" to every sign and "I don't know" otherwise, the count comes true question by question."""
    content = locale.content
    answers: dict[str, Value] = {}
    first = remaining(content, answers)
    asked = 0
    while (question := choose(content, answers).question) is not None:
        assert remaining(content, answers) == first - asked
        answers[question.id] = "no" if question.type is AnswerType.YES_NO else UNKNOWN
        asked += 1
        assert asked <= len(content.questions)
    assert asked == first
