"""Helpers of the health tests: a unit chain whose ``health`` organisation is accredited for the
pass types, aggregates and exposure notices, has an issuer and an officer, and has registered the
pass schemas; passes are built with the SDK's pure functions and anchored through the contract."""

from __future__ import annotations

import json
from typing import Any

from certs_world import CertWorld, key_for, ms

from govchain.client.certs import build_credential
from govchain.contracts.certs_records import AnchorArgs
from govchain.contracts.did import did_of
from govchain.contracts.governance_actions import Accredit
from govchain.contracts.health_records import AGGREGATE_KIND, EXPOSURE_KIND
from govchain.credentials.vc import compute_credential_hash
from govchain.health.kit_builder import build_venue_kit
from govchain.health.passes import encode_health_pass
from govchain.health.schemas import HEALTH_SCHEMAS, SCHEMA_VERSION, TEST_RESULT, VACCINATION
from govchain.health.venue import TrustedKit, load_kit

HOLDER = "did:govchain:govchain-unit:cit:" + "ab" * 16
SAMPLE_TIME = "2023-11-14T20:00:00Z"  # the unit chain's genesis is 2023-11-14T22:13:20Z
VALID_FROM = "2023-11-14T21:00:00Z"
VALID_UNTIL = "2023-11-20T00:00:00Z"
LISTS = "https://node.example/v1/credentials/status-lists/health"
KINDS = (TEST_RESULT, VACCINATION, AGGREGATE_KIND, EXPOSURE_KIND)


class HealthWorld(CertWorld):
    def issue_pass(
        self,
        credential_type: str = TEST_RESULT,
        subject: dict[str, Any] | None = None,
        *,
        org: str = "health",
        include_name: bool = False,
    ) -> tuple[dict[str, Any], str]:
        """An anchored health credential and its QR text."""
        if subject is None:
            subject = result_subject() if credential_type == TEST_RESULT else vaccination_subject()
        index = int(self.chain.app.query("certs", "next_status_index", {"org": org}))
        key = self.issuer
        vc = build_credential(
            key,
            verification_method=f"{did_of(self.chain.chain_id, org + ':issuer')}#key-1",
            issuer_did=did_of(self.chain.chain_id, org),
            credential_type=credential_type,
            subject=subject,
            status_index=index,
            status_lists_url=LISTS,
            valid_from=VALID_FROM,
            valid_until=VALID_UNTIL,
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            created=VALID_FROM,
        )
        args = AnchorArgs(
            compute_credential_hash(vc),
            credential_type,
            SCHEMA_VERSION,
            org,
            ms(VALID_FROM) or 0,
            index,
            ms(VALID_UNTIL),
            "B",
        )
        self.ok(key, "anchor", args)
        text = encode_health_pass(
            vc, key, iat=self.chain.header.time_ms // 1000, include_name=include_name
        )
        return vc, text

    def kit(self) -> TrustedKit:
        return load_kit(build_venue_kit(self.chain.app, "health"))


def result_subject(**changes: Any) -> dict[str, Any]:
    subject = {"id": HOLDER, "result": "negative", "testType": "PCR", "sampleTime": SAMPLE_TIME}
    subject.update(changes)
    return subject


def vaccination_subject(**changes: Any) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "id": HOLDER,
        "product": "EU/1/20/1528",
        "doseNumber": 2,
        "totalDoses": 2,
        "date": "2023-10-01",
    }
    subject.update(changes)
    return subject


def make_health_world(chain: Any) -> HealthWorld:
    world = HealthWorld(chain, issuer=key_for("health-issuer"), officer=key_for("health-officer"))
    world.enrol("health", "issuer", world.issuer, ["issuer"])
    world.enrol("health", "officer", world.officer, ["officer"])
    for kind in KINDS:
        world.govern(Accredit("health", kind))
    for kind, schema in HEALTH_SCHEMAS.items():
        args = {
            "credential_type": kind,
            "version": SCHEMA_VERSION,
            "schema_json": json.dumps(schema),
        }
        world.ok(world.issuer, "register_schema", args)
    return world


HEALTH_COVERED = {  # the methods test_health_matrix.py checks against every role
    ("health", "publish_aggregate"),
    ("health", "announce_exposure"),
    ("health", "withdraw_exposure"),
}
