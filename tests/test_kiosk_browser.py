"""End-to-end tests of the kiosk page and the staff page in real headless Chromium.

Each test starts a real ``voice-triage kiosk --no-voice`` process (a temporary
config, SQLite database and alert command; a free port on 127.0.0.1; the staff
token in its environment) and drives Debian's ``/usr/bin/chromium`` through
Playwright (never a downloaded browser):

- whole sessions answered only by clicking, only with the keys each button's
  ``data-key`` names, and only with the two switch keys (Space steps the
  highlight, Enter selects), answers taken from the public vignettes, each
  ending with the vignette's expected level on screen;
- an emergency raises the banner on the (logged-in) staff page and runs the
  alert command with the kiosk's name, the time and the level, and nothing else;
- axe-core finds no WCAG 2.2 AA violation on the kiosk page (idle, every kind
  of question, the result) nor on the staff page, and every visible touch
  target is at least 44 by 44 CSS pixels.

Every wait has a deadline and every loop a bound; the kiosk is killed in a
``finally``.  Without Chromium or Playwright the tests skip, except in CI
(``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.kiosk_process import KIOSK_NAME, KioskProcess
from voice_triage.core.content import Question
from voice_triage.core.contract import UNKNOWN, AnswerType, Value
from voice_triage.core.locale import Locale
from voice_triage.core.simulate import Vignette, load_vignettes
from voice_triage.kiosk.controller import TEXT_SIZES

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_VIGNETTES = ROOT / "clinical" / "vignettes-public.yaml"  # the repository copy of ../shared
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
WAIT_MS = 15_000  # any single wait for the page
MAX_STEPS = 60  # questions in one session (the flow asks at most 30)
MAX_SCAN_PRESSES = 80  # Space presses to reach one button
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
MIN_TARGET_PX = 44
VIEWPORT = {"width": 1280, "height": 800}

# Visible interactive elements, all of them touch targets on a kiosk.
TARGETS_JS = """
() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary,'
    + ' [role=button], [role=link], [role=checkbox], [role=radio], [role=switch], [role=tab], [role=slider],'
    + ' [tabindex]:not([tabindex="-1"]), [data-answer], [data-command], [data-digit]';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest('[hidden], [aria-hidden="true"]')) continue;
    const name = (el.id ? '#' + el.id : el.tagName.toLowerCase())
      + (el.dataset.answer ? `[data-answer=${el.dataset.answer}]` : '')
      + (el.dataset.command ? `[data-command=${el.dataset.command}]` : '')
      + (el.dataset.digit ? `[data-digit=${el.dataset.digit}]` : '')
      + ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
    out.push({name, width: r.width, height: r.height});
  }
  return out;
}
"""

# What the page is showing: the question, whether the result is up, and the buttons.
STATE_JS = """
() => {
  const visible = el => {
    if (!el) return false;
    if (el.closest('[hidden]')) return false;
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const q = document.querySelector('#question');
  const result = document.querySelector('#result');
  return {
    question: q && visible(q) ? q.textContent.replace(/\\s+/g, ' ').trim() : null,
    questionId: q ? (q.dataset.fact || q.dataset.question || q.dataset.questionId || null) : null,
    level: result && visible(result) ? (result.dataset.level || null) : null,
    resultText: result && visible(result) ? result.textContent.replace(/\\s+/g, ' ').trim() : '',
  };
}
"""

# The element the single-switch scan currently highlights.
HIGHLIGHT_JS = """
() => {
  const sel = 'button.scan, [data-scan-current], [data-scanned="true"], .scan-current, .scan-highlight, .scan-focus,'
    + ' .scanning, .highlight, .highlighted, [aria-current="true"]';
  let el = document.querySelector(sel);
  if (!el && document.activeElement && document.activeElement !== document.body) el = document.activeElement;
  if (!el) return null;
  return {answer: el.dataset.answer ?? null, digit: el.dataset.digit ?? null,
          command: el.dataset.command ?? null, id: el.id || null, tag: el.tagName.toLowerCase(),
          text: (el.innerText || '').trim().slice(0, 40)};
}
"""


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian package chromium; ./dev test installs it as root)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"Playwright or axe-playwright-python is not installed ({exc}); pip install -e '.[dev]'"
    return None


def _need_browser() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


# ----------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[KioskProcess]:
    process = KioskProcess.start(tmp_path / "kiosk")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
    ctx.set_default_timeout(WAIT_MS)
    ctx.set_default_navigation_timeout(WAIT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def vignettes(locale: Locale) -> dict[str, Vignette]:
    return {v.id: v for v in load_vignettes(PUBLIC_VIGNETTES, locale.content)}


# ----------------------------------------------------------------- helpers


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class KioskPage:
    """The kiosk page, answered one way: "click", "keys" or "switch"."""

    page: Any
    kiosk: KioskProcess
    locale: Locale
    how: str

    def state(self) -> dict[str, Any]:
        return dict(self.page.evaluate(STATE_JS))

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\npage state: {self.state()}\nkiosk output:\n{self.kiosk.log()}")

    def question(self, state: Mapping[str, Any]) -> Question:
        """The flow question on screen, by its data attribute or else by its wording."""
        content = self.locale.content
        if state.get("questionId") in content.by_id:
            return content.question(state["questionId"])
        shown = _norm(state["question"] or "")
        for q in content.questions:
            if shown in (_norm(q.text), _norm(q.rephrase)):
                return q
        for q in content.questions:
            if _norm(q.text) in shown:
                return q
        self.fail(f"the question on screen is not one of the flow's: {state['question']!r}")
        raise AssertionError  # unreachable

    def wait_change(self, previous: Mapping[str, Any]) -> dict[str, Any]:
        """Wait until the question changes or the result shows; the new state."""
        try:
            self.page.wait_for_function(
                """([prevQ, prevId]) => {
                  const r = document.querySelector('#result');
                  if (r && r.dataset.level && !r.closest('[hidden]') && getComputedStyle(r).display !== 'none'
                      && r.getBoundingClientRect().height > 0) return true;
                  const q = document.querySelector('#question');
                  if (!q || q.closest('[hidden]') || getComputedStyle(q).display === 'none') return false;
                  const text = q.textContent.replace(/\\s+/g, ' ').trim();
                  const id = q.dataset.fact || q.dataset.question || q.dataset.questionId || null;
                  return text !== '' && (text !== prevQ || id !== prevId);
                }""",
                arg=[previous.get("question"), previous.get("questionId")],
                timeout=WAIT_MS,
            )
        except Exception as exc:  # a Playwright TimeoutError
            self.fail(f"the page did not move on after an answer ({exc.__class__.__name__})")
        return self.state()

    # -- the three ways in --------------------------------------------------

    def activate(self, selector: str) -> None:
        """Press one button the way this session answers."""
        target = self.page.locator(selector).first
        try:
            target.wait_for(state="visible", timeout=WAIT_MS)
        except Exception:
            self.fail(f"no visible button {selector}")
        if self.how == "click":
            target.click()
        elif self.how == "keys":
            key = target.get_attribute("data-key")
            if not key or len(key) != 1:
                self.fail(f"{selector} has data-key={key!r}, not a single key")
            self.page.keyboard.press(key)
        else:
            self.scan_to(selector)
            self.page.keyboard.press("Enter")

    def scan_to(self, selector: str) -> None:
        """Step the single-switch highlight with Space until it is on ``selector``."""
        wanted = self.page.locator(selector).first.evaluate(
            "el => ({answer: el.dataset.answer ?? null, digit: el.dataset.digit ?? null,"
            " command: el.dataset.command ?? null, id: el.id || null})"
        )
        seen = []
        for _ in range(MAX_SCAN_PRESSES):
            self.page.keyboard.press("Space")
            here = self.page.evaluate(HIGHLIGHT_JS)
            seen.append(here)
            if here is not None and all(here[k] == wanted[k] for k in wanted):
                self.check_highlight(selector)
                return
        self.fail(f"Space never highlighted {selector} in {MAX_SCAN_PRESSES} presses; highlighted: {seen[:20]}")

    def check_highlight(self, selector: str) -> None:
        """The highlighted button looks different from the others, and its label is captioned (and spoken)."""
        looks = self.page.locator(selector).first.evaluate(
            """el => {
              const look = b => { const s = getComputedStyle(b);
                return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor, s.color,
                        s.borderColor].join('|'); };
              const other = Array.from(document.querySelectorAll('button'))
                .find(b => b !== el && b.className === el.className.replace(/\\bscan\\b/, '').trim()
                           && b.getClientRects().length);
              const label = (el.querySelector('.label') || el).textContent.trim();
              return {same: other ? look(other) === look(el) : null, label};
            }"""
        )
        if looks["same"]:
            self.fail(f"the scan highlight on {selector} looks like any other button")
        try:
            self.page.wait_for_function(
                "label => (document.querySelector('#scan-caption')?.textContent || '').includes(label)",
                arg=looks["label"],
                timeout=WAIT_MS,
            )
        except Exception:
            self.fail(f"the highlighted button's label {looks['label']!r} was not captioned")

    def start(self) -> dict[str, Any]:
        self.page.goto(self.kiosk.url + "/")
        idle = self.state()
        self.activate("#start")
        return self.wait_change(idle)

    def answer(self, question: Question, value: Value) -> None:
        if value == UNKNOWN:
            self.activate('#answers [data-answer="unknown"]')
        elif question.type is AnswerType.NUMBER:
            assert isinstance(value, int | float)
            for digit in f"{value:g}":
                self.activate(f'[data-digit="{digit}"]')
            self.activate("#number-ok")
        elif question.type is AnswerType.SCALE_0_10:
            assert isinstance(value, int | float)
            self.activate(f'#answers [data-answer="{int(value)}"]')
        else:
            self.activate(f'#answers [data-answer="{value}"]')

    def check_screen(self, question: Question) -> None:
        """Every question is captioned as it is said, and every button has its own single key."""
        try:
            self.page.wait_for_function(
                "text => (document.querySelector('#caption')?.textContent || '').replace(/\\s+/g, ' ').includes(text)",
                arg=re.sub(r"\s+", " ", question.text),
                timeout=WAIT_MS,
            )
        except Exception:
            self.fail(f"the caption never showed the question {question.id}")
        live = self.page.locator("#caption").get_attribute("aria-live")
        assert live in ("polite", "assertive"), f"#caption has aria-live={live!r}"
        keys = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('button')).filter(b => b.getClientRects().length)"
            ".map(b => [b.dataset.key ?? null, (b.innerText || '').trim().slice(0, 30)])"
        )
        missing = [label for key, label in keys if not key or len(key) != 1 or key in (" ", "\n")]
        assert not missing, f"buttons without a single data-key on {question.id}: {missing}"
        seen = [key.lower() for key, _ in keys]
        assert len(seen) == len(set(seen)), f"two buttons share a key on {question.id}: {sorted(seen)}"

    def run(self, facts: Mapping[str, Value], on_question: Any = None) -> dict[str, Any]:
        """A whole session: answer every question from ``facts`` ("unknown" if absent); the final state."""
        state = self.start()
        asked: list[str] = []
        for _ in range(MAX_STEPS):
            if state["level"]:
                return state
            question = self.question(state)
            asked.append(question.id)
            self.check_screen(question)
            if on_question is not None:
                on_question(question)
            self.answer(question, facts.get(question.id, UNKNOWN))
            state = self.wait_change(state)
        self.fail(f"no result after {MAX_STEPS} questions: {asked}")
        raise AssertionError  # unreachable


def assert_result(kp: KioskPage, state: Mapping[str, Any], expected: str) -> None:
    assert state["level"] == expected, f"level on screen {state['level']!r}, expected {expected!r}\n{kp.kiosk.log()}"
    messages = kp.locale.content.messages
    for what, words in (("name", messages.level_names[expected]), ("advice", messages.level_now[expected])):
        assert _norm(words) in _norm(state["resultText"]), f"the result does not show the {expected} {what}: {state}"


def axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    problems = []
    for v in results.response["violations"]:
        nodes = "; ".join(
            " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"]) for n in v["nodes"][:5]
        )
        problems.append(f"{v['id']} ({v['impact']}): {v['help']} -- {nodes}")
    return problems


def small_targets(page: Any) -> list[str]:
    return [
        f"{t['name']} is {t['width']:.0f}x{t['height']:.0f}"
        for t in page.evaluate(TARGETS_JS)
        if t["width"] < MIN_TARGET_PX - 0.01 or t["height"] < MIN_TARGET_PX - 0.01
    ]


def staff_login(page: Any, kiosk: KioskProcess) -> None:
    """Log in through the staff page's form, as a person at the front desk would."""
    page.goto(kiosk.url + "/staff")
    password = page.locator("input[type=password]")
    password.first.wait_for(state="visible", timeout=WAIT_MS)
    password.first.fill(kiosk.token)
    password.first.press("Enter")
    page.wait_for_function("() => !document.querySelector('input[type=password]')", timeout=WAIT_MS)
    assert "/staff" in page.url, page.url


