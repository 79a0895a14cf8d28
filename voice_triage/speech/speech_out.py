"""Speech out: pyttsx3 (espeak-ng) renders text to audio once; sounddevice plays it.

pyttsx3's own ``say()`` shells out to ``aplay`` (and fails silently without
it) and cannot be interrupted or timed, so prompts are rendered to a buffer
with ``save_to_file`` and played through one long-lived output stream.  Each
rendering is cached by (text, voice, rate): the next question starts the
moment the dialogue decides, and only text that cannot be known in advance
("I heard: 42") is synthesised on the fly.  Volume is applied at playback, so
"louder" needs no new rendering; "slower" renders again at the new rate.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import tempfile
import threading
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

RATE_STEP = 0.8  # "slower" multiplies the words-per-minute by this
VOLUME_STEP = 1.4  # "louder" multiplies the volume by this
MAX_VOLUME = 4.0
CACHE_RATE = 16000
RENDER_WAIT_S = 2.0
RENDER_TRIES = 3
REFERENCE_S = 4  # seconds of what was played, kept for echo cancellation


class SpeechOutputError(Exception):
    """No speech engine or no loudspeaker: str() is one sentence."""


class LoudspeakerLost(SpeechOutputError):
    """The output stream stopped playing (the device or audio server went away)."""


@dataclass
class VoiceSettings:
    voice: str | None = None  # espeak voice id; None = the locale's
    rate: int = 150  # words per minute (espeak's default 175 is fast for many patients)
    volume: float = 1.0


def pick_voice(voices: Iterable[Any], lang: str) -> str | None:
    """The espeak voice for a locale: an exact id, else one whose language matches."""
    voices = list(voices)
    for voice in voices:
        if voice.id == lang:
            return str(voice.id)
    preferred = {"en": "en-us"}.get(lang, lang)
    for wanted in (preferred, lang):
        for voice in voices:
            languages = [str(x).lower() for x in (voice.languages or [])]
            if wanted in languages or any(x.startswith(wanted + "-") for x in languages):
                return str(voice.id)
    return None


class Synthesizer:
    """Renders text to float32 samples with pyttsx3's espeak driver."""

    def __init__(self, lang: str, settings: VoiceSettings) -> None:
        try:
            import pyttsx3

            self._engine = pyttsx3.init("espeak")
            _quiet_driver()
        except Exception as exc:  # pyttsx3 raises whatever its driver raised
            raise SpeechOutputError(
                f"The speech engine could not start ({type(exc).__name__}: {exc}); "
                "install espeak-ng (apt-get install espeak-ng libespeak-ng1). Text will be shown on screen instead."
            ) from None
        self.settings = settings
        if settings.voice is None:
            settings.voice = pick_voice(self._engine.getProperty("voices"), lang)
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix="voice-triage-tts-")
        # Prompts are kept as 16-bit samples at 16 kHz (espeak-ng speech has
        # nothing above 8 kHz worth keeping): a quarter of float32 at 22 kHz.
        self.sample_rate = CACHE_RATE
        self._engine_rate = 22050
        self._cache: dict[tuple[str, str | None, int], np.ndarray] = {}

    def render(self, text: str) -> np.ndarray:
        """The text as float32 samples at ``sample_rate``, rendered once."""
        key = (text, self.settings.voice, self.settings.rate)
        cached = self._cache.get(key)
        if cached is None:
            with self._lock:
                samples = resample(self._render(text), self._engine_rate, CACHE_RATE)
            cached = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
            self._cache[key] = cached
        return cached.astype(np.float32) / 32768.0

    def prerender(self, texts: Iterable[str]) -> None:
        for text in texts:
            if text.strip():
                self.render(text)

    def forget(self, text: str) -> None:
        """Drop every rendering of ``text`` (a sentence that quotes an answer must not outlive its session)."""
        for key in [key for key in self._cache if key[0] == text]:
            del self._cache[key]

    def cached(self, text: str) -> bool:
        return (text, self.settings.voice, self.settings.rate) in self._cache

    @property
    def cache_bytes(self) -> int:
        return sum(samples.nbytes for samples in self._cache.values())

    def _render(self, text: str) -> np.ndarray:
        if not text.strip():
            return np.zeros(0, dtype=np.float32)
        engine = self._engine
        if self.settings.voice:
            engine.setProperty("voice", self.settings.voice)
        engine.setProperty("rate", self.settings.rate)
        # One save_to_file per runAndWait.  pyttsx3 2.99 may return from
        # runAndWait before espeak has finished and write the file (and print
        # "Audio saved to ...") a moment later, from its own thread: wait for it.
        # About one sentence in a few hundred is never written at all: try again.
        for attempt in range(1, RENDER_TRIES + 1):
            path = Path(self._dir.name) / f"prompt-{attempt}.wav"
            path.unlink(missing_ok=True)
            with contextlib.redirect_stdout(io.StringIO()):
                engine.save_to_file(text, str(path))
                engine.runAndWait()
                written = _wait_for_wav(path, self)
            if written is not None:
                break
            log.info("pyttsx3 wrote no audio (attempt %d)", attempt)
        else:
            raise SpeechOutputError("The speech engine produced no audio for a sentence; it is shown on screen.")
        frames, channels = written
        path.unlink(missing_ok=True)
        samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
        if channels > 1:
            samples = samples.reshape(-1, channels).mean(axis=1)
        return samples


