"""The question flow, triage rules, causes and spoken messages of one locale.

``load_content(directory)`` reads ``flow.yaml``, ``rules.yaml``,
``causes.yaml`` and ``messages.yaml`` once into frozen dataclasses and
validates all of it, reporting *every* problem as ``path:line: message``.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conditions import All, Any_, Condition, Is, facts_of, parse_condition
from .contract import AnswerType, Contract, Value, load_contract
from .yamlload import ContentError, LineDict, LineList, Problem, load_file, where

UNITS = ("days", "years")


@dataclass(frozen=True)
class Question:
    id: str
    type: AnswerType
    text: str
    rephrase: str
    help: str
    safety: bool = False
    ask_if: Condition | None = None
    unit: str = "days"
    # Words that restate the symptom asked about ("I've had a fever" is a yes, "no fever" a no);
    # ``denials`` restate its absence ("I can stand" to "Are you unable to stand?").
    keywords: tuple[str, ...] = ()
    denials: tuple[str, ...] = ()
    # What the question asks about, in a few words, for "because you said yes to ..."
    topic: str = ""
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ChoiceSettings:
    """How the next question is chosen (see :mod:`choice`): the flow's ``choice`` section."""

    # A question is asked for the level when the chance it changes the level is at least this
    level_threshold: float = 0.05
    # ... and for the causes when it is expected to raise the chance of a right cause among the
    # three shown by at least this
    cause_threshold: float = 0.04


@dataclass(frozen=True)
class PointsTo:
    """A cause a red flag points to (when ``when`` holds, or always): shown first on that emergency."""

    cause: str
    when: Condition | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    when: Condition
    say: str
    red_flag: bool = False
    points_to: tuple[PointsTo, ...] = ()
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Evidence:
    when: Condition
    weight: float


@dataclass(frozen=True)
class Cause:
    id: str
    name: str
    explain: str
    prior: float = 0.0
    evidence: tuple[Evidence, ...] = ()
    line: int = field(default=0, compare=False)


# Every message the dialogue speaks, with the placeholders it fills in.
MESSAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "welcome": (),
    "welcome_touch": (),
    "welcome_noisy": (),
    "welcome_typed": (),
    "disclaimer": (),
    "commands_help": (),
    "no_input": (),
    "no_match": (),
    "list_answers": ("choices",),
    "recheck": (),
    "range_scale": ("amount",),
    "range_scale_first": ("amount",),
    "range_days": ("amount",),
    "range_years": ("amount",),
    "range_at_least": ("low",),
    "range_at_most": ("high",),
    "range_between": ("low", "high"),
    "touch_fallback": (),
    "not_answered": (),
    "not_answered_words": (),
    "staff_check": (),
    "staff_handoff": (),
    "confirm": ("answer",),
    "confirm_retry": (),
    "confirm_stop": (),
    "confirm_start_over": (),
    "help_examples": ("examples",),
    "first_question": (),
    "slower": (),
    "louder": (),
    "start_over": (),
    "stopped": (),
    "error": (),
    "result_intro": (),
    "red_flag_intro": (),
    "causes_intro": (),
    "cause_item": ("name", "explain"),
    "self_care_intro": (),
    "precautions_intro": (),
    "finished": (),
    "mic_lost": (),
    "mic_back": (),
    "typed_answers": (),
    "because": ("answers",),
    "because_answer": ("answer", "topic"),
    "because_and": (),
}
MESSAGE_TABLES = ("levels", "level_names", "level_now", "answer_words")
MESSAGE_LISTS = ("self_care", "precautions")
ANSWER_WORDS = ("yes", "no", "unknown", "left", "right", "both")


