"""The README's pictures, made the way the browser tests drive the kiosk: ``python -m bench.screenshots [DIR]``.

A real ``voice-triage kiosk`` (touch only) in headless Debian Chromium:
the idle screen, a question with its progress line, the duration keypad
with its units, a result at each level (sessions answered from the public
vignettes through the kiosk's own input API, the page following live), and
the staff page with the emergency on it.  With PulseAudio, espeak-ng and the
Korean model (``./dev test`` installs them), the voice test in
``tests/test_kiosk_voice.py`` adds a Korean kiosk that hears: the listening
indicator, and the words it heard (it saves them wherever it runs).  Written to DIR
(``docs/screenshots``, what README.md shows); ``tests/test_screenshots.py``
runs this in CI, so the pictures can always be made again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.kiosk_process import KioskProcess
from voice_triage.kiosk.controller import TEXT_SIZES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
VIEWPORT = {"width": 1024, "height": 720}
WAIT_MS = 20_000
# (picture, vignette) for a result at each level; the emergency last, so the staff page shows its alert
LEVELS = (
    ("result-self_care", "p013"),
    ("result-routine", "p009"),
    ("result-urgent", "p008"),
    ("result-emergency", "p001"),
)
TOUCH = ("idle", "question", "duration", *(name for name, _ in LEVELS), "staff")
VOICE = ("listening", "heard")
MAX_STEPS = 40
SHOTS_ENV = "VOICE_TRIAGE_SCREENSHOTS"


def _json(kiosk: KioskProcess, path: str, body: Mapping[str, Any] | None = None, token: bool = False) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + kiosk.token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(kiosk.url + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 409:  # the screen moved on: its state
            return json.loads(exc.read())
        raise


def _answer_until(kiosk: KioskProcess, facts: Mapping[str, Any], stop_at: str | None = None) -> dict[str, Any]:
    """Answer the kiosk's questions from ``facts`` ("unknown" if absent) until the result or ``stop_at``."""
    for _ in range(MAX_STEPS):
        state = _json(kiosk, "/api/state")
        question = state.get("question")
        if state["screen"] != "question" or question is None or question["id"] == stop_at:
            return dict(state)
        value = facts.get(question["id"], "unknown")
        if question["type"] == "yes_no" and question["confirming"]:
            value = "yes"
        answer = str(int(value)) if isinstance(value, int | float) else str(value)
        _json(kiosk, "/api/input", {"answer": answer, "step": state["step"]})
    raise RuntimeError(f"no result after {MAX_STEPS} answers")


def _vignettes() -> dict[str, dict[str, Any]]:
    from voice_triage.core.locale import load_locale
    from voice_triage.core.simulate import load_vignettes

    content = load_locale("en").content
    return {v.id: dict(v.facts) for v in load_vignettes(ROOT / "clinical" / "vignettes-public.yaml", content)}


def touch_pictures(
    browser: Any, out: Path, workdir: Path, audit: Callable[[Any, str], None] | None = None
) -> list[Path]:
    """The touch pictures; ``audit(page, name)`` (the test's axe-core check) also sees each result in high
    contrast at the largest text, after its picture is taken."""
    vignettes = _vignettes()
    shots: list[Path] = []
    kiosk = KioskProcess.start(workdir / "touch")
    try:
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(WAIT_MS)

        def shoot(name: str) -> None:
            page.wait_for_timeout(150)  # the last event drawn
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            shots.append(path)

        page.goto(kiosk.url + "/")
        page.locator("#start").wait_for(state="visible")
        shoot("idle")
        for name, vignette in LEVELS:
            page.locator("#start").click()
            page.locator("#question").wait_for(state="visible")
            if name == LEVELS[0][0]:
                page.locator("#progress").wait_for(state="visible")
                shoot("question")
            if "duration" not in [p.stem for p in shots]:
                state = _answer_until(kiosk, vignettes[vignette], stop_at="duration_days")
                if state["screen"] == "question":
                    page.locator("#units").wait_for(state="visible")
                    page.locator('[data-digit="3"]').click()
                    page.locator('[data-unit="weeks"]').click()
                    shoot("duration")
            _answer_until(kiosk, vignettes[vignette])
            page.locator("#result").wait_for(state="visible")
            shoot(name)
            if audit is not None:  # the next person gets the default settings back
                page.locator('[data-setting="contrast"]').click()
                page.wait_for_function("() => document.body.classList.contains('high-contrast')")
                for size in range(1, TEXT_SIZES):
                    page.locator('[data-setting="text_larger"]').click()
                    page.wait_for_function(f"() => document.documentElement.dataset.textSize === '{size}'")
                audit(page, f"{name}, high contrast, largest text")
            if name != "result-emergency":
                page.locator('#commands [data-command="stop"]').click()
                page.locator("#start").wait_for(state="visible")
        staff = browser.new_page(viewport=VIEWPORT)
        staff.set_default_timeout(WAIT_MS)
        staff.goto(kiosk.url + "/staff")
        staff.locator("#token").fill(kiosk.token)
        staff.locator("#token").press("Enter")
        staff.locator("#staff-alert").wait_for(state="visible")
        staff.wait_for_timeout(150)
        path = out / "staff.png"
        staff.screenshot(path=str(path))
        shots.append(path)
        _json(kiosk, "/api/staff/ack", {}, token=True)
    finally:
        kiosk.stop()
    return shots


def save(page: Any, name: str, default_dir: Path) -> Path:
    """One picture from a browser test: into ``$VOICE_TRIAGE_SCREENSHOTS`` when this script runs the test, else
    ``default_dir`` (so CI makes every picture on every run)."""
    folder = Path(os.environ.get(SHOTS_ENV) or default_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def voice_pictures(out: Path) -> list[Path]:
    """The Korean kiosk hearing through PulseAudio (listening, then the words heard): taken by the voice test
    in tests/test_kiosk_voice.py, which this runs with ``$VOICE_TRIAGE_SCREENSHOTS`` set."""
    test = "tests/test_kiosk_voice.py::test_the_page_shows_speaking_listening_hearing_thinking_and_the_words_heard"
    env = {**os.environ, SHOTS_ENV: str(out.resolve())}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=ROOT, env=env)
    if done.returncode != 0:
        return []
    return [out / f"{name}.png" for name in VOICE if (out / f"{name}.png").exists()]


def run(out: Path = OUT, workdir: Path | None = None) -> list[Path]:
    """Every picture into ``out``; the files written (no voice pictures without PulseAudio)."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    own = workdir is None
    work = Path(tempfile.mkdtemp(prefix="voice-triage-shots-")) if workdir is None else workdir
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                shots = touch_pictures(browser, out, work)
            finally:
                browser.close()
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return [*shots, *voice_pictures(out)]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    started = time.monotonic()
    shots = run(out)
    for path in shots:
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    missing = sorted(set(TOUCH + VOICE) - {p.stem for p in shots})
    if missing:
        print(f"not made: {', '.join(missing)} (the voice pictures need PulseAudio, espeak-ng and the Korean model)")
    print(f"{len(shots)} pictures in {time.monotonic() - started:.0f} s")
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
