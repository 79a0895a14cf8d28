"""The fixed clinical contract: fact ids, answer types, levels and condition ids.

A copy of ``../shared/clinical/facts.yaml`` ships in ``voice_triage/data/facts.yaml``
(a test checks the two are identical when the shared file is present).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from .paths import CONTRACT
from .yamlload import ContentError, LineDict, Problem, load_file, where

UNKNOWN = "unknown"

# An answer as the engine sees it: "yes"/"no", "left"/"right"/"both",
# a number, or UNKNOWN ("I don't know").
Value = str | int | float


class AnswerType(StrEnum):
    YES_NO = "yes_no"
    SCALE_0_10 = "scale_0_10"
    NUMBER = "number"
    SIDE = "side"


CHOICES: dict[AnswerType, tuple[str, ...]] = {
    AnswerType.YES_NO: ("yes", "no"),
    AnswerType.SIDE: ("left", "right", "both"),
}


def valid_value(answer_type: AnswerType, value: object) -> bool:
    """True if ``value`` is a legal answer (``UNKNOWN`` included) for the type."""
    if value == UNKNOWN:
        return True
    if answer_type in CHOICES:
        return value in CHOICES[answer_type]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if answer_type is AnswerType.SCALE_0_10:
        return float(value).is_integer() and 0 <= value <= 10
    return value >= 0


@dataclass(frozen=True)
class Contract:
    facts: dict[str, AnswerType]
    meanings: dict[str, str]
    levels: tuple[str, ...]  # most urgent first
    conditions: dict[str, str]

    def urgency(self, level: str) -> int:
        """Higher is more urgent."""
        return len(self.levels) - self.levels.index(level)


DEFAULT_CONTRACT = CONTRACT


def load_contract(path: Path = DEFAULT_CONTRACT) -> Contract:
    data = load_file(path)
    problems: list[Problem] = []
    if not isinstance(data, LineDict):
        raise ContentError([Problem(str(path), 1, "expected a mapping")])
    facts: dict[str, AnswerType] = {}
    meanings: dict[str, str] = {}
    raw_facts: Any = data.get("facts")
    if not isinstance(raw_facts, LineDict):
        problems.append(Problem(*where(data, "facts"), "'facts' must be a mapping"))
    else:
        for fact_id, spec in raw_facts.items():
            kind = spec.get("type") if isinstance(spec, dict) else None
            try:
                facts[fact_id] = AnswerType(str(kind))
            except ValueError:
                problems.append(Problem(*where(raw_facts, fact_id), f"fact {fact_id!r}: unknown type {kind!r}"))
                continue
            meanings[fact_id] = str(spec.get("meaning", ""))
    levels = data.get("levels")
    conditions = data.get("conditions")
    if not isinstance(levels, dict) or not levels:
        problems.append(Problem(*where(data, "levels"), "'levels' must be a non-empty mapping"))
    if not isinstance(conditions, dict) or not conditions:
        problems.append(Problem(*where(data, "conditions"), "'conditions' must be a non-empty mapping"))
    if problems:
        raise ContentError(problems)
    assert isinstance(levels, dict) and isinstance(conditions, dict)
    return Contract(
        facts=facts,
        meanings=meanings,
        levels=tuple(levels),
        conditions={str(k): str(v) for k, v in conditions.items()},
    )