@dataclass(frozen=True)
class Messages:
    text: Mapping[str, str]
    levels: Mapping[str, str]
    level_names: Mapping[str, str]
    answer_words: Mapping[str, str]
    self_care: tuple[str, ...]
    precautions: tuple[str, ...]
    # One plain sentence per level: what to do now (the result screen's banner)
    level_now: Mapping[str, str] = field(default_factory=dict)

    def say(self, key: str, **values: object) -> str:
        """The message with its placeholders filled in, starting with a capital."""
        text = self.text[key].format(**values)
        return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Content:
    locale: str
    contract: Contract
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]
    default_level: str
    causes: tuple[Cause, ...]
    messages: Messages
    # After this many questions, only questions that can change the level are asked.
    max_questions: int = 14
    # Spoken attempts at one question before voice gives way (to touch, or "not answered").
    max_attempts: int = 4
    # Turns in one session before it is handed to staff with what it has.
    max_turns: int = 40
    # How a spoken session asks a number: "ask" (the question, then yes/no at the rules' cuts if not
    # heard) or "ranges" (yes/no at the cuts from the start, for a speech model that mishears numbers)
    spoken_numbers: str = "ask"
    choice: ChoiceSettings = field(default_factory=ChoiceSettings)
    # The chance of a yes to a sign in general (causes.yaml): what makes a cause's weights chances
    base_rate: float = 0.1
    by_id: Mapping[str, Question] = field(default_factory=dict)

    def question(self, question_id: str) -> Question:
        return self.by_id[question_id]

    def key_phrases(self) -> list[str]:
        """Every question's own key words (keywords and denials), for the recogniser's grammars."""
        return sorted({p for q in self.questions for p in (*q.keywords, *q.denials)})


