"""Answer vocabularies and voice commands, loaded from ``grammar/<locale>/``.

These files are the single source for both the text parser
(:mod:`voice_triage.understanding`) and the vosk recogniser grammars, so every
phrase the parser accepts is listed by :meth:`Grammar.phrases`.

Three files make up a locale:

* ``commands.yaml``: command name -> phrases, one entry per :data:`COMMANDS`;
* ``answers.yaml``: one section per answer type (``values``, ``hedged``,
  ``degrees`` for yes/no, ``hedges``, ``fillers``, ``examples``, and
  ``out_of`` for the pain scale)
  plus lists shared by every type (``unknown``, ``hedges``, ``fillers``,
  ``negations``);
* ``numbers.yaml``: number words, multipliers, fractions, articles, joiners,
  range words, duration units and whole duration phrases (used by the
  ``scale_0_10`` and ``number`` types; units and durations by ``number`` only).

Every phrase is written the way the recogniser hears it: lower-case words
separated by single spaces. Within one answer type a phrase may have one
meaning only; a phrase that is a command may not also be an answer, hedge or
filler anywhere (commands are matched anywhere in an utterance, so an overlap
would silently swallow the answer). All problems are collected and raised
together as one :class:`ContentError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

from .contract import CHOICES, UNKNOWN, AnswerType
from .yamlload import ContentError, LineDict, LineList, Problem, load_file, where

COMMANDS = ("repeat", "back", "help", "start_over", "stop", "slower", "louder")

NUMERIC_TYPES = (AnswerType.SCALE_0_10, AnswerType.NUMBER)
# Commands not listened for while a number is asked: short numbers sound like them to a speech
# model (the Korean model heard 삼 as 처음부터), and a number is answered again more easily than
# the answers got back.  They still work by touch, key, or at the next yes/no question.
NOT_DURING_NUMBERS = ("start_over", "back")

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+(?:'[^\W\d_]+)*")
_OUT_OF_DIGITS = re.compile(r"(\d)\s*/\s*\d+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def words(text: str) -> tuple[str, ...]:
    """Lower-case words and digit groups, as written; "7/10" keeps only the 7."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return tuple(_TOKEN.findall(_OUT_OF_DIGITS.sub(r"\1", text)))


def tokenize(text: str) -> tuple[str, ...]:
    """The units phrases are matched in: words without apostrophes, and each Hangul syllable on its own.

    Matching is thereby blind to what people and recognisers spell
    differently: "dont" is "don't", and Korean spacing does not matter
    ("아니에요", "아니 에요" and the recogniser's "아니 에 요" are the same).
    """
    tokens: list[str] = []
    for word in words(text):
        word = word.replace("'", "")
        if _HANGUL.search(word):
            tokens.extend(word)
        else:
            tokens.append(word)
    return tuple(tokens)


class Kind(Enum):
    VALUE = "value"  # an answer: yes/no/left/right/both/unknown
    HEDGE = "hedge"  # makes the answer uncertain
    FILLER = "filler"  # ignored
    COMMAND = "command"
    NUMBER = "number"  # adds up: "twenty" "one"
    MULTIPLIER = "multiplier"  # "hundred"
    FRACTION = "fraction"  # "and a half"
    ARTICLE = "article"  # "a": one before a unit or multiplier, else ignored
    JOINER = "joiner"  # "and" inside a number
    OUT_OF = "out_of"  # the number after it is the top of the scale
    UNIT = "unit"  # "weeks"
    AMOUNT = "amount"  # a whole amount: "no pain" = 0, "since yesterday" = 1 day
    NEGATION = "negation"  # "not", 안: outside a longer phrase, it negates (a symptom, the side after it)
    NEGATION_AFTER = "negation_after"  # Korean 말고: negates the side named before it
    SETTLED = "settled"  # "fine", 괜찮아요: all is well (a symptom restated as fine is a no)
    BREAK = "break"  # "but", 는데: a negation or "fine" beyond it is about something else
    COMPARATIVE = "comparative"  # "more than", 보다: with both sides named, the first named is the answer
    TOPIC = "topic"  # a question's key words: "a fever" restates the symptom (a yes), "I can stand" denies it


