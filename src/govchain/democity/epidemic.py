"""Epidemic control in the demo city: the health commission issues test-result passes to some
citizens, a venue downloads its kit once and checks the passes with no network, the commission
publishes each district's anonymised counts of the day. Check-ins stay with the holders."""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass

from govchain.client import Client
from govchain.client.health import fetch_venue_kit, issue_test_result, publish_aggregate
from govchain.contracts.certs_records import RegisterSchemaArgs
from govchain.contracts.did import did_of
from govchain.contracts.identity_methods import citizen_id
from govchain.democity.bootstrap import City
from govchain.democity.txbatch import TxRound
from govchain.errors import GovchainError
from govchain.health.schemas import HEALTH_SCHEMAS, SCHEMA_VERSION
from govchain.health.venue import check_pass, load_kit

__all__ = ["COMMISSION", "EpidemicReport", "run_epidemic_control"]

COMMISSION = "health-commission"
PASSES = 6  # citizens tested today
DISTRICTS = ("haishu-district", "yinzhou-district")


@dataclass
class EpidemicReport:
    passes_issued: int = 0
    venue_admitted: int = 0
    venue_checked: int = 0
    aggregates_published: int = 0


def register_health_schemas(client: Client, city: City) -> None:
    """The pass types' schemas, registered once by the commission's issuer."""
    rnd = TxRound(client)
    issuer = city.officers[COMMISSION][0]
    for credential_type, schema in HEALTH_SCHEMAS.items():
        try:
            client.credential_schema(credential_type, SCHEMA_VERSION)
            continue
        except GovchainError:
            pass
        args = RegisterSchemaArgs(credential_type, SCHEMA_VERSION, json.dumps(schema))
        rnd.add(issuer, "certs", "register_schema", args)
    rnd.run()


def _today() -> tuple[str, str]:
    now = datetime.datetime.now(datetime.UTC)
    sampled = (now - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return sampled, now.strftime("%Y-%m-%d")


def run_epidemic_control(client: Client, city: City) -> EpidemicReport:
    """Passes issued, checked offline at a venue, the day's counts published."""
    report = EpidemicReport()
    issuer = city.officers[COMMISSION][0]
    sampled, day = _today()
    passes = []
    for key in city.citizens[:PASSES]:
        holder = did_of(client.chain_id, citizen_id(key.public_key))
        passes.append(
            issue_test_result(
                client,
                issuer,
                org=COMMISSION,
                holder=holder,
                result="negative",
                test_type="PCR",
                sample_time=sampled,
            )
        )
    report.passes_issued = len(passes)
    kit = load_kit(fetch_venue_kit(client, COMMISSION))  # once; then no network at the venue
    now_ms = time.time_ns() // 1_000_000
    decisions = [check_pass(p.qr, kit, now_ms) for p in passes]
    report.venue_checked = len(decisions)
    report.venue_admitted = sum(1 for d in decisions if d.admit)
    for i, district in enumerate(DISTRICTS):
        publish_aggregate(
            client,
            issuer,
            org=COMMISSION,
            district=district,
            day=day,
            tests=PASSES * (5 + i),
            positives=0,
            vaccinations=40 + 7 * i,
        )
        report.aggregates_published += 1
    return report
