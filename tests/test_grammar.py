"""Loading and validating grammar/<locale>/ and listing its phrases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice_triage.core.contract import AnswerType
from voice_triage.core.grammar import COMMANDS, Grammar, load_grammar, tokenize
from voice_triage.core.paths import GRAMMAR
from voice_triage.core.understanding import interpret
from voice_triage.core.yamlload import ContentError

GRAMMAR_DIR = GRAMMAR / "en"

COMMANDS_YAML = """\
repeat: [repeat]
back: [go back]
help: [help]
start_over: [start over]
stop: [stop]
slower: [slower]
louder: [louder]
"""

NUMBERS_YAML = """\
words: {one: 1, two: 2, twenty: 20}
multipliers: {hundred: 100}
fractions: {and a half: 1/2}
articles: [a]
joiners: [and]
hedges: [or]
units:
  day: {phrases: [day, days], size: {days: 1, years: 1/365}}
  week: {phrases: [week, weeks], size: {days: 7, years: 7/365}}
durations:
  - {amount: 1, unit: day, phrases: [yesterday]}
"""

ANSWERS_YAML = """\
yes_no:
  values:
    "yes": ["yes", right]
    "no": ["no"]
  examples: ["yes", "no"]
side:
  values:
    left: [left]
    right: [right]
    both: [both]
  examples: [left]
scale_0_10:
  values: {0: [none]}
  out_of: [out of]
  examples: [two]
number:
  fillers: [for]
  examples: {days: [two days], years: [twenty]}
