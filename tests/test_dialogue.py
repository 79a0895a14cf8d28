"""The dialogue state machine: events in, actions out, with the real English content."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pytest

from voice_triage.core.content import Content
from voice_triage.core.contract import AnswerType, Value
from voice_triage.core.dialogue import (
    Action,
    Adjust,
    Alert,
    Chose,
    Command,
    Dialogue,
    End,
    Heard,
    NoInput,
    NoMatch,
    Say,
    Show,
    spoken,
)
from voice_triage.core.locale import Locale

FIRST = "bladder_bowel_control_loss"
SECOND = "saddle_numbness"

# A calm patient: every red flag "no", mild pain, a few days of strain after sport.
CALM: dict[str, Value] = {
    "bladder_bowel_control_loss": "no",
    "saddle_numbness": "no",
    "stroke_signs": "no",
    "cannot_bear_weight": "no",
    "sudden_onset": "no",
    "pain_score": 2,
    "getting_worse": "no",
    "injury": "no",
    "fever_chills": "no",
    "weight_loss": "no",
    "cancer_history": "no",
    "numbness_tingling": "no",
    "front_thigh_weakness": "no",
    "worse_walking_better_sitting": "no",
    "neuro_history": "no",
    "front_hip_groin_pain": "yes",
    "clicking_locking": "no",
    "hip_stiffness": "no",
    "outer_hip_pain": "no",
    "low_back_pain": "no",
    "buttock_pain": "no",
    "pain_below_knee": "no",
    "worse_sitting": "no",
    "widespread_pain_fatigue": "no",
    "pain_on_stairs": "yes",
    "duration_days": 2,
    "overuse_or_strain": "yes",
    "inactive_lifestyle": "no",
    "age": 30,
    "side": "left",
}


# ------------------------------------------------------------ helpers


def started(locale: Locale, content: Content | None = None) -> tuple[Dialogue, list[Action]]:
    dialogue = Dialogue(content or locale.content, locale.grammar)
    return dialogue, dialogue.start()


def question_text(content: Content, question_id: str) -> str:
    return content.question(question_id).text


def asks(content: Content, question_id: str) -> list[Action]:
    """The two actions that ask a question: say it, show it."""
    question = content.question(question_id)
    choices = {
        AnswerType.YES_NO: ("yes", "no", "unknown"),
        AnswerType.SIDE: ("left", "right", "both", "unknown"),
        AnswerType.SCALE_0_10: (*(str(n) for n in range(11)), "unknown"),
        AnswerType.NUMBER: ("unknown",),
    }[question.type]
    return [Say(question.text, "question"), Show(question_id, question.text, choices)]


def touch(dialogue: Dialogue, facts: Mapping[str, Value] = CALM) -> list[Action]:
    """Answer the current question by touch, as the screen shows it (pain scores as text)."""
    assert dialogue.current is not None
    value = facts[dialogue.current.id]
    awaiting = dialogue.awaiting
    if awaiting.kind == "range":  # "is it 7 or more?"
        assert isinstance(value, int | float) and isinstance(awaiting.value, int)
        return dialogue.handle(Chose("yes" if value >= awaiting.value else "no"))
    return dialogue.handle(Chose(str(value) if dialogue.current.type is AnswerType.SCALE_0_10 else value))


def advance_to(dialogue: Dialogue, question_id: str, facts: Mapping[str, Value] = CALM) -> None:
    """Answer by touch until ``question_id`` is asked."""
    for _ in range(60):
        assert dialogue.current is not None, f"finished before {question_id!r} was asked"
        if dialogue.current.id == question_id:
            return
        touch(dialogue, facts)
    raise AssertionError(f"{question_id!r} was never asked")


def said(text: str, *rivals: str, gap: float = 1.0) -> Heard:
    """A hearing from the recogniser: ``text`` best, then each rival ``gap`` score points lower."""
    alternatives = ((text, 0.0), *((rival, -gap * (i + 1)) for i, rival in enumerate(rivals)))
    return Heard(text, alternatives=alternatives, spoken=True)


def ends(actions: Sequence[Action]) -> list[End]:
    return [a for a in actions if isinstance(a, End)]


def alerts(actions: Sequence[Action]) -> list[Alert]:
    return [a for a in actions if isinstance(a, Alert)]


# ------------------------------------------------------------ start


def test_start_welcomes_and_asks_the_first_question(locale: Locale) -> None:
    content = locale.content
    _, actions = started(locale)
    assert actions == [
        Say(content.messages.say("welcome")),
        Say(content.messages.say("disclaimer")),
        *asks(content, FIRST),
    ]


def test_an_answer_moves_to_the_next_question(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Heard("no")) == asks(locale.content, SECOND)
    assert dialogue.answers == {FIRST: "no"}
    assert dialogue.questions_asked == 1
    assert [(t.question, t.answer) for t in dialogue.transcript] == [(question_text(locale.content, FIRST), "no")]


# ------------------------------------------------------------ commands


def test_repeat(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Command("repeat")) == asks(locale.content, FIRST)
    assert dialogue.answers == {}


def test_back_at_the_first_question(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Command("back")) == [
        Say(locale.content.messages.say("first_question")),
        *asks(locale.content, FIRST),
    ]
    assert dialogue.current is not None and dialogue.current.id == FIRST


def test_back_forgets_the_last_answer(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    dialogue.handle(Heard("no"))
    assert dialogue.current is not None and dialogue.current.id == "stroke_signs"
    assert dialogue.handle(Command("back")) == asks(locale.content, SECOND)
    assert dialogue.answers == {FIRST: "no"}
    assert dialogue.questions_asked == 1
    assert len(dialogue.transcript) == 1
    assert dialogue.handle(Command("back")) == asks(locale.content, FIRST)
    assert dialogue.answers == {}


def test_help(locale: Locale) -> None:
    dialogue, _ = started(locale)
    messages = locale.content.messages
    assert dialogue.handle(Command("help")) == [
        Say(locale.content.question(FIRST).help),
        Say(messages.say("help_examples", examples="yes, no, i don't know")),
        Say(messages.say("commands_help")),
        *asks(locale.content, FIRST),
    ]


def test_start_over(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    dialogue.handle(Heard("no"))
    assert dialogue.handle(Command("start_over")) == [
        Say(locale.content.messages.say("start_over")),
        *asks(locale.content, FIRST),
    ]
    assert dialogue.answers == {}
    assert dialogue.transcript == []
    assert dialogue.questions_asked == 0


def test_stop(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    assert dialogue.handle(Command("stop")) == [Say(locale.content.messages.say("stopped")), End("stopped", None)]
    assert dialogue.finished
    assert dialogue.outcome == "stopped"
    assert dialogue.handle(Heard("no")) == []
    assert dialogue.handle(NoInput()) == []


def test_spoken_stop_is_asked_about_and_no_carries_on(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    ask = Say(locale.content.messages.say("confirm_stop"), "question")
    assert dialogue.handle(said("stop")) == [ask]
    assert dialogue.confirming and not dialogue.finished
    assert dialogue.handle(said("no")) == asks(locale.content, SECOND)
    assert dialogue.answers == {FIRST: "no"}, "the answers are kept"
    assert not dialogue.confirming and not dialogue.finished


def test_silence_after_did_you_ask_to_stop_carries_on(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    dialogue.handle(said("stop"))
    assert dialogue.handle(NoInput()) == asks(locale.content, SECOND), "nothing heard: the question, not a stop"
    assert dialogue.answers == {FIRST: "no"} and not dialogue.finished


def test_an_unclear_yes_to_did_you_ask_to_stop_does_not_stop(locale: Locale) -> None:
    """A destructive command acts only on clear evidence: a yes with a rival no nearby carries on."""
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    dialogue.handle(said("stop"))
    assert dialogue.handle(said("yes", "no", gap=0.5)) == asks(locale.content, SECOND)
    assert not dialogue.finished and dialogue.answers == {FIRST: "no"}


def test_unclear_spoken_stop_confirmed_by_voice_or_touch_stops(locale: Locale) -> None:
    for reply in (Heard("yes"), Chose("yes")):
        dialogue, _ = started(locale)
        assert spoken(dialogue.handle(said("stop"))) == [locale.content.messages.say("confirm_stop")]
        assert dialogue.handle(reply)[-1] == End("stopped", None)
        assert dialogue.outcome == "stopped"


def test_typed_and_touched_stop_need_no_question(locale: Locale) -> None:
    for event in (Heard("stop"), Command("stop")):
        dialogue, _ = started(locale)
        assert dialogue.handle(event)[-1] == End("stopped", None)


def test_unclear_spoken_start_over_is_asked_about(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    assert spoken(dialogue.handle(said("start over"))) == [locale.content.messages.say("confirm_start_over")]
    assert dialogue.answers == {FIRST: "no"}
    again = [Say(locale.content.messages.say("start_over")), *asks(locale.content, FIRST)]
    assert dialogue.handle(said("yes")) == again
    assert dialogue.answers == {}


def test_another_command_answers_the_stop_question(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(said("stop"))
    assert dialogue.handle(said("repeat")) == asks(locale.content, FIRST)
    assert not dialogue.confirming


@pytest.mark.parametrize(("name", "message"), [("slower", "slower"), ("louder", "louder")])
def test_slower_and_louder(locale: Locale, name: str, message: str) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Command(name)) == [
        Adjust(name),
        Say(locale.content.messages.say(message)),
        *asks(locale.content, FIRST),
    ]


def test_unknown_command_is_a_programming_error(locale: Locale) -> None:
    dialogue, _ = started(locale)
    with pytest.raises(ValueError, match="unknown command 'dance'"):
        dialogue.handle(Command("dance"))


@pytest.mark.parametrize(
    ("said", "command"),
    [
        ("could you repeat that", "repeat"),
        ("could you say that again please", "repeat"),
        ("please go back", "back"),
        ("what does that mean", "help"),
        ("let's start over", "start_over"),
        ("I want to stop", "stop"),
        ("slow down please", "slower"),
        ("can you speak up", "louder"),
    ],
)
def test_commands_spoken_inside_a_sentence(locale: Locale, said: str, command: str) -> None:
    by_heard, _ = started(locale)
    by_command, _ = started(locale)
    by_heard.handle(Heard("no"))
    by_command.handle(Heard("no"))
    assert by_heard.handle(Heard(said)) == by_command.handle(Command(command))
    assert by_heard.answers == by_command.answers
    assert by_heard.outcome == by_command.outcome


def test_spoken_repeat_is_not_an_answer(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Heard("could you repeat that")) == asks(locale.content, FIRST)
    assert dialogue.answers == {}


# ------------------------------------------------------------ reprompts


@pytest.mark.parametrize(("event", "key"), [(NoInput(), "no_input"), (NoMatch(), "no_match")])
def test_attempt_budget_then_not_answered(locale: Locale, event: NoInput | NoMatch, key: str) -> None:
    """Each question has an attempt budget: again, rephrased, its answers listed, then left for staff."""
    content = locale.content
    messages = content.messages
    question = content.question(FIRST)
    dialogue, _ = started(locale)
    ask = asks(content, FIRST)
    assert content.max_attempts == 4
    # 1st: the question again
    assert dialogue.handle(event) == [Say(messages.say(key)), *ask]
    # 2nd: the rephrase
    assert dialogue.handle(event) == [Say(messages.say(key)), Say(question.rephrase, "question"), ask[1]]
    # 3rd: the answers it can take
    assert dialogue.handle(event) == [Say("You can say: yes, no, i don't know."), *ask]
    # 4th: no screen to fall back on, so it is not answered: staff are told, and the session goes on
    assert dialogue.handle(event) == [Say(messages.say("not_answered")), Alert("assist"), *asks(content, SECOND)]
    assert dialogue.answers == {FIRST: "unknown"}, "not answered is recorded as unknown, never as no"
    assert dialogue.unanswered == {FIRST}
    assert dialogue.transcript[-1].answer == messages.say("not_answered_words")
    # the next question that gives way does not alert staff a second time
    later = [action for _ in range(content.max_attempts) for action in dialogue.handle(event)]
    assert alerts(later) == []
    assert dialogue.unanswered == {FIRST, SECOND}


def test_touch_takes_over_when_voice_cannot_get_an_answer(locale: Locale) -> None:
    content = locale.content
    dialogue = Dialogue(content, locale.grammar, touch=True)
    dialogue.start()
    for _ in range(content.max_attempts - 1):
        dialogue.handle(NoMatch())
    fallback = dialogue.handle(NoMatch())
    assert fallback == [Say(content.messages.say("touch_fallback"), "warning"), Alert("assist"), *asks(content, FIRST)]
    assert dialogue.answers == {}, "still waiting: a touch can answer"
    assert dialogue.handle(Chose("no")) == asks(content, SECOND)
    assert dialogue.answers == {FIRST: "no"} and not dialogue.unanswered


def test_touch_offered_once_then_not_answered(locale: Locale) -> None:
    content = locale.content
    dialogue = Dialogue(content, locale.grammar, touch=True)
    dialogue.start()
    actions = [action for _ in range(content.max_attempts + 2) for action in dialogue.handle(NoInput())]
    assert actions.count(Say(content.messages.say("touch_fallback"), "warning")) == 1
    assert actions[-3:] == [Say(content.messages.say("not_answered")), *asks(content, SECOND)]
    assert dialogue.unanswered == {FIRST} and dialogue.answers == {FIRST: "unknown"}


def test_an_unanswered_warning_sign_question_hands_the_result_to_staff(locale: Locale) -> None:
    """Not answered never lowers urgency: a red-flag question nobody could answer is not a "no"."""
    content = locale.content
    dialogue, _ = started(locale)
    for _ in range(content.max_attempts):
        dialogue.handle(NoInput())
    assert dialogue.unanswered == {FIRST}
    actions: list[Action] = []
    while not dialogue.finished:
        actions = touch(dialogue)
    assert dialogue.outcome == "staff"
    assert Say(content.messages.say("staff_check"), "warning") in actions
    calm = Dialogue(content, locale.grammar)
    calm.start()
    while not calm.finished:
        touch(calm)
    assert calm.outcome == "finished"
    assert dialogue.result is not None and calm.result is not None
    assert content.contract.urgency(dialogue.result.level) >= content.contract.urgency(calm.result.level)


def test_turn_budget_hands_over_to_staff_with_what_it_has(locale: Locale) -> None:
    content = locale.content
    dialogue, _ = started(locale)
    dialogue.handle(Heard("no"))
    actions: list[Action] = []
    for _ in range(content.max_turns * 2):
        if dialogue.finished:
            break
        actions = dialogue.handle(said("maybe", "perhaps"))
    assert dialogue.finished, "a session always ends"
    assert dialogue.outcome == "staff"
    assert dialogue.turns == content.max_turns + 1
    assert actions[0] == Say(content.messages.say("staff_handoff"), "warning")
    assert dialogue.answers[FIRST] == "no", "what the session has is kept for staff"
    assert dialogue.result is not None


def test_start_over_does_not_renew_the_turn_budget(locale: Locale) -> None:
    dialogue, _ = started(locale)
    for _ in range(5):
        dialogue.handle(NoInput())
    dialogue.handle(Command("start_over"))
    assert dialogue.turns == 5


def test_gibberish_is_a_no_match(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Heard("purple elephant")) == [
        Say(locale.content.messages.say("no_match")),
        *asks(locale.content, FIRST),
    ]
    assert dialogue.handle(Heard("hmm maybe")) == [
        Say(locale.content.messages.say("no_match")),
        Say(locale.content.question(FIRST).rephrase, "question"),
        asks(locale.content, FIRST)[1],
    ]


def test_silence_and_not_understood_share_one_budget(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(NoInput())
    dialogue.handle(NoMatch())
    assert dialogue.handle(NoInput())[0] == Say("You can say: yes, no, i don't know.")
    assert dialogue.handle(NoMatch())[0] == Say(locale.content.messages.say("not_answered"))


def test_attempts_count_afresh_on_the_next_question(locale: Locale) -> None:
    dialogue, _ = started(locale)
    for _ in range(3):
        dialogue.handle(NoInput())
    dialogue.handle(Heard("no"))
    messages = locale.content.messages
    ask = asks(locale.content, SECOND)
    assert dialogue.handle(NoInput()) == [Say(messages.say("no_input")), *ask]
    assert dialogue.handle(NoMatch()) == [
        Say(messages.say("no_match")),
        Say(locale.content.question(SECOND).rephrase, "question"),
        ask[1],
    ]


def test_third_reprompt_lists_number_answers_in_the_question_unit(locale: Locale) -> None:
    dialogue, _ = started(locale)
    advance_to(dialogue, "duration_days")
    for _ in range(2):
        dialogue.handle(NoMatch())
    assert dialogue.handle(NoMatch())[0] == Say("You can say: three days, two weeks, since yesterday.")


# ------------------------------------------------------------ confirmation


def test_hedged_answer_is_confirmed_then_accepted(locale: Locale) -> None:
    dialogue, _ = started(locale)
    confirm = Say("I heard: no. Is that right? Please say yes or no.", "question")
    assert dialogue.handle(Heard("I don't think so")) == [confirm]
    assert dialogue.confirming
    assert dialogue.answers == {}
    assert dialogue.handle(Heard("yes")) == asks(locale.content, SECOND)
    assert dialogue.answers == {FIRST: "no"}
    assert not dialogue.confirming


def test_hedged_yes_is_read_back(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Heard("I think so")) == [
        Say("I heard: yes. Is that right? Please say yes or no.", "question")
    ]
    assert dialogue.answers == {}
    assert not dialogue.finished  # a red flag is not acted on before it is confirmed


def test_confirmation_refused_asks_again(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("I think so"))
    assert dialogue.handle(Heard("no")) == [
        Say(locale.content.messages.say("confirm_retry")),
        *asks(locale.content, FIRST),
    ]
    assert dialogue.answers == {}
    assert not dialogue.confirming
    assert dialogue.handle(Heard("no")) == asks(locale.content, SECOND)


def test_refused_confirmations_escalate_like_no_match(locale: Locale) -> None:
    """A refused read-back counts as not understood: the next trouble rephrases, then lists, then gives way."""
    content = locale.content
    dialogue, _ = started(locale)
    dialogue.handle(Heard("I think so"))
    dialogue.handle(Heard("no"))  # 1st: "let us try that question again"
    dialogue.handle(Heard("I think so"))
    assert dialogue.handle(Heard("no")) == [
        Say(content.messages.say("no_match")),
        Say(content.question(FIRST).rephrase, "question"),
        asks(content, FIRST)[1],
    ]
    assert dialogue.handle(NoMatch())[0] == Say("You can say: yes, no, i don't know.")
    dialogue.handle(Heard("I think so"))
    assert alerts(dialogue.handle(Heard("no"))) == [Alert("assist")]
    assert dialogue.answers == {FIRST: "unknown"}, "a read-back refused every time is not answered, not a no"
    assert dialogue.unanswered == {FIRST}


def test_confirmation_by_touch(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("I don't think so"))
    assert dialogue.handle(Chose("yes")) == asks(locale.content, SECOND)
    assert dialogue.answers == {FIRST: "no"}


def test_confirmation_repeated_on_silence_and_repeat(locale: Locale) -> None:
    dialogue, _ = started(locale)
    confirm = [Say("I heard: no. Is that right? Please say yes or no.", "question")]
    dialogue.handle(Heard("I don't think so"))
    assert dialogue.handle(NoInput()) == confirm
    assert dialogue.handle(NoMatch()) == confirm
    assert dialogue.handle(Command("repeat")) == confirm
    assert dialogue.handle(Heard("could you repeat that")) == confirm
    assert dialogue.confirming


def test_a_no_near_a_yes_on_a_safety_question_is_not_taken_at_once(locale: Locale) -> None:
    """A warning-sign "no" heard with a yes among the likely readings is heard again, never guessed."""
    dialogue, _ = started(locale)
    assert locale.content.question(FIRST).safety
    again = dialogue.handle(said("no", "yes", gap=2.0))
    assert again[0] == Say(locale.content.messages.say("recheck"), "question")
    assert dialogue.answers == {}
    assert dialogue.handle(said("no")) == asks(locale.content, SECOND), "two hearings that agree"
    assert dialogue.answers == {FIRST: "no"}


def test_a_clear_no_on_a_safety_question_is_taken(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(said("no")) == asks(locale.content, SECOND)


def test_the_same_hearing_counts_as_clear_on_an_ordinary_question(locale: Locale) -> None:
    """Red-flag questions need a wider margin from yes than ordinary ones."""
    dialogue, _ = started(locale)
    advance_to(dialogue, "numbness_tingling")
    assert not locale.content.question("numbness_tingling").safety
    actions = dialogue.handle(said("no", "yes", gap=5.0))
    assert not dialogue.confirming
    assert dialogue.answers["numbness_tingling"] == "no"
    # taken at once: the dialogue moves on (to the next question, or to the result if none is left)
    assert dialogue.current is None or dialogue.current.id != "numbness_tingling"
    assert isinstance(actions[0], Say) and actions[0].kind in ("question", "result")
    assert locale.content.messages.say("recheck") not in spoken(actions)
    safety, _ = started(locale)
    safety.handle(said("no", "yes", gap=5.0))
    assert FIRST not in safety.answers


def test_a_spoken_yes_to_a_red_flag_is_read_back_before_it_ends_the_interview(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(said("yes")) == [Say("I heard: yes. Is that right? Please say yes or no.", "question")]
    assert not dialogue.finished and dialogue.answers == {}
    assert dialogue.handle(said("yes"))[-1] == End("emergency", dialogue.result)
    assert dialogue.answers == {FIRST: "yes"}


def test_a_yes_heard_unclearly_never_confirms_a_read_back(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(said("yes"))
    assert dialogue.handle(said("yes", "no", gap=0.5)) == [
        Say(locale.content.messages.say("confirm", answer="yes"), "question")
    ]
    assert not dialogue.finished


def test_a_red_flag_heard_as_yes_then_as_no_needs_two_hearings_of_the_no(locale: Locale) -> None:
    """Once a warning sign was heard as yes, one hearing of a no is not enough: two that agree are.

    (In pink noise a patient who said yes to the bladder question three times was once recorded
    "no" from a single hearing of "없어 아요": a missed emergency.)"""
    dialogue, _ = started(locale)
    dialogue.handle(said("yes"))  # read back
    retry = dialogue.handle(said("no"))  # "no, that is not right": the question again
    assert retry[0] == Say(locale.content.messages.say("confirm_retry"))
    assert dialogue.handle(said("no"))[0] == Say(locale.content.messages.say("recheck"), "question")
    assert FIRST not in dialogue.answers
    dialogue.handle(said("no"))
    assert dialogue.answers[FIRST] in ("no", "unknown")
    # with no yes heard first, the same clear no is taken at once
    fresh, _ = started(locale)
    fresh.handle(said("no"))
    assert fresh.answers[FIRST] in ("no", "unknown")


def test_a_warning_signs_number_heard_near_yes_then_as_no_needs_two_hearings_of_the_no(locale: Locale) -> None:
    """Pain asked as "is it 7 or more?": once heard near a yes, one hearing of a no is not enough.

    (In pink noise a patient with pain 9 said yes to "7 or more?" five times, heard unclearly each
    time; then "이에요" was taken as no, and an emergency was missed.)"""
    messages = locale.content.messages
    seven, four = messages.say("range_scale", amount="7"), messages.say("range_scale", amount="4")
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    assert spoken(dialogue.handle(said("five", "nine"))) == [seven]
    assert spoken(dialogue.handle(said("yes", "no", gap=3))) == [messages.say("recheck"), seven]  # near a yes
    assert spoken(dialogue.handle(said("no"))) == [messages.say("recheck"), seven], "one no is not taken"
    assert spoken(dialogue.handle(said("no"))) == [four], "two that agree are"
    # with no yes heard first, the same clear no is taken at once
    fresh, _ = started(locale)
    advance_to(fresh, "pain_score")
    fresh.handle(said("five", "nine"))
    assert spoken(fresh.handle(said("no"))) == [four]


def test_how_much_or_how_often_answers_a_question_but_not_is_that_right(locale: Locale) -> None:
    """ "A little" is a yes to a question about a symptom, but no reply to "I heard yes. Is that right?"
    or to "is it 7 or more?": heard there, it is asked again, never taken as the yes.

    (In pink noise the Korean model heard 아뇨, no, as "살짝 요", a little, to the read-back of a warning
    sign, and the patient ended as an emergency.)"""
    messages = locale.content.messages
    dialogue, _ = started(locale)
    readback = dialogue.handle(said("yes"))  # a warning sign: read back before it ends the interview
    assert dialogue.confirming
    assert dialogue.handle(said("a little")) == readback, "asked again"
    assert not dialogue.finished and FIRST not in dialogue.answers
    assert ends(dialogue.handle(said("yes"))), "a plain yes confirms it"
    # asked "is it 7 or more?", the same reply is asked again
    seven = messages.say("range_scale", amount="7")
    ranged, _ = started(locale)
    advance_to(ranged, "pain_score")
    assert spoken(ranged.handle(said("five", "nine"))) == [seven]
    assert spoken(ranged.handle(said("sometimes"))) == [messages.say("no_match"), seven]
    assert "pain_score" not in ranged.answers
    # to the question itself it is a yes
    asked, _ = started(locale)
    advance_to(asked, "numbness_tingling")
    asked.handle(said("a little"))
    assert asked.answers["numbness_tingling"] == "yes"


def test_every_spoken_number_is_read_back(locale: Locale) -> None:
    """Spoken numbers sound alike: a clear one is read back, a typed one is not."""
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    assert dialogue.handle(said("ten")) == [Say("I heard: 10. Is that right? Please say yes or no.", "question")]
    dialogue.handle(said("yes"))
    assert dialogue.answers["pain_score"] == 10
    typed, _ = started(locale)
    advance_to(typed, "pain_score")
    typed.handle(Heard("ten"))
    assert typed.answers["pain_score"] == 10


def test_a_number_not_heard_clearly_is_asked_as_yes_no_questions(locale: Locale) -> None:
    """Pain heard as five or nine: asked "is it 7 or more?", "4 or more?" at the cuts the rules compare at."""
    messages = locale.content.messages
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    first = dialogue.handle(said("five", "nine"))
    assert spoken(first) == [messages.say("range_scale", amount="7")]
    assert dialogue.asking_yes_no and dialogue.listening_for.answer_type is AnswerType.YES_NO
    assert spoken(dialogue.handle(said("no"))) == [messages.say("range_scale", amount="4")]
    dialogue.handle(said("yes"))
    assert dialogue.answers["pain_score"] == 6, "the top of the range found: never lower than said"
    assert dialogue.approximate["pain_score"] == messages.say("range_between", low="4", high="6")


def test_i_dont_know_to_a_range_question_is_unknown_not_low(locale: Locale) -> None:
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(said("five", "nine"))
    dialogue.handle(said("I don't know"))
    assert dialogue.answers["pain_score"] == "unknown"


def test_i_dont_know_heard_unclearly_to_a_range_question_is_asked_again(locale: Locale) -> None:
    """In pink noise a yes or no to "is it 7 or more?" was heard as "I don't know" ten times as often as it
    was said: an unclear one is not taken (the number would be lost), it is asked again."""
    messages = locale.content.messages
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(said("five", "nine"))
    seven = messages.say("range_scale", amount="7")
    assert spoken(dialogue.handle(said("I don't know", "yes", gap=0.5))) == [messages.say("recheck"), seven]
    assert "pain_score" not in dialogue.answers and dialogue.asking_yes_no
    dialogue.handle(said("yes"))
    assert dialogue.answers["pain_score"] == 10 and dialogue.ranges["pain_score"] == (7, 10)


def test_a_misheard_number_refused_at_the_read_back_is_asked_by_range(locale: Locale) -> None:
    messages = locale.content.messages
    dialogue, _ = started(locale)
    advance_to(dialogue, "duration_days")
    dialogue.handle(said("three days"))
    assert dialogue.confirming
    asked = spoken(dialogue.handle(said("no")))
    assert asked and asked[0].startswith(messages.say("range_days", amount="PLACEHOLDER").split("PLACEHOLDER")[0])
    assert "duration_days" not in dialogue.answers


def test_spoken_numbers_as_ranges_ask_yes_no_questions_from_the_start(locale: Locale) -> None:
    """``spoken_numbers: ranges`` (a model that mishears numbers): pain is asked at its cuts, the scale explained."""
    content = dataclasses.replace(locale.content, spoken_numbers="ranges")
    messages = content.messages
    dialogue, _ = started(locale, content)
    advance_to(dialogue, "sudden_onset")
    first = touch(dialogue)
    assert dialogue.current is not None and dialogue.current.id == "pain_score"
    assert spoken(first) == [messages.say("range_scale_first", amount="7")]
    assert dialogue.asking_yes_no and dialogue.listening_for.answer_type is AnswerType.YES_NO
    assert dialogue.handle(Command("repeat")) == first, "repeat says the same yes/no question again"
    assert spoken(dialogue.handle(said("no"))) == [messages.say("range_scale", amount="4")]
    dialogue.handle(said("no"))
    assert dialogue.answers["pain_score"] == 3
    assert dialogue.approximate["pain_score"] == messages.say("range_at_most", high="3")


def test_help_slower_and_an_unclear_stop_keep_the_range_question_and_its_answers(locale: Locale) -> None:
    content = dataclasses.replace(locale.content, spoken_numbers="ranges")
    messages = content.messages
    dialogue, _ = started(locale, content)
    advance_to(dialogue, "sudden_onset")
    touch(dialogue)
    dialogue.handle(said("no"))  # not 7 or more: now "4 or more?"
    four = messages.say("range_scale", amount="4")
    assert spoken(dialogue.handle(Command("help")))[-1] == four
    assert spoken(dialogue.handle(Command("slower")))[-1] == four
    assert spoken(dialogue.handle(said("stop"))) == [messages.say("confirm_stop")]
    assert spoken(dialogue.handle(said("no"))) == [four], "not stopping: back to the same range question"
    dialogue.handle(said("yes"))
    assert dialogue.answers["pain_score"] == 6


def test_spoken_numbers_as_ranges_say_weeks_and_leave_typed_sessions_alone(locale: Locale) -> None:
    content = dataclasses.replace(locale.content, spoken_numbers="ranges")
    dialogue, _ = started(locale, content)
    advance_to(dialogue, "duration_days")
    dialogue.handle(Command("back"))
    asked = spoken(touch(dialogue))
    assert dialogue.current is not None and dialogue.current.id == "duration_days"
    assert asked == [content.messages.say("range_days", amount="4 days")], "the level's cut first"
    assert spoken(dialogue.handle(said("yes"))) == [content.messages.say("range_days", amount="6 weeks")]
    dialogue.handle(said("no"))
    assert dialogue.answers["duration_days"] == 41
    redo, _ = started(locale, content)
    advance_to(redo, "duration_days")
    redo.handle(Command("back"))
    touch(redo)
    follow = redo.handle(said("no"))  # under 4 days: the level is settled, so is the range
    assert redo.answers["duration_days"] == 3 and redo.approximate["duration_days"] == content.messages.say(
        "range_at_most", high="3 days"
    )
    assert not any(content.messages.say("range_days", amount="6 weeks") == line for line in spoken(follow))
    typed = Dialogue(content, locale.grammar)
    typed.start(typed=True)
    advance_to(typed, "pain_score")
    assert not typed.asking_yes_no, "typed answers are numbers: never asked by range"
    typed.handle(Heard("6"))
    assert typed.answers["pain_score"] == 6
    after = Dialogue(content, locale.grammar)
    after.start()
    after.handle(Command("start_over"))
    advance_to(after, "sudden_onset")
    touch(after)
    assert after.asking_yes_no, "starting over keeps a spoken session spoken"


# ------------------------------------------------------------ touch


def test_chose_an_answer_by_touch(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Chose("no")) == asks(locale.content, SECOND)
    assert [(t.question, t.answer) for t in dialogue.transcript] == [(question_text(locale.content, FIRST), "no")]


def test_chose_a_value_the_question_cannot_take(locale: Locale) -> None:
    dialogue, _ = started(locale)
    assert dialogue.handle(Chose("left")) == [
        Say(locale.content.messages.say("no_match")),
        *asks(locale.content, FIRST),
    ]
    assert dialogue.answers == {}


def test_chose_a_pain_score_shown_on_screen(locale: Locale) -> None:
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(Chose("4"))
    assert dialogue.answers["pain_score"] == 4


def test_chose_a_pain_score_as_a_number(locale: Locale) -> None:
    """A touch screen may send the number itself: 4 is a pain score as much as "4" is."""
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(Chose(4))
    assert dialogue.answers.get("pain_score") == 4


# ------------------------------------------------------------ red flags and the end


def test_red_flag_interrupts_at_once(locale: Locale) -> None:
    content = locale.content
    dialogue, _ = started(locale)
    actions = dialogue.handle(Heard("yes"))
    emergency_text = content.messages.levels["emergency"]
    said = [a for a in actions if isinstance(a, Say)]
    assert said[0] == Say(emergency_text, "warning")
    assert said[1] == Say(content.messages.say("red_flag_intro"), "warning")
    assert alerts(actions) == [Alert("emergency", "emergency")]
    assert actions.index(Alert("emergency", "emergency")) < actions.index(said[0])
    assert [e.outcome for e in ends(actions)] == ["emergency"]
    assert actions[-1] == ends(actions)[0]
    assert not any(isinstance(a, Show) and a.question_id is not None for a in actions)
    assert not any(isinstance(a, Say) and a.kind == "question" for a in actions)
    assert dialogue.questions_asked == 1
    assert dialogue.outcome == "emergency"
    result = ends(actions)[0].result
    assert result is not None
    assert (result.level, result.red_flags) == ("emergency", (FIRST,))
    assert result.top(1) == ("cauda_equina",)


def test_red_flag_of_two_answers(locale: Locale) -> None:
    dialogue, _ = started(locale)
    advance_to(dialogue, "sudden_onset")
    dialogue.handle(Chose("yes"))  # urgent on its own: the interview goes on
    assert dialogue.current is not None and dialogue.current.id == "pain_score"
    actions = dialogue.handle(Chose("8"))
    assert [e.outcome for e in ends(actions)] == ["emergency"]
    assert dialogue.result is not None
    assert dialogue.result.red_flags == ("sudden_severe_pain",)


def test_a_whole_session_ends_with_the_result(locale: Locale) -> None:
    content = locale.content
    dialogue, _ = started(locale)
    last: list[Action] = []
    for _ in range(40):
        if dialogue.finished:
            break
        last = touch(dialogue)
    assert dialogue.outcome == "finished"
    assert [e.outcome for e in ends(last)] == ["finished"]
    assert alerts(last) == []
    result = dialogue.result
    assert result is not None and result.level == "self_care"
    assert [r.id for r in result.rules] == ["short_mild_overuse"]
    said = spoken(last)
    assert said[:2] == [content.messages.say("result_intro"), content.messages.levels["self_care"]]
    assert content.messages.say("disclaimer") in said
    assert said[-1] == content.messages.say("finished")
    assert Show(None, "Home care: " + content.messages.levels["self_care"]) in last
    assert dialogue.questions_asked <= content.max_questions + 5


def test_result_is_repeated_after_the_end(locale: Locale) -> None:
    dialogue, _ = started(locale)
    first = dialogue.handle(Heard("yes"))
    again = dialogue.handle(Command("repeat"))
    # the same words and screen, without alerting staff a second time
    assert again == [a for a in first if not isinstance(a, Alert)]
    assert dialogue.outcome == "emergency"


def test_start_over_after_the_end(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("yes"))
    assert dialogue.handle(Command("start_over")) == [
        Say(locale.content.messages.say("start_over")),
        *asks(locale.content, FIRST),
    ]
    assert not dialogue.finished
    assert dialogue.result is None
    assert dialogue.answers == {}
    assert dialogue.handle(Heard("no")) == asks(locale.content, SECOND)


def test_a_finished_dialogue_ignores_answers(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("yes"))
    assert dialogue.handle(Heard("no")) == []
    assert dialogue.handle(Chose("no")) == []
    assert dialogue.handle(NoInput()) == []
    assert dialogue.handle(NoMatch()) == []
    assert dialogue.handle(Command("back")) == []
    assert dialogue.answers == {FIRST: "yes"}


def test_stop_after_the_end_keeps_the_result(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("yes"))
    result = dialogue.result
    actions = dialogue.handle(Command("stop"))
    assert actions == [Say(locale.content.messages.say("stopped")), End("stopped", result)]
    assert dialogue.outcome == "emergency"


@pytest.mark.parametrize(("said", "command"), [("repeat", "repeat"), ("could you say that again", "repeat")])
def test_spoken_repeat_after_the_end_repeats_the_result(locale: Locale, said: str, command: str) -> None:
    """The last words are "Say repeat to hear this again, or start over": saying it must work."""
    spoken_to, _ = started(locale)
    commanded, _ = started(locale)
    spoken_to.handle(Heard("yes"))
    commanded.handle(Heard("yes"))
    assert spoken_to.handle(Heard(said)) == commanded.handle(Command(command)) != []


def test_spoken_start_over_after_the_end(locale: Locale) -> None:
    dialogue, _ = started(locale)
    dialogue.handle(Heard("yes"))
    assert dialogue.handle(Heard("start over")) == [
        Say(locale.content.messages.say("start_over")),
        *asks(locale.content, FIRST),
    ]


def test_start_where_nothing_listens_does_not_ask_for_speech(locale: Locale) -> None:
    dialogue = Dialogue(locale.content, locale.grammar)
    first, *rest = dialogue.start(listening=False)
    assert first == Say(locale.content.messages.say("welcome_touch"))
    assert "out loud" not in first.text and "out loud" in locale.content.messages.say("welcome")
    assert rest == Dialogue(locale.content, locale.grammar).start()[1:]


def test_the_same_unclear_hearing_twice_is_not_two_hearings_that_agree(locale: Locale) -> None:
    """A no with a yes close behind, heard twice, is still not a no (the same mishearing repeats)."""
    dialogue, _ = started(locale)
    for _ in range(2 * locale.content.max_attempts):
        if FIRST in dialogue.answers:
            break
        dialogue.handle(said("no", "yes", gap=0.5))
    assert dialogue.answers == {FIRST: "unknown"} and dialogue.unanswered == {FIRST}, "given way, never a no"


def test_hearings_of_one_meaning_add_up_though_none_is_clear(locale: Locale) -> None:
    """A yes heard three ways, each with a no close behind (none clear, none two that agree), is a yes."""
    dialogue, _ = started(locale)
    advance_to(dialogue, "numbness_tingling")
    for text in ("yes", "yeah", "yep"):
        assert "numbness_tingling" not in dialogue.answers
        dialogue.handle(said(text, "no", gap=0.5))
    assert dialogue.answers["numbness_tingling"] == "yes"


def test_a_read_back_denied_counts_against_what_was_read_back(locale: Locale) -> None:
    """A red-flag yes heard three ways is taken, also from a read-back's yes; a read-back denied, or a
    hearing of another meaning, holds the yeses back."""
    confirmed, _ = started(locale)
    confirmed.handle(said("yes", "no", gap=0.5))  # unclear: said again
    confirmed.handle(said("yeah", "no", gap=0.5))
    assert confirmed.awaiting.kind == "confirm_answer"  # a red flag: read back
    confirmed.handle(said("yep", "nope", gap=0.5))
    assert confirmed.answers.get(FIRST) == "yes" and confirmed.finished, "three hearings of the yes: an emergency"
    denied, _ = started(locale)
    denied.handle(said("yes", "no", gap=0.5))
    denied.handle(said("yeah", "no", gap=0.5))
    assert denied.awaiting.kind == "confirm_answer"
    denied.handle(said("no", "yes", gap=0.5))  # the read-back denied: the question is asked again
    assert denied.awaiting.kind == "answer"
    denied.handle(said("yep", "no", gap=0.5))
    assert FIRST not in denied.answers, "three yeses, one of them denied, are not enough"
    disagreeing, _ = started(locale)
    for text in ("yes", "no", "yeah", "yep"):
        disagreeing.handle(said(text, "yes" if text == "no" else "no", gap=0.5))
    assert FIRST not in disagreeing.answers, "three yeses and a no are not enough"


def test_a_meaning_found_only_further_down_the_n_best_list_is_a_guess(locale: Locale) -> None:
    """The recogniser's best reading is nothing like an answer; a no only in its fourth guess is not taken."""
    dialogue, _ = started(locale)
    actions = dialogue.handle(said("purple elephant", "banana", "umbrella", "no"))
    assert FIRST not in dialogue.answers
    assert not any(isinstance(a, Show) and a.question_id == SECOND for a in actions)