class _Checker:
    """Collects problems while reading mappings with known fields."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, at: tuple[str, int], message: str) -> None:
        self.problems.append(Problem(*at, message))

    def mapping(
        self,
        node: Any,
        at: tuple[str, int],
        what: str,
        required: Mapping[str, type | tuple[type, ...]],
        optional: Mapping[str, type | tuple[type, ...]] | None = None,
    ) -> LineDict | None:
        """Check keys and value types of a mapping; None if it is not one."""
        optional = optional or {}
        if node is _UNREADABLE:
            return None  # reported once already, by _read
        if not isinstance(node, LineDict):
            self.add(at, f"{what} must be a mapping")
            return None
        for key in node:
            if key not in required and key not in optional:
                allowed = ", ".join(sorted([*required, *optional]))
                self.add(where(node, key), f"{what}: unknown key {key!r} (allowed: {allowed})")
        for key in required:
            if key not in node:
                self.add(where(node), f"{what}: missing field {key!r}")
        for key, kind in {**required, **optional}.items():
            if key in node and not _is(node[key], kind):
                self.add(where(node, key), f"{what}: {key!r} must be {_kind_name(kind)}, not {node[key]!r}")
        return node

    def sequence(self, node: Any, at: tuple[str, int], what: str) -> LineList:
        if not isinstance(node, LineList):
            self.add(at, f"{what} must be a list")
            empty = LineList()
            empty.path, empty.line, empty.item_lines = at[0], at[1], []
            return empty
        return node

    def text(self, node: LineDict, key: str, what: str, placeholders: Collection[str] = ()) -> str:
        value = node.get(key)
        if not isinstance(value, str):
            return ""
        if not value.strip():
            self.add(where(node, key), f"{what}: {key!r} is empty")
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(value) if name}
        except ValueError as exc:
            self.add(where(node, key), f"{what}: {key!r} has a broken placeholder: {exc}")
            return value
        for name in sorted(used - set(placeholders)):
            self.add(where(node, key), f"{what}: {key!r} uses unknown placeholder {{{name}}}")
        return value


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", bool: "true or false", int: "a number", float: "a number", dict: "a mapping", list: "a list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


_UNREADABLE = object()  # a file already reported as missing or broken


def _read(directory: Path, name: str, check: _Checker) -> Any:
    try:
        return load_file(directory / name)
    except ContentError as exc:
        check.problems.extend(exc.problems)
        return _UNREADABLE


def _duplicate_ids(items: list[tuple[str, tuple[str, int]]], what: str, check: _Checker) -> None:
    seen: dict[str, tuple[str, int]] = {}
    for item_id, at in items:
        if item_id in seen:
            check.add(at, f"duplicate {what} id {item_id!r} (first at line {seen[item_id][1]})")
        else:
            seen[item_id] = at


LIMITS = {"max_questions": 14, "max_attempts": 4, "max_turns": 40}


def _load_questions(
    data: Any, path: str, contract: Contract, vocabularies: Collection[str] | None, check: _Checker
) -> tuple[list[Question], dict[str, int]]:
    root = check.mapping(
        data,
        (path, 1),
        "flow",
        {"questions": list, "max_questions": int, "choice": dict},
        {"max_attempts": int, "max_turns": int, "spoken_numbers": str},
    )
    if root is None or not isinstance(root.get("questions"), LineList):
        return [], {}
    limits = {key: root.get(key, default) for key, default in LIMITS.items()}
    for key, value in limits.items():
        if isinstance(value, int) and value < 1:
            check.add(where(root, key), f"flow: {key!r} must be at least 1")
    items: LineList = root["questions"]
    raw: list[tuple[LineDict, tuple[str, int]]] = []
    for index, node in enumerate(items):
        at = where(items, index)
        q = check.mapping(
            node,
            at,
            "question",
            {"id": str, "type": str, "text": str, "rephrase": str, "help": str, "topic": str},
            {"safety": bool, "ask_if": dict, "unit": str, "keywords": list, "denials": list},
        )
        if q is not None and isinstance(q.get("id"), str):
            raw.append((q, where(q, "id")))
    _duplicate_ids([(q["id"], at) for q, at in raw], "question", check)
    order = {q["id"]: i for i, (q, _) in reversed(list(enumerate(raw)))}
    type_names = {t.value: t for t in AnswerType}
    types = {q["id"]: type_names[q["type"]] for q, _ in raw if q.get("type") in type_names}
    questions: list[Question] = []
    depends: dict[str, set[str]] = {}
    for q, at in raw:
        qid: str = q["id"]
        what = f"question {qid!r}"
        kind = types.get(qid)
        if kind is None:
            if isinstance(q.get("type"), str):
                check.add(
                    where(q, "type"),
                    f"{what}: unknown answer type {q['type']!r} (use {', '.join(t.value for t in AnswerType)})",
                )
            continue
        if qid not in contract.facts:
            check.add(at, f"{what} is not a fact of the clinical contract")
        elif contract.facts[qid] is not kind:
            check.add(where(q, "type"), f"{what}: the contract says {contract.facts[qid].value}, not {kind.value}")
        if vocabularies is not None and kind.value not in vocabularies:
            check.add(where(q, "type"), f"{what}: no vocabulary {kind.value!r} in the grammar")
        unit = q.get("unit", "days")
        if "unit" in q and (kind is not AnswerType.NUMBER or unit not in UNITS):
            check.add(where(q, "unit"), f"{what}: 'unit' is for number questions and must be one of {', '.join(UNITS)}")
        ask_if = None
        if "ask_if" in q:
            ask_if = parse_condition(q["ask_if"], types, check.problems, where(q, "ask_if"))
            if ask_if is not None:
                depends[qid] = set(facts_of(ask_if))
                for other in sorted(depends[qid]):
                    if order.get(other, -1) >= order[qid]:
                        check.add(
                            where(q, "ask_if"),
                            f"{what} is unreachable: its ask_if needs {other!r}, which is not asked before it",
                        )
        questions.append(
            Question(
                id=qid,
                type=kind,
                text=check.text(q, "text", what),
                rephrase=check.text(q, "rephrase", what),
                help=check.text(q, "help", what),
                safety=bool(q.get("safety", False)),
                ask_if=ask_if,
                unit=str(unit),
                keywords=_phrase_list(q, "keywords", kind, what, check),
                denials=_phrase_list(q, "denials", kind, what, check),
                topic=check.text(q, "topic", what),
                line=at[1],
            )
        )
    for cycle in _cycles(depends):
        first = next(at for q, at in raw if q["id"] == cycle[0])
        check.add(first, "cycle in ask_if conditions: " + " -> ".join([*cycle, cycle[0]]))
    asked = {q.id for q in questions}
    for fact in contract.facts:
        if fact not in asked:
            check.add((path, 1), f"the flow never asks the contract fact {fact!r}")
    return questions, {key: int(value) if isinstance(value, int) else LIMITS[key] for key, value in limits.items()}


def _fraction(node: LineDict, key: str, what: str, check: _Checker, default: float) -> float:
    """A number strictly between 0 and 1 (a chance)."""
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default  # absent, or reported by the mapping check
    if not 0 < value < 1:
        check.add(where(node, key), f"{what}: {key!r} is a chance, so it must be between 0 and 1, not {value!r}")
        return default
    return float(value)


def _load_choice(data: Any, path: str, check: _Checker) -> ChoiceSettings:
    """The flow's ``choice`` section: the thresholds of :mod:`choice`."""
    root = data if isinstance(data, LineDict) else None
    node = root.get("choice") if root is not None else None
    if root is None or not isinstance(node, LineDict):
        return ChoiceSettings()
    fields = {"level_threshold": (int, float), "cause_threshold": (int, float)}
    check.mapping(node, where(root, "choice"), "flow 'choice'", fields)
    default = ChoiceSettings()
    return ChoiceSettings(
        level_threshold=_fraction(node, "level_threshold", "flow 'choice'", check, default.level_threshold),
        cause_threshold=_fraction(node, "cause_threshold", "flow 'choice'", check, default.cause_threshold),
    )


