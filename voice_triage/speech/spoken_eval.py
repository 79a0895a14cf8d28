"""The spoken evaluation: scripted patients answer aloud, and the live loop's own code listens.

For each vignette and each voice, a scripted patient answers every question
with a phrasing picked at random (seeded) from a phrasings file for the
value its facts give ("I don't know" for a fact it lacks).  The phrasing is
synthesised with espeak-ng in that voice, mixed with the room's noise at the
given signal-to-noise ratio (the noise runs before, during and after the
answer), and cut into 30 ms frames that take the microphone's place: the
endpointer, the recogniser and the dialogue are the ones ``voice-triage run``
and the kiosk use.  Read-backs ("I heard yes. Is that right?") and "did you
ask to stop?" are answered honestly, aloud, in the same way.  The patient
never touches the screen.  Everything is seeded: the same command gives the
same figures.

The unit of success is the session: did it end at an acceptable level,
without a missed emergency, in few turns (PARADISE: task success and
dialogue cost)?
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.content import Content
from ..core.contract import UNKNOWN, AnswerType, Value
from ..core.dialogue import Action, Awaiting, Dialogue, Event, Heard, Say
from ..core.engine import triage
from ..core.locale import Locale
from ..core.phrasings import Phrasings
from ..core.simulate import Vignette
from .asr import Recognizer
from .listening import Listener
from .speech_in import FRAME_MS, ListenSettings
from .synthetic import Noise, Speech, Voice, mix, noise_gain

MAX_TURNS = 80  # a session still going after this many answers "never ends"
LEAD_S = 0.6  # the patient starts speaking this long after the prompt ends
AFTER_S = 4.0  # background after the answer, for the endpointer to hear the end
IDLE_S = 5.0  # the room heard while idle, before a session's first answer


@dataclass(frozen=True)
class SpokenOptions:
    voices: tuple[Voice, ...]
    noise: str = "none"  # none | pink | brown | white | babble | path of a WAV file
    snr_db: float = 10.0
    seed: int = 1
    max_turns: int = MAX_TURNS
    trace: bool = False  # keep, per turn, what was said and what was heard (for content authors)
    noise_suppression: int = ListenSettings.noise_suppression  # the live loop's noise front end, 0 off
    auto_gain_dbfs: int = 0
    steady_noise_suppression: int = ListenSettings.steady_noise_suppression  # used only in steady, loud noise


class ClipSource:
    """The microphone's place: a mixed clip, then background, as (time, 30 ms frame)."""

    def __init__(self, clip: np.ndarray, tail: Callable[[int], np.ndarray], sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.frame = sample_rate * FRAME_MS // 1000
        after = tail(int(AFTER_S * sample_rate))
        self.samples = np.concatenate([clip, after])
        self.position = 0

    def read(self, _timeout: float) -> tuple[float, bytes] | None:
        start = self.position
        if start + self.frame > len(self.samples):
            self.samples = np.concatenate([self.samples, np.zeros(self.frame * 100, dtype=np.float32)])
        self.position += self.frame
        chunk = self.samples[start : start + self.frame]
        pcm: bytes = (np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return start / self.sample_rate, pcm


class SpokenPatient:
    """Answers from a vignette's facts in phrasings picked at random; honest about read-backs."""

    def __init__(self, facts: dict[str, Value], phrasings: Phrasings, rng: random.Random) -> None:
        self.facts = facts
        self.phrasings = phrasings
        self.rng = rng

    def reply(self, dialogue: Dialogue) -> str:
        awaiting = dialogue.awaiting
        if awaiting.kind == "confirm_command":  # "Did you ask to stop?": this patient never asks to
            return self.phrasings.say(AnswerType.YES_NO, "no", self.rng)
        assert awaiting.question is not None
        truth = self.facts.get(awaiting.question.id, UNKNOWN)
        if awaiting.kind == "confirm_answer":
            right = same(awaiting.value, truth)
            return self.phrasings.say(AnswerType.YES_NO, "yes" if right else "no", self.rng)
        if awaiting.kind == "range":  # "is it 4 or more?"
            if not isinstance(truth, int | float) or not isinstance(awaiting.value, int | float):
                return self.phrasings.say(AnswerType.YES_NO, UNKNOWN, self.rng)
            return self.phrasings.say(AnswerType.YES_NO, "yes" if truth >= awaiting.value else "no", self.rng)
        question = awaiting.question
        return self.phrasings.say(question.type, truth, self.rng, question.unit)


def traced(
    awaiting: Awaiting, said: str, event: Event, actions: list[Action], facts: dict[str, Value]
) -> dict[str, Any]:
    question = awaiting.question
    entry: dict[str, Any] = {
        "awaiting": awaiting.kind,
        "question": question.id if question else None,
        "truth": facts.get(question.id, UNKNOWN) if question else None,
        "said": said,
        "event": type(event).__name__,
    }
    if isinstance(event, Heard):
        entry["heard"] = event.text
        entry["confidence"] = round(event.confidence, 2)
        entry["alternatives"] = [[t, round(s, 2)] for t, s in event.alternatives]
    entry["reply"] = [a.text for a in actions if isinstance(a, Say)][:2]
    return entry


def right(heard: Value, found: tuple[int, int | None] | None, truth: Value) -> bool:
    """A recorded answer matches the truth: a number found by yes/no questions when the truth is in its range."""
    if found is None:
        return same(heard, truth)
    low, high = found
    return isinstance(truth, int | float) and low <= truth and (high is None or truth <= high)


def same(heard: Value | None, truth: Value) -> bool:
    if isinstance(heard, int | float) and isinstance(truth, int | float):
        return abs(float(heard) - float(truth)) < 1e-6
    return heard == truth


class SpokenEvaluation:
    """Runs spoken sessions with one loaded model."""

    def __init__(self, locale: Locale, recognizer: Recognizer, phrasings: Phrasings, options: SpokenOptions) -> None:
        self.locale = locale
        self.recognizer = recognizer
        self.phrasings = phrasings
        self.options = options
        self.rate = recognizer.sample_rate
        self.speech = Speech(self.rate)
        self.settings = ListenSettings(
            noise_suppression=options.noise_suppression,
            auto_gain_dbfs=options.auto_gain_dbfs,
            steady_noise_suppression=options.steady_noise_suppression,
        )
        self._noise: Noise | None = None

    def noise(self) -> Noise:
        if self._noise is None:
            kind, file = self.options.noise, None
            if kind not in ("none", "pink", "brown", "white", "babble"):
                kind, file = "file", Path(self.options.noise)
            texts = babble_texts(self.locale.content)
            self._noise = Noise(
                kind,
                self.rate,
                seed=self.options.seed,
                speech=self.speech,
                babble_texts=texts,
                babble_voices=babble_voices(self.options.voices),
                file=file,
            )
        return self._noise

    def session(self, vignette: Vignette, voice: Voice) -> dict[str, Any]:
        content = self.locale.content
        options = self.options
        rng = random.Random(f"{options.seed}:{vignette.id}:{voice}")
        patient = SpokenPatient(dict(vignette.facts), self.phrasings, rng)
        dialogue = Dialogue(content, self.locale.grammar)
        dialogue.start()
        noise = self.noise()
        noise.seek(rng.randrange(2**31))
        # Each session its own kiosk in its own room: a fresh listener that has heard the room while idle.
        # (Kept from one session to the next, its background would depend on which sessions a worker
        # process happened to run before, and the figures on --jobs and scheduling.)
        self.listener = Listener(self.recognizer, self.settings)
        turns = readbacks = 0
        trace: list[dict[str, Any]] = []
        while not dialogue.finished and turns < options.max_turns:
            awaiting = dialogue.awaiting
            if awaiting.kind != "answer":
                readbacks += 1
            text = patient.reply(dialogue)
            speech = self.speech.say(text, voice)
            gain = noise_gain(speech, options.snr_db) if noise.kind != "none" else 0.0
            if turns == 0:
                self.listener.endpointer.hear_room(noise.take(int(IDLE_S * self.rate)) * gain)
            clip = mix(speech, noise, options.snr_db, LEAD_S, self.rate)

            def background(n: int, gain: float = gain) -> np.ndarray:
                return noise.take(n) * gain

            source = ClipSource(clip, background, self.rate)
            self.recognizer.reseed(rng.randrange(1, 2**31))  # deterministic dither, whatever ran before
            heard = self.listener.hear(dialogue.listening_for, source.read, lambda: float("-inf"))
            actions = dialogue.handle(heard.event)
            turns += 1
            if options.trace:
                trace.append(traced(awaiting, text, heard.event, actions, patient.facts))
        result = self._result(vignette, voice, dialogue, turns, readbacks, content)
        if options.trace:
            result["trace"] = trace
        return result

    def _result(
        self, vignette: Vignette, voice: Voice, dialogue: Dialogue, turns: int, readbacks: int, content: Content
    ) -> dict[str, Any]:
        result = dialogue.result or triage(content, dialogue.answers)
        outcome = dialogue.outcome if dialogue.finished else "unfinished"
        wrong = [
            fact
            for fact, value in dialogue.answers.items()
            if fact not in dialogue.unanswered
            and not right(value, dialogue.ranges.get(fact), vignette.facts.get(fact, UNKNOWN))
        ]
        return {
            "id": vignette.id,
            "voice": str(voice),
            "level": result.level,
            "expected": vignette.level,
            "level_ok": result.level in vignette.acceptable,
            "outcome": outcome,
            "turns": turns,
            "questions_asked": dialogue.questions_asked,
            "readbacks": readbacks,
            "answers": len(dialogue.answers) - len(dialogue.unanswered),
            "not_answered": len(dialogue.unanswered),
            "answer_errors": len(wrong),
            "wrong_facts": sorted(wrong),
            "not_answered_facts": sorted(dialogue.unanswered),
        }

    def run(self, vignettes: Sequence[Vignette]) -> dict[str, Any]:
        results = [self.session(v, voice) for voice in self.options.voices for v in vignettes]
        return report(results, self.locale.content, self.options)


def report(results: list[dict[str, Any]], content: Content, options: SpokenOptions) -> dict[str, Any]:
    summary = summarize(results, content.contract.levels[0])
    summary["voices"] = [str(v) for v in options.voices]
    summary["noise"] = options.noise
    summary["snr_db"] = options.snr_db if options.noise != "none" else None
    summary["seed"] = options.seed
    summary["noise_suppression"] = options.noise_suppression
    summary["auto_gain_dbfs"] = options.auto_gain_dbfs
    summary["steady_noise_suppression"] = options.steady_noise_suppression
    return {"results": results, "summary": summary}


# ------------------------------------------------------------ in parallel: one model per process

_WORKER: SpokenEvaluation | None = None


def _start_worker(make: Callable[[], SpokenEvaluation]) -> None:
    global _WORKER
    _WORKER = make()


def _run_one(job: tuple[Vignette, Voice]) -> dict[str, Any]:
    assert _WORKER is not None
    return _WORKER.session(*job)


def run_parallel(
    make: Callable[[], SpokenEvaluation],
    vignettes: Sequence[Vignette],
    options: SpokenOptions,
    content: Content,
    jobs: int,
) -> dict[str, Any]:
    """The same sessions as :meth:`SpokenEvaluation.run`, over ``jobs`` processes (each loads the model once)."""
    work = [(v, voice) for voice in options.voices for v in vignettes]
    if jobs <= 1:
        evaluation = make()
        return report([evaluation.session(*job) for job in work], content, options)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(make,)) as pool:
        results = list(pool.map(_run_one, work, chunksize=1))
    return report(results, content, options)


def summarize(results: list[dict[str, Any]], emergency: str) -> dict[str, Any]:
    turns = [r["turns"] for r in results]
    return {
        "vignettes": len(results),
        "level_ok": sum(r["level_ok"] for r in results),
        "emergency_missed": sum(
            1 for r in results if r["expected"] == emergency and r["level"] != emergency and r["outcome"] != "staff"
        ),
        "false_emergency": sum(1 for r in results if r["expected"] != emergency and r["level"] == emergency),
        "handed_to_staff": sum(1 for r in results if r["outcome"] == "staff"),
        "unfinished": sum(1 for r in results if r["outcome"] == "unfinished"),
        "median_turns": statistics.median(turns) if turns else 0,
        "readbacks": sum(r["readbacks"] for r in results),
        "answers": sum(r["answers"] for r in results),
        "answer_errors": sum(r["answer_errors"] for r in results),
        "not_answered": sum(r["not_answered"] for r in results),
    }


def babble_texts(content: Content) -> list[str]:
    """What the babble says: the locale's own sentences (questions and advice)."""
    texts = [q.text for q in content.questions] + [q.help for q in content.questions]
    return texts + list(content.messages.self_care) + list(content.messages.precautions)


def babble_voices(voices: Sequence[Voice]) -> list[Voice]:
    """Other people's voices: the locale's voice variants at ordinary rates."""
    base = voices[0].name.split("+")[0] if voices else "en"
    return [Voice(f"{base}+{v}", rate) for v, rate in (("m1", 160), ("f2", 170), ("m4", 150), ("f4", 180), ("m6", 165))]
