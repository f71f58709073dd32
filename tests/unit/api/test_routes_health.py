"""The health routes over a unit chain (the handlers only read the node's application): the
venue kit a venue can trust, aggregates with suppressed counts, exposure announcements, and the
errors' codes."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from health_world import HealthWorld, make_health_world
from litestar import Litestar
from litestar.testing import TestClient

from govchain.api.routes_health import health_routes
from govchain.api.server import _problem
from govchain.contracts.health_records import AggregateArgs, ExposureArgs
from govchain.health.kit import decode_kit
from govchain.health.venue import check_pass, load_kit


@pytest.fixture
def w(chain: Any) -> HealthWorld:
    return make_health_world(chain)


@pytest.fixture
def http(w: HealthWorld) -> Iterator[TestClient[Any]]:
    node: Any = SimpleNamespace(app=w.chain.app)
    app = Litestar(route_handlers=health_routes(node), exception_handlers={Exception: _problem})
    with TestClient(app=app) as client:
        yield client


def test_the_venue_kit_is_served_and_checks_a_pass(w: HealthWorld, http: TestClient[Any]) -> None:
    _, text = w.issue_pass()
    answer = http.get("/v1/health/venue-kit/health")
    assert answer.status_code == 200
    kit = load_kit(
        decode_kit(msgspec.json.encode(answer.json())), genesis_hash=w.chain.app.genesis_hash
    )
    assert check_pass(text, kit, w.chain.header.time_ms).admit
    missing = http.get("/v1/health/venue-kit/nobody")
    assert (missing.status_code, missing.json()["code"]) == (404, "HEALTH_UNKNOWN_ORG")


def test_aggregates_and_exposures_are_public_reads(w: HealthWorld, http: TestClient[Any]) -> None:
    w.ok(
        w.issuer,
        "publish_aggregate",
        AggregateArgs("health", "hill", "2023-11-14", 40, None, 0),
        contract="health",
    )
    now = w.chain.header.time_ms
    w.ok(
        w.officer,
        "announce_exposure",
        ExposureArgs("health", "gym-7", now - 10, now - 5),
        contract="health",
    )
    listed = http.get("/v1/health/aggregates", params={"district": "hill"}).json()
    (record,) = listed["items"]
    assert (record["tests"], record["positives"], listed["height"]) == (40, None, w.chain.height)
    one = http.get("/v1/health/aggregates/hill/2023-11-14").json()
    assert one["revision"] == 1
    absent = http.get("/v1/health/aggregates/hill/2023-11-13")
    assert (absent.status_code, absent.json()["code"]) == (404, "HEALTH_NOT_FOUND")
    exposures = http.get("/v1/health/exposures", params={"venue_id": "gym-7"}).json()["items"]
    assert [(e["id"], e["venue_id"]) for e in exposures] == [(1, "gym-7")]
    assert http.get("/v1/health/exposures", params={"since_ms": now}).json()["items"] == []
    bad = http.get("/v1/health/exposures", params={"limit": 0})
    assert (bad.status_code, bad.json()["code"]) == (422, "HEALTH_BAD_ARGS")
