"""The Korean locale: grammar/ko read as text (no audio), and prompts/ko loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.grammar import COMMANDS, Grammar, load_grammar
from voice_triage.core.locale import load_locale
from voice_triage.core.paths import GRAMMAR, PROMPTS
from voice_triage.core.understanding import interpret

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR_DIR = GRAMMAR / "ko"
HEADER = "# 검토 필요: 한국어에 능통한 임상의가 검토해야 합니다. (Needs review by a clinician fluent in Korean.)"

YES_NO = AnswerType.YES_NO
SIDE = AnswerType.SIDE
SCALE = AnswerType.SCALE_0_10
NUMBER = AnswerType.NUMBER


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return load_grammar(GRAMMAR_DIR)


# (text, expected value, certain)
YES_NO_CASES: list[tuple[str, Value | None, bool]] = [
    ("네", "yes", True),
    ("예", "yes", True),
    ("네 네", "yes", True),
    ("네네", "yes", True),
    ("맞아", "yes", True),
    ("있어요", "yes", True),
    ("네 있어요", "yes", True),
    ("음 네", "yes", True),  # filler
    ("아마 네", "yes", False),  # hedge: confirm
    ("아니요", "no", True),
    ("아니오", "no", True),
    ("아니", "no", True),
    ("아뇨", "no", True),
    ("없어요", "no", True),
    ("아니요 없어요", "no", True),
    ("몰라요", UNKNOWN, True),
    ("모르겠어 요", UNKNOWN, True),
    ("모르겠어", UNKNOWN, True),
    ("몰라", UNKNOWN, True),
    ("네 아니요", None, True),  # contradiction
    ("네 몰라요", UNKNOWN, True),  # "I don't know" wins: never a yes or a no
    ("허리", None, True),  # nothing the grammar knows
    ("", None, True),
]

SIDE_CASES: list[tuple[str, Value | None, bool]] = [
    ("왼쪽", "left", True),
    ("왼쪽 다리", "left", True),
    ("왼다리", "left", True),
    ("오른쪽", "right", True),
    ("오른쪽 다리", "right", True),
    ("오른다리", "right", True),
    ("양쪽", "both", True),
    ("양쪽 다", "both", True),
    ("양쪽 다리", "both", True),
    ("둘 다", "both", True),
    ("둘다", "both", True),
    ("왼쪽 요", "left", True),
    ("몰라요", UNKNOWN, True),
    ("왼쪽 오른쪽", None, True),  # two sides: not understood
    ("왼쪽 안", None, True),  # a stray negation: never "left"
    ("아니 왼쪽", None, True),
]

SCALE_CASES: list[tuple[str, Value | None, bool]] = [
    ("영", 0, True),
    ("영 점", 0, True),
    ("영 점 정도", 0, True),
    ("안 아파", 0, True),
    ("일", 1, True),  # the pain scale reads a bare 일 as one
    ("일 점", 1, True),
    ("하나", 1, True),
    ("한 점", 1, True),
    ("이", 2, True),
    ("두 점", 2, True),
    ("삼 점", 3, True),
    ("세 점", 3, True),
    ("셋", 3, True),
    ("사", 4, True),
    ("네 점", 4, True),
    ("넷", 4, True),
    ("오 점", 5, True),
    ("다섯", 5, True),
    ("육 점", 6, True),
    ("여섯 점", 6, True),
    ("칠", 7, True),
    ("일곱 점", 7, True),
    ("팔 점", 8, True),
    ("여덟", 8, True),
    ("구", 9, True),
    ("아홉 점", 9, True),
    ("십", 10, True),
    ("십 점", 10, True),
    ("열", 10, True),
    ("만점", 10, True),
    ("제일 아파", 10, True),
    ("칠 점 정도", 7, True),
    ("십 점 만점 에 칠 점", 7, True),  # the top of the scale comes first in Korean
    ("오 점 아니면 육 점", None, True),  # 아니면 is not in the grammar: unmatched word -> see below
    ("이십", None, True),  # out of range
    ("몰라요", UNKNOWN, True),
]

# (text, wanted unit, expected value, certain)
NUMBER_CASES: list[tuple[str, str, Value | None, bool]] = [
    ("삼 일", "days", 3, True),
    ("오 일", "days", 5, True),
    ("십 일", "days", 10, True),
    ("이십 일", "days", 20, True),  # 20 days, not 21: 일 is the unit
    ("이 주", "days", 14, True),
    ("두 주", "days", 14, True),
    ("세 주", "days", 21, True),
    ("일 주", "days", 7, True),
    ("일주일", "days", 7, True),
    ("이주일", "days", 14, True),
    ("한 달", "days", 30, True),
    ("한달", "days", 30, True),
    ("두 달", "days", 60, True),
    ("세 달", "days", 90, True),
    ("석달", "days", 90, True),
    ("육 개월", "days", 180, True),
    ("일 년", "days", 365, True),
    ("이 년", "days", 730, True),
    ("어제", "days", 1, True),
    ("어제 정도", "days", 1, True),
    ("오늘", "days", 0, True),
    ("하루", "days", 1, True),
    ("이틀", "days", 2, True),
    ("사흘", "days", 3, True),
    ("열흘", "days", 10, True),
    ("보름", "days", 15, True),
    ("지난주", "days", 7, True),
    ("삼 일 전", "days", 3, True),
    ("삼 일 정도", "days", 3, True),
    ("일주일 전", "days", 7, True),
    ("이 주 삼 일", "days", 17, True),  # a larger unit then a smaller one adds up
    ("세 시간", "days", pytest.approx(1 / 8), True),
    ("사십", "years", 40, True),
    ("육십 오", "years", 65, True),
    ("오십 이 세", "years", 52, True),
    ("사십 일 세", "years", 41, True),
    ("칠십 세", "years", 70, True),
    ("팔십", "years", 80, True),
    ("구십 육", "years", 96, True),
    ("스물 다섯 살", "years", 25, True),
    ("스무 살", "years", 20, True),
    ("서른 살", "years", 30, True),
    ("마흔 두 살", "years", 42, True),
    ("쉰 여섯", "years", 56, True),
    ("예순 세 살", "years", 63, True),
    ("일흔 한 살", "years", 71, True),
    ("여든 네 살", "years", 84, True),
    ("백 살", "years", 100, True),
    ("몰라요", "years", UNKNOWN, True),
    ("몰라요", "days", UNKNOWN, True),
    ("일", "days", None, True),  # a unit with no number
    ("네", "years", None, True),  # 네 alone is "yes", never four
]

# (text, answer type, command)
COMMAND_CASES: list[tuple[str, AnswerType, str]] = [
    ("다시", YES_NO, "repeat"),
    ("다시 한번", SCALE, "repeat"),
    ("다시 요", SIDE, "repeat"),
    ("뒤로", NUMBER, "back"),
    ("이전", YES_NO, "back"),
    ("이전 질문", SCALE, "back"),
    ("도움말", SIDE, "help"),
    ("도와줘", NUMBER, "help"),
    ("처음부터", YES_NO, "start_over"),
    ("처음부터 다시", SCALE, "start_over"),  # not "repeat": the longest phrase wins
    ("그만", SIDE, "stop"),
    ("음 그만", NUMBER, "stop"),
    ("중지", YES_NO, "stop"),
    ("멈춰", SCALE, "stop"),
    ("천천히", SIDE, "slower"),
    ("천천히 요", NUMBER, "slower"),
    ("크게", YES_NO, "louder"),
    ("소리 크게", SCALE, "louder"),
    ("더 크게", SIDE, "louder"),
    ("음 다시", NUMBER, "repeat"),
    ("네 다시", YES_NO, "repeat"),  # a command wins over the answer said with it
]


@pytest.mark.parametrize(("text", "expected", "certain"), YES_NO_CASES)
def test_yes_no(grammar: Grammar, text: str, expected: Value | None, certain: bool) -> None:
    result = interpret(text, YES_NO, grammar)
    assert result.command is None
    assert result.value == expected
    if expected is not None:
        assert result.certain is certain


@pytest.mark.parametrize(("text", "expected", "certain"), SIDE_CASES)
def test_side(grammar: Grammar, text: str, expected: Value | None, certain: bool) -> None:
    result = interpret(text, SIDE, grammar)
    assert result.command is None
    assert result.value == expected
    if expected is not None:
        assert result.certain is certain


@pytest.mark.parametrize(("text", "expected", "certain"), SCALE_CASES)
def test_scale(grammar: Grammar, text: str, expected: Value | None, certain: bool) -> None:
    result = interpret(text, SCALE, grammar)
    assert result.command is None
    if text == "오 점 아니면 육 점":  # a word the grammar does not know only makes it uncertain
        assert result.value == 6 and not result.certain
        return
    assert result.value == expected
    if expected is not None:
        assert result.certain is certain


@pytest.mark.parametrize(("text", "unit", "expected", "certain"), NUMBER_CASES)
def test_number(grammar: Grammar, text: str, unit: str, expected: Value | None, certain: bool) -> None:
    result = interpret(text, NUMBER, grammar, unit)
    assert result.command is None
    assert result.value == expected
    if expected is not None:
        assert result.certain is certain


@pytest.mark.parametrize(("text", "answer_type", "command"), COMMAND_CASES)
def test_commands(grammar: Grammar, text: str, answer_type: AnswerType, command: str) -> None:
    result = interpret(text, answer_type, grammar)
    assert (result.command, result.value) == (command, None)


def test_every_command_has_a_phrase(grammar: Grammar) -> None:
    phrases = grammar.command_phrases()
    assert set(phrases) == set(COMMANDS)
    assert all(phrases[name] for name in COMMANDS)


def test_yes_is_never_a_number(grammar: Grammar) -> None:
    """네 means "yes"; as a number it would turn a yes into a pain score of 4."""
    for answer_type in (SCALE, NUMBER):
        assert interpret("네", answer_type, grammar).value is None


def test_examples_are_understood(grammar: Grammar) -> None:
    cases = [(t, "", grammar.examples(t)) for t in (YES_NO, SIDE, SCALE)]
    cases += [(NUMBER, unit, grammar.examples(NUMBER, unit)) for unit in grammar.wanted_units]
    for answer_type, unit, examples in cases:
        assert examples, answer_type
        for example in examples:
            result = interpret(example, answer_type, grammar, unit or "days")
            assert result.value is not None and result.certain, (answer_type, example)


def test_locale_loads() -> None:
    locale = load_locale("ko")
    assert locale.content.locale == "ko"
    assert locale.content.messages.answer_words["yes"] == "네"
    assert locale.content.messages.answer_words["no"] == "아니요"
    assert locale.content.messages.answer_words["unknown"] == "모르겠어요"


def test_korean_ids_match_english() -> None:
    ko = load_locale("ko").content
    en = load_locale("en").content
    assert [q.id for q in ko.questions] == [q.id for q in en.questions]
    assert [(q.type, q.safety, q.unit, q.ask_if) for q in ko.questions] == [
        (q.type, q.safety, q.unit, q.ask_if) for q in en.questions
    ]
    assert [(r.id, r.level, r.red_flag, r.when) for r in ko.rules] == [
        (r.id, r.level, r.red_flag, r.when) for r in en.rules
    ]
    assert [(c.id, c.prior, c.evidence) for c in ko.causes] == [(c.id, c.prior, c.evidence) for c in en.causes]
    assert ko.max_questions == en.max_questions


@pytest.mark.parametrize(
    "path",
    [PROMPTS / "ko" / f"{name}.yaml" for name in ("flow", "rules", "causes", "messages")]
    + [GRAMMAR_DIR / f"{name}.yaml" for name in ("answers", "commands", "numbers")],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_review_header(path: Path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == HEADER
