"""The authorisation matrix of the catalogue and sharing contracts: every transaction method
against every role of the populated chain (``identity_world.ACTORS``). Tax owns the resource;
health's admin (``other_admin``) requests enterprise data; the enterprise is the data subject."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from identity_world import ACTORS, CREDIT_CODE, World
from sharing_world import resource_args, sign_receipt

from govchain.contracts.sharing_records import AccessReceipt
from govchain.contracts.sharing_state import AnchorReceiptsArgs
from govchain.encoding import decode

ENTERPRISE = f"ent:{CREDIT_CODE}"
WRITERS = {"admin", "officer"}  # of the owning organisation
REQUESTERS = {"other_admin", "enterprise", "citizen"}  # not tax: tax owns the resource
SUBJECT = {"enterprise"}
DECIDERS = {"admin", "officer"}
REVOKERS = {"admin", "officer", "enterprise"}
ANCHORERS = {"officer"}  # or a member with the gateway role


def _expected(actor: str, allowed: set[str], denied: str) -> str:
    if actor in allowed:
        return "OK"
    return "TX_UNKNOWN_SENDER" if actor == "unregistered" else denied


@pytest.fixture
def shared(world: World) -> World:
    duty = {"org": "tax", "id": "tax-collection", "name": "Tax collection"}
    world.ok("officer", "add_responsibility", duty, contract="catalog")
    world.ok("officer", "add_resource", resource_args(), contract="catalog")
    return world


def _request(world: World, *, consent: bool = False, approve: bool = False) -> str:
    args = {
        "resource_id": "tax.payer-status",
        "fields": ["credit_code", "status"],
        "purpose": "Matrix",
        "duration_ms": 10**9,
        "max_uses": 5,
        "subject": ENTERPRISE,
    }
    raw = world.raw("other_admin", "request", args, contract="sharing")
    committed = world.chain.commit([raw])
    request_id = str(decode(bytes(committed.receipts[0].result), dict)["id"])
    if consent or approve:
        world.ok("enterprise", "consent", {"id": request_id}, contract="sharing")
    if approve:
        world.ok("officer", "approve", {"id": request_id}, contract="sharing")
    return request_id


@pytest.mark.parametrize("method", ["add_resource", "update_resource"])
@pytest.mark.parametrize("actor", ACTORS)
def test_catalog_resource_writes(shared: World, actor: str, method: str) -> None:
    args = resource_args() if method == "update_resource" else resource_args(f"tax.m-{actor}")
    outcome = shared.run(actor, method, args, contract="catalog")
    assert outcome == _expected(actor, WRITERS, "CATALOG_NOT_OWNER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_catalog_add_responsibility(world: World, actor: str) -> None:
    args = {"org": "tax", "id": f"duty-{actor}", "name": "Duty"}
    outcome = world.run(actor, "add_responsibility", args, contract="catalog")
    assert outcome == _expected(actor, WRITERS, "CATALOG_NOT_OWNER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_sharing_request(shared: World, actor: str) -> None:
    args = {
        "resource_id": "tax.payer-status",
        "fields": ["status"],
        "purpose": "Matrix",
        "duration_ms": 1000,
        "subject": ENTERPRISE,
    }
    outcome = shared.run(actor, "request", args, contract="sharing")
    own = "SHARE_OWN_RESOURCE" if actor in ("admin", "officer", "client") else None
    assert outcome == _expected(actor, REQUESTERS, own or "SHARE_NOT_REQUESTER"), actor


@pytest.mark.parametrize("method", ["consent", "withdraw_consent"])
@pytest.mark.parametrize("actor", ACTORS)
def test_sharing_consent(shared: World, actor: str, method: str) -> None:
    request_id = _request(shared, consent=method == "withdraw_consent")
    outcome = shared.run(actor, method, {"id": request_id}, contract="sharing")
    assert outcome == _expected(actor, SUBJECT, "SHARE_NOT_SUBJECT"), actor


@pytest.mark.parametrize("method", ["approve", "reject"])
@pytest.mark.parametrize("actor", ACTORS)
def test_sharing_decide(shared: World, actor: str, method: str) -> None:
    request_id = _request(shared, consent=True)
    args: dict[str, Any] = {"id": request_id}
    if method == "reject":
        args["reason"] = "Matrix"
    outcome = shared.run(actor, method, args, contract="sharing")
    assert outcome == _expected(actor, DECIDERS, "SHARE_NOT_OWNER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_sharing_revoke(shared: World, actor: str) -> None:
    grant_id = _request(shared, approve=True)
    args = {"grant_id": grant_id, "reason": "Matrix"}
    outcome = shared.run(actor, "revoke", args, contract="sharing")
    assert outcome == _expected(actor, REVOKERS, "SHARE_NOT_OWNER"), actor


@pytest.mark.parametrize("actor", ACTORS)
def test_sharing_anchor_receipts(shared: World, actor: str) -> None:
    grant_id = _request(shared, approve=True)
    unsigned = AccessReceipt(
        grant_id,
        hashlib.sha256(actor.encode()).digest(),
        hashlib.sha256(b"response").digest(),
        ["status"],
        shared.chain.header.time_ms,
        "health",
        b"",
        b"",
        b"",
        b"",
    )
    receipt = sign_receipt(unsigned, shared.key("other_admin"), shared.key("officer"))
    args = AnchorReceiptsArgs([receipt])
    outcome = shared.run(actor, "anchor_receipts", args, contract="sharing")
    assert outcome == _expected(actor, ANCHORERS, "SHARE_NOT_OWNER_GATEWAY"), actor