@dataclass(frozen=True)
class Meaning:
    kind: Kind
    name: str = ""  # answer value, command or unit name
    amount: Fraction = Fraction(0)
    certain: bool = True
    answer_type: AnswerType | None = field(default=None, compare=False)
    alone: bool = False  # a command that counts only as the whole reply ("what?", "huh")
    part: bool = False  # a piece of a reply, found anywhere by the parser (모르 in 모르겠는데요), never heard alone
    # how much or how often ("a little", 가끔요): a yes to a question about a symptom, but no reply to
    # "is that right?" or "is it 7 or more?" (listened for there as a decoy, and asked again)
    degree: bool = False

    def describe(self) -> str:
        """Human wording for error messages."""
        scope = f" for {self.answer_type.value}" if self.answer_type else ""
        if self.kind is Kind.VALUE:
            doubt = "" if self.certain else "uncertain "
            how = " said as how much or how often" if self.degree else ""
            return f"the {doubt}answer {self.name!r}{how}{scope}"
        if self.kind is Kind.COMMAND:
            return f"the command {self.name!r}"
        if self.kind in (Kind.NUMBER, Kind.MULTIPLIER, Kind.FRACTION):
            return f"the {self.kind.value} {self.amount}"
        if self.kind is Kind.UNIT:
            return f"the unit {self.name!r}"
        if self.kind is Kind.AMOUNT:
            unit = f" {self.name}" if self.name else ""
            return f"the amount {self.amount}{unit}{scope}"
        article = "an" if self.kind.value[0] in "aeiou" else "a"
        return f"{article} {self.kind.value.replace('_', ' ')}{scope}"


@dataclass(frozen=True)
class Unit:
    """A duration unit; ``sizes`` says how many of each wanted unit one is."""

    name: str
    sizes: dict[str, Fraction]


Table = dict[tuple[str, ...], Meaning]