def test_a_warning_sign_no_needs_the_best_reading_itself_near_a_no(locale: Locale) -> None:
    """ "now" heard first and "no" second: taken on an ordinary question, heard again on a red flag."""
    dialogue, _ = started(locale)
    assert dialogue.handle(said("now", "no", gap=0.1))[0] == Say(locale.content.messages.say("recheck"), "question")
    assert FIRST not in dialogue.answers
    ordinary, _ = started(locale)
    advance_to(ordinary, "numbness_tingling")
    ordinary.handle(said("now", "no", gap=0.1))
    assert ordinary.answers["numbness_tingling"] == "no"


def test_the_result_says_why_each_cause_is_shown(locale: Locale) -> None:
    """Every cause said aloud carries the answers that raised it most, in the patient's words."""
    dialogue, _ = started(locale)
    actions: list[Action] = []
    while not dialogue.finished:
        actions = touch(dialogue, {**CALM, "fever_chills": "yes"})
    said_lines = spoken(actions)
    prefix = locale.content.messages.text["because"].split("{")[0]
    reasons = [line for line in said_lines if line.startswith(prefix)]
    assert reasons, said_lines
    assert any("fever" in line for line in reasons), reasons


def test_a_range_reply_heard_unclearly_is_asked_again_and_two_that_agree_are_taken(locale: Locale) -> None:
    """As for a yes/no question: an unclear yes to "is it 7 or more?" is not taken, nor thrown away as
    not understood; the same question again, and a second hearing that agrees, narrows the range."""
    messages = locale.content.messages
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(said("five", "nine"))
    seven = messages.say("range_scale", amount="7")
    again = spoken(dialogue.handle(said("yes", "no", gap=0.5)))
    assert again == [messages.say("recheck"), seven], "an unclear yes is asked again"
    assert "pain_score" not in dialogue.answers and dialogue.asking_yes_no
    dialogue.handle(said("yes", "no", gap=3.0))  # heard yes again, unclearly but not poorly: two that agree
    assert dialogue.answers["pain_score"] == 10 and dialogue.ranges["pain_score"] == (7, 10)