def _quiet_driver() -> None:
    """pyttsx3's espeak driver prints "Audio saved to <file>" on stdout from its own thread, at a
    moment of its choosing (sometimes after ``runAndWait`` has returned, so no redirect can catch
    it): it would land among the kiosk's own lines.  Its module's ``print`` is made silent."""
    import sys

    driver = sys.modules.get("pyttsx3.drivers.espeak")
    if driver is not None:
        driver.print = lambda *_args, **_kwargs: None  # type: ignore[attr-defined]


def _wait_for_wav(path: Path, synth: Synthesizer) -> tuple[bytes, int] | None:
    """The frames and channel count of a WAV file once it has been completely written."""
    deadline = time.monotonic() + RENDER_WAIT_S
    while True:
        with contextlib.suppress(OSError, EOFError, wave.Error), wave.open(str(path), "rb") as wav:
            count, width, channels = wav.getnframes(), wav.getsampwidth(), wav.getnchannels()
            frames = wav.readframes(count)
            if count > 0 and len(frames) == count * width * channels:
                synth.sample_rate = wav.getframerate()
                return frames, channels
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


class Player:
    """One long-lived output stream that plays silence between prompts.

    Keeping the stream open keeps PulseAudio's clock running (a capture
    stream lags by seconds without any playback stream) and avoids underruns;
    ``stop()`` interrupts a prompt at once.
    """

    def __init__(self, sample_rate: int, device: int | str | None = None) -> None:
        try:
            import sounddevice as sd
        except OSError as exc:
            raise SpeechOutputError(
                f"Audio is not available ({exc}); install libportaudio2. Text will be shown on screen instead."
            ) from None
        self.sample_rate = sample_rate
        self._lock = threading.Lock()
        self._samples = np.zeros(0, dtype=np.float32)
        self._position = 0
        self._finished = threading.Event()
        self._finished.set()
        self.busy_until = 0.0  # monotonic time until which the loudspeaker may still sound
        self.first_sample_at: float | None = None  # when the latest prompt's first sample went to the device
        self.stopped_at: float | None = None  # when stop() last cut a prompt off
        # What went to the loudspeaker lately (silence too), for echo cancellation: a ring of int16
        # samples, and for recent blocks the time each was handed over and its first sample's index.
        self._ring = np.zeros(sample_rate * REFERENCE_S, dtype=np.int16)
        self._written = 0
        # (PortAudio may call back every few ms: keep enough blocks to span the whole ring)
        self._blocks: collections.deque[tuple[float, int]] = collections.deque(maxlen=8192)
        try:
            self._stream = sd.OutputStream(
                samplerate=sample_rate,
                channels=1,
                dtype="float32",
                device=device,
                latency=0.05,
                callback=self._callback,
            )
            self._stream.start()
        except Exception as exc:  # sounddevice.PortAudioError and friends
            raise SpeechOutputError(
                f"No loudspeaker could be opened ({exc}); check the audio output or pass --output-device. "
                "Text will be shown on screen instead."
            ) from None
        self.latency = float(self._stream.latency)

    def _callback(self, out: Any, frames: int, when: Any, status: Any) -> None:
        with self._lock:
            chunk = self._samples[self._position : self._position + frames]
            out[: len(chunk), 0] = chunk
            out[len(chunk) :, 0] = 0.0
            self._remember(out[:, 0])
            if len(chunk) and self.first_sample_at is None:
                self.first_sample_at = time.monotonic()
            self._position += len(chunk)
            if not self._finished.is_set() and self._position >= len(self._samples):
                self.busy_until = time.monotonic() + self.latency + frames / self.sample_rate
                self._finished.set()

    def play(self, samples: np.ndarray, volume: float) -> None:
        """Play and return when the sound has left the loudspeaker; stop() interrupts."""
        with self._lock:
            self._samples = np.clip(samples * volume, -1.0, 1.0).astype(np.float32)
            self._position = 0
            self.first_sample_at = None
            self.busy_until = float("inf")
            self._finished.clear()
        if not self._finished.wait(timeout=len(samples) / self.sample_rate + 2.0):
            self.busy_until = 0.0
            raise LoudspeakerLost("The loudspeaker stopped playing; the rest is shown on screen.")
        time.sleep(max(0.0, self.busy_until - time.monotonic()))

    def _remember(self, block: np.ndarray) -> None:
        """Keep what was just handed to the device (holds ``_lock``)."""
        samples = (np.clip(block, -1.0, 1.0) * 32767).astype(np.int16)
        size = len(self._ring)
        start = self._written % size
        first = min(len(samples), size - start)
        self._ring[start : start + first] = samples[:first]
        self._ring[: len(samples) - first] = samples[first:]
        self._blocks.append((time.monotonic(), self._written))
        self._written += len(samples)

    def index_at(self, until: float) -> int:
        """How many samples had been handed to the device by time ``until``."""
        with self._lock:
            for handed, first in reversed(self._blocks):
                if handed <= until:
                    return min(self._written, first + int((until - handed) * self.sample_rate))
            if not self._blocks:
                return 0
            handed, first = self._blocks[0]  # older than every block kept: count back from the oldest
            return max(0, first - int((handed - until) * self.sample_rate))

    def samples(self, end: int, count: int) -> np.ndarray:
        """The ``count`` int16 samples handed to the device before sample ``end`` (zeros where none are kept)."""
        with self._lock:
            out = np.zeros(count, dtype=np.int16)
            end = min(end, self._written)
            begin = max(end - count, self._written - len(self._ring), 0)
            if end > begin:
                out[count - (end - begin) :] = self._ring[np.arange(begin, end) % len(self._ring)]
            return out

    def played(self, until: float, count: int) -> np.ndarray:
        """The ``count`` int16 samples handed to the device up to time ``until``."""
        return self.samples(self.index_at(until), count)

    def stop(self) -> None:
        with self._lock:
            if self._position < len(self._samples):
                self.stopped_at = time.monotonic()
            self._position = len(self._samples)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stream.stop()
            self._stream.close()


class Speaker:
    """Says text aloud: cached rendering, live rate and volume, and echo bookkeeping."""

    def __init__(self, synth: Synthesizer, player: Player) -> None:
        self.synth = synth
        self.player = player

    @property
    def settings(self) -> VoiceSettings:
        return self.synth.settings

    def say(self, text: str) -> None:
        samples = self.synth.render(text)
        if self.synth.sample_rate != self.player.sample_rate:
            samples = resample(samples, self.synth.sample_rate, self.player.sample_rate)
        self.player.play(samples, self.settings.volume)

    def slower(self) -> None:
        self.settings.rate = max(80, int(self.settings.rate * RATE_STEP))

    def louder(self) -> None:
        self.settings.volume = min(MAX_VOLUME, self.settings.volume * VOLUME_STEP)

    @property
    def busy_until(self) -> float:
        return self.player.busy_until


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out or len(samples) == 0:
        return samples
    import soxr

    resampled: np.ndarray = soxr.resample(samples, rate_in, rate_out).astype(np.float32)
    return resampled


def to_wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
