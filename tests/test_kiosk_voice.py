"""The kiosk's voice: captions follow the speech, any touch interrupts it, missing parts fall back.

The speech thread is tested with a stand-in loudspeaker (no audio device);
the whole spoken path (start phrase, spoken answer, touch interrupting,
clean stop) runs in a real ``voice-triage kiosk`` process with the Korean
model on a private PulseAudio (marked ``audio``).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.audio_env import espeak_wav, missing_tools, play, virtual_audio
from voice_triage.core.locale import Locale, load_locale
from voice_triage.kiosk.config import KioskConfig
from voice_triage.kiosk.controller import QUESTION, KioskController
from voice_triage.kiosk.text import load_locale_text
from voice_triage.kiosk.voice import KioskSpeech, kiosk_texts
from voice_triage.speech.speech_out import LoudspeakerLost

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_S = 10.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


class StandInSpeaker:
    """Plays nothing: each say() lasts until release() or stop(), like the real player."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.stopped = 0
        self.lose_after: int | None = None
        self._done = threading.Event()
        self.busy_until = 0.0
        self.rate_volume: tuple[int, float] | None = None

    def say(self, text: str) -> None:
        if self.lose_after is not None and len(self.said) >= self.lose_after:
            raise LoudspeakerLost("The loudspeaker stopped playing; the rest is shown on screen.")
        self._done.clear()
        self.said.append(text)
        assert self._done.wait(DEADLINE_S), "never released"

    def release(self) -> None:
        self._done.set()

    def stop(self) -> None:
        self.stopped += 1
        self._done.set()

    def configure(self, rate: int, volume: float) -> None:
        self.rate_volume = (rate, volume)


@pytest.fixture
def voiced(locale: Locale) -> Iterator[tuple[KioskController, StandInSpeaker, KioskSpeech, io.StringIO]]:
    speaker = StandInSpeaker()
    err = io.StringIO()
    speech = KioskSpeech(speaker, err)
    controller = KioskController(
        locale, load_locale_text("en"), KioskConfig(name="k"), None, notify=lambda alert: None, speech=speech
    )
    speech.attach(controller)
    try:
        yield controller, speaker, speech, err
    finally:
        speaker.release()
        speech.close()


def captions(controller: KioskController) -> list[str]:
    return list(controller.snapshot()["captions"]["lines"])


def test_each_caption_appears_as_its_sentence_is_spoken(
    voiced: tuple[KioskController, StandInSpeaker, KioskSpeech, io.StringIO], locale: Locale
) -> None:
    controller, speaker, _, _ = voiced
    controller.start()
    welcome = locale.content.messages.say("welcome_touch")  # a loudspeaker but nothing listening: touch to answer
    wait_until(lambda: speaker.said == [welcome], "the first sentence")
    assert captions(controller) == [welcome], "the next sentence is not captioned before it is said"
    assert controller.snapshot()["speaking"]
    speaker.release()
    wait_until(lambda: len(speaker.said) == 2, "the second sentence")
    assert captions(controller) == speaker.said
    speaker.release()
    wait_until(lambda: len(speaker.said) == 3, "the question")
    speaker.release()
    wait_until(lambda: not controller.snapshot()["speaking"], "the end of the turn")
    assert captions(controller)[-1] == locale.content.questions[0].text


def test_a_touch_interrupts_the_speech_and_the_rest_is_still_captioned(
    voiced: tuple[KioskController, StandInSpeaker, KioskSpeech, io.StringIO], locale: Locale
) -> None:
    controller, speaker, _, _ = voiced
    controller.start()
    wait_until(lambda: len(speaker.said) == 1, "the first sentence")
    controller.interrupt()  # any touch or key
    wait_until(lambda: not controller.snapshot()["speaking"], "the turn to end")
    assert speaker.stopped >= 1 and len(speaker.said) == 1, "nothing more is said"
    assert captions(controller)[-1] == locale.content.questions[0].text, "but everything is captioned"
    controller.answer("no")  # a new turn speaks again
    wait_until(lambda: len(speaker.said) == 2, "the next question")
    assert speaker.said[-1] == locale.content.questions[1].text


