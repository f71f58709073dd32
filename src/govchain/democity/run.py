"""Run the demo city end to end against a running node: set the city up, then every part of the
platform the way its users would — and count what happened for the summary."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from govchain.client import Client
from govchain.client.services import compute_paperwork_rows
from govchain.contracts.identity_methods import citizen_id
from govchain.contracts.notary import AnchorArgs
from govchain.democity.bootstrap import City, bootstrap_city
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

__all__ = ["CitySummary", "run_city"]

# what the built-in services need is accredited by scenarios.prepare_services; these are the
# health commission's epidemic-control passes
ACCREDITATIONS: tuple[tuple[str, str], ...] = (
    ("health-commission", "TestResult"),
    ("health-commission", "Vaccination"),
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
    count = len(rnd.raws)
    rnd.run()
    return count


def _applicant(city: City, who: str | int) -> Applicant:
    if isinstance(who, int):
        key = city.citizens[who]
        return Applicant(key, citizen_id(key.public_key))
    return Applicant(city.enterprises[who][1], city.enterprise_id(who))


def _run_services(url: str, city: City, summary: CitySummary, step: Callable[[str], None]) -> None:
    """Every built-in service, once, end to end, by the city's own enterprises and citizens."""
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
        summary.services_completed[service_id] = summary.services_completed.get(service_id, 0) + 1
        summary.credentials_issued += len(result.outputs)
        summary.data_shared += result.met["data"]
    rows, total = compute_paperwork_rows(services.services().paperwork())
    summary.paperwork = {"total": total.to_json(), "services": [r.to_json() for r in rows]}


def _count_transactions(client: Client, height: int) -> int:
    """Every transaction on the chain (each block's header counts its own)."""
    return sum(int(client.block(h)["header"]["tx_count"]) for h in range(1, height + 1))


def run_city(
    url: str, directory: Path, *, step: Callable[[str], None] = lambda _: None
) -> CitySummary:
    """Set the city up and exercise it through ``url``; return what it did."""
    started = time.monotonic()
    genesis = load_genesis(directory)
    operator = load_key(directory / "orgs" / genesis.orgs[0].id / "admin.key")
    summary = CitySummary(organisations=len(genesis.orgs))
    with Client(url, key=operator) as client:
        definitions = [load_definition(sid) for sid in builtin_ids()]
        officers = needed_officers(definitions)
        city = bootstrap_city(client, directory, genesis, ACCREDITATIONS, officers, step=step)
        step("notarising sample documents")
        summary.documents_notarised = _notarise_samples(client, city)
        _run_services(url, city, summary, step)
        summary.enterprises = len(city.enterprises)
        summary.citizens = len(city.citizens)
        summary.height = int(client.status()["height"])
        summary.transactions = _count_transactions(client, summary.height)
    summary.seconds = time.monotonic() - started
    return summary
