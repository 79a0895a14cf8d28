"""The dialogue: a pure state machine over the question flow.

Events in (something heard, a touch, a command, no input, no match),
actions out (say, show, alert, adjust a setting, end).  No audio, no clock,
no files: the same dialogue runs behind a microphone, a keyboard, a touch
screen, a scripted patient and the tests.

Reprompts follow VoiceXML's counted ``noinput``/``nomatch`` events, per
question: the 1st repeats the question, the 2nd rephrases it, the 3rd lists
the valid answers, and from the 4th on staff are offered (and alerted once).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from .content import Content, Question
from .contract import UNKNOWN, AnswerType, Value, valid_value
from .engine import Result, emergency, triage
from .grammar import COMMANDS, Grammar
from .relevance import matters_for_causes, matters_for_level
from .understanding import Interpretation, interpret

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Heard:
    """Words from the recogniser or the keyboard, with the recogniser's confidence."""

    text: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Chose:
    """An answer picked on screen (touch, key or switch): no need to confirm."""

    value: Value


@dataclass(frozen=True)
class Command:
    name: str


@dataclass(frozen=True)
class NoInput:
    """The patient said nothing before the timeout."""


@dataclass(frozen=True)
class NoMatch:
    """Speech was heard but none of it fits the question's grammar."""


Event = Heard | Chose | Command | NoInput | NoMatch

# --------------------------------------------------------------- actions


@dataclass(frozen=True)
class Say:
    text: str
    kind: str = "prompt"  # prompt | question | warning | result


@dataclass(frozen=True)
class Show:
    """What the screen shows for the current question (or the result)."""

    question_id: str | None
    text: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    """Tell staff: ``kind`` is "emergency" or "assist"."""

    kind: str
    level: str | None = None


@dataclass(frozen=True)
class Adjust:
    setting: str  # "slower" | "louder"


@dataclass(frozen=True)
class End:
    outcome: str  # "finished" | "emergency" | "stopped"
    result: Result | None


Action = Say | Show | Alert | Adjust | End

# Commands that throw the answers away: when heard unclearly, they are asked about first.
DESTRUCTIVE = ("stop", "start_over")

CHOICES: dict[AnswerType, tuple[str, ...]] = {
    AnswerType.YES_NO: ("yes", "no", UNKNOWN),
    AnswerType.SIDE: ("left", "right", "both", UNKNOWN),
    AnswerType.SCALE_0_10: (*(str(n) for n in range(11)), UNKNOWN),
    AnswerType.NUMBER: (UNKNOWN,),
}


@dataclass(frozen=True)
class Thresholds:
    """Recogniser confidence below which an answer is read back for confirmation."""

    ordinary: float = 0.5
    # red-flag questions and pain scores at the ends of the scale
    safety: float = 0.9


@dataclass
class Turn:
    question: str
    answer: str


