"""Two departments that each own data and request the other's, through real gateway processes.

- ``market-regulation`` owns ``market.enterprises`` (the enterprise register) in PostgreSQL;
- ``tax`` owns ``tax.taxpayers`` (the taxpayer ledger) in SQLite.

Each organisation enrols a member with the ``gateway`` role, publishes its resource in the
catalogue with its gateway's URL and key, and runs ``govchain gateway start``. The organisations'
admins request, approve and fetch; enterprises (the data subjects) register and consent with
their own keys. Used by the integration tests and by ``bench/gateway_bench.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from govchain.client import Client, add_signature
from govchain.client.catalog import CatalogClient, resource_from_json
from govchain.client.sharing import SharingClient
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.contracts.identity_methods import (
    CREDIT_CODE_CHARS,
    CREDIT_CODE_WEIGHTS,
    citizen_id,
)
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.gateway.sample import create_sample_db
from govchain.node.config import save_key

from .nodeproc import NodeProcess, free_port, govchain_command

MARKET, TAX = "market-regulation", "tax"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 90.0

ENTERPRISE_FIELDS = [
    ("subject", "string", "public"),
    ("name", "string", "enterprise"),
    ("status", "string", "enterprise"),
    ("registered_capital", "decimal", "enterprise"),
    ("legal_representative", "string", "personal"),
    ("registered_on", "date", "public"),
]
TAXPAYER_FIELDS = [
    ("subject", "string", "public"),
    ("tax_status", "string", "enterprise"),
    ("arrears", "decimal", "enterprise"),
    ("credit_rating", "string", "enterprise"),
    ("last_filing", "date", "public"),
]
DEPARTMENTS = {
    MARKET: ("market.enterprises", "enterprises", "Enterprise register", ENTERPRISE_FIELDS),
    TAX: ("tax.taxpayers", "taxpayers", "Taxpayer ledger", TAXPAYER_FIELDS),
}


def credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015) made from ``n``."""
    body = f"91330200MA{n:07d}"
    total = sum(
        CREDIT_CODE_CHARS.index(c) * w for c, w in zip(body, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return body + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


class GatewayProcess:
    """A running ``govchain gateway start``, configured by a file (``--config``) or, with
    ``flags``, by command-line options."""

    def __init__(self, directory: Path, config: dict[str, Any], *, flags: bool = False) -> None:
        self.dir = directory
        self.config = config
        self.flags = flags
        self.url = f"http://127.0.0.1:{config['port']}"
        self.log_path = directory / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _options(self) -> list[str]:
        if not self.flags:
            path = self.dir / "gateway.json"
            path.write_text(json.dumps(self.config, indent=2), encoding="utf-8")
            return ["--config", str(path)]
        c = self.config
        resources = [f"{r['resource_id']}={r['table']}:{r['key_column']}" for r in c["resources"]]
        options = ["--db", c["db"], "--node", c["node"], "--key", c["key"]]
        options += ["--journal", c["journal"], "--port", str(c["port"])]
        options += [f"--resource={r}" for r in resources]
        for name in ("batch_size", "flush_ms"):
            if name in c:
                options += [f"--{name.replace('_', '-')}", str(c[name])]
        return options

    def start(self) -> GatewayProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*govchain_command(), "gateway", "start", *self._options()],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gateway exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        pytest.fail(f"gateway did not answer within {START_TIMEOUT_S}s:\n{self.log()}")

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(self.url + "/v1/health", timeout=10).json()
        return answer

    def wait_for(self, condition: Any, timeout: float = 60.0) -> dict[str, Any]:
        """Poll the health document until ``condition(health)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if condition(health):
                return health
            if time.monotonic() > deadline:
                pytest.fail(f"gateway health never met the condition: {health}\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """SIGTERM (ready receipts are anchored first); kill if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT_S)


@dataclass
class Department:
    org: str
    admin: KeyPair  # publishes, decides, requests and fetches
    gateway_key: KeyPair
    resource_id: str
    table: str
    db_url: str
    gateway: GatewayProcess | None = None


