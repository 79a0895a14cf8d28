"""A scripted patient's voice and the room around it, for the spoken evaluation.

Speech comes from the espeak-ng program (any of its voices and rates, e.g.
``ko+f3`` at 130 words per minute); noise is generated here, seeded and
deterministic: pink, brown or white noise, babble (several espeak-ng voices
talking at once, all the time), or a WAV file of a real room, looped.  Speech
and noise are mixed at a signal-to-noise ratio measured against the speech's
active level, and the noise runs through the whole clip: before, during and
after the answer, as in a waiting room.  Nothing here is ever stored.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NOISES = ("none", "pink", "brown", "white", "babble")
ACTIVE = 0.01  # samples above this (of full scale) are speech, for the speech's level


class SyntheticSpeechError(Exception):
    """espeak-ng is missing or failed: str() is one sentence."""


@dataclass(frozen=True, order=True)
class Voice:
    """An espeak-ng voice and rate: ``ko+f3:130``."""

    name: str
    rate: int

    @classmethod
    def parse(cls, text: str) -> Voice:
        name, _, rate = text.partition(":")
        if not name or (rate and not rate.isdigit()):
            raise ValueError(f"{text!r} is not VOICE or VOICE:RATE (e.g. ko+f3:130)")
        return cls(name, int(rate) if rate else 150)

    def __str__(self) -> str:
        return f"{self.name}:{self.rate}"


class Speech:
    """espeak-ng speech as 16-bit samples at one sample rate, each phrase rendered once."""

    def __init__(self, sample_rate: int) -> None:
        if shutil.which("espeak-ng") is None:
            raise SyntheticSpeechError("espeak-ng is not installed; install the Debian package espeak-ng.")
        self.sample_rate = sample_rate
        self._render = functools.lru_cache(maxsize=4096)(self._espeak)

    def say(self, text: str, voice: Voice) -> np.ndarray:
        return self._render(text, voice)

    def _espeak(self, text: str, voice: Voice) -> np.ndarray:
        import soundfile
        import soxr

        done = subprocess.run(
            ["espeak-ng", "-v", voice.name, "-s", str(voice.rate), "--stdout", text],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0 or not done.stdout:
            why = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
            raise SyntheticSpeechError(f"espeak-ng could not say a phrase with voice {voice} ({why}).")
        samples, rate = soundfile.read(io.BytesIO(done.stdout), dtype="float32", always_2d=True)
        mono = samples[:, 0]
        if rate != self.sample_rate:
            mono = soxr.resample(mono, rate, self.sample_rate)
        return np.asarray(mono, dtype=np.float32)


# ------------------------------------------------------------------- noise


def colored_noise(kind: str, samples: int, seed: int) -> np.ndarray:
    """Pink (1/f), brown (1/f^2) or white noise with unit RMS, from a seeded generator."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(samples)
    if kind == "white":
        shaped = white
    else:
        spectrum = np.fft.rfft(white)
        freqs = np.fft.rfftfreq(samples)
        freqs[0] = freqs[1] if len(freqs) > 1 else 1.0
        spectrum /= np.sqrt(freqs) if kind == "pink" else freqs
        shaped = np.fft.irfft(spectrum, n=samples)
    rms = float(np.sqrt(np.mean(shaped**2))) or 1.0
    return (shaped / rms).astype(np.float32)


class Noise:
    """An endless, seeded background: ``take(n)`` gives the next n samples (unit RMS, or silence)."""

    def __init__(
        self,
        kind: str,
        sample_rate: int,
        *,
        seed: int = 1,
        speech: Speech | None = None,
        babble_texts: Sequence[str] = (),
        babble_voices: Sequence[Voice] = (),
        file: Path | None = None,
    ) -> None:
        self.kind = kind
        self.loop = self._make(kind, sample_rate, seed, speech, babble_texts, babble_voices, file)
        self.position = int(np.random.default_rng(seed).integers(0, max(1, len(self.loop))))

    @staticmethod
    def _make(
        kind: str,
        sample_rate: int,
        seed: int,
        speech: Speech | None,
        texts: Sequence[str],
        voices: Sequence[Voice],
        file: Path | None,
    ) -> np.ndarray:
        if kind == "none":
            return np.zeros(sample_rate, dtype=np.float32)
        if kind in ("pink", "brown", "white"):
            return colored_noise(kind, 30 * sample_rate, seed)
        if kind == "babble":
            if speech is None or not texts or not voices:
                raise ValueError("babble needs speech, sentences and voices")
            return babble(speech, texts, voices, seed)
        if file is None:
            raise ValueError(f"unknown noise {kind!r} (use {', '.join(NOISES)} or a WAV file)")
        from .audiofile import read_pcm16

        pcm = np.frombuffer(read_pcm16(file, sample_rate), dtype="<i2").astype(np.float32) / 32768.0
        if not len(pcm) or not np.any(pcm):
            raise ValueError(f"{file} holds no sound to use as noise")
        return pcm / float(np.sqrt(np.mean(pcm**2)))

    def seek(self, position: int) -> None:
        """Start the background here (any number; it wraps): each session its own stretch of the room."""
        self.position = position % len(self.loop)

    def take(self, n: int) -> np.ndarray:
        out = np.empty(n, dtype=np.float32)
        filled = 0
        while filled < n:
            part = self.loop[self.position : self.position + n - filled]
            out[filled : filled + len(part)] = part
            filled += len(part)
            self.position = (self.position + len(part)) % len(self.loop)
        return out


def babble(speech: Speech, texts: Sequence[str], voices: Sequence[Voice], seed: int, talkers: int = 4) -> np.ndarray:
    """Several voices talking at once, without pause: 30 s, unit RMS."""
    rng = np.random.default_rng(seed)
    length = 30 * speech.sample_rate
    mix = np.zeros(length, dtype=np.float32)
    for talker in range(talkers):
        voice = voices[(talker + int(rng.integers(0, len(voices)))) % len(voices)]
        track: list[np.ndarray] = []
        size = 0
        while size < length:
            clip = speech.say(texts[int(rng.integers(0, len(texts)))], voice)
            track.append(clip)
            size += len(clip)
        stream = np.concatenate(track)
        offset = int(rng.integers(0, len(stream) - length + 1))
        part = stream[offset : offset + length]
        mix += part / (float(np.sqrt(np.mean(part**2))) or 1.0)
    return (mix / (float(np.sqrt(np.mean(mix**2))) or 1.0)).astype(np.float32)


def active_rms(speech: np.ndarray) -> float:
    loud = speech[np.abs(speech) > ACTIVE]
    return float(np.sqrt(np.mean(loud**2))) if len(loud) else 0.0


def mix(speech: np.ndarray, noise: Noise, snr_db: float | None, lead_s: float, sample_rate: int) -> np.ndarray:
    """``lead_s`` of background, then the speech over the background, as float samples."""
    lead = int(lead_s * sample_rate)
    clip = np.concatenate([np.zeros(lead, dtype=np.float32), speech])
    if noise.kind == "none" or snr_db is None:
        return clip
    return clip + noise.take(len(clip)) * noise_gain(speech, snr_db)


def noise_gain(speech: np.ndarray, snr_db: float) -> float:
    """The factor that puts unit-RMS noise ``snr_db`` below the speech's active level."""
    return active_rms(speech) / (10 ** (snr_db / 20))


def to_pcm16(samples: np.ndarray) -> bytes:
    out: bytes = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return out
