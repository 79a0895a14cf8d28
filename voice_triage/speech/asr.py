"""Speech recognition adapter: vosk, restricted per question to a grammar.

The grammar of a question is what ``voice_triage/data/grammar/<locale>/``
lists for its answer type (answers, "I don't know", hedges, fillers and the
voice commands; see ``Grammar.recogniser_phrases``), plus the question's own
key words, plus the model's garbage word where it has one (``[unk]``; the
Korean model calls it ``<UNK>``).  Phrases are written as people write them;
each is cut into the words the model knows at start-up (Korean "아니에요" is
"아니 에 요" to the Korean model), and a phrase the model cannot spell is
left out and listed in ``unknown_phrases``.  The model is loaded once; one
recogniser per grammar is built when first needed and kept.

vosk turns a grammar into a bigram language model, so it can return runs of
grammar words that are not one phrase ("네 모르겠어 요").  The recogniser asks
vosk for its n-best list (from a wider lattice than the model's default, via
a copy of the model's ``conf/`` beside links to the rest), so the dialogue
can see how far the best reading stands from one that means something else;
a result that is not exactly one phrase has its confidence capped.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..core.contract import AnswerType
from ..core.dialogue import Expectation, Thresholds
from ..core.endpointing import Completion
from ..core.grammar import Grammar, tokenize, words
from ..core.hearing import read_spoken, replies

GARBAGE_WORDS = ("[unk]", "<UNK>")
# Confidence given to a result that is not exactly one grammar phrase.
UNSURE = 0.4


class SpeechModelError(Exception):
    """A model that is missing, damaged or cannot be loaded: str() is one sentence."""


@dataclass(frozen=True)
class Hearing:
    text: str  # "" when nothing was recognised
    confidence: float  # 1.0 for exactly one grammar phrase, else at most UNSURE
    garbage: bool = False  # the garbage word won: speech that fits no phrase
    alternatives: tuple[tuple[str, float], ...] = ()  # (text, score), best first; text is the first

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


MAX_PIECE = 8  # characters in the longest model word tried when cutting a written word


def pieces(phrases: Iterable[str]) -> set[str]:
    """Every piece of a written word that could be a model word (each whole word, and its substrings)."""
    found: set[str] = set()
    for phrase in phrases:
        for word in words(phrase):
            found.add(word)
            for i in range(len(word)):
                for j in range(i + 1, min(len(word), i + MAX_PIECE) + 1):
                    found.add(word[i:j])
    return found


def spell(phrase: str, known: set[str] | None) -> str | None:
    """A phrase in the model's words: each written word as itself, or cut into the fewest model words.

    Ties go to the cut with the longest first piece ("왼쪽이요" is "왼쪽 이 요",
    not "왼 쪽이 요").  None when a word cannot be cut into model words.
    """
    if known is None:
        return " ".join(words(phrase))
    out: list[str] = []
    for word in words(phrase):
        if word in known:
            out.append(word)
            continue
        n = len(word)
        best: list[list[str] | None] = [None] * (n + 1)
        best[0] = []
        for i in range(n):
            here = best[i]
            if here is None:
                continue
            for j in range(min(n, i + MAX_PIECE), i, -1):  # longest piece first: it wins ties
                candidate = best[j]
                if word[i:j] in known and (candidate is None or len(here) + 1 < len(candidate)):
                    best[j] = [*here, word[i:j]]
        cut = best[n]
        if cut is None:
            return None
        out.extend(cut)
    return " ".join(out)


_LIBC = ctypes.CDLL(None)


class Recognizer:
    """The loaded model, and a grammar-restricted vosk recogniser per expected answer."""

    def __init__(
        self,
        model_dir: Path,
        grammar: Grammar,
        sample_rate: int | None = None,
        *,
        extra: Iterable[str] = (),
        alternatives: int = 8,
        lattice_beam: float | None = 6.0,
    ) -> None:
        """``extra``: the questions' own key words, heard beside their answer type's phrases."""
        import vosk

        vosk.SetLogLevel(-1)
        self.model_dir = model_dir
        self.grammar = grammar
        self.alternatives = alternatives
        self._overlay = _overlay(model_dir, lattice_beam) if lattice_beam is not None else None
        try:
            self._model = vosk.Model(str(self._overlay.name if self._overlay else model_dir))
        except Exception as exc:  # vosk raises a bare Exception
            raise SpeechModelError(
                f"The speech model at {model_dir} could not be loaded ({exc}); it may be damaged: "
                "run `voice-triage models verify`, then `voice-triage models download NAME`."
            ) from None
        self.sample_rate = sample_rate or _model_rate(model_dir)
        written = {p for t in AnswerType for p in grammar.phrases(t)} | set(extra)
        self._checked = pieces(written) | set(GARBAGE_WORDS)  # looked up in the model's vocabulary once
        self._known = known_words(model_dir, self._checked)
        garbage = [w for w in GARBAGE_WORDS if self._known is None or w in self._known][:1]
        self.garbage = garbage[0] if garbage else None
        self.unknown_phrases: list[str] = []  # phrases vosk could never return with this model
        self._spellings: dict[str, str | None] = {}
        self._phrases: dict[Expectation, set[tuple[str, ...]]] = {}
        self._completions: dict[Expectation, Completion] = {}
        self._recognizers: dict[Expectation, Any] = {}
        # a result vosk ended on its own (its endpoint rules) before the listener's endpointer did
        self._ended: dict[Expectation, dict[str, Any]] = {}
        for answer_type in AnswerType:
            self._recognizer(Expectation(answer_type))
        self.unknown_phrases = sorted(p for p, spelt in self._spellings.items() if spelt is None)

    def close(self) -> None:
        if self._overlay is not None:
            self._overlay.cleanup()
            self._overlay = None

    def spelt(self, phrase: str) -> str | None:
        """``phrase`` in the model's words, or None if the model cannot say it."""
        if phrase not in self._spellings:
            unchecked = pieces([phrase]) - self._checked
            if unchecked and self._known is not None:  # a phrase not seen at start-up: one more look-up
                self._known |= known_words(self.model_dir, unchecked) or set()
                self._checked |= unchecked
            self._spellings[phrase] = spell(phrase, self._known)
        return self._spellings[phrase]

    def _recognizer(self, expect: Expectation) -> Any:
        if expect not in self._recognizers:
            spelt = self.grammar.recogniser_phrases(expect.answer_type, expect.phrases, self.spelt)
            self._phrases[expect] = {tokenize(p) for p in spelt}
            self._completions[expect] = Completion.of(self._phrases[expect])
            self._recognizers[expect] = self._kaldi(spelt, self.alternatives)
        return self._recognizers[expect]

    def completion(self, expect: Expectation | AnswerType) -> Completion:
        """The phrases this answer's recogniser listens for, for the endpointing decision."""
        expectation = _expectation(expect)
        self._recognizer(expectation)
        return self._completions[expectation]

    def _kaldi(self, phrases: Iterable[str], alternatives: int = 0) -> Any:
        """A vosk recogniser on the loaded model, restricted to ``phrases`` and the garbage word."""
        import vosk

        garbage = [self.garbage] if self.garbage else []
        recognizer = vosk.KaldiRecognizer(
            self._model, self.sample_rate, json.dumps([*phrases, *garbage], ensure_ascii=False)
        )
        recognizer.SetWords(True)
        if alternatives:
            recognizer.SetMaxAlternatives(alternatives)
        return recognizer

    def phrase_recognizer(self, phrases: Sequence[str]) -> PhraseRecognizer:
        """A recogniser for a few fixed phrases (the kiosk's start phrases) on the same loaded model."""
        usable = [s for p in phrases if (s := self.spelt(p)) is not None]
        if not usable:
            raise SpeechModelError("None of the start phrases is in the speech model's vocabulary.")
        return PhraseRecognizer(self._kaldi(usable), self.garbage, tuple(usable))

    @staticmethod
    def reseed(seed: int) -> None:
        """Make the next decode independent of the ones before it.

        Kaldi dithers the features with noise from libc's ``rand()``, so the
        same audio can be heard differently depending on how many decodes ran
        earlier in the process (vosk-api #868, #660).  The spoken evaluation
        reseeds before each answer, so that its figures do not depend on order.
        """
        _LIBC.srand(seed)

    def accept(self, expect: Expectation | AnswerType, pcm: bytes) -> None:
        """Feed 16-bit mono audio for an answer of this kind."""
        expectation = _expectation(expect)
        recognizer = self._recognizer(expectation)
        if recognizer.AcceptWaveform(pcm):
            # vosk's own endpoint (model.conf rule 2: a final state and 0.5 s of silence) came first; the
            # next audio would start a new utterance and lose this one: keep it for finish()
            ended = json.loads(recognizer.Result())
            if _best_text(ended, self.garbage):
                self._ended[expectation] = ended

    def partial(self, expect: Expectation | AnswerType) -> str:
        """What vosk has heard so far of the current answer (garbage word included); never logged."""
        expectation = _expectation(expect)
        if expectation in self._ended:
            return _best_text(self._ended[expectation], None)
        result = json.loads(self._recognizer(expectation).PartialResult())
        return str(result.get("partial", ""))

    def finish(self, expect: Expectation | AnswerType) -> Hearing:
        """The result of everything fed since the last finish; ready for the next answer."""
        expectation = _expectation(expect)
        result = json.loads(self._recognizer(expectation).FinalResult())
        ended = self._ended.pop(expectation, None)
        if ended is not None:
            later = _best_text(result, self.garbage)
            if not later:
                result = ended
            else:  # speech on both sides of vosk's endpoint (a long pause): one reading of the two
                joined = f"{_best_text(ended, None)} {_best_text(result, None)}"
                result = {"alternatives": [{"text": joined, "confidence": 0.0}]}
        return self._hearing(expectation, result)

    def decode(self, expect: Expectation | AnswerType, pcm: bytes, chunk: int = 8000) -> Hearing:
        for start in range(0, len(pcm), chunk):
            self.accept(expect, pcm[start : start + chunk])
        return self.finish(expect)

    def _hearing(self, expect: Expectation, result: dict[str, Any]) -> Hearing:
        if "alternatives" not in result:  # no n-best asked for
            result = {"alternatives": [{"text": result.get("text", ""), "confidence": 0.0}]}
        readings: list[tuple[str, float]] = []
        garbage = False
        for alternative in result["alternatives"]:
            heard = str(alternative.get("text", "")).split()
            kept = [w for w in heard if w != self.garbage]
            if not readings:
                garbage = len(kept) < len(heard)
            readings.append((" ".join(kept), float(alternative.get("confidence", 0.0))))
        text = readings[0][0] if readings else ""
        if not text:
            return Hearing("", 0.0, garbage)
        exact = not garbage and tokenize(text) in self._phrases[expect]
        return Hearing(text, 1.0 if exact else UNSURE, garbage, tuple(readings))


