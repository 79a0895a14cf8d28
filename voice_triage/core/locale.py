"""A locale: its content (question flow, rules, causes, messages) and its grammar, loaded together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .content import Content, load_content
from .contract import AnswerType, load_contract
from .grammar import Grammar, load_grammar
from .paths import GRAMMAR, PROMPTS
from .yamlload import ContentError, Problem

REFERENCE_LOCALE = "en"  # other locales translate its words and keep its logic


@dataclass(frozen=True)
class Locale:
    content: Content
    grammar: Grammar


def load_locale(lang: str, prompts_root: Path = PROMPTS, grammar_root: Path = GRAMMAR) -> Locale:
    """Load and validate a locale's grammar and content, reporting every problem."""
    problems: list[Problem] = []
    grammar: Grammar | None = None
    try:
        grammar = load_grammar(grammar_root / lang)
    except ContentError as exc:
        problems.extend(exc.problems)
    try:
        vocabularies = [t.value for t in AnswerType] if grammar is not None else None
        content = load_content(prompts_root / lang, load_contract(), vocabularies)
    except ContentError as exc:
        problems.extend(exc.problems)
    if problems or grammar is None:
        raise ContentError(problems)
    return Locale(content, grammar)
