"""Can a question still change the outcome?  If not, the dialogue skips it.

The outcome is the urgency level and the set of the three most likely
causes.  Conditions have no "not", so an unanswered fact can only make an
atom true later, never false: a rule that holds now keeps holding, and a rule
that does not hold now can still come to hold only if it is still
*possible* (no answer already given rules it out).  That makes the question
"could any answers to the questions left make this fact matter?" cheap and
exact for the level.  For the causes it is a one-step look-ahead (see
``matters_for_causes``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .conditions import All, Any_, Condition, Is, comparisons, facts_of, thresholds
from .content import Content
from .contract import CHOICES, AnswerType, Value
from .engine import score_causes


def possible(condition: Condition, answers: Mapping[str, Value]) -> bool:
    """Could the condition hold once the unanswered facts are answered?"""
    if isinstance(condition, All):
        return all(possible(part, answers) for part in condition.parts)
    if isinstance(condition, Any_):
        return any(possible(part, answers) for part in condition.parts)
    return condition.fact not in answers or condition.holds(answers)


def matters_for_level(content: Content, answers: Mapping[str, Value], fact: str) -> bool:
    urgency = content.contract.urgency
    default = urgency(content.default_level)
    held = [urgency(rule.level) for rule in content.rules if rule.when.holds(answers)]
    floor = max((u for u in held if u >= default), default=None)
    for rule in content.rules:
        if fact not in facts_of(rule.when) or rule.when.holds(answers) or not possible(rule.when, answers):
            continue
        level = urgency(rule.level)
        if floor is None or level > floor:
            return True
    return False


def _candidates(content: Content, fact: str) -> list[Value]:
    """Answers worth trying for a fact: each choice, or each side of every threshold."""
    kind = content.contract.facts[fact]
    if kind in CHOICES:
        return list(CHOICES[kind])
    bounds = {b for rule in content.rules for b in thresholds(rule.when, fact)}
    bounds |= {b for cause in content.causes for item in cause.evidence for b in thresholds(item.when, fact)}
    values = {max(0.0, b + d) for b in bounds for d in (-1.0, 0.0, 1.0)} | {0.0}
    if kind is AnswerType.SCALE_0_10:
        values = {min(10.0, v) for v in values}
    return sorted(values)


def matters_for_causes(content: Content, answers: Mapping[str, Value], fact: str, top: int = 3) -> bool:
    """Would some answer to ``fact`` alone change the set of the ``top`` causes?

    A one-step look-ahead: asking every question that *some* later combination
    of answers could make matter would mean asking nearly all of them, which
    is too much for someone who tires easily.  Follow-up questions are reached
    through the ask_if conditions of the flow instead.
    """
    now = set(_top(content, answers, top))
    return any(set(_top(content, {**answers, fact: value}, top)) != now for value in _candidates(content, fact))


def _top(content: Content, answers: Mapping[str, Value], top: int) -> tuple[str, ...]:
    return tuple(cause.id for cause in score_causes(content, answers)[:top])


def can_change_outcome(content: Content, answers: Mapping[str, Value], fact: str) -> bool:
    """True unless no answer to ``fact`` could change the level or the top causes."""
    return matters_for_level(content, answers, fact) or matters_for_causes(content, answers, fact)


def number_cuts(content: Content, fact: str) -> list[int]:
    """Where rules and causes cut a number's range: each ``x`` such that "is it ``x`` or more?" decides
    a comparison they make (``pain_score >= 7``: 7; ``<= 3``: 4).  Values between two cuts make no
    difference to the urgency level or to any cause."""
    cuts: set[int] = set()
    for when in [rule.when for rule in content.rules] + [e.when for c in content.causes for e in c.evidence]:
        for compare in comparisons(when, fact):
            bound = compare.bound
            cuts.add(math.floor(bound) + 1 if compare.op in ("gt", "le") else math.ceil(bound))
    return sorted(c for c in cuts if c > 0)


def no_counts(content: Content, fact: str) -> bool:
    """Does any rule or cause ask whether ``fact`` is "no"?  If none does, a no and an "I don't know"
    give the same level and the same causes."""
    conditions = [rule.when for rule in content.rules] + [e.when for c in content.causes for e in c.evidence]
    return any("no" in atom.values for when in conditions for atom in atoms(when) if atom.fact == fact)


def atoms(condition: Condition) -> list[Is]:
    """The equality tests of a condition."""
    if isinstance(condition, All | Any_):
        return [atom for part in condition.parts for atom in atoms(part)]
    return [condition] if isinstance(condition, Is) else []
