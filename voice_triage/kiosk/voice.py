"""The kiosk's voice: speaking the captions, and listening for answers, on two threads.

:class:`KioskSpeech` is the controller's :class:`~voice_triage.kiosk.Speech`:
it says each turn's sentences in order through a
:class:`~voice_triage.speech_out.Speaker`, tells the controller as each one
starts (its caption), and stops at once when the person touches the screen or
presses a key (the player's ``stop``); the sentences it did not say are still
captioned.  A loudspeaker that fails is reported in one sentence and the kiosk
goes on with captions only.

:class:`KioskListener` listens all the time: while idle only for the start
phrases (a tiny vosk grammar), during a question with that answer type's
grammar, on the result screen for commands.  What it hears goes into the same
controller as a touch, with the listening key it was heard for: a reply that
arrives after the screen has moved on (someone touched an answer meanwhile)
is dropped by the controller, under its lock.  A microphone that stops is
reported once and retried; nothing heard is ever stored or logged.

:func:`start_voice` builds both from the config, falling back to screen and
touch with one sentence for whatever is missing (model, microphone,
loudspeaker, speech engine).
"""

from __future__ import annotations

import collections
import logging
import statistics
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from ..core.content import static_texts
from ..core.locale import Locale
from ..core.room import NoiseFloor
from ..speech.asr import PhraseRecognizer, Recognizer
from ..speech.listening import Listener
from ..speech.noise_suppression import check_available
from ..speech.speech_in import BargeIn, ListenSettings, Microphone, MicrophoneError, frame_db
from ..speech.speech_out import LoudspeakerLost, SpeechOutputError
from .config import KioskConfig
from .controller import HEARING, LISTENING, THINKING, KioskController
from .text import KioskText

log = logging.getLogger(__name__)

MIC_RETRY_S = 2.0
LEVEL_RANGE_DB = 30.0  # the live level: 0 at the room's background, 1 this far above it


class SpeakerLike(Protocol):
    """What KioskSpeech needs of :class:`~voice_triage.speech_out.Speaker`."""

    def say(self, text: str) -> None: ...

    def stop(self) -> None: ...

    def configure(self, rate: int, volume: float) -> None: ...

    @property
    def busy_until(self) -> float: ...


class PlayerSpeaker:
    """A real Speaker (pyttsx3 + sounddevice) seen through :class:`SpeakerLike`."""

    def __init__(self, speaker: Any, known: set[str] | frozenset[str] = frozenset()) -> None:
        self.speaker = speaker
        self.known = known  # rendered at start-up, kept; anything else may quote an answer

    def say(self, text: str) -> None:
        try:
            self.speaker.say(text)
        finally:
            if text not in self.known:
                self.speaker.synth.forget(text)

    def stop(self) -> None:
        self.speaker.player.stop()

    def configure(self, rate: int, volume: float) -> None:
        self.speaker.settings.rate = rate
        self.speaker.settings.volume = volume

    @property
    def busy_until(self) -> float:
        return float(self.speaker.busy_until)

    def close(self) -> None:
        self.speaker.player.close()


@dataclass(frozen=True)
class _Item:
    turn: int
    text: str | None  # None: the end of the turn
    speak: bool = True
    generation: int = 0


