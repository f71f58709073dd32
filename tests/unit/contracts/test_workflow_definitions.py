"""Service definitions: publishing checks the shape and the meaning, every problem with its code;
governance registers only a published, valid definition; the built-in definitions check out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from workflow_world import DEFINITION, WorkflowWorld, definition, make_workflow_world, text

from govchain import services
from govchain.contracts.catalog_records import DataField, Gateway, ResourceArgs
from govchain.contracts.governance import ProposeArgs
from govchain.contracts.governance_actions import RegisterService
from govchain.contracts.workflow_definitions import (
    MAX_DEFINITION_BYTES,
    compute_deadline_ms,
    compute_definition_hash,
    parse_definition,
)
from govchain.errors import ContractError
from govchain.services import builtin_ids, issued_types, load_definition, load_document


@pytest.fixture
def w(chain: Any) -> WorkflowWorld:
    return make_workflow_world(chain)


def _steps(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    steps = [dict(s) for s in DEFINITION["steps"]]
    for i, change in enumerate(changes):
        steps[i].update(change)
    return steps


BAD_DEFINITIONS = [
    ("{not json", "WF_DEF_NOT_JSON"),
    (text({k: v for k, v in DEFINITION.items() if k != "steps"}), "WF_DEF_SCHEMA"),
    (text(definition(applicants=["martian"])), "WF_DEF_SCHEMA"),
    (text(definition(steps=_steps({"deadline": "3 weeks"}))), "WF_DEF_SCHEMA"),
    (text(definition(steps=_steps({"approval": {"n": 0, "roles": ["officer"]}}))), "WF_DEF_SCHEMA"),
    (text(definition(unknown_field=1)), "WF_DEF_SCHEMA"),
    (text(definition(steps=_steps({}, {"id": "intake"}))), "WF_DEF_DUPLICATE_STEP"),
    (text(definition(steps=_steps({}, {"after": ["nowhere"]}))), "WF_DEF_UNKNOWN_STEP"),
    (text(definition(steps=_steps({"after": ["check"]}))), "WF_DEF_CYCLE"),
    (
        text(
            definition(
                steps=_steps({"needs": [{"id": "a", "title": "A"}, {"id": "a", "title": "Again"}]})
            )
        ),
        "WF_DEF_DUPLICATE_NEED",
    ),
    (
        text(definition(steps=_steps({"needs": [{"id": "a", "title": "A", "upload": False}]}))),
        "WF_DEF_NEED_UNMEETABLE",
    ),
    (text(definition(steps=_steps({"org": "nowhere"}))), "WF_DEF_UNKNOWN_ORG"),
    (" " * (MAX_DEFINITION_BYTES + 1), "WF_DEF_TOO_LARGE"),
]


@pytest.mark.parametrize(("document", "code"), BAD_DEFINITIONS)
def test_a_definition_that_does_not_validate_is_refused(
    w: WorkflowWorld, document: str, code: str
) -> None:
    assert w.publish(document) == code


def test_schema_problem_names_the_field(w: WorkflowWorld) -> None:
    receipt = w.send(
        w.chain.admin("tax"),
        "publish",
        {"document": text(definition(steps=_steps({"deadline": "soon"})))},
    )
    assert receipt.code == "WF_DEF_SCHEMA"
    assert "$.steps[0].deadline" in receipt.message


def test_publish_stores_the_document_by_its_hash(w: WorkflowWorld) -> None:
    document = text(DEFINITION)
    assert w.publish(document) == "OK"
    digest = hashlib.sha256(document.encode()).digest()
    record = w.q("definition", hash=digest)
    assert (record.service_id, record.version, record.publisher) == ("permit", "1.0", "tax:admin")
    assert record.document == document
    assert w.publish(document) == "WF_DEF_EXISTS"


def test_only_admins_and_officers_of_organisations_publish(w: WorkflowWorld) -> None:
    assert w.publish(DEFINITION, key=w.ent) == "WF_NOT_PUBLISHER"
    assert w.publish(DEFINITION, key=w.certs.issuer) == "WF_NOT_PUBLISHER"
    assert w.publish(DEFINITION, key=w.health_officer) == "OK"


def test_check_definition_view(w: WorkflowWorld) -> None:
    document = text(DEFINITION)
    checked = w.q("check_definition", document=document)
    assert checked["hash"] == hashlib.sha256(document.encode()).digest()
    with pytest.raises(ContractError) as exc:
        w.q("check_definition", document=text(definition(steps=_steps({"org": "nowhere"}))))
    assert exc.value.code == "WF_DEF_UNKNOWN_ORG"


def _propose_code(w: WorkflowWorld, action: RegisterService) -> str:
    receipt = w.certs.send(
        w.chain.admin("tax"), "propose", ProposeArgs(action), contract="governance"
    )
    return "OK" if receipt.ok else f"{receipt.code}: {receipt.message}"


def test_governance_registers_only_a_published_definition(w: WorkflowWorld) -> None:
    document = text(DEFINITION)
    digest = hashlib.sha256(document.encode()).digest()
    refused = _propose_code(w, RegisterService("permit", "1.0", "A permit", digest))
    assert refused.startswith("GOV_INVALID_ACTION") and "publish it first" in refused
    assert w.publish(document) == "OK"
    wrong_version = _propose_code(w, RegisterService("permit", "2.0", "A permit", digest))
    assert wrong_version.startswith("GOV_INVALID_ACTION") and "not permit version 2.0" in (
        wrong_version
    )
    assert _propose_code(w, RegisterService("permit", "1.0", "A permit", digest)) == "OK"


def test_new_version_becomes_the_active_one(w: WorkflowWorld) -> None:
    w.register()
    newer = definition(version="1.1", title="A permit, revised")
    digest = w.register(newer)
    shown = w.q("service", service_id="permit")
    assert shown["hash"] == digest and shown["definition"].version == "1.1"
    assert [v.version for v in shown["service"].versions] == ["1.0", "1.1"]


def test_deadlines() -> None:
    assert compute_deadline_ms("24h") == compute_deadline_ms("1d") == 86_400_000
    assert compute_deadline_ms("3d") == 3 * 86_400_000


@pytest.mark.parametrize("service_id", builtin_ids())
def test_builtin_definitions_check_out(service_id: str) -> None:
    parsed = load_definition(service_id)
    assert parsed.id == service_id
    # the hash governance registers is the file's, as `gov propose register-service` takes it
    shipped = Path(services.__file__).parent / f"{service_id}.json"
    digest = hashlib.sha256(shipped.read_bytes()).digest()
    assert compute_definition_hash(load_document(service_id)) == digest
    assert parse_definition(load_document(service_id)) == parsed
    assert issued_types(parsed)


def test_at_least_six_builtin_services() -> None:
    assert {
        "open-restaurant",
        "resume-production",
        "real-estate-registration",
        "sme-loan",
        "newborn-registration",
        "residence-permit",
    } <= set(builtin_ids())


def _catalogue_tax_records(w: WorkflowWorld) -> None:
    duty = {"org": "tax", "id": "tax-collection", "name": "Tax collection"}
    assert w.certs.code(w.tax_officer, "add_responsibility", duty, contract="catalog") == "OK"
    resource = ResourceArgs(
        id="tax.records",
        org="tax",
        responsibility="tax-collection",
        name="Tax records",
        name_zh="纳税记录",
        description="Payments",
        fields=[DataField("a", "string", "enterprise")],
        classification="internal",
        update_frequency="daily",
        sharing="conditional",
        legal_basis="Tax Collection Administration Law",
        gateway=Gateway("https://gateway.tax.example", b"\x01" * 32),
    )
    assert w.certs.code(w.tax_officer, "add_resource", resource, contract="catalog") == "OK"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"owner": "health", "resource": "tax.records", "fields": ["a"]}, "belongs to tax"),
        ({"owner": "tax", "resource": "tax.records", "fields": ["a", "b"]}, "no field(s) b"),
    ],
)
def test_a_data_need_must_match_the_catalogued_resource(
    w: WorkflowWorld, data: dict[str, Any], reason: str
) -> None:
    _catalogue_tax_records(w)
    assert w.publish(DEFINITION) == "OK"  # its data need matches the resource
    need = {"id": "record", "title": "Record", "data": data}
    doc = definition(version="2.0", steps=_steps({}, {"needs": [need]}))
    receipt = w.send(w.chain.admin("tax"), "publish", {"document": text(doc)})
    assert receipt.code == "WF_DEF_RESOURCE_MISMATCH" and reason in receipt.message
