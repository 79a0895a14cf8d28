"""HL7 FHIR R4 export: the flow as a Questionnaire, a session as a QuestionnaireResponse.

Plain JSON-ready dicts, built here without any FHIR library (the tests
validate them with ``fhir.resources``' R4B models; Questionnaire and
QuestionnaireResponse are the same in R4 and R4B).

- Each question is one item whose ``linkId`` is its fact id.  Yes/no and
  side questions are ``choice`` items whose options include "unknown", so
  "I don't know" is an ordinary answer.  Pain scores are ``integer`` items
  (0 to 10, with the ``minValue``/``maxValue`` extensions); durations and
  ages are ``decimal`` items with a UCUM unit (``questionnaire-unit``).  For
  those, "I don't know" is an item with no answer and the standard
  ``data-absent-reason`` extension ``asked-unknown``.
- The triage result (level, red flags, the three most likely causes, each
  with the answers that raised it most as ``because`` ("Because you said
  ..."), and the not-a-diagnosis notice) rides in one complex extension on the
  response, ``TRIAGE_RESULT_URL``.
- ``enableWhen`` is left out: the kiosk also skips questions that cannot
  change the result, which FHIR cannot express, so unanswered items are
  normal.
"""

from __future__ import annotations

from typing import Any

from .content import Content, Question
from .contract import UNKNOWN, AnswerType
from .dialogue import CHOICES
from .summary import Answer, Summary

# Not a resolvable server: names for this product's own code systems and extensions.
BASE = "https://voice-triage.invalid/fhir"
ANSWER_SYSTEM = f"{BASE}/CodeSystem/answer"
LEVEL_SYSTEM = f"{BASE}/CodeSystem/level"
TRIAGE_RESULT_URL = f"{BASE}/StructureDefinition/triage-result"

MIN_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
UNIT_URL = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
DATA_ABSENT_URL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UCUM = "http://unitsofmeasure.org"
UCUM_UNITS = {"days": ("d", "days"), "years": ("a", "years")}

# The kiosk's outcome -> QuestionnaireResponse.status (R4: in-progress | completed | amended |
# entered-in-error | stopped).  An emergency ends the interview early on purpose: completed.
STATUS = {"finished": "completed", "emergency": "completed", "stopped": "stopped"}

DJSON = dict[str, Any]


def questionnaire_id(content: Content) -> str:
    return f"voice-triage-{content.locale}"


def questionnaire_url(content: Content) -> str:
    return f"{BASE}/Questionnaire/{questionnaire_id(content)}"


def _coding(content: Content, code: str) -> DJSON:
    return {"system": ANSWER_SYSTEM, "code": code, "display": content.messages.answer_words.get(code, code)}


def _item(question: Question, content: Content) -> DJSON:
    item: DJSON = {"linkId": question.id, "text": question.text}
    if question.type in (AnswerType.YES_NO, AnswerType.SIDE):
        item["type"] = "choice"
        item["answerOption"] = [{"valueCoding": _coding(content, code)} for code in CHOICES[question.type]]
    elif question.type is AnswerType.SCALE_0_10:
        item["type"] = "integer"
        item["extension"] = [
            {"url": MIN_VALUE_URL, "valueInteger": 0},
            {"url": MAX_VALUE_URL, "valueInteger": 10},
        ]
    else:
        item["type"] = "decimal"
        code, display = UCUM_UNITS.get(question.unit, (question.unit, question.unit))
        item["extension"] = [{"url": UNIT_URL, "valueCoding": {"system": UCUM, "code": code, "display": display}}]
    return item


def questionnaire(content: Content) -> DJSON:
    """The question flow as a FHIR R4 Questionnaire (one item per question, in flow order)."""
    return {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(content),
        "url": questionnaire_url(content),
        "name": "VoiceTriageLegWeakness",
        "title": "Voice triage: trouble lifting a leg",
        "status": "active",
        "language": content.locale,
        "subjectType": ["Patient"],
        "description": (
            "The spoken questions of the voice triage kiosk. Questions that cannot change the result are "
            "skipped, so unanswered items are expected. " + content.messages.say("disclaimer")
        ),
        "item": [_item(question, content) for question in content.questions],
    }


def _answer_item(answer: Answer, content: Content) -> DJSON:
    question = content.question(answer.fact)
    item: DJSON = {"linkId": answer.fact, "text": question.text}
    value = answer.value
    if question.type in (AnswerType.YES_NO, AnswerType.SIDE):
        item["answer"] = [{"valueCoding": _coding(content, str(value))}]
    elif value == UNKNOWN or isinstance(value, str):
        item["extension"] = [{"url": DATA_ABSENT_URL, "valueCode": "asked-unknown"}]
    elif question.type is AnswerType.SCALE_0_10:
        item["answer"] = [{"valueInteger": int(value)}]
    else:
        item["answer"] = [{"valueDecimal": value}]
    return item


def _triage_extension(summary: Summary, content: Content) -> DJSON:
    messages = content.messages
    parts: list[DJSON] = [
        {
            "url": "level",
            "valueCoding": {
                "system": LEVEL_SYSTEM,
                "code": summary.level,
                "display": messages.level_names.get(summary.level, summary.level),
            },
        },
        {"url": "outcome", "valueCode": summary.outcome},
    ]
    parts.extend({"url": "redFlag", "valueCode": flag} for flag in summary.red_flags)
    for index, cause in enumerate(summary.causes):
        cause_parts: list[DJSON] = [
            {"url": "id", "valueCode": cause.id},
            {"url": "name", "valueString": cause.name},
            {"url": "score", "valueDecimal": cause.score},
        ]
        reason = summary.because[index] if index < len(summary.because) else ""
        if reason:
            cause_parts.append({"url": "because", "valueString": reason})
        parts.append({"url": "cause", "extension": cause_parts})
    parts.append({"url": "notice", "valueString": messages.say("disclaimer")})
    return {"url": TRIAGE_RESULT_URL, "extension": parts}


def questionnaire_response(summary: Summary, content: Content) -> DJSON:
    """A session as a FHIR R4 QuestionnaireResponse.

    Not a diagnosis: it records what the person answered at the kiosk and
    the urgency the kiosk advised (extension ``TRIAGE_RESULT_URL``: level,
    outcome, red flags, the most likely causes and the disclaimer), for a
    clinician to read.  The kiosk knows no patient, so there is no subject;
    the author is the kiosk (a Device, by name).
    """
    if summary.locale != content.locale:
        raise ValueError(f"a {summary.locale!r} summary needs the {summary.locale!r} content, not {content.locale!r}")
    resource: DJSON = {"resourceType": "QuestionnaireResponse"}
    if summary.id is not None:
        resource["id"] = f"voice-triage-{summary.id}"
    resource.update(
        {
            "language": summary.locale,
            "extension": [_triage_extension(summary, content)],
            "questionnaire": questionnaire_url(content),
            "status": STATUS[summary.outcome],
            "authored": summary.finished_at.isoformat(),
            "author": {"type": "Device", "display": summary.kiosk},
            "item": [_answer_item(answer, content) for answer in summary.answers],
        }
    )
    if not resource["item"]:
        del resource["item"]
    return resource
