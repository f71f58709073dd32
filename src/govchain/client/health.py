"""Epidemic control (SDK side): issue health passes, fetch venue kits, publish aggregates and
exposure announcements, read them.

>>> issued = issue_test_result(client, officer_key, org="health-commission",
...     holder="did:govchain:city:cit:3f...", result="negative", test_type="PCR",
...     sample_time="2026-11-29T08:00:00Z")
>>> Path("pass.png").write_bytes(render_qr_png(issued.qr))
>>> kit = fetch_venue_kit(client, "health-commission")      # once a day, at the venue
>>> check_pass(issued.qr, load_kit(kit), now_ms).verdict    # offline: "ADMIT"

A pass is a W3C VC issued and anchored with :func:`govchain.client.certs.issue_credential`
(types ``TestResult`` and ``Vaccination``, schema version 1.0), and its minimised QR form
(:mod:`govchain.health.passes`) signed with the same key.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any

from govchain.client.certs import issue_credential
from govchain.client.sdk import Client
from govchain.contracts.health_records import (
    AggregateArgs,
    ExposureArgs,
    WithdrawExposureArgs,
    suppress_below_k,
)
from govchain.credentials.vc import compute_credential_id
from govchain.crypto.signing import KeyPair
from govchain.health.kit import VenueKit, decode_kit
from govchain.health.passes import encode_health_pass
from govchain.health.schemas import SCHEMA_VERSION, TEST_RESULT, VACCINATION

__all__ = [
    "DEFAULT_COMMISSION",
    "IssuedPass",
    "announce_exposure",
    "fetch_venue_kit",
    "get_aggregates",
    "get_exposures",
    "issue_health_pass",
    "issue_test_result",
    "issue_vaccination",
    "publish_aggregate",
    "withdraw_exposure",
]

DEFAULT_COMMISSION = "health-commission"


@dataclass(frozen=True)
class IssuedPass:
    credential: dict[str, Any]  # the signed W3C VC (anchored)
    qr: str  # the pass's QR text (HC1:...)

    @property
    def hash(self) -> str:
        return compute_credential_id(self.credential)


def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_health_pass(
    client: Client,
    key: KeyPair,
    *,
    org: str,
    credential_type: str,
    subject: dict[str, Any],
    valid_from: str,
    valid_until: str,
    include_name: bool = False,
) -> IssuedPass:
    """Issue and anchor a health credential, and sign its QR pass with the same key."""
    vc = issue_credential(
        client,
        key,
        issuer_org=org,
        credential_type=credential_type,
        schema_version=SCHEMA_VERSION,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        assurance_level="B",
    )
    qr = encode_health_pass(vc, key, iat=int(time.time()), include_name=include_name)
    return IssuedPass(vc, qr)


def issue_test_result(
    client: Client,
    key: KeyPair,
    *,
    org: str,
    holder: str,
    result: str,
    test_type: str,
    sample_time: str,
    valid_hours: int = 72,
    name: str | None = None,
    include_name: bool = False,
) -> IssuedPass:
    """A test-result pass, valid ``valid_hours`` from sampling (a venue may admit fewer)."""
    from govchain.credentials.vc import parse_datetime_stamp

    sampled = datetime.datetime.fromtimestamp(
        float(parse_datetime_stamp(sample_time, field="sample_time")), datetime.UTC
    )
    subject: dict[str, Any] = {
        "id": holder,
        "result": result,
        "testType": test_type,
        "sampleTime": _stamp(sampled),
    }
    if name:
        subject["name"] = name
    until = sampled + datetime.timedelta(hours=valid_hours)
    return issue_health_pass(
        client,
        key,
        org=org,
        credential_type=TEST_RESULT,
        subject=subject,
        valid_from=_stamp(sampled),
        valid_until=_stamp(until),
        include_name=include_name,
    )


def issue_vaccination(
    client: Client,
    key: KeyPair,
    *,
    org: str,
    holder: str,
    product: str,
    dose: int,
    of: int,
    date: str,
    valid_days: int = 365,
    name: str | None = None,
    include_name: bool = False,
) -> IssuedPass:
    """A vaccination pass (dose ``dose`` of ``of``), valid ``valid_days`` from the dose."""
    day = datetime.datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=datetime.UTC)
    subject: dict[str, Any] = {
        "id": holder,
        "product": product,
        "doseNumber": dose,
        "totalDoses": of,
        "date": date,
    }
    if name:
        subject["name"] = name
    return issue_health_pass(
        client,
        key,
        org=org,
        credential_type=VACCINATION,
        subject=subject,
        valid_from=_stamp(day),
        valid_until=_stamp(day + datetime.timedelta(days=valid_days)),
        include_name=include_name,
    )


def _get(client: Client, path: str, params: dict[str, Any] | None = None) -> Any:
    query = {k: v for k, v in (params or {}).items() if v is not None}
    return client.get(path, params=query)


def fetch_venue_kit(client: Client, org: str = DEFAULT_COMMISSION) -> VenueKit:
    """The health commission's venue kit (check it with :func:`govchain.health.venue.load_kit`;
    public)."""
    import msgspec

    answer = _get(client, f"/v1/health/venue-kit/{org}")
    return decode_kit(msgspec.json.encode(answer))


def publish_aggregate(
    client: Client,
    key: KeyPair,
    *,
    org: str,
    district: str,
    day: str,
    tests: int,
    positives: int,
    vaccinations: int,
) -> dict[str, Any]:
    """Publish one district's counts of one day; counts 1..k-1 are suppressed here, before
    signing, so they never reach the chain."""
    args = AggregateArgs(
        org,
        district,
        day,
        suppress_below_k(tests),
        suppress_below_k(positives),
        suppress_below_k(vaccinations),
    )
    result: dict[str, Any] = client.send(key, "health", "publish_aggregate", args).result
    return result


def announce_exposure(
    client: Client, key: KeyPair, *, org: str, venue_id: str, start_ms: int, end_ms: int
) -> dict[str, Any]:
    """Announce that ``venue_id`` was an exposure site between the two times."""
    args = ExposureArgs(org, venue_id, start_ms, end_ms)
    result: dict[str, Any] = client.send(key, "health", "announce_exposure", args).result
    return result


def withdraw_exposure(client: Client, key: KeyPair, *, org: str, exposure_id: int) -> None:
    client.send(key, "health", "withdraw_exposure", WithdrawExposureArgs(org, exposure_id))


def get_aggregates(
    client: Client,
    *,
    district: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[dict[str, Any]]:
    """Published aggregates (public)."""
    params = {"district": district, "since": since, "until": until}
    items: list[dict[str, Any]] = _get(client, "/v1/health/aggregates", params)["items"]
    return items


def get_exposures(
    client: Client, *, venue_id: str | None = None, since_ms: int | None = None
) -> list[dict[str, Any]]:
    """Exposure announcements in force (public)."""
    params = {"venue_id": venue_id, "since_ms": since_ms}
    items: list[dict[str, Any]] = _get(client, "/v1/health/exposures", params)["items"]
    return items
