"""Speech in: the microphone, and an endpointer that finds where an answer ends.

A voice-activity detector (webrtcvad) sits in front of vosk: it decides when
the patient starts speaking, when they have stopped, and when they have said
nothing at all (the no-input timeout, generous by default for slow or
impaired speech).  How much silence ends an answer depends on what has been
heard so far (:mod:`voice_triage.core.endpointing`): a short silence after a
complete answer that cannot grow, the full trailing silence otherwise.  Every
wait is configurable, and "slower" lengthens them all (``ListenSettings.pace``).  Audio heard while
the kiosk itself is speaking, and for a short tail after, is thrown away, so
the kiosk never takes its own prompts for answers.  No audio is ever stored.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import queue
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..core.endpointing import Silences

log = logging.getLogger(__name__)

FRAME_MS = 30  # webrtcvad takes 10, 20 or 30 ms frames


class MicrophoneError(Exception):
    """No microphone, or it stopped working: str() is one sentence."""


SLOWER_PACE = 1.25  # "slower" lengthens every wait by this (the speech rate goes down by 0.8)
MAX_PACE = 3.0


@dataclass
class ListenSettings:
    trailing_silence_ms: int = 500  # silence that ends an answer that is not known to be complete
    short_silence_ms: int = 200  # silence that ends a complete answer no longer phrase starts with
    grow_silence_ms: int = 500  # silence after the start of a longer phrase (at least trailing_silence_ms)
    no_input_timeout_s: float = 10.0  # nothing said by then: a no-input event
    max_answer_s: float = 12.0  # an answer never runs longer than this
    pace: float = 1.0  # every wait above is multiplied by this; "slower" raises it (never below 1)
    echo_tail_ms: int = 250  # also ignore this long after the kiosk stops speaking
    vad_aggressiveness: int = 2  # 0 (keeps most sound) .. 3 (strictest)
    start_frames: int = 3  # voiced frames (of the last start_frames + 2) that start an answer
    pre_roll_ms: int = 300  # audio kept from just before the start
    barge_in: bool = False  # hear answers over the kiosk's own voice (echo cancelled); off: drop what it hears
    # A frame is speech only if it also stands this far above the room's background level
    # (so babble or a television between answers never reaches the recogniser).
    above_background_db: float = 6.0
    # WebRTC noise suppression before voice activity and recognition: 0 off, 1 (mild) to 4 (strongest);
    # auto_gain_dbfs: its automatic gain's target level below full scale (0: no gain control)
    noise_suppression: int = 0
    auto_gain_dbfs: int = 0
    # the suppression level used only while the room between answers is steady noise and loud against the
    # answers (speech/steady_noise.py); 0: never.  Not with a fixed noise_suppression, nor with barge-in.
    steady_noise_suppression: int = 4

    def slower(self) -> None:
        """The patient asked for slower speech: give them longer to answer and to pause, too."""
        self.pace = min(MAX_PACE, self.pace * SLOWER_PACE)

    @property
    def silences(self) -> Silences:
        """The three end-of-turn silences at the current pace."""
        base = Silences(self.short_silence_ms, self.trailing_silence_ms, self.grow_silence_ms)
        return base.scaled(max(1.0, self.pace))


@dataclass(frozen=True)
class Utterance:
    """What the endpointer found; timestamps are time.monotonic()."""

    heard_speech: bool
    speech_start: float | None = None
    speech_end: float | None = None  # last voiced frame
    early: bool = False  # ended by the short silence after a complete answer
    barged: bool = False  # began while the kiosk was speaking, and stopped it
    cleaned: bool = False  # heard through the steady-noise suppression


class Reference(Protocol):
    """What the loudspeaker played (:class:`~voice_triage.speech.speech_out.Player`)."""

    def index_at(self, until: float) -> int: ...

    def samples(self, end: int, count: int) -> np.ndarray: ...


class BargeIn:
    """Listening through the kiosk's own voice: its echo cancelled, the prompt stopped by an answer.

    ``reference`` gives the loudspeaker samples handed over (by sample index,
    and which index a time is at); ``interrupt()`` stops the prompt.  What is left of the echo rises
    and falls with the prompt, so a frame heard while the kiosk speaks counts
    as speech only when the voice-activity detector says so and it stands
    ``margin_db`` above the loudest of the prompt of the last ``tail_ms``
    (what can still echo) plus the coupling learned so far (the 90th
    percentile of residue minus prompt level, over frames that were not
    speech), and only once enough of the residue has been heard to know it.
    """

    RESIDUE_FRAMES = 20  # cancelled prompt frames heard before speech over a prompt is believed
    RESYNC_MS = 150  # the reference stream is put back on the clock when it drifts this far
    SILENT_DB = -50.0  # a prompt quieter than this leaves nothing to cancel

    def __init__(
        self,
        canceller: Any,
        reference: Reference,
        interrupt: Callable[[], None],
        margin_db: float = 10.0,
        tail_ms: int = 400,
    ) -> None:
        self.canceller = canceller
        self.reference = reference
        self.interrupt = interrupt
        self._next: int | None = None  # the reference sample that goes with the next frame's end
        self.margin_db = margin_db
        self.tail_ms = tail_ms
        self._coupling: collections.deque[float] = collections.deque(maxlen=300)
        self._prompt_db = -100.0

    def cancel(self, at: float, frame: bytes) -> bytes:
        """The frame without the prompt's echo.

        The microphone delivers frames in bursts, so their arrival times
        jitter: the reference runs on as one continuous stream, a frame's worth
        per frame, and is put back on the clock only when it drifts by more
        than ``RESYNC_MS``.
        """
        count = len(frame) // 2
        now = self.reference.index_at(at)
        if self._next is None or abs(now - self._next) > 16 * self.RESYNC_MS:
            self._next = now
        end = self._next
        self._next += count
        recent = self.reference.samples(end, max(count, 16 * self.tail_ms))  # 16 samples a ms (16 kHz)
        usable = len(recent) - len(recent) % count
        levels = [frame_db(recent[i : i + count].tobytes()) for i in range(len(recent) - usable, len(recent), count)]
        self._prompt_db = max(levels, default=-100.0)
        cleaned: bytes = self.canceller.cancel(frame, recent[-count:])
        return cleaned

    @property
    def coupling_db(self) -> float:
        ordered = sorted(self._coupling)
        return ordered[int(0.9 * (len(ordered) - 1))] if ordered else 0.0

    def stands_out(self, frame: bytes, endpointer: Endpointer) -> bool:
        level = frame_db(frame)
        voiced = bool(endpointer._vad.is_speech(frame, endpointer.sample_rate))
        echo = self._prompt_db > self.SILENT_DB
        enough = len(self._coupling) >= self.RESIDUE_FRAMES
        floor = endpointer.background.level_db + endpointer.settings.above_background_db
        if echo:
            floor = max(floor, self._prompt_db + self.coupling_db + self.margin_db)
        if voiced and enough and level >= floor:
            return True
        if echo:
            self._coupling.append(level - self._prompt_db)
        return False


class Microphone:
    """A 16-bit mono input stream at the model's rate, read in fixed frames."""

    def __init__(self, sample_rate: int, device: int | str | None = None) -> None:
        try:
            import sounddevice as sd
        except OSError as exc:
            raise MicrophoneError(f"Audio is not available ({exc}); install libportaudio2.") from None
        self._sd = sd
        self.sample_rate = sample_rate
        self.device = device
        self.frame_bytes = sample_rate * FRAME_MS // 1000 * 2
        self._queue: queue.Queue[tuple[float, bytes]] = queue.Queue()
        self._stream: Any = None
        self._last_block = time.monotonic()
        self.open()

    def open(self) -> None:
        sd = self._sd
        try:
            if not any(d["max_input_channels"] > 0 for d in sd.query_devices()):
                raise MicrophoneError("No microphone was found; connect one, or answer by typing or touch.")
            self._stream = sd.RawInputStream(
                samplerate=self.sample_rate,
                blocksize=self.frame_bytes // 2,
                channels=1,
                dtype="int16",
                device=self.device,
                callback=self._callback,
            )
            self._stream.start()
        except MicrophoneError:
            raise
        except Exception as exc:  # sounddevice.PortAudioError and friends
            raise MicrophoneError(
                f"The microphone could not be opened ({exc}); check it is connected, or pass --input-device."
            ) from None
        self._last_block = time.monotonic()

    def _callback(self, data: Any, frames: int, when: Any, status: Any) -> None:
        # PortAudio's thread: only queue the bytes, never decode here
        self._queue.put((time.monotonic(), bytes(data)))

    def read(self, timeout: float = 1.0) -> tuple[float, bytes] | None:
        """One frame (arrival time, bytes), or None if none came in ``timeout``."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            if self._stream is None or not self._stream.active or time.monotonic() - self._last_block > 3.0:
                raise MicrophoneError("The microphone stopped sending sound.") from None
            return None
        self._last_block = item[0]
        return item

    def drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()

    def close(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.stop()
                self._stream.close()
            self._stream = None

    def reopen(self) -> None:
        """Try again after the device went away (PortAudio caches the device list)."""
        self.close()
        with contextlib.suppress(Exception):
            self._sd._terminate()
            self._sd._initialize()
        self.open()


def frame_db(frame: bytes) -> float:
    """A frame's level in dB relative to full scale (-100 for digital silence)."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
    power = float(np.mean(samples**2)) if len(samples) else 0.0
    return 10.0 * math.log10(power) if power > 1e-10 else -100.0