@dataclass
class Dialogue:
    content: Content
    grammar: Grammar
    thresholds: Thresholds = field(default_factory=Thresholds)
    answers: dict[str, Value] = field(default_factory=dict)
    transcript: list[Turn] = field(default_factory=list)
    current: Question | None = None
    result: Result | None = None
    outcome: str | None = None
    _asked: list[str] = field(default_factory=list)
    _pending: tuple[Value, str] | None = None
    # "stop" or "start over" heard unclearly: it would throw the answers away, so it is asked about first
    _pending_command: str | None = None
    _no_input: int = 0
    _no_match: int = 0
    _staff_alerted: bool = False

    # ---------------------------------------------------------- public

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def confirming(self) -> bool:
        """Waiting for yes or no to "I heard ..., is that right?"."""
        return self._pending is not None or self._pending_command is not None

    @property
    def questions_asked(self) -> int:
        return len(self._asked)

    def start(self, *, listening: bool = True) -> list[Action]:
        """Welcome, disclaimer, first question; ``listening=False`` where nothing hears spoken answers."""
        self._reset()
        messages = self.content.messages
        welcome = Say(messages.say("welcome" if listening else "welcome_touch"))
        return [welcome, Say(messages.say("disclaimer")), *self._ask(self._next_question(0))]

    def handle(self, event: Event) -> list[Action]:
        if isinstance(event, Command):
            return self._command(event.name)
        if self.finished:
            # only commands (repeat, start over, stop) mean anything now
            if isinstance(event, Heard):
                command = interpret(event.text, AnswerType.YES_NO, self.grammar).command
                if command is not None:
                    return self._command(command)
            return []
        if isinstance(event, NoInput):
            self._no_input += 1
            return self._reprompt("no_input", self._no_input)
        if isinstance(event, NoMatch):
            return self._no_match_event()
        if isinstance(event, Chose):
            return self._chose(event.value)
        return self._heard(event.text, event.confidence)

    # ------------------------------------------------------- internals

    def _reset(self) -> None:
        self.answers.clear()
        self.transcript.clear()
        self._asked.clear()
        self.current = None
        self.result = None
        self.outcome = None
        self._pending = None
        self._pending_command = None
        self._staff_alerted = False
        self._no_input = self._no_match = 0

    def _next_question(self, start: int) -> Question | None:
        for question in self.content.questions[start:]:
            if question.id in self.answers:
                continue
            if question.ask_if is not None and not question.ask_if.holds(self.answers):
                continue
            if matters_for_level(self.content, self.answers, question.id):
                return question  # never skipped: it can still change how urgent this is
            if self.questions_asked < self.content.max_questions and matters_for_causes(
                self.content, self.answers, question.id
            ):
                return question
        return None

    def _ask(self, question: Question | None, *, text: str | None = None) -> list[Action]:
        if question is None:
            return self._finish()
        if question is not self.current:
            self._no_input = self._no_match = 0
            self._staff_alerted = False
        self.current = question
        self._pending = None
        return [
            Say(text or question.text, "question"),
            Show(question.id, question.text, CHOICES[question.type]),
        ]

    def _heard(self, text: str, confidence: float) -> list[Action]:
        assert self.current is not None
        if self._pending_command is not None:
            return self._confirming_command(text)
        if self._pending is not None:
            return self._confirming(text)
        meaning = interpret(text, self.current.type, self.grammar, unit=self.current.unit)
        if meaning.command in DESTRUCTIVE and confidence < self.thresholds.ordinary:
            self._pending_command = meaning.command
            return [Say(self.content.messages.say(f"confirm_{meaning.command}"), "question")]
        if meaning.command is not None:
            return self._command(meaning.command)
        if meaning.value is None:
            return self._no_match_event()
        if self._needs_confirmation(meaning, confidence):
            self._pending = (meaning.value, text)
            return [Say(self.content.messages.say("confirm", answer=self._words(meaning.value)), "question")]
        return self._accept(meaning.value, text)

    def _chose(self, value: Value) -> list[Action]:
        assert self.current is not None
        if self._pending_command is not None:  # a touch on yes/no answers "did you ask to stop?"
            return self._confirming_command(str(value))
        if self._pending is not None:  # a touch on yes/no answers the confirmation
            return self._confirming(str(value))
        if self.current.type in (AnswerType.SCALE_0_10, AnswerType.NUMBER) and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value) if "." in value else int(value)  # a key or button gives text
        if not valid_value(self.current.type, value):
            return self._no_match_event()
        return self._accept(value, self._words(value))

    def _needs_confirmation(self, meaning: Interpretation, confidence: float) -> bool:
        assert self.current is not None
        if not meaning.certain:
            return True
        extreme = self.current.type is AnswerType.SCALE_0_10 and meaning.value in (0, 10)
        limit = self.thresholds.safety if self.current.safety or extreme else self.thresholds.ordinary
        return confidence < limit

    def _confirming(self, text: str) -> list[Action]:
        assert self._pending is not None
        meaning = interpret(text, AnswerType.YES_NO, self.grammar)
        if meaning.command is not None:
            return self._command(meaning.command)
        value, said = self._pending
        if meaning.value == "yes":
            return self._accept(value, said)
        # Not confirmed: counts as not understood, so repeated trouble escalates
        # (rephrase, list the answers, offer staff) instead of looping.
        self._pending = None
        self._no_match += 1
        if self._no_match == 1:
            return [Say(self.content.messages.say("confirm_retry")), *self._ask(self.current)]
        return self._reprompt("no_match", self._no_match)

    def _confirming_command(self, text: str) -> list[Action]:
        assert self._pending_command is not None and self.current is not None
        name, self._pending_command = self._pending_command, None
        meaning = interpret(text, AnswerType.YES_NO, self.grammar)
        if meaning.command is not None:
            return self._command(meaning.command)
        if meaning.value == "yes":
            return self._command(name)
        return self._ask(self.current)  # not what they meant: carry on where they were

    def _accept(self, value: Value, said: str) -> list[Action]:
        assert self.current is not None
        question = self.current
        self.answers[question.id] = value
        self._asked.append(question.id)
        self.transcript.append(Turn(question.text, said))
        self._pending = None
        if emergency(self.content, self.answers):
            return self._finish()
        index = self.content.questions.index(question)
        return self._ask(self._next_question(index + 1))

    def _no_match_event(self) -> list[Action]:
        self._no_match += 1
        return self._reprompt("no_match", self._no_match)

    def _reprompt(self, key: str, count: int) -> list[Action]:
        assert self.current is not None
        messages = self.content.messages
        question = self.current
        if self._pending_command is not None:  # nothing clear in reply to "did you ask to stop?"
            return [Say(messages.say(f"confirm_{self._pending_command}"), "question")]
        if self._pending is not None:  # nothing clear in reply to "is that right?"
            return [Say(messages.say("confirm", answer=self._words(self._pending[0])), "question")]
        if count == 1:
            return [Say(messages.say(key)), *self._ask(question)]
        if count == 2:
            return [Say(messages.say(key)), *self._ask(question, text=question.rephrase)]
        if count == 3:
            return [Say(self._list_answers(question)), *self._ask(question)]
        actions: list[Action] = [Say(messages.say("offer_staff"), "warning")]
        if not self._staff_alerted:
            self._staff_alerted = True
            actions.append(Alert("assist"))
        return [*actions, *self._ask(question)]

    def _list_answers(self, question: Question) -> str:
        examples = self.grammar.examples(question.type, question.unit)
        return self.content.messages.say("list_answers", choices=", ".join(examples))

    def _command(self, name: str) -> list[Action]:
        messages = self.content.messages
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        if name == "stop":
            self.outcome = self.outcome or "stopped"
            return [Say(messages.say("stopped")), End("stopped", self.result)]
        if name == "start_over":
            return [Say(messages.say("start_over")), *self.start()[2:]]
        if self.finished:
            if name == "repeat" and self.result is not None:
                return self._result_actions(self.result)
            return []
        question = self.current
        assert question is not None
        self._pending_command = None  # any other command is the answer to "did you ask to stop?"
        if self._pending is not None and name in ("repeat", "help", "slower", "louder"):
            # keep the heard answer waiting for its yes or no
            confirm = Say(messages.say("confirm", answer=self._words(self._pending[0])), "question")
            if name == "repeat":
                return [confirm]
            if name == "help":
                choices = ", ".join(self.grammar.examples(AnswerType.YES_NO))
                return [Say(messages.say("list_answers", choices=choices)), confirm]
            return [Adjust(name), Say(messages.say(name)), confirm]
        if name == "repeat":
            return self._ask(question)
        if name == "back":
            if not self._asked:
                return [Say(messages.say("first_question")), *self._ask(question)]
            previous = self.content.question(self._asked.pop())
            del self.answers[previous.id]
            self.transcript.pop()
            return self._ask(previous)
        if name == "help":
            examples = ", ".join(self.grammar.examples(question.type, question.unit))
            return [
                Say(question.help),
                Say(messages.say("help_examples", examples=examples)),
                Say(messages.say("commands_help")),
                *self._ask(question),
            ]
        # slower / louder: change the setting, say so, and ask again
        return [Adjust(name), Say(messages.say(name)), *self._ask(question)]

    def _finish(self) -> list[Action]:
        result = triage(self.content, self.answers)
        self.result = result
        self.current = None
        self.outcome = "emergency" if result.red_flags else "finished"
        actions: list[Action] = []
        if result.red_flags:
            actions.append(Alert("emergency", result.level))
        return [*actions, *self._result_actions(result)]

    def _result_actions(self, result: Result) -> list[Action]:
        messages = self.content.messages
        causes = {cause.id: cause for cause in self.content.causes}
        red = result.red_flags
        lines: list[Say] = []
        if red:
            lines.append(Say(messages.levels[result.level], "warning"))
            lines.append(Say(messages.say("red_flag_intro"), "warning"))
        else:
            lines.append(Say(messages.say("result_intro"), "result"))
            lines.append(Say(messages.levels[result.level], "result"))
        lines.extend(Say(rule.say, "warning") for rule in result.rules if rule.level == result.level)
        lines.append(Say(messages.say("causes_intro"), "result"))
        for cause_id in result.top(3):
            cause = causes[cause_id]
            lines.append(Say(messages.say("cause_item", name=cause.name, explain=cause.explain), "result"))
        lines.append(Say(messages.say("disclaimer"), "result"))
        if result.level == self.content.contract.levels[-1]:
            lines.append(Say(messages.say("self_care_intro"), "result"))
            lines.extend(Say(tip, "result") for tip in messages.self_care)
        if not red:
            lines.append(Say(messages.say("precautions_intro"), "result"))
            lines.extend(Say(item, "result") for item in messages.precautions)
        lines.append(Say(messages.say("finished"), "result"))
        show = Show(None, messages.level_names[result.level] + ": " + messages.levels[result.level])
        return [lines[0], show, *lines[1:], End(self.outcome or "finished", result)]

    def _words(self, value: Value) -> str:
        if isinstance(value, str):
            return self.content.messages.answer_words.get(value, value)
        return f"{value:g}" if isinstance(value, float) else str(value)


def spoken(actions: Sequence[Action]) -> list[str]:
    """The text of every Say action, in order."""
    return [action.text for action in actions if isinstance(action, Say)]