# What the recogniser listens for (see Grammar.recogniser_phrases): whole replies and number parts.
HEARD_KINDS = frozenset(
    {
        Kind.VALUE,
        Kind.COMMAND,
        Kind.NUMBER,
        Kind.MULTIPLIER,
        Kind.FRACTION,
        Kind.ARTICLE,
        Kind.JOINER,
        Kind.OUT_OF,
        Kind.UNIT,
        Kind.AMOUNT,
    }
)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: loaded once, then cached against
class Grammar:
    directory: Path
    tables: dict[AnswerType, Table]
    negations: frozenset[tuple[str, ...]]  # token sequences that, outside a phrase, mean "not"
    spellings: dict[AnswerType, dict[str, Meaning]]  # every phrase as written, with its meaning
    commands: dict[str, tuple[str, ...]]
    units: dict[str, Unit]
    example_lists: dict[AnswerType, dict[str, tuple[str, ...]]]
    wanted_units: tuple[str, ...]

    def table(self, answer_type: AnswerType) -> Table:
        return self.tables[answer_type]

    def phrases(self, answer_type: AnswerType) -> list[str]:
        """Every phrase that may be heard for ``answer_type``, as written (the vosk grammar's source)."""
        return sorted(set(self.spellings[answer_type]) | self.negation_spellings)

    def recogniser_phrases(
        self, answer_type: AnswerType, extra: Iterable[str] = (), spell: Callable[[str], str | None] = str
    ) -> list[str]:
        """The phrases the recogniser listens for, in its own words (``spell``; None: it cannot say it).

        Whole replies only (answers, "I don't know", commands, the question's
        own key words in ``extra``) and the parts numbers are built from:
        vosk makes a bigram of the phrases, so every filler, hedge or
        fragment listed on its own would be a word it could slip in anywhere
        (the Korean model heard 잘 모르겠어요 as "저 을 겠어요" once 저 and
        the pieces of "I don't know" were phrases of their own).  The parser
        still knows them all.
        """
        written = [
            phrase
            for phrase, meaning in self.spellings[answer_type].items()
            if meaning.kind in HEARD_KINDS
            and not meaning.part
            and not (answer_type in NUMERIC_TYPES and meaning.name in NOT_DURING_NUMBERS)
        ]
        written += [*extra, *self.number_sentences(answer_type)]
        return sorted({s for phrase in written if (s := spell(phrase)) is not None})

    def number_sentences(self, answer_type: AnswerType, top: int = 99) -> list[str]:
        """Numbers as the recogniser should expect them said: 0 to ``top`` (the pain scale: 10), after
        them each unit ("삼 주"), and after the units, and after numbers on the pain scale, the words
        said with them ("정도요", "점이요").  vosk makes a bigram of its phrases, so it is the word
        pairs that count: "삼 주" and "주 정도" let it hear "삼 주 정도"."""
        if answer_type not in NUMERIC_TYPES:
            return []
        table = self.spellings[answer_type]
        words: dict[Fraction, list[str]] = {}
        for phrase, meaning in table.items():
            if meaning.kind is Kind.NUMBER:
                words.setdefault(meaning.amount, []).append(phrase)
        top = 10 if answer_type is AnswerType.SCALE_0_10 else top
        numbers: list[str] = []
        for n in range(top + 1):
            numbers += words.get(Fraction(n), [])
            tens, ones = n - n % 10, n % 10
            if tens and ones:
                numbers += [f"{t} {o}" for t in words.get(Fraction(tens), []) for o in words.get(Fraction(ones), [])]
        own = [p for p, m in table.items() if m.kind is Kind.FILLER and m.answer_type is answer_type]
        units = [p for p, m in table.items() if m.kind is Kind.UNIT]
        amounts = [p for p, m in table.items() if m.kind is Kind.AMOUNT]  # "어제", "a fortnight": said alone
        last = {phrase.split()[-1] for phrase in numbers}
        sentences = list(numbers)
        if answer_type is AnswerType.NUMBER:
            sentences += [f"{n} {u}" for n in numbers for u in units]
            sentences += [f"{u.split()[-1]} {f}" for u in [*units, *amounts] for f in own]
        else:
            sentences += [f"{n} {f}" for n in last for f in own]
        return sentences

    negation_spellings: frozenset[str] = frozenset()
    # Korean endings that may follow an answer inside one word (왼쪽이, 네요); anything else there
    # means the answer word is part of another word (있어도 is not 있어).
    particles: frozenset[tuple[str, ...]] = frozenset()

    def command_phrases(self) -> dict[str, list[str]]:
        return {name: list(phrases) for name, phrases in self.commands.items()}

    def examples(self, answer_type: AnswerType, unit: str = "days") -> list[str]:
        """A few answers to offer in help; ``unit`` picks the number examples."""
        lists = self.example_lists[answer_type]
        return list(lists.get(unit if answer_type is AnswerType.NUMBER else "", ()))

    @functools.cached_property
    def longest(self) -> int:
        """Words in the longest phrase of any type."""
        return max((len(key) for table in self.tables.values() for key in table), default=1)


# ---------------------------------------------------------------- reading