def test_an_answer_cuts_the_question_short(
    voiced: tuple[KioskController, StandInSpeaker, KioskSpeech, io.StringIO], locale: Locale
) -> None:
    controller, speaker, _, _ = voiced
    controller.start()
    wait_until(lambda: len(speaker.said) == 1, "the welcome")
    controller.answer("no")
    wait_until(lambda: speaker.said[-1] == locale.content.questions[1].text, "the next question")
    assert locale.content.questions[0].text not in speaker.said


def test_rate_and_volume_reach_the_loudspeaker(
    voiced: tuple[KioskController, StandInSpeaker, KioskSpeech, io.StringIO],
) -> None:
    controller, speaker, _, _ = voiced
    controller.setting("slower")
    controller.setting("louder")
    assert speaker.rate_volume == (controller.settings.rate, controller.settings.volume)
    assert controller.settings.rate < controller.defaults.rate


def test_a_lost_loudspeaker_leaves_captions(
    voiced: tuple[KioskController, StandInSpeaker, KioskSpeech, io.StringIO], locale: Locale
) -> None:
    controller, speaker, speech, err = voiced
    speaker.lose_after = 1
    controller.start()
    wait_until(lambda: len(speaker.said) == 1, "the first sentence")
    speaker.release()
    wait_until(lambda: not controller.snapshot()["speaking"], "the end of the turn")
    assert captions(controller)[-1] == locale.content.questions[0].text
    assert speech.speaker is None
    assert err.getvalue().count("\n") == 1 and "captions only" in err.getvalue()


def test_every_known_sentence_is_rendered_at_start(locale: Locale) -> None:
    texts = kiosk_texts(locale, load_locale_text("en"))
    assert locale.content.questions[0].text in texts and "Repeat" in texts and "Yes" in texts
    assert len(texts) == len(set(texts))


# ------------------------------------------------------------------ real processes


