"""The result as a person reads it, and the hand-off slip they take with them.

:func:`result_view`: the level (its name, and one plain sentence of what to
do now), the possible causes as a short list (name, one-line explanation,
"because you said ..."), the warning signs to look out for, self-care tips at
the self-care level, and the disclaimer: the same content the kiosk says, in
parts the screen can lay out.

:func:`slip`: the printable hand-off slip: the level, the answers in plain
words, the time and the kiosk's name.  Never a name, a record number or any
other identifier.  Pure: the time comes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .because import because
from .content import Content, answer_words
from .contract import Value
from .engine import Result

SHOWN_CAUSES = 3


def result_view(
    content: Content,
    result: Result,
    answers: Mapping[str, Value],
    approximate: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    messages = content.messages
    level = result.level
    names = {cause.id: cause for cause in content.causes}
    causes = []
    for scored in result.causes[:SHOWN_CAUSES]:
        cause = names[scored.id]
        causes.append(
            {"name": cause.name, "explain": cause.explain, "because": because(content, scored, answers, approximate)}
        )
    red = bool(result.red_flags)
    warnings_title = messages.say("red_flag_intro") if red else messages.say("precautions_intro")
    warnings = [rule.say for rule in result.rules if rule.level == level] if red else list(messages.precautions)
    return {
        "level": level,
        "title": messages.level_names[level],
        "now": messages.level_now[level],
        "advice": messages.levels[level],
        "causes_title": messages.say("causes_intro"),
        "causes": causes,
        "warnings_title": warnings_title,
        "warnings": warnings,
        "self_care_title": messages.say("self_care_intro") if level == content.contract.levels[-1] else None,
        "self_care": list(messages.self_care) if level == content.contract.levels[-1] else [],
        "disclaimer": messages.say("disclaimer"),
    }


def slip(
    content: Content,
    level: str,
    answers: Mapping[str, Value],
    approximate: Mapping[str, str] | None,
    kiosk: str,
    local_time: datetime,
) -> dict[str, Any]:
    """The hand-off slip: what a person takes to the front desk or their clinician."""
    messages = content.messages
    rows = []
    for fact, value in answers.items():
        question = content.question(fact)
        rows.append(
            {
                "question": question.text,
                "answer": (approximate or {}).get(fact) or answer_words(question, value, content),
            }
        )
    return {
        "kiosk": kiosk,
        "time": local_time.strftime("%Y-%m-%d %H:%M"),
        "level": messages.level_names[level],
        "now": messages.level_now[level],
        "answers": rows,
        "disclaimer": messages.say("disclaimer"),
    }