class _Reader:
    """Collects problems while reading YAML nodes."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def report(self, node: Any, key: str | int | None, message: str) -> None:
        self.problems.append(Problem(*where(node, key), message))

    def load(self, path: Path) -> LineDict | None:
        try:
            data = load_file(path)
        except ContentError as exc:
            self.problems.extend(exc.problems)
            return None
        if not isinstance(data, LineDict):
            self.problems.append(Problem(str(path), 1, "expected a mapping"))
            return None
        return data

    def check_keys(
        self, node: LineDict, allowed: Iterable[str], required: Iterable[str], owner: tuple[LineDict, str] | None = None
    ) -> None:
        """Report unknown and missing keys; a missing key is reported on the
        line of ``owner`` (parent mapping, key) if given, else where ``node`` starts."""
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                self.report(node, key, f"unknown key {key!r} (expected one of: {', '.join(allowed)})")
        parent, name = owner if owner else (node, None)
        for key in required:
            if key not in node:
                self.report(parent, name, f"missing key {key!r}")

    def mapping(self, node: LineDict, key: str) -> LineDict | None:
        if key not in node:
            return None
        value = node[key]
        if not isinstance(value, LineDict):
            self.report(node, key, f"{key!r} must be a mapping")
            return None
        return value

    def phrases(self, node: LineDict, key: str) -> list[tuple[str, int]]:
        """The phrases under ``key`` with their lines (missing key: none)."""
        if key not in node:
            return []
        items = node[key]
        if not isinstance(items, LineList):
            self.report(node, key, f"{key!r} must be a list of phrases")
            return []
        result = []
        for index, item in enumerate(items):
            if self.check_phrase(items, index, item):
                result.append((item, items.line_of(index)))
        return result

    def check_phrase(self, node: Any, key: str | int, item: Any) -> bool:
        if not isinstance(item, str):
            self.report(node, key, f"a phrase must be text, not {item!r}")
            return False
        normal = " ".join(words(item))
        if not normal:
            self.report(node, key, f"phrase {item!r} has no words")
            return False
        if normal != item:
            self.report(node, key, f"write phrase {item!r} as {normal!r} (lower case, single spaces, no punctuation)")
            return False
        return True

    def amount(self, node: Any, key: str | int, value: Any) -> Fraction | None:
        """A non-negative number: 7, 0.5 or "1/12"."""
        try:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            result = Fraction(str(value))
        except (ValueError, ZeroDivisionError):
            self.report(node, key, f"{value!r} is not a number like 7, 0.5 or 1/12")
            return None
        if result < 0:
            self.report(node, key, f"{value!r} must not be negative")
            return None
        return result


class _Tables:
    """Per-type phrase tables that refuse a second meaning for a phrase."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.tables: dict[AnswerType, Table] = {kind: {} for kind in AnswerType}
        self.origins: dict[AnswerType, dict[tuple[str, ...], tuple[str, int]]] = {kind: {} for kind in AnswerType}
        self.spellings: dict[AnswerType, dict[str, Meaning]] = {kind: {} for kind in AnswerType}

    def add(
        self, phrase: str, meaning: Meaning, path: str, line: int, types: Iterable[AnswerType], weak: bool = False
    ) -> None:
        """Add a phrase; a ``weak`` one gives way, silently, to a phrase already there."""
        key = tokenize(phrase)
        for answer_type in types:
            old = self.tables[answer_type].get(key)
            if weak and old is not None:
                continue
            if old is None:
                self.tables[answer_type][key] = meaning
                self.origins[answer_type][key] = (path, line)
                self.spellings[answer_type][phrase] = meaning
            elif old == meaning:
                self.spellings[answer_type][phrase] = meaning  # another spelling of the same phrase
            else:
                self._conflict(phrase, meaning, old, self.origins[answer_type][key], path, line)

    def _conflict(self, phrase: str, new: Meaning, old: Meaning, origin: tuple[str, int], path: str, line: int) -> None:
        old_path, old_line = origin
        at = f"line {old_line}" if old_path == path else f"{old_path}:{old_line}"
        message = f"phrase {phrase!r} is {new.describe()} but also {old.describe()} ({at})"
        if Kind.COMMAND in (new.kind, old.kind):
            message += "; a command phrase cannot be an answer too"
        self.reader.problems.append(Problem(path, line, message))


ALL_TYPES = tuple(AnswerType)

_TYPE_KEYS: dict[AnswerType, tuple[str, ...]] = {
    AnswerType.YES_NO: ("values", "degrees", "hedged", "unheard", "hedges", "fillers", "examples"),
    AnswerType.SIDE: ("values", "hedged", "unheard", "hedges", "fillers", "comparatives", "examples"),
    AnswerType.SCALE_0_10: ("values", "out_of", "hedges", "fillers", "examples"),
    AnswerType.NUMBER: ("hedges", "fillers", "examples"),
}
_SHARED_KEYS = ("unknown", "hedges", "fillers", "negations")
_OPTIONAL_SHARED_KEYS = ("unknown_parts", "negations_after", "settled", "breaks", "particles")
_NUMBER_KEYS = ("words", "multipliers", "fractions", "articles", "joiners", "hedges", "units", "durations")


