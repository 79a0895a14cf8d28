"""When a spoken answer is over: grammar-aware endpointing, decided from text alone.

The endpointer (``speech.speech_in``) knows how long the patient has been
silent; the recogniser knows what it has heard so far (vosk's partial
result).  This module decides from the two whether the turn is over, the way
Kaldi's own endpoint rules do (its rule 2 ends sooner once the decoder is in
a final state of the grammar) and dragonfly's Kaldi backend does (a complete
simple command ends after 200 ms, anything else waits 600 ms):

* the partial result is a whole phrase of the question's grammar and no
  longer phrase starts with it ("네 네", "맞아요", "왼쪽이요", "yes"): nothing
  more can belong to this answer, so a short silence ends it;
* it is the start of a longer phrase (네 before 네 그래요, 이십 before
  이십 일, 오른쪽 before 오른쪽 다리), or not a phrase at all (vosk's bigram
  can join words of different phrases, or it has heard nothing yet, or the
  garbage word): the answer may go on, so the full trailing silence is waited
  for (``grow_ms``, never less than it, for the start of a longer phrase).

Phrases are compared as :func:`~voice_triage.core.grammar.tokenize` units
(each Hangul syllable on its own), so the recogniser's spelling ("아니 에 요")
and the written one ("아니에요") are the same, and a word that may still
grow inside itself (네 -> 네요) counts as the start of a longer phrase.

Pure: no audio, no clock.  Nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .grammar import tokenize


@dataclass(frozen=True)
class Completion:
    """The phrases of one question's grammar, and every proper start of one."""

    phrases: frozenset[tuple[str, ...]]
    starts: frozenset[tuple[str, ...]]  # proper prefixes of some phrase

    @classmethod
    def of(cls, phrases: Iterable[str | tuple[str, ...]]) -> Completion:
        units = frozenset(p if isinstance(p, tuple) else tokenize(p) for p in phrases)
        units = frozenset(u for u in units if u)
        starts = frozenset(u[:i] for u in units for i in range(1, len(u)))
        return cls(units, starts)

    def complete(self, heard: tuple[str, ...]) -> bool:
        """A whole phrase that no longer phrase starts with: nothing more can follow."""
        return heard in self.phrases and heard not in self.starts

    def may_grow(self, heard: tuple[str, ...]) -> bool:
        """The start of a longer phrase (whether or not it is also a phrase itself)."""
        return heard in self.starts


@dataclass(frozen=True)
class Silences:
    """Silence, in ms, that ends a turn in each case (the endpointer lengthens them all for "slower")."""

    short_ms: int = 200  # after a complete answer that cannot grow
    full_ms: int = 500  # anything else: the ordinary trailing silence
    grow_ms: int = 500  # after the start of a longer phrase; at least full_ms

    def scaled(self, factor: float) -> Silences:
        return Silences(round(self.short_ms * factor), round(self.full_ms * factor), round(self.grow_ms * factor))


def heard_units(partial: str, garbage: str | None = None) -> tuple[str, ...] | None:
    """A partial result as phrase units; None when it holds the garbage word (speech that fits no phrase)."""
    words = partial.split()
    if garbage is not None and garbage in words:
        return None
    return tokenize(" ".join(words))


def silence_needed_ms(heard: tuple[str, ...] | None, completion: Completion, silences: Silences) -> int:
    """How long the patient must be silent, after what was heard so far, for the turn to be over."""
    if heard is None or not heard:
        return silences.full_ms
    if completion.complete(heard):
        return min(silences.short_ms, silences.full_ms)
    if completion.may_grow(heard):
        return max(silences.grow_ms, silences.full_ms)
    return silences.full_ms


def turn_over(heard: tuple[str, ...] | None, completion: Completion, silence_ms: float, silences: Silences) -> bool:
    """Whether ``silence_ms`` of silence after hearing ``heard`` ends the patient's turn."""
    return silence_ms >= silence_needed_ms(heard, completion, silences)
