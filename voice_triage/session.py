"""The spoken session: the dialogue behind a microphone, vosk and a loudspeaker.

Everything spoken is also printed.  Each part falls back instead of dying:
no microphone or model means typed answers to spoken questions; no speech
engine or loudspeaker means text on screen; a microphone lost mid-session is
announced, the answers are kept, and the session resumes when it returns.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from .core.content import Content
from .core.dialogue import Action, Adjust, Alert, Command, Dialogue, End, Event, Heard, NoInput, Say, Show
from .core.grammar import Grammar
from .speech.asr import Recognizer
from .speech.listening import Listener
from .speech.speech_in import ListenSettings, Microphone, MicrophoneError
from .speech.speech_out import LoudspeakerLost, Speaker, SpeechOutputError

log = logging.getLogger(__name__)

MIC_RETRY_S = 2.0
MIC_RETRIES = 30  # about a minute, then typed answers


@dataclass
class Timing:
    """When things happened in the latest turn (time.monotonic()), for the benchmark."""

    speech_end: float | None = None  # end of the patient's speech, by the endpointer
    decided: float | None = None  # the dialogue returned its next actions
    prompt_start: float | None = None  # first sample of the next prompt handed to the device
    history: list[tuple[float | None, float | None, float | None]] = field(default_factory=list)


class VoiceSession:
    """Runs one dialogue with whatever audio parts are available."""

    def __init__(
        self,
        content: Content,
        grammar: Grammar,
        *,
        recognizer: Recognizer | None,
        speaker: Speaker | None,
        microphone: Microphone | None,
        listen: ListenSettings | None = None,
        out: TextIO = sys.stdout,
        read_line: Callable[[], str] | None = None,
        on_listen: Callable[[Dialogue], None] | None = None,
    ) -> None:
        self.content = content
        self.grammar = grammar
        self.recognizer = recognizer
        self.speaker = speaker
        self.microphone = microphone if recognizer is not None else None
        self.listen_settings = listen or ListenSettings()
        self.listener = (
            Listener(recognizer, self.listen_settings)
            if recognizer is not None and self.microphone is not None
            else None
        )
        self.out = out
        self.read_line = read_line or (lambda: input())  # looked up when called, not at import
        self.on_listen = on_listen
        self.dialogue = Dialogue(content, grammar)
        self.timing = Timing()
        self.alerts: list[Alert] = []

    # ----------------------------------------------------------- output

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)
        if self.speaker is None:
            return
        try:
            self.speaker.say(text)
        except LoudspeakerLost as exc:
            print(exc, file=sys.stderr)
            self.speaker = None
        except SpeechOutputError as exc:  # one sentence could not be rendered: it is on screen
            log.warning("speech output: %s", exc)
        except Exception as exc:  # a loudspeaker that fails mid-session: keep going on screen
            log.warning("speech output failed (%s); continuing with text only", type(exc).__name__)
            self.speaker = None

    def perform(self, actions: Sequence[Action]) -> bool:
        """Carry out actions; True when the session has ended."""
        ended = False
        first_say = True
        for action in actions:
            if isinstance(action, Say):
                self.say(action.text)
                if first_say and self.speaker is not None:
                    self.timing.prompt_start = self.speaker.player.first_sample_at
                first_say = False
            elif isinstance(action, Show) and action.question_id is not None and action.choices:
                print(f"  [{' / '.join(action.choices)}]", file=self.out, flush=True)
            elif isinstance(action, Adjust):
                if action.setting == "slower":
                    self.listen_settings.slower()  # longer to answer and to pause in, as well as slower speech
                if self.speaker is not None:
                    (self.speaker.slower if action.setting == "slower" else self.speaker.louder)()
            elif isinstance(action, Alert):
                self.alerts.append(action)
                log.warning("staff alert: %s", action.kind)  # never the answers
                print(f"[staff alerted: {action.kind}]", file=self.out, flush=True)
            elif isinstance(action, End):
                ended = True
        return ended

    # ------------------------------------------------------------ input

    def hear(self) -> Event:
        """The patient's next answer as a dialogue event."""
        if self.on_listen is not None:
            self.on_listen(self.dialogue)
        if self.microphone is None or self.listener is None:
            return self._typed()
        print("(listening)", file=self.out, flush=True)
        try:
            return self._spoken()
        except MicrophoneError:
            return self._microphone_lost()

    def _typed(self) -> Event:
        line = self.read_line()
        return Heard(line) if line.strip() else NoInput()

    def _spoken(self) -> Event:
        assert self.microphone is not None and self.listener is not None
        speaker = self.speaker

        def quiet_after() -> float:
            return speaker.busy_until if speaker is not None else 0.0

        heard = self.listener.hear(self.dialogue.listening_for, self.microphone.read, quiet_after)
        self.timing.speech_end = heard.utterance.speech_end
        return heard.event

    def _microphone_lost(self) -> Event:
        assert self.microphone is not None
        messages = self.content.messages
        self.say(messages.say("mic_lost"))
        for _ in range(MIC_RETRIES):
            time.sleep(MIC_RETRY_S)
            try:
                self.microphone.reopen()
            except MicrophoneError:
                continue
            self.say(messages.say("mic_back"))
            return Command("repeat")  # ask the question again
        self.microphone = None
        self.say(messages.say("typed_answers"))
        return Command("repeat")

    # ------------------------------------------------------------- loop

    def run(self) -> Dialogue:
        if self.microphone is None:
            self.say(self.content.messages.say("typed_answers"))
        ended = self.perform(self.dialogue.start(typed=self.listener is None))
        while not ended:
            try:
                event = self.hear()
            except EOFError:
                self.perform(self.dialogue.handle(Command("stop")))
                break
            actions = self.dialogue.handle(event)
            self.timing.decided = time.monotonic()
            ended = self.perform(actions)
            self.timing.history.append((self.timing.speech_end, self.timing.decided, self.timing.prompt_start))
        return self.dialogue
