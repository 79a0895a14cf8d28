"""What the scripted Korean patient says for each answer (espeak-ng renders it).

Canonical phrasings that the Korean model recognises from espeak-ng audio in
at least 5 of 6 voice/rate variants (measurements: bench/README.md).  Values
with no such phrasing (pain 1, 3 and 7, most ages) are not used in spoken
tests: espeak-ng's Korean numbers are the limit, not the grammar.
"""

from __future__ import annotations

from voice_triage.core.content import Content
from voice_triage.core.contract import Value

KO_SAY: dict[str, dict[Value, str]] = {
    "yes_no": {"yes": "네", "no": "아니요", "unknown": "몰라요"},
    "side": {"left": "왼쪽 다리", "right": "오른쪽 다리", "both": "양쪽 다리", "unknown": "몰라요"},
    "scale_0_10": {2: "이", 4: "사", 6: "여섯", "unknown": "몰라요"},
    "number": {1: "어제", 4: "사 일", 20: "이십", 25: "이십 오", "unknown": "몰라요"},
}


def confirmation_reply(line: str, meant: Value, content: Content) -> str:
    """What an honest patient says to "I heard ... Is that right?": 네 only if it heard what was meant."""
    words = content.messages.answer_words.get(meant, str(meant)) if isinstance(meant, str) else str(meant)
    return KO_SAY["yes_no"]["yes" if line == content.messages.text["confirm"].format(answer=words) else "no"]
