"""Conditions on answers, as written in the YAML content.

Syntax (a condition is a mapping):

* ``{fact: value}``: the answer equals ``value``; several keys mean *all*.
* ``{fact: [v1, v2]}``: the answer is one of the values.
* ``{fact: {ge: 7}}``: numeric comparison (``ge``, ``gt``, ``le``, ``lt``).
* ``{all: [cond, ...]}`` and ``{any: [cond, ...]}``.

There is deliberately no "not": an answer of "I don't know" (or no answer
at all) satisfies no atom, so it can never make a condition true.  That is
what keeps "I don't know" from ever lowering urgency: a rule can only lower
the level below the default when the patient has positively said so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .contract import UNKNOWN, AnswerType, Value, valid_value
from .yamlload import LineDict, LineList, Problem, where

COMPARISONS = ("ge", "gt", "le", "lt")


@dataclass(frozen=True)
class Is:
    fact: str
    values: frozenset[Value]

    def holds(self, answers: Mapping[str, Value]) -> bool:
        value = answers.get(self.fact, UNKNOWN)
        return value != UNKNOWN and value in self.values


@dataclass(frozen=True)
class Compare:
    fact: str
    op: str
    bound: float

    def holds(self, answers: Mapping[str, Value]) -> bool:
        value = answers.get(self.fact, UNKNOWN)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return {
            "ge": value >= self.bound,
            "gt": value > self.bound,
            "le": value <= self.bound,
            "lt": value < self.bound,
        }[self.op]


@dataclass(frozen=True)
class All:
    parts: tuple[Condition, ...]

    def holds(self, answers: Mapping[str, Value]) -> bool:
        return all(part.holds(answers) for part in self.parts)


@dataclass(frozen=True)
class Any_:
    parts: tuple[Condition, ...]

    def holds(self, answers: Mapping[str, Value]) -> bool:
        return any(part.holds(answers) for part in self.parts)


Condition = Is | Compare | All | Any_


def facts_of(condition: Condition) -> Iterator[str]:
    """Every fact a condition reads."""
    if isinstance(condition, All | Any_):
        for part in condition.parts:
            yield from facts_of(part)
    else:
        yield condition.fact


def comparisons(condition: Condition, fact: str) -> Iterator[Compare]:
    """Every comparison of ``fact`` in a condition."""
    if isinstance(condition, All | Any_):
        for part in condition.parts:
            yield from comparisons(part, fact)
    elif isinstance(condition, Compare) and condition.fact == fact:
        yield condition


def thresholds(condition: Condition, fact: str) -> Iterator[float]:
    """Every numeric bound a condition compares ``fact`` with."""
    if isinstance(condition, All | Any_):
        for part in condition.parts:
            yield from thresholds(part, fact)
    elif isinstance(condition, Compare) and condition.fact == fact:
        yield condition.bound


def describe(condition: Condition) -> str:
    """Plain text for explanations, e.g. ``pain_score >= 7``."""
    if isinstance(condition, All):
        return " and ".join(describe(p) for p in condition.parts)
    if isinstance(condition, Any_):
        return "(" + " or ".join(describe(p) for p in condition.parts) + ")"
    if isinstance(condition, Is):
        shown = " or ".join(sorted(str(v) for v in condition.values))
        return f"{condition.fact} is {shown}"
    symbol = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[condition.op]
    return f"{condition.fact} {symbol} {condition.bound:g}"


def parse_condition(
    node: Any, facts: Mapping[str, AnswerType], problems: list[Problem], context: tuple[str, int]
) -> Condition | None:
    """Parse a condition; append problems (with lines) and return None if it is bad."""
    if not isinstance(node, LineDict) or not node:
        problems.append(Problem(*context, "a condition must be a non-empty mapping"))
        return None
    parts: list[Condition] = []
    ok = True
    for key, spec in node.items():
        here = where(node, key)
        if key in ("all", "any"):
            if not isinstance(spec, LineList) or not spec:
                problems.append(Problem(*here, f"'{key}' needs a non-empty list of conditions"))
                ok = False
                continue
            subs = [parse_condition(item, facts, problems, where(spec, i)) for i, item in enumerate(spec)]
            if any(s is None for s in subs):
                ok = False
                continue
            clean = tuple(s for s in subs if s is not None)
            parts.append(All(clean) if key == "all" else Any_(clean))
            continue
        if key not in facts:
            problems.append(Problem(*here, f"condition refers to undefined question {key!r}"))
            ok = False
            continue
        atom = _parse_atom(key, spec, facts[key], problems, here)
        if atom is None:
            ok = False
        else:
            parts.append(atom)
    if not ok or not parts:
        return None
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def _parse_atom(
    fact: str, spec: Any, answer_type: AnswerType, problems: list[Problem], here: tuple[str, int]
) -> Condition | None:
    if isinstance(spec, LineDict):
        atoms: list[Condition] = []
        for op, bound in spec.items():
            if op not in COMPARISONS:
                problems.append(Problem(*where(spec, op), f"unknown comparison {op!r} (use {', '.join(COMPARISONS)})"))
                return None
            if answer_type not in (AnswerType.NUMBER, AnswerType.SCALE_0_10):
                problems.append(Problem(*where(spec, op), f"{fact!r} is {answer_type.value}, not a number"))
                return None
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                problems.append(Problem(*where(spec, op), f"'{op}' needs a number, not {bound!r}"))
                return None
            atoms.append(Compare(fact, op, float(bound)))
        if not atoms:
            problems.append(Problem(*here, "an empty comparison"))
            return None
        return atoms[0] if len(atoms) == 1 else All(tuple(atoms))
    values = list(spec) if isinstance(spec, LineList) else [spec]
    for value in values:
        if value == UNKNOWN or not valid_value(answer_type, value):
            problems.append(
                Problem(*here, f"{fact!r} ({answer_type.value}) can never be {value!r}: the condition can never hold")
            )
            return None
    return Is(fact, frozenset(values))
