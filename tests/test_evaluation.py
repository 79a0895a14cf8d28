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
DEV = REPO / "clinical" / "vignettes-dev.yaml"
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


# ------------------------------------------------------------ issue 10: the public and development vignettes (64)


@pytest.fixture(scope="module")
def both(locale: Locale) -> dict[str, Any]:
    vignettes = load_vignettes(PUBLIC, locale.content) + load_vignettes(DEV, locale.content)
    assert len(vignettes) == 64
    return evaluate(locale.content, locale.grammar, vignettes)


def test_64_no_emergency_under_triaged_and_no_level_more_than_one_step_under(
    both: dict[str, Any], locale: Locale
) -> None:
    urgency = locale.content.contract.urgency
    assert both["summary"]["emergency_under_triaged"] == 0
    far = [r["id"] for r in both["results"] if r["expected"] and urgency(r["expected"]) - urgency(r["level"]) > 1]
    assert far == []


def test_64_level_acceptable_for_at_least_62(both: dict[str, Any]) -> None:
    wrong = [(r["id"], r["level"], r["expected"]) for r in both["results"] if not r["level_ok"]]
    assert 64 - len(wrong) >= 62, wrong


def test_64_a_right_cause_in_the_top_3_for_at_least_61(both: dict[str, Any]) -> None:
    wrong = [(r["id"], r["causes"]) for r in both["results"] if not r["cause_ok"]]
    assert 64 - len(wrong) >= 61, wrong


def test_64_every_emergency_shows_a_right_cause(both: dict[str, Any]) -> None:
    wrong = [(r["id"], r["causes"]) for r in both["results"] if r["expected"] == "emergency" and not r["cause_ok"]]
    assert wrong == []


@pytest.mark.xfail(
    strict=True,
    reason="missed: median 14 (issue 10 asks <= 9). 32 of the 64 are emergency or urgent, so the median is where "
    "urgent patients (7 red-flag questions, then only cause questions) meet routine ones (9 or 10 questions that "
    "can change the level: 7 red-flag, injury, fever, weight loss or duration, before any cause question); 9 would "
    "allow every urgent patient at most one cause question and a routine one at most one",
)
def test_64_median_questions_at_most_9(both: dict[str, Any]) -> None:
    asked = [r["questions_asked"] for r in both["results"]]
    assert statistics.median(asked) <= 9, sorted(asked)


@pytest.mark.xfail(
    strict=True,
    reason="missed: max 15 (issue 10 asks <= 14). Home care is advised only after every question that could "
    "raise the level was asked: 14 when the first of 'sport or heavy use?' and 'much sitting?' is a yes, 15 when not",
)
def test_64_at_most_14_questions_for_any_vignette(both: dict[str, Any]) -> None:
    asked = [r["questions_asked"] for r in both["results"]]
    assert max(asked) <= 14, sorted(asked)


def test_64_never_more_than_15_questions(both: dict[str, Any]) -> None:
    """What holds today, so that it cannot grow unnoticed while the target above is missed."""
    asked = [r["questions_asked"] for r in both["results"]]
    assert max(asked) <= 15 and statistics.median(asked) <= 14, sorted(asked)


def test_contract_copy_matches_the_shared_contract() -> None:
    if not SHARED_FACTS.is_file():
        pytest.skip(f"the shared contract is not here: {SHARED_FACTS} is missing")
    assert CONTRACT.read_bytes() == SHARED_FACTS.read_bytes()


def test_public_vignettes_copy_matches_the_shared_file() -> None:
    if not SHARED_PUBLIC.is_file():
        pytest.skip(f"the shared vignettes are not here: {SHARED_PUBLIC} is missing")
    assert PUBLIC.read_bytes() == SHARED_PUBLIC.read_bytes()
