"""Speech recognition adapter: vosk, restricted per question type to a grammar.

The grammar of an answer type is what ``grammar/<locale>/`` lists for it
(answers, "I don't know", hedges, fillers and the voice commands; see
``Grammar.recogniser_phrases``), plus the
model's garbage word where it has one (``[unk]``; the Korean model calls it
``<UNK>``).  One recogniser per answer type is built at start-up; the model is
loaded once.

vosk turns a grammar into a bigram language model, so it can return runs of
grammar words that are not one phrase ("이 열").  Such a result is passed on
with its confidence capped, so the dialogue reads it back before accepting it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..core.contract import AnswerType
from ..core.grammar import Grammar, tokenize
from ..core.understanding import interpret

GARBAGE_WORDS = ("[unk]", "<UNK>")
# Confidence given to a result that is not exactly one grammar phrase.
UNSURE = 0.4


class SpeechModelError(Exception):
    """A model that is missing, damaged or cannot be loaded: str() is one sentence."""


@dataclass(frozen=True)
class Hearing:
    text: str  # "" when nothing was recognised
    confidence: float  # lowest word confidence, 0..1
    garbage: bool = False  # the garbage word won: speech that fits no phrase

    @property
    def empty(self) -> bool:
        return not self.text


def _read_int(stream: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("truncated OpenFst file")
    return int(struct.unpack(fmt, data)[0])


def _read_string(stream: BinaryIO) -> str:
    return stream.read(_read_int(stream, "<i")).decode("utf-8")


def _symbols(stream: BinaryIO, keep: Callable[[str], bool]) -> set[str]:
    """Read one OpenFst symbol table, keeping only the symbols ``keep`` accepts."""
    if _read_int(stream, "<i") != 2125658996:
        raise ValueError("not an OpenFst symbol table")
    _read_string(stream)  # name
    _read_int(stream, "<q")  # available key
    kept: set[str] = set()
    for _ in range(_read_int(stream, "<q")):
        symbol = _read_string(stream)
        stream.read(8)  # key
        if keep(symbol):
            kept.add(symbol)
    return kept


def fst_output_words(path: Path, wanted: set[str]) -> set[str]:
    """Which of ``wanted`` are in an OpenFst binary's output symbols, read as a stream."""
    with path.open("rb") as stream:
        if _read_int(stream, "<i") != 2125659606:
            raise ValueError(f"{path} is not an OpenFst file")
        _read_string(stream)  # fst type
        _read_string(stream)  # arc type
        _read_int(stream, "<i")  # version
        flags = _read_int(stream, "<i")
        stream.read(32)  # properties, start, number of states, number of arcs
        if flags & 1:
            _symbols(stream, lambda _: False)
        if not flags & 2:
            raise ValueError(f"{path} has no output symbols")
        return _symbols(stream, wanted.__contains__)


def known_words(model_dir: Path, wanted: set[str]) -> set[str] | None:
    """Which of ``wanted`` the model can recognise, or None if the model does not say."""
    words_txt = model_dir / "graph" / "words.txt"
    if words_txt.exists():
        with words_txt.open(encoding="utf-8") as lines:
            return {word for line in lines if (word := line.split(" ", 1)[0].strip()) in wanted}
    gr = model_dir / "graph" / "Gr.fst"
    if gr.exists():
        try:
            return fst_output_words(gr, wanted)
        except (ValueError, OSError):
            return None
    return None


def out_of_vocabulary(phrases: Iterable[str], known: set[str]) -> list[str]:
    """Phrases with a word the model does not know (vosk would drop them silently)."""
    return [p for p in phrases if any(word not in known for word in p.split())]


