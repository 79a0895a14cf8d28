"""Read an audio file of any sample rate and channel count as 16-bit mono PCM."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class AudioFileError(Exception):
    """An unreadable audio file: str() is one sentence."""


def read_pcm16(path: Path, sample_rate: int) -> bytes:
    """The file's audio, mixed to mono and resampled to ``sample_rate``, as 16-bit PCM."""
    import soundfile
    import soxr

    try:
        samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioFileError(f"{path} could not be read as audio ({exc}); give a WAV file.") from None
    mono = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if rate != sample_rate and len(mono):
        mono = soxr.resample(mono, rate, sample_rate)
    pcm: bytes = (np.clip(mono, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    return pcm
