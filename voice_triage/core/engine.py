"""The triage engine: answers in; level, red flags, ranked causes and reasons out.

Pure and deterministic.  The level is the most urgent level among the rules
that hold, or the content's default level when none does.  Rules below the
default (self care) need positive answers to hold, and "I don't know" never
satisfies a condition, so "I don't know" can never lower urgency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .conditions import All, Any_, Condition, describe, facts_of
from .content import Cause, Content, Rule
from .contract import UNKNOWN, AnswerType, Value


@dataclass(frozen=True)
class Reason:
    """One piece of evidence that moved a cause's score."""

    because: str  # e.g. "pain_on_stairs is yes"
    weight: float


@dataclass(frozen=True)
class CauseScore:
    id: str
    score: float
    reasons: tuple[Reason, ...]
    # The one or two answered facts that raised it most ("because you said ..."), most first
    raised_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    level: str
    rules: tuple[Rule, ...]  # every rule that holds, most urgent first
    causes: tuple[CauseScore, ...]  # best first

    @property
    def red_flags(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules if rule.red_flag)

    def top(self, n: int = 3) -> tuple[str, ...]:
        return tuple(cause.id for cause in self.causes[:n])


def level_of(content: Content, answers: Mapping[str, Value]) -> tuple[str, tuple[Rule, ...]]:
    """The level and the rules that hold, most urgent first."""
    contract = content.contract
    fired = tuple(
        sorted(
            (rule for rule in content.rules if rule.when.holds(answers)),
            key=lambda rule: -contract.urgency(rule.level),
        )
    )
    # The most urgent rule wins; a rule below the default (self care) wins only
    # when it is the only kind that holds.
    return (fired[0].level if fired else content.default_level), fired


def emergency(content: Content, answers: Mapping[str, Value]) -> tuple[Rule, ...]:
    """The red-flag rules that hold now (checked after every answer)."""
    return tuple(rule for rule in content.rules if rule.red_flag and rule.when.holds(answers))


def denials(content: Content) -> Mapping[tuple[str, str], float]:
    """What a "no" costs a cause, for each (cause, yes/no fact) whose yes is evidence for it.

    A cause that makes a yes ``w`` more likely (its weight, as log odds) makes
    a no rarer: with ``base_rate`` the chance of a yes in general, a no is
    ``(1 - base_rate) / (base_rate * e**w + 1 - base_rate)`` times as likely
    with the cause as without.  Its logarithm is the (negative) weight of the
    no.  "I don't know" costs nothing.
    """
    cached = _DENIALS.get(id(content))
    if cached is not None and cached[0] is content:
        return cached[1]
    rate = content.base_rate
    table: dict[tuple[str, str], float] = {}
    for cause in content.causes:
        for question in content.questions:
            if question.type is not AnswerType.YES_NO:
                continue
            yes, no = {question.id: "yes"}, {question.id: "no"}
            weight = sum(
                e.weight for e in cause.evidence if e.weight > 0 and e.when.holds(yes) and not e.when.holds(no)
            )
            if weight > 0:
                table[(cause.id, question.id)] = round(-math.log(rate * math.exp(weight) + 1 - rate), 3)
    _DENIALS[id(content)] = (content, table)
    return table


_DENIALS: dict[int, tuple[Content, Mapping[tuple[str, str], float]]] = {}


def score_causes(content: Content, answers: Mapping[str, Value]) -> tuple[CauseScore, ...]:
    scored: list[tuple[float, int, CauseScore]] = []
    table = denials(content)
    for index, cause in enumerate(content.causes):
        reasons = tuple(
            Reason(because=describe(item.when), weight=item.weight)
            for item in cause.evidence
            if item.when.holds(answers)
        ) + tuple(
            Reason(because=f"{fact} is no", weight=table[(cause.id, fact)])
            for fact, value in answers.items()
            if value == "no" and (cause.id, fact) in table
        )
        score = round(cause.prior + sum(r.weight for r in reasons), 3)
        scored.append((-score, index, CauseScore(cause.id, score, reasons, raised_by(cause, answers))))
    return tuple(item[2] for item in sorted(scored))


def triage(content: Content, answers: Mapping[str, Value]) -> Result:
    """The level, the rules that hold, and the causes ranked.

    When a red flag holds, the causes it points to (its ``points_to``, those
    whose ``when`` holds) come first, in the order listed, then the others by
    score: the interview ends at the red flag, before most cause questions.
    """
    level, rules = level_of(content, answers)
    causes = score_causes(content, answers)
    pointed: dict[str, Rule] = {}
    for rule in rules:
        if rule.red_flag:
            for target in rule.points_to:
                if target.when is None or target.when.holds(answers):
                    pointed.setdefault(target.cause, rule)
    if pointed:
        by_id = {cause.id: cause for cause in causes}
        first = []
        for cause_id, rule in pointed.items():
            cause = by_id[cause_id]
            if not cause.raised_by:  # raised by the red flag itself
                facts = [f for f in dict.fromkeys(facts_of(rule.when)) if answers.get(f, UNKNOWN) != UNKNOWN]
                cause = replace(cause, raised_by=tuple(facts[:2]))
            first.append(cause)
        causes = (*first, *(cause for cause in causes if cause.id not in pointed))
    return Result(level=level, rules=rules, causes=causes)


def raised_by(cause: Cause, answers: Mapping[str, Value]) -> tuple[str, ...]:
    """The one or two answered facts whose evidence raised a cause most (largest weight first)."""
    items = sorted((e for e in cause.evidence if e.weight > 0 and e.when.holds(answers)), key=lambda e: -e.weight)
    facts: list[str] = []
    for item in items:
        for fact in facts_of(item.when):
            if fact not in facts and _fact_helps(item.when, fact, answers):
                facts.append(fact)
    return tuple(facts[:2])


def _fact_helps(condition: Condition, fact: str, answers: Mapping[str, Value]) -> bool:
    """Does ``fact``'s answer take part in making ``condition`` hold?"""
    if isinstance(condition, All):
        return any(_fact_helps(part, fact, answers) for part in condition.parts)
    if isinstance(condition, Any_):
        return any(part.holds(answers) and _fact_helps(part, fact, answers) for part in condition.parts)
    return condition.fact == fact and condition.holds(answers)
