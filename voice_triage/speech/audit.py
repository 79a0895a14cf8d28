"""The grammar audit: which phrases does the recogniser hear as another value?

Every whole reply the recogniser listens for (``Grammar.recogniser_phrases``:
the answers, "I don't know" in all its forms, the voice commands, whole
amounts such as 어제 or "안 아파요"), and a few representative numbers in
place of the recogniser's hundreds of number sentences, is synthesised in
several espeak-ng voices, in silence, and heard the way the live loop hears
an answer: 30 ms frames through the endpointer and the grammar-restricted
recogniser of the answer type (:meth:`Listener.hear`), then read against the
whole replies by sound (:func:`read_spoken`), with the dialogue's bar for an
answer (or a command) heard at all (:class:`Thresholds`).  The grammar is
the answer type's own, without a question's key words: for yes/no it is the
grammar of every read-back and every "is it 4 or more?".

A phrase heard as *another* value (아니에요 said, yes read) is what a
content author wants to see: a phrase to drop, or to keep away from its
neighbours.  Whether the dialogue would take such a reading at once or read
it back is not judged here (its ``cost`` and ``margin`` are reported).

Each clip's dither is seeded from the phrase and the voice, so the report is
the same run after run, in one process or several.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from ..core.contract import AnswerType, Value
from ..core.dialogue import Expectation, Heard, Thresholds
from ..core.grammar import NUMERIC_TYPES, Grammar, Kind
from ..core.hearing import Reading, read_spoken, replies
from ..core.understanding import NOT_UNDERSTOOD, Interpretation, interpret
from .asr import Recognizer
from .listening import Listener
from .speech_in import ListenSettings
from .spoken_eval import LEAD_S, ClipSource, same
from .synthetic import Noise, Speech, Voice, mix, noise_gain

SCALE_POINTS = (0, 3, 7, 10)  # pain-scale numbers said, in every number word the grammar has for them
DURATION_AMOUNT = 3  # said with each duration unit: "3 days", "삼 개월"
WHOLE_REPLIES = (Kind.VALUE, Kind.COMMAND, Kind.AMOUNT)  # a phrase that is an answer by itself
UNIT = "days"  # numbers are read in days, as the dialogue reads a read-back's or a typed number

OK, OTHER, NOT_UNDERSTOOD_OUTCOME = "ok", "other_value", "not_understood"
COVERAGE = (
    "every whole reply the recogniser listens for (answers, hedged answers, 'I don't know', voice commands, "
    f"whole amounts), and of the numbers only {', '.join(map(str, SCALE_POINTS))} on the pain scale, "
    f"{DURATION_AMOUNT} of each duration unit and the grammar's number examples"
)


@dataclass(frozen=True)
class Check:
    """A phrase to say for an answer type, and what it should be read as."""

    answer_type: AnswerType
    phrase: str
    intended: Interpretation


def representative_numbers(grammar: Grammar, answer_type: AnswerType) -> list[str]:
    """A few numbers instead of the recogniser's every number sentence (see SCALE_POINTS, DURATION_AMOUNT)."""
    if answer_type not in NUMERIC_TYPES:
        return []
    table = grammar.spellings[answer_type]
    number_words = [(p, m.amount) for p, m in table.items() if m.kind is Kind.NUMBER]
    if answer_type is AnswerType.SCALE_0_10:
        said = [p for p, amount in number_words if amount in SCALE_POINTS]
        return said + grammar.examples(answer_type)
    first = next((p for p, amount in number_words if amount == DURATION_AMOUNT), None)
    units: dict[str, list[str]] = {}
    for phrase, meaning in table.items():
        if meaning.kind is Kind.UNIT:
            units.setdefault(meaning.name, []).append(phrase)
    said = [f"{first} {max(phrases, key=len)}" for phrases in units.values()] if first else []
    return said + [p for unit in grammar.wanted_units for p in grammar.examples(answer_type, unit)]


def checks(grammar: Grammar, types: Iterable[AnswerType] = tuple(AnswerType)) -> list[Check]:
    """The phrases to say for each answer type: the recogniser's whole replies and a few numbers."""
    found: list[Check] = []
    for answer_type in types:
        table = grammar.spellings[answer_type]
        numbers = set(grammar.number_sentences(answer_type))
        whole = [
            p
            for p in grammar.recogniser_phrases(answer_type)
            if p not in numbers and p in table and table[p].kind in WHOLE_REPLIES
        ]
        seen: set[str] = set()
        for phrase in [*whole, *representative_numbers(grammar, answer_type)]:
            meaning = interpret(phrase, answer_type, grammar, unit=UNIT)
            if phrase in seen or (meaning.value is None and meaning.command is None):
                continue
            seen.add(phrase)
            found.append(Check(answer_type, phrase, Interpretation(meaning.value, meaning.command)))
    return found


