"""The departments' data in the demo city: each department that owns data a built-in service
needs keeps it in its own database (SQLite, one file per department), behind its own gateway,
and catalogues it on chain with the gateway's address and key. The data itself never reaches the
chain: a service step fetches it through the gateways under a grant."""

from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import msgspec
import sqlalchemy as sa

from govchain.client import Client
from govchain.client.gateway import GatewayClient
from govchain.contracts.catalog_records import DataField, Gateway, ResourceArgs
from govchain.contracts.identity import member_id
from govchain.contracts.identity_methods import EnrolArgs
from govchain.crypto.signing import KeyPair
from govchain.democity.bootstrap import City, exists, load_or_create_key
from govchain.democity.txbatch import TxRound
from govchain.errors import GovchainError
from govchain.gateway.config import GatewayConfig, ResourceMapping
from govchain.scenarios.sharing import is_catalogued
from govchain.services import builtin_ids, load_definition

__all__ = ["DataResource", "GatewayFleet", "data_resources"]

GATEWAY_MEMBER = "gateway"
ENTERPRISE_SERVICES = {"open-restaurant", "resume-production", "sme-loan"}


@dataclass(frozen=True)
class DataResource:
    owner: str
    id: str
    fields: tuple[str, ...]
    about: str  # "enterprise" or "personal": whose data it is

    @property
    def table(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]", "_", self.id.split(".", 1)[-1])


def data_resources() -> list[DataResource]:
    """The data the built-in services fetch from other departments."""
    found: dict[str, DataResource] = {}
    for service_id in builtin_ids():
        about = "enterprise" if service_id in ENTERPRISE_SERVICES else "personal"
        for step in load_definition(service_id).steps:
            for need in step.needs:
                if need.data is not None:
                    way = need.data
                    fields = tuple(sorted({*found.get(way.resource, _none).fields, *way.fields}))
                    found[way.resource] = DataResource(way.owner, way.resource, fields, about)
    return sorted(found.values(), key=lambda r: r.id)


_none = DataResource("", "", (), "")


def _value(resource: DataResource, field: str, subject: str) -> str:
    """A synthetic, deterministic value (the demo city's records)."""
    digest = hashlib.sha256(f"{resource.id}/{field}/{subject}".encode()).hexdigest()
    return f"{field}-{digest[:8]}"


def _fill_database(url: str, resources: list[DataResource], subjects: list[str]) -> None:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    for r in resources:
        columns = [sa.Column("subject", sa.String, primary_key=True)]
        columns += [sa.Column(f, sa.String) for f in r.fields]
        table = sa.Table(r.table, metadata, *columns)
        metadata.drop_all(engine, tables=[table])
        metadata.create_all(engine, tables=[table])
        rows = [{"subject": s, **{f: _value(r, f, s) for f in r.fields}} for s in subjects]
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
    engine.dispose()


