"""Voice for the kiosk (placeholder)."""

from __future__ import annotations

import sys
from typing import Protocol

from .cli import Locale
from .kiosk import KioskController
from .kiosk_config import KioskConfig


class Voice(Protocol):
    def close(self) -> None: ...


def start_voice(controller: KioskController, config: KioskConfig, locale: Locale) -> Voice | None:
    print("Voice is not available in the kiosk yet: screen and touch only.", file=sys.stderr)
    return None