def _best_text(result: dict[str, Any], garbage: str | None) -> str:
    """The best reading of a vosk result, without the garbage word when one is given."""
    if "alternatives" in result:
        text = str(result["alternatives"][0].get("text", "")) if result["alternatives"] else ""
    else:
        text = str(result.get("text", ""))
    return " ".join(w for w in text.split() if w != garbage)


def _expectation(expect: Expectation | AnswerType) -> Expectation:
    return expect if isinstance(expect, Expectation) else Expectation(expect)


def _overlay(model_dir: Path, lattice_beam: float) -> tempfile.TemporaryDirectory[str]:
    """The model seen through a folder of links, with its own ``conf/model.conf`` (a wider lattice)."""
    folder = tempfile.TemporaryDirectory(prefix="voice-triage-model-")
    root = Path(folder.name)
    for entry in model_dir.iterdir():
        if entry.name != "conf":
            (root / entry.name).symlink_to(entry.resolve())
    conf = root / "conf"
    conf.mkdir()
    for entry in (model_dir / "conf").iterdir():
        if entry.is_file():
            shutil.copyfile(entry, conf / entry.name)
    model_conf = conf / "model.conf"
    lines = model_conf.read_text(encoding="utf-8").splitlines() if model_conf.exists() else []
    lines = [line for line in lines if not line.strip().startswith("--lattice-beam=")]
    model_conf.write_text("\n".join([*lines, f"--lattice-beam={lattice_beam:g}"]) + "\n", encoding="utf-8")
    return folder


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
    """Recognise one answer and read it as the dialogue does: the n-best list against the whole replies.

    ``value`` and ``command`` are None when the reading is too far from every
    reply to count as heard (the dialogue would say it did not understand).
    """
    hearing = recognizer.decode(kind, pcm)
    value: object = None
    command: str | None = None
    if hearing.text:
        alternatives = hearing.alternatives or ((hearing.text, 0.0),)
        reading = read_spoken(alternatives, kind, grammar, replies(grammar, kind))
        limit = Thresholds().command if reading.meaning.command is not None else Thresholds().heard
        if reading.cost <= limit:
            value, command = reading.meaning.value, reading.meaning.command
    return {"text": hearing.text, "value": value, "command": command, "confidence": hearing.confidence}
