"""Shared helpers for the speech benchmarks and tests: synthesise, add noise, decode."""

from __future__ import annotations

import ctypes
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from voice_triage.speech.audiofile import read_pcm16

_LIBC = ctypes.CDLL(None)


def reseed_dither(seed: int = 1) -> None:
    """Make the next decode independent of the ones before it.

    Kaldi (inside vosk) dithers the features with random noise drawn from a
    generator seeded by libc's ``rand()``, so the same audio can be heard
    differently depending on how many decodes ran earlier in the process
    (vosk-api issues #868, #660).  Reseeding libc before each answer gives
    every answer the dither a fresh process would give it.
    """
    _LIBC.srand(seed)


VARIANTS = (("ko", 130), ("ko", 175), ("ko+f3", 130), ("ko+f3", 175), ("ko+m3", 130), ("ko+m3", 175))


def synthesise(text: str, voice: str, rate: int, sample_rate: int = 16000) -> np.ndarray:
    """espeak-ng speech as int16 samples at ``sample_rate``, with 0.3 s of silence each side."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(wav), text], check=True)
        pcm = np.frombuffer(read_pcm16(wav, sample_rate), dtype="<i2")
    pad = np.zeros(int(0.3 * sample_rate), dtype="<i2")
    return np.concatenate([pad, pcm, pad])


def noise(kind: str, samples: int, sample_rate: int = 16000, seed: int = 1) -> np.ndarray:
    """sox-generated noise (``pinknoise``, ``brownnoise``, ``whitenoise``) as float32."""
    seconds = samples / sample_rate + 0.1
    command = ["sox", *(["-R"] if seed else []), "-n", "-r", str(sample_rate), "-c", "1", "-b", "16"]
    command += ["-e", "signed-integer", "-t", "raw", "-", "synth", f"{seconds:.3f}", kind, "vol", "0.5"]
    raw = subprocess.run(command, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32)[:samples] / 32768.0


def mix_at_snr(speech: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """Speech plus background scaled to ``snr_db`` against the speech's active RMS."""
    s = speech.astype(np.float32) / 32768.0
    active = s[np.abs(s) > 0.01]
    speech_rms = float(np.sqrt(np.mean(active**2))) if len(active) else 0.0
    noise_rms = float(np.sqrt(np.mean(background**2))) or 1.0
    scaled = background * (speech_rms / noise_rms) / (10 ** (snr_db / 20))
    mixed = np.clip(s + scaled[: len(s)], -1.0, 1.0)
    return (mixed * 32767).astype("<i2")