def _config(tmp: Path, **extra: Any) -> Path:
    path = tmp / "kiosk.yaml"
    data = {
        "name": "Voice kiosk",
        "locale": "ko",
        "database": str(tmp / "records.sqlite3"),
        "timeouts": {"no_input_s": 8, "still_there_s": 300, "reset_after_s": 600, "result_pause_s": 300},
        **extra,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class Kiosk:
    def __init__(self, config: Path, env: dict[str, str], extra: tuple[str, ...] = ()) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voice_triage", "kiosk", "--config", str(config), "--port", "0", *extra],
            cwd=ROOT,
            env={**env, "VOICE_TRIAGE_STAFF_TOKEN": "t" * 24, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(
            target=lambda: lines.append(self.process.stdout.readline() if self.process.stdout else "")
        )
        reader.start()
        reader.join(120)
        assert lines and lines[0].startswith("kiosk ready on "), (lines, self.stop())
        self.url = lines[0].strip().rsplit(" ", 1)[1]

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/api/state", timeout=DEADLINE_S) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data

    def post(self, body: dict[str, Any]) -> int:
        request = urllib.request.Request(
            self.url + "/api/input", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=DEADLINE_S) as response:
            return int(response.status)

    def wait(self, condition: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if condition(state):
                return state
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {state['screen']}"
            time.sleep(0.1)

    def stop(self) -> tuple[int | None, str]:
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate(timeout=20)
        return self.process.returncode, "\n".join(line for line in err.splitlines() if "ALSA lib" not in line)


def test_missing_voice_parts_fall_back_to_the_screen_with_one_sentence_each(tmp_path: Path) -> None:
    config = _config(tmp_path, model=str(tmp_path / "no-model"), audio={"output_device": "no such loudspeaker"})
    kiosk = Kiosk(config, dict(os.environ))
    try:
        assert kiosk.post({"start": True}) == 200
        state = kiosk.state()
        assert state["screen"] == QUESTION and state["captions"]["lines"], "captions without speech"
    finally:
        code, err = kiosk.stop()
    assert code == 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert any("loudspeaker" in line.lower() and "captions only" in line for line in lines), err
    assert any("touch and keys only" in line for line in lines), err
    assert any(line.startswith("No voice:") for line in lines), err
    assert "Traceback" not in err


def test_a_missing_model_that_cannot_be_downloaded_is_one_sentence_and_touch(tmp_path: Path) -> None:
    """``./dev run`` (``--download-model``) offline on a fresh machine: one sentence, then the kiosk by touch."""
    config = _config(tmp_path, locale="en", audio={"output_device": "no such loudspeaker"})
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens, so every download fails at once
    env = {
        **os.environ,
        "VOICE_TRIAGE_MODELS_DIR": str(tmp_path / "models"),
        "http_proxy": closed,
        "https_proxy": closed,
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "no_proxy": "",
        "NO_PROXY": "",
    }
    env.pop("VOICE_TRIAGE_MODEL", None)
    kiosk = Kiosk(config, env, extra=("--download-model",))
    try:
        assert kiosk.post({"start": True}) == 200
        assert kiosk.state()["screen"] == QUESTION
    finally:
        code, err = kiosk.stop()
    assert code == 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert any(line.startswith("The en speech model is not installed: downloading ") for line in lines), err
    failed = [line for line in lines if line.startswith("The speech model could not be downloaded (no network")]
    assert len(failed) == 1 and failed[0].count(". ") == 0, err  # one sentence
    assert "touch and keys only" in failed[0]
    assert "Traceback" not in err


@pytest.mark.audio
def test_spoken_start_and_answer_then_a_touch(tmp_path: Path) -> None:
    missing = missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)} (./dev test installs them as root)")
    with virtual_audio() as env:
        kiosk = Kiosk(_config(tmp_path), env)
        try:
            assert kiosk.state()["screen"] == "idle"
            play(espeak_wav("시작", tmp_path / "start.wav"), env)
            kiosk.wait(lambda s: s["screen"] == QUESTION, "a spoken start")
            asked = kiosk.wait(lambda s: not s["speaking"], "the first question to be said")
            time.sleep(0.3)  # the echo tail: the kiosk ignores its microphone just after it speaks
            play(espeak_wav("아니요", tmp_path / "no.wav"), env)
            # the kiosk replies to what it heard: a read-back of this red-flag answer, the next
            # question, or (audio under heavy load) "sorry, I did not understand"; never "no answer"
            after = kiosk.wait(
                lambda s: s["captions"]["turn"] > asked["captions"]["turn"] and bool(s["captions"]["lines"]), "a reply"
            )
            assert after["screen"] == QUESTION
            heard = after["question"] != asked["question"]
            no_input = load_locale("ko").content.messages.say("no_input")
            assert heard or no_input not in after["captions"]["lines"], after["captions"]
            shown = kiosk.wait(lambda s: s["speaking"], "the kiosk to say something back")
            assert kiosk.post({"answer": "no", "step": shown["step"]}) == 200  # a touch: interrupts and answers
            kiosk.wait(lambda s: s["captions"]["turn"] > after["captions"]["turn"], "the reply to the touch")
        finally:
            code, err = kiosk.stop()
        assert code == 0, err
        assert "Traceback" not in err


class SilentPlayer:
    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self.played = 0

    def play(self, samples: Any, volume: float) -> None:
        self.played += len(samples)


def english_synthesizer() -> Any:
    """The real espeak-ng synthesiser (CI must have it; elsewhere the test is skipped with the reason)."""
    from voice_triage.speech.speech_out import SpeechOutputError, Synthesizer, VoiceSettings

    try:
        return Synthesizer("en", VoiceSettings())
    except SpeechOutputError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


def test_sentences_that_quote_an_answer_are_not_kept_after_they_are_said() -> None:
    from voice_triage.kiosk.voice import PlayerSpeaker
    from voice_triage.speech.speech_out import Speaker

    synth = english_synthesizer()
    known = "Please answer the question."
    synth.prerender([known])
    player = SilentPlayer(synth.sample_rate)
    speaker = PlayerSpeaker(Speaker(synth, player), {known})  # type: ignore[arg-type]
    speaker.say("I heard: 42 days. Is that right?")
    assert player.played > 0, "it was said"
    assert not synth.cached("I heard: 42 days. Is that right?"), "and then forgotten"
    speaker.say(known)
    assert synth.cached(known)


OBSERVE_JS = """
() => {
  window.__states = [];
  window.__heard = [];
  const indicator = document.querySelector('#indicator');
  const heard = document.querySelector('#heard');
  const note = () => {
    const s = indicator.dataset.state;
    if (!document.querySelector('#listening').hidden && window.__states[window.__states.length - 1] !== s) {
      window.__states.push(s);
    }
  };
  new MutationObserver(note).observe(indicator, {attributes: true, attributeFilter: ['data-state']});
  new MutationObserver(note).observe(document.querySelector('#listening'), {attributes: true});
  new MutationObserver(() => { if (heard.textContent) window.__heard.push(heard.textContent); })
    .observe(heard, {childList: true, characterData: true, subtree: true});
  note();
}
"""


@pytest.mark.audio
@pytest.mark.browser
def test_the_page_shows_speaking_listening_hearing_thinking_and_the_words_heard(tmp_path: Path) -> None:
    """Spoken through PulseAudio, seen in Chromium: the indicator goes through its states, the words heard
    are captioned ("들은 말: ..."), and axe-core finds nothing on it in high contrast at the largest text."""
    from bench.screenshots import VIEWPORT, save
    from tests.test_kiosk_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser, axe_violations
    from voice_triage.kiosk.controller import TEXT_SIZES

    missing = missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)} (./dev test installs them as root)")
    _need_browser()
    from playwright.sync_api import sync_playwright

    text = load_locale_text("ko")
    with virtual_audio() as env, sync_playwright() as pw:
        kiosk = Kiosk(_config(tmp_path), env)
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)  # the README pictures' size
            page.set_default_timeout(30_000)
            page.goto(kiosk.url + "/")
            page.locator("#indicator").wait_for(state="visible")
            page.wait_for_function("() => document.querySelector('#indicator').dataset.state === 'listening'")
            assert page.locator("#indicator-label").inner_text() == text["listen_listening"]
            page.evaluate(OBSERVE_JS)
            play(espeak_wav("시작", tmp_path / "start.wav"), env)
            page.locator("#question").wait_for(state="visible")
            listening = "() => document.querySelector('#indicator').dataset.state === 'listening'"
            page.wait_for_function(listening)
            save(page, "listening", tmp_path / "shots")  # the README's pictures (bench/screenshots.py)
            no = espeak_wav("아니요", tmp_path / "no.wav")
            for _ in range(3):  # on a loaded machine a reply can be missed ("I did not hear"): say it again
                page.wait_for_function(listening)
                time.sleep(0.3)  # the echo tail
                play(no, env)
                try:
                    page.wait_for_function("() => window.__heard.length > 0", timeout=15_000)
                    break
                except Exception:  # a Playwright TimeoutError
                    continue
            else:
                pytest.fail(f"no words heard in 3 replies; indicator went {page.evaluate('() => window.__states')}")
            page.wait_for_timeout(300)
            save(page, "heard", tmp_path / "shots")
            states = page.evaluate("() => window.__states")
            heard = page.evaluate("() => window.__heard")
            for wanted in ("listening", "hearing", "thinking", "speaking"):
                assert wanted in states, f"the indicator never showed {wanted}: {states}"
            first_hearing = states.index("hearing")
            assert "thinking" in states[first_hearing:] and "speaking" in states[first_hearing:], states
            assert all(h.startswith(text["heard"] + ": ") and len(h) > len(text["heard"]) + 2 for h in heard), heard
            # announced politely, the state only once settled (the live level is not announced)
            assert page.locator("#heard").get_attribute("aria-live") == "polite"
            assert page.locator("#level").get_attribute("aria-hidden") == "true"
            page.wait_for_function("() => document.querySelector('#listen-live').textContent !== ''")
            page.locator('[data-setting="contrast"]').click()
            page.wait_for_function("() => document.body.classList.contains('high-contrast')")
            for size in range(1, TEXT_SIZES):
                page.locator('[data-setting="text_larger"]').click()
                page.wait_for_function(f"() => document.documentElement.dataset.textSize === '{size}'")
            violations = axe_violations(page)
            assert not violations, violations
        finally:
            browser.close()
            code, err = kiosk.stop()
        assert code == 0, err
        assert "Traceback" not in err


def test_the_speech_engine_prints_nothing_among_the_kiosks_lines(capfd: pytest.CaptureFixture[str]) -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." from its own thread, sometimes after a
    sentence is rendered: before the fix it could come before "kiosk ready" on the kiosk's stdout."""
    synth = english_synthesizer()
    synth.render("Hello there.")
    import pyttsx3.drivers.espeak as driver

    driver.print("Audio saved to /tmp/x.wav")  # type: ignore[attr-defined]  # as its callback thread does
    time.sleep(0.2)
    out, _ = capfd.readouterr()
    assert "Audio saved" not in out
