"""The health contract: who may publish aggregates and exposure announcements, k-anonymity,
bad inputs (each with its code), corrections, withdrawals and the views."""

from __future__ import annotations

from typing import Any

import pytest
from health_world import HealthWorld, make_health_world

from govchain.contracts.governance_actions import Accredit, RevokeAccreditation
from govchain.contracts.health_records import (
    AGGREGATE_KIND,
    K_ANONYMITY,
    AggregateArgs,
    ExposureArgs,
    WithdrawExposureArgs,
    parse_day,
    suppress_below_k,
)

DAY = "2023-11-14"
HOUR = 3_600_000


@pytest.fixture
def w(chain: Any) -> HealthWorld:
    return make_health_world(chain)


def agg(**kw: Any) -> AggregateArgs:
    fields: dict[str, Any] = {
        "org": "health",
        "district": "east-lake",
        "day": DAY,
        "tests": 120,
        "positives": 7,
        "vaccinations": 0,
    }
    fields.update(kw)
    return AggregateArgs(**fields)


def exposure(w: HealthWorld, **kw: Any) -> ExposureArgs:
    now = w.chain.header.time_ms
    fields: dict[str, Any] = {
        "org": "health",
        "venue_id": "venue:market-42",
        "start_ms": now - 3 * HOUR,
        "end_ms": now - HOUR,
    }
    fields.update(kw)
    return ExposureArgs(**fields)


def q(w: HealthWorld, view: str, **args: Any) -> Any:
    return w.chain.app.query("health", view, args)


def test_an_officer_publishes_a_day_and_anyone_reads_it(w: HealthWorld) -> None:
    assert w.code(w.officer, "publish_aggregate", agg(), contract="health") == "OK"
    record = q(w, "aggregate", district="east-lake", day=DAY)
    assert (record.tests, record.positives, record.vaccinations) == (120, 7, 0)
    assert (record.k, record.org, record.publisher, record.revision) == (
        5,
        "health",
        "health:officer",
        1,
    )


def test_small_counts_are_refused_and_published_suppressed(w: HealthWorld) -> None:
    assert w.code(w.issuer, "publish_aggregate", agg(positives=3), contract="health") == (
        "HEALTH_BELOW_K"
    )
    assert w.code(w.issuer, "publish_aggregate", agg(positives=None), contract="health") == "OK"
    assert q(w, "aggregate", district="east-lake", day=DAY).positives is None
    assert [suppress_below_k(n) for n in (0, 1, K_ANONYMITY - 1, K_ANONYMITY)] == [0, None, None, 5]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"tests": -1}, "HEALTH_BAD_COUNT"),
        ({"tests": 10, "positives": 11}, "HEALTH_BAD_COUNT"),
        ({"vaccinations": 4}, "HEALTH_BELOW_K"),
        ({"district": "East Lake"}, "HEALTH_BAD_DISTRICT"),
        ({"district": ""}, "HEALTH_BAD_DISTRICT"),
        ({"day": "2023-02-30"}, "HEALTH_BAD_DAY"),
        ({"day": "14/11/2023"}, "HEALTH_BAD_DAY"),
        ({"day": "2023-11-16"}, "HEALTH_FUTURE_DAY"),
    ],
)
def test_bad_aggregates_are_refused(w: HealthWorld, changes: dict[str, Any], code: str) -> None:
    assert w.code(w.issuer, "publish_aggregate", agg(**changes), contract="health") == code


def test_who_may_publish(w: HealthWorld) -> None:
    admin = w.chain.admin("health")
    assert w.code(admin, "publish_aggregate", agg(), contract="health") == "HEALTH_NOT_AUTHORISED"
    tax = w.chain.admin("tax")
    assert w.code(tax, "publish_aggregate", agg(org="tax"), contract="health") == (
        "HEALTH_NOT_AUTHORISED"
    )
    assert w.code(w.issuer, "publish_aggregate", agg(org="tax"), contract="health") == (
        "HEALTH_NOT_AUTHORISED"
    )
    w.govern(RevokeAccreditation("health", AGGREGATE_KIND))
    assert w.code(w.issuer, "publish_aggregate", agg(), contract="health") == (
        "HEALTH_NOT_ACCREDITED"
    )
    assert w.code(w.issuer, "announce_exposure", exposure(w), contract="health") == "OK"


