"""The README's pictures can be made again: bench/screenshots.py's touch pictures in real Chromium (the voice
pictures are taken by the voice test itself), and README.md shows exactly the pictures the script makes."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pytest

from bench import screenshots
from tests.test_kiosk_browser import _need_browser, axe_violations, small_targets

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 300_000


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def test_the_readme_shows_the_pictures_the_script_makes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(docs/screenshots/([\w-]+)\.png\)", readme))
    made = set(screenshots.TOUCH + screenshots.VOICE)
    assert shown == made, f"README shows {sorted(shown)}; the script makes {sorted(made)}"
    for name in made:
        committed = ROOT / "docs" / "screenshots" / f"{name}.png"
        assert committed.is_file(), f"{committed} is missing: run python -m bench.screenshots"
        assert png_size(committed) == (screenshots.VIEWPORT["width"], screenshots.VIEWPORT["height"])
        assert committed.stat().st_size < MAX_BYTES, f"{committed} is large"


def test_the_script_makes_the_touch_pictures_and_each_result_passes_axe(tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "shots"
    with sync_playwright() as pw:
        browser: Any = pw.chromium.launch(
            executable_path=screenshots.CHROMIUM, headless=True, args=screenshots.CHROMIUM_ARGS
        )
        try:
            problems: dict[str, list[str]] = {}

            audited: list[str] = []

            def audit(page: Any, name: str) -> None:
                audited.append(name)
                found = [*axe_violations(page), *small_targets(page)]
                if found:
                    problems[name] = found

            shots = screenshots.touch_pictures(browser, out, tmp_path, audit)
        finally:
            browser.close()
    assert len(audited) == len(screenshots.LEVELS), audited
    assert not problems, problems  # axe-core, WCAG 2.2 AA: a result at each level
    assert [p.stem for p in shots] == list(screenshots.TOUCH)
    for path in shots:
        assert png_size(path) == (screenshots.VIEWPORT["width"], screenshots.VIEWPORT["height"])
        assert 5_000 < path.stat().st_size < MAX_BYTES, path
