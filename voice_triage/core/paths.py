"""Where the package's own data lives: the one place that knows the folder layout.

Everything the product reads at run time ships inside the package
(``voice_triage/data/``), so a plain ``pip install`` works as well as a
checkout: the question flow and messages (``prompts/<locale>/``), the answer
vocabularies (``grammar/<locale>/``), the clinical contract (``facts.yaml``)
and the speech-model manifest (``models.yaml``).

Downloaded speech models are not package data: they go to
``$VOICE_TRIAGE_MODELS_DIR``, else ``models/`` beside the package in a source
checkout, else the user's data folder (``$XDG_DATA_HOME/voice-triage/models``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
DATA = PACKAGE / "data"
PROMPTS = DATA / "prompts"
GRAMMAR = DATA / "grammar"
CONTRACT = DATA / "facts.yaml"
MODEL_MANIFEST = DATA / "models.yaml"
CHECKOUT = PACKAGE.parent if (PACKAGE.parent / "pyproject.toml").is_file() else None
MODELS_ENV = "VOICE_TRIAGE_MODELS_DIR"


def models_dir() -> Path:
    """The folder downloaded speech models are installed in and looked up from."""
    if os.environ.get(MODELS_ENV):
        return Path(os.environ[MODELS_ENV])
    if CHECKOUT is not None:
        return CHECKOUT / "models"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "voice-triage" / "models"