def _read_commands(reader: _Reader, data: LineDict, tables: _Tables) -> dict[str, tuple[str, ...]]:
    reader.check_keys(data, (*COMMANDS, "alone", "parts"), COMMANDS)
    result: dict[str, tuple[str, ...]] = {}
    for name in COMMANDS:
        found = reader.phrases(data, name)
        if name in data and not found:
            reader.report(data, name, f"command {name!r} needs at least one phrase")
        for phrase, line in found:
            tables.add(phrase, Meaning(Kind.COMMAND, name), data.path, line, ALL_TYPES)
        result[name] = tuple(phrase for phrase, _ in found)
    # "alone": a command only when said on its own; "parts": found anywhere by the parser, not heard alone
    for key in ("alone", "parts"):
        node = reader.mapping(data, key)
        if node is None:
            continue
        reader.check_keys(node, COMMANDS, ())
        for name in node:
            meaning = Meaning(Kind.COMMAND, name, alone=key == "alone", part=key == "parts")
            for phrase, line in reader.phrases(node, name):
                tables.add(phrase, meaning, node.path, line, ALL_TYPES)
    return result


def _add_list(
    reader: _Reader, tables: _Tables, node: LineDict, key: str, meaning: Meaning, types: Iterable[AnswerType]
) -> None:
    types = tuple(types)
    for phrase, line in reader.phrases(node, key):
        tables.add(phrase, meaning, node.path, line, types)


def _read_amount_words(reader: _Reader, tables: _Tables, data: LineDict, key: str, kind: Kind) -> None:
    words = reader.mapping(data, key)
    if words is None:
        return
    for phrase, raw in words.items():
        amount = reader.amount(words, phrase, raw)
        if reader.check_phrase(words, phrase, phrase) and amount is not None:
            tables.add(phrase, Meaning(kind, amount=amount), words.path, words.line_of(phrase), NUMERIC_TYPES)


def _read_units(reader: _Reader, tables: _Tables, data: LineDict) -> dict[str, Unit]:
    node = reader.mapping(data, "units")
    if node is None:
        return {}
    units: dict[str, Unit] = {}
    wanted: tuple[str, ...] | None = None
    for name, spec in node.items():
        if not isinstance(spec, LineDict):
            reader.report(node, name, f"unit {name!r} must be a mapping with 'phrases' and 'size'")
            continue
        reader.check_keys(spec, ("phrases", "size"), ("phrases", "size"), (node, name))
        _add_list(reader, tables, spec, "phrases", Meaning(Kind.UNIT, name), (AnswerType.NUMBER,))
        sizes = _read_sizes(reader, spec)
        if sizes is None:
            continue
        if wanted is None:
            wanted = tuple(sizes)
        elif tuple(sizes) != wanted:
            reader.report(spec, "size", f"unit {name!r} must give sizes for exactly: {', '.join(wanted)}")
        units[name] = Unit(name, sizes)
    return units


def _read_sizes(reader: _Reader, spec: LineDict) -> dict[str, Fraction] | None:
    node = reader.mapping(spec, "size")
    if node is None:
        return None
    sizes = {wanted: reader.amount(node, wanted, raw) for wanted, raw in node.items()}
    valid = {wanted: amount for wanted, amount in sizes.items() if amount is not None}
    return valid if len(valid) == len(sizes) else None


