"""The hand-off summary of a session: what staff see, print and export.

``summarize`` turns a finished :class:`~voice_triage.core.dialogue.Dialogue`
into a :class:`Summary`: the urgency level, the red flags that fired, the
three most likely causes in the content's plain names, each with the answers
that raised it most ("Because you said ..."), and every answer in
the words the kiosk says them ("yes", "I don't know", "6", "14 days").  Pure:
the kiosk's :mod:`~voice_triage.kiosk.records` stores summaries.

A summary is not a diagnosis: it records what the person answered and what
the kiosk advised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from .because import because
from .content import Content, answer_words
from .contract import Value
from .dialogue import Dialogue
from .engine import triage

EMERGENCY = "emergency"  # the contract's most urgent level, and the dialogue's outcome for a red flag
OUTCOMES = ("finished", "emergency", "stopped")
TOP_CAUSES = 3


class CauseEntry(NamedTuple):
    id: str
    name: str  # the content's plain name
    score: float


class Answer(NamedTuple):
    """One answered question.  ``question`` and ``words`` are for people; ``fact`` and ``value`` for export."""

    question: str  # the question as the kiosk asked it
    words: str  # the answer as the kiosk says it
    fact: str  # the fact id (the question id)
    value: Value  # the answer as the engine saw it


@dataclass(frozen=True)
class Summary:
    kiosk: str
    finished_at: datetime  # aware, UTC
    locale: str
    level: str
    red_flags: tuple[str, ...]  # ids of the red-flag rules that fired
    causes: tuple[CauseEntry, ...]  # the most likely first
    answers: tuple[Answer, ...]  # in the order they were given
    outcome: str  # "finished" | "emergency" | "stopped"
    id: int | None = None  # set once stored
    # For each cause, "Because you said ..." (the answers that raised it most), or "" (see :mod:`because`)
    because: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.finished_at.tzinfo is None or self.finished_at.utcoffset() is None:
            raise ValueError("finished_at must be an aware datetime")
        if self.finished_at.utcoffset() != timedelta(0):
            object.__setattr__(self, "finished_at", self.finished_at.astimezone(UTC))
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {self.outcome!r}")

    @property
    def emergency(self) -> bool:
        return self.level == EMERGENCY or self.outcome == EMERGENCY or bool(self.red_flags)


def aware(now: datetime, what: str = "now") -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (e.g. datetime.now(UTC))")
    return now


def summarize(dialogue: Dialogue, content: Content, kiosk_name: str, now: datetime) -> Summary:
    """The hand-off summary of a session.

    A session that ended without a result (stopped, or abandoned before the
    end) is recorded as "stopped", with the level its answers so far give:
    the engine never lets a missing or "I don't know" answer lower urgency,
    but staff should read such a level as incomplete.
    """
    finished_at = aware(now).astimezone(UTC)
    result = dialogue.result or triage(content, dialogue.answers)
    outcome = dialogue.outcome or "stopped"
    names = {cause.id: cause.name for cause in content.causes}
    shown = result.causes[:TOP_CAUSES]
    causes = tuple(CauseEntry(c.id, names.get(c.id, c.id), c.score) for c in shown)
    reasons = tuple(because(content, c, dialogue.answers, dialogue.approximate) for c in shown)
    answers: list[Answer] = []
    for fact, value in dialogue.answers.items():  # in the order given ("back" removes an answer)
        question = content.question(fact)
        words = dialogue.approximate.get(fact) or answer_words(question, value, content)
        answers.append(Answer(question.text, words, fact, value))
    return Summary(
        kiosk=kiosk_name,
        finished_at=finished_at,
        locale=content.locale,
        level=result.level,
        red_flags=result.red_flags,
        causes=causes,
        answers=tuple(answers),
        outcome=outcome,
        because=reasons,
    )