def spoken_reading(
    grammar: Grammar, answer_type: AnswerType, event: Heard, thresholds: Thresholds
) -> tuple[Reading, bool]:
    """How the dialogue reads a spoken reply to a question of ``answer_type`` without key words, and
    whether it is near enough to count as heard at all (a command needs to be nearer)."""
    choices = replies(grammar, answer_type)
    alternatives = event.alternatives or ((event.text, 0.0),)
    reading = read_spoken(alternatives, answer_type, grammar, choices, UNIT)
    limit = thresholds.command if reading.meaning.command is not None else thresholds.heard
    return reading, reading.meaning != NOT_UNDERSTOOD and reading.cost <= limit


@dataclass(frozen=True)
class Clip:
    """One phrase said in one voice, as heard and read."""

    voice: str
    outcome: str  # OK | OTHER | NOT_UNDERSTOOD_OUTCOME
    heard: str  # the recogniser's best words ("" for none)
    event: str  # Heard | NoMatch | NoInput
    read_as: Interpretation = NOT_UNDERSTOOD
    cost: float | None = None
    margin: float | None = None


def seed(check: Check, voice: Voice) -> int:
    """The dither seed of one clip: the same whatever ran before it, in whichever process."""
    return zlib.crc32(f"{check.answer_type.value}:{check.phrase}:{voice}".encode()) % (2**31 - 1) + 1


class Auditor:
    """Says phrases and hears them with the live loop's endpointer, recogniser and reading."""

    def __init__(
        self,
        grammar: Grammar,
        recognizer: Recognizer,
        thresholds: Thresholds | None = None,
        room: Noise | None = None,
        snr_db: float | None = None,
    ) -> None:
        self.grammar = grammar
        self.recognizer = recognizer
        self.thresholds = thresholds or Thresholds()
        self.rate = recognizer.sample_rate
        self.speech = Speech(self.rate)
        self.listener = Listener(recognizer, ListenSettings())
        # By default a quiet room: the voices' confusions, not the room's.  With a room (the
        # room-noise calibration), its noise runs through each clip at ``snr_db``.
        self.room = room or Noise("none", self.rate)
        self.snr_db = snr_db if room is not None else None

    def hear(self, check: Check, voice: Voice) -> Clip:
        speech = self.speech.say(check.phrase, voice)
        self.room.seek(seed(check, voice))
        clip = mix(speech, self.room, self.snr_db, LEAD_S, self.rate)
        gain = noise_gain(speech, self.snr_db) if self.snr_db is not None else 0.0

        def background(n: int) -> np.ndarray:
            return self.room.take(n) * gain

        source = ClipSource(clip, background, self.rate)
        self.recognizer.reseed(seed(check, voice))
        event = self.listener.hear(Expectation(check.answer_type), source.read, lambda: float("-inf")).event
        if not isinstance(event, Heard):
            return Clip(str(voice), NOT_UNDERSTOOD_OUTCOME, "", type(event).__name__)
        reading, understood = spoken_reading(self.grammar, check.answer_type, event, self.thresholds)
        meaning = Interpretation(reading.meaning.value, reading.meaning.command)
        if not understood:
            outcome = NOT_UNDERSTOOD_OUTCOME
        elif meaning.command == check.intended.command and _same(meaning.value, check.intended.value):
            outcome = OK
        else:
            outcome = OTHER
        return Clip(str(voice), outcome, event.text, "Heard", meaning, reading.cost, reading.margin)


def _same(heard: Value | None, intended: Value | None) -> bool:
    if heard is None or intended is None:
        return heard is intended
    return same(heard, intended)


# ------------------------------------------------------------ in parallel: one model per process

_AUDITOR: Auditor | None = None


def _start_worker(make: Callable[[], Auditor]) -> None:
    global _AUDITOR
    _AUDITOR = make()


def _hear_one(job: tuple[Check, Voice]) -> Clip:
    assert _AUDITOR is not None
    return _AUDITOR.hear(*job)


def hear_all(make: Callable[[], Auditor], work: Sequence[Check], voices: Sequence[Voice], jobs: int) -> list[Clip]:
    """Every check in every voice, over ``jobs`` processes (each loads the model once), in order."""
    pairs = [(check, voice) for check in work for voice in voices]
    if jobs <= 1:
        auditor = make()
        return [auditor.hear(*pair) for pair in pairs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(make,)) as pool:
        return list(pool.map(_hear_one, pairs, chunksize=8))


def run_audit(
    make: Callable[[], Auditor],
    work: Sequence[Check],
    voices: Sequence[Voice],
    jobs: int = 1,
    unknown_phrases: Iterable[str] = (),
) -> dict[str, Any]:
    """The audit's report (see :func:`report`)."""
    return report(work, voices, hear_all(make, work, voices, jobs), unknown_phrases)