class Background:
    """The room's background level: the median level of recent frames that were not speech."""

    QUIET_DB = -60.0  # never assume a room quieter than this

    def __init__(self, frames: int = 200) -> None:
        self._levels: collections.deque[float] = collections.deque(maxlen=frames)

    def add(self, level_db: float) -> None:
        self._levels.append(level_db)

    @property
    def level_db(self) -> float:
        if not self._levels:
            return self.QUIET_DB
        return max(self.QUIET_DB, statistics.median(self._levels))


def _judge(frame: bytes, vad: Any, background: Background, above_db: float, sample_rate: int) -> bool:
    """Speech: voiced to the detector, and standing above the background (which learns from the rest)."""
    level = frame_db(frame)
    voiced = bool(vad.is_speech(frame, sample_rate))
    loud = level >= background.level_db + above_db
    if not (voiced and loud):
        background.add(level)
    return voiced and loud


class SteadyCleaner:
    """WebRTC noise suppression used only while the room is steady noise and loud (speech/steady_noise.py).

    It cleans every frame, so that its noise estimate, voice-activity
    detector and background level are ready the moment the room calls for
    it; the raw frames (heard while nobody answers) tell the room's noise.
    Whether it is used changes only between answers.
    """

    def __init__(self, clean: Callable[[bytes], bytes], vad: Any, settings: ListenSettings, sample_rate: int) -> None:
        from .steady_noise import RoomNoise

        self.clean = clean
        self.vad = vad
        self.settings = settings
        self.sample_rate = sample_rate
        self.background = Background()
        self.room = RoomNoise(sample_rate)
        self.on = False

    @classmethod
    def open(cls, settings: ListenSettings, sample_rate: int) -> SteadyCleaner | None:
        """None where the suppression cannot run here (not 16 kHz, or the package missing): raw frames then."""
        import webrtcvad

        from .noise_suppression import NoiseSuppressionUnavailable, NoiseSuppressor

        try:
            clean = NoiseSuppressor(settings.steady_noise_suppression, 0, sample_rate)
        except NoiseSuppressionUnavailable as exc:
            log.info("steady-noise suppression off: %s", exc)
            return None
        return cls(clean, webrtcvad.Vad(settings.vad_aggressiveness), settings, sample_rate)

    def hear(self, frame: bytes, voiced: bool, answering: bool) -> tuple[bytes, bool]:
        if not answering:
            self.room.add(frame)
        cleaned = self.clean(frame)
        clean_voiced = _judge(cleaned, self.vad, self.background, self.settings.above_background_db, self.sample_rate)
        return (cleaned, clean_voiced) if self.on else (frame, voiced)

    def decide(self) -> None:
        self.on = self.room.update()


