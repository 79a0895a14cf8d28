"""Which question next: the one whose answer is expected to change the outcome most.

Pure and deterministic.  The outcome is the urgency level and the three
causes shown.  In this order:

1. **The red-flag screen**: every question a red-flag rule reads, in the
   flow's order, before anything else, each while it can still change the
   level (:func:`relevance.matters_for_level`, which is exact).  Nothing
   below ever shortens it.
2. **Warning signs**: the other ``safety: true`` questions, each while it
   can still change the level (exact, however unlikely), the likeliest to
   change it first.
3. **The rest of the level**: a question that could change the level
   (self care or not, above all) is asked when the chance that it does is at
   least ``level_threshold``.
4. **The causes**: the question expected to raise most the chance that a
   right cause is among the three shown, if by at least ``cause_threshold``.
   A question that opens follow-up questions (its ``ask_if``) is valued with
   its best follow-up, per question asked.
5. Otherwise the interview ends: nothing left can plausibly change the level
   or the three causes.  ``max_questions`` is a safety net: past it, only
   steps 1 to 3 ask.

The chances come from the content alone.  A cause's evidence weights are log
odds: with ``base_rate`` the chance of a yes to a sign in general, a cause
that adds ``w`` to a yes makes the yes ``base_rate * e**w / (base_rate * e**w
+ 1 - base_rate)`` likely.  Bayes' rule over the answers so far (from the
causes' priors) gives the distribution over causes.  For the causes, each
still-likely cause is taken to answer a question as its evidence says it
usually would ("yes" to its signs, the range its numbers favour), and the
question is worth the chance of the causes that this brings among the three
shown, less the chance it pushes out.  "I don't know" gives no evidence
either way: it moves neither the scores nor the distribution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .conditions import All, Any_, Condition, facts_of
from .content import Content, Question
from .contract import CHOICES, UNKNOWN, AnswerType, Value
from .engine import denials, level_of
from .relevance import matters_for_level, number_cuts, possible

TOP = 3


@dataclass(frozen=True)
class Choice:
    """The next question (None: the interview is over) and why it was chosen."""

    question: Question | None
    kind: str  # "screen" | "warning" | "level" | "causes" | "done"
    chance: float = 0.0  # warning, level: the chance the answer changes the level
    rule: str | None = None  # warning, level: the rule it could make hold
    before: float = 0.0  # causes: the chance a right cause is among the three shown now
    after: float = 0.0  # causes: ... expected after the answer (per question asked)

    def why(self) -> str:
        """The reason in plain words, for ``simulate --explain``."""
        if self.question is None:
            return "nothing left can plausibly change the level or the three causes shown"
        if self.kind == "screen":
            return "red-flag screen (always asked while it can find a red flag or change the level)"
        if self.kind in ("warning", "level"):
            what = "warning sign, asked while it can change the level" if self.kind == "warning" else "the level"
            return f"{what}: {self.chance:.0%} chance it makes '{self.rule}' hold"
        return (
            f"the causes: chance a right cause is among the three shown {self.before:.0%} now, "
            f"{self.after:.0%} expected after this answer"
        )


# ------------------------------------------------------------------ the model


@dataclass(frozen=True)
class _Item:
    cause: int
    when: Condition
    weight: float


class Model:
    """The causes' distribution and the answers' chances, from one locale's content."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self.base_rate = content.base_rate
        self.priors = [cause.prior for cause in content.causes]
        self.index = {cause.id: i for i, cause in enumerate(content.causes)}
        self.items: dict[str, list[_Item]] = {}
        self.all_items: list[_Item] = []
        for index, cause in enumerate(content.causes):
            for evidence in cause.evidence:
                item = _Item(index, evidence.when, evidence.weight)
                self.all_items.append(item)
                for fact in set(facts_of(evidence.when)):
                    self.items.setdefault(fact, []).append(item)
        self.denials: dict[str, list[tuple[int, float]]] = {}
        for (cause_id, fact), weight in denials(content).items():
            self.denials.setdefault(fact, []).append((self.index[cause_id], weight))
        self.answers_of = {question.id: self._answers(question) for question in content.questions}
        self.likelihood = {question.id: self._likelihood(question.id) for question in content.questions}
        self.typical = {question.id: self._typical(question.id) for question in content.questions}
        red = [rule for rule in content.rules if rule.red_flag]
        self.screen = frozenset(q.id for q in content.questions if any(q.id in set(facts_of(r.when)) for r in red))

    # ---- answers and their chances

    def _answers(self, question: Question) -> list[tuple[Value, float]]:
        """Each answer worth telling apart, with its chance before any evidence."""
        if question.type is AnswerType.YES_NO:
            return [("yes", self.base_rate), ("no", 1.0 - self.base_rate)]
        if question.type in CHOICES:
            choices = CHOICES[question.type]
            return [(value, 1.0 / len(choices)) for value in choices]
        numbers = [0, *number_cuts(self.content, question.id)]  # one value per range between the cuts
        return [(number, 1.0 / len(numbers)) for number in numbers]

    def deltas(self, answers: Mapping[str, Value], fact: str, value: Value) -> list[float]:
        """How much each cause's score would move if ``fact`` were answered ``value``."""
        delta = [0.0] * len(self.priors)
        after = {**answers, fact: value}
        for item in self.items.get(fact, ()):
            change = int(item.when.holds(after)) - int(item.when.holds(answers))
            if change:
                delta[item.cause] += change * item.weight
        if value == "no" and answers.get(fact) != "no":
            for cause, weight in self.denials.get(fact, ()):
                delta[cause] += weight
        return delta

    def _likelihood(self, fact: str) -> list[tuple[Value, list[float]]]:
        """Each answer to ``fact`` with its chance under each cause (the weights as log odds)."""
        options = self.answers_of[fact]
        raised = [self.deltas({}, fact, value) for value, _ in options]
        if self.content.question(fact).type is AnswerType.YES_NO:
            # a yes is as likely as its weight says; a no is the rest (what a no costs follows from that)
            raised[1] = [0.0] * len(self.priors)
        table: list[tuple[Value, list[float]]] = [(value, []) for value, _ in options]
        for cause in range(len(self.priors)):
            likes = [base * math.exp(r[cause]) for (_, base), r in zip(options, raised, strict=True)]
            total = sum(likes)
            for row, like in zip(table, likes, strict=True):
                row[1].append(like / total)
        return table

    def _typical(self, fact: str) -> list[Value | None]:
        """For each cause, the answer to ``fact`` its evidence favours most (None: it favours none)."""
        options = [value for value, _ in self.answers_of[fact]]
        if self.content.question(fact).type is AnswerType.YES_NO:
            options = ["yes"]  # a cause shows in the signs it has, not in those it lacks
        deltas = [self.deltas({}, fact, value) for value in options]
        typical: list[Value | None] = []
        for cause in range(len(self.priors)):
            best, best_value = 0.0, None
            for value, delta in zip(options, deltas, strict=True):
                if delta[cause] > best + 1e-9:
                    best, best_value = delta[cause], value
            typical.append(best_value)
        return typical

    def row(self, fact: str, value: Value) -> list[float] | None:
        """The chance of ``value`` under each cause (a number: that of its range); None for unknown."""
        if value == UNKNOWN:
            return None
        best: list[float] | None = None
        for candidate, row in self.likelihood[fact]:
            if candidate == value:
                return row
            if isinstance(candidate, int | float) and isinstance(value, int | float) and value >= candidate:
                best = row
        return best

    # ---- scores and the distribution over causes

    def scores(self, answers: Mapping[str, Value]) -> list[float]:
        """The engine's scores (:func:`engine.score_causes`), fast."""
        scores = list(self.priors)
        for item in self.all_items:
            if item.when.holds(answers):
                scores[item.cause] += item.weight
        for fact, value in answers.items():
            if value == "no":
                for cause, weight in self.denials.get(fact, ()):
                    scores[cause] += weight
        return scores

    def belief(self, answers: Mapping[str, Value]) -> list[float]:
        """The distribution over causes given the answers, by Bayes' rule."""
        logs = list(self.priors)
        for fact, value in answers.items():
            row = self.row(fact, value) if fact in self.likelihood else None
            if row is not None:
                for i, like in enumerate(row):
                    logs[i] += math.log(max(like, 1e-12))
        top = max(logs)
        weights = [math.exp(x - top) for x in logs]
        total = sum(weights)
        return [w / total for w in weights]

    def chance_of(self, fact: str, test: Condition, belief: Sequence[float]) -> float:
        """The chance that ``fact``'s answer makes the atom ``test`` hold."""
        chance = 0.0
        for value, row in self.likelihood[fact]:
            if test.holds({fact: value}):
                chance += sum(b * like for b, like in zip(belief, row, strict=True))
        return chance

    def chance_holds(
        self, condition: Condition, answers: Mapping[str, Value], belief: Sequence[float], via: str | None = None
    ) -> float:
        """The chance a condition comes to hold as the unanswered facts are answered (taken one by one).

        With ``via``, the chance it holds with that fact's answer among the reasons.
        """
        if isinstance(condition, All):
            product = 1.0
            for part in condition.parts:
                product *= self.chance_holds(part, answers, belief, via if via in set(facts_of(part)) else None)
            return product
        if isinstance(condition, Any_):
            if via is not None:
                parts = [p for p in condition.parts if via in set(facts_of(p))]
                return max(self.chance_holds(p, answers, belief, via) for p in parts)
            missing = 1.0
            for part in condition.parts:
                missing *= 1.0 - self.chance_holds(part, answers, belief)
            return 1.0 - missing
        if condition.fact in answers:
            return 1.0 if condition.holds(answers) else 0.0
        if condition.fact not in self.likelihood:
            return 0.0
        return self.chance_of(condition.fact, condition, belief)


