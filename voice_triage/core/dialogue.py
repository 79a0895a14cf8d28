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

from .because import because
from .choice import choose
from .content import Content, Question, answer_words
from .contract import UNKNOWN, AnswerType, Value, valid_value
from .engine import Result, emergency, triage
from .grammar import COMMANDS, NUMERIC_TYPES, Grammar
from .hearing import Reading, read_spoken, replies
from .relevance import no_counts, number_cuts
from .understanding import NOT_UNDERSTOOD, Interpretation, interpret

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Heard:
    """Words from the recogniser or the keyboard.

    ``confidence`` is the recogniser's (1.0 for typed words); ``alternatives``
    are its other readings with their scores, best first (``(text, score)``,
    the first being ``text``), from which the dialogue sees how far the best
    reading stands from one that means something else.
    """

    text: str
    confidence: float = 1.0
    alternatives: tuple[tuple[str, float], ...] = ()
    spoken: bool = False  # from a recogniser (else typed)


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
    """When a spoken answer counts as heard, and as heard clearly (see :mod:`hearing`).

    A spoken reply is read as its nearest whole reply; ``heard`` is the
    farthest that still counts (further is "not understood"), ``clear`` the
    farthest that needs no second hearing, and ``margin`` how much nearer it
    must be than the nearest reply that means something else.  Red-flag
    questions, and pain scores at the ends of the scale, need ``safety_clear``
    and ``safety_margin``.  Typed words are always clear.
    """

    heard: float = 0.4
    clear: float = 0.25
    margin: float = 0.1
    safety_clear: float = 0.15
    safety_margin: float = 0.15
    # A command is acted on only when heard this near (a command heard by mistake costs a turn)
    command: float = 0.1
    # A yes needs to be this near, and nearer than any no or "I don't know" by this much; anything
    # else is taken when farther than this from every yes (see Dialogue._yes_or_not)
    yes_clear: float = 0.1
    yes_margin: float = 0.3
    not_yes_margin: float = 0.2
    safety_not_yes_margin: float = 0.3
    # A spoken number is read back only when heard this near, with no other number this near;
    # otherwise it is asked at once as yes/no questions ("is it 4 or more?")
    number_clear: float = 0.05
    number_margin: float = 0.3
    # A hearing counts towards two that agree only when this near, and this much nearer than another meaning
    agree_cost: float = 0.3
    agree_margin: float = 0.15
    # A yes/no question's spoken hearings add up, and so do a range question's at one cut: a meaning heard
    # ``tally_count`` times this near (a read-back's yes is a hearing of what was read back, its no one
    # against), and that many times more than any other, is taken, however unclear each hearing was
    # (see Dialogue._tallied)
    tally_cost: float = 0.3
    tally_count: int = 3


@dataclass
class Turn:
    question: str
    answer: str


@dataclass(frozen=True)
class Expectation:
    """What the next spoken reply should be: an answer of ``answer_type``, with the question's own words."""

    answer_type: AnswerType
    phrases: tuple[str, ...] = ()  # the question's key words, for the recogniser's grammar


@dataclass(frozen=True)
class Awaiting:
    """What the dialogue waits for.

    ``kind`` is "answer" (to ``question``), "recheck" (the same answer again:
    the last one was not clear), "confirm_answer" (yes or no to "I heard
    ``value``, is that right?"), "confirm_command" (yes or no to "did you ask
    to ``command``?") or "nothing" (the session is over).
    """

    kind: str
    question: Question | None = None
    value: Value | None = None
    command: str | None = None