class Endpointer:
    """Finds one answer in the microphone stream and feeds it to ``sink``.

    A frame counts as speech when the voice-activity detector says so and it
    stands ``above_background_db`` above the room's background (kept across
    answers), so steady noise and babble between answers are not taken for
    one.
    """

    def __init__(self, settings: ListenSettings, sample_rate: int, background: Background | None = None) -> None:
        import webrtcvad

        self.settings = settings
        self.sample_rate = sample_rate
        self._vad = webrtcvad.Vad(settings.vad_aggressiveness)
        self.background = background or Background()
        self.clean: Callable[[bytes], bytes] | None = None
        if settings.noise_suppression or settings.auto_gain_dbfs:
            from .noise_suppression import NoiseSuppressor

            self.clean = NoiseSuppressor(settings.noise_suppression, settings.auto_gain_dbfs, sample_rate)
        self.steady: SteadyCleaner | None = None
        if settings.steady_noise_suppression and self.clean is None and not settings.barge_in:
            self.steady = SteadyCleaner.open(settings, sample_rate)
        self._answer_levels: list[float] = []

    @property
    def cleaning(self) -> bool:
        """Whether answers are heard through the steady-noise suppression now."""
        return self.steady is not None and self.steady.on

    def hear_room(self, samples: np.ndarray) -> None:
        """Listen to the room with nobody answering (float samples): what an idle kiosk has heard."""
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
        size = self.sample_rate * FRAME_MS // 1000
        for start in range(0, len(pcm) - size + 1, size):
            frame = pcm[start : start + size].tobytes()
            self._hear(self.clean(frame) if self.clean is not None else frame, answering=False)
        if self.steady is not None:
            self.steady.decide()

    def is_speech(self, frame: bytes) -> bool:
        return _judge(frame, self._vad, self.background, self.settings.above_background_db, self.sample_rate)

    def _hear(self, frame: bytes, answering: bool) -> tuple[bytes, bool]:
        """The frame as the recogniser gets it (cleaned while the room calls for it), and whether it is speech."""
        voiced = self.is_speech(frame)
        if self.steady is None:
            return frame, voiced
        return self.steady.hear(frame, voiced, answering)

    def _answered(self, utterance: Utterance) -> Utterance:
        if self.steady is not None and self._answer_levels:
            self.steady.room.heard_answer(statistics.median(self._answer_levels))
        return utterance

    def listen(
        self,
        read: Callable[[float], tuple[float, bytes] | None],
        sink: Callable[[bytes], None],
        quiet_after: Callable[[], float],
        over: Callable[[float], bool] | None = None,
        barge_in: BargeIn | None = None,
    ) -> Utterance:
        """Read frames until an answer ends or nobody speaks.

        ``quiet_after()`` is the time until which the kiosk's own voice (plus
        the echo tail) may be in the microphone: frames from before it are
        dropped, and the no-input clock starts only after it.  ``over(ms)``
        says whether that much silence, after what has been heard so far, ends
        the answer; it is asked only once the short silence has passed (without
        it, the full trailing silence ends every answer).  With ``barge_in``,
        frames heard while the kiosk speaks are not dropped: its echo is
        cancelled, and speech that stands out from what is left of it starts
        the answer and stops the prompt.
        """
        s = self.settings
        pace = max(1.0, s.pace)
        silences = s.silences
        no_input_s = s.no_input_timeout_s * pace
        max_answer_s = s.max_answer_s * pace
        tail = s.echo_tail_ms / 1000.0
        window: collections.deque[bool] = collections.deque(maxlen=s.start_frames + 2)
        pre_roll: collections.deque[bytes] = collections.deque(maxlen=max(1, s.pre_roll_ms // FRAME_MS))
        started: float | None = None
        last_voiced: float | None = None
        opened_at: float | None = None
        barged = False
        if self.steady is not None:
            self.steady.decide()  # between answers, never within one
        cleaned = self.cleaning and barge_in is None
        self._answer_levels = []
        while True:
            item = read(0.5)
            now = time.monotonic()
            if item is None:
                if opened_at is not None and started is None and now - opened_at > no_input_s:
                    return Utterance(False)
                continue
            at, frame = item
            if len(frame) * 1000 // (2 * self.sample_rate) != FRAME_MS:
                continue  # a ragged frame
            speaking = at < quiet_after() + tail
            if speaking and started is None:
                opened_at = None  # the kiosk speaks (again, later in its turn): the no-answer clock starts after it
            if self.clean is not None and (barge_in is not None or not speaking):
                # after the echo canceller, which needs the sound as it was
                frame = self.clean(barge_in.cancel(at, frame) if barge_in is not None else frame)
            elif barge_in is not None:
                frame = barge_in.cancel(at, frame)
            if barge_in is not None:  # hear through the kiosk's voice: its echo taken out
                if speaking and started is None:
                    voiced = barge_in.stands_out(frame, self)
                    window.append(voiced)
                    pre_roll.append(frame)
                    if sum(window) >= s.start_frames:
                        barge_in.interrupt()
                        barged = True
                        started = last_voiced = at
                        for earlier in pre_roll:
                            sink(earlier)
                    continue
            elif speaking:
                if started is None:  # what was heard before the kiosk spoke again starts no answer
                    window.clear()
                    pre_roll.clear()
                continue  # the kiosk's own voice
            if opened_at is None:
                opened_at = at
            if barge_in is None:
                raw_db = frame_db(frame)
                frame, voiced = self._hear(frame, answering=started is not None)
                if voiced and started is not None:
                    self._answer_levels.append(raw_db)
            else:
                voiced = self.is_speech(frame)
            if started is None:
                window.append(voiced)
                pre_roll.append(frame)
                if sum(window) >= s.start_frames:
                    started = at
                    last_voiced = at
                    for earlier in pre_roll:
                        sink(earlier)
                elif at - opened_at > no_input_s:
                    return Utterance(False)
                continue
            sink(frame)
            if voiced:
                last_voiced = at
            assert last_voiced is not None
            silent_ms = 1000.0 * (at - last_voiced)
            end = last_voiced + FRAME_MS / 1000.0
            if at - started >= max_answer_s or silent_ms >= max(silences.full_ms, silences.grow_ms):
                return self._answered(Utterance(True, started, end, barged=barged, cleaned=cleaned))
            if silent_ms < silences.short_ms:
                continue
            if over is None:
                if silent_ms >= silences.full_ms:
                    return self._answered(Utterance(True, started, end, barged=barged, cleaned=cleaned))
            elif over(silent_ms):
                return self._answered(
                    Utterance(True, started, end, early=silent_ms < silences.full_ms, barged=barged, cleaned=cleaned)
                )