class GatewayFleet:
    """One gateway per department that owns data, on consecutive ports after the node's."""

    def __init__(self, city: City, url: str, first_port: int) -> None:
        self.city = city
        self.node_url = url
        self.resources = data_resources()
        owners = sorted({r.owner for r in self.resources})
        self.ports = {org: first_port + i for i, org in enumerate(owners)}
        self.keys: dict[str, KeyPair] = {}
        self.processes: list[subprocess.Popen[bytes]] = []

    def url(self, org: str) -> str:
        return f"http://127.0.0.1:{self.ports[org]}"

    def prepare(self, client: Client) -> None:
        """Enrol each gateway's key, fill the databases, catalogue the resources."""
        rnd = TxRound(client)
        for org in self.ports:
            path = self.city.directory / "orgs" / org / f"{GATEWAY_MEMBER}.key"
            key = self.keys[org] = load_or_create_key(path, org=org, role=GATEWAY_MEMBER)
            if not exists(client, member_id(org, GATEWAY_MEMBER)):
                args = EnrolArgs(org, GATEWAY_MEMBER, key.public_key, [GATEWAY_MEMBER])
                rnd.add(self.city.admins[org], "identity", "enrol_member", args, cosigners=[key])
        rnd.run()
        subjects = [*(self.city.enterprise_id(k) for k in self.city.enterprises)]
        subjects += self.city.citizen_ids()
        for org in self.ports:
            owned = [r for r in self.resources if r.owner == org]
            _fill_database(self._db_url(org), owned, subjects)
        self._catalogue(client)

    def _db_url(self, org: str) -> str:
        directory = (self.city.directory / "gateways").resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory / f'{org}.db'}"

    def _catalogue(self, client: Client) -> None:
        rnd = TxRound(client)
        for org in self.ports:
            officer = self.city.officers[org][0]
            duties = {d["id"] for d in client.query("catalog", "responsibilities", {"org": org})}
            if f"{org}-records" not in duties:
                duty = {"org": org, "id": f"{org}-records", "name": f"{org} records"}
                rnd.add(officer, "catalog", "add_responsibility", duty)
        rnd.run()
        for r in self.resources:
            if not is_catalogued(client, r.id):
                rnd.add(self.city.officers[r.owner][0], "catalog", "add_resource", self._entry(r))
        rnd.run()

    def _entry(self, r: DataResource) -> ResourceArgs:
        return ResourceArgs(
            id=r.id,
            org=r.owner,
            responsibility=f"{r.owner}-records",
            name=r.id,
            name_zh=r.id,
            description=f"{r.id}: records the {r.owner} department keeps",
            fields=[DataField(f, "string", r.about) for f in r.fields],
            classification="internal",
            update_frequency="daily",
            sharing="conditional",
            legal_basis="Municipal public data sharing regulation",
            gateway=Gateway(self.url(r.owner), self.keys[r.owner].public_key),
        )

    def start(self) -> None:
        """Start every gateway as its own process (``govchain gateway start --config``), as a
        department would run it next to its database; :meth:`stop` ends them."""
        directory = self.city.directory / "gateways"
        for org, port in self.ports.items():
            mappings = [
                ResourceMapping(r.id, table=r.table, key_column="subject")
                for r in self.resources
                if r.owner == org
            ]
            config = GatewayConfig(
                db=self._db_url(org),
                node=self.node_url,
                key=str((self.city.directory / "orgs" / org / f"{GATEWAY_MEMBER}.key").resolve()),
                resources=mappings,
                journal=str((directory / f"{org}-journal.db").resolve()),
                port=port,
                flush_ms=200,
            )
            path = directory / f"{org}.json"
            path.write_bytes(msgspec.json.format(msgspec.json.encode(config)))
            command = [sys.executable, "-m", "govchain", "gateway", "start", "--config", str(path)]
            # in the demo's process group: Ctrl-C stops the gateways together with the node
            with (directory / f"{org}.log").open("ab") as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            self.processes.append(process)

    def stop(self) -> None:
        """Stop the gateways (they anchor the receipts they still hold first)."""
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def fetch(self, grant: dict[str, object], requester_key: KeyPair) -> dict[str, object]:
        """Fetch a grant's fields through the owner's gateway, as the grantee."""
        owner = str(grant["owner"])
        with GatewayClient(self.url(owner), key=requester_key) as gateway:
            result = gateway.fetch(
                str(grant["id"]),
                resource_id=str(grant["resource_id"]),
                subject=str(grant["subject"]),
                fields=[str(f) for f in grant["fields"]],  # type: ignore[attr-defined]
                requester=str(grant["requester"]),
                owner=owner,
            )
        return dict(result.values)


def wait_for_gateways(fleet: GatewayFleet, timeout_s: float = 20.0) -> None:
    """Block until every gateway answers its health check."""
    import time

    import httpx

    deadline = time.monotonic() + timeout_s
    for org in fleet.ports:
        while True:
            try:
                if httpx.get(f"{fleet.url(org)}/v1/health", timeout=1.0).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                log_file = fleet.city.directory / "gateways" / f"{org}.log"
                raise GovchainError(
                    f"the gateway of {org} did not start within {timeout_s:.0f} s",
                    hint=f"Its log is {log_file}; a port after the node's may be taken.",
                )
            time.sleep(0.1)


def iter_grants(instance: dict[str, object]) -> Iterable[str]:
    for need in instance["needs"]:  # type: ignore[attr-defined]
        if need["met_by"] == "data":
            yield str(need["ref"])