class KioskSpeech:
    """Speaks turns on its own thread; any new turn or interrupt cuts the current one off."""

    def __init__(self, speaker: SpeakerLike | None, err: TextIO = sys.stderr) -> None:
        self.speaker = speaker
        self.err = err
        self.controller: KioskController | None = None
        self._cv = threading.Condition()
        self._pending: collections.deque[_Item] = collections.deque()
        self._generation = 0
        self._closed = False
        self._saying = False  # an item taken from the queue is being rendered or said
        self._thread = threading.Thread(target=self._run, name="kiosk-speech", daemon=True)

    def attach(self, controller: KioskController) -> None:
        self.controller = controller
        if not self._thread.is_alive():
            self._thread.start()

    # ---- the controller's Speech protocol (called under the controller's lock: never block)

    def speak(self, turn: int, texts: Sequence[str]) -> None:
        """Cut off what is being said (the rest is still captioned), then say these."""
        with self._cv:
            self._cut_off()
            self._pending.extend(_Item(turn, t, True, self._generation) for t in texts)
            self._pending.append(_Item(turn, None, False, self._generation))
            self._cv.notify()
        self._stop_player()

    def interrupt(self) -> None:
        """Stop speaking; the rest of the turn is captioned without being said."""
        with self._cv:
            self._cut_off()
            self._cv.notify()
        self._stop_player()

    def _cut_off(self) -> None:
        """A new generation: what is still queued is captioned but no longer said (holds ``_cv``)."""
        self._generation += 1
        rest = [_Item(i.turn, i.text, False, self._generation) for i in self._pending]
        self._pending.clear()
        self._pending.extend(rest)

    def configure(self, rate: int, volume: float) -> None:
        if self.speaker is not None:
            self.speaker.configure(rate, volume)

    # ---- for the listener

    @property
    def busy_until(self) -> float:
        """Until when the kiosk's own voice may be in the microphone: a whole turn, not only a sentence.

        Between two sentences of a turn (the next one still being rendered)
        the loudspeaker is silent for a moment; the turn is still going on, so
        the listener neither takes that moment for the patient's turn nor
        starts its no-answer clock in it.
        """
        speaker = self.speaker
        if speaker is None:
            return 0.0
        with self._cv:
            if self._saying or any(i.speak and i.text is not None for i in self._pending):
                return float("inf")
        return speaker.busy_until

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._pending.clear()
            self._cv.notify()
        self._stop_player()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    # ---- the thread

    def _stop_player(self) -> None:
        speaker = self.speaker
        if speaker is not None:
            try:
                speaker.stop()
            except Exception:
                log.warning("the loudspeaker could not be stopped")

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                item = self._pending.popleft()
                current = item.generation == self._generation
                self._saying = item.speak and current and item.text is not None
            controller = self.controller
            if controller is None:
                continue
            try:
                if item.text is None:
                    controller.speech_finished(item.turn)
                    continue
                controller.speech_started(item.turn, item.text)
                if item.speak and current and self.speaker is not None:
                    self._say(item.text)
            except Exception:  # the thread must live on: the next turn still needs its captions
                log.exception("speech thread error")
            finally:
                with self._cv:
                    self._saying = False

    def _say(self, text: str) -> None:
        assert self.speaker is not None
        try:
            self.speaker.say(text)
        except LoudspeakerLost as exc:
            print(f"{exc} The kiosk goes on with captions only.", file=self.err, flush=True)
            self.speaker = None
        except SpeechOutputError as exc:  # this one sentence: it is on screen
            log.warning("speech output: %s", exc)
        except Exception as exc:
            print(
                f"The loudspeaker failed ({type(exc).__name__}); the kiosk goes on with captions only.",
                file=self.err,
                flush=True,
            )
            self.speaker = None


# ------------------------------------------------------------------ listening


class _Changed(Exception):
    """The screen moved on while listening."""