def _read_durations(reader: _Reader, tables: _Tables, data: LineDict, units: dict[str, Unit]) -> None:
    if "durations" not in data:
        return
    items = data["durations"]
    if not isinstance(items, LineList):
        reader.report(data, "durations", "'durations' must be a list of {phrases, amount, unit}")
        return
    for index, spec in enumerate(items):
        if not isinstance(spec, LineDict):
            reader.report(items, index, "a duration must be a mapping with 'phrases', 'amount' and 'unit'")
            continue
        reader.check_keys(spec, ("phrases", "amount", "unit"), ("phrases", "amount", "unit"))
        amount = reader.amount(spec, "amount", spec.get("amount", 0))
        unit = spec.get("unit")
        if "unit" in spec and unit not in units:
            reader.report(spec, "unit", f"unknown unit {unit!r} (expected one of: {', '.join(units)})")
            continue
        if amount is not None and isinstance(unit, str):
            meaning = Meaning(Kind.AMOUNT, unit, amount, answer_type=AnswerType.NUMBER)
            _add_list(reader, tables, spec, "phrases", meaning, (AnswerType.NUMBER,))


def _read_numbers(reader: _Reader, data: LineDict, tables: _Tables) -> dict[str, Unit]:
    reader.check_keys(data, _NUMBER_KEYS, ("words", "units"))
    _read_amount_words(reader, tables, data, "words", Kind.NUMBER)
    _read_amount_words(reader, tables, data, "multipliers", Kind.MULTIPLIER)
    _read_amount_words(reader, tables, data, "fractions", Kind.FRACTION)
    _add_list(reader, tables, data, "articles", Meaning(Kind.ARTICLE), NUMERIC_TYPES)
    _add_list(reader, tables, data, "joiners", Meaning(Kind.JOINER), NUMERIC_TYPES)
    _add_list(reader, tables, data, "hedges", Meaning(Kind.HEDGE), NUMERIC_TYPES)
    units = _read_units(reader, tables, data)
    _read_durations(reader, tables, data, units)
    return units


def _read_values(reader: _Reader, tables: _Tables, section: LineDict, key: str, answer_type: AnswerType) -> None:
    node = reader.mapping(section, key)
    if node is None:
        return
    certain = key in ("values", "degrees", "unheard")
    if answer_type in CHOICES:
        choices = CHOICES[answer_type]
        reader.check_keys(node, choices, choices if key == "values" else (), (section, key))
    for name in node:
        meaning = _value_meaning(reader, node, name, answer_type, certain)
        if meaning is not None and key == "unheard":
            # understood when typed or inside a reply, never listened for: the speech model hears other
            # replies as it (전혀요: 있어요 was heard as "이 전혀 요")
            meaning = replace(meaning, part=True)
        if meaning is not None and key == "degrees":
            meaning = replace(meaning, degree=True)
        if meaning is not None:
            _add_list(reader, tables, node, name, meaning, (answer_type,))


def _value_meaning(
    reader: _Reader, node: LineDict, name: str, answer_type: AnswerType, certain: bool
) -> Meaning | None:
    if answer_type in CHOICES:
        if name not in CHOICES[answer_type]:
            return None  # reported by check_keys
        return Meaning(Kind.VALUE, name, certain=certain, answer_type=answer_type)
    if not name.isdigit() or not 0 <= int(name) <= 10:
        reader.report(node, name, f"scale value {name!r} must be a whole number from 0 to 10")
        return None
    return Meaning(Kind.AMOUNT, amount=Fraction(int(name)), certain=certain, answer_type=answer_type)


def _read_examples(
    reader: _Reader, section: LineDict, answer_type: AnswerType, wanted: tuple[str, ...] | None
) -> dict[str, tuple[str, ...]]:
    if answer_type is not AnswerType.NUMBER:
        return {"": tuple(phrase for phrase, _ in reader.phrases(section, "examples"))}
    node = reader.mapping(section, "examples")
    if node is None:
        return {}
    if wanted is None:  # numbers.yaml is broken: its problems are reported already
        wanted = tuple(node)
    reader.check_keys(node, wanted, wanted, (section, "examples"))
    return {unit: tuple(phrase for phrase, _ in reader.phrases(node, unit)) for unit in node if unit in wanted}


