"""Run the demo city end to end against a running node: set the city up, then every part of the
platform the way its users would — and count what happened for the summary."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govchain.client import Client
from govchain.client.services import compute_paperwork_rows
from govchain.contracts.identity_methods import citizen_id
from govchain.contracts.notary import AnchorArgs
from govchain.democity.bootstrap import City, bootstrap_city
from govchain.democity.epidemic import (
    EpidemicReport,
    register_health_schemas,
    run_epidemic_control,
)
from govchain.democity.gateways import GatewayFleet, iter_grants, wait_for_gateways
from govchain.democity.txbatch import TxRound
from govchain.errors import GovchainError
from govchain.node.config import load_genesis, load_key
from govchain.scenarios import (
    SCENARIOS,
    Applicant,
    ServiceCity,
    prepare_services,
    share_under_grant,
)
from govchain.scenarios.setup import needed_officers
from govchain.services import builtin_ids, load_definition

__all__ = ["CitySummary", "DemoCity"]

# what the built-in services need is accredited by scenarios.prepare_services; these are the
# health commission's epidemic-control passes
ACCREDITATIONS: tuple[tuple[str, str], ...] = (
    ("health-commission", "TestResult"),
    ("health-commission", "Vaccination"),
    ("health-commission", "HealthAggregate"),
    ("health-commission", "ExposureNotice"),
)
# which of the city's people applies for each built-in service
APPLICANTS: dict[str, str | int] = {
    "open-restaurant": "harbour-foods",
    "resume-production": "yongjiang-precision",
    "sme-loan": "east-sea-textiles",
    "real-estate-registration": 0,
    "newborn-registration": 1,
    "residence-permit": 2,
}

SAMPLE_DOCUMENTS = (
    ("market-regulation", "Business licence register, 2026 edition", b"business licences 2026"),
    ("tax", "Tax registration guide for new enterprises", b"tax registration guide"),
    ("health-commission", "Vaccination campaign plan", b"vaccination plan"),
    ("haishu-district", "Resumption-of-production checklist", b"resumption checklist v3"),
)


@dataclass
class CitySummary:
    organisations: int = 0
    enterprises: int = 0
    citizens: int = 0
    transactions: int = 0
    documents_notarised: int = 0
    services_completed: dict[str, int] = field(default_factory=dict)
    credentials_issued: int = 0
    data_shared: int = 0
    epidemic: EpidemicReport = field(default_factory=EpidemicReport)
    paperwork: dict[str, object] = field(default_factory=dict)
    height: int = 0
    seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)


def _notarise_samples(client: Client, city: City) -> int:
    rnd = TxRound(client)
    for org, title, content in SAMPLE_DOCUMENTS:
        digest = hashlib.sha256(content).digest()
        try:
            client.notary(digest)
            continue  # anchored by an earlier run
        except GovchainError:
            pass
        rnd.add(city.officers[org][0], "notary", "anchor", AnchorArgs(digest, title, org))
    count = len(rnd)
    rnd.run()
    return count


def _applicant(city: City, who: str | int) -> Applicant:
    if isinstance(who, int):
        key = city.citizens[who]
        return Applicant(key, citizen_id(key.public_key))
    return Applicant(city.enterprises[who][1], city.enterprise_id(who))


def _count_transactions(client: Client, height: int) -> int:
    """Every transaction on the chain (each block's header counts its own)."""
    return sum(int(client.block(h)["header"]["tx_count"]) for h in range(1, height + 1))


class DemoCity:
    """The demo city against a running node at ``url``: :meth:`set_up` (blocking), then
    :meth:`start_gateways` (in the event loop), then :meth:`exercise` (blocking)."""

    def __init__(self, url: str, directory: Path, first_gateway_port: int) -> None:
        self.url = url
        self.directory = directory
        self.first_gateway_port = first_gateway_port
        self.genesis = load_genesis(directory)
        self.summary = CitySummary(organisations=len(self.genesis.orgs))
        self.started = time.monotonic()
        operator = load_key(directory / "orgs" / self.genesis.orgs[0].id / "admin.key")
        self.client = Client(url, key=operator)
        self.city: City | None = None
        self.fleet: GatewayFleet | None = None

    def close(self) -> None:
        """Stop the gateways and let go of the node (idempotent)."""
        if self.fleet is not None:
            self.fleet.stop()
        self.client.close()

    def gateway_urls(self) -> dict[str, str]:
        return {} if self.fleet is None else {org: self.fleet.url(org) for org in self.fleet.ports}

    def set_up(self, step: Callable[[str], None] = lambda _: None) -> None:
        """The city's organisations, people, sample documents and departments' data."""
        definitions = [load_definition(sid) for sid in builtin_ids()]
        city = self.city = bootstrap_city(
            self.client,
            self.directory,
            self.genesis,
            ACCREDITATIONS,
            needed_officers(definitions),
            step=step,
        )
        step("notarising sample documents")
        self.summary.documents_notarised = _notarise_samples(self.client, city)
        step("filling the departments' databases and cataloguing their data")
        self.fleet = GatewayFleet(city, self.url, self.first_gateway_port)
        self.fleet.prepare(self.client)
        register_health_schemas(self.client, city)

    def start_gateways(self) -> None:
        assert self.fleet is not None
        self.fleet.start()

    def exercise(self, step: Callable[[str], None] = lambda _: None) -> CitySummary:
        """Every built-in service end to end, the shared data fetched through the gateways;
        then the summary."""
        assert self.city is not None and self.fleet is not None
        wait_for_gateways(self.fleet)
        self._run_services(step)
        step("health passes: issuing, checking at a venue offline, publishing counts")
        self.summary.epidemic = run_epidemic_control(self.client, self.city)
        s = self.summary
        s.enterprises, s.citizens = len(self.city.enterprises), len(self.city.citizens)
        s.height = int(self.client.status()["height"])
        s.transactions = _count_transactions(self.client, s.height)
        s.seconds = time.monotonic() - self.started
        return s

    def _run_services(self, step: Callable[[str], None]) -> None:
        assert self.city is not None and self.fleet is not None
        city, url = self.city, self.url
        services = ServiceCity(
            lambda key: Client(url, key=key),
            admins=city.admins,
            officers={org: list(keys) for org, keys in city.officers.items()},
        )
        step("publishing the built-in services through governance")
        prepare_services(services)
        for service_id, run in SCENARIOS.items():
            step(f"running the service {service_id}")
            result = run(services, _applicant(city, APPLICANTS[service_id]), share_under_grant)
            done = self.summary.services_completed
            done[service_id] = done.get(service_id, 0) + 1
            self.summary.credentials_issued += len(result.outputs)
            self._fetch_shared_data(services, result.instance)
        rows, total = compute_paperwork_rows(services.services().paperwork())
        self.summary.paperwork = {
            "total": total.to_json(),
            "services": [r.to_json() for r in rows],
        }

    def _fetch_shared_data(self, services: ServiceCity, instance: dict[str, Any]) -> None:
        """The departments acting on the instance fetch the data its grants cover."""
        assert self.fleet is not None
        for grant_id in iter_grants(instance):
            grant = services.client().query("sharing", "grant", {"id": grant_id})
            requester_key = services.officer(str(grant["requester"]))
            self.fleet.fetch(grant, requester_key)
            self.summary.data_shared += 1
