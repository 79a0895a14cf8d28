"""What a recogniser heard, read against the whole replies a question can take.

A recogniser restricted to a grammar still returns runs of grammar words
that are not one reply ("저 을 겠어요" for 잘 모르겠어요), and its best
reading is often wrong where the second or fifth is right.  So a spoken
answer is read the way Home Assistant's speech-to-phrase and wyoming-vosk
do: every reading of the n-best list is compared with every whole reply the
question can take (its answers, "I don't know" in its many forms, the voice
commands, the question's own key words), by how it sounds: Korean is
compared letter by letter of the Hangul alphabet (jamo), other scripts by
their letters.  The nearest reply wins if it is near enough, and it is
*clear* only if it is nearer by a margin than the nearest reply that means
something else.  Numbers, which are built from parts, are read by the
parser from the best reading that is nothing but a number.

Pure: strings and scores in, a reading out.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from .contract import AnswerType, Value
from .grammar import NUMERIC_TYPES, Grammar, Kind
from .understanding import NOT_UNDERSTOOD, Interpretation, interpret

_CHO = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_JUNG = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_JONG = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
GARBAGE_WORDS = ("[unk]", "<unk>")  # the recognisers' word for speech that fits no phrase
SCORE_WEIGHT = 0.05  # cost per unit of recogniser score below the best reading
ALTERNATIVES = 8  # readings of the n-best list compared


def sounds(text: str) -> str:
    """A spelling close to the sound: Hangul as jamo (a syllable's silent ㅇ dropped), letters lower-case."""
    out: list[str] = []
    for word in text.lower().split():
        if word in GARBAGE_WORDS:
            continue
        for ch in word:
            code = ord(ch) - 0xAC00
            if 0 <= code < 11172:
                initial = _CHO[code // 588]
                if initial != "ㅇ":
                    out.append(initial)
                out.append(_JUNG[(code % 588) // 28])
                if code % 28:
                    out.append(_JONG[code % 28])
            elif ch.isalnum():
                out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Reply:
    """A whole reply the recogniser listens for, with what it means."""

    text: str
    meaning: Interpretation
    sound: str


@dataclass(frozen=True)
class Reading:
    """The nearest reply to what was heard: its meaning, how far it was, and how far the nearest other meaning."""

    meaning: Interpretation
    cost: float
    rival: float  # cost of the nearest reply that means something else (inf: none)
    ranked: tuple[tuple[Interpretation, float], ...] = ()  # every meaning heard, nearest first
    # how near the same meaning is to the recogniser's best reading alone (a meaning found only further
    # down the n-best list is a guess: "이죠" first, "히 없어요" second, for 있어요 said)
    top: float = 0.0

    def cost_of(self, value: Value) -> float:
        """How near the nearest reply meaning ``value`` was (inf: none)."""
        return min((cost for meaning, cost in self.ranked if meaning.value == value), default=float("inf"))

    @property
    def margin(self) -> float:
        return self.rival - self.cost


@functools.lru_cache(maxsize=256)
def replies(
    grammar: Grammar,
    answer_type: AnswerType,
    keywords: tuple[str, ...] = (),
    denials: tuple[str, ...] = (),
    bare: bool = False,
) -> tuple[Reply, ...]:
    """The whole replies a question of ``answer_type`` can take, each with its meaning (worked out once).

    ``bare``: the reply wanted is a bare yes or no ("is that right?", "is it
    7 or more?"), which how much or how often ("a little", 가끔요) does not
    answer: those replies are kept, as decoys that mean nothing, so that a
    no heard as one (아뇨 as "살짝 요") is asked again, not taken as a yes.
    """
    found: list[Reply] = []
    for phrase, meaning in grammar.spellings[answer_type].items():
        if meaning.part or meaning.kind not in (Kind.VALUE, Kind.COMMAND):
            continue
        if bare and meaning.degree:
            found.append(Reply(phrase, NOT_UNDERSTOOD, sounds(phrase)))
            continue
        read = interpret(phrase, answer_type, grammar)
        if read.value is not None or read.command is not None:
            found.append(Reply(phrase, read, sounds(phrase)))
    for phrase in (*keywords, *denials):
        read = interpret(phrase, answer_type, grammar, keywords=keywords, denials=denials)
        if read.value is not None:  # a symptom restated is heard less surely than a yes: it is read back
            found.append(Reply(phrase, Interpretation(read.value, None, certain=False), sounds(phrase)))
    return tuple(found)


def nearest(alternatives: Sequence[tuple[str, float]], choices: Sequence[Reply]) -> Reading | None:
    """The reply nearest to any reading of the n-best list (cost: edit distance per sound, plus score)."""
    if not alternatives or not choices:
        return None
    best_score = alternatives[0][1]
    best: dict[tuple[Value | None, str | None], float] = {}
    first: dict[tuple[Value | None, str | None], float] = {}  # in the best reading alone
    keys: dict[tuple[Value | None, str | None], Interpretation] = {}
    for index, (text, score) in enumerate(alternatives[:ALTERNATIVES]):
        heard = sounds(text)
        if not heard:
            continue
        penalty = SCORE_WEIGHT * max(0.0, best_score - score)
        for reply in choices:
            cost = Levenshtein.distance(heard, reply.sound) / max(len(heard), len(reply.sound)) + penalty
            key = (reply.meaning.value, reply.meaning.command)
            if index == 0 and cost < first.get(key, float("inf")):
                first[key] = cost
            if cost < best.get(key, float("inf")):
                best[key] = cost
                keys[key] = reply.meaning
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda item: item[1])
    (nearest_key, cost), rival = ranked[0], ranked[1][1] if len(ranked) > 1 else float("inf")
    top = first.get(nearest_key, float("inf"))
    return Reading(keys[nearest_key], cost, rival, tuple((keys[k], c) for k, c in ranked), top)


def read_number(
    alternatives: Sequence[tuple[str, float]], answer_type: AnswerType, grammar: Grammar, unit: str
) -> Reading | None:
    """A number reply: the best reading the parser takes as nothing but a number (or "I don't know")."""
    best_score = alternatives[0][1] if alternatives else 0.0
    found: Reading | None = None
    for text, score in alternatives[:ALTERNATIVES]:
        meaning = interpret(text, answer_type, grammar, unit=unit)
        if meaning.value is None and meaning.command is None:
            continue
        cost = SCORE_WEIGHT * max(0.0, best_score - score) + (0.0 if meaning.certain else 0.25)
        if found is None:
            found = Reading(meaning, cost, float("inf"))
        elif (meaning.value, meaning.command) != (found.meaning.value, found.meaning.command):
            return Reading(found.meaning, found.cost, min(found.rival, cost))
    return found


def read_spoken(
    alternatives: Sequence[tuple[str, float]],
    answer_type: AnswerType,
    grammar: Grammar,
    choices: Sequence[Reply],
    unit: str = "days",
) -> Reading:
    """How a spoken reply reads: the nearest whole reply (numbers: the parser); NOT_UNDERSTOOD far from all."""
    if answer_type in NUMERIC_TYPES:
        number = read_number(alternatives, answer_type, grammar, unit)
        said = nearest(alternatives, choices)  # "I don't know", a command, or a named value ("제일 아파요")
        candidates = [r for r in (number, said) if r is not None]
        if not candidates:
            return Reading(NOT_UNDERSTOOD, float("inf"), float("inf"))
        return min(candidates, key=lambda r: r.cost)
    reading = nearest(alternatives, choices)
    return reading if reading is not None else Reading(NOT_UNDERSTOOD, float("inf"), float("inf"))
