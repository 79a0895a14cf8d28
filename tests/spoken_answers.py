"""What the scripted Korean patient says for each answer (espeak-ng renders it).

These are the canonical phrasings, chosen because the Korean model recognises
them reliably from espeak-ng audio (see bench/accuracy.py for the figures).
"""

from __future__ import annotations

from voice_triage.contract import Value

KO_SAY: dict[str, dict[Value, str]] = {
    "yes_no": {"yes": "네", "no": "아니요", "unknown": "몰라요"},
    "side": {"left": "왼쪽", "right": "오른쪽", "both": "양쪽", "unknown": "몰라요"},
    "scale_0_10": {2: "이", 4: "사", "unknown": "몰라요"},
    "number": {1: "어제", "unknown": "몰라요"},
}
