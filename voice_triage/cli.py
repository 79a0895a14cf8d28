"""The ``voice-triage`` command line: every sub-command drives the same dialogue."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .core.content import static_texts, structure_problems
from .core.contract import AnswerType
from .core.dialogue import Action, Dialogue, End, Event, Heard, NoInput, Say, Show
from .core.grammar import Grammar, load_grammar
from .core.locale import REFERENCE_LOCALE, Locale, load_locale
from .core.paths import DATA, GRAMMAR
from .core.room import load_room_calibration
from .core.simulate import Vignette, evaluate, load_facts, load_vignettes, run_session
from .core.understanding import interpret
from .core.yamlload import EXIT_BAD_INPUT, ContentError, Problem
from .kiosk.text import load_kiosk_text

if TYPE_CHECKING:
    from .speech.asr import Recognizer
    from .speech.speech_out import Speaker

log = logging.getLogger("voice_triage")


# ------------------------------------------------------------ sub-commands


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.dir) if args.dir else DATA
    if (root / "flow.yaml").exists():  # one locale's prompts folder
        pairs = [(root.parent, root.parent.parent / "grammar", root.name)]
    else:
        prompts = root / "prompts"
        if not prompts.is_dir():
            print(
                f"{root}:0: no prompts/ folder here (give a project folder or a prompts/<locale> folder)",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        pairs = [(prompts, root / "grammar", d.name) for d in sorted(prompts.iterdir()) if d.is_dir()]
    problems: list[Problem] = []
    loaded: dict[str, Locale] = {}
    for prompts_root, grammar_root, lang in pairs:
        try:
            loaded[lang] = load_locale(lang, prompts_root, grammar_root)
        except ContentError as exc:
            problems.extend(exc.problems)
        try:  # the kiosk screen's words
            load_kiosk_text(prompts_root / lang)
        except ContentError as exc:
            problems.extend(exc.problems)
    room = (root / "room.yaml") if (root / "prompts").is_dir() else (root.parent.parent / "room.yaml")
    if room.is_file():  # the room check's calibration (core/room.py)
        for _, _, lang in pairs:
            try:
                load_room_calibration(lang, room)
            except ContentError as exc:
                problems.extend(exc.problems)
    reference = loaded.get(REFERENCE_LOCALE)
    for prompts_root, _, lang in pairs:
        if reference is not None and lang in loaded and lang != REFERENCE_LOCALE:
            problems.extend(structure_problems(reference.content, loaded[lang].content, prompts_root / lang))
    for problem in sorted(set(problems)):
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(set(problems))} problem(s) found.", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"OK: {', '.join(lang for _, _, lang in pairs)} content is valid.", file=out)
    return 0


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    locale = load_locale(args.lang)
    facts = load_facts(Path(args.facts), locale.content)
    session = run_session(locale.content, locale.grammar, facts)
    if args.json:
        json.dump(session.as_json(explain=args.explain), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    for index, (question, answer) in enumerate(session.transcript):
        print(f"Q: {question}\nA: {answer}", file=out)
        if args.explain and index < len(session.steps):
            step = session.steps[index]
            print(f"   why: {step.why}\n   did: {step.effect()}", file=out)
    names = locale.content.messages.level_names
    print(f"\nLevel: {session.level} ({names[session.level]})", file=out)
    if session.red_flags:
        print(f"Red flags: {', '.join(session.red_flags)}", file=out)
    print("Possible causes: " + ", ".join(f"{c} ({s:g})" for c, s in session.causes[:3]), file=out)
    if args.explain:
        for (cause, _), reason in zip(session.causes, session.because, strict=False):
            print(f"   {cause}: {reason or '(no answer raised it)'}", file=out)
    print(f"Questions asked: {session.questions_asked}", file=out)
    return 0


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    locale = load_locale(args.lang)
    vignettes = [v for file in args.file for v in load_vignettes(Path(file), locale.content)]
    if args.spoken:
        return evaluate_spoken(args, locale, vignettes, out)
    report = evaluate(locale.content, locale.grammar, vignettes)
    if args.json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    rows = sorted(report["results"], key=lambda r: (not r["under_triaged"], r["level_ok"], r["id"]))
    table = [("id", "level", "expected", "ok", "top 3 causes", "cause", "asked")]
    for r in rows:
        flag = "UNDER" if r["under_triaged"] else ("yes" if r["level_ok"] else "no")
        table.append(
            (
                r["id"],
                r["level"],
                str(r["expected"]),
                flag,
                ", ".join(r["causes"]),
                "yes" if r["cause_ok"] else "no",
                str(r["questions_asked"]),
            )
        )
    print_table(table, out)
    s = report["summary"]
    print(
        f"\n{s['vignettes']} vignettes: level acceptable {s['level_ok']}, cause in top 3 {s['cause_in_top3']}, "
        f"under-triaged {s['under_triaged']} (emergencies missed {s['emergency_under_triaged']}), "
        f"median questions {s['median_questions']:g} (max {s['max_questions']})",
        file=out,
    )
    return 0


def print_table(table: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)


def default_voices(lang: str) -> str:
    """Five espeak-ng variants of the locale's voice, at everyday rates."""
    return ",".join(f"{lang}{variant}" for variant in (":150", "+f2:165", "+m3:135", "+f4:180", "+m6:145"))