@dataclass
class Dialogue:
    content: Content
    grammar: Grammar
    thresholds: Thresholds = field(default_factory=Thresholds)
    touch: bool = False  # answers can also be touched on a screen
    answers: dict[str, Value] = field(default_factory=dict)
    unanswered: set[str] = field(default_factory=set)  # recorded as "I don't know": never understood
    approximate: dict[str, str] = field(default_factory=dict)  # numbers known only by range: the words
    ranges: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # ... and the range (low, high)
    transcript: list[Turn] = field(default_factory=list)
    current: Question | None = None
    result: Result | None = None
    outcome: str | None = None  # "finished" | "emergency" | "staff" | "stopped"
    turns: int = 0
    _asked: list[str] = field(default_factory=list)
    # an answer heard but not clearly: (value, the words, how) with how "confirm" (read back) or "recheck"
    _pending: tuple[Value, str, str] | None = None
    # "stop" or "start over" heard unclearly: it would throw the answers away, so it is asked about first
    _pending_command: str | None = None
    # a number not heard, asked as yes/no questions instead: ([low, high] still possible, the cut asked)
    _range: tuple[int, int | None, int] | None = None
    _range_heard: Value | None = None  # an unclear yes or no to the range question asked: a second must agree
    _failures: int = 0  # attempts at the current question that came to nothing
    _yes_heard: bool = False  # a spoken answer to the current question was heard as yes, near enough to count
    _weak: bool = False  # the last spoken reading was too poor to count towards two agreeing hearings
    _cost: float = 0.0  # how far the last spoken reading was from the reply it was read as
    _text: str = ""  # the recogniser's best reading, last heard
    # the current question's spoken hearings near enough to count, (scope, value) -> how many times: scope
    # "answer" (a yes/no question), "denied" (a read-back of the value denied) or the cut of a range question
    _tally: dict[tuple[object, Value], int] = field(default_factory=dict)
    _tallied_texts: set[tuple[object, Value, str]] = field(default_factory=set)  # a mishearing counts once
    _touch_offered: bool = False
    _staff_alerted: bool = False
    _spoken: bool = False  # answers are spoken (not typed, not touch only): see Content.spoken_numbers

    # ---------------------------------------------------------- public

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def confirming(self) -> bool:
        """Waiting for yes or no to "I heard ..., is that right?" or "did you ask to stop?"."""
        return self._pending_command is not None or (self._pending is not None and self._pending[2] == "confirm")

    @property
    def asking_yes_no(self) -> bool:
        """The reply wanted now is a yes or no, whatever the question's type (a read-back, a range)."""
        return self.confirming or self._range is not None

    @property
    def questions_asked(self) -> int:
        return len(self._asked)

    @property
    def awaiting(self) -> Awaiting:
        if self.finished or self.current is None:
            return Awaiting("nothing")
        if self._pending_command is not None:
            return Awaiting("confirm_command", self.current, command=self._pending_command)
        if self._range is not None:
            return Awaiting("range", self.current, self._range[2])
        if self._pending is not None:
            kind = "confirm_answer" if self._pending[2] == "confirm" else "recheck"
            return Awaiting(kind, self.current, self._pending[0])
        return Awaiting("answer", self.current)

    @property
    def listening_for(self) -> Expectation:
        """What a spoken reply would answer now (yes/no for a read-back, commands after the end)."""
        question = self.current
        if self.finished or question is None or self.asking_yes_no:
            return Expectation(AnswerType.YES_NO)
        return Expectation(question.type, question.keywords + question.denials)

    def start(self, *, listening: bool = True, typed: bool = False, noisy: bool = False) -> list[Action]:
        """Welcome, disclaimer, first question.

        ``listening=False`` where nothing hears spoken answers (touch and
        keys), ``typed=True`` for typed answers, ``noisy=True`` where the room
        is too loud for spoken answers to be heard reliably (touch is offered).
        """
        self._reset()
        self._spoken = listening and not typed
        messages = self.content.messages
        if typed:
            key = "welcome_typed"
        elif not listening:
            key = "welcome_touch"
        else:
            key = "welcome_noisy" if noisy else "welcome"
        return [Say(messages.say(key)), Say(messages.say("disclaimer")), *self._ask(self._next_question())]

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
        self.turns += 1
        if self.turns > self.content.max_turns:
            return self._hand_over()
        if isinstance(event, NoInput):
            return self._failed("no_input")
        if isinstance(event, NoMatch):
            return self._failed("no_match")
        if isinstance(event, Chose):
            return self._chose(event.value)
        return self._heard(event)

    # ------------------------------------------------------- internals

    def _reset(self) -> None:
        self.answers.clear()
        self.unanswered.clear()
        self.transcript.clear()
        self._asked.clear()
        self.current = None
        self.result = None
        self.outcome = None
        self.turns = 0
        self._pending = None
        self._pending_command = None
        self._range = None
        self._range_heard = None
        self.approximate.clear()
        self.ranges.clear()
        self._weak = False
        self._staff_alerted = False
        self._touch_offered = False
        self._failures = 0
        self._yes_heard = False
        self._tally.clear()
        self._tallied_texts.clear()

    def _next_question(self) -> Question | None:
        """The question whose answer can change the outcome most, if any can (see :mod:`choice`)."""
        return choose(self.content, self.answers).question

    def _ask(self, question: Question | None, *, text: str | None = None) -> list[Action]:
        if question is None:
            return self._finish()
        if question is not self.current:
            self._failures = 0
            self._yes_heard = False
            self._touch_offered = False
            self._tally.clear()
            self._tallied_texts.clear()
        self.current = question
        self._pending = None
        self._pending_command = None
        self._range = None
        if text is None and self._spoken and self.content.spoken_numbers == "ranges" and self._can_range():
            # a speech model that mishears numbers: asked as yes/no questions at the rules' cuts from the start
            return self._start_range()
        return [
            Say(text or question.text, "question"),
            Show(question.id, question.text, CHOICES[question.type]),
        ]

    # ---- what was heard

    def _understand(self, event: Heard, answer_type: AnswerType) -> tuple[Interpretation, bool]:
        """The reading of what was heard, and whether it was heard clearly (typed words always are)."""
        question = self.current
        assert question is not None
        asked = answer_type is question.type and not self.asking_yes_no
        keywords = question.keywords if asked else ()
        denials = question.denials if asked else ()
        unit = question.unit if asked else "days"
        self._weak = False
        if not event.spoken:
            meaning = interpret(event.text, answer_type, self.grammar, unit=unit, keywords=keywords, denials=denials)
            return meaning, True
        choices = replies(self.grammar, answer_type, keywords, denials, bare=self.asking_yes_no)
        alternatives = event.alternatives or ((event.text, 0.0),)
        reading = read_spoken(alternatives, answer_type, self.grammar, choices, unit)
        t = self.thresholds
        meaning = reading.meaning
        self._cost, self._text = reading.cost, event.text
        # the same mishearing twice is not two hearings: each must be near, and nearer than any other meaning,
        # and near in the recogniser's best reading, not only further down its list
        guessed = reading.top > t.heard
        self._weak = reading.cost > t.agree_cost or reading.margin < t.agree_margin or reading.top > t.agree_cost
        if reading.cost > (t.command if meaning.command is not None else t.heard):
            return NOT_UNDERSTOOD, False
        extreme = asked and question.type is AnswerType.SCALE_0_10 and meaning.value in (0, 10)
        strict = (asked and question.safety) or extreme or self.asking_yes_no  # a read-back's yes: as strict
        limit, margin = (t.safety_clear, t.safety_margin) if strict else (t.clear, t.margin)
        clear = reading.cost <= limit and reading.margin >= margin and not guessed
        if answer_type is AnswerType.YES_NO and meaning.value in ("yes", "no", UNKNOWN):
            # a warning sign's number asked as "is it 7 or more?" is as strict as the warning sign itself
            safety = (asked or self._range is not None) and question.safety
            read, clear = self._yes_or_not(reading, clear, asked and not no_counts(self.content, question.id), safety)
            return read, clear and not guessed
        if answer_type in NUMERIC_TYPES and meaning.value == UNKNOWN:
            # "I don't know" to a number loses what the number would tell: taken only when clear
            return meaning, reading.cost <= t.safety_clear and reading.margin >= t.safety_margin
        if answer_type in NUMERIC_TYPES and isinstance(meaning.value, int | float):
            # spoken numbers sound alike (이/오/일, 셋/네): every one is read back, and one not heard
            # near enough is asked as yes/no questions at once (see _start_range)
            sure = meaning.certain and reading.cost <= t.number_clear and reading.margin >= t.number_margin
            return Interpretation(meaning.value, None, certain=sure), False
        return meaning, clear

    def _yes_or_not(
        self, reading: Reading, clear: bool, no_is_unknown: bool, safety: bool
    ) -> tuple[Interpretation, bool]:
        """A spoken yes, no or "I don't know": what matters most is yes or not.

        Measured on the spoken evaluation, a reading far from every yes is
        almost never a yes said (0.1% of them), but a reading of yes often is
        not one (one in ten): so a reply far from yes is taken, and a yes is
        taken only when very near (else it is heard twice, or read back).  A
        no and an "I don't know" that are hard to tell apart are taken as "I
        don't know" where nothing asks for a no (``no_is_unknown``): they give
        the same level and causes there.
        """
        t = self.thresholds
        meaning = reading.meaning
        if meaning.value == "yes":
            nearest_other = min(reading.cost_of("no"), reading.cost_of(UNKNOWN))
            return meaning, reading.cost <= t.yes_clear and nearest_other - reading.cost >= t.yes_margin
        if reading.cost_of("yes") - reading.cost < (t.safety_not_yes_margin if safety else t.not_yes_margin):
            return meaning, False
        if safety and reading.top > t.agree_cost:
            # a warning sign's no or "I don't know" is taken at once only from the recogniser's best reading
            # (예 heard as "이 에 요", its no found further down the list, was once taken as "I don't know")
            return meaning, False
        if clear or not no_is_unknown:
            return meaning, clear or reading.cost <= t.clear
        return Interpretation(UNKNOWN, None, certain=meaning.certain), True

    def _heard(self, event: Heard) -> list[Action]:
        assert self.current is not None
        answer_type = self.listening_for.answer_type
        meaning, clear = self._understand(event, answer_type)
        if self._pending_command is not None:
            return self._confirming_command(meaning, clear, event.spoken)
        if self._pending is not None and self._pending[2] == "confirm":
            return self._confirming(meaning, clear, event.spoken)
        if self._range is not None:
            return self._ranging(meaning, clear, event.spoken)
        if meaning.command is not None:
            return self._spoken_command(meaning.command, clear, event.spoken)
        if meaning.value is None:
            return self._failed("no_match", spoken=event.spoken)
        return self._answer(meaning, clear, event.text, event.spoken)

    def _spoken_command(self, name: str, clear: bool, spoken: bool = True) -> list[Action]:
        """A command said (or typed): one said aloud that throws the answers away is always asked about first.

        Measured on the spoken evaluation, replies misheard as "stop" or
        "start over" outnumber the times these are said; a typed one is meant.
        """
        if name in DESTRUCTIVE and spoken:
            self._pending_command = name
            return [Say(self.content.messages.say(f"confirm_{name}"), "question")]
        if name == "back" and not clear:  # it would undo an answer: not on a guess
            return self._failed("no_match")
        return self._command(name)

    def _answer(self, meaning: Interpretation, clear: bool, said: str, spoken: bool) -> list[Action]:
        """An answer to the question: accepted, rechecked (said again) or read back ("is that right?").

        A spoken answer that would end the interview (a red flag) is always
        read back first; an unclear yes or no is asked for again, and two
        hearings that agree are accepted; anything else unclear or hedged is
        read back.
        """
        assert self.current is not None and meaning.value is not None
        value = meaning.value
        if spoken and isinstance(value, int | float) and not meaning.certain and self._can_range():
            return self._start_range()
        if spoken and self.current.type is AnswerType.YES_NO and self._tallied("answer", value):
            return self._accept(value, said)  # heard the same way often enough, if never clearly
        red_flag = spoken and self._ends_interview(value)
        if spoken and self.current.safety and value != "yes" and self._yes_heard:
            # a warning sign heard near a yes, then as no or "I don't know": one hearing of the no is not
            # enough (a yes said three times was once taken as no from "없어 아요"); two that agree are
            clear = False
        if spoken and value == "yes" and not self._weak:
            self._yes_heard = True
        if self._pending is not None and self._pending[2] == "recheck" and self._pending[0] == value and not self._weak:
            return self._accept(value, said)  # two hearings that agree
        if clear and meaning.certain and not red_flag:
            return self._accept(value, said)
        if self._pending is not None and self._pending[2] == "recheck" and self._failures + 1 >= self._budget():
            return self._failed("no_match")  # hearings that keep disagreeing: the question gives way
        if self.current.type is AnswerType.YES_NO and meaning.certain and not red_flag:
            # not heard clearly: ask for it again, and accept two hearings that agree
            first = self._pending is None
            self._failures += 0 if first else 1
            self._pending = (value, said, "recheck")
            return [Say(self.content.messages.say("recheck"), "question"), *self._question_again()]
        self._pending = (value, said, "confirm")
        return [Say(self.content.messages.say("confirm", answer=self._words(value)), "question")]

    # ---- a number asked as yes/no questions ("is it 4 or more?")

    def _can_range(self) -> bool:
        question = self.current
        return question is not None and question.type in NUMERIC_TYPES and bool(number_cuts(self.content, question.id))

    def _start_range(self) -> list[Action]:
        """A number that could not be heard is narrowed down with yes/no questions at the content's cuts.

        Only the cuts that rules and causes compare at are asked (pain: 4 or
        more? 7 or more?), so the range found decides exactly what the
        number would have: any value in it gives the same level and causes.
        """
        assert self.current is not None
        high = 10 if self.current.type is AnswerType.SCALE_0_10 else None
        self._range = (0, high, 0)
        self._range_heard = None
        self._failures = 0  # yes/no questions are a fresh start for this answer
        return self._range_question()

    def _range_question(self) -> list[Action]:
        assert self.current is not None and self._range is not None
        low, high, _ = self._range
        cuts = [c for c in number_cuts(self.content, self.current.id) if low < c and (high is None or c <= high)]
        if not cuts:
            return self._range_found(low, high)
        # the cuts the urgency level depends on first ("4 days or more?" before "6 weeks or more?"): an
        # answer that settles the level may leave only cuts for the causes
        level = [c for c in cuts if c in number_cuts(self.content, self.current.id, level_only=True)]
        cut = (level or cuts)[len(level or cuts) // 2]
        # nothing answered yet where no open question explained the scale: the scale is explained
        first = (low, high) == (0, 10) and self.content.spoken_numbers == "ranges"
        self._range = (low, high, cut)
        scale = "range_scale_first" if first else "range_scale"
        key = scale if self.current.type is AnswerType.SCALE_0_10 else f"range_{self.current.unit}"
        text = self.content.messages.say(key, amount=answer_words(self.current, cut, self.content, weeks=True))
        return [Say(text, "question"), Show(self.current.id, text, CHOICES[AnswerType.YES_NO])]

    def _ranging(self, meaning: Interpretation, clear: bool, spoken: bool = False) -> list[Action]:
        assert self.current is not None and self._range is not None
        if meaning.command is not None:
            return self._spoken_command(meaning.command, clear, spoken)
        low, high, cut = self._range
        if meaning.value not in ("yes", "no", UNKNOWN):
            return self._failed("no_match")
        if spoken and self.current.safety and meaning.value != "yes" and self._yes_heard:
            # as for a warning sign's yes/no (see _answer): heard near a yes, a no (or "I don't know") needs
            # two hearings that agree
            # (pain 9 asked "7 or more?": four unclear yeses, then "이에요" was taken as no, a missed emergency)
            clear = False
        if spoken and meaning.value == "yes" and not self._weak:
            self._yes_heard = True
        if spoken and not clear and self._tallied(cut, meaning.value):
            clear = True  # heard the same way often enough, if never clearly
        if not clear and not (self._range_heard == meaning.value and not self._weak):
            # not heard clearly: asked again, and two hearings that agree are taken (as for a yes/no question)
            first = self._range_heard is None
            self._range_heard = meaning.value
            if not first:
                self._failures += 1
                if self._failures >= self._budget():
                    return self._give_up()
            return [Say(self.content.messages.say("recheck"), "question"), *self._range_question()]
        if meaning.value == UNKNOWN:
            # taken only when clear, or heard twice: in pink noise a yes or no to "is it 7 or more?" was
            # heard as "I don't know" (전혀요 as "기억 이 없 요") 126 times, and said so only 13
            self._range = None
            return self._accept(UNKNOWN, self._words(UNKNOWN))
        self._range = (cut, high, cut) if meaning.value == "yes" else (low, cut - 1, cut)
        self._range_heard = None
        self._yes_heard = False  # the next cut is a new question,
        self._failures = 0  # with its own attempts (shared, "4 or more?" often had one left after "7 or more?")
        return self._range_question()

    def _range_found(self, low: int, high: int | None) -> list[Action]:
        assert self.current is not None
        messages = self.content.messages
        if high is None:
            words = messages.say("range_at_least", low=self._words(low))
        elif low == 0:
            words = messages.say("range_at_most", high=self._words(high))
        else:
            words = messages.say("range_between", low=self._words(low), high=self._words(high))
        self._range = None
        self.approximate[self.current.id] = words
        self.ranges[self.current.id] = (low, high)
        return self._accept(high if high is not None else low, words)

    def _ends_interview(self, value: Value) -> bool:
        assert self.current is not None
        return bool(emergency(self.content, {**self.answers, self.current.id: value}))

    def _again(self) -> list[Action]:
        """The question on screen once more: a number's yes/no question where it is being asked by range
        (its answers so far kept), else the question itself."""
        assert self.current is not None
        self._pending_command = None
        return self._range_question() if self._range is not None else self._ask(self.current)

    def _question_again(self) -> list[Action]:
        assert self.current is not None
        return [
            Say(self.current.text, "question"),
            Show(self.current.id, self.current.text, CHOICES[self.current.type]),
        ]

    def _chose(self, value: Value) -> list[Action]:
        assert self.current is not None
        if self._pending_command is not None:  # a touch on yes/no answers "did you ask to stop?"
            return self._confirming_command(Interpretation(value if value in ("yes", "no") else None, None), True)
        if self._pending is not None and self._pending[2] == "confirm":  # a touch answers the read-back
            return self._confirming(Interpretation(value if value in ("yes", "no") else None, None), True)
        if self._range is not None:  # a touch answers "is it 4 or more?"
            return self._ranging(Interpretation(value if value in ("yes", "no", UNKNOWN) else None, None), True)
        if self.current.type in (AnswerType.SCALE_0_10, AnswerType.NUMBER) and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value) if "." in value else int(value)  # a key or button gives text
        if not valid_value(self.current.type, value):
            return self._failed("no_match")
        return self._accept(value, self._words(value))

    def _confirming(self, meaning: Interpretation, clear: bool, spoken: bool = False) -> list[Action]:
        assert self._pending is not None
        if meaning.command is not None:
            return self._spoken_command(meaning.command, clear, spoken)
        value, said, _ = self._pending
        if meaning.value == "yes" and clear:
            return self._accept(value, said)
        if (
            spoken
            and self.current is not None
            and self.current.type is AnswerType.YES_NO
            and meaning.value in ("yes", "no")
            and self._tallied("answer" if meaning.value == "yes" else "denied", value)
        ):
            return self._accept(value, said)
        if meaning.value is None or meaning.value == "yes":  # a yes heard unclearly is never taken as one
            return self._failed("no_match")  # the read-back is asked again (see _reprompt)
        # "no" (or "I don't know"): not confirmed; it counts as not understood, so repeated trouble
        # escalates (rephrase, list the answers, give way) instead of looping.
        self._pending = None
        self._failures += 1
        if self._failures >= self._budget():
            return self._give_up()
        if spoken and self._can_range():  # a spoken number misheard: ask it as yes/no questions
            return self._start_range()
        if self._failures == 1:
            return [Say(self.content.messages.say("confirm_retry")), *self._ask(self.current)]
        return self._reprompt("no_match", self._failures)

    def _confirming_command(self, meaning: Interpretation, clear: bool, spoken: bool = False) -> list[Action]:
        assert self._pending_command is not None and self.current is not None
        name, self._pending_command = self._pending_command, None
        if meaning.command is not None and meaning.command != name:
            return self._spoken_command(meaning.command, clear, spoken)
        if clear and (meaning.value == "yes" or meaning.command == name):
            return self._command(name)
        return self._again()  # not clearly what they meant: carry on where they were

    def _tallied(self, scope: object, value: Value) -> bool:
        """Count a spoken hearing of ``value`` (``scope`` "denied": a read-back of it denied); has a yes/no
        question's answer, or a range question's (``scope``: its cut), now been heard as ``value`` often
        enough, and that much more often than as anything else?

        Each hearing alone may be too unclear to take (a yes found only far down the recogniser's list, a
        no close to an "I don't know"), but in pink noise a patient's yes was heard as yes five times
        running and the question still gave way.  Measured on the spoken evaluation's hearings (pink noise,
        10 dB): three near hearings of one meaning and none of another settled 49 questions that had been
        left unanswered or recorded wrong, and took a wrong meaning twice: a no (그런 적 없어요) heard as
        "적 있어요" each time, and a yes (예) heard as "아니 에 요", which had been recorded wrong before too.
        """
        t = self.thresholds
        if self._cost > t.tally_cost or (scope, value, self._text) in self._tallied_texts:
            return False  # too far, or the same mishearing again: not another hearing (it repeats: 적 있어요)
        self._tallied_texts.add((scope, value, self._text))
        self._tally[scope, value] = self._tally.get((scope, value), 0) + 1
        if scope == "denied":
            return False
        heard = self._tally[scope, value]
        against = [n for (s, v), n in self._tally.items() if (s == scope and v != value) or (s, v) == ("denied", value)]
        return heard >= t.tally_count and heard - max(against, default=0) >= t.tally_count

    def _accept(self, value: Value, said: str) -> list[Action]:
        assert self.current is not None
        question = self.current
        self.answers[question.id] = value
        self._asked.append(question.id)
        self.transcript.append(Turn(question.text, said))
        self._pending = None
        if emergency(self.content, self.answers):
            return self._finish()
        return self._ask(self._next_question())

    # ---- when nothing comes of an attempt

    def _budget(self) -> int:
        """Attempts before voice gives way: to touch first where there is a screen, then "not answered"."""
        return self.content.max_attempts + (2 if self._touch_offered else 0)

    def _failed(self, key: str, spoken: bool = False) -> list[Action]:
        assert self.current is not None
        if self._pending_command is not None:  # nothing clear in reply to "did you ask to stop?": carry on
            return self._again()
        self._failures += 1
        if self._failures >= self._budget():
            return self._give_up()
        if self._range is not None:  # nothing clear to "is it 4 or more?": asked again
            return [Say(self.content.messages.say("no_match")), *self._range_question()]
        if spoken and key == "no_match" and self._pending is None and self._can_range():
            return self._start_range()
        if self._pending is not None and self._pending[2] == "confirm":  # nothing clear to "is that right?"
            if self._failures < self._budget() - 1:
                return [Say(self.content.messages.say("confirm", answer=self._words(self._pending[0])), "question")]
            self._pending = None
        return self._reprompt(key, self._failures)

    def _reprompt(self, key: str, count: int) -> list[Action]:
        assert self.current is not None
        messages = self.content.messages
        question = self.current
        self._pending = None
        if count <= 1:
            return [Say(messages.say(key)), *self._ask(question)]
        if count == 2:
            return [Say(messages.say(key)), *self._ask(question, text=question.rephrase)]
        return [Say(self._list_answers(question)), *self._ask(question)]

    def _give_up(self) -> list[Action]:
        """Voice could not get this answer: offer touch where there is a screen, else leave it unanswered."""
        assert self.current is not None
        question = self.current
        messages = self.content.messages
        alert = self._alert_staff()
        if self.touch and not self._touch_offered:
            self._touch_offered = True
            self._pending = None
            return [Say(messages.say("touch_fallback"), "warning"), *alert, *self._ask(question)]
        self.answers[question.id] = UNKNOWN  # never lowers urgency; a red flag left unanswered is not a "no"
        self.unanswered.add(question.id)
        self._asked.append(question.id)
        self.transcript.append(Turn(question.text, messages.say("not_answered_words")))
        return [Say(messages.say("not_answered")), *alert, *self._ask(self._next_question())]

    def _alert_staff(self) -> list[Action]:
        if self._staff_alerted:
            return []
        self._staff_alerted = True
        return [Alert("assist")]

    def _hand_over(self) -> list[Action]:
        """Too many turns: staff take over, with what the session has."""
        self.result = triage(self.content, self.answers)
        self.current = None
        self.outcome = "staff"
        actions: list[Action] = [Say(self.content.messages.say("staff_handoff"), "warning"), *self._alert_staff()]
        return [*actions, *self._result_actions(self.result)]

    def _list_answers(self, question: Question) -> str:
        examples = self.grammar.examples(question.type, question.unit)
        return self.content.messages.say("list_answers", choices=", ".join(examples))

    # ---- commands

    def _command(self, name: str) -> list[Action]:
        """A command: touched, typed, or said (and confirmed where it throws the answers away)."""
        messages = self.content.messages
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        if name == "stop":
            self.outcome = self.outcome or "stopped"
            return [Say(messages.say("stopped")), End("stopped", self.result)]
        if name == "start_over":
            turns = self.turns  # a session's turn budget is not renewed by starting over
            restart = [Say(messages.say("start_over")), *self.start(typed=not self._spoken)[2:]]
            self.turns = turns
            return restart
        if self.finished:
            if name == "repeat" and self.result is not None:
                return self._result_actions(self.result)
            return []
        question = self.current
        assert question is not None
        self._pending_command = None  # any other command is the answer to "did you ask to stop?"
        if (
            self._pending is not None
            and self._pending[2] == "confirm"
            and name in ("repeat", "help", "slower", "louder")
        ):
            # keep the heard answer waiting for its yes or no
            confirm = Say(messages.say("confirm", answer=self._words(self._pending[0])), "question")
            if name == "repeat":
                return [confirm]
            if name == "help":
                choices = ", ".join(self.grammar.examples(AnswerType.YES_NO))
                return [Say(messages.say("list_answers", choices=choices)), confirm]
            return [Adjust(name), Say(messages.say(name)), confirm]
        if name == "repeat":
            return self._again()
        if name == "back":
            if not self._asked:
                return [Say(messages.say("first_question")), *self._ask(question)]
            previous = self.content.question(self._asked.pop())
            del self.answers[previous.id]
            self.unanswered.discard(previous.id)
            self.approximate.pop(previous.id, None)
            self.ranges.pop(previous.id, None)
            self.transcript.pop()
            return self._ask(previous)
        if name == "help":
            examples = ", ".join(self.grammar.examples(question.type, question.unit))
            return [
                Say(question.help),
                Say(messages.say("help_examples", examples=examples)),
                Say(messages.say("commands_help")),
                *self._again(),
            ]
        # slower / louder: change the setting, say so, and ask again
        return [Adjust(name), Say(messages.say(name)), *self._again()]

    # ---- the end

    def _finish(self) -> list[Action]:
        result = triage(self.content, self.answers)
        self.result = result
        self.current = None
        actions: list[Action] = []
        unheard_safety = [q for q in self.content.questions if q.id in self.unanswered and q.safety]
        if result.red_flags:
            self.outcome = "emergency"
            actions.append(Alert("emergency", result.level))
        elif unheard_safety:
            # a warning-sign question never understood: staff ask it (the level cannot be trusted low)
            self.outcome = "staff"
            actions += [Say(self.content.messages.say("staff_check"), "warning"), *self._alert_staff()]
        else:
            self.outcome = "finished"
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
        for scored in result.causes[:3]:
            cause = causes[scored.id]
            lines.append(Say(messages.say("cause_item", name=cause.name, explain=cause.explain), "result"))
            reason = because(self.content, scored, self.answers, self.approximate)  # "Because you said ..."
            if reason:
                lines.append(Say(reason, "result"))
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
        """An answer as the kiosk says it back: "yes", "I don't know", "6", "14 days"."""
        if self.current is None:
            return answer_words(None, value, self.content)
        return answer_words(self.current, value, self.content)


def spoken(actions: Sequence[Action]) -> list[str]:
    """The text of every Say action, in order."""
    return [action.text for action in actions if isinstance(action, Say)]