SPOKEN_NUMBERS = ("ask", "ranges")


def _load_spoken_numbers(data: Any, check: _Checker) -> str:
    """The flow's ``spoken_numbers``: how a spoken session asks for a number."""
    root = data if isinstance(data, LineDict) else None
    value = root.get("spoken_numbers", SPOKEN_NUMBERS[0]) if root is not None else SPOKEN_NUMBERS[0]
    if not isinstance(value, str):
        return SPOKEN_NUMBERS[0]  # reported by the mapping check
    if value not in SPOKEN_NUMBERS:
        assert root is not None
        choices = " or ".join(repr(v) for v in SPOKEN_NUMBERS)
        check.add(where(root, "spoken_numbers"), f"flow: 'spoken_numbers' must be {choices}, not {value!r}")
        return SPOKEN_NUMBERS[0]
    return value


def _phrase_list(q: LineDict, key: str, kind: AnswerType, what: str, check: _Checker) -> tuple[str, ...]:
    """A question's key phrases: text, for yes/no questions only."""
    items = q.get(key)
    if not isinstance(items, LineList):
        return ()  # absent, or reported by the mapping check
    if kind is not AnswerType.YES_NO:
        check.add(where(q, key), f"{what}: {key!r} is for yes/no questions")
        return ()
    found: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            check.add(where(items, index), f"{what}: {key!r} item {index + 1} must be non-empty text")
        else:
            found.append(" ".join(item.split()))
    return tuple(found)