@dataclass
class ExchangeWorld:
    node: NodeProcess
    base: Path
    departments: dict[str, Department] = field(default_factory=dict)
    enterprises: dict[str, KeyPair] = field(default_factory=dict)  # ent id -> its key
    citizens: dict[str, KeyPair] = field(default_factory=dict)  # cit id -> its key

    def client(self, key: KeyPair) -> Client:
        return self.node.client(key=key)

    def sharing(self, key: KeyPair) -> SharingClient:
        return SharingClient(self.client(key))

    # --- set-up ----------------------------------------------------------------------------

    def register_enterprise(self, n: int) -> str:
        key = get_scheme(ED25519).generate()
        code = credit_code(n)
        args = {"credit_code": code, "name": f"Enterprise {n}"}
        self.client(key).send(key, "identity", "register_enterprise", args)
        self.enterprises[f"ent:{code}"] = key
        return f"ent:{code}"

    def enrol(self, org: str, name: str, role: str) -> KeyPair:
        """A new member of ``org`` with one role (enrolled by the admin, co-signed by the key)."""
        admin = self.node.network.key(org)
        member = get_scheme(ED25519).generate()
        client = self.client(admin)
        args = {"org": org, "name": name, "public_key": member.public_key, "roles": [role]}
        raw = add_signature(client.build(admin, "identity", "enrol_member", args), member)
        assert client.wait(client.submit(raw)).ok
        return member

    def enrol_gateway(self, org: str) -> KeyPair:
        return self.enrol(org, "gateway", "gateway")

    def accredit(self, org: str, kind: str) -> None:
        """Governance accredits ``org`` for ``kind``: its admin proposes, two others vote yes
        (a majority of the five founding organisations); enacted at the next block."""
        client = self.client(self.node.network.key(org))
        action = ProposeArgs(Accredit(org, kind))
        proposed = client.send(self.node.network.key(org), "governance", "propose", action)
        voters = [o for o in (MARKET, TAX, "health-commission") if o != org][:2]
        for voter in voters:
            vote = VoteArgs(proposed.result["id"], True)
            client.send(self.node.network.key(voter), "governance", "vote", vote)

    def register_citizen(self, attesting_org: str = TAX) -> tuple[str, KeyPair]:
        """A citizen registered with a real-name attestation an officer of ``attesting_org``
        (accredited for it here) co-signs; its id and key."""
        if not self.citizens:
            self.accredit(attesting_org, "real-name")
        officer = self.enrol(attesting_org, f"registrar-{len(self.citizens)}", "officer")
        key = get_scheme(ED25519).generate()
        evidence = hashlib.sha256(f"real-name check {len(self.citizens)}".encode()).digest()
        args = {"attestation": {"issuer": attesting_org, "evidence_hash": evidence}}
        client = self.client(key)
        raw = add_signature(client.build(key, "identity", "register_citizen", args), officer)
        outcome = client.wait(client.submit(raw))
        assert outcome.ok, (outcome.code, outcome.message)
        citizen = citizen_id(key.public_key)
        self.citizens[citizen] = key
        return citizen, key

    def publish(self, dept: Department, port: int) -> None:
        resource_id, _, title, fields = DEPARTMENTS[dept.org]
        catalog = CatalogClient(self.client(dept.admin))
        catalog.add_responsibility(dept.admin, dept.org, "registers", "Registers")
        resource = {
            "id": resource_id,
            "org": dept.org,
            "responsibility": "registers",
            "name": title,
            "name_zh": title,
            "description": title,
            "fields": [{"name": n, "type": t, "sensitivity": s} for n, t, s in fields],
            "classification": "internal",
            "update_frequency": "daily",
            "sharing": "conditional",
            "legal_basis": "Municipal data sharing regulation, art. 12",
            "gateway": {
                "url": f"http://127.0.0.1:{port}",
                "public_key": dept.gateway_key.public_key.hex(),
            },
        }
        catalog.add(dept.admin, resource_from_json(resource))

    def add_department(
        self, org: str, db_url: str, *, flags: bool = False, **gateway_config: Any
    ) -> Department:
        resource_id, table, _, _ = DEPARTMENTS[org]
        directory = self.base / org
        directory.mkdir(parents=True, exist_ok=True)
        dept = Department(
            org, self.node.network.key(org), self.enrol_gateway(org), resource_id, table, db_url
        )
        save_key(directory / "gateway.key", dept.gateway_key, org=org, role="gateway")
        create_sample_db(db_url, table, list(self.enterprises))
        port = free_port()
        self.publish(dept, port)
        config = {
            "db": db_url,
            "node": self.node.url,
            "key": str(directory / "gateway.key"),
            "journal": str(directory / "journal.db"),
            "port": port,
            "resources": [{"resource_id": resource_id, "table": table, "key_column": "subject"}],
            **gateway_config,
        }
        dept.gateway = GatewayProcess(directory, config, flags=flags)
        self.departments[org] = dept
        return dept

    def start(self) -> None:
        for dept in self.departments.values():
            assert dept.gateway is not None
            dept.gateway.start()

    def stop(self) -> None:
        for dept in self.departments.values():
            if dept.gateway is not None:
                dept.gateway.stop()

    # --- sharing ---------------------------------------------------------------------------

    def grant(
        self,
        requester: str,
        owner: str,
        subject: str,
        fields: list[str],
        *,
        max_uses: int = 10,
        duration_days: float = 30,
        consent: bool = True,
    ) -> str:
        """A request by ``requester``'s admin, consented by the subject, approved by the owner's
        admin; the grant id."""
        asker, decider = self.departments[requester].admin, self.departments[owner].admin
        request = self.sharing(asker).request(
            asker,
            self.departments[owner].resource_id,
            fields,
            purpose="Subsidy eligibility check",
            duration_days=duration_days,
            max_uses=max_uses,
            subject=subject,
        )
        if consent:
            key = self.enterprises[subject]
            self.sharing(key).consent(key, request["id"])
        approved = self.sharing(decider).approve(decider, request["id"])
        return str(approved["grant_id"])