def test_a_correction_raises_the_revision_and_only_the_publisher_corrects(w: HealthWorld) -> None:
    w.ok(w.issuer, "publish_aggregate", agg(), contract="health")
    w.ok(w.officer, "publish_aggregate", agg(tests=130), contract="health")
    record = q(w, "aggregate", district="east-lake", day=DAY)
    assert (record.tests, record.revision) == (130, 2)
    tax_issuer = w.chain.key("tax-issuer")
    w.enrol("tax", "issuer", tax_issuer, ["issuer"])
    w.govern(Accredit("tax", AGGREGATE_KIND))
    assert w.code(tax_issuer, "publish_aggregate", agg(org="tax"), contract="health") == (
        "HEALTH_OTHER_ORG"
    )


def test_aggregates_view_filters_by_district_and_days(w: HealthWorld) -> None:
    for district, day in (("east-lake", "2023-11-13"), ("east-lake", DAY), ("hill", DAY)):
        w.ok(w.issuer, "publish_aggregate", agg(district=district, day=day), contract="health")
    assert len(q(w, "aggregates")) == 3
    assert [r.day for r in q(w, "aggregates", district="east-lake", since=DAY)] == [DAY]
    assert [r.district for r in q(w, "aggregates", until="2023-11-13")] == ["east-lake"]
    with pytest.raises(Exception, match="limit"):
        q(w, "aggregates", limit=0)
    with pytest.raises(Exception, match="nothing published"):
        q(w, "aggregate", district="hill", day="2023-11-13")


def test_exposures_are_announced_listed_and_withdrawn(w: HealthWorld) -> None:
    first = w.ok(w.officer, "announce_exposure", exposure(w), contract="health")
    w.ok(w.officer, "announce_exposure", exposure(w, venue_id="gym-7"), contract="health")
    assert first["id"] == 1
    assert [e.venue_id for e in q(w, "exposures")] == ["venue:market-42", "gym-7"]
    assert [e.id for e in q(w, "exposures", venue_id="gym-7")] == [2]
    withdraw = WithdrawExposureArgs("health", 1)
    assert w.code(w.officer, "withdraw_exposure", withdraw, contract="health") == "OK"
    assert [e.id for e in q(w, "exposures")] == [2]
    assert len(q(w, "exposures", include_withdrawn=True)) == 2
    assert w.code(w.officer, "withdraw_exposure", withdraw, contract="health") == (
        "HEALTH_ALREADY_WITHDRAWN"
    )
    missing = WithdrawExposureArgs("health", 9)
    assert w.code(w.officer, "withdraw_exposure", missing, contract="health") == "HEALTH_NOT_FOUND"


def test_exposure_since_filters_windows_that_ended_before(w: HealthWorld) -> None:
    w.ok(w.officer, "announce_exposure", exposure(w), contract="health")
    now = w.chain.header.time_ms
    assert q(w, "exposures", since_ms=now) == []
    assert len(q(w, "exposures", since_ms=now - 2 * HOUR)) == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"venue_id": "Market 42"}, "HEALTH_BAD_VENUE"),
        ({"venue_id": "x" * 65}, "HEALTH_BAD_VENUE"),
        ({"start_ms": 5, "end_ms": 5}, "HEALTH_BAD_WINDOW"),
        ({"start_ms": 0, "end_ms": 15 * 24 * HOUR}, "HEALTH_BAD_WINDOW"),
        ({"start_ms": -1, "end_ms": 10}, "HEALTH_BAD_WINDOW"),
    ],
)
def test_bad_exposures_are_refused(w: HealthWorld, changes: dict[str, Any], code: str) -> None:
    assert w.code(w.officer, "announce_exposure", exposure(w, **changes), contract="health") == code


def test_a_window_in_the_future_is_refused(w: HealthWorld) -> None:
    now = w.chain.header.time_ms
    args = exposure(w, start_ms=now + 10 * HOUR, end_ms=now + 11 * HOUR)
    assert w.code(w.officer, "announce_exposure", args, contract="health") == "HEALTH_FUTURE_WINDOW"


def test_exposures_need_the_exposure_accreditation(w: HealthWorld) -> None:
    w.govern(RevokeAccreditation("health", "ExposureNotice"))
    assert w.code(w.officer, "announce_exposure", exposure(w), contract="health") == (
        "HEALTH_NOT_ACCREDITED"
    )


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("1970-01-01", 0),
        ("2000-02-29", 951_782_400_000),
        ("2023-11-14", 1_699_920_000_000),
        ("1900-01-01", None),
        ("2023-13-01", None),
        ("2023-1-01", None),
    ],
)
def test_parse_day(day: str, expected: int | None) -> None:
    assert parse_day(day) == expected
