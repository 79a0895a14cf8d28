"""Understanding answers and commands from text, with the English grammar."""

from __future__ import annotations

import pytest

from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.grammar import COMMANDS, Grammar, load_grammar
from voice_triage.core.paths import GRAMMAR
from voice_triage.core.understanding import Interpretation, interpret

GRAMMAR_DIR = GRAMMAR / "en"

YES_NO = AnswerType.YES_NO
SIDE = AnswerType.SIDE
SCALE = AnswerType.SCALE_0_10
NUMBER = AnswerType.NUMBER


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return load_grammar(GRAMMAR_DIR)


YES_NO_CASES: list[tuple[str, Value, bool]] = [
    ("yes, my back hurts", "yes", False),
    ("my back hurts", None, True),
    ("yes", "yes", True),
    ("Yes.", "yes", True),
    ("YES!", "yes", True),
    ("yeah", "yes", True),
    ("yep", "yes", True),
    ("yup", "yes", True),
    ("yes I do", "yes", True),
    ("Yes, I have.", "yes", True),
    ("yes it is", "yes", True),
    ("I do", "yes", True),
    ("right", "yes", True),
    ("that's right", "yes", True),
    ("That\u2019s right", "yes", True),
    ("correct", "yes", True),
    ("of course", "yes", True),
    ("definitely", "yes", True),
    ("uh huh", "yes", True),
    ("um, yes", "yes", True),
    ("well yes", "yes", True),
    ("yes please", "yes", True),
    ("um yeah I think so", "yes", False),
    ("I think so", "yes", False),
    ("probably", "yes", False),
    ("I guess so", "yes", False),
    ("maybe yes", "yes", False),
    ("yes, kind of", "yes", False),
    ("yes I have had that", "yes", False),
    ("no", "no", True),
    ("No.", "no", True),
    ("nope", "no", True),
    ("nah", "no", True),
    ("not really", "no", True),
    ("not at all", "no", True),
    ("no I don't think so", "no", True),
    ("no, I don't", "no", True),
    ("I haven't", "no", True),
    ("it isn't", "no", True),
    ("never", "no", True),
    ("definitely not", "no", True),
    ("uh no", "no", True),
    ("I don't think so", "no", False),
    ("probably not", "no", False),
    ("I doubt it", "no", False),
    ("I think not", "no", False),
    ("not that I know of", "no", False),
    ("I don't know", UNKNOWN, True),
    ("I'm not sure", UNKNOWN, True),
    ("not sure", UNKNOWN, True),
    ("no idea", UNKNOWN, True),
    ("I have no idea", UNKNOWN, True),
    ("can't remember", UNKNOWN, True),
    ("I can't remember", UNKNOWN, True),
    ("dunno", UNKNOWN, True),
    ("hmm, I don't know", UNKNOWN, True),
]


@pytest.mark.parametrize(("text", "value", "certain"), YES_NO_CASES)
def test_yes_no(grammar: Grammar, text: str, value: Value, certain: bool) -> None:
    assert interpret(text, YES_NO, grammar) == Interpretation(value, None, certain)


SIDE_CASES: list[tuple[str, Value, bool]] = [
    ("left", "left", True),
    ("Left.", "left", True),
    ("the left", "left", True),
    ("the left one", "left", True),
    ("my left leg", "left", True),
    ("left side", "left", True),
    ("on the left", "left", True),
    ("um the left one", "left", True),
    ("it's the left", "left", True),
    ("I think the left", "left", False),
    ("maybe left", "left", False),
    ("right", "right", True),
    ("the right one", "right", True),
    ("right leg", "right", True),
    ("my right", "right", True),
    ("on the right side", "right", True),
    ("right I reckon", "right", False),
    ("that's right", "right", False),
    ("both", "both", True),
    ("both legs", "both", True),
    ("both of them", "both", True),
    ("left and right", "both", True),
    ("right and left", "both", True),
    ("Both sides.", "both", True),
    ("well, both", "both", True),
    ("I don't know", UNKNOWN, True),
    ("not sure", UNKNOWN, True),
]


@pytest.mark.parametrize(("text", "value", "certain"), SIDE_CASES)
def test_side(grammar: Grammar, text: str, value: Value, certain: bool) -> None:
    assert interpret(text, SIDE, grammar) == Interpretation(value, None, certain)