def _cycles(depends: Mapping[str, set[str]]) -> list[list[str]]:
    """Each cycle of the 'ask_if depends on' graph once, as a list of ids."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(depends.get(node, ())):
            if nxt in trail:
                cycle = trail[trail.index(nxt) :]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif len(trail) < len(depends) + 1:
                visit(nxt, [*trail, nxt])

    for start in sorted(depends):
        visit(start, [start])
    return found


def _load_rules(
    data: Any, path: str, types: Mapping[str, AnswerType], contract: Contract, check: _Checker
) -> tuple[list[Rule], str]:
    root = check.mapping(data, (path, 1), "rules file", {"default_level": str, "rules": list})
    if root is None:
        return [], contract.levels[-1]
    default = root.get("default_level", "")
    if isinstance(default, str) and "default_level" in root and default not in contract.levels:
        check.add(where(root, "default_level"), f"unknown level {default!r} (use {', '.join(contract.levels)})")
        default = contract.levels[-1]
    rules: list[Rule] = []
    raw: list[tuple[str, tuple[str, int]]] = []
    for index, node in enumerate(check.sequence(root.get("rules"), where(root, "rules"), "'rules'")):
        r = check.mapping(
            node,
            where(root["rules"], index),
            "rule",
            {"id": str, "level": str, "when": dict, "say": str},
            {"red_flag": bool, "points_to": list},
        )
        if r is None or not isinstance(r.get("id"), str):
            continue
        what = f"rule {r['id']!r}"
        raw.append((r["id"], where(r, "id")))
        level = r.get("level")
        if isinstance(level, str) and level not in contract.levels:
            check.add(where(r, "level"), f"{what}: unknown level {level!r} (use {', '.join(contract.levels)})")
            continue
        when = parse_condition(r.get("when"), types, check.problems, where(r, "when")) if "when" in r else None
        if when is None or not isinstance(level, str):
            continue
        red_flag = bool(r.get("red_flag", False))
        if red_flag and level != contract.levels[0]:
            check.add(
                where(r, "red_flag"),
                f"{what}: a red flag interrupts the interview, so its level must be {contract.levels[0]!r}",
            )
        points_to = _points_to(r, what, types, contract, check)
        if points_to and not red_flag:
            check.add(where(r, "points_to"), f"{what}: 'points_to' is for red flags (the causes shown first on them)")
        rules.append(
            Rule(
                id=r["id"],
                level=level,
                when=when,
                say=check.text(r, "say", what),
                red_flag=red_flag,
                points_to=points_to,
                line=where(r, "id")[1],
            )
        )
    _duplicate_ids(raw, "rule", check)
    return rules, str(default)


def _points_to(
    r: LineDict, what: str, types: Mapping[str, AnswerType], contract: Contract, check: _Checker
) -> tuple[PointsTo, ...]:
    """A red flag's ``points_to``: cause ids, or ``{cause: id, when: condition}``."""
    items = r.get("points_to")
    if not isinstance(items, LineList):
        return ()
    found: list[PointsTo] = []
    for index, item in enumerate(items):
        at = where(items, index)
        if isinstance(item, str):
            cause, when = item, None
        else:
            node = check.mapping(item, at, f"{what} points_to", {"cause": str}, {"when": dict})
            if node is None or not isinstance(node.get("cause"), str):
                continue
            cause = node["cause"]
            when = parse_condition(node["when"], types, check.problems, where(node, "when")) if "when" in node else None
            if "when" in node and when is None:
                continue
        if cause not in contract.conditions:
            check.add(at, f"{what}: points_to {cause!r} is not a condition id of the clinical contract")
            continue
        found.append(PointsTo(cause, when))
    return tuple(found)


def _load_base_rate(data: Any, path: str, check: _Checker) -> float:
    """The causes file's ``base_rate``: the chance of a yes to a sign in general."""
    if not isinstance(data, LineDict) or "base_rate" not in data:
        return 0.1  # missing: reported by the causes file's mapping check
    return _fraction(data, "base_rate", "causes file", check, 0.1)