def top(scores: Sequence[float], n: int = TOP) -> list[int]:
    """The indexes of the ``n`` best scores, ties in the causes file's order (as the engine ranks)."""
    return sorted(range(len(scores)), key=lambda i: (-round(scores[i], 3), i))[:n]


_MODELS: dict[int, tuple[Content, Model]] = {}


def content_model(content: Content) -> Model:
    """The model of a content, built once per content object."""
    cached = _MODELS.get(id(content))
    if cached is None or cached[0] is not content:
        cached = (content, Model(content))
        _MODELS[id(content)] = cached
    return cached[1]


# ------------------------------------------------------------------ the level


def level_chance(
    model: Model, answers: Mapping[str, Value], fact: str, belief: Sequence[float]
) -> tuple[float, str | None]:
    """The chance that answering ``fact`` (and what else it needs) changes the level, with the rule."""
    content = model.content
    urgency = content.contract.urgency
    default = urgency(content.default_level)
    now, held = level_of(content, answers)
    held_ids = {rule.id for rule in held}
    floor = max((urgency(r.level) for r in held if urgency(r.level) >= default), default=None)
    lower = [
        r for r in content.rules if urgency(r.level) < default and r.id not in held_ids and possible(r.when, answers)
    ]
    best, best_rule = 0.0, None
    for rule in content.rules:
        if rule.id in held_ids or fact not in set(facts_of(rule.when)) or not possible(rule.when, answers):
            continue
        level = urgency(rule.level)
        chance = model.chance_holds(rule.when, answers, belief, via=fact)
        if level > urgency(now) or (level < default and floor is None):
            pass  # it would raise the level, or lower it to below the default (self care)
        elif level == default and floor is None and lower:
            # it would keep a lower level from holding
            chance *= max(model.chance_holds(r.when, answers, belief) for r in lower)
        else:
            continue
        if chance > best + 1e-12:
            best, best_rule = chance, rule.id
    return best, best_rule


