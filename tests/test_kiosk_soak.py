"""Smoke test of the soak benchmark (bench/kiosk_soak.py): a few sessions through one real kiosk process.

The benchmark itself (500 sessions, resident memory) is run by hand and reports; this only shows
that it drives the kiosk over HTTP as the page does and checks what it claims to check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import kiosk_soak

pytestmark = pytest.mark.slow


def test_soak_runs_sessions_to_the_dialogues_level(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    # the first vignettes: four emergencies (acknowledged by staff) and an urgent one
    status = kiosk_soak.main(["--sessions", "6", "--out", str(out), "--max-growth-mb", "1000"])
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["failure_messages"] == []
    assert status == 0
    assert report["completed"] == report["sessions"] == 6
    assert report["levels"] == {"emergency": 4, "urgent": 2}
    assert report["alerts_written"] == report["emergencies_acknowledged"] == 4
    assert report["events_streamed"] > 6
    assert report["rss_end_mb"] > 0


def test_a_wrong_level_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = kiosk_soak.load_cases

    def wrong_levels() -> list[kiosk_soak.Case]:
        return [kiosk_soak.Case(c.id, c.facts, "self_care" if c.level != "self_care" else "urgent") for c in real()]

    monkeypatch.setattr(kiosk_soak, "load_cases", wrong_levels)
    report = kiosk_soak.soak(2, tmp_path / "kiosk")
    assert report["failures"] == 2
    assert "the dialogue gives self_care" in report["failure_messages"][0]
    assert report["kiosk_exit_status"] is not None