def _load_causes(
    data: Any, path: str, types: Mapping[str, AnswerType], contract: Contract, check: _Checker
) -> list[Cause]:
    root = check.mapping(data, (path, 1), "causes file", {"causes": list, "base_rate": (int, float)})
    if root is None:
        return []
    causes: list[Cause] = []
    raw: list[tuple[str, tuple[str, int]]] = []
    for index, node in enumerate(check.sequence(root.get("causes"), where(root, "causes"), "'causes'")):
        c = check.mapping(
            node,
            where(root["causes"], index),
            "cause",
            {"id": str, "name": str, "explain": str, "evidence": list},
            {"prior": (int, float)},
        )
        if c is None or not isinstance(c.get("id"), str):
            continue
        what = f"cause {c['id']!r}"
        raw.append((c["id"], where(c, "id")))
        if c["id"] not in contract.conditions:
            check.add(where(c, "id"), f"{what} is not a condition id of the clinical contract")
        evidence: list[Evidence] = []
        items = c.get("evidence")
        for e_index, e_node in enumerate(items if isinstance(items, LineList) else []):
            e = check.mapping(e_node, where(items, e_index), f"{what} evidence", {"when": dict, "weight": (int, float)})
            if e is None or "when" not in e or not isinstance(e.get("weight"), int | float):
                continue
            when = parse_condition(e["when"], types, check.problems, where(e, "when"))
            if when is not None:
                evidence.append(Evidence(when=when, weight=float(e["weight"])))
        causes.append(
            Cause(
                id=c["id"],
                name=check.text(c, "name", what),
                explain=check.text(c, "explain", what),
                prior=float(c.get("prior", 0.0)),
                evidence=tuple(evidence),
                line=where(c, "id")[1],
            )
        )
    _duplicate_ids(raw, "cause", check)
    defined = {c.id for c in causes}
    for condition in contract.conditions:
        if condition not in defined:
            check.add((path, 1), f"the contract's condition {condition!r} has no cause entry")
    return causes


def _load_messages(data: Any, path: str, contract: Contract, check: _Checker) -> Messages:
    required: dict[str, type | tuple[type, ...]] = {key: str for key in MESSAGE_FIELDS}
    required.update({key: dict for key in MESSAGE_TABLES})
    required.update({key: list for key in MESSAGE_LISTS})
    root = check.mapping(data, (path, 1), "messages", required)
    if root is None:
        root = LineDict()
        root.path, root.line, root.key_lines = path, 1, {}
    text = {key: check.text(root, key, "messages", MESSAGE_FIELDS[key]) for key in MESSAGE_FIELDS}
    tables: dict[str, dict[str, str]] = {}
    for table, keys in (
        ("levels", contract.levels),
        ("level_names", contract.levels),
        ("level_now", contract.levels),
        ("answer_words", ANSWER_WORDS),
    ):
        node = root.get(table)
        tables[table] = {}
        if not isinstance(node, LineDict):
            continue
        check.mapping(node, where(root, table), f"messages {table!r}", {key: str for key in keys})
        tables[table] = {key: check.text(node, key, f"messages {table!r}") for key in keys}
    lists: dict[str, tuple[str, ...]] = {}
    for name in MESSAGE_LISTS:
        node = root.get(name)
        items = node if isinstance(node, LineList) else []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                check.add(where(node, index), f"messages {name!r}: item {index + 1} must be non-empty text")
        if isinstance(node, LineList) and not node:
            check.add(where(root, name), f"messages {name!r} must not be empty")
        lists[name] = tuple(str(i) for i in items)
    return Messages(
        text=text,
        levels=tables["levels"],
        level_names=tables["level_names"],
        answer_words=tables["answer_words"],
        self_care=lists["self_care"],
        precautions=lists["precautions"],
        level_now=tables["level_now"],
    )


def _satisfying(condition: Condition) -> dict[str, Value] | None:
    """Answers that make a condition hold (None if it reads no fact it can be made to hold by)."""
    if isinstance(condition, All):
        answers: dict[str, Value] = {}
        for part in condition.parts:
            more = _satisfying(part)
            if more is None:
                return None
            answers.update(more)
        return answers if condition.holds(answers) else None
    if isinstance(condition, Any_):
        return next((a for a in map(_satisfying, condition.parts) if a is not None), None)
    if isinstance(condition, Is):
        return {condition.fact: sorted(condition.values, key=str)[0]}
    bound = condition.bound
    value = {"ge": bound, "le": bound, "gt": bound + 1, "lt": max(bound - 1, 0.0)}[condition.op]
    answers = {condition.fact: value}
    return answers if condition.holds(answers) else None