class KioskListener:
    """Listens on its own thread and feeds what it hears into the controller."""

    def __init__(
        self,
        controller: KioskController,
        recognizer: Recognizer,
        start: PhraseRecognizer,
        microphone: Microphone,
        settings: ListenSettings,
        quiet_after: Callable[[], float],
        err: TextIO = sys.stderr,
        barge_in: BargeIn | None = None,
    ) -> None:
        self.controller = controller
        self.barge_in = barge_in  # None: the microphone is ignored while the kiosk speaks
        self.recognizer = recognizer
        self.start_recognizer = start
        self.microphone = microphone
        self.listener = Listener(recognizer, settings)
        self.quiet_after = quiet_after
        self.err = err
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-listen", daemon=True)
        # frame levels of the turn being heard, for the room's estimate (speech_level)
        self._levels: collections.deque[tuple[float, float]] = collections.deque(maxlen=2000)
        self._spoken: tuple[float | None, float | None] | None = None
        self.noise_floor = NoiseFloor()

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self.microphone.close()

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self.listen_once()
            except MicrophoneError as exc:
                self._microphone_lost(str(exc))
            except Exception:
                log.exception("listening failed; trying again")
                self._closed.wait(MIC_RETRY_S)

    def pace(self) -> float:
        """How much longer than configured to wait for an answer: as much slower as the speech now is."""
        controller = self.controller
        return max(1.0, controller.defaults.rate / max(1, controller.settings.rate))

    def listen_once(self) -> None:
        try:
            self._listen_once()
        finally:
            self._measure_room()

    def _measure_room(self) -> None:
        """Tell the controller the room's background level and the level of the answer just heard."""
        floor = self.noise_floor
        speech = speech_level(self._levels, self._spoken, floor.level_db + self.listener.settings.above_background_db)
        self._levels.clear()
        self._spoken = None
        if floor.ready:
            self.controller.room_measured(floor.level_db, speech)

    def _listen_once(self) -> None:
        key, expect = self.controller.listening()
        echo_tail = self.listener.settings.echo_tail_ms / 1000.0
        self.listener.settings.pace = self.pace()  # "slower" gives longer to answer and to pause, too

        def read(timeout: float) -> tuple[float, bytes] | None:
            if self._closed.is_set() or self.controller.listening()[0] != key:
                raise _Changed
            item = self.microphone.read(timeout)
            if item is None:
                return None
            at, level = item[0], frame_db(item[1])  # levels only: no audio is kept
            self._indicate(at, level)
            if at >= self.quiet_after() + echo_tail:  # not the kiosk's own voice
                self._levels.append((at, level))
                self.noise_floor.add(level)
            return item

        if expect is None:  # idle: only the start phrases
            start = self.start_recognizer
            try:
                self.listener.endpointer.listen(read, start.accept, self.quiet_after)
            except _Changed:
                start.finish()  # throw away what was fed so far
                return
            self.controller.listen_state(THINKING)
            text = start.finish()
            if text:
                self.controller.heard(text, key=key)  # dropped if the screen moved on meanwhile
            return
        try:
            heard = self.listener.hear(expect, read, self.quiet_after, self.barge_in)
        except _Changed:
            return
        if heard.utterance.heard_speech:
            self._spoken = (heard.utterance.speech_start, heard.utterance.speech_end)
        self.controller.listen_state(THINKING)
        self.controller.hear_event(heard.event, key=key)  # dropped if answered by touch meanwhile
        self.controller.listen_state(LISTENING)  # unless the kiosk now speaks (the controller knows)

    def _indicate(self, at: float, level_db: float) -> None:
        """The indicator: speech in the microphone (how loud above the room), or just listening."""
        if at < self.quiet_after():
            return  # the kiosk's own voice: the controller shows it speaking
        endpointer = self.listener.endpointer
        above = level_db - endpointer.background.level_db
        hearing = above >= endpointer.settings.above_background_db
        self.controller.listen_state(HEARING if hearing else LISTENING, above / LEVEL_RANGE_DB if hearing else 0.0)

    def _microphone_lost(self, sentence: str) -> None:
        print(f"{sentence} Retrying; the screen and touch still work.", file=self.err, flush=True)
        while not self._closed.wait(MIC_RETRY_S):
            try:
                self.microphone.reopen()
            except MicrophoneError:
                continue
            print("The microphone is working again.", file=self.err, flush=True)
            return


def speech_level(
    levels: Sequence[tuple[float, float]], spoken: tuple[float | None, float | None] | None, loud_db: float
) -> float | None:
    """The median level of an answer's speech frames (those between its start and end standing
    above the background), or None when no answer was heard."""
    if spoken is None:
        return None
    start, end = spoken
    if start is None or end is None:
        return None
    inside = [db for at, db in levels if start <= at <= end and db >= loud_db]
    return statistics.median(inside) if inside else None


# ------------------------------------------------------------------ assembly


@dataclass
class Voice:
    speech: KioskSpeech | None
    listener: KioskListener | None
    speaker: PlayerSpeaker | None

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
        if self.speech is not None:
            self.speech.close()
        if self.speaker is not None:
            self.speaker.close()


def kiosk_texts(locale: Locale, text: KioskText) -> list[str]:
    """Every sentence the kiosk may say that is known before a session: rendered once at start-up."""
    extra = [text["still_there"], *text.labels.values(), text["start"]]
    extra += [w[:1].upper() + w[1:] for w in locale.content.messages.answer_words.values()]
    extra += [str(n) for n in range(11)]
    return list(dict.fromkeys([*static_texts(locale.content), *extra]))


