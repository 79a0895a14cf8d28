"""FHIR export, validated with the ``fhir.resources`` R4B models (Questionnaire/Response are as in R4)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B import __fhir_version__ as R4B_VERSION
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from voice_triage.core import fhir
from voice_triage.core.contract import Value
from voice_triage.core.dialogue import Command, Dialogue, Heard
from voice_triage.core.locale import Locale, load_locale
from voice_triage.core.summary import Summary, summarize
from voice_triage.kiosk.records import RecordStore

NOW = datetime(2025, 3, 14, 15, 0, 7, 250000, tzinfo=UTC)
# QuestionnaireResponse.status in R4 (fhir.resources does not check code bindings).
R4_RESPONSE_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
# A calm patient; everything not listed is "no".
CALM = {
    "fever_chills": "i don't know",
    "pain_score": "two",
    "front_hip_groin_pain": "yes",
    "pain_on_stairs": "yes",
    "overuse_or_strain": "yes",
    "duration_days": "two weeks",
}


def run(locale: Locale, script: Mapping[str, str], default: str = "no") -> Dialogue:
    """A whole session answered by voice (``Heard`` events), to the end."""
    dialogue = Dialogue(locale.content, locale.grammar)
    dialogue.start()
    for _ in range(100):
        if dialogue.finished:
            return dialogue
        assert dialogue.current is not None
        dialogue.handle(Heard(script.get(dialogue.current.id, default)))
    raise AssertionError("the session never finished")


def validate(resource: dict[str, Any]) -> None:
    """Fail on anything the R4B models reject, or that JSON cannot carry."""
    again = json.loads(json.dumps(resource))
    model = {"Questionnaire": Questionnaire, "QuestionnaireResponse": QuestionnaireResponse}[again["resourceType"]]
    model.model_validate(again)
    for extension in extensions(again):  # ext-1: a value or nested extensions, never both
        values = [key for key in extension if key.startswith("value")]
        assert extension.get("url"), extension
        assert (len(values) == 1) != bool(extension.get("extension")), extension


def extensions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield from node.get("extension", [])
        for value in node.values():
            yield from extensions(value)
    elif isinstance(node, list):
        for value in node:
            yield from extensions(value)


def triage_result(response: dict[str, Any]) -> dict[str, list[Any]]:
    (result,) = [e for e in response["extension"] if e["url"] == fhir.TRIAGE_RESULT_URL]
    parts: dict[str, list[Any]] = {}
    for part in result["extension"]:
        value = next((v for k, v in part.items() if k.startswith("value")), part.get("extension"))
        parts.setdefault(part["url"], []).append(value)
    return parts


def answers(response: dict[str, Any]) -> dict[str, Any]:
    return {item["linkId"]: item.get("answer", [None])[0] for item in response.get("item", [])}


def test_the_validator_is_r4b_and_rejects_bad_resources() -> None:
    assert R4B_VERSION.startswith("4.3")
    with pytest.raises(ValidationError):
        validate({"resourceType": "QuestionnaireResponse", "status": "completed", "item": [{"text": "no linkId"}]})
    with pytest.raises(ValidationError):
        validate(
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "item": [{"linkId": "a", "answer": [{"valueInteger": "six"}]}],
            }
        )
    with pytest.raises(ValidationError):
        validate({"resourceType": "Questionnaire", "status": "active", "item": [{"linkId": "a"}]})  # no type


def test_questionnaire_is_the_flow(locale: Locale) -> None:
    content = locale.content
    resource = fhir.questionnaire(content)
    validate(resource)
    assert resource["status"] == "active" and resource["language"] == "en"
    assert resource["url"] == fhir.questionnaire_url(content)
    items = resource["item"]
    assert [item["linkId"] for item in items] == [q.id for q in content.questions]
    assert [item["text"] for item in items] == [q.text for q in content.questions]
    by_id = {item["linkId"]: item for item in items}
    codes = [o["valueCoding"]["code"] for o in by_id["saddle_numbness"]["answerOption"]]
    assert by_id["saddle_numbness"]["type"] == "choice" and codes == ["yes", "no", "unknown"]
    displays = [o["valueCoding"]["display"] for o in by_id["saddle_numbness"]["answerOption"]]
    assert displays == ["yes", "no", "I don't know"]
    side = [o["valueCoding"]["code"] for o in by_id["side"]["answerOption"]]
    assert by_id["side"]["type"] == "choice" and side == ["left", "right", "both", "unknown"]
    assert by_id["pain_score"]["type"] == "integer"
    assert [e["valueInteger"] for e in by_id["pain_score"]["extension"]] == [0, 10]
    assert by_id["duration_days"]["type"] == "decimal" and by_id["age"]["type"] == "decimal"
    assert by_id["duration_days"]["extension"][0]["valueCoding"]["code"] == "d"
    assert by_id["age"]["extension"][0]["valueCoding"]["code"] == "a"
    assert "not a diagnosis" in resource["description"]


def test_a_spoken_session_exports_a_valid_response(locale: Locale) -> None:
    content = locale.content
    dialogue = run(locale, CALM)
    assert dialogue.outcome == "finished" and dialogue.result is not None
    summary = summarize(dialogue, content, "Clinic lobby", NOW)
    response = fhir.questionnaire_response(summary, content)
    validate(response)

    assert response["status"] == "completed"
    assert response["status"] in R4_RESPONSE_STATUS
    assert response["questionnaire"] == fhir.questionnaire(content)["url"]
    assert response["authored"] == "2025-03-14T15:00:07.250000+00:00"
    assert response["author"] == {"type": "Device", "display": "Clinic lobby"}
    flow_ids = [item["linkId"] for item in fhir.questionnaire(content)["item"]]
    linked = [item["linkId"] for item in response["item"]]
    assert linked == list(dialogue.answers) and set(linked) <= set(flow_ids)
    assert [item["text"] for item in response["item"]] == [content.question(i).text for i in linked]

    given = answers(response)
    assert given["bladder_bowel_control_loss"] == {
        "valueCoding": {"system": fhir.ANSWER_SYSTEM, "code": "no", "display": "no"}
    }
    assert given["fever_chills"]["valueCoding"]["code"] == "unknown"
    assert given["fever_chills"]["valueCoding"]["display"] == "I don't know"
    assert given["pain_score"] == {"valueInteger": 2}
    assert given["duration_days"] == {"valueDecimal": 14}

    result = triage_result(response)
    assert result["level"][0]["code"] == dialogue.result.level
    assert result["level"][0]["display"] == content.messages.level_names[dialogue.result.level]
    assert result["outcome"] == ["finished"]
    assert "redFlag" not in result
    causes = [{part["url"]: next(v for k, v in part.items() if k != "url") for part in c} for c in result["cause"]]
    assert [c["id"] for c in causes] == list(dialogue.result.top(3))
    assert [c["name"] for c in causes] == [c.name for c in summary.causes]
    assert "not a diagnosis" in result["notice"][0]


def test_an_emergency_session_carries_level_emergency(locale: Locale) -> None:
    dialogue = run(locale, {"saddle_numbness": "yes"})
    assert dialogue.outcome == "emergency"
    summary = summarize(dialogue, locale.content, "Kiosk 2", NOW)
    response = fhir.questionnaire_response(summary, locale.content)
    validate(response)
    result = triage_result(response)
    assert result["level"][0]["code"] == "emergency"
    assert result["outcome"] == ["emergency"]
    assert result["redFlag"] == ["saddle_numbness"]
    assert response["status"] == "completed"
    assert [item["linkId"] for item in response["item"]] == ["bladder_bowel_control_loss", "saddle_numbness"]
    assert answers(response)["saddle_numbness"]["valueCoding"]["code"] == "yes"


def test_a_stopped_session_is_status_stopped(locale: Locale) -> None:
    dialogue = Dialogue(locale.content, locale.grammar)
    dialogue.start()
    dialogue.handle(Heard("no"))
    dialogue.handle(Command("stop"))
    response = fhir.questionnaire_response(summarize(dialogue, locale.content, "k", NOW), locale.content)
    validate(response)
    assert response["status"] == "stopped" and response["status"] in R4_RESPONSE_STATUS
    assert triage_result(response)["outcome"] == ["stopped"]

    dialogue.start()
    dialogue.handle(Command("stop"))  # nothing answered: no items at all
    empty = fhir.questionnaire_response(summarize(dialogue, locale.content, "k", NOW), locale.content)
    validate(empty)
    assert "item" not in empty


def test_every_answer_type_and_i_dont_know(locale: Locale) -> None:
    content = locale.content
    dialogue = Dialogue(content, locale.grammar)
    given: dict[str, Value] = {
        "bladder_bowel_control_loss": "no",
        "pain_score": "unknown",
        "duration_days": 0.5,
        "age": "unknown",
        "side": "both",
    }
    dialogue.answers.update(given)
    summary = summarize(dialogue, content, "k", NOW)
    assert [a.words for a in summary.answers] == ["no", "I don't know", "0.5 days", "I don't know", "both"]
    response = fhir.questionnaire_response(summary, content)
    validate(response)
    items = {item["linkId"]: item for item in response["item"]}
    for unknown in ("pain_score", "age"):
        assert "answer" not in items[unknown]
        assert items[unknown]["extension"] == [{"url": fhir.DATA_ABSENT_URL, "valueCode": "asked-unknown"}]
    assert items["duration_days"]["answer"] == [{"valueDecimal": 0.5}]
    assert items["side"]["answer"][0]["valueCoding"]["code"] == "both"


def test_a_stored_record_exports_with_its_id(locale: Locale) -> None:
    dialogue = run(locale, CALM)
    with RecordStore(clock=lambda: NOW) as store:
        record_id = store.add(summarize(dialogue, locale.content, "k", NOW))
        stored = store.get(record_id)
    assert isinstance(stored, Summary)
    response = fhir.questionnaire_response(stored, locale.content)
    validate(response)
    assert response["id"] == f"voice-triage-{record_id}"
    assert answers(response)["duration_days"] == {"valueDecimal": 14}


def test_content_of_another_locale_is_refused(locale: Locale) -> None:
    summary = summarize(run(locale, CALM), locale.content, "k", NOW)
    with pytest.raises(ValueError):
        fhir.questionnaire_response(replace(summary, locale="ko"), locale.content)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_export_fhir_command_writes_a_valid_questionnaire(lang: str, tmp_path: Any) -> None:
    import subprocess
    import sys

    target = tmp_path / "q.json"
    done = subprocess.run(
        [sys.executable, "-m", "voice_triage", "export-fhir", "--lang", lang, "--out", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    resource = json.loads(target.read_text(encoding="utf-8"))
    validate(resource)
    assert resource["language"] == lang
    assert [item["linkId"] for item in resource["item"]] == [q.id for q in load_locale(lang).content.questions]
    to_stdout = subprocess.run(
        [sys.executable, "-m", "voice_triage", "export-fhir", "--lang", lang],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(to_stdout.stdout) == resource


def test_export_fhir_to_an_unwritable_place_says_so(tmp_path: Any) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "voice_triage", "export-fhir", "--out", str(tmp_path / "missing" / "q.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "cannot write the Questionnaire" in done.stderr
    assert "Traceback" not in done.stderr