def _coverage(
    questions: list[Question], rules: list[Rule], causes: list[Cause], paths: tuple[str, str], check: _Checker
) -> None:
    """Every cause can be among the three shown; every question can change something.

    A cause is reachable when answering yes (or the favoured number) to all its
    positive evidence puts it among the three best scores, or a red flag
    points to it.  A question can change something when a rule or a cause's
    evidence reads it, or its answer opens another question that can.
    """
    flow, causes_path = paths
    pointed = {target.cause for rule in rules for target in rule.points_to}
    for cause in causes:
        answers: dict[str, Value] = {}
        for evidence in cause.evidence:
            if evidence.weight > 0:
                answers.update(_satisfying(evidence.when) or {})
        scores = [
            (-(other.prior + sum(e.weight for e in other.evidence if e.when.holds(answers))), index, other.id)
            for index, other in enumerate(causes)
        ]
        shown = [cause_id for _, _, cause_id in sorted(scores)[:3]]
        if cause.id not in shown and cause.id not in pointed:
            check.add(
                (causes_path, cause.line),
                f"cause {cause.id!r} can never be among the three shown: even with every sign of it, "
                f"{', '.join(shown)} score higher",
            )
    read = {fact for rule in rules for fact in facts_of(rule.when)}
    read |= {fact for cause in causes for e in cause.evidence for fact in facts_of(e.when)}
    opens: dict[str, set[str]] = {}
    for question in questions:
        for fact in facts_of(question.ask_if) if question.ask_if is not None else ():
            opens.setdefault(fact, set()).add(question.id)
    useful = set(read)
    changed = True
    while changed:
        changed = False
        for fact, opened in opens.items():
            if fact not in useful and opened & useful:
                useful.add(fact)
                changed = True
    for question in questions:
        if question.id not in useful:
            check.add(
                (flow, question.line),
                f"question {question.id!r} can never change anything: no rule or cause reads it, "
                "and it opens no question that does",
            )


def load_content(
    directory: Path,
    contract: Contract | None = None,
    vocabularies: Collection[str] | None = None,
) -> Content:
    """Load and validate one locale's content; raise ContentError with every problem."""
    contract = contract or load_contract()
    check = _Checker()
    if not directory.is_dir():
        raise ContentError([Problem(str(directory), 0, "no such content directory")])
    files = {
        name: _read(directory, name, check) for name in ("flow.yaml", "rules.yaml", "causes.yaml", "messages.yaml")
    }
    questions, limits = _load_questions(files["flow.yaml"], str(directory / "flow.yaml"), contract, vocabularies, check)
    types = {q.id: q.type for q in questions}
    rules, default_level = _load_rules(files["rules.yaml"], str(directory / "rules.yaml"), types, contract, check)
    causes = _load_causes(files["causes.yaml"], str(directory / "causes.yaml"), types, contract, check)
    base_rate = _load_base_rate(files["causes.yaml"], str(directory / "causes.yaml"), check)
    choice = _load_choice(files["flow.yaml"], str(directory / "flow.yaml"), check)
    spoken_numbers = _load_spoken_numbers(files["flow.yaml"], check)
    messages = _load_messages(files["messages.yaml"], str(directory / "messages.yaml"), contract, check)
    if not check.problems:
        flow, causes_path = str(directory / "flow.yaml"), str(directory / "causes.yaml")
        _coverage(questions, rules, causes, (flow, causes_path), check)
    if check.problems:
        raise ContentError(check.problems)
    return Content(
        locale=directory.name,
        contract=contract,
        questions=tuple(questions),
        rules=tuple(rules),
        default_level=default_level,
        causes=tuple(causes),
        messages=messages,
        by_id={q.id: q for q in questions},
        max_questions=limits.get("max_questions", LIMITS["max_questions"]),
        max_attempts=limits.get("max_attempts", LIMITS["max_attempts"]),
        max_turns=limits.get("max_turns", LIMITS["max_turns"]),
        spoken_numbers=spoken_numbers,
        choice=choice,
        base_rate=base_rate,
    )


