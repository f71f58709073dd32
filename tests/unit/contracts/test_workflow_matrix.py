"""The authorisation matrix of the workflow contract: every transaction method against every role
of the populated chain (``identity_world.ACTORS``). Tax acts on the service's only step and
issues its output; the enterprise is the applicant of the instances acted on."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
import pytest
from certs_world import SCHEMA, TYPE, VERSION
from identity_world import ACTORS, World, doc_hash
from workflow_world import WORKFLOW_COVERED

from govchain.encoding import decode

PUBLISHERS = {"admin", "officer", "other_admin"}  # admins and officers of organisations
APPLICANTS = {"admin", "officer", "other_admin", "enterprise", "citizen"}
STEP_ACTORS = {"officer"}  # of tax, the step's organisation
APPLICANT = {"enterprise"}
ISSUERS = {"issuer", "officer"}  # of tax, the credential's issuer


def _expected(actor: str, allowed: set[str], denied: str) -> str:
    if actor in allowed:
        return "OK"
    return "TX_UNKNOWN_SENDER" if actor == "unregistered" else denied


def _document(title: str = "Review") -> str:
    return json.dumps(
        {
            "id": "review",
            "version": "1.0",
            "title": title,
            "applicants": ["citizen", "enterprise", "org"],
            "steps": [
                {
                    "id": "review",
                    "title": "Review",
                    "org": "tax",
                    "approval": {"n": 1, "roles": ["officer"]},
                    "deadline": "1d",
                    "needs": [{"id": "form", "title": "Form"}],
                    "outputs": [{"credential_type": TYPE, "issuer": "tax"}],
                }
            ],
        }
    )


def _govern(world: World, action: dict[str, Any]) -> None:
    raw = world.raw("admin", "propose", {"action": action}, contract="governance")
    committed = world.chain.commit([raw])
    proposal_id = decode(bytes(committed.receipts[0].result), dict)["id"]
    vote = {"proposal_id": proposal_id, "approve": True}
    world.ok(world.chain.admin("bureau"), "vote", vote, contract="governance")
    world.chain.commit([])


@pytest.fixture
def flows(world: World) -> World:
    """The service registered, tax accredited for the output type with its schema."""
    document = _document()
    world.ok("admin", "publish", {"document": document}, contract="workflow")
    digest = hashlib.sha256(document.encode()).digest()
    register = {
        "type": "register_service",
        "service_id": "review",
        "version": "1.0",
        "title": "Review",
        "definition_hash": digest,
    }
    _govern(world, register)
    _govern(world, {"type": "accredit", "org": "tax", "credential_type": TYPE})
    schema = {"credential_type": TYPE, "version": VERSION, "schema_json": json.dumps(SCHEMA)}
    world.ok("issuer", "register_schema", schema, contract="certs")
    return world


def _anchor(world: World, name: str) -> bytes:
    digest = doc_hash(name)
    index = int(world.chain.app.query("certs", "next_status_index", {"org": "tax"}))
    args = {
        "credential_hash": digest,
        "credential_type": TYPE,
        "schema_version": VERSION,
        "issuer_org": "tax",
        "valid_from_ms": 0,
        "status_index": index,
    }
    world.ok("issuer", "anchor", args, contract="certs")
    return digest


def _start(world: World) -> str:
    upload = {"step": "review", "need": "form", "upload_hash": doc_hash("form")}
    args = {"service_id": "review", "provisions": [upload]}
    raw = world.raw("enterprise", "start", args, contract="workflow")
    committed = world.chain.commit([raw])
    return str(msgspec.msgpack.decode(bytes(committed.receipts[0].result))["id"])


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_publish(flows: World, actor: str) -> None:
    args = {"document": _document(f"Review by {actor}")}
    outcome = flows.run(actor, "publish", args, contract="workflow")
    assert outcome == _expected(actor, PUBLISHERS, "WF_NOT_PUBLISHER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_start(flows: World, actor: str) -> None:
    outcome = flows.run(actor, "start", {"service_id": "review"}, contract="workflow")
    assert outcome == _expected(actor, APPLICANTS, "WF_NOT_APPLICANT"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_meet(flows: World, actor: str) -> None:
    upload = {"step": "review", "need": "form", "upload_hash": doc_hash("again")}
    args = {"instance_id": _start(flows), "provisions": [upload]}
    outcome = flows.run(actor, "meet", args, contract="workflow")
    assert outcome == _expected(actor, APPLICANT, "WF_NOT_APPLICANT"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_act(flows: World, actor: str) -> None:
    args = {"instance_id": _start(flows), "step": "review", "action": "approve"}
    outcome = flows.run(actor, "act", args, contract="workflow")
    assert outcome == _expected(actor, STEP_ACTORS, "WF_NOT_STEP_ORG"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_answer(flows: World, actor: str) -> None:
    instance_id = _start(flows)
    ask = {"instance_id": instance_id, "step": "review", "action": "request_info"}
    flows.ok("officer", "act", ask, contract="workflow")
    answer = {"instance_id": instance_id, "step": "review", "comment": "done"}
    outcome = flows.run(actor, "answer", answer, contract="workflow")
    assert outcome == _expected(actor, APPLICANT, "WF_NOT_APPLICANT"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_bind_holder(flows: World, actor: str) -> None:
    args = {"credential_hash": _anchor(flows, "bound"), "commitment": b"\x01" * 32}
    outcome = flows.run(actor, "bind_holder", args, contract="workflow")
    assert outcome == _expected(actor, ISSUERS, "WF_NOT_ISSUER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_link_output(flows: World, actor: str) -> None:
    instance_id = _start(flows)
    approve = {"instance_id": instance_id, "step": "review", "action": "approve"}
    flows.ok("officer", "act", approve, contract="workflow")
    args = {"instance_id": instance_id, "credential_hash": _anchor(flows, "output")}
    outcome = flows.run(actor, "link_output", args, contract="workflow")
    assert outcome == _expected(actor, ISSUERS, "WF_NOT_ISSUER"), actor


def test_every_workflow_method_is_in_the_matrix(world: World) -> None:
    methods = world.chain.registry.get("workflow").methods
    assert {("workflow", m) for m in methods} == WORKFLOW_COVERED
