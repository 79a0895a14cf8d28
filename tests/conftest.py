"""Shared fixtures: the real English locale, and a breakable copy of its files."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from voice_triage.core.locale import Locale, load_locale
from voice_triage.core.paths import GRAMMAR, PROMPTS

ROOT = Path(__file__).resolve().parent.parent
PROMPTS_EN = PROMPTS / "en"
GRAMMAR_EN = GRAMMAR / "en"


@pytest.fixture(scope="session")
def locale() -> Locale:
    """The shipped English content and grammar (loaded and validated once)."""
    return load_locale("en")


@dataclass(frozen=True)
class LocaleCopy:
    """A copy of prompts/en and grammar/en under ``root`` (root/prompts/en, root/grammar/en)."""

    root: Path

    @property
    def prompts(self) -> Path:
        return self.root / "prompts" / "en"

    @property
    def grammar(self) -> Path:
        return self.root / "grammar" / "en"

    def file(self, name: str) -> Path:
        """A prompts file by name ("flow.yaml"), else a path relative to root."""
        path = self.prompts / name
        return path if path.exists() or "/" not in name else self.root / name

    def replace(self, name: str, old: str, new: str) -> int:
        """Replace the one occurrence of ``old`` in a prompts file; return the (1-based) line it started on."""
        path = self.file(name)
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
        line = text[: text.index(old)].count("\n") + 1
        path.write_text(text.replace(old, new), encoding="utf-8")
        return line

    def line_of(self, name: str, needle: str) -> int:
        """The 1-based line of the one occurrence of ``needle`` in a prompts file."""
        text = self.file(name).read_text(encoding="utf-8")
        assert text.count(needle) == 1, f"{needle!r} occurs {text.count(needle)} times in {name}"
        return text[: text.index(needle)].count("\n") + 1

    def path(self, name: str) -> str:
        return str(self.file(name))


def copy_locale(tmp_path: Path) -> LocaleCopy:
    """Copy prompts/en and grammar/en into tmp_path, so a test can break one file."""
    shutil.copytree(PROMPTS_EN, tmp_path / "prompts" / "en")
    shutil.copytree(GRAMMAR_EN, tmp_path / "grammar" / "en")
    return LocaleCopy(tmp_path)


@pytest.fixture
def locale_copy(tmp_path: Path) -> LocaleCopy:
    return copy_locale(tmp_path)