# ------------------------------------------------------------------- tests


@pytest.mark.parametrize(
    ("how", "vignette_id"),
    [("click", "p013"), ("keys", "p009"), ("switch", "p008")],
    ids=["click-self_care", "keys-routine", "switch-urgent"],
)
def test_whole_session_one_way(
    how: str, vignette_id: str, kiosk: KioskProcess, context: Any, locale: Locale, vignettes: dict[str, Vignette]
) -> None:
    vignette = vignettes[vignette_id]
    assert vignette.level is not None
    kp = KioskPage(context.new_page(), kiosk, locale, how)
    state = kp.run(vignette.facts)
    assert_result(kp, state, vignette.level)


def test_emergency_reaches_staff_banner_and_alert_command(
    tmp_path: Path, context: Any, browser: Any, locale: Locale, vignettes: dict[str, Vignette]
) -> None:
    _need_browser()
    # a result pause of 1 s: an ordinary result would be wiped long before staff come
    kiosk = KioskProcess.start(tmp_path / "kiosk", result_pause_s=1)
    staff_ctx = browser.new_context(viewport=VIEWPORT)
    staff_ctx.set_default_timeout(WAIT_MS)
    try:
        staff = staff_ctx.new_page()
        staff_login(staff, kiosk)
        assert not staff.locator("#staff-alert").is_visible(), "the emergency banner shows before any emergency"
        assert kiosk.alert_files() == []
        # the kiosk's name is shown as text, never as markup
        assert KIOSK_NAME in staff.locator("h1").inner_text()

        vignette = vignettes["p001"]  # stroke signs: emergency after three questions
        kp = KioskPage(context.new_page(), kiosk, locale, "click")
        state = kp.run(vignette.facts)
        assert_result(kp, state, "emergency")
        shown_at = time.monotonic()

        # the staff page, open all along, shows the banner without anyone reloading it
        banner = staff.locator("#staff-alert")
        banner.wait_for(state="visible", timeout=WAIT_MS)
        assert "emergency" in _norm(banner.inner_text()), banner.inner_text()

        # the alert command got the kiosk, the time and the level, and nothing else
        deadline = time.monotonic() + 15
        while not kiosk.alert_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        files = kiosk.alert_files()
        assert len(files) == 1, f"alert command ran {len(files)} times\n{kiosk.log()}"
        alert = json.loads(files[0].read_text(encoding="utf-8"))
        assert set(alert) == {"kiosk", "time", "level"}, alert
        assert alert["kiosk"] == KIOSK_NAME
        assert alert["level"] == "emergency"
        sent = datetime.fromisoformat(alert["time"].replace("Z", "+00:00"))
        assert sent.tzinfo is not None
        assert abs(datetime.now(UTC) - sent) < timedelta(minutes=5), alert

        # the emergency stays on the kiosk past the result pause, until staff acknowledge it
        time.sleep(max(0.0, 3.0 - (time.monotonic() - shown_at)))  # 3 result pauses, 12 ticks
        assert kp.state()["level"] == "emergency", "the emergency was wiped before staff acknowledged it"
        assert kp.page.locator("#start").count() == 0
        # the hand-off record is listed, emergencies first
        staff.locator('#sessions[data-count="1"]').wait_for(state="attached")
        staff.wait_for_load_state("load")
        assert staff.locator("#sessions article").first.get_attribute("data-level") == "emergency"

        staff.locator("#staff-alert button").first.click()
        banner.wait_for(state="hidden", timeout=WAIT_MS)
        kp.page.locator("#start").wait_for(state="visible", timeout=WAIT_MS)  # wiped, ready for the next person
        assert kp.state()["level"] is None
        assert len(kiosk.alert_files()) == 1
    finally:
        staff_ctx.close()
        kiosk.stop()


