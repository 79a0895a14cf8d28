"""The room check: a room too loud for spoken answers makes the welcome offer touch and tells staff.

Pure parts (the estimate and its hysteresis, the calibration file) and the
controller with a fake clock; the whole path, from pink noise in a virtual
microphone to the staff page and the welcome, runs in a real kiosk process
on a private PulseAudio (marked ``audio``).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.audio_env import missing_tools, virtual_audio
from tests.test_kiosk import make
from tests.test_kiosk_voice import Kiosk, _config
from voice_triage.core.locale import Locale, load_locale
from voice_triage.core.room import NoiseFloor, RoomCalibration, RoomEstimate, load_room_calibration
from voice_triage.core.yamlload import ContentError
from voice_triage.kiosk.controller import IDLE, QUESTION, KioskController
from voice_triage.kiosk.text import KioskText, load_locale_text, load_staff_text
from voice_triage.kiosk.web import room_status

CAL = RoomCalibration("en", min_snr_db=20.0, speech_db=-26.0, margin_db=3.0)


@pytest.fixture(scope="module")
def text() -> KioskText:
    return load_locale_text("en")


def test_the_verdict_changes_only_past_the_margin() -> None:
    room = RoomEstimate(CAL)
    seen = [room.update(background).reliable for background in (-60, -48, -44, -50, -47, -52)]
    # -48: SNR 22 (fine); -44: 18, under 20-3? no, 18 > 17: still fine; then it has to fall under 17
    assert seen == [True, True, True, True, True, True]
    assert room.update(-42).reliable is False  # SNR 16 < 17
    assert room.update(-47).reliable is False  # 21: not yet past 20 + 3
    assert room.update(-50).reliable is True  # 24 > 23


def test_answers_heard_set_the_speech_level() -> None:
    room = RoomEstimate(CAL)
    assert room.update(-40).snr_db == pytest.approx(14.0)  # the assumed voice level, before any answer
    for level in (-15.0, -14.0, -16.0):
        room.heard_answer(level)
    state = room.update(-40)
    assert state.speech_db == pytest.approx(-15.0) and state.snr_db == pytest.approx(25.0)
    assert state.reliable


def test_the_shipped_calibration_loads_and_a_bad_one_names_its_line(tmp_path: Path) -> None:
    ko = load_room_calibration("ko")
    assert ko is not None and 0 < ko.min_snr_db < 40 and ko.speech_db < 0
    assert load_room_calibration("en") is None  # never measured: no claim either way
    bad = tmp_path / "room.yaml"
    bad.write_text("locales:\n  ko:\n    min_snr_db: loud\n    speech_db: 5\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_room_calibration("ko", bad)
    message = str(caught.value)
    assert f"{bad}:3: 'min_snr_db' must be a number" in message
    assert f"{bad}:4: 'speech_db' must be between" in message


def hearing(locale: Locale, text: KioskText) -> KioskController:
    controller, *_ = make(locale, text)
    controller.room = RoomEstimate(CAL)
    controller.hears = True  # as kiosk/voice.py sets it once a microphone and a model listen
    return controller


def test_a_loud_room_makes_the_welcome_offer_touch(locale: Locale, text: KioskText) -> None:
    messages = locale.content.messages
    controller = hearing(locale, text)
    controller.room_measured(-60.0, None)
    assert controller.snapshot()["text"]["invite"] == text["invite"]
    controller.room_measured(-35.0, None)  # SNR 9 dB
    assert controller.state == IDLE and controller.snapshot()["text"]["invite"] == text["invite_noisy"]
    room = controller.room_snapshot()
    assert room is not None and room["reliable"] is False and room["snr_db"] == pytest.approx(9.0)
    controller.start()
    assert controller.state == QUESTION
    said = controller.snapshot()["captions"]["lines"]
    assert said[0] == messages.say("welcome_noisy") and messages.say("welcome") not in said


def test_a_quiet_room_keeps_the_spoken_welcome(locale: Locale, text: KioskText) -> None:
    controller = hearing(locale, text)
    controller.room_measured(-58.0, -20.0)
    controller.start()
    assert controller.snapshot()["captions"]["lines"][0] == locale.content.messages.say("welcome")


def test_a_kiosk_that_cannot_hear_makes_no_claim_about_the_room(locale: Locale, text: KioskText) -> None:
    controller, *_ = make(locale, text)
    controller.room = RoomEstimate(CAL)
    controller.room_measured(-30.0, None)
    assert controller.room_snapshot() is None  # no microphone or model: the room does not matter
    controller.start()
    assert controller.snapshot()["captions"]["lines"][0] == locale.content.messages.say("welcome_touch")


def test_the_staff_page_says_what_the_room_allows() -> None:
    assert room_status(None) == ""
    room = {"background_db": -35.0, "speech_db": -26.0, "snr_db": 9.0, "reliable": False, "min_snr_db": 20}
    loud = room_status(room)
    assert 'data-reliable="false"' in loud and "too loud" in loud and "9 dB" in loud
    quiet = room_status({**room, "background_db": -60.0, "snr_db": 34.0, "reliable": True})
    assert 'data-reliable="true"' in quiet and "too loud" not in quiet


# ------------------------------------------------------------------ a real kiosk, a real room


def staff_room(kiosk: Kiosk) -> str:
    request = urllib.request.Request(kiosk.url + "/staff", headers={"Authorization": "Bearer " + "t" * 24})
    with urllib.request.urlopen(request, timeout=10) as response:
        page: str = response.read().decode()
    start = page.find('<div id="room-status">')
    return page[start : page.find("</div>", start)]


def wait_for(kiosk: Kiosk, marker: str, what: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        room = staff_room(kiosk)
        if marker in room:
            return room
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {room!r}"
        time.sleep(0.5)


@pytest.mark.audio
def test_pink_noise_in_the_room_reaches_the_staff_page_and_the_welcome(tmp_path: Path) -> None:
    missing = missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)} (./dev test installs them as root)")
    noisy = load_locale("ko").content.messages.say("welcome_noisy")
    with virtual_audio() as env:
        timeouts = {"no_input_s": 3, "still_there_s": 300, "reset_after_s": 600, "result_pause_s": 300}
        kiosk = Kiosk(_config(tmp_path, timeouts=timeouts), env)
        noise: subprocess.Popen[bytes] | None = None
        try:
            wait_for(kiosk, 'data-reliable="true"', "a quiet room to be measured")
            # a loud fan or a crowd: pink noise at about -20 dBFS, 6 dB above the assumed voice level
            fan = tmp_path / "pink.wav"
            subprocess.run(
                [
                    "sox",
                    "-q",
                    "-n",
                    "-r",
                    "16000",
                    "-c",
                    "1",
                    "-b",
                    "16",
                    str(fan),
                    "synth",
                    "60",
                    "pinknoise",
                    "vol",
                    "0.15",
                ],
                check=True,
            )
            noise = subprocess.Popen(
                ["paplay", "--latency-msec=20", str(fan)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            room = wait_for(kiosk, 'data-reliable="false"', "the loud room to be noticed")
            # said in the kiosk's locale (prompts/ko/staff.yaml)
            assert load_staff_text("ko")["room_loud"].split(" (")[0] in room, room
            assert kiosk.state()["text"]["invite"] == load_locale_text("ko")["invite_noisy"]
            assert kiosk.post({"start": True}) == 200
            state = kiosk.wait(lambda s: bool(s["captions"]["lines"]), "the welcome")
            assert state["captions"]["lines"][0] == noisy
            assert kiosk.post({"command": "stop", "step": state["step"]}) in (200, 409)
            noise.terminate()
            noise.wait(timeout=5)
            noise = None
            wait_for(kiosk, 'data-reliable="true"', "the room to be quiet again")
        finally:
            if noise is not None:
                noise.kill()
            code, err = kiosk.stop()
        assert code == 0, err
        assert "Traceback" not in err


def test_the_noise_floor_follows_the_room_not_the_voices() -> None:
    floor = NoiseFloor(frames=100)
    assert not floor.ready and floor.level_db == NoiseFloor.QUIET_DB
    for i in range(100):  # a quiet room (-55 dBFS) with someone talking (-20) 60% of the time
        floor.add(-20.0 if i % 5 < 3 else -55.0)
    assert floor.ready and floor.level_db == pytest.approx(-55.0)
    for _ in range(100):  # a fan comes on: steady noise at -30, which a voice detector calls speech
        floor.add(-30.0)
    assert floor.level_db == pytest.approx(-30.0)


def test_validate_reports_a_bad_calibration(tmp_path: Path) -> None:
    from tests.conftest import copy_locale
    from tests.test_content_validation import validate

    copy = copy_locale(tmp_path)
    (tmp_path / "room.yaml").write_text("locales:\n  en:\n    min_snr_db: 99\n    speech_db: -26\n", encoding="utf-8")
    done = validate(copy.root)
    assert done.returncode == 2, done.stderr
    assert f"{tmp_path / 'room.yaml'}:3: 'min_snr_db' must be between -10 and 60" in done.stderr
    assert "Traceback" not in done.stderr
