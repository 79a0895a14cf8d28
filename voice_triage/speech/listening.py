"""One spoken answer, from microphone frames to a dialogue event.

The live loops (``voice-triage run`` and the kiosk) and the spoken
evaluation all hear an answer through :meth:`Listener.hear`: the endpointer
finds the answer in the frames, the recogniser decodes it with the grammar of
the answer type asked for, and the result becomes the dialogue's event
(nothing said, speech that fits nothing, or the words heard with what the
recogniser thinks of them).  Only where the frames come from differs: a
microphone, or a synthesised patient in a synthesised room.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.dialogue import Event, Expectation, Heard, NoInput, NoMatch
from ..core.endpointing import heard_units, turn_over
from .asr import Recognizer
from .speech_in import BargeIn, Endpointer, ListenSettings, Utterance

Read = Callable[[float], "tuple[float, bytes] | None"]


@dataclass(frozen=True)
class Listened:
    """What one turn of listening found: the dialogue's event and the endpointer's timing."""

    event: Event
    utterance: Utterance


class Listener:
    """The endpointer and the recogniser, used together for one answer at a time."""

    def __init__(self, recognizer: Recognizer, settings: ListenSettings) -> None:
        self.recognizer = recognizer
        self.settings = settings
        self.endpointer = Endpointer(settings, recognizer.sample_rate)

    def hear(
        self, kind: Expectation, read: Read, quiet_after: Callable[[], float], barge_in: BargeIn | None = None
    ) -> Listened:
        """Listen for one answer of ``kind``; ``read(timeout)`` gives (time, frame) or None.

        With ``barge_in``, an answer may begin while the kiosk is still speaking (and stops it).
        """
        recognizer = self.recognizer
        completion = recognizer.completion(kind)
        silences = self.settings.silences

        def over(silent_ms: float) -> bool:  # the grammar-aware end of turn, from vosk's partial result
            heard = heard_units(recognizer.partial(kind), recognizer.garbage)
            return turn_over(heard, completion, silent_ms, silences)

        try:
            utterance = self.endpointer.listen(
                read, lambda pcm: recognizer.accept(kind, pcm), quiet_after, over, barge_in
            )
        except BaseException:
            recognizer.finish(kind)  # throw away what was fed so far: the next answer starts clean
            raise
        hearing = recognizer.finish(kind)
        if not utterance.heard_speech:
            return Listened(NoInput(), utterance)
        if hearing.empty:
            return Listened(NoMatch(), utterance)
        return Listened(Heard(hearing.text, hearing.confidence, hearing.alternatives, spoken=True), utterance)
