"""The authorisation matrix of the other system contracts: notary and governance methods against
every role of the populated chain (``identity_world.ACTORS``). The identity contract's own matrix
is ``test_identity_matrix.py``; together they cover every transaction method of the registry."""

from __future__ import annotations

from typing import Any

import pytest
from identity_world import ACTORS, World, doc_hash

NOTARY_ALLOWED = {"admin", "officer"}  # an admin or officer of the owner organisation
GOV_ALLOWED = {"admin", "other_admin"}  # admins of (founding) organisations


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


def test_every_method_of_the_registry_is_in_a_matrix(world: World) -> None:
    covered = {("notary", "anchor"), ("governance", "propose"), ("governance", "vote")}
    identity = {("identity", m) for m in world.chain.registry.get("identity").methods}
    every = {(c.name, m) for c in world.chain.registry for m in c.methods}
    assert every == covered | identity