unknown: [no idea]
hedges: [maybe]
fillers: [um]
negations: [not]
"""


def write(
    directory: Path, answers: str = ANSWERS_YAML, numbers: str = NUMBERS_YAML, commands: str = COMMANDS_YAML
) -> Path:
    (directory / "answers.yaml").write_text(answers, encoding="utf-8")
    (directory / "numbers.yaml").write_text(numbers, encoding="utf-8")
    (directory / "commands.yaml").write_text(commands, encoding="utf-8")
    return directory


def problems(directory: Path) -> list[str]:
    """Every problem as ``file:line: message``, the directory prefix removed."""
    with pytest.raises(ContentError) as caught:
        load_grammar(directory)
    prefix = f"{directory}/"
    return [str(problem).removeprefix(prefix) for problem in caught.value.problems]


@pytest.fixture(scope="module")
def english() -> Grammar:
    return load_grammar(GRAMMAR_DIR)


# ---------------------------------------------------------------- the real grammar


def test_commands_constant() -> None:
    assert COMMANDS == ("repeat", "back", "help", "start_over", "stop", "slower", "louder")


def test_english_command_phrases(english: Grammar) -> None:
    phrases = english.command_phrases()
    assert tuple(phrases) == COMMANDS
    assert {"repeat", "say that again", "pardon", "what did you say"} <= set(phrases["repeat"])
    assert {"go back", "change my answer", "previous question"} <= set(phrases["back"])
    assert "back" not in phrases["back"]  # "yes, my back hurts" is an answer
    assert {"help", "what does that mean", "i don't understand", "explain"} <= set(phrases["help"])
    assert {"start over", "start again", "restart"} <= set(phrases["start_over"])
    assert {"stop", "quit", "cancel", "i want to stop"} <= set(phrases["stop"])
    assert {"slower", "slow down", "speak slower"} <= set(phrases["slower"])
    assert {"louder", "speak up", "i can't hear you"} <= set(phrases["louder"])


@pytest.mark.parametrize("answer_type", list(AnswerType))
def test_phrases_hold_commands_unknown_hedges_fillers(english: Grammar, answer_type: AnswerType) -> None:
    phrases = english.phrases(answer_type)
    assert phrases == sorted(set(phrases))
    for command_phrases in english.command_phrases().values():
        assert set(command_phrases) <= set(phrases)
    assert {"i don't know", "not sure", "no idea", "maybe", "um", "not"} <= set(phrases)
    assert "[unk]" not in phrases
    assert all(re.fullmatch(r"[a-z']+( [a-z']+)*", phrase) for phrase in phrases)


def test_phrases_per_type(english: Grammar) -> None:
    yes_no = set(english.phrases(AnswerType.YES_NO))
    side = set(english.phrases(AnswerType.SIDE))
    scale = set(english.phrases(AnswerType.SCALE_0_10))
    number = set(english.phrases(AnswerType.NUMBER))
    assert {"yes", "no", "not really", "i think so", "right"} <= yes_no
    assert "five" not in yes_no and "left" not in yes_no
    assert {"left", "right", "both", "both legs", "left and right", "the left one"} <= side
    assert {"zero", "ten", "out of", "no pain", "none", "a", "and"} <= scale
    assert "weeks" not in scale
    assert {"nineteen", "ninety", "hundred", "half", "weeks", "fortnight", "since yesterday", "a few"} <= number


def test_every_word_the_parser_uses_is_listed(english: Grammar) -> None:
    """Every phrase the parser matches is listed in phrases(), as written (the recogniser hears those)."""
    for answer_type in AnswerType:
        listed = {tokenize(phrase) for phrase in english.phrases(answer_type)}
        assert set(english.table(answer_type)) <= listed


def test_examples(english: Grammar) -> None:
    assert english.examples(AnswerType.YES_NO) == ["yes", "no", "i don't know"]
    assert english.examples(AnswerType.SIDE) == ["left", "right", "both"]
    assert english.examples(AnswerType.NUMBER, "years") == ["forty", "sixty five", "eighty"]
    assert english.wanted_units == ("days", "years")


def test_minimal_grammar_loads(tmp_path: Path) -> None:
    grammar = load_grammar(write(tmp_path))
    assert grammar.phrases(AnswerType.YES_NO) == [
        "go back",
        "help",
        "louder",
        "maybe",
        "no",
        "no idea",
        "not",
        "repeat",
        "right",
        "slower",
        "start over",
        "stop",
        "um",
        "yes",
    ]
    assert grammar.examples(AnswerType.NUMBER, "days") == ["two days"]


# ---------------------------------------------------------------- validation


def test_unknown_keys(tmp_path: Path) -> None:
    answers = ANSWERS_YAML.replace("  examples: [left]\n", "  exampels: [left]\n")
    answers = answers.replace("    both: [both]\n", "    both: [both]\n    middle: [middle]\n")
    numbers = NUMBERS_YAML.replace("joiners:", "joiner:")
    assert problems(write(tmp_path, answers=answers, numbers=numbers)) == [
        "answers.yaml:6: missing key 'examples'",
        "answers.yaml:11: unknown key 'middle' (expected one of: left, right, both)",
        "answers.yaml:12: unknown key 'exampels' (expected one of: values, hedged, unheard, hedges, fillers, "
        "comparatives, examples)",
        "numbers.yaml:5: unknown key 'joiner' (expected one of: words, multipliers, fractions, "
        "articles, joiners, hedges, units, durations)",
    ]


def test_missing_fields(tmp_path: Path) -> None:
    commands = COMMANDS_YAML.replace("louder: [louder]\n", "")
    answers = ANSWERS_YAML.replace("    right: [right]\n", "").replace("negations: [not]\n", "")
    numbers = NUMBERS_YAML.replace("unit: day, ", "")
    assert problems(write(tmp_path, answers=answers, numbers=numbers, commands=commands)) == [
        "answers.yaml:1: missing key 'negations'",
        "answers.yaml:7: missing key 'right'",
        "commands.yaml:1: missing key 'louder'",
        "numbers.yaml:11: missing key 'unit'",
    ]


def test_wrong_types(tmp_path: Path) -> None:
    answers = ANSWERS_YAML.replace('"no": ["no"]', '"no": nope').replace("hedges: [maybe]", "hedges: [maybe, 7]")
    numbers = NUMBERS_YAML.replace("twenty: 20", "twenty: lots").replace("years: 7/365", "years: 7/0")
    commands = COMMANDS_YAML.replace("stop: [stop]", "stop: []").replace("help: [help]", "help: [help, ~]")
    assert problems(write(tmp_path, answers=answers, numbers=numbers, commands=commands)) == [
        "answers.yaml:4: 'no' must be a list of phrases",
        "answers.yaml:20: a phrase must be text, not 7",
        "commands.yaml:3: a phrase must be text, not None",
        "commands.yaml:5: command 'stop' needs at least one phrase",
        "numbers.yaml:1: 'lots' is not a number like 7, 0.5 or 1/12",
        "numbers.yaml:9: '7/0' is not a number like 7, 0.5 or 1/12",
    ]


def test_phrases_must_be_written_as_heard(tmp_path: Path) -> None:
    answers = ANSWERS_YAML.replace("left: [left]", "left: [Left!, the  left, '?']")
    assert problems(write(tmp_path, answers=answers)) == [
        "answers.yaml:8: phrase '?' has no words",
        "answers.yaml:8: write phrase 'Left!' as 'left' (lower case, single spaces, no punctuation)",
        "answers.yaml:8: write phrase 'the  left' as 'the left' (lower case, single spaces, no punctuation)",
    ]


def test_one_phrase_two_meanings_in_one_type(tmp_path: Path) -> None:
    answers = ANSWERS_YAML.replace('"no": ["no"]', '"no": ["no", right]')
    answers = answers.replace("fillers: [um]", "fillers: [um, maybe]")
    numbers = NUMBERS_YAML.replace("joiners: [and]", "joiners: [and, two]")
    assert problems(write(tmp_path, answers=answers, numbers=numbers)) == [
        "answers.yaml:4: phrase 'right' is the answer 'no' for yes_no but also the answer 'yes' for yes_no (line 3)",
        "answers.yaml:21: phrase 'maybe' is a filler but also a hedge (line 20)",
        "numbers.yaml:5: phrase 'two' is a joiner but also the number 2 (line 1)",
    ]


def test_how_much_or_how_often_is_a_yes_kept_apart(tmp_path: Path) -> None:
    """``degrees``: a yes ("a little") that the dialogue does not take as a reply to "is that right?"."""
    degrees = '  degrees:\n    "yes": [a little]\n  examples: ["yes", "no"]\n'
    answers = ANSWERS_YAML.replace('  examples: ["yes", "no"]\n', degrees)
    grammar = load_grammar(write(tmp_path, answers=answers))
    meaning = grammar.spellings[AnswerType.YES_NO]["a little"]
    assert (meaning.name, meaning.degree) == ("yes", True)
    assert not grammar.spellings[AnswerType.YES_NO]["yes"].degree
    assert "a little" in grammar.recogniser_phrases(AnswerType.YES_NO), "listened for (a decoy where it is no reply)"
    twice = answers.replace('"yes": [a little]', '"yes": [a little, right]')
    assert problems(write(tmp_path, answers=twice)) == [
        "answers.yaml:6: phrase 'right' is the answer 'yes' said as how much or how often for yes_no "
        "but also the answer 'yes' for yes_no (line 3)"
    ]


def test_same_phrase_may_mean_different_things_in_different_types(tmp_path: Path) -> None:
    grammar = load_grammar(write(tmp_path))  # "right" is yes for yes_no and right for side
    assert "right" in grammar.phrases(AnswerType.YES_NO)
    assert "right" in grammar.phrases(AnswerType.SIDE)


def test_phrase_both_command_and_answer(tmp_path: Path) -> None:
    answers = ANSWERS_YAML.replace("both: [both]", "both: [both, stop]").replace("fillers: [um]", "fillers: [um, help]")
    assert problems(write(tmp_path, answers=answers)) == [
        "answers.yaml:10: phrase 'stop' is the answer 'both' for side but also the command 'stop' "
        f"({tmp_path}/commands.yaml:5); a command phrase cannot be an answer too",
        "answers.yaml:21: phrase 'help' is a filler but also the command 'help' "
        f"({tmp_path}/commands.yaml:3); a command phrase cannot be an answer too",
    ]


def test_bad_values_units_and_durations(tmp_path: Path) -> None:
    answers = ANSWERS_YAML.replace("values: {0: [none]}", "values: {0: [none], 11: [awful]}")
    numbers = NUMBERS_YAML.replace("size: {days: 7, years: 7/365}", "size: {days: 7, months: 1/4}")
    numbers = numbers.replace("unit: day,", "unit: fortnight,")
    assert problems(write(tmp_path, answers=answers, numbers=numbers)) == [
        "answers.yaml:13: scale value '11' must be a whole number from 0 to 10",
        "numbers.yaml:9: unit 'week' must give sizes for exactly: days, years",
        "numbers.yaml:11: unknown unit 'fortnight' (expected one of: day, week)",
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    commands = COMMANDS_YAML.replace("repeat: [repeat]", "repeat: [repeat, left]")
    answers = ANSWERS_YAML.replace("hedges: [maybe]", "hedges: maybe").replace("number:", "numbers:")
    numbers = NUMBERS_YAML.replace("articles: [a]", "articles: [A]")
    found = problems(write(tmp_path, answers=answers, numbers=numbers, commands=commands))
    assert found == [
        "answers.yaml:1: missing key 'number'",
        "answers.yaml:8: phrase 'left' is the answer 'left' for side but also the command 'repeat' "
        "(commands.yaml:1); a command phrase cannot be an answer too".replace(
            "(commands.yaml", f"({tmp_path}/commands.yaml"
        ),
        "answers.yaml:16: unknown key 'numbers' (expected one of: yes_no, scale_0_10, number, side, "
        "unknown, hedges, fillers, negations, unknown_parts, negations_after, settled, breaks, particles)",
        "answers.yaml:20: 'hedges' must be a list of phrases",
        "numbers.yaml:4: write phrase 'A' as 'a' (lower case, single spaces, no punctuation)",
    ]


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    write(tmp_path, numbers="words: [one\n")
    (tmp_path / "commands.yaml").unlink()
    assert problems(tmp_path) == [
        "commands.yaml:0: file not found",
        "numbers.yaml:2: invalid YAML: expected ',' or ']', but got '<stream end>'",
    ]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(write(tmp_path, commands="- repeat\n")) == ["commands.yaml:1: expected a mapping"]


def test_recogniser_listens_for_whole_replies_not_fillers_or_pieces() -> None:
    """vosk makes a bigram of its phrases: a filler or a piece listed alone could be slipped in anywhere."""
    korean = load_grammar(GRAMMAR / "ko")

    def spell(phrase: str) -> str:  # as the Korean model cuts words: 모르겠어요 -> 모르 겠어 요
        return phrase.replace("모르겠어요", "모르 겠어 요")

    for answer_type in AnswerType:
        heard = korean.recogniser_phrases(answer_type, spell=spell)
        assert "요" in korean.phrases(answer_type) and "음" in korean.phrases(answer_type)  # the parser knows them
        assert "요" not in heard and "음" not in heard  # but they are never phrases of their own
        assert "모르 겠어 요" in heard, "whole replies stay, in the recogniser's own words"
        pieces = {p for p, meaning in korean.spellings[answer_type].items() if meaning.part}
        assert pieces, "command pieces (다시, 뒤로) are known to the parser"
        assert not pieces & set(heard)
        assert {tokenize(p) for p in heard} <= {tokenize(spell(p)) for p in korean.phrases(answer_type)} | {
            tokenize(p) for p in korean.number_sentences(answer_type)
        }


def test_recogniser_phrases_take_the_questions_own_words(english: Grammar) -> None:
    heard = english.recogniser_phrases(AnswerType.YES_NO, extra=("a temperature", "fever"))
    assert {"a temperature", "fever", "yes", "no"} <= set(heard)
    assert "fever" not in english.recogniser_phrases(AnswerType.YES_NO)


def test_english_recogniser_phrases_are_whole_replies(english: Grammar) -> None:
    for answer_type in AnswerType:
        heard = set(english.recogniser_phrases(answer_type))
        if answer_type is AnswerType.YES_NO:
            assert {"yes", "no"} <= heard
        assert "i don't know" in heard
        assert not {"um", "uh", "er"} & heard
        assert heard <= set(english.phrases(answer_type)) | set(english.number_sentences(answer_type))


def test_unheard_replies_are_understood_but_never_listened_for() -> None:
    """`unheard`: replies the speech model hears other replies as (있어요 as "이 전혀 요") stay parser-only."""
    korean = load_grammar(GRAMMAR / "ko")
    assert interpret("전혀요", AnswerType.YES_NO, korean).value == "no"
    assert "전혀요" not in korean.recogniser_phrases(AnswerType.YES_NO)
    # nor its neighbour 그럼요 (전혀요 was heard as it in pink noise: a no taken as a yes)
    assert interpret("그럼요", AnswerType.YES_NO, korean).value == "yes"
    assert "그럼요" not in korean.recogniser_phrases(AnswerType.YES_NO)
    assert "전혀 없어요" in korean.recogniser_phrases(AnswerType.YES_NO)
    # nor 살짝 (a little) in any phrase: 아뇨 was heard as "살짝 요"
    assert interpret("살짝 있어요", AnswerType.YES_NO, korean).value == "yes"
    assert not any("살짝" in phrase for phrase in korean.recogniser_phrases(AnswerType.YES_NO))