def structure_problems(reference: Content, other: Content, directory: Path) -> list[Problem]:
    """A translation changes words only: the flow, rules and causes must be the reference's.

    Reports every question, rule or cause of ``other`` whose logic (ids, order,
    types, conditions, levels, weights) differs from ``reference``, and every
    one that is missing, so no locale can lack a prompt or drift in meaning.
    """
    problems: list[Problem] = []
    flow, rules, causes = (str(directory / name) for name in ("flow.yaml", "rules.yaml", "causes.yaml"))
    base = f"differs from the {reference.locale!r} content (a translation may change only the words)"
    for key in LIMITS:
        if getattr(other, key) != getattr(reference, key):
            problems.append(Problem(flow, 1, f"{key} {base}"))
    if other.choice != reference.choice:
        problems.append(Problem(flow, 1, f"choice {base}"))
    if other.base_rate != reference.base_rate:
        problems.append(Problem(causes, 1, f"base_rate {base}"))
    for kind, path, mine, theirs in (
        ("question", flow, other.questions, reference.questions),
        ("rule", rules, other.rules, reference.rules),
        ("cause", causes, other.causes, reference.causes),
    ):
        ids = [item.id for item in mine]
        reference_ids = [item.id for item in theirs]
        for missing in [i for i in reference_ids if i not in ids]:
            problems.append(Problem(path, 1, f"{kind} {missing!r} of the {reference.locale!r} content is missing"))
        if [i for i in ids if i in reference_ids] != [i for i in reference_ids if i in ids]:
            problems.append(Problem(path, 1, f"the order of the {kind}s {base}"))
        by_id = {item.id: item for item in theirs}
        for item in mine:
            twin = by_id.get(item.id)
            if twin is None:
                problems.append(
                    Problem(path, item.line, f"{kind} {item.id!r} is not in the {reference.locale!r} content")
                )
            elif _logic(item) != _logic(twin):
                problems.append(Problem(path, item.line, f"{kind} {item.id!r} {base}"))
    return problems


def _logic(item: Question | Rule | Cause) -> tuple[object, ...]:
    if isinstance(item, Question):
        return (item.type, item.safety, item.ask_if, item.unit)
    if isinstance(item, Rule):
        return (item.level, item.when, item.red_flag, item.points_to)
    return (item.prior, item.evidence)


def static_texts(content: Content) -> list[str]:
    """Every sentence known before a session starts: rendered once at start-up."""
    texts: list[str] = []
    for q in content.questions:
        texts += [q.text, q.rephrase, q.help]
    messages = content.messages
    texts += [text for key, text in messages.text.items() if "{" not in text]
    texts += list(messages.levels.values()) + list(messages.self_care) + list(messages.precautions)
    texts += [rule.say for rule in content.rules]
    return list(dict.fromkeys(t for t in texts if t.strip()))


# How a number answer is said, by locale and the question's unit: (one, many).
# The content has no words for units, so they live here; other locales fall
# back to "<number> <unit>".
UNIT_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {"days": ("{n} day", "{n} days"), "weeks": ("{n} week", "{n} weeks"), "years": ("{n} year", "{n} years")},
    "ko": {"days": ("{n}일", "{n}일"), "weeks": ("{n}주", "{n}주"), "years": ("{n}세", "{n}세")},
}


def answer_words(question: Question | None, value: Value, content: Content, *, weeks: bool = False) -> str:
    """An answer as the kiosk says it: "yes", "I don't know", "6", "14 days" ("2 weeks" with ``weeks``)."""
    if isinstance(value, str):
        return content.messages.answer_words.get(value, value)
    number = round(float(value), 2)
    text = f"{number:g}"
    if question is None or question.type is not AnswerType.NUMBER:
        return text
    unit = question.unit
    if weeks and unit == "days" and number >= 14 and number % 7 == 0:
        unit, text = "weeks", f"{number / 7:g}"
        number = number / 7
    one, many = UNIT_WORDS.get(content.locale, {}).get(unit, ("{n} " + unit,) * 2)
    return (one if number == 1 else many).format(n=text)
