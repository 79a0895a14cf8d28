"""Real audio devices without hardware, for the voice tests and the benchmark.

A private PulseAudio daemon with a null sink ("spk") and a virtual
microphone on that sink's monitor ("mic"): PortAudio/sounddevice see them as
the default loudspeaker and microphone, and whatever is played, by the kiosk
or by the scripted patient, is what the microphone hears.  A silent
low-latency stream keeps the null sink's clock running (without any playback
stream it renders in 2-second blocks and capture lags by seconds).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

TOOLS = ("pulseaudio", "pactl", "paplay", "pacat", "espeak-ng")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def start_audio_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start PulseAudio (null sink spk, virtual microphone mic on its monitor) in ``env``.

    Returns the keep-alive stream that keeps the null sink's clock running
    (without it the monitor delivers nothing while nobody plays).
    """
    subprocess.run(
        [
            "pulseaudio",
            "-n",
            "--daemonize=yes",
            "--exit-idle-time=-1",
            "--disallow-exit=no",
            "--load=module-native-protocol-unix",
            "--load=module-null-sink sink_name=spk",
            "--load=module-virtual-source source_name=mic master=spk.monitor",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", "spk"], env=env, check=True)
    subprocess.run(["pactl", "set-default-source", "mic"], env=env, check=True)
    return subprocess.Popen(
        [
            "pacat",
            "--playback",
            "--latency-msec=20",
            "--raw",
            "--format=s16le",
            "--rate=16000",
            "--channels=1",
            "/dev/zero",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def virtual_audio() -> Iterator[dict[str, str]]:
    """Start PulseAudio with spk + mic; yield the environment to run programs in."""
    runtime = tempfile.mkdtemp(prefix="voice-triage-pulse-")
    env = {**os.environ, "XDG_RUNTIME_DIR": runtime, "PULSE_RUNTIME_PATH": str(Path(runtime) / "pulse")}
    keepalive = start_audio_server(env)
    try:
        yield env
    finally:
        keepalive.terminate()
        keepalive.wait(timeout=5)
        subprocess.run(["pactl", "exit"], env=env, capture_output=True)
        shutil.rmtree(runtime, ignore_errors=True)


def espeak_wav(text: str, path: Path, voice: str = "ko", rate: int = 150) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text], check=True)
    return path


def play(path: Path, env: dict[str, str]) -> None:
    """Speak into the virtual microphone (blocks until played)."""
    subprocess.run(["paplay", "--latency-msec=20", str(path)], env=env, check=True)
