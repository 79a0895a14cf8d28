"""The product's targets on the public vignettes, and the clinical contract copy."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest

from voice_triage.core.locale import Locale
from voice_triage.core.paths import CONTRACT
from voice_triage.core.simulate import evaluate, load_vignettes

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
# The repository's copy, so the targets are checked wherever the tests run;
# test_public_vignettes_copy_matches_the_shared_file keeps it honest.
PUBLIC = REPO / "clinical" / "vignettes-public.yaml"
SHARED_PUBLIC = SHARED / "clinical" / "vignettes-public.yaml"
SHARED_FACTS = SHARED / "clinical" / "facts.yaml"


@pytest.fixture(scope="module")
def report(locale: Locale) -> dict[str, Any]:
    vignettes = load_vignettes(PUBLIC, locale.content)
    assert len(vignettes) == 16
    return evaluate(locale.content, locale.grammar, vignettes)


def test_no_emergency_is_missed(report: dict[str, Any]) -> None:
    missed = [r["id"] for r in report["results"] if r["expected"] == "emergency" and r["level"] != "emergency"]
    assert missed == []
    assert report["summary"]["emergency_under_triaged"] == 0


def test_level_acceptable_for_15_of_16(report: dict[str, Any]) -> None:
    wrong = [(r["id"], r["level"], r["expected"]) for r in report["results"] if not r["level_ok"]]
    assert report["summary"]["vignettes"] == 16
    assert 16 - len(wrong) >= 15, wrong


def test_a_listed_cause_in_the_top_3_for_14_of_16(report: dict[str, Any]) -> None:
    wrong = [(r["id"], r["causes"]) for r in report["results"] if not r["cause_ok"]]
    assert 16 - len(wrong) >= 14, wrong


def test_median_questions_at_most_14(report: dict[str, Any]) -> None:
    asked = [r["questions_asked"] for r in report["results"]]
    assert statistics.median(asked) <= 14, asked
    assert report["summary"]["median_questions"] == statistics.median(asked)


def test_summary_counts_match_the_results(report: dict[str, Any]) -> None:
    results, summary = report["results"], report["summary"]
    assert summary["level_ok"] == sum(r["level_ok"] for r in results)
    assert summary["cause_in_top3"] == sum(r["cause_ok"] for r in results)
    assert summary["under_triaged"] == sum(r["under_triaged"] for r in results)


def test_contract_copy_matches_the_shared_contract() -> None:
    if not SHARED_FACTS.is_file():
        pytest.skip(f"the shared contract is not here: {SHARED_FACTS} is missing")
    assert CONTRACT.read_bytes() == SHARED_FACTS.read_bytes()


def test_public_vignettes_copy_matches_the_shared_file() -> None:
    if not SHARED_PUBLIC.is_file():
        pytest.skip(f"the shared vignettes are not here: {SHARED_PUBLIC} is missing")
    assert PUBLIC.read_bytes() == SHARED_PUBLIC.read_bytes()
