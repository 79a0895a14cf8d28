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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from .contract import UNKNOWN, AnswerType, Value
from .grammar import COMMANDS, NUMERIC_TYPES, Grammar, Kind, Meaning, Table, tokenize, words

__all__ = ["COMMANDS", "Interpretation", "interpret"]

_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
_LATIN_WORD = re.compile(r"[a-z]+")

# (meaning, words); meaning None = words no phrase matched.
Piece = tuple[Meaning | None, tuple[str, ...]]


@dataclass(frozen=True)
class Interpretation:
    value: Value | None  # None = not understood (or a command)
    command: str | None  # one of COMMANDS or None
    certain: bool = True  # False when hedged: the dialogue will confirm


NOT_UNDERSTOOD = Interpretation(None, None)


def word_starts(text: str) -> frozenset[int]:
    """Which tokens of ``tokenize(text)`` begin a written (or recognised) word."""
    starts: set[int] = set()
    position = 0
    for word in words(text):
        starts.add(position)
        position += len(tokenize(word))
    return frozenset(starts)


def segment(
    tokens: tuple[str, ...],
    table: Table,
    longest: int,
    digits: bool,
    topic: Table | None = None,
    starts: frozenset[int] | None = None,
    particles: frozenset[tuple[str, ...]] = frozenset(),
) -> list[Piece]:
    """Cut ``tokens`` into the longest known phrases.

    Some phrases are found wherever they are, before the rest is cut left to
    right, so that a shorter phrase starting earlier cannot hide them: "I
    don't know" in any words ("i can't recall"; but not inside a longer
    filler), then, in one pass where the longer phrase wins, voice commands
    ("i didn't catch that" is not "i didn't" + ...) and the question's own
    key words ("i can't stand on it" restates "cannot bear weight"; "go
    back" is a command even to the back-pain question).  With ``starts`` (the
    tokens that begin a word), a Korean answer matches only as a word of its
    own, or followed by ``particles`` (왼쪽이): the 네 in 없네요 is not "yes",
    nor the 있어 in 있어도.
    """

    def fits(meaning: Meaning, start: int, size: int) -> bool:
        """A Korean answer or key word stands as a word of its own (a one-syllable one with particles only)."""
        if meaning.kind not in (Kind.VALUE, Kind.TOPIC) or (meaning.kind is Kind.VALUE and meaning.name == UNKNOWN):
            return True
        if meaning.kind is Kind.TOPIC and size > 1:  # 뻣뻣 in 뻣뻣하진, 사고 in 교통사고: a key word is a stem
            return True
        return _whole_word(tokens, start, size, starts, particles)

    found: dict[int, tuple[int, Meaning]] = {}
    taken = [False] * len(tokens)
    # Key words and commands in one pass, so that the longer wins where they overlap: "잘 못
    # 들었어요" is "repeat", not the key word 못; "천천히 생겼어요" the key word, not "slower".
    spoken = {key: m for key, m in table.items() if m.kind is Kind.COMMAND and not m.alone}
    spoken.update(topic or {})  # a key word that is also a command is the key word
    for lookup, wanted in (
        (table, lambda m: m.kind is Kind.VALUE and m.name == UNKNOWN),
        (spoken, lambda m: True),
    ):
        start = 0
        while start < len(tokens):
            size, meaning = _longest_match(tokens, start, lookup, longest, wanted, fits)
            if lookup is table and meaning is not None and _hidden_by_filler(tokens, start, size, table, longest):
                meaning = None  # 모르게 ("without meaning to") is a filler, not 모르 ("don't know")
            if meaning is not None and not any(taken[start : start + size]):
                found[start] = (size, meaning)
                for i in range(start, start + size):
                    taken[i] = True
                start += size
            else:
                start += 1
    pieces: list[Piece] = []
    start = 0
    while start < len(tokens):
        if start in found:
            size, overlay = found[start]
            pieces.append((overlay, tokens[start : start + size]))
            start += size
            continue
        limit = next((i for i in range(start, len(tokens)) if taken[i]), len(tokens))
        size, meaning = _longest_match(tokens[:limit], start, table, longest, None, fits)
        if meaning is None and digits and _DIGITS.fullmatch(tokens[start]):
            meaning = Meaning(Kind.NUMBER, amount=Fraction(tokens[start]))
        pieces.append((meaning, tokens[start : start + size]))
        start += size
    return pieces


def _hidden_by_filler(tokens: tuple[str, ...], start: int, size: int, table: Table, longest: int) -> bool:
    """Is a longer filler said where "I don't know" starts (나도 모르게 소변이 새요: without meaning to)?"""
    longer, meaning = _longest_match(tokens, start, table, longest, lambda m: m.kind is Kind.FILLER)
    return meaning is not None and longer > size


