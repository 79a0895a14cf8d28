"""The triage engine: answers in; level, red flags, ranked causes and reasons out.

Pure and deterministic.  The level is the most urgent level among the rules
that hold, or the content's default level when none does.  Rules below the
default (self care) need positive answers to hold, and "I don't know" never
satisfies a condition, so "I don't know" can never lower urgency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .conditions import describe
from .content import Content, Rule
from .contract import Value


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


def score_causes(content: Content, answers: Mapping[str, Value]) -> tuple[CauseScore, ...]:
    scored: list[tuple[float, int, CauseScore]] = []
    for index, cause in enumerate(content.causes):
        reasons = tuple(
            Reason(because=describe(item.when), weight=item.weight)
            for item in cause.evidence
            if item.when.holds(answers)
        )
        score = round(cause.prior + sum(r.weight for r in reasons), 3)
        scored.append((-score, index, CauseScore(cause.id, score, reasons)))
    return tuple(item[2] for item in sorted(scored))


def triage(content: Content, answers: Mapping[str, Value]) -> Result:
    level, rules = level_of(content, answers)
    return Result(level=level, rules=rules, causes=score_causes(content, answers))
