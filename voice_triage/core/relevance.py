"""Can a question still change the urgency level?  Exact, for :mod:`choice`.

Conditions have no "not", so an unanswered fact can only make an atom true
later, never false: a rule that holds now keeps holding, and a rule that does
not hold now can still come to hold only if it is still *possible* (no answer
already given rules it out).  That makes the question "could any answers to
the questions left make this fact change the level?" cheap and exact.  How
*likely* a question is to change the level or the causes is :mod:`choice`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .conditions import All, Any_, Condition, Is, comparisons, facts_of
from .content import Content
from .contract import Value


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


def number_cuts(content: Content, fact: str, *, level_only: bool = False) -> list[int]:
    """Where rules and causes cut a number's range: each ``x`` such that "is it ``x`` or more?" decides
    a comparison they make (``pain_score >= 7``: 7; ``<= 3``: 4).  Values between two cuts make no
    difference to the urgency level or to any cause.  ``level_only``: the rules' cuts alone."""
    cuts: set[int] = set()
    causes = [] if level_only else [e.when for c in content.causes for e in c.evidence]
    for when in [rule.when for rule in content.rules] + causes:
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