def _read_type(
    reader: _Reader, tables: _Tables, data: LineDict, answer_type: AnswerType, wanted: tuple[str, ...] | None
) -> dict[str, tuple[str, ...]]:
    section = reader.mapping(data, answer_type.value)
    if section is None:
        return {}
    allowed = _TYPE_KEYS[answer_type]
    required = ("values", "examples") if answer_type in CHOICES else ("examples",)
    reader.check_keys(section, allowed, required, (data, answer_type.value))
    for key in ("values", "degrees", "hedged", "unheard"):
        if key in allowed:
            _read_values(reader, tables, section, key, answer_type)
    _add_list(reader, tables, section, "hedges", Meaning(Kind.HEDGE, answer_type=answer_type), (answer_type,))
    _add_list(reader, tables, section, "fillers", Meaning(Kind.FILLER, answer_type=answer_type), (answer_type,))
    _add_list(reader, tables, section, "out_of", Meaning(Kind.OUT_OF), (answer_type,))
    _add_list(reader, tables, section, "comparatives", Meaning(Kind.COMPARATIVE), (answer_type,))
    return _read_examples(reader, section, answer_type, wanted)


def _read_answers(
    reader: _Reader, data: LineDict, tables: _Tables, wanted: tuple[str, ...] | None
) -> tuple[dict[AnswerType, dict[str, tuple[str, ...]]], frozenset[str], frozenset[tuple[str, ...]]]:
    type_keys = tuple(kind.value for kind in AnswerType)
    reader.check_keys(data, type_keys + _SHARED_KEYS + _OPTIONAL_SHARED_KEYS, type_keys + _SHARED_KEYS)
    examples = {kind: _read_type(reader, tables, data, kind, wanted) for kind in AnswerType}
    _add_list(reader, tables, data, "unknown", Meaning(Kind.VALUE, UNKNOWN), ALL_TYPES)
    _add_list(reader, tables, data, "unknown_parts", Meaning(Kind.VALUE, UNKNOWN, part=True), ALL_TYPES)
    _add_list(reader, tables, data, "hedges", Meaning(Kind.HEDGE), ALL_TYPES)
    _add_list(reader, tables, data, "fillers", Meaning(Kind.FILLER), ALL_TYPES)
    negations = reader.phrases(data, "negations")
    # after every answer: "아니" stays the answer "no" where it is one
    for key, kind in (
        ("negations", Kind.NEGATION),
        ("negations_after", Kind.NEGATION_AFTER),
        ("settled", Kind.SETTLED),
        ("breaks", Kind.BREAK),
    ):
        for phrase, line in reader.phrases(data, key):
            tables.add(phrase, Meaning(kind), data.path, line, ALL_TYPES, weak=True)
    particles = frozenset(tokenize(phrase) for phrase, _ in reader.phrases(data, "particles"))
    return examples, frozenset(phrase for phrase, _ in negations), particles


def load_grammar(directory: Path) -> Grammar:
    """Load and fully validate ``directory`` (e.g. ``grammar/en``)."""
    reader = _Reader()
    tables = _Tables(reader)
    commands: dict[str, tuple[str, ...]] = {}
    units: dict[str, Unit] = {}
    examples: dict[AnswerType, dict[str, tuple[str, ...]]] = {kind: {} for kind in AnswerType}
    negations: frozenset[str] = frozenset()  # as written
    particles: frozenset[tuple[str, ...]] = frozenset()
    if (data := reader.load(directory / "commands.yaml")) is not None:
        commands = _read_commands(reader, data, tables)
    if (data := reader.load(directory / "numbers.yaml")) is not None:
        units = _read_numbers(reader, data, tables)
    wanted = tuple(next(iter(units.values())).sizes) if units else None
    if (data := reader.load(directory / "answers.yaml")) is not None:
        examples, negations, particles = _read_answers(reader, data, tables, wanted)
    if reader.problems:
        raise ContentError(reader.problems)
    return Grammar(
        directory,
        tables.tables,
        frozenset(tokenize(phrase) for phrase in negations),
        {kind: dict(spellings) for kind, spellings in tables.spellings.items()},
        commands,
        units,
        examples,
        wanted or (),
        negation_spellings=negations,
        particles=particles,
    )