class Recognizer:
    """The loaded model and one grammar-restricted recogniser per answer type."""

    def __init__(self, model_dir: Path, grammar: Grammar, sample_rate: int | None = None) -> None:
        import vosk

        vosk.SetLogLevel(-1)
        self.model_dir = model_dir
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as exc:  # vosk raises a bare Exception
            raise SpeechModelError(
                f"The speech model at {model_dir} could not be loaded ({exc}); it may be damaged: "
                "run `voice-triage models verify`, then `voice-triage models download NAME`."
            ) from None
        self.sample_rate = sample_rate or _model_rate(model_dir)
        heard = {word for t in AnswerType for p in grammar.recogniser_phrases(t) for word in p.split()}
        wanted = heard | set(GARBAGE_WORDS)
        known = known_words(model_dir, wanted)
        garbage = [w for w in GARBAGE_WORDS if known is None or w in known][:1]
        self.garbage = garbage[0] if garbage else None
        self.unknown_phrases: list[str] = []  # phrases vosk could never return with this model
        self._phrases: dict[AnswerType, set[str]] = {}
        self._recognizers: dict[AnswerType, Any] = {}
        for answer_type in AnswerType:
            phrases = grammar.recogniser_phrases(answer_type)
            if known is not None:
                missing = out_of_vocabulary(phrases, known)
                self.unknown_phrases += missing
                phrases = [p for p in phrases if p not in missing]
            self._phrases[answer_type] = set(phrases)
            self._recognizers[answer_type] = self._kaldi(phrases)

    def _kaldi(self, phrases: Iterable[str]) -> Any:
        """A vosk recogniser on the loaded model, restricted to ``phrases`` and the garbage word."""
        import vosk

        garbage = [self.garbage] if self.garbage else []
        recognizer = vosk.KaldiRecognizer(
            self._model, self.sample_rate, json.dumps([*phrases, *garbage], ensure_ascii=False)
        )
        recognizer.SetWords(True)
        return recognizer

    def phrase_recognizer(self, phrases: Sequence[str]) -> PhraseRecognizer:
        """A recogniser for a few fixed phrases (the kiosk's start phrases) on the same loaded model."""
        known = known_words(self.model_dir, {w for p in phrases for w in p.split()})
        usable = [p for p in phrases if known is None or not out_of_vocabulary([p], known)]
        if not usable:
            raise SpeechModelError("None of the start phrases is in the speech model's vocabulary.")
        return PhraseRecognizer(self._kaldi(usable), self.garbage, tuple(usable))

    def accept(self, answer_type: AnswerType, pcm: bytes) -> None:
        """Feed 16-bit mono audio for an answer of this type."""
        self._recognizers[answer_type].AcceptWaveform(pcm)

    def finish(self, answer_type: AnswerType) -> Hearing:
        """The result of everything fed since the last finish; ready for the next answer."""
        result = json.loads(self._recognizers[answer_type].FinalResult())
        return self._hearing(answer_type, result)

    def decode(self, answer_type: AnswerType, pcm: bytes, chunk: int = 8000) -> Hearing:
        for start in range(0, len(pcm), chunk):
            self.accept(answer_type, pcm[start : start + chunk])
        return self.finish(answer_type)

    def _hearing(self, answer_type: AnswerType, result: dict[str, Any]) -> Hearing:
        words = [w for w in result.get("result", []) if w.get("word") != self.garbage]
        text = " ".join(str(w["word"]) for w in words)
        garbage = len(words) < len(result.get("result", []))
        if not text:
            return Hearing("", 0.0, garbage)
        confidence = min(float(w.get("conf", 0.0)) for w in words)
        if garbage or " ".join(tokenize(text)) not in self._phrases[answer_type]:
            confidence = min(confidence, UNSURE)
        return Hearing(text, confidence, garbage)


class PhraseRecognizer:
    """One recogniser for a few fixed phrases: feed audio, then ``finish`` gives the words heard."""

    def __init__(self, kaldi: Any, garbage: str | None, phrases: tuple[str, ...]) -> None:
        self._rec = kaldi
        self._garbage = garbage
        self.phrases = phrases

    def accept(self, pcm: bytes) -> None:
        self._rec.AcceptWaveform(pcm)

    def finish(self) -> str:
        result = json.loads(self._rec.FinalResult())
        return " ".join(w for w in str(result.get("text", "")).split() if w != self._garbage)


def _model_rate(model_dir: Path) -> int:
    """The sample rate the model was trained on (conf/mfcc.conf), 16 kHz if unsaid."""
    mfcc = model_dir / "conf" / "mfcc.conf"
    if mfcc.exists():
        for line in mfcc.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("--sample-frequency="):
                return int(float(line.split("=", 1)[1]))
    return 16000


def transcribe(recognizer: Recognizer, grammar: Grammar, pcm: bytes, kind: AnswerType) -> dict[str, object]:
    """Recognise one answer and interpret it exactly as the dialogue would."""
    hearing = recognizer.decode(kind, pcm)
    meaning = interpret(hearing.text, kind, grammar)
    return {"text": hearing.text, "value": meaning.value, "command": meaning.command, "confidence": hearing.confidence}
