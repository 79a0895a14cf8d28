"""A whole kiosk process, logging at its most verbose, never logs an answer.

The kiosk runs as `voice-triage -v kiosk` (INFO logs); a session is answered
over HTTP, as the page does, with values that cannot turn up in a log by
chance as a word of their own (a pain score of 3, a duration of 37 days).
Neither its stdout nor its stderr may hold them, nor a read-back sentence.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from bench.kiosk_process import KioskProcess
from voice_triage.core.locale import load_locale

ANSWERS = {"scale_0_10": 3, "number": 37, "side": "left", "yes_no": "no"}


def call(url: str, data: Any = None) -> Any:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def test_a_verbose_kiosk_logs_no_answer(tmp_path: Path) -> None:
    content = load_locale("en").content
    kiosk = KioskProcess.start(tmp_path / "kiosk", global_args=("-v",))
    answered: list[Any] = []
    try:
        call(kiosk.url + "/api/input", {"start": True})
        for _ in range(60):
            state = call(kiosk.url + "/api/state")
            if state["screen"] != "question":
                break
            kind = state["question"]["type"]
            answer = ANSWERS[kind]
            call(kiosk.url + "/api/input", {"answer": answer, "step": state["step"]})
            answered.append(answer)
        assert state["screen"] == "result", state
    finally:
        assert kiosk.stop() == 0, kiosk.log()
    log = kiosk.log()
    assert 3 in answered and 37 in answered, "the session asked for a pain score and a number"
    assert "INFO session 1 started" in log, "verbose logging was on: " + log[-2000:]
    for value in (3, 37):
        assert not re.search(rf"(?<![\w.:]){value}(?![\w.:])", log), f"{value} in the log:\n{log}"
    for sentence in (content.messages.text["confirm"].split("{")[0], "37 days"):
        assert sentence not in log
