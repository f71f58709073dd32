"""JSON Schema (draft 2020-12) validation of credential subjects: paths, reasons, no network."""

from __future__ import annotations

from typing import Any

import pytest

from govchain.credentials.errors import SchemaInvalid
from govchain.credentials.schema import DRAFT_2020_12, SubjectSchema, validate_subject

LICENCE = {
    "$schema": DRAFT_2020_12,
    "$id": "https://city.example/schemas/business-licence/1",
    "type": "object",
    "required": ["id", "name", "licenceNo", "address"],
    "properties": {
        "id": {"type": "string", "pattern": "^did:"},
        "name": {"type": "string", "minLength": 1},
        "licenceNo": {"type": "string", "pattern": "^[0-9]{8}$"},
        "staff": {"type": "integer", "minimum": 0},
        "founded": {"type": "string", "format": "date"},
        "inspectedAt": {"type": "string", "format": "date-time"},
        "address": {"$ref": "#/$defs/address"},
        "activities": {"type": "array", "items": {"enum": ["retail", "catering", "import"]}},
    },
    "additionalProperties": False,
    "$defs": {
        "address": {
            "type": "object",
            "required": ["street", "postcode"],
            "properties": {"street": {"type": "string"}, "postcode": {"type": "string"}},
        }
    },
}


def _subject() -> dict[str, Any]:
    return {
        "id": "did:govchain:city:acme",
        "name": "艾克米有限公司",
        "licenceNo": "91310000",
        "staff": 12,
        "founded": "2020-02-29",
        "inspectedAt": "2025-03-01T08:00:00+08:00",
        "address": {"street": "1 Century Avenue", "postcode": "200120"},
        "activities": ["retail", "import"],
    }


def _errors(subject: Any) -> SchemaInvalid:
    with pytest.raises(SchemaInvalid) as caught:
        validate_subject(subject, LICENCE)
    assert caught.value.code == "CRED_SCHEMA_INVALID"
    return caught.value


def test_a_valid_subject_passes() -> None:
    validate_subject(_subject(), LICENCE)
    SubjectSchema(LICENCE).validate(_subject())
    assert SubjectSchema(LICENCE).get_errors(_subject()) == []


@pytest.mark.parametrize(
    ("mutate", "path", "reason_part"),
    [
        (lambda s: s.pop("name"), "$", "'name' is a required property"),
        (lambda s: s.update(staff="twelve"), "$.staff", "type: 'integer'"),
        (lambda s: s.update(staff=-1), "$.staff", "minimum: 0"),
        (lambda s: s.update(licenceNo="ABC"), "$.licenceNo", "pattern"),
        (lambda s: s["address"].pop("postcode"), "$.address", "'postcode' is a required"),
        (lambda s: s["address"].update(postcode=200120), "$.address.postcode", "type: 'string'"),
        (lambda s: s.update(activities=["retail", "mining"]), "$.activities[1]", "enum"),
        (lambda s: s.update(extra="x"), "$", "Additional properties"),
        (lambda s: s.update(founded="2021-02-29"), "$.founded", "format: 'date'"),
        (lambda s: s.update(founded="20210228"), "$.founded", "format: 'date'"),
        (lambda s: s.update(inspectedAt="2025-03-01T08:00:00"), "$.inspectedAt", "date-time"),
    ],
)
def test_each_failure_names_its_path_and_rule(mutate: Any, path: str, reason_part: str) -> None:
    subject = _subject()
    mutate(subject)
    error = _errors(subject)
    assert error.details["path"] == path
    assert error.details["kind"] == "subject"
    assert reason_part in error.details["errors"][0]["reason"]
    assert error.message.startswith(f"credentialSubject {path}: ")


def test_reasons_do_not_quote_personal_values() -> None:
    subject = _subject()
    subject["staff"] = "王小明 secret"
    subject["licenceNo"] = "身份证 110101199003077777"
    error = _errors(subject)
    text = repr(error.details) + error.message
    assert "王小明" not in text and "110101199003077777" not in text


def test_all_failures_are_listed_in_path_order() -> None:
    subject = _subject()
    subject["staff"] = -1
    subject["address"]["postcode"] = 1
    del subject["name"]
    error = _errors(subject)
    paths = [e["path"] for e in error.details["errors"]]
    assert paths == ["$", "$.address.postcode", "$.staff"]
    assert "(and 2 more)" in error.message


def test_the_number_of_reported_errors_is_bounded() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    with pytest.raises(SchemaInvalid) as caught:
        SubjectSchema(schema).validate(list(range(100)))
    assert len(caught.value.details["errors"]) == 20


def test_each_subject_of_a_list_is_validated() -> None:
    bad = _subject()
    bad["staff"] = "many"
    with pytest.raises(SchemaInvalid) as caught:
        validate_subject([_subject(), bad], LICENCE)
    assert caught.value.message.startswith("credentialSubject[1] $.staff")
    validate_subject([_subject(), _subject()], LICENCE)


def test_a_non_object_subject_fails_cleanly() -> None:
    assert _errors("did:govchain:city:acme").details["path"] == "$"


@pytest.mark.parametrize(
    "schema",
    [
        {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"},
        {"type": "objekt"},
        {"properties": {"a": {"minimum": "zero"}}},
        ["not", "a", "schema"],
    ],
    ids=["draft-07", "bad-type", "bad-keyword-value", "not-object"],
)
def test_invalid_schemas_are_refused(schema: Any) -> None:
    with pytest.raises(SchemaInvalid) as caught:
        SubjectSchema(schema)
    assert caught.value.details["kind"] == "schema"


def test_remote_references_are_never_fetched() -> None:
    schema = {"$ref": "https://city.example/schemas/elsewhere.json"}
    compiled = SubjectSchema(schema)
    with pytest.raises(SchemaInvalid, match="not inside it") as caught:
        compiled.validate({"a": 1})
    assert caught.value.details["kind"] == "schema"


def test_unknown_formats_are_annotations_only() -> None:
    schema = {"type": "object", "properties": {"mail": {"type": "string", "format": "email"}}}
    SubjectSchema(schema).validate({"mail": "no at sign"})
