"""The authorisation matrix of the other system contracts: notary, governance and certs methods
against every role of the populated chain (``identity_world.ACTORS``). The identity contract's own
matrix is ``test_identity_matrix.py``; together they cover every transaction method of the
registry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from certs_world import SCHEMA, TYPE, VERSION
from health_world import HEALTH_COVERED
from identity_world import ACTORS, World, doc_hash
from sharing_world import MATRIX_COVERED
from workflow_world import WORKFLOW_COVERED

from govchain.encoding import decode

NOTARY_ALLOWED = {"admin", "officer"}  # an admin or officer of the owner organisation
GOV_ALLOWED = {"admin", "other_admin"}  # admins of (founding) organisations
CERT_SCHEMA_ALLOWED = {"admin", "issuer"}  # of an organisation accredited for the type
CERT_ANCHOR_ALLOWED = {"issuer", "officer"}  # of the issuing organisation
CERT_STATUS_ALLOWED = {"issuer", "officer", "admin"}  # of the issuing organisation


def _expected(actor: str, allowed: set[str], denied: str) -> str:
    if actor in allowed:
        return "OK"
    return "TX_UNKNOWN_SENDER" if actor == "unregistered" else denied


def _params_proposal(max_block_txs: int) -> dict[str, Any]:
    return {"action": {"type": "set_params", "max_block_txs": max_block_txs}}


@pytest.mark.parametrize("actor", ACTORS)
def test_notary_anchor(world: World, actor: str) -> None:
    args = {"hash": doc_hash(f"matrix-{actor}"), "title": "Licence", "owner_org": "tax"}
    outcome = world.run(actor, "anchor", args, contract="notary")
    assert outcome == _expected(actor, NOTARY_ALLOWED, "NOTARY_NOT_OWNER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_governance_propose(world: World, actor: str) -> None:
    outcome = world.run(actor, "propose", _params_proposal(1000), contract="governance")
    assert outcome == _expected(actor, GOV_ALLOWED, "GOV_NOT_ADMIN"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_governance_vote(world: World, actor: str) -> None:
    bureau_admin = world.chain.admin("bureau")
    world.ok(bureau_admin, "propose", _params_proposal(1500), contract="governance")
    outcome = world.run(actor, "vote", {"proposal_id": 1, "approve": False}, contract="governance")
    assert outcome == _expected(actor, GOV_ALLOWED, "GOV_NOT_ADMIN"), actor


# --- certs: tax is accredited for the type and has registered its schema ----------------------


@pytest.fixture
def certs(world: World) -> World:
    tax, bureau = world.chain.admin("tax"), world.chain.admin("bureau")
    accredit = {"action": {"type": "accredit", "org": "tax", "credential_type": TYPE}}
    raw = world.raw(tax, "propose", accredit, contract="governance")
    committed = world.chain.commit([raw])
    proposal_id = decode(bytes(committed.receipts[0].result), dict)["id"]
    vote = {"proposal_id": proposal_id, "approve": True}
    world.ok(bureau, "vote", vote, contract="governance")
    world.chain.commit([])
    schema = {"credential_type": TYPE, "version": VERSION, "schema_json": json.dumps(SCHEMA)}
    world.ok("issuer", "register_schema", schema, contract="certs")
    return world


def _anchor(name: str, index: int) -> dict[str, Any]:
    return {
        "credential_hash": doc_hash(name),
        "credential_type": TYPE,
        "schema_version": VERSION,
        "issuer_org": "tax",
        "valid_from_ms": 0,
        "status_index": index,
    }


@pytest.mark.parametrize("actor", ACTORS)
def test_certs_register_schema(certs: World, actor: str) -> None:
    args = {"credential_type": TYPE, "version": "2.0", "schema_json": json.dumps(SCHEMA)}
    outcome = certs.run(actor, "register_schema", args, contract="certs")
    denied = "CERT_NOT_ACCREDITED" if actor == "other_admin" else "CERT_NOT_ISSUER"
    assert outcome == _expected(actor, CERT_SCHEMA_ALLOWED, denied), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_certs_anchor(certs: World, actor: str) -> None:
    outcome = certs.run(actor, "anchor", _anchor(f"cert-{actor}", 0), contract="certs")
    assert outcome == _expected(actor, CERT_ANCHOR_ALLOWED, "CERT_NOT_ISSUER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_certs_anchor_batch(certs: World, actor: str) -> None:
    args = {
        "credential_type": TYPE,
        "schema_version": VERSION,
        "issuer_org": "tax",
        "items": [[doc_hash(f"batch-{actor}-{i}"), 0, i] for i in range(3)],
    }
    outcome = certs.run(actor, "anchor_batch", args, contract="certs")
    assert outcome == _expected(actor, CERT_ANCHOR_ALLOWED, "CERT_NOT_ISSUER"), actor


@pytest.mark.parametrize("method", ["revoke", "suspend", "reinstate"])
@pytest.mark.parametrize("actor", ACTORS)
def test_certs_status(certs: World, actor: str, method: str) -> None:
    certs.ok("issuer", "anchor", _anchor("status-target", 0), contract="certs")
    args = {"credential_hash": doc_hash("status-target"), "reason_code": "administrative"}
    if method == "reinstate":
        certs.ok("officer", "suspend", args, contract="certs")
    outcome = certs.run(actor, method, args, contract="certs")
    assert outcome == _expected(actor, CERT_STATUS_ALLOWED, "CERT_NOT_ISSUER"), actor


def test_every_method_of_the_registry_is_in_a_matrix(world: World) -> None:
    covered = {("notary", "anchor"), ("governance", "propose"), ("governance", "vote")}
    covered |= {
        ("certs", m)
        for m in ("register_schema", "anchor", "anchor_batch", "revoke", "suspend", "reinstate")
    }
    covered |= {("certs", "publish_status_list")}  # test_certs_status_lists.py
    covered |= MATRIX_COVERED  # catalog and sharing: test_sharing_matrix.py
    covered |= WORKFLOW_COVERED  # workflow: test_workflow_matrix.py
    covered |= HEALTH_COVERED  # health: test_health_matrix.py
    identity = {("identity", m) for m in world.chain.registry.get("identity").methods}
    every = {(c.name, m) for c in world.chain.registry for m in c.methods}
    assert every == covered | identity