def _barge_in(
    config: KioskConfig, speech: KioskSpeech | None, speaker: PlayerSpeaker | None, rate: int, err: TextIO
) -> BargeIn | None:
    """Listening through the kiosk's voice, when the config asks for it and echo cancellation is available."""
    if not config.audio.barge_in or speech is None or speaker is None:
        return None
    from ..speech.echo import EchoCanceller, EchoUnavailable
    from ..speech.speech_in import FRAME_MS

    try:
        canceller = EchoCanceller(rate * FRAME_MS // 1000, rate)
    except EchoUnavailable as exc:
        print(exc, file=err, flush=True)
        return None
    player = speaker.speaker.player
    if player.sample_rate != rate:
        print("Barge-in needs the loudspeaker at the microphone's rate; it stays off.", file=err, flush=True)
        return None
    return BargeIn(canceller, player, speech.interrupt)


def start_voice(
    controller: KioskController,
    config: KioskConfig,
    locale: Locale,
    err: TextIO = sys.stderr,
    *,
    download_model: bool = False,
) -> Voice | None:
    """Speech and listening for the kiosk, or None (screen and touch only) with one sentence why.

    ``download_model`` (``kiosk --download-model``, what ``./dev run`` passes): when the
    locale's model is not installed, the model manager downloads it first (progress bar,
    SHA-256 check); when it cannot (offline), one sentence says so and the kiosk runs by touch.
    """
    from ..speech.models import ModelDownloadFailed, ModelError, ensure_model, find_model
    from ..speech.speech_out import Player, Speaker, Synthesizer, VoiceSettings

    lang = config.locale
    speaker: PlayerSpeaker | None = None
    try:
        synth = Synthesizer(lang, VoiceSettings(config.speech.voice, config.speech.rate, config.speech.volume))
        texts = kiosk_texts(locale, controller.text)
        synth.prerender(texts)
        speaker = PlayerSpeaker(Speaker(synth, Player(synth.sample_rate, config.audio.output_device)), set(texts))
    except SpeechOutputError as exc:
        print(f"{exc} The kiosk shows captions only.", file=err, flush=True)
    speech: KioskSpeech | None = None
    if speaker is not None:
        speech = KioskSpeech(speaker, err)
        controller.speech = speech
        speech.attach(controller)

    def quiet_after() -> float:
        return speech.busy_until if speech is not None else 0.0

    listener: KioskListener | None = None
    try:
        model = (
            ensure_model(lang, err=err, progress=err.isatty())
            if download_model and config.model is None
            else find_model(lang, cli_path=config.model)
        )
        recognizer = Recognizer(model, locale.grammar, extra=locale.content.key_phrases())
        start = recognizer.phrase_recognizer(controller.text.start_phrases)
        microphone = Microphone(recognizer.sample_rate, config.audio.input_device)
        listen = ListenSettings(
            trailing_silence_ms=config.timeouts.trailing_silence_ms,
            short_silence_ms=config.timeouts.short_silence_ms,
            grow_silence_ms=config.timeouts.trailing_silence_ms,
            no_input_timeout_s=config.timeouts.no_input_s,
            noise_suppression=config.audio.noise_suppression,
            steady_noise_suppression=config.audio.steady_noise_suppression,
        )
        barge_in = _barge_in(config, speech, speaker, recognizer.sample_rate, err)
        listen.barge_in = barge_in is not None
        why = check_available(listen.noise_suppression, listen.auto_gain_dbfs, recognizer.sample_rate)
        if why is not None:
            print(f"{why}, so the kiosk listens without it.", file=err, flush=True)
            listen.noise_suppression = listen.auto_gain_dbfs = 0
        listener = KioskListener(controller, recognizer, start, microphone, listen, quiet_after, err, barge_in)
        listener.start()
        controller.hears = True
    except ModelDownloadFailed as exc:
        print(
            f"The speech model could not be downloaded ({exc.reason}), so the kiosk takes answers by touch and keys "
            f"only; run `voice-triage models download {exc.name}` once online.",
            file=err,
            flush=True,
        )
    except (ModelError, MicrophoneError) as exc:
        print(f"{exc} The kiosk takes answers by touch and keys only.", file=err, flush=True)
    except Exception as exc:  # SpeechModelError, a model without the start words, ...
        print(f"{exc} The kiosk takes answers by touch and keys only.", file=err, flush=True)
    if speaker is None and listener is None:
        print("No voice: the kiosk runs with the screen, touch and keys only.", file=err, flush=True)
        return None
    return Voice(speech, listener, speaker)