SCALE_CASES: list[tuple[str, Value, bool]] = [
    ("zero", 0, True),
    ("0", 0, True),
    ("no pain", 0, True),
    ("no pain at all", 0, True),
    ("none", 0, True),
    ("one", 1, True),
    ("two", 2, True),
    ("three", 3, True),
    ("four", 4, True),
    ("five", 5, True),
    ("six", 6, True),
    ("seven", 7, True),
    ("eight", 8, True),
    ("nine", 9, True),
    ("ten", 10, True),
    ("10", 10, True),
    ("7", 7, True),
    ("7/10", 7, True),
    ("7 / 10", 7, True),
    ("six out of ten", 6, True),
    ("Six out of 10.", 6, True),
    ("about a six", 6, True),
    ("a six", 6, True),
    ("it's a four", 4, True),
    ("I'd say a three", 3, True),
    ("um, eight", 8, True),
    ("the worst pain", 10, True),
    ("between five and six", 6, False),
    ("five or six", 6, False),
    ("five six", 6, False),
    ("maybe a seven", 7, False),
    ("I think three", 3, False),
    ("five and a half", 6, False),
    ("6.5", 7, False),
    ("I don't know", UNKNOWN, True),
    ("no idea", UNKNOWN, True),
]


@pytest.mark.parametrize(("text", "value", "certain"), SCALE_CASES)
def test_scale(grammar: Grammar, text: str, value: Value, certain: bool) -> None:
    assert interpret(text, SCALE, grammar) == Interpretation(value, None, certain)


DAYS_CASES: list[tuple[str, Value, bool]] = [
    ("3 days", 3, True),
    ("3", 3, True),
    ("3.5", 3.5, True),
    ("five", 5, True),
    ("twenty one", 21, True),
    ("twenty-one", 21, True),
    ("a hundred and five", 105, True),
    ("two hundred", 200, True),
    ("a day", 1, True),
    ("one day", 1, True),
    ("two days", 2, True),
    ("a week", 7, True),
    ("two weeks", 14, True),
    ("for two weeks", 14, True),
    ("about two weeks", 14, True),
    ("two weeks ago", 14, True),
    ("a fortnight", 14, True),
    ("a month", 30, True),
    ("three months", 90, True),
    ("a year", 365, True),
    ("one and a half weeks", 10.5, True),
    ("a week and a half", 10.5, True),
    ("half a day", 0.5, True),
    ("two weeks and three days", 17, True),
    ("since yesterday", 1, True),
    ("yesterday", 1, True),
    ("today", 0, True),
    ("this morning", 0, True),
    ("an hour ago", 0, True),
    ("a couple of days", 2, True),
    ("a few days", 3, True),
    ("a couple of weeks", 14, True),
    ("since last week", 7, True),
    ("two or three weeks", 21, False),
    ("a week or two", 14, False),
    ("between two and three days", 3, False),
    ("maybe four days", 4, False),
    ("I don't know", UNKNOWN, True),
    ("can't remember", UNKNOWN, True),
]


@pytest.mark.parametrize(("text", "value", "certain"), DAYS_CASES)
def test_number_in_days(grammar: Grammar, text: str, value: Value, certain: bool) -> None:
    assert interpret(text, NUMBER, grammar, unit="days") == Interpretation(value, None, certain)


YEARS_CASES: list[tuple[str, Value]] = [
    ("fifty", 50),
    ("50", 50),
    ("I'm fifty years old", 50),
    ("fifty years old", 50),
    ("I am seventy two", 72),
    ("sixty five", 65),
    ("six months", 0.5),
    ("eighteen months", 1.5),
    ("ninety", 90),
    ("a hundred and one", 101),
]


@pytest.mark.parametrize(("text", "value"), YEARS_CASES)
def test_number_in_years(grammar: Grammar, text: str, value: Value) -> None:
    assert interpret(text, NUMBER, grammar, unit="years") == Interpretation(value, None, True)


def test_since_yesterday_in_years_is_one_day(grammar: Grammar) -> None:
    assert interpret("since yesterday", NUMBER, grammar, unit="years").value == pytest.approx(1 / 365)


def test_unknown_unit_is_a_programming_error(grammar: Grammar) -> None:
    with pytest.raises(ValueError, match="unknown unit 'weeks'"):
        interpret("two", NUMBER, grammar, unit="weeks")


