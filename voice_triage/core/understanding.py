"""Understand one heard (or typed) utterance as an answer or a voice command.

Pure: no I/O. All words come from the :class:`~voice_triage.grammar.Grammar`;
the code only works on token sequences, so any locale's grammar can use it.

How an utterance is read:

1. It is split into tokens and cut, left to right, into the longest phrases
   the answer type's table knows; a token no phrase starts with is unmatched.
2. If the phrases name exactly one command, that command is the result
   (whatever else was said); two different commands are not understood.
3. An unmatched negation word ("not the left") makes the utterance not
   understood; other unmatched words only make the answer uncertain.
4. Choice types (yes/no, side) need exactly one distinct answer; numeric
   types build numbers from the number phrases. Several different answers
   are a contradiction (not understood), except numbers, where the higher
   one is taken and the answer is uncertain ("between five and six" = 6).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from .contract import UNKNOWN, AnswerType, Value
from .grammar import COMMANDS, NUMERIC_TYPES, Grammar, Kind, Meaning, Table, tokenize

__all__ = ["COMMANDS", "Interpretation", "interpret"]

_DIGITS = re.compile(r"\d+(?:\.\d+)?")

# (meaning, words); meaning None = words no phrase matched.
Piece = tuple[Meaning | None, tuple[str, ...]]


@dataclass(frozen=True)
class Interpretation:
    value: Value | None  # None = not understood (or a command)
    command: str | None  # one of COMMANDS or None
    certain: bool = True  # False when hedged: the dialogue will confirm


NOT_UNDERSTOOD = Interpretation(None, None)


def segment(tokens: tuple[str, ...], table: Table, longest: int, digits: bool) -> list[Piece]:
    """Cut ``tokens`` into the longest known phrases, left to right."""
    pieces: list[Piece] = []
    start = 0
    while start < len(tokens):
        size, meaning = _longest_match(tokens, start, table, longest)
        if meaning is None and digits and _DIGITS.fullmatch(tokens[start]):
            meaning = Meaning(Kind.NUMBER, amount=Fraction(tokens[start]))
        pieces.append((meaning, tokens[start : start + size]))
        start += size
    return pieces


def _longest_match(tokens: tuple[str, ...], start: int, table: Table, longest: int) -> tuple[int, Meaning | None]:
    for size in range(min(longest, len(tokens) - start), 0, -1):
        meaning = table.get(tokens[start : start + size])
        if meaning is not None:
            return size, meaning
    return 1, None


def interpret(text: str, answer_type: AnswerType, grammar: Grammar, unit: str = "days") -> Interpretation:
    """Read ``text`` as an answer of ``answer_type`` or as a command.

    ``unit`` is the unit a number answer is wanted in (one of the grammar's
    ``wanted_units``, e.g. "days" or "years"); it is ignored for other types.
    """
    if answer_type is AnswerType.NUMBER and unit not in grammar.wanted_units:
        raise ValueError(f"unknown unit {unit!r}; the grammar knows {grammar.wanted_units}")
    digits = answer_type in NUMERIC_TYPES
    pieces = segment(tokenize(text), grammar.table(answer_type), grammar.longest, digits)
    commands = {meaning.name for meaning, _ in pieces if meaning and meaning.kind is Kind.COMMAND}
    if commands:
        return Interpretation(None, commands.pop()) if len(commands) == 1 else NOT_UNDERSTOOD
    unmatched = [word for meaning, words in pieces if meaning is None for word in words]
    if any(word in grammar.negations for word in unmatched):
        return NOT_UNDERSTOOD
    meanings = [meaning for meaning, _ in pieces if meaning is not None]
    doubt = bool(unmatched) or any(m.kind is Kind.HEDGE or not m.certain for m in meanings)
    names = {m.name for m in meanings if m.kind is Kind.VALUE}
    if answer_type in NUMERIC_TYPES:
        return _numeric(pieces, names, answer_type, grammar, unit, doubt)
    if len(names) != 1:
        return NOT_UNDERSTOOD
    return Interpretation(names.pop(), None, certain=not doubt)


# ---------------------------------------------------------------- numbers


@dataclass
class _Group:
    amount: Fraction
    unit: str | None  # None: no unit was said


class _NumberReader:
    """Builds amounts ("twenty one", "a week and a half") from pieces."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.current: Fraction | None = None
        self.place = Fraction(0)  # the last word added; decides what may join
        self.article = False  # "a"/"an" seen, waiting for a unit or multiplier
        self.after_unit = False  # a fraction now adds to the last unit
        self.skip_next = False  # "out of": the next number is the scale's top
        self.broken = False  # a unit without a number: not understood

    def read(self, pieces: list[Piece]) -> list[_Group] | None:
        for meaning, _ in pieces:
            self.take(meaning)
        self.close()
        return None if self.broken else self.groups

    def take(self, meaning: Meaning | None) -> None:
        kind = meaning.kind if meaning is not None else None
        if kind in (Kind.FILLER, Kind.JOINER):
            return
        after_unit, self.after_unit = self.after_unit, False
        if meaning is None or kind not in _STEPS:
            self.close()
            self.article = self.skip_next = False
            return
        _STEPS[meaning.kind](self, meaning, after_unit)

    def number(self, meaning: Meaning, _after_unit: bool) -> None:
        self.article = False
        if self.skip_next:
            self.skip_next = False
            return
        if self.current is not None and _can_join(self.place, meaning.amount):
            self.current += meaning.amount
        else:
            self.close()
            self.current = meaning.amount
        self.place = meaning.amount

    def multiplier(self, meaning: Meaning, _after_unit: bool) -> None:
        base = self.current if self.current is not None else Fraction(1)
        self.current = base * meaning.amount
        self.place = meaning.amount
        self.article = False

    def fraction(self, meaning: Meaning, after_unit: bool) -> None:
        self.article = False
        if self.current is not None:
            self.current += meaning.amount
        elif after_unit and self.groups:
            self.groups[-1].amount += meaning.amount
        else:
            self.current = meaning.amount
        self.place = Fraction(0)  # nothing joins "one and a half"

    def article_word(self, _meaning: Meaning, _after_unit: bool) -> None:
        self.close()
        self.article = True

    def unit(self, meaning: Meaning, _after_unit: bool) -> None:
        amount = Fraction(1) if self.article and self.current is None else self.current
        self.article = False
        self.current = None
        if amount is None:
            self.broken = True
            return
        self.groups.append(_Group(amount, meaning.name))
        self.after_unit = True

    def whole(self, meaning: Meaning, _after_unit: bool) -> None:
        self.close()
        self.groups.append(_Group(meaning.amount, meaning.name or None))

    def out_of(self, _meaning: Meaning, _after_unit: bool) -> None:
        self.close()
        self.skip_next = True

    def close(self) -> None:
        if self.current is not None:
            self.groups.append(_Group(self.current, None))
        self.current = None


