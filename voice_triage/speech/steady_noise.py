"""Whether the room's noise is steady (a fan, air conditioning) and loud enough to clean away.

WebRTC noise suppression (``noise_suppression.py``) helps spoken answers
over steady noise a great deal and harms them in a quiet room and over other
people's voices (bench/README.md, "Noise front end").  Level alone cannot
tell the two rooms apart; how the noise's spectrum moves can.  Steady noise
keeps every frequency band at the same level from a quarter second to the
next (pink, brown or white noise: a median spread of 0.7 dB); voices come
and go band by band (espeak-ng babble: 3.2 dB and more).  So the kiosk cleans
its microphone only while the room it hears between answers is both steady
and loud against the answers it has heard.  Holds levels, never audio.
"""

from __future__ import annotations

import collections
import itertools
import statistics
from dataclasses import dataclass

import numpy as np

BANDS = 16  # log-spaced from 125 Hz to 8 kHz (at 16 kHz)
BLOCK_FRAMES = 8  # 30 ms frames per block: a quarter second


@dataclass(frozen=True)
class SteadyRoom:
    """When the room counts as steady noise to clean away."""

    max_spread_db: float = 2.0  # median over bands of the spread (std) of band levels from block to block
    below_snr_db: float = 15.0  # cleaned below this estimated SNR (pink sessions fall below 80% there)
    margin_db: float = 3.0  # and no longer cleaned only above below_snr_db + margin_db
    speech_db: float = -26.0  # the level of an answer assumed before one is heard (dBFS), as core/room.py
    min_blocks: int = 12  # about 3 s of room heard before any verdict


class RoomNoise:
    """Follows the room between answers: band levels of recent frames, and the answers' level."""

    def __init__(self, sample_rate: int, settings: SteadyRoom | None = None, frames: int = 333) -> None:
        self.settings = settings or SteadyRoom()
        self.sample_rate = sample_rate
        self._frames: collections.deque[np.ndarray] = collections.deque(maxlen=frames)
        self._levels: collections.deque[float] = collections.deque(maxlen=frames)
        self._answers: collections.deque[float] = collections.deque(maxlen=5)
        self._edges: tuple[int, int] | None = None
        self.steady_and_loud = False

    def add(self, frame: bytes) -> None:
        """One frame heard while nobody answers."""
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        if not len(samples):
            return
        power = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
        edges = np.geomspace(125.0, self.sample_rate / 2, BANDS + 1) * len(samples) / self.sample_rate
        cuts = np.maximum(1, edges.astype(int))
        bands = np.array([power[a : max(a + 1, b)].sum() for a, b in itertools.pairwise(cuts)])
        self._frames.append(bands)
        mean = float(np.mean(samples**2))
        self._levels.append(10.0 * np.log10(mean) if mean > 1e-10 else -100.0)

    def heard_answer(self, level_db: float) -> None:
        """The level of one answer heard (the median level of its speech frames)."""
        self._answers.append(level_db)

    @property
    def spread_db(self) -> float | None:
        """The median over bands of how much each band's level moves from block to block (None: too little heard)."""
        blocks = len(self._frames) // BLOCK_FRAMES
        if blocks < self.settings.min_blocks:
            return None
        recent = np.stack(list(self._frames)[-blocks * BLOCK_FRAMES :])
        levels = 10.0 * np.log10(recent.reshape(blocks, BLOCK_FRAMES, BANDS).mean(axis=1) + 1e-12)
        return float(np.median(levels.std(axis=0)))

    @property
    def level_db(self) -> float:
        """The room's level between answers: the median level of recent frames."""
        return statistics.median(self._levels) if self._levels else -100.0

    @property
    def snr_db(self) -> float:
        speech = statistics.median(self._answers) if self._answers else self.settings.speech_db
        return speech - self.level_db

    def update(self) -> bool:
        """Whether to clean the microphone now (asked between answers); the SNR verdict has a margin."""
        s = self.settings
        spread = self.spread_db
        border = s.below_snr_db + (s.margin_db if self.steady_and_loud else 0.0)
        self.steady_and_loud = bool(spread is not None and spread <= s.max_spread_db and self.snr_db < border)
        return self.steady_and_loud