# ------------------------------------------------------------ the report


def meaning_json(meaning: Interpretation) -> dict[str, Value | None]:
    return {"value": meaning.value, "command": meaning.command}


def label(meaning: dict[str, Any]) -> str:
    """An answer (as :func:`meaning_json` writes it) as the report names it: "yes", "7", "command repeat"."""
    value, command = meaning["value"], meaning["command"]
    if command is not None:
        return f"command {command}"
    if value is None:
        return "nothing"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _clip_json(clip: Clip) -> dict[str, Any]:
    return {
        "voice": clip.voice,
        "outcome": clip.outcome,
        "event": clip.event,
        "heard": clip.heard,
        "read_as": meaning_json(clip.read_as),
        "cost": _finite(clip.cost),
        "margin": _finite(clip.margin),
    }


def _finite(number: float | None) -> float | None:
    """Rounded for JSON; None for none or infinity (nothing to compare with)."""
    return None if number is None or not np.isfinite(number) else round(number, 3)


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: {OK: 0, OTHER: 0, NOT_UNDERSTOOD_OUTCOME: 0})

    def add(self, outcome: str) -> None:
        self.counts[outcome] += 1


def report(
    work: Sequence[Check], voices: Sequence[Voice], clips: Sequence[Clip], unknown_phrases: Iterable[str] = ()
) -> dict[str, Any]:
    """Per phrase: every clip and the counts; the confusions, worst first; the totals.

    ``clips`` are in the order of :func:`hear_all`: each check in every voice.
    """
    if len(clips) != len(work) * len(voices):
        raise ValueError(f"{len(clips)} clips for {len(work)} phrases in {len(voices)} voices")
    unknown = set(unknown_phrases)
    phrases: list[dict[str, Any]] = []
    confusions: list[dict[str, Any]] = []
    total = _Tally()
    by_type: dict[str, _Tally] = {}
    for index, check in enumerate(work):
        own = clips[index * len(voices) : (index + 1) * len(voices)]
        tally = _Tally()
        for clip in own:
            tally.add(clip.outcome)
            total.add(clip.outcome)
            by_type.setdefault(check.answer_type.value, _Tally()).add(clip.outcome)
        entry = {
            "type": check.answer_type.value,
            "phrase": check.phrase,
            "intended": meaning_json(check.intended),
            "in_model_vocabulary": check.phrase not in unknown,
            **tally.counts,
            "clips": [_clip_json(c) for c in own],
        }
        phrases.append(entry)
        wrong = [_clip_json(c) for c in own if c.outcome == OTHER]
        if wrong:
            confusions.append({k: entry[k] for k in ("type", "phrase", "intended")} | {"heard": wrong})
    order = {t.value: i for i, t in enumerate(AnswerType)}
    confusions.sort(key=lambda c: (-len(c["heard"]), order[c["type"]], c["phrase"]))
    summary = {
        "voices": [str(v) for v in voices],
        "phrases": len(work),
        "clips": len(clips),
        **total.counts,
        "phrases_heard_as_other_value": len(confusions),
        "by_type": {t: tally.counts for t, tally in by_type.items()},
        "not_in_model_vocabulary": sorted(unknown & {c.phrase for c in work}),
        "coverage": COVERAGE,
    }
    return {"summary": summary, "confusions": confusions, "phrases": phrases}


def print_report(report: dict[str, Any], out: TextIO) -> None:
    """The confusions grouped by phrase, then one line of totals."""
    summary = report["summary"]
    voices = len(summary["voices"])
    for confusion in report["confusions"]:
        heard = confusion["heard"]
        print(
            f"{confusion['type']}  {confusion['phrase']!r} ({label(confusion['intended'])}): "
            f"heard as another value in {len(heard)} of {voices} voices",
            file=out,
        )
        width = max(len(h["voice"]) for h in heard)
        for h in heard:
            print(f"    {h['voice'].ljust(width)}  heard {h['heard']!r}, read as {label(h['read_as'])}", file=out)
    if report["confusions"]:
        print(file=out)
    if summary["not_in_model_vocabulary"]:
        print("Not in the speech model's vocabulary: " + ", ".join(summary["not_in_model_vocabulary"]), file=out)
    print(
        f"{summary['phrases']} phrases checked in {voices} voice{'s' if voices != 1 else ''} "
        f"({summary['clips']} clips): "
        f"heard as meant {summary[OK]}, heard as another value {summary[OTHER]} "
        f"({summary['phrases_heard_as_other_value']} phrases), not understood {summary[NOT_UNDERSTOOD_OUTCOME]}.",
        file=out,
    )
