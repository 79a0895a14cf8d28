"""How far along a session is: the question number, and an honest estimate of how many remain.

The estimate follows the question choice (:func:`~voice_triage.core.choice.choose`)
forward from the answers so far, as if every question still to come were
answered the most common way: "no" to a sign, "I don't know" to anything else
("I don't know" never satisfies a condition, so it never ends the questions
early).  It never promises fewer than the safety screen still needs: the
warning-sign questions still open that can change the level.  Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from .choice import candidates, choose
from .content import Content
from .contract import UNKNOWN, AnswerType, Value
from .relevance import matters_for_level


def safety_left(content: Content, answers: Mapping[str, Value]) -> int:
    """The safety questions (red flags, warning signs) still open that can change the level."""
    return sum(1 for q in candidates(content, answers) if q.safety and matters_for_level(content, answers, q.id))


def remaining(content: Content, answers: Mapping[str, Value]) -> int:
    """About how many questions are still to come, counting the one being asked now (0: none)."""
    after = dict(answers)
    count = 0
    for _ in range(len(content.questions)):  # each step answers one more question: a bound, never a loop
        question = choose(content, after).question
        if question is None:
            break
        after[question.id] = "no" if question.type is AnswerType.YES_NO else UNKNOWN
        count += 1
    return max(count, safety_left(content, answers))