def test_a_double_tap_while_the_kiosk_is_busy_answers_one_question_only(
    kiosk: KioskProcess, context: Any, locale: Locale
) -> None:
    kp = KioskPage(context.new_page(), kiosk, locale, "click")
    first = kp.start()
    no = kp.page.locator('#answers [data-answer="no"]').first
    no.wait_for(state="visible", timeout=WAIT_MS)
    refused: list[int] = []
    kp.page.on("response", lambda r: refused.append(r.status) if "/api/input" in r.url and r.status == 409 else None)
    os.kill(kiosk.pid, signal.SIGSTOP)  # busy: both taps leave the page before any reply can come back
    try:
        no.dblclick()
    finally:
        os.kill(kiosk.pid, signal.SIGCONT)
    second = kp.wait_change(first)
    deadline = time.monotonic() + 15
    while not refused and time.monotonic() < deadline:
        kp.page.wait_for_timeout(50)
    assert refused == [409], "the second tap named a screen no longer shown"
    assert kp.question(second).id != kp.question(first).id
    kp.activate('#commands [data-command="stop"]')
    request = urllib.request.Request(
        kiosk.url + "/api/staff/sessions", headers={"Authorization": "Bearer " + kiosk.token}
    )
    deadline = time.monotonic() + 15
    while True:
        with urllib.request.urlopen(request, timeout=10) as response:
            sessions = json.loads(response.read())["sessions"]
        if sessions or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [record] = sessions
    assert len(record["answers"]) == 1, record["answers"]


