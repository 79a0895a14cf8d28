"""The noise front end (WebRTC noise suppression), on real audio through the real library."""

from __future__ import annotations

import numpy as np
import pytest

from voice_triage.speech.noise_suppression import NoiseSuppressionUnavailable, NoiseSuppressor
from voice_triage.speech.speech_in import FRAME_MS, Endpointer, ListenSettings, frame_db
from voice_triage.speech.synthetic import Noise

RATE = 16000
FRAME = RATE * FRAME_MS // 1000


def frames(samples: np.ndarray) -> list[bytes]:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    return [pcm[i : i + FRAME].tobytes() for i in range(0, len(pcm) - FRAME + 1, FRAME)]


def test_steady_noise_is_turned_down_and_frames_keep_their_size() -> None:
    noise = Noise("pink", RATE, seed=3).take(RATE * 4) * 0.05
    clean = NoiseSuppressor(3)
    out = [clean(f) for f in frames(noise)]
    assert all(len(o) == 2 * FRAME for o in out)
    before = np.median([frame_db(f) for f in frames(noise)[-30:]])
    after = np.median([frame_db(o) for o in out[-30:]])
    assert after < before - 6, (before, after)  # the last second, once it has learned the noise


def test_levels_and_rates_it_cannot_take_are_one_sentence() -> None:
    with pytest.raises(ValueError, match="0 \\(off\\) to 4"):
        NoiseSuppressor(5)
    with pytest.raises(NoiseSuppressionUnavailable, match="16 kHz") as caught:
        NoiseSuppressor(2, sample_rate=8000)
    assert "." not in str(caught.value).replace("8000", "")  # the start of a sentence the caller ends


def test_the_endpointer_uses_it_only_when_asked() -> None:
    assert Endpointer(ListenSettings(), RATE).clean is None
    assert isinstance(Endpointer(ListenSettings(noise_suppression=2), RATE).clean, NoiseSuppressor)


def test_whether_it_can_run_here() -> None:
    from voice_triage.speech.noise_suppression import check_available

    assert check_available(0, 0, 8000) is None  # off: nothing to check
    assert check_available(2, 0, RATE) is None
    why = check_available(2, 0, 8000)
    assert why is not None and "16 kHz" in why