def test_each_range_question_has_its_own_attempts(locale: Locale) -> None:
    """Each yes/no question at a cut is a question with its own attempt budget: "4 or more?" is not given
    up after one try because "7 or more?" took several (the clean spoken run lost pain 30 times so)."""
    messages = locale.content.messages
    budget = locale.content.max_attempts
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(said("five", "nine"))
    for _ in range(budget - 1):
        dialogue.handle(NoMatch())
    four = messages.say("range_scale", amount="4")
    assert spoken(dialogue.handle(said("no"))) == [four]
    for _ in range(budget - 1):
        assert spoken(dialogue.handle(NoMatch())) == [messages.say("no_match"), four]
    dialogue.handle(said("yes"))
    assert dialogue.answers["pain_score"] == 6 and "pain_score" not in dialogue.unanswered
    assert dialogue.ranges["pain_score"] == (4, 6)
    hopeless, _ = started(locale)
    advance_to(hopeless, "pain_score")
    hopeless.handle(said("five", "nine"))
    for _ in range(budget):
        hopeless.handle(NoMatch())
    assert hopeless.answers["pain_score"] == "unknown" and "pain_score" in hopeless.unanswered, "still gives way"


def test_hearings_of_a_range_question_add_up(locale: Locale) -> None:
    """ "7 or more?" answered yes three ways, each with a no close behind: the range is found."""
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(said("five", "nine"))
    assert dialogue.awaiting.kind == "range" and dialogue.awaiting.value == 7
    for text in ("yes", "yeah", "yep"):
        assert "pain_score" not in dialogue.answers
        dialogue.handle(said(text, "no", gap=0.5))
    assert dialogue.ranges["pain_score"] == (7, 10)


def test_range_replies_that_disagree_are_not_taken(locale: Locale) -> None:
    messages = locale.content.messages
    dialogue, _ = started(locale)
    advance_to(dialogue, "pain_score")
    dialogue.handle(said("five", "nine"))
    dialogue.handle(said("yes", "no", gap=3.0))
    assert spoken(dialogue.handle(said("no", "yes", gap=3.0)))[-1] == messages.say("range_scale", amount="7")
    assert "pain_score" not in dialogue.answers
    dialogue.handle(said("no", "yes", gap=0.5))  # a poor hearing never makes two that agree
    assert "pain_score" not in dialogue.answers
