"""A scripted patient for the end-to-end audio tests: follows what the kiosk prints, answers aloud.

It says what people say: each answer is a phrasing drawn (seeded) from the
shipped phrasings file, clinical/spoken-ko.yaml, the same file the spoken
evaluation uses, never a phrasing picked for how well it decodes.  It is
honest: to "I heard ..., is that right?" it says yes only when what was
heard is what it meant, to "is it 4 or more?" it answers from its facts,
and to "did you ask to stop?" it says no (it never asks to).
"""

from __future__ import annotations

import random
from pathlib import Path

from voice_triage.core.content import Content, Question, answer_words
from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.phrasings import Phrasings, load_phrasings
from voice_triage.core.relevance import number_cuts

PHRASINGS = Path(__file__).resolve().parents[1] / "clinical" / "spoken-ko.yaml"


class ListeningPatient:
    """Reads the kiosk's printed lines to know what is asked; ``reply()`` is what it says next."""

    def __init__(self, facts: dict[str, Value], content: Content, seed: int = 0, phrasings: Path = PHRASINGS) -> None:
        self.facts = facts
        self.content = content
        self.phrasings: Phrasings = load_phrasings(phrasings)
        self.rng = random.Random(seed)
        self.question: Question | None = None
        self.asked = "answer"  # answer | confirm | command | range
        self._line = ""
        self._cut: int | None = None
        self._texts = {q.text: q for q in content.questions} | {q.rephrase: q for q in content.questions}
        self._confirm_prefix = content.messages.text["confirm"].split("{")[0]
        messages = content.messages
        self._command_checks = {messages.say("confirm_stop"), messages.say("confirm_start_over")}

    def hear(self, line: str) -> None:
        """One line the kiosk printed."""
        if line in self._texts:
            self.question, self.asked = self._texts[line], "answer"
        elif line in self._command_checks:
            self.asked = "command"
        elif line.startswith(self._confirm_prefix):
            self.asked, self._line = "confirm", line
        else:  # "is it 4 or more?": of the question asked, or of a number asked this way from the start
            asked = [self.question] if self.question is not None else []
            for question in [*asked, *self.content.questions]:
                if (cut := self._range_cut(question, line)) is not None:
                    self.question, self.asked, self._cut = question, "range", cut
                    return

    @property
    def meant(self) -> Value:
        return self.facts.get(self.question.id, UNKNOWN) if self.question is not None else UNKNOWN

    def reply(self) -> str:
        yes_no = AnswerType.YES_NO
        if self.question is None or self.asked == "command":
            return self.phrasings.say(yes_no, "no" if self.asked == "command" else "yes", self.rng)
        truth = self.meant
        if self.asked == "confirm":
            right = self._line == self.content.messages.say(
                "confirm", answer=answer_words(self.question, truth, self.content)
            )
            return self.phrasings.say(yes_no, "yes" if right else "no", self.rng)
        if self.asked == "range":
            assert self._cut is not None
            if not isinstance(truth, int | float):
                return self.phrasings.say(yes_no, UNKNOWN, self.rng)
            return self.phrasings.say(yes_no, "yes" if truth >= self._cut else "no", self.rng)
        return self.phrasings.say(self.question.type, truth, self.rng, self.question.unit)

    def _range_cut(self, question: Question, line: str) -> int | None:
        """The number asked about in "is it 4 or more?", if ``line`` is that question."""
        if question.type not in (AnswerType.SCALE_0_10, AnswerType.NUMBER):
            return None
        scale = question.type is AnswerType.SCALE_0_10
        keys = ("range_scale", "range_scale_first") if scale else (f"range_{question.unit}",)
        for cut in number_cuts(self.content, question.id):
            amount = answer_words(question, cut, self.content, weeks=True)
            if any(line == self.content.messages.say(key, amount=amount) for key in keys):
                return cut
        return None