# ------------------------------------------------------------------ the causes


def cause_gain(
    model: Model, answers: Mapping[str, Value], fact: str, scores: Sequence[float], belief: Sequence[float]
) -> tuple[float, float]:
    """The chance a right cause is among the three shown, now and once ``fact`` is answered.

    Each cause is taken to answer as its evidence says it usually would.
    """
    shown = set(top(scores))
    now = sum(belief[i] for i in shown)
    after = 0.0
    tops: dict[Value, set[int]] = {}
    for cause, value in enumerate(model.typical[fact]):
        if value is None:
            after += belief[cause] * (cause in shown)
            continue
        if value not in tops:
            moved = [s + d for s, d in zip(scores, model.deltas(answers, fact, value), strict=True)]
            tops[value] = set(top(moved))
        after += belief[cause] * (cause in tops[value])
    return now, after


def cause_value(
    model: Model, answers: Mapping[str, Value], fact: str, scores: Sequence[float], belief: Sequence[float]
) -> tuple[float, float]:
    """:func:`cause_gain`, or that of ``fact`` with every follow-up its answer opens, per question asked.

    A question such as "pain at the front of the hip?" is worth little alone
    when its yes is shared by many causes, but much with the questions it
    opens ("does it click?", "is it stiff?"): it is valued as the better of
    the two.
    """
    content = model.content
    now, after = cause_gain(model, answers, fact, scores, belief)
    one = after - now
    typical = model.typical[fact]
    opened = {v: opened_by(content, answers, fact, v) for v, _ in model.answers_of[fact]}
    if not any(opened.values()):
        return now, after
    shown = set(top(scores))
    total = 0.0
    questions = 1.0
    for opener, follow in opened.items():
        if follow:
            questions += len(follow) * sum(belief[c] for c, v in enumerate(typical) if v == opener)
    for cause, said in enumerate(typical):
        if said is None:
            total += belief[cause] * (cause in shown)
            continue
        step = {**answers, fact: said}
        for q in opened.get(said, ()):
            answer = model.typical[q.id][cause]
            if answer is not None:
                step[q.id] = answer
        moved = model.scores(step)
        total += belief[cause] * (cause in set(top(moved)))
    bundle = (total - now) / questions
    return now, now + max(one, bundle)


