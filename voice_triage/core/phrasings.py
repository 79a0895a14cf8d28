"""How patients answer aloud: the phrasings file of the spoken evaluation (a fixed contract).

A phrasings file is YAML keyed by answer type, then value::

    yes_no:      {"yes": [...], "no": [...], unknown: [...]}
    side:        {left: [...], right: [...], both: [...], unknown: [...]}
    scale_0_10:  {number: [templates], unknown: [...]}
    number:      {days: [...], weeks: [...], months: [...], years: [...], age: [...],
                  unknown: [...], exact: {0: [오늘], 1: [어제]}}

Templates take ``{sino}`` (사십사), ``{native}`` (마흔넷) and
``{native_counter}`` (마흔네, the form before a counter) for Korean, and
``{words}`` (forty four) and ``{digits}`` (44) for English.  A number of days
is said in the largest unit that divides it exactly (14 -> 2 weeks, 60 -> 2
months, 730 -> 2 years), unless ``exact`` has phrasings of its own for it;
an age (a question asked in years) uses ``age``.  Every problem is reported
as ``path:line: message``.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .contract import UNKNOWN, AnswerType, Value
from .yamlload import ContentError, LineDict, LineList, Problem, load_file, where

FIELDS = ("sino", "native", "native_counter", "words", "digits")
DURATION_UNITS = (("years", 365), ("months", 30), ("weeks", 7), ("days", 1))
SECTIONS: dict[str, tuple[str, ...]] = {
    "yes_no": ("yes", "no", UNKNOWN),
    "side": ("left", "right", "both", UNKNOWN),
    "scale_0_10": ("number", UNKNOWN),
    "number": ("days", "weeks", "months", "years", "age", UNKNOWN),
}
TEMPLATED = {("scale_0_10", "number"), *(("number", unit) for unit in ("days", "weeks", "months", "years", "age"))}


@dataclass(frozen=True)
class Phrasings:
    """The phrasings of one file: (section, key) -> phrasings, and exact day counts."""

    path: str
    lists: Mapping[tuple[str, str], tuple[str, ...]]
    exact: Mapping[float, tuple[str, ...]]

    def choices(self, answer_type: AnswerType, value: Value, unit: str = "days") -> list[str]:
        """Every way this file says ``value`` for a question of ``answer_type`` (and ``unit``)."""
        section = answer_type.value
        if value == UNKNOWN or answer_type in (AnswerType.YES_NO, AnswerType.SIDE):
            return list(self.lists[(section, str(value))])
        assert isinstance(value, int | float)
        if answer_type is AnswerType.SCALE_0_10:
            return [fill(t, value) for t in self.lists[(section, "number")]]
        if unit == "years":
            return [fill(t, value) for t in self.lists[(section, "age")]]
        if value in self.exact:
            return list(self.exact[value])
        name, amount = say_days(value)
        return [fill(t, amount) for t in self.lists[(section, name)]]

    def say(self, answer_type: AnswerType, value: Value, rng: random.Random, unit: str = "days") -> str:
        """One phrasing, picked at random."""
        return rng.choice(self.choices(answer_type, value, unit))


def say_days(days: float) -> tuple[str, float]:
    """The largest unit that divides a day count exactly, and the count in it: 14 -> ("weeks", 2)."""
    for name, size in DURATION_UNITS:
        if days and float(days).is_integer() and int(days) % size == 0:
            return name, int(days) // size
    return "days", days


def fill(template: str, amount: float) -> str:
    return template.format(**number_forms(amount))


# ------------------------------------------------------------ numbers in words

_SINO_DIGITS = ("", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_NATIVE_ONES = ("", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉")
_NATIVE_ONES_COUNTER = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")
_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")
_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def sino(n: int) -> str:
    """Sino-Korean: 44 -> 사십사, 100 -> 백, 0 -> 영."""
    if n == 0:
        return "영"
    out = ""
    for value, word in ((10000, "만"), (1000, "천"), (100, "백"), (10, "십")):
        count, n = divmod(n, value)
        if count:
            out += ("" if count == 1 else sino(count)) + word
    return out + _SINO_DIGITS[n]


def native(n: int, counter: bool = False) -> str:
    """Native Korean up to 99 (마흔넷; before a counter 마흔네, 스무); from 100 on, Sino-Korean."""
    if n == 0 or n >= 100:
        return sino(n)
    tens, ones = divmod(n, 10)
    if counter and n == 20:
        return "스무"
    return _NATIVE_TENS[tens] + (_NATIVE_ONES_COUNTER if counter else _NATIVE_ONES)[ones]


def english(n: int) -> str:
    """English words: 44 -> forty four, 120 -> one hundred twenty."""
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f" {_EN_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_EN_ONES[hundreds]} hundred" + (f" {english(rest)}" if rest else "")


def number_forms(amount: float) -> dict[str, str]:
    """Every template field for an amount; a fraction is said in digits ("1.5")."""
    if not float(amount).is_integer():
        text = f"{amount:g}"
        return dict.fromkeys(FIELDS, text)
    n = int(amount)
    return {
        "sino": sino(n),
        "native": native(n),
        "native_counter": native(n, counter=True),
        "words": english(n),
        "digits": str(n),
    }


# ------------------------------------------------------------ reading the file


def load_phrasings(path: Path) -> Phrasings:
    """Read and check a phrasings file; raise ContentError with every problem."""
    data = load_file(path)
    problems: list[Problem] = []
    if not isinstance(data, LineDict):
        raise ContentError([Problem(str(path), 1, "a phrasings file is a mapping of answer type to values")])
    lists: dict[tuple[str, str], tuple[str, ...]] = {}
    exact: dict[float, tuple[str, ...]] = {}
    for key in data:
        if key not in SECTIONS:
            problems.append(Problem(*where(data, key), f"unknown answer type {key!r} (expected {', '.join(SECTIONS)})"))
    for section, values in SECTIONS.items():
        node = data.get(section)
        if not isinstance(node, LineDict):
            at = where(data, section) if section in data else (str(path), 1)
            problems.append(Problem(*at, f"{section!r} must be a mapping of {', '.join(values)} to phrasings"))
            continue
        allowed = (*values, "exact") if section == "number" else values
        for key in node:
            if str(key) not in allowed:
                problems.append(
                    Problem(*where(node, key), f"{section}: unknown key {key!r} (expected {', '.join(allowed)})")
                )
        for value in values:
            if value not in node:
                problems.append(Problem(*where(node), f"{section}: missing {value!r}"))
                continue
            templated = (section, value) in TEMPLATED
            lists[(section, value)] = _phrases(node, value, templated, problems)
        if section == "number" and "exact" in node:
            exact = _exact(node, problems)
    if problems:
        raise ContentError(problems)
    return Phrasings(str(path), lists, exact)


def _phrases(node: LineDict, key: str, templated: bool, problems: list[Problem]) -> tuple[str, ...]:
    items = node[key]
    if not isinstance(items, LineList) or not items:
        problems.append(Problem(*where(node, key), f"{key!r} must be a non-empty list of phrasings"))
        return ()
    found: list[str] = []
    for index, item in enumerate(items):
        at = where(items, index)
        if not isinstance(item, str) or not item.strip():
            problems.append(Problem(*at, f"a phrasing must be non-empty text, not {item!r}"))
            continue
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(item) if name is not None}
        except ValueError as exc:
            problems.append(Problem(*at, f"phrasing {item!r} has a broken template field: {exc}"))
            continue
        if not templated and fields:
            problems.append(Problem(*at, f"phrasing {item!r}: template fields are only for numbers"))
            continue
        unknown = sorted(fields - set(FIELDS))
        if unknown:
            problems.append(
                Problem(*at, f"phrasing {item!r}: unknown field {{{unknown[0]}}} (use {', '.join(FIELDS)})")
            )
            continue
        if templated and not fields:
            problems.append(Problem(*at, f"template {item!r} has no number field ({', '.join(FIELDS)})"))
            continue
        found.append(item)
    return tuple(found)


def _exact(node: LineDict, problems: list[Problem]) -> dict[float, tuple[str, ...]]:
    exact_node = node["exact"]
    if not isinstance(exact_node, LineDict):
        problems.append(Problem(*where(node, "exact"), "'exact' must map a number of days to phrasings"))
        return {}
    exact: dict[float, tuple[str, ...]] = {}
    for key in exact_node:
        try:
            days = float(key)
            if days < 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(Problem(*where(exact_node, key), f"exact: {key!r} is not a number of days"))
            continue
        exact[days] = _phrases(exact_node, key, False, problems)
    return exact
