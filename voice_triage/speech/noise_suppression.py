"""A noise front end for the microphone: WebRTC's noise suppression and automatic gain.

Home Assistant's Assist cleaned its microphone audio with this library
(``webrtc-noise-gain``, 10 ms frames of 16-bit mono at 16 kHz) before voice
activity detection and speech recognition.  Whether it helps here is measured
by the spoken evaluation (``voice-triage evaluate --spoken --suppress-noise N``;
figures in bench/README.md): the setting is off unless those figures say
otherwise.  It keeps its noise estimate from frame to frame and holds no audio.
"""

from __future__ import annotations

from typing import Any

CHUNK_MS = 10
RATE = 16000  # the only rate the library takes


class NoiseSuppressionUnavailable(Exception):
    """The front end cannot run here: str() says why, as the start of a sentence the caller ends."""


class NoiseSuppressor:
    """Cleans 16-bit mono frames (any whole number of 10 ms chunks) in place of the raw ones."""

    def __init__(self, level: int, auto_gain_dbfs: int = 0, sample_rate: int = RATE) -> None:
        if not 0 <= level <= 4:
            raise ValueError(f"noise suppression level {level} is not 0 (off) to 4")
        if not 0 <= auto_gain_dbfs <= 31:
            raise ValueError(f"automatic gain target {auto_gain_dbfs} dBFS is not 0 (off) to 31")
        if sample_rate != RATE:
            raise NoiseSuppressionUnavailable(
                f"Noise suppression needs 16 kHz audio and the speech model hears {sample_rate} Hz"
            )
        try:
            from webrtc_noise_gain import AudioProcessor
        except ImportError:
            raise NoiseSuppressionUnavailable(
                "Noise suppression needs the webrtc-noise-gain package (pip install webrtc-noise-gain)"
            ) from None
        self._processor: Any = AudioProcessor(auto_gain_dbfs, level)
        self._chunk = RATE * CHUNK_MS // 1000 * 2

    def __call__(self, frame: bytes) -> bytes:
        chunk = self._chunk
        if len(frame) % chunk:
            return frame  # a ragged frame: the endpointer drops it anyway
        return b"".join(self._processor.Process10ms(frame[i : i + chunk]).audio for i in range(0, len(frame), chunk))


def check_available(level: int, auto_gain_dbfs: int, sample_rate: int) -> str | None:
    """Why the front end asked for cannot run here (the start of a sentence), or None when it can."""
    if not level and not auto_gain_dbfs:
        return None
    try:
        NoiseSuppressor(level, auto_gain_dbfs, sample_rate)
    except NoiseSuppressionUnavailable as exc:
        return str(exc)
    return None
