"""A scripted patient, and the evaluation of the product over vignettes.

The patient answers the real dialogue in words, from a vignette's facts,
through the same understanding step a spoken or typed answer takes; a fact
it lacks is answered "I don't know".
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .because import because
from .choice import choose
from .content import Content
from .contract import UNKNOWN, Value, valid_value
from .dialogue import Chose, Dialogue, Heard
from .engine import triage
from .grammar import Grammar
from .yamlload import ContentError, LineDict, LineList, Problem, load_file, where

MAX_TURNS = 200


@dataclass(frozen=True)
class Vignette:
    id: str
    facts: Mapping[str, Value]
    level: str | None = None
    acceptable: tuple[str, ...] = ()
    causes_any_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One question asked: why it was chosen, the answer, and what the answer did."""

    question: str  # the fact id
    why: str
    answer: Value
    level_before: str
    level_after: str
    top_before: tuple[str, ...]
    top_after: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "why": self.why,
            "answer": self.answer,
            "level": [self.level_before, self.level_after],
            "top3": [list(self.top_before), list(self.top_after)],
        }

    def effect(self) -> str:
        """What the answer did, in plain words."""
        changes = []
        if self.level_after != self.level_before:
            changes.append(f"level {self.level_before} -> {self.level_after}")
        if self.top_after != self.top_before:
            changes.append(f"top 3 {', '.join(self.top_before)} -> {', '.join(self.top_after)}")
        return "; ".join(changes) or "changed neither the level nor the top 3"


@dataclass(frozen=True)
class Session:
    level: str
    red_flags: tuple[str, ...]
    causes: tuple[tuple[str, float], ...]
    questions_asked: int
    transcript: tuple[tuple[str, str], ...]
    because: tuple[str, ...] = ()  # for each of the three causes shown: "Because you said ..."
    steps: tuple[Step, ...] = ()  # each question asked, why, and what its answer did

    def as_json(self, explain: bool = False) -> dict[str, Any]:
        causes: list[dict[str, Any]] = [{"id": c, "score": s} for c, s in self.causes]
        for item, reason in zip(causes, self.because, strict=False):
            item["because"] = reason
        data: dict[str, Any] = {
            "level": self.level,
            "red_flags": list(self.red_flags),
            "causes": causes,
            "questions_asked": self.questions_asked,
            "transcript": [{"question": q, "answer": a} for q, a in self.transcript],
        }
        if explain:
            data["explain"] = [step.as_json() for step in self.steps]
        return data


def patient_words(content: Content, value: Value) -> str:
    """What a plain-spoken patient says for an answer."""
    if isinstance(value, str):
        return content.messages.answer_words.get(value, value)
    return f"{value:g}"


def run_session(content: Content, grammar: Grammar, facts: Mapping[str, Value]) -> Session:
    dialogue = Dialogue(content, grammar)
    dialogue.start()
    for _ in range(MAX_TURNS):
        if dialogue.finished:
            break
        if dialogue.confirming:
            dialogue.handle(Chose("yes"))
            continue
        assert dialogue.current is not None
        value = facts.get(dialogue.current.id, UNKNOWN)
        dialogue.handle(Heard(patient_words(content, value)))
    else:
        raise RuntimeError(f"the dialogue did not finish within {MAX_TURNS} turns")
    result = dialogue.result
    assert result is not None
    return Session(
        level=result.level,
        red_flags=result.red_flags,
        causes=tuple((c.id, c.score) for c in result.causes),
        questions_asked=dialogue.questions_asked,
        transcript=tuple((t.question, t.answer) for t in dialogue.transcript),
        because=tuple(because(content, c, dialogue.answers, dialogue.approximate) for c in result.causes[:3]),
        steps=explain(content, dialogue.answers),
    )


def explain(content: Content, answers: Mapping[str, Value]) -> tuple[Step, ...]:
    """Each answer in the order given, with why its question was chosen and what the answer did.

    The choice is a pure function of the answers so far, so it is replayed.
    """
    steps: list[Step] = []
    so_far: dict[str, Value] = {}
    before = triage(content, so_far)
    for fact, value in answers.items():
        choice = choose(content, so_far)
        why = choice.why() if choice.question is not None and choice.question.id == fact else "asked again"
        so_far[fact] = value
        after = triage(content, so_far)
        steps.append(Step(fact, why, value, before.level, after.level, before.top(3), after.top(3)))
        before = after
    return tuple(steps)


# ------------------------------------------------------------ reading files