def opened_by(content: Content, answers: Mapping[str, Value], fact: str, value: Value) -> list[Question]:
    """The questions whose ``ask_if`` answering ``fact`` with ``value`` would make hold."""
    after = {**answers, fact: value}
    return [
        q
        for q in content.questions
        if q.id not in after
        and q.ask_if is not None
        and fact in set(facts_of(q.ask_if))
        and not q.ask_if.holds(answers)
        and q.ask_if.holds(after)
    ]


# ------------------------------------------------------------------ the choice


def candidates(content: Content, answers: Mapping[str, Value]) -> list[Question]:
    """The questions not answered yet whose ``ask_if`` holds, in the flow's order."""
    return [q for q in content.questions if q.id not in answers and (q.ask_if is None or q.ask_if.holds(answers))]


def choose(content: Content, answers: Mapping[str, Value]) -> Choice:
    """The next question to ask, given the answers so far (``UNKNOWN`` for "I don't know")."""
    model = content_model(content)
    open_questions = candidates(content, answers)
    for question in open_questions:
        if question.id in model.screen and matters_for_level(content, answers, question.id):
            return Choice(question, "screen")
    belief = model.belief(answers)
    best: Choice | None = None
    for question in open_questions:
        if question.safety and matters_for_level(content, answers, question.id):
            chance, rule = level_chance(model, answers, question.id, belief)
            if best is None or chance > best.chance + 1e-12:
                best = Choice(question, "warning", chance, rule)
    if best is not None:
        return best
    settings = content.choice
    for question in open_questions:
        chance, rule = level_chance(model, answers, question.id, belief)
        if chance >= settings.level_threshold and (best is None or chance > best.chance + 1e-12):
            best = Choice(question, "level", chance, rule)
    if best is not None or len(answers) >= content.max_questions:
        return best or Choice(None, "done")
    scores = model.scores(answers)
    for question in open_questions:
        now, after = cause_value(model, answers, question.id, scores, belief)
        if after - now >= settings.cause_threshold and (best is None or after - now > best.after - best.before + 1e-12):
            best = Choice(question, "causes", before=now, after=after)
    return best or Choice(None, "done")