def evaluate_spoken(args: argparse.Namespace, locale: Locale, vignettes: list[Vignette], out: TextIO) -> int:
    """``evaluate --spoken``: the vignettes answered aloud, heard by the live loop's own code."""
    from .core.phrasings import load_phrasings
    from .speech.noise_suppression import check_available
    from .speech.speech_in import ListenSettings
    from .speech.spoken_eval import SpokenEvaluation, SpokenOptions, run_parallel
    from .speech.synthetic import NOISES, SyntheticSpeechError, Voice

    if not args.phrasings:
        print("evaluate --spoken: give the patients' phrasings with --phrasings FILE.", file=sys.stderr)
        return EXIT_BAD_INPUT
    phrasings = load_phrasings(Path(args.phrasings))
    try:
        voices = tuple(Voice.parse(v.strip()) for v in (args.voices or default_voices(args.lang)).split(",") if v)
    except ValueError as exc:
        print(f"--voices: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.noise not in NOISES and not Path(args.noise).is_file():
        print(f"--noise: {args.noise!r} is not one of {', '.join(NOISES)} nor a WAV file.", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = SpokenOptions(
        voices=voices,
        noise=args.noise,
        snr_db=args.snr,
        seed=args.seed,
        trace=args.trace,
        noise_suppression=ListenSettings.noise_suppression if args.suppress_noise is None else args.suppress_noise,
        auto_gain_dbfs=args.auto_gain,
        steady_noise_suppression=(
            ListenSettings.steady_noise_suppression if args.steady_suppression is None else args.steady_suppression
        ),
    )
    recognizer = open_recognizer(args.lang, locale.grammar, args.model, locale.content.key_phrases())
    if recognizer is None:
        return 1
    recognizer.close()  # each worker opens its own
    why = check_available(options.noise_suppression, options.auto_gain_dbfs, recognizer.sample_rate)
    if why is not None:
        print(f"--suppress-noise: {why}.", file=sys.stderr)
        return EXIT_BAD_INPUT

    def make() -> SpokenEvaluation:
        opened = open_recognizer(args.lang, locale.grammar, args.model, locale.content.key_phrases())
        assert opened is not None
        return SpokenEvaluation(locale, opened, phrasings, options)

    try:
        report = run_parallel(make, vignettes, options, locale.content, max(1, args.jobs))
    except SyntheticSpeechError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return 0
    emergency = locale.content.contract.levels[0]
    rows = sorted(report["results"], key=lambda r: (r["level_ok"], r["expected"] != emergency, r["id"], r["voice"]))
    table = [("id", "voice", "level", "expected", "ok", "outcome", "turns", "asked", "read-backs", "wrong")]
    for r in rows:
        table.append(
            (
                r["id"],
                r["voice"],
                r["level"],
                str(r["expected"]),
                "yes" if r["level_ok"] else "no",
                r["outcome"],
                str(r["turns"]),
                str(r["questions_asked"]),
                str(r["readbacks"]),
                str(r["answer_errors"]),
            )
        )
    print_table(table, out)
    s = report["summary"]
    print(
        f"\n{s['vignettes']} spoken sessions ({len(voices)} voices, noise {s['noise']}"
        + (f" at {s['snr_db']:g} dB SNR" if s["snr_db"] is not None else "")
        + f"): level acceptable {s['level_ok']} ({100 * s['level_ok'] / max(1, s['vignettes']):.1f}%), "
        f"emergencies missed {s['emergency_missed']}, false emergencies {s['false_emergency']}, "
        f"handed to staff {s['handed_to_staff']}, unfinished {s['unfinished']}, median turns {s['median_turns']:g}, "
        f"read-backs {s['readbacks']}, answers wrong {s['answer_errors']} of {s['answers']}",
        file=out,
    )
    return 0


def cmd_interpret(args: argparse.Namespace, out: TextIO) -> int:
    locale_grammar = load_grammar(GRAMMAR / args.lang)
    if not args.batch:
        if not args.text:
            print("interpret: give the TEXT to interpret, or --batch", file=sys.stderr)
            return EXIT_BAD_INPUT
        meaning = interpret(" ".join(args.text), AnswerType(args.type), locale_grammar)
        json.dump({"value": meaning.value, "command": meaning.command}, out, ensure_ascii=False)
        out.write("\n")
        return 0
    status = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = AnswerType(item["type"])
            text = item["say"]
            if not isinstance(text, str):
                raise TypeError("'say' must be text")
        except (ValueError, KeyError, TypeError) as exc:
            print(f'<stdin>:{number}: expected {{"type": ..., "say": ...}}: {exc}', file=sys.stderr)
            json.dump({"value": None, "command": None, "error": str(exc)}, out)
            out.write("\n")
            status = EXIT_BAD_INPUT
            continue
        meaning = interpret(text, kind, locale_grammar)
        json.dump({"value": meaning.value, "command": meaning.command}, out, ensure_ascii=False)
        out.write("\n")
        out.flush()
    return status


def show_actions(actions: Sequence[Action], out: TextIO) -> None:
    for action in actions:
        if isinstance(action, Say):
            print(action.text, file=out)
        elif isinstance(action, Show) and action.choices and action.question_id is not None:
            print(f"  [{' / '.join(action.choices)}]", file=out)


def run_text_session(locale: Locale, read: Callable[[], str], out: TextIO) -> int:
    """A typed session; ``read`` raises EOFError at end of input."""
    dialogue = Dialogue(locale.content, locale.grammar)
    show_actions(dialogue.start(typed=True), out)
    messages = locale.content.messages
    while True:
        try:
            line = read()
        except EOFError:
            print("\n" + messages.say("stopped"), file=out)
            return 0
        except KeyboardInterrupt:
            print("\n" + messages.say("stopped"), file=out)
            return 130
        event: Event = Heard(line) if line.strip() else NoInput()
        actions = dialogue.handle(event)
        show_actions(actions, out)
        if any(isinstance(a, End) for a in actions) and dialogue.outcome == "stopped":
            return 0


def cmd_text(args: argparse.Namespace, out: TextIO) -> int:
    locale = load_locale(args.lang)

    def read() -> str:
        return input("> ")

    return run_text_session(locale, read, out)


# ------------------------------------------------------------------ voice


def add_voice_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="speech model folder (else $VOICE_TRIAGE_MODEL, models/, or an installed model)")
    p.add_argument("--voice", help="espeak-ng voice id (default: the locale's)")
    p.add_argument("--rate", type=int, default=150, help="speech rate in words per minute (default 150)")
    p.add_argument("--volume", type=float, default=1.0, help="speech volume, 1.0 = normal")
    p.add_argument("--input-device", help="microphone (number or name; see `voice-triage devices`)")
    p.add_argument("--output-device", help="loudspeaker (number or name)")
    p.add_argument("--trailing-silence-ms", type=int, default=500, help="silence that ends an answer (default 500)")
    p.add_argument(
        "--short-silence-ms",
        type=int,
        default=200,
        help="silence that ends a complete answer no longer phrase starts with (default 200)",
    )
    p.add_argument(
        "--no-input-timeout", type=float, default=10.0, help="seconds of silence before re-asking (default 10)"
    )


def _device(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def open_speaker(lang: str, args: argparse.Namespace, texts: list[str]) -> Speaker | None:
    """The loudspeaker with every known prompt rendered, or None (text only) with a sentence why."""
    from .speech.speech_out import Player, Speaker, SpeechOutputError, Synthesizer, VoiceSettings

    try:
        synth = Synthesizer(lang, VoiceSettings(voice=args.voice, rate=args.rate, volume=args.volume))
        synth.prerender(texts)
        return Speaker(synth, Player(synth.sample_rate, _device(args.output_device)))
    except SpeechOutputError as exc:
        print(exc, file=sys.stderr)
        return None


def open_recognizer(lang: str, grammar: Grammar, model: str | None, extra: Sequence[str] = ()) -> Recognizer | None:
    """The model with its grammar-restricted recognisers, or None with a sentence why."""
    from .speech.asr import Recognizer, SpeechModelError
    from .speech.models import ModelError, find_model

    try:
        return Recognizer(find_model(lang, cli_path=Path(model) if model else None), grammar, extra=extra)
    except (ModelError, SpeechModelError) as exc:
        print(exc, file=sys.stderr)
        return None


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from .session import VoiceSession
    from .speech.noise_suppression import check_available
    from .speech.speech_in import ListenSettings, Microphone, MicrophoneError

    locale = load_locale(args.lang)
    content = locale.content
    speaker = open_speaker(args.lang, args, static_texts(content))
    recognizer = open_recognizer(args.lang, locale.grammar, args.model, content.key_phrases())
    microphone = None
    listen = ListenSettings(
        trailing_silence_ms=args.trailing_silence_ms,
        short_silence_ms=args.short_silence_ms,
        grow_silence_ms=args.trailing_silence_ms,
        no_input_timeout_s=args.no_input_timeout,
    )
    if recognizer is not None:
        try:
            microphone = Microphone(recognizer.sample_rate, _device(args.input_device))
        except MicrophoneError as exc:
            print(exc, file=sys.stderr)
        why = check_available(listen.noise_suppression, listen.auto_gain_dbfs, recognizer.sample_rate)
        if why is not None:
            print(f"{why}, so it listens without it.", file=sys.stderr)
            listen.noise_suppression = listen.auto_gain_dbfs = 0
    session = VoiceSession(
        content,
        locale.grammar,
        recognizer=recognizer,
        speaker=speaker,
        microphone=microphone,
        listen=listen,
        out=out,
    )
    try:
        session.run()
    except KeyboardInterrupt:
        session.say(content.messages.say("stopped"))
        return 130
    except Exception:  # never silent on a patient: say so, then fail
        log.exception("internal error in the spoken session")
        session.say(content.messages.say("error"))
        return 1
    finally:
        if microphone is not None:
            microphone.close()
        if speaker is not None:
            speaker.player.close()
    return 0


def cmd_transcribe(args: argparse.Namespace, out: TextIO) -> int:
    from .speech.asr import transcribe
    from .speech.audiofile import AudioFileError, read_pcm16

    grammar = load_grammar(GRAMMAR / args.lang)
    recognizer = open_recognizer(args.lang, grammar, args.model)
    if recognizer is None:
        return 1
    try:
        pcm = read_pcm16(Path(args.file), recognizer.sample_rate)
    except AudioFileError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    result = transcribe(recognizer, grammar, pcm, AnswerType(args.type))
    if args.json:
        json.dump(result, out, ensure_ascii=False)
        out.write("\n")
    else:
        print(
            f"heard {result['text']!r} (confidence {result['confidence']:.2f}): value {result['value']!r}, "
            f"command {result['command']!r}",
            file=out,
        )
    return 0


def cmd_devices(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import sounddevice as sd
    except OSError as exc:
        print(f"Audio is not available ({exc}); install libportaudio2.", file=sys.stderr)
        return 1
    devices = sd.query_devices()
    if not len(devices):
        print("No audio devices were found; connect a microphone and a loudspeaker (or start PulseAudio).", file=out)
        return 1
    print(devices, file=out)
    return 0


def cmd_say(args: argparse.Namespace, out: TextIO) -> int:
    text = " ".join(args.text)
    print(text, file=out)
    speaker = open_speaker(args.lang, args, [text])
    if speaker is None:
        return 1
    try:
        speaker.say(text)
    finally:
        speaker.player.close()
    return 0


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    from .speech import models

    if args.action == "list":
        return models.cmd_list(out)
    if args.action == "verify":
        return models.cmd_verify(out)
    if not args.name:
        print("models download: name the model (see `voice-triage models list`).", file=sys.stderr)
        return EXIT_BAD_INPUT
    return models.cmd_download(args.name, out)


# ------------------------------------------------------------------ main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voice-triage", description="Offline voice triage for difficulty lifting a leg."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (never answers)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--lang", default="en", help="locale (default: en)")
        return p

    add("text", "an interactive typed session")
    p = add("simulate", "a scripted patient answers from a facts file")
    p.add_argument("--facts", required=True, help="a vignette, or a mapping of fact to value")
    p.add_argument("--json", action="store_true")
    p.add_argument("--explain", action="store_true", help="why each question was chosen, and what its answer did")
    p = add("evaluate", "run every vignette of the files and score the results (typed, or --spoken)")
    p.add_argument("file", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--spoken", action="store_true", help="answer aloud: espeak-ng voices, noise, the live loop's ears")
    p.add_argument("--phrasings", help="how patients say each answer (YAML; see clinical/spoken-ko.yaml)")
    p.add_argument("--voices", help="espeak-ng VOICE:RATE,... (default: five variants of the locale's voice)")
    p.add_argument("--noise", default="none", help="none, pink, brown, white, babble, or a WAV file of a room")
    p.add_argument("--snr", type=float, default=10.0, help="signal-to-noise ratio in dB (default 10)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2, help="processes, each with its own model (default 2)")
    p.add_argument("--model", help="speech model folder")
    p.add_argument("--trace", action="store_true", help="with --json: each turn's words said and heard")
    p.add_argument(
        "--suppress-noise",
        type=int,
        choices=range(5),
        metavar="0-4",
        help="WebRTC noise suppression before the recogniser (0 off, 4 strongest; default: the live loop's)",
    )
    p.add_argument("--auto-gain", type=int, default=0, metavar="DBFS", help="WebRTC automatic gain target (0 off)")
    p.add_argument(
        "--steady-suppression",
        type=int,
        choices=range(5),
        metavar="0-4",
        help="noise suppression used only while the room is steady, loud noise (0 never; default: the live loop's)",
    )
    p = add("interpret", "show how an answer is understood")
    p.add_argument("--type", choices=[t.value for t in AnswerType], default="yes_no")
    p.add_argument("--batch", action="store_true", help="read JSON lines {type, say} on stdin")
    p.add_argument("text", nargs="*")
    p = add("run", "the spoken session: questions aloud, answers by voice")
    add_voice_options(p)
    p = add("transcribe", "recognise a recorded answer as the dialogue would")
    p.add_argument("--type", choices=[t.value for t in AnswerType], default="yes_no")
    p.add_argument("--model")
    p.add_argument("--json", action="store_true")
    p.add_argument("file")
    sub.add_parser("devices", help="list audio devices")
    p = add("say", "speak a sentence")
    add_voice_options(p)
    p.add_argument("text", nargs="+")
    p = sub.add_parser("models", help="speech models: list, download NAME, verify")
    p.add_argument("action", choices=["list", "download", "verify"])
    p.add_argument("name", nargs="?")
    p = sub.add_parser("kiosk", help="the kiosk: session after session, with the screen and staff pages")
    p.add_argument("--config", required=True, help="the kiosk's YAML config file (see deploy/kiosk.example.yaml)")
    p.add_argument("--no-voice", action="store_true", help="no microphone and no speech: screen and touch only")
    p.add_argument(
        "--download-model",
        action="store_true",
        help="download the locale's speech model first if it is not installed (checked against its SHA-256)",
    )
    p.add_argument("--host", help="address to serve on (default: the config's web.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to serve on (default: the config's web.port; 0 = any free port)")
    p = add("export-fhir", "write the question flow as an HL7 FHIR R4 Questionnaire (JSON)")
    p.add_argument("--out", help="file to write (default: standard output)")
    p = sub.add_parser("validate", help="check the content and grammar; exit 2 if anything is wrong")
    p.add_argument("dir", nargs="?", help="project folder (with prompts/ and grammar/) or a prompts/<locale> folder")
    p = add(
        "audit",
        "say every phrase the recogniser listens for in espeak-ng voices; list those heard as another value",
    )
    p.add_argument("--voices", help="espeak-ng VOICE:RATE,... (default: five variants of the locale's voice)")
    p.add_argument(
        "--types",
        help=f"answer types to audit, comma-separated (default: all: {','.join(t.value for t in AnswerType)})",
    )
    p.add_argument("--json", action="store_true", help="every phrase and clip, machine-readable")
    p.add_argument("--model", help="speech model folder")
    p.add_argument("--jobs", type=int, default=2, help="processes, each with its own model (default 2)")
    p.epilog = (
        "Covers every whole reply the recogniser listens for per answer type (answers, hedged answers, "
        "'I don't know', voice commands, whole amounts like 'yesterday'); of the numbers only 0, 3, 7 and 10 on "
        "the pain scale, 3 of each duration unit and the grammar's number examples. Heard in silence through the "
        "live loop's endpointer, recogniser (the answer type's grammar, no question key words) and reading. "
        "Exit 0: it is a report."
    )
    return parser


SUBCOMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {
    "text": cmd_text,
    "simulate": cmd_simulate,
    "evaluate": cmd_evaluate,
    "interpret": cmd_interpret,
    "validate": cmd_validate,
    "run": cmd_run,
    "transcribe": cmd_transcribe,
    "devices": cmd_devices,
    "say": cmd_say,
    "models": cmd_models,
}


def cmd_kiosk(args: argparse.Namespace, out: TextIO) -> int:
    from .kiosk.run import cmd_kiosk as run_kiosk

    return run_kiosk(args, out)


SUBCOMMANDS["kiosk"] = cmd_kiosk


def cmd_export_fhir(args: argparse.Namespace, out: TextIO) -> int:
    from .core.fhir import questionnaire

    text = json.dumps(questionnaire(load_locale(args.lang).content), ensure_ascii=False, indent=2) + "\n"
    if not args.out:
        out.write(text)
        return 0
    target = Path(args.out)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"{target}: cannot write the Questionnaire ({exc.strerror or exc}).", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"Wrote the {args.lang} flow as a FHIR Questionnaire to {target}.", file=out)
    return 0


SUBCOMMANDS["export-fhir"] = cmd_export_fhir


def cmd_audit(args: argparse.Namespace, out: TextIO) -> int:
    """``audit``: which phrases of the grammar the recogniser hears as another value, in synthesised voices."""
    from .speech.audit import Auditor, checks, print_report, run_audit
    from .speech.synthetic import SyntheticSpeechError, Voice

    locale = load_locale(args.lang)
    try:
        voices = tuple(Voice.parse(v.strip()) for v in (args.voices or default_voices(args.lang)).split(",") if v)
    except ValueError as exc:
        print(f"--voices: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    named = [t.strip() for t in (args.types or "").split(",") if t.strip()]
    known = [t.value for t in AnswerType]
    if any(t not in known for t in named):
        print(f"--types: {args.types!r} is not a list of answer types ({', '.join(known)}).", file=sys.stderr)
        return EXIT_BAD_INPUT
    types = [AnswerType(t) for t in named] or list(AnswerType)
    recognizer = open_recognizer(args.lang, locale.grammar, args.model, locale.content.key_phrases())
    if recognizer is None:
        return 1
    unknown = recognizer.unknown_phrases
    recognizer.close()  # each worker opens its own

    def make() -> Auditor:
        opened = open_recognizer(args.lang, locale.grammar, args.model, locale.content.key_phrases())
        assert opened is not None
        return Auditor(locale.grammar, opened)

    try:
        report = run_audit(make, checks(locale.grammar, types), voices, max(1, args.jobs), unknown)
    except SyntheticSpeechError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.json:
        json.dump(report, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        print_report(report, out)
    return 0


SUBCOMMANDS["audit"] = cmd_audit


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return SUBCOMMANDS[args.command](args, sys.stdout)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        print(f"Internal error ({type(exc).__name__}). Please ask the front desk for help.", file=sys.stderr)
        return 1


def entry_point() -> None:
    sys.exit(main())