def _facts(node: Any, content: Content, problems: list[Problem], at: tuple[str, int]) -> dict[str, Value]:
    if not isinstance(node, LineDict):
        problems.append(Problem(*at, "facts must be a mapping of fact id to answer"))
        return {}
    facts: dict[str, Value] = {}
    for key, value in node.items():
        kind = content.contract.facts.get(key)
        if kind is None:
            problems.append(Problem(*where(node, key), f"unknown fact {key!r}"))
        elif not valid_value(kind, value):
            problems.append(Problem(*where(node, key), f"{key!r} is {kind.value}: {value!r} is not a valid answer"))
        else:
            facts[key] = value
    return facts


def _strings(node: Any, key: str, problems: list[Problem]) -> tuple[str, ...]:
    value = node.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(*where(node, key), f"{key!r} must be a list of ids"))
        return ()
    return tuple(value)


def load_facts(path: Path, content: Content) -> dict[str, Value]:
    """A bare mapping of fact to value, or one vignette (with ``facts``)."""
    data = load_file(path)
    problems: list[Problem] = []
    if isinstance(data, LineList) and len(data) == 1:
        data = data[0]
    if isinstance(data, LineDict) and "facts" in data:
        facts = _facts(data["facts"], content, problems, where(data, "facts"))
    else:
        facts = _facts(data, content, problems, (str(path), 1))
    if problems:
        raise ContentError(problems)
    return facts


def load_vignettes(path: Path, content: Content) -> list[Vignette]:
    data = load_file(path)
    problems: list[Problem] = []
    if not isinstance(data, LineList):
        raise ContentError([Problem(str(path), 1, "expected a list of vignettes")])
    vignettes: list[Vignette] = []
    levels = content.contract.levels
    for index, node in enumerate(data):
        at = where(data, index)
        if not isinstance(node, LineDict) or not isinstance(node.get("id"), str):
            problems.append(Problem(*at, "a vignette must be a mapping with an 'id'"))
            continue
        facts = _facts(node.get("facts"), content, problems, where(node, "facts"))
        expect = node.get("expect")
        if expect is None:
            expect = LineDict()
            expect.path, expect.line, expect.key_lines = node.path, node.line, {}
        if not isinstance(expect, LineDict):
            problems.append(Problem(*where(node, "expect"), "'expect' must be a mapping"))
            continue
        level = expect.get("level")
        if level is not None and level not in levels:
            problems.append(Problem(*where(expect, "level"), f"unknown level {level!r}"))
        acceptable = _strings(expect, "acceptable", problems)
        for item in acceptable:
            if item not in levels:
                problems.append(Problem(*where(expect, "acceptable"), f"unknown level {item!r}"))
        causes = _strings(expect, "causes_any_of", problems)
        for item in causes:
            if item not in content.contract.conditions:
                problems.append(Problem(*where(expect, "causes_any_of"), f"unknown condition {item!r}"))
        vignettes.append(Vignette(node["id"], facts, level, acceptable or ((level,) if level else ()), causes))
    if problems:
        raise ContentError(problems)
    return vignettes


# ------------------------------------------------------------- evaluation


def evaluate(content: Content, grammar: Grammar, vignettes: list[Vignette]) -> dict[str, Any]:
    urgency = content.contract.urgency
    emergency = content.contract.levels[0]
    results: list[dict[str, Any]] = []
    for vignette in vignettes:
        session = run_session(content, grammar, vignette.facts)
        top3 = [c for c, _ in session.causes[:3]]
        results.append(
            {
                "id": vignette.id,
                "level": session.level,
                "expected": vignette.level,
                "level_ok": session.level in vignette.acceptable,
                "under_triaged": vignette.level is not None and urgency(session.level) < urgency(vignette.level),
                "causes": top3,
                "cause_ok": any(c in top3 for c in vignette.causes_any_of),
                "questions_asked": session.questions_asked,
            }
        )
    asked = [r["questions_asked"] for r in results]
    summary = {
        "vignettes": len(results),
        "level_ok": sum(r["level_ok"] for r in results),
        "cause_in_top3": sum(r["cause_ok"] for r in results),
        "under_triaged": sum(r["under_triaged"] for r in results),
        "emergency_under_triaged": sum(1 for r in results if r["expected"] == emergency and r["level"] != emergency),
        "median_questions": statistics.median(asked) if asked else 0,
        "max_questions": max(asked, default=0),
    }
    return {"results": results, "summary": summary}