COMMAND_CASES: list[tuple[str, str]] = [
    ("repeat", "repeat"),
    ("Repeat that.", "repeat"),
    ("say that again", "repeat"),
    ("pardon", "repeat"),
    ("pardon me?", "repeat"),
    ("what did you say", "repeat"),
    ("could you repeat that please", "repeat"),
    ("sorry, can you say it again", "repeat"),
    ("go back", "back"),
    ("go back please", "back"),
    ("change my answer", "back"),
    ("previous question", "back"),
    ("no wait, go back", "back"),
    ("help", "help"),
    ("what does that mean", "help"),
    ("I don't understand", "help"),
    ("explain", "help"),
    ("um, help me", "help"),
    ("start over", "start_over"),
    ("start again", "start_over"),
    ("restart", "start_over"),
    ("let's start over please", "start_over"),
    ("stop", "stop"),
    ("quit", "stop"),
    ("cancel", "stop"),
    ("I want to stop", "stop"),
    ("slower", "slower"),
    ("slow down", "slower"),
    ("speak slower please", "slower"),
    ("louder", "louder"),
    ("speak up", "louder"),
    ("I can't hear you", "louder"),
]


@pytest.mark.parametrize("answer_type", list(AnswerType))
@pytest.mark.parametrize(("text", "command"), COMMAND_CASES)
def test_commands(grammar: Grammar, text: str, command: str, answer_type: AnswerType) -> None:
    assert interpret(text, answer_type, grammar) == Interpretation(None, command, True)


NOT_UNDERSTOOD_CASES: list[tuple[str, AnswerType]] = [
    ("", YES_NO),
    ("   ", SIDE),
    ("?!", SCALE),
    ("blargh wibble", YES_NO),
    ("blargh wibble", NUMBER),
    ("um", YES_NO),
    ("maybe", YES_NO),
    ("yes no", YES_NO),
    ("yes, I mean no", YES_NO),
    ("left", YES_NO),
    ("five", YES_NO),
    ("not left", SIDE),
    ("not the left one", SIDE),
    ("no, left", SIDE),
    ("left right", SIDE),
    ("neither", SIDE),
    ("yes", SIDE),
    ("eleven", SCALE),
    ("twenty", SCALE),
    ("a hundred", SCALE),
    ("11/10", SCALE),
    ("left", SCALE),
    ("weeks", NUMBER),
    ("stop, go back", YES_NO),
]


@pytest.mark.parametrize(
    ("text", "answer_type"),
    [("yes I don't know", YES_NO), ("five, I don't know", NUMBER), ("no idea, no", YES_NO), ("left, not sure", SIDE)],
)
def test_i_dont_know_wins_over_any_answer_said_with_it(grammar: Grammar, text: str, answer_type: AnswerType) -> None:
    """It can never lower urgency, so it is the safe reading of a mixed reply: never a yes or a no."""
    assert interpret(text, answer_type, grammar).value == "unknown"


@pytest.mark.parametrize(("text", "answer_type"), NOT_UNDERSTOOD_CASES)
def test_not_understood(grammar: Grammar, text: str, answer_type: AnswerType) -> None:
    result = interpret(text, answer_type, grammar)
    assert (result.value, result.command) == (None, None)


def test_number_types_are_plain_python_numbers(grammar: Grammar) -> None:
    assert type(interpret("two weeks", NUMBER, grammar).value) is int
    assert type(interpret("3.5", NUMBER, grammar).value) is float
    assert type(interpret("six", SCALE, grammar).value) is int


def test_every_command_phrase_is_its_command(grammar: Grammar) -> None:
    for command, phrases in grammar.command_phrases().items():
        assert command in COMMANDS
        for phrase in phrases:
            for answer_type in AnswerType:
                assert interpret(phrase, answer_type, grammar).command == command, phrase


@pytest.mark.parametrize("answer_type", list(AnswerType))
def test_every_listed_answer_phrase_gives_its_value(grammar: Grammar, answer_type: AnswerType) -> None:
    """Each value phrase in the data, said alone, means exactly that value."""
    checked = 0
    for words, meaning in grammar.table(answer_type).items():
        if meaning.kind.value != "value":
            continue
        result = interpret(" ".join(words), answer_type, grammar)
        assert result.value == meaning.name, words
        assert result.certain is meaning.certain, words
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("answer_type", list(AnswerType))
def test_examples_are_understood_with_certainty(grammar: Grammar, answer_type: AnswerType) -> None:
    units = ("days", "years") if answer_type is NUMBER else ("days",)
    for unit in units:
        examples = grammar.examples(answer_type, unit)
        assert len(examples) >= 3
        for example in examples:
            result = interpret(example, answer_type, grammar, unit)
            assert result.value is not None and result.certain, example