def test_staff_pages_refuse_requests_without_the_token(kiosk: KioskProcess) -> None:
    for path in ("/staff", "/api/staff/sessions"):
        request = urllib.request.Request(kiosk.url + path)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 401, path
        request = urllib.request.Request(kiosk.url + path, headers={"Authorization": "Bearer " + "x" * 32})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code == 401, f"{path} with a wrong token"
    request = urllib.request.Request(
        kiosk.url + "/api/staff/sessions", headers={"Authorization": "Bearer " + kiosk.token}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_kiosk_page_accessibility(kiosk: KioskProcess, context: Any, locale: Locale) -> None:
    """axe-core at WCAG 2.2 AA and 44 px targets: idle, every kind of question, high contrast, largest text, result."""
    kp = KioskPage(context.new_page(), kiosk, locale, "click")
    problems: dict[str, list[str]] = {}

    def audit(where: str) -> None:
        found = [*axe_violations(kp.page), *small_targets(kp.page)]
        if found:
            problems[where] = found

    kp.page.goto(kiosk.url + "/")
    kp.page.locator("#start").wait_for(state="visible")
    audit("idle")
    audited: set[AnswerType] = set()

    units_audited: list[str] = []

    def on_question(question: Question) -> None:
        if not units_audited and kp.page.locator("#units button").count():
            units_audited.append(question.id)  # the duration keypad with its unit buttons
            audit(f"question {question.id} (number with units)")
        if question.type in audited:
            return
        audited.add(question.type)
        audit(f"question {question.id} ({question.type.value})")
        if question.type is AnswerType.YES_NO:
            # the same screen in high contrast, then with the largest text
            kp.page.locator('[data-setting="contrast"]').click()
            kp.page.wait_for_function("() => document.body.classList.contains('high-contrast')")
            audit(f"question {question.id}, high contrast")
            for size in range(1, TEXT_SIZES):  # up to the largest text
                kp.page.locator('[data-setting="text_larger"]').click()
                kp.page.wait_for_function(f"() => document.documentElement.dataset.textSize === '{size}'")
            audit(f"question {question.id}, high contrast, largest text")

    # p013 is asked yes/no questions, a pain score and numbers.  The shipped flow never
    # reaches its last question (side: left/right/both) in practice: it changes no level
    # and comes after max_questions; its buttons are drawn like the yes/no ones.
    p013 = next(v for v in load_vignettes(PUBLIC_VIGNETTES, locale.content) if v.id == "p013")
    state = kp.run(p013.facts, on_question)
    assert state["level"]
    audit(f"result ({state['level']}), high contrast, large text")
    kinds = {AnswerType.YES_NO, AnswerType.SCALE_0_10, AnswerType.NUMBER}
    assert kinds <= audited, f"the session did not show every kind of question: {audited}"
    assert units_audited, "the session never showed the duration units"
    assert not problems, json.dumps(problems, indent=2)

    # the next person starts with the default contrast and text size (Section 508, 402.3.2)
    kp.page.locator('[data-command="stop"]').click()
    kp.page.locator("#start").wait_for(state="visible")
    kp.page.wait_for_function("() => !document.body.classList.contains('high-contrast')")
    assert kp.page.evaluate("() => document.documentElement.dataset.textSize") == "0"


def test_korean_kiosk_screen_has_real_hangul_glyphs(tmp_path: Path, context: Any) -> None:
    """The Korean screen draws Hangul with a font that has it, not the same empty box for every syllable."""
    _need_browser()
    kiosk = KioskProcess.start(tmp_path / "kiosk", locale="ko")
    try:
        page = context.new_page()
        page.goto(kiosk.url + "/")
        page.locator("#start").click()
        question = page.locator("#question")
        question.wait_for(state="visible")
        assert page.evaluate("() => document.documentElement.lang") == "ko"
        distinct = page.evaluate(
            """() => {
              const q = document.querySelector('#question');
              const chars = Array.from(new Set(q.textContent.match(/[\uac00-\ud7a3]/g) || [])).slice(0, 6);
              const canvas = document.createElement('canvas');
              canvas.width = canvas.height = 80;
              const g = canvas.getContext('2d');
              const style = getComputedStyle(q);
              const draw = ch => {
                g.clearRect(0, 0, 80, 80);
                g.font = `${style.fontWeight} 60px ${style.fontFamily}`;
                g.fillText(ch, 5, 65);
                return g.getImageData(0, 0, 80, 80).data.join(',');
              };
              return {chars, images: new Set(chars.map(draw)).size};
            }"""
        )
        assert len(distinct["chars"]) >= 4, distinct
        # missing glyphs all render as the same box: fonts-noto-cjk (./dev installs it) draws each one
        assert distinct["images"] == len(distinct["chars"]), f"Hangul drawn as identical boxes: {distinct}"
        violations = axe_violations(page)
        assert not violations, violations
        # the staff page speaks the kiosk's locale too
        staff = context.new_page()
        staff_login(staff, kiosk)
        assert staff.evaluate("() => document.documentElement.lang") == "ko"
        assert staff.locator("h1").inner_text().startswith("전달 기록")
        assert staff.locator("#logout").inner_text() == "로그아웃"
        violations = axe_violations(staff)
        assert not violations, violations
    finally:
        kiosk.stop()


def test_staff_page_accessibility(kiosk: KioskProcess, context: Any, locale: Locale) -> None:
    """axe-core at WCAG 2.2 AA and 44 px targets: the login form, and the list with an emergency on it."""
    staff = context.new_page()
    staff.goto(kiosk.url + "/staff")
    staff.locator("input[type=password]").first.wait_for(state="visible")
    problems: dict[str, list[str]] = {}
    found = [*axe_violations(staff), *small_targets(staff)]
    if found:
        problems["login"] = found
    staff_login(staff, kiosk)

    kp = KioskPage(context.new_page(), kiosk, locale, "click")
    kp.run({"stroke_signs": "yes"})
    # the kiosk's emergency result (banner, warning signs), in high contrast at the largest text
    kp.page.locator('[data-setting="contrast"]').click()
    kp.page.wait_for_function("() => document.body.classList.contains('high-contrast')")
    for size in range(1, TEXT_SIZES):
        kp.page.locator('[data-setting="text_larger"]').click()
        kp.page.wait_for_function(f"() => document.documentElement.dataset.textSize === '{size}'")
    found = [*axe_violations(kp.page), *small_targets(kp.page)]
    if found:
        problems["kiosk emergency result, high contrast, largest text"] = found
    # the staff page polls; when the session count changes it reloads with the new record
    staff.locator('#sessions[data-count="1"]').wait_for(state="attached")
    staff.wait_for_load_state("load")
    staff.locator("#staff-alert").wait_for(state="visible")
    found = [*axe_violations(staff), *small_targets(staff)]
    if found:
        problems["sessions with an emergency"] = found
    assert not problems, json.dumps(problems, indent=2)


# What the result screen shows, block by block, and the caption box under it.
RESULT_JS = """
() => {
  const text = el => el ? el.textContent.replace(/\\s+/g, ' ').trim() : null;
  const shown = el => el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const banner = document.querySelector('#level-banner');
  const blocks = Array.from(document.querySelectorAll('body h1, body h2, body h3, body p, body li, body td, body th'))
    .filter(shown).map(text).filter(t => t);
  return {
    banner: shown(banner) ? {cls: banner.className, bg: getComputedStyle(banner).backgroundColor,
                             icon: text(banner.querySelector('.icon')), title: text(banner.querySelector('h1')),
                             now: text(banner.querySelector('#result-now'))} : null,
    causes: Array.from(document.querySelectorAll('#causes li')).filter(shown).map(li => ({
      name: text(li.querySelector('.cause-name')), explain: text(li.querySelector('.cause-explain')),
      because: text(li.querySelector('.because'))})),
    warnings: shown(document.querySelector('#warnings'))
      ? Array.from(document.querySelectorAll('#warnings li')).map(text) : null,
    warningsBorder: shown(document.querySelector('#warnings'))
      ? getComputedStyle(document.querySelector('#warnings')).borderLeftWidth : null,
    disclaimer: shown(document.querySelector('#disclaimer')) ? text(document.querySelector('#disclaimer')) : null,
    captionSentences: document.querySelectorAll('#caption .sentence').length,
    caption: text(document.querySelector('#caption')),
    blocks,
  };
}
"""

# The slip as printed: every visible line of the print view, and everything else the print view shows.
PRINT_JS = """
() => {
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const slip = document.querySelector('#slip');
  const lines = Array.from(slip.querySelectorAll('h2, h3, p, tr')).filter(shown)
    .map(el => Array.from(el.children.length && el.tagName === 'TR' ? el.children : [el])
      .map(c => c.textContent.replace(/\\s+/g, ' ').trim()).join(' | '));
  const others = Array.from(document.body.children).filter(el => el !== slip && shown(el)).map(el => el.id);
  const attrs = Array.from(slip.querySelectorAll('*')).flatMap(el => Array.from(el.attributes).map(a => a.name))
    .filter(name => !['id', 'class', 'scope'].includes(name));
  return {lines, others, attrs, text: slip.innerText.trim(), visible: shown(slip)};
}
"""


def _staff_sessions(kiosk: KioskProcess, count: int = 1) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        kiosk.url + "/api/staff/sessions", headers={"Authorization": "Bearer " + kiosk.token}
    )
    deadline = time.monotonic() + 15
    while True:
        with urllib.request.urlopen(request, timeout=10) as response:
            sessions: list[dict[str, Any]] = json.loads(response.read())["sessions"]
        if len(sessions) >= count or time.monotonic() > deadline:
            return sessions
        time.sleep(0.1)