_STEPS = {
    Kind.NUMBER: _NumberReader.number,
    Kind.MULTIPLIER: _NumberReader.multiplier,
    Kind.FRACTION: _NumberReader.fraction,
    Kind.ARTICLE: _NumberReader.article_word,
    Kind.UNIT: _NumberReader.unit,
    Kind.AMOUNT: _NumberReader.whole,
    Kind.OUT_OF: _NumberReader.out_of,
}


def _can_join(place: Fraction, amount: Fraction) -> bool:
    """True if ``amount`` fills the trailing zeros of ``place`` (20 + 1, 100 + 5)."""
    if place.denominator != 1 or amount.denominator != 1 or place <= 0 or amount <= 0:
        return False
    digits = str(place.numerator)
    limit: int = 10 ** (len(digits) - len(digits.rstrip("0")))
    return amount < limit


def _numeric(
    pieces: list[Piece], names: set[str], answer_type: AnswerType, grammar: Grammar, unit: str, doubt: bool
) -> Interpretation:
    groups = _NumberReader().read(pieces)
    if groups is None or (names and groups) or len(names) > 1:
        return NOT_UNDERSTOOD
    if names:
        return Interpretation(UNKNOWN, None, certain=not doubt)
    if not groups:
        return NOT_UNDERSTOOD
    amounts, summed = _in_unit(groups, grammar, unit)
    best = max(amounts)
    doubt = doubt or (len(set(amounts)) > 1 and not summed)
    if answer_type is AnswerType.SCALE_0_10:
        return _scale(best, doubt)
    return Interpretation(_plain(best), None, certain=not doubt)


def _in_unit(groups: list[_Group], grammar: Grammar, unit: str) -> tuple[list[Fraction], bool]:
    """Amounts in the wanted ``unit``; True if they were summed into one."""
    if not grammar.units:
        return [group.amount for group in groups], False
    units = [group.unit for group in groups]
    sizes = [grammar.units[name].sizes[unit] if name else None for name in units]
    known = [size for size in sizes if size is not None]
    if len(groups) > 1 and len(known) == len(groups) and all(a > b for a, b in pairwise(known)):
        total = sum((g.amount * s for g, s in zip(groups, known, strict=True)), Fraction(0))
        return [total], True  # "a week and two days"
    filled = [_nearest_size(sizes, index) for index in range(len(sizes))]
    return [group.amount * size for group, size in zip(groups, filled, strict=True)], False


def _nearest_size(sizes: list[Fraction | None], index: int) -> Fraction:
    """A bare number takes the next unit said ("two or three weeks"), else the one before, else 1."""
    for size in sizes[index:] + sizes[index::-1]:
        if size is not None:
            return size
    return Fraction(1)


def _scale(best: Fraction, doubt: bool) -> Interpretation:
    value = math.ceil(best)  # "five and a half" -> 6: never lower urgency
    if not 0 <= value <= 10:
        return NOT_UNDERSTOOD
    return Interpretation(value, None, certain=not doubt and value == best)


def _plain(amount: Fraction) -> int | float:
    return int(amount) if amount.denominator == 1 else float(amount)
