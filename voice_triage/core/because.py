"""Because you said ...: the answers that raised a cause, in the words the kiosk says them.

Every cause shown, spoken and recorded carries the one or two answers that
raised it most (:attr:`engine.CauseScore.raised_by`), each as the answer's
words and what the question asked about (its ``topic``): "Because you said
yes when asked about pain at the front of the hip."  Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from .content import Content, answer_words
from .contract import Value
from .engine import CauseScore


def because(
    content: Content,
    cause: CauseScore,
    answers: Mapping[str, Value],
    approximate: Mapping[str, str] | None = None,
) -> str:
    """The sentence for one cause, or "" when no answer raised it (it is shown for want of better)."""
    messages = content.messages
    parts: list[str] = []
    for fact in cause.raised_by:
        if fact not in answers:
            continue
        question = content.question(fact)
        words = (approximate or {}).get(fact) or answer_words(question, answers[fact], content)
        parts.append(messages.text["because_answer"].format(answer=words, topic=question.topic))
    if not parts:
        return ""
    return messages.say("because", answers=messages.text["because_and"].join(parts))