def _whole_word(
    tokens: tuple[str, ...],
    start: int,
    size: int,
    starts: frozenset[int] | None,
    particles: frozenset[tuple[str, ...]],
) -> bool:
    """Is this Korean answer a word of its own (or one with particles after it)?  Other scripts: always."""
    if starts is None or not _HANGUL_SYLLABLE.fullmatch(tokens[start]):
        return True
    if start not in starts:
        return False
    end = start + size
    rest: list[str] = []
    while end < len(tokens) and end not in starts:
        rest.append(tokens[end])
        end += 1
    while rest:  # the rest of the word: particles only, longest first
        for n in range(len(rest), 0, -1):
            if tuple(rest[:n]) in particles:
                rest = rest[n:]
                break
        else:
            return False
    return True


def _longest_match(
    tokens: tuple[str, ...],
    start: int,
    table: Table,
    longest: int,
    wanted: Callable[[Meaning], bool] | None = None,
    fits: Callable[[Meaning, int, int], bool] | None = None,
) -> tuple[int, Meaning | None]:
    """The longest phrase at ``start`` that is ``wanted`` and ``fits`` there (else a shorter one)."""
    for size in range(min(longest, len(tokens) - start), 0, -1):
        meaning = table.get(tokens[start : start + size])
        if meaning is None or (wanted is not None and not wanted(meaning)):
            continue
        if fits is None or fits(meaning, start, size):
            return size, meaning
    return 1, None


def topic_table(keywords: Iterable[str], denials: Iterable[str] = ()) -> Table:
    """A question's key words as a phrase table: each restates ("yes") or denies ("no") the symptom."""
    table: Table = {}
    for phrases, said in ((keywords, "yes"), (denials, "no")):
        for phrase in phrases:
            key = tokenize(phrase)
            table[key] = Meaning(Kind.TOPIC, said)
            if _LATIN_WORD.fullmatch(key[-1]):  # "my back's fine", "my temperature's been normal", "fevers"
                table.setdefault((*key[:-1], key[-1] + "s"), Meaning(Kind.TOPIC, said))
    return table


def interpret(
    text: str,
    answer_type: AnswerType,
    grammar: Grammar,
    unit: str = "days",
    keywords: Iterable[str] = (),
    denials: Iterable[str] = (),
) -> Interpretation:
    """Read ``text`` as an answer of ``answer_type`` or as a command.

    ``unit`` is the unit a number answer is wanted in (one of the grammar's
    ``wanted_units``, e.g. "days" or "years"); it is ignored for other types.
    ``keywords`` and ``denials`` are the question's own words (yes/no
    questions): with no yes or no said, a restated symptom ("I've been
    running a temperature") is a yes, and a negated one ("not a fever"), one
    said to be fine ("my back is fine") or a denial ("I can stand") a no.

    "I don't know" in any words wins over every answer said with it, so it
    can never turn into a no.
    """
    if answer_type is AnswerType.NUMBER and unit not in grammar.wanted_units:
        raise ValueError(f"unknown unit {unit!r}; the grammar knows {grammar.wanted_units}")
    digits = answer_type in NUMERIC_TYPES
    topic = topic_table(keywords, denials) if answer_type is AnswerType.YES_NO else None
    tokens = tokenize(text)
    pieces = segment(
        tokens, grammar.table(answer_type), grammar.longest, digits, topic, word_starts(text), grammar.particles
    )
    meanings = [meaning for meaning, _ in pieces if meaning is not None]
    command = _command(meanings)
    if command is not None:
        return command
    unmatched = [word for meaning, words in pieces if meaning is None for word in words]
    hedged = any(m.kind is Kind.HEDGE or not m.certain for m in meanings)
    names = {m.name for m in meanings if m.kind is Kind.VALUE}
    if UNKNOWN in names:  # "I don't know", whatever else was said with it
        return Interpretation(UNKNOWN, None)
    negated = any(m.kind in (Kind.NEGATION, Kind.NEGATION_AFTER) for m in meanings)
    settled = any(m.kind is Kind.SETTLED for m in meanings)
    if answer_type is AnswerType.YES_NO:
        return _yes_no(pieces, names, negated, settled, hedged, bool(unmatched))
    if answer_type is AnswerType.SIDE:
        return _side(pieces, hedged or bool(unmatched))
    if negated:
        return NOT_UNDERSTOOD
    return _numeric(pieces, names, answer_type, grammar, unit, bool(unmatched) or hedged)


