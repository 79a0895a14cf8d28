"""Echo cancellation of the kiosk's own prompts: speex's echo canceller (libspeexdsp), through ctypes.

The kiosk knows exactly what it plays.  :class:`EchoCanceller` takes each
microphone frame with the loudspeaker samples played just before it and
returns the frame with that echo removed (speex's MDF adaptive filter, then
its preprocessor's residual-echo suppression).  What is left of the prompt is
the *residue*; speech that stands out from it can be a patient talking over
the question (barge-in, ``ListenSettings.barge_in``).

The PyPI bindings (``speexdsp``, ``pyspeexaec``) build against the speex
headers; libspeexdsp itself comes with PulseAudio on Debian (``libspeexdsp1``),
so it is called directly.  :class:`EchoUnavailable` says so in one sentence
when it is missing.  No audio is ever stored.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np

SPEEX_ECHO_SET_SAMPLING_RATE = 24
SPEEX_PREPROCESS_SET_DENOISE = 0
SPEEX_PREPROCESS_SET_ECHO_STATE = 24
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22


class EchoUnavailable(Exception):
    """libspeexdsp is not installed: str() is one sentence."""


def _library() -> Any:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise EchoUnavailable(
            "Echo cancellation needs libspeexdsp (apt-get install libspeexdsp1); barge-in stays off."
        ) from None
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.speex_echo_state_reset.argtypes = [ctypes.c_void_p]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    return lib


class EchoCanceller:
    """One speex echo canceller for ``frame`` samples at ``rate``, with a filter ``tail_ms`` long."""

    def __init__(self, frame: int, rate: int, tail_ms: int = 400, suppress_db: int = -45) -> None:
        self._lib = _library()
        self.frame = frame
        self._echo = self._lib.speex_echo_state_init(frame, rate * tail_ms // 1000)
        value = ctypes.c_int(rate)
        self._lib.speex_echo_ctl(self._echo, SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(value))
        self._pre = self._lib.speex_preprocess_state_init(frame, rate)
        off = ctypes.c_int(0)
        self._lib.speex_preprocess_ctl(self._pre, SPEEX_PREPROCESS_SET_DENOISE, ctypes.byref(off))
        self._lib.speex_preprocess_ctl(self._pre, SPEEX_PREPROCESS_SET_ECHO_STATE, ctypes.c_void_p(self._echo))
        for request in (SPEEX_PREPROCESS_SET_ECHO_SUPPRESS, SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE):
            level = ctypes.c_int(suppress_db)
            self._lib.speex_preprocess_ctl(self._pre, request, ctypes.byref(level))
        self._out = np.zeros(frame, dtype="<i2")

    def cancel(self, mic: bytes, played: np.ndarray) -> bytes:
        """The microphone frame without the echo of ``played`` (int16 loudspeaker samples, one frame)."""
        near = np.frombuffer(mic, dtype="<i2")
        far = np.ascontiguousarray(played, dtype="<i2")
        if len(near) != self.frame or len(far) != self.frame:
            raise ValueError(f"echo cancellation takes frames of {self.frame} samples")
        out = self._out
        self._lib.speex_echo_cancellation(
            self._echo, near.ctypes.data_as(ctypes.c_void_p), far.ctypes.data_as(ctypes.c_void_p), out.ctypes.data
        )
        self._lib.speex_preprocess_run(self._pre, out.ctypes.data)
        return out.tobytes()

    def reset(self) -> None:
        self._lib.speex_echo_state_reset(self._echo)

    def close(self) -> None:
        if self._echo:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        self.close()
