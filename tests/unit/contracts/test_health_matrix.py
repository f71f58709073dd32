"""The health contract's authorisation matrix: every method against every role of the populated
chain (``identity_world.ACTORS``), tax being accredited for aggregates and exposure notices.
Only tax's issuers and officers publish; admins administer, they do not publish."""

from __future__ import annotations

from typing import Any

import pytest
from health_world import HEALTH_COVERED
from identity_world import ACTORS, World

from govchain.contracts.health_records import AGGREGATE_KIND, EXPOSURE_KIND
from govchain.encoding import decode

ALLOWED = {"issuer", "officer"}
HOUR = 3_600_000


def _expected(actor: str) -> str:
    if actor in ALLOWED:
        return "OK"
    return "TX_UNKNOWN_SENDER" if actor == "unregistered" else "HEALTH_NOT_AUTHORISED"


@pytest.fixture
def health(world: World) -> World:
    tax, bureau = world.chain.admin("tax"), world.chain.admin("bureau")
    for kind in (AGGREGATE_KIND, EXPOSURE_KIND):
        accredit = {"action": {"type": "accredit", "org": "tax", "credential_type": kind}}
        committed = world.chain.commit([world.raw(tax, "propose", accredit, contract="governance")])
        proposal_id = decode(bytes(committed.receipts[0].result), dict)["id"]
        vote = {"proposal_id": proposal_id, "approve": True}
        world.ok(bureau, "vote", vote, contract="governance")
        world.chain.commit([])
    return world


def _window(world: World) -> dict[str, Any]:
    now = world.chain.header.time_ms
    return {"org": "tax", "venue_id": "gym-7", "start_ms": now - 2 * HOUR, "end_ms": now - HOUR}


@pytest.mark.parametrize("actor", ACTORS)
def test_publish_aggregate(health: World, actor: str) -> None:
    args = {
        "org": "tax",
        "district": "east-lake",
        "day": "2023-11-14",
        "tests": 10,
        "positives": 0,
        "vaccinations": None,
    }
    assert health.run(actor, "publish_aggregate", args, contract="health") == _expected(actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_announce_exposure(health: World, actor: str) -> None:
    outcome = health.run(actor, "announce_exposure", _window(health), contract="health")
    assert outcome == _expected(actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_withdraw_exposure(health: World, actor: str) -> None:
    health.ok("officer", "announce_exposure", _window(health), contract="health")
    outcome = health.run(actor, "withdraw_exposure", {"org": "tax", "id": 1}, contract="health")
    assert outcome == _expected(actor)


def test_the_matrix_covers_every_method(health: World) -> None:
    methods = health.chain.registry.get("health").methods
    assert {("health", m) for m in methods} == HEALTH_COVERED