def _command(meanings: list[Meaning]) -> Interpretation | None:
    """The command said, if any: one that counts only alone ("what?") needs nothing but fillers beside it."""
    commands = {m.name for m in meanings if m.kind is Kind.COMMAND and not m.alone}
    if commands:
        return Interpretation(None, commands.pop()) if len(commands) == 1 else NOT_UNDERSTOOD
    alone = {m.name for m in meanings if m.kind is Kind.COMMAND}
    if len(alone) == 1 and all(m.kind in (Kind.COMMAND, Kind.FILLER) for m in meanings):
        return Interpretation(None, alone.pop())
    return None


def _yes_no(
    pieces: list[Piece], names: set[str], negated: bool, settled: bool, hedged: bool, unmatched: bool
) -> Interpretation:
    """A yes or no: said, or the symptom restated (words beside a restatement are expected)."""
    meanings = [m for m, _ in pieces if m is not None]
    topics = {m.name for m in meanings if m.kind is Kind.TOPIC}
    if not names and len(topics) == 1:  # the symptom said in the patient's own words
        said = topics.pop()
        clause = _clause_of_topic(pieces)
        if _negates(clause):  # "not a fever", "I didn't fall"
            said = "no" if said == "yes" else "yes"
        elif any(m.kind is Kind.SETTLED for m in clause):  # "my back is fine" (but "I can stand fine" stays a no)
            said = "no"
        return Interpretation(said, None, certain=not hedged)
    if names == {"no"}:  # "no, it hasn't": the negations agree with the no
        return Interpretation("no", None, certain=not (hedged or unmatched))
    if names == {"yes"} and not negated:
        return Interpretation("yes", None, certain=not (hedged or unmatched))
    if names == {"yes"} and not any(_negates(c) for c in _clauses(pieces) if _says(c, "yes")):
        return Interpretation("yes", None, certain=False)  # "not much, but a little", "심하진 않은데 있긴 있어요"
    return NOT_UNDERSTOOD  # a negation or "fine" alone could mean anything, even "I don't know"


def _clause_of_topic(pieces: list[Piece]) -> list[Meaning]:
    """The meanings in the clause (between "but"s) that holds the restated symptom."""
    return next(c for c in _clauses(pieces) if any(m.kind is Kind.TOPIC for m in c))


def _clauses(pieces: list[Piece]) -> list[list[Meaning]]:
    """The meanings of each clause, cut at the breaks ("but", 는데)."""
    clauses: list[list[Meaning]] = [[]]
    for meaning, _ in pieces:
        if meaning is None:
            continue
        if meaning.kind is Kind.BREAK:
            clauses.append([])
        else:
            clauses[-1].append(meaning)
    return clauses


def _negates(clause: list[Meaning]) -> bool:
    return any(m.kind in (Kind.NEGATION, Kind.NEGATION_AFTER) for m in clause)


def _says(clause: list[Meaning], name: str) -> bool:
    return any(m.kind is Kind.VALUE and m.name == name for m in clause)


def _side(pieces: list[Piece], doubt: bool) -> Interpretation:
    """Which side: a side negated ("not the left", "왼쪽 말고") is taken away; "both" wins; with two
    sides named and a comparison ("the left more than the right"), the first named."""
    sides: list[str] = []
    negate_next = False
    for meaning, _ in pieces:
        if meaning is None or meaning.kind in (Kind.FILLER, Kind.HEDGE, Kind.SETTLED):
            continue
        if meaning.kind is Kind.NEGATION:
            negate_next = True
        elif meaning.kind is Kind.NEGATION_AFTER:
            if sides:
                sides[-1] = "-" + sides[-1]
        elif meaning.kind is Kind.VALUE:
            sides.append(("-" if negate_next else "") + meaning.name)
            negate_next = False
    if negate_next:  # a "not" that negates nothing named after it ("왼쪽 안"): unclear
        return NOT_UNDERSTOOD
    kept = [side for side in sides if not side.startswith("-")]
    negated = {side[1:] for side in sides if side.startswith("-")}
    names = set(kept)
    comparing = any(m is not None and m.kind is Kind.COMPARATIVE for m, _ in pieces)
    if not names:
        return NOT_UNDERSTOOD
    if len(names) == 1:
        value = names.pop()
        return Interpretation(value, None, certain=not doubt and value not in negated)
    if "both" in names:
        return Interpretation("both", None, certain=not doubt)
    if comparing:
        return Interpretation(kept[0], None, certain=not doubt)
    return NOT_UNDERSTOOD


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
        self.after_unit = bool(meaning.name)  # "일주일 반", "a week and a half": the fraction adds to it

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
