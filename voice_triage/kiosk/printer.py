"""The hand-off slip on a receipt printer: ``print_command`` with the slip as plain text on its stdin.

The command is a list of words run without a shell, on a daemon thread (the
kiosk never waits for a printer), with the staff token's variable removed from
its environment.  Only its outcome is logged, never the slip.  Without a
``print_command`` the kiosk page prints the slip through the browser (its
print stylesheet).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .alerts import run_quietly
from .config import DEFAULT_TOKEN_ENV

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0


def run(
    command: tuple[str, ...], text: str, hide_env: str = DEFAULT_TOKEN_ENV, timeout_s: float = TIMEOUT_S
) -> str | None:
    """Print one slip; None on success, else one sentence saying what went wrong."""
    return run_quietly("print command", command, text.encode("utf-8"), timeout_s, hide_env)


def print_in_background(
    command: tuple[str, ...],
    text: str,
    hide_env: str = DEFAULT_TOKEN_ENV,
    done: Callable[[str | None], None] | None = None,
) -> threading.Thread:
    def work() -> None:
        problem = run(command, text, hide_env)
        if problem:
            log.warning("%s", problem)
        else:
            log.info("hand-off slip printed")
        if done is not None:
            done(problem)

    thread = threading.Thread(target=work, name="kiosk-print", daemon=True)
    thread.start()
    return thread