def test_progress_duration_units_result_screen_and_slip(
    kiosk: KioskProcess, context: Any, locale: Locale, vignettes: dict[str, Vignette]
) -> None:
    """One session by touch: "Question N, about M more" (never fewer than the safety questions open),
    a duration entered as 3 weeks (21 days in the record), the result screen's parts with no text
    twice, and the printed slip: the level, the answers, the time and the kiosk, nothing else; empty
    once wiped."""
    from voice_triage.core.choice import candidates
    from voice_triage.core.relevance import matters_for_level

    content = locale.content
    kp = KioskPage(context.new_page(), kiosk, locale, "click")
    facts = dict(vignettes["p010"].facts)  # routine; asks how long it has gone on
    answers: dict[str, Value] = {}
    seen_progress: list[tuple[int, int, int]] = []
    durations: list[str] = []

    def on_question(question: Question) -> None:
        shown = kp.page.locator("#progress").inner_text()
        match = re.search(r"Question (\d+): (?:about (\d+) more to go|this may be the last one)", shown)
        assert match, f"no progress line on {question.id}: {shown!r}"
        n, left = int(match.group(1)), int(match.group(2) or 0)
        assert n == len(answers) + 1, f"{question.id} is question {len(answers) + 1}, shown as {n}"
        # the safety questions that can still change the level, other than this one
        safety = [
            q.id
            for q in candidates(content, answers)
            if q.safety and q.id != question.id and matters_for_level(content, answers, q.id)
        ]
        assert left >= len(safety), f"{question.id}: {left} more promised, {len(safety)} safety questions open"
        seen_progress.append((n, left, len(safety)))
        if question.id == "duration_days":
            units = kp.page.locator("#units button")
            labels = [units.nth(i).locator(".label").inner_text() for i in range(units.count())]
            assert labels == ["Days", "Weeks", "Months", "Years"], labels
            assert kp.page.locator('#units [data-unit="days"]').get_attribute("aria-pressed") == "true"
            kp.page.locator('[data-digit="3"]').click()
            kp.page.keyboard.press("w")  # the Weeks key
            kp.page.wait_for_function(
                "() => document.querySelector('[data-unit=weeks]').getAttribute('aria-pressed') === 'true'"
            )
            assert _norm(kp.page.locator("#number-entry").inner_text()) == "your number: 3 weeks"
            durations.append("3 weeks")
            facts[question.id] = 21  # what the kiosk must keep; the answer below presses OK only
        elif question.type is AnswerType.NUMBER:
            assert kp.page.locator("#units button").count() == 0, f"{question.id} (age) keeps years"
        answers[question.id] = facts.get(question.id, UNKNOWN)

    def answer(question: Question, value: Value) -> None:
        if question.id == "duration_days":
            kp.activate("#number-ok")
        else:
            KioskPage.answer(kp, question, value)

    kp.answer = answer  # type: ignore[method-assign]
    state = kp.run(facts, on_question)
    assert durations == ["3 weeks"], "the session never asked how long"
    assert seen_progress and seen_progress[0][0] == 1
    level = state["level"]
    assert level
    [record] = _staff_sessions(kiosk)
    words = {a["question"]: a["answer"] for a in record["answers"]}
    assert words[content.question("duration_days").text] == "21 days", record["answers"]

    # the result: banner (colour, icon, name, one sentence), causes, warnings, disclaimer
    messages = content.messages
    shown = kp.page.evaluate(RESULT_JS)
    banner = shown["banner"]
    assert banner and f"level-{level}" in banner["cls"], shown
    assert banner["bg"] not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), banner
    assert banner["icon"], banner
    assert banner["title"] == messages.level_names[level] and banner["now"] == messages.level_now[level]
    assert 1 <= len(shown["causes"]) <= 3, shown["causes"]
    names = {c.name: c.explain for c in content.causes}
    for cause in shown["causes"]:
        assert names.get(cause["name"]) == cause["explain"], cause
    assert any(c["because"] and c["because"].startswith("Because you said") for c in shown["causes"]), shown
    assert shown["warnings"] == list(messages.precautions), shown["warnings"]
    assert float(shown["warningsBorder"].removesuffix("px")) >= 8, "the warnings box stands out"
    assert shown["disclaimer"] == messages.say("disclaimer")
    # nothing on screen twice: the caption box holds only the sentence being said
    assert shown["captionSentences"] <= 1, shown["caption"]
    repeated = sorted({b for b in shown["blocks"] if shown["blocks"].count(b) > 1})
    assert not repeated, f"shown twice: {repeated}"
    assert not any(_norm(b) in _norm(shown["caption"] or "") for b in shown["blocks"] if b != shown["caption"]), shown

    violations = axe_violations(kp.page)
    assert not violations, violations

    # the print view: the slip only, and only what a slip may carry
    kp.page.emulate_media(media="print")
    printed = kp.page.evaluate(PRINT_JS)
    assert printed["visible"] and printed["others"] == [], printed
    stamp = re.fullmatch(r"Time: (\d{4}-\d\d-\d\d \d\d:\d\d)", printed["lines"][2] if len(printed["lines"]) > 2 else "")
    assert stamp, printed["lines"]
    finished = datetime.fromisoformat(record["finished_at"]).astimezone()
    slip_time = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=finished.tzinfo)
    assert abs(slip_time - finished.replace(second=0, microsecond=0)) <= timedelta(minutes=1)
    expected = [
        "Hand-off slip",
        f"Kiosk: {KIOSK_NAME}",
        printed["lines"][2],
        f"Advice: {messages.level_names[level]}. {messages.level_now[level]}",
        "Your answers",
        "Question | Answer",
        *(f"{a['question']} | {a['answer']}" for a in record["answers"]),
        messages.say("disclaimer"),
    ]
    assert printed["lines"] == expected, "the slip holds something else (an identifier?)"
    assert printed["attrs"] == [], f"attributes on the slip: {printed['attrs']}"
    kp.page.emulate_media(media="screen")

    # wiped with the session: nothing left to print
    kp.activate('#commands [data-command="stop"]')
    kp.page.locator("#start").wait_for(state="visible")
    kp.page.emulate_media(media="print")
    printed = kp.page.evaluate(PRINT_JS)
    assert printed["text"] == "" and printed["lines"] == [], printed
    kp.page.emulate_media(media="screen")
