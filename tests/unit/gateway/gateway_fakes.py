"""A gateway service over fakes of the chain: grants and key holders set by the test, a real
SQLite data source and a real receipt journal in a temporary directory. Keys derive from labels."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from govchain.client.gateway import KeyHolder, ProvenGrant
from govchain.contracts.identity import Identity, KeyEntry
from govchain.contracts.sharing_records import Grant
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.gateway.config import GatewayConfig, ResourceMapping
from govchain.gateway.datasource import DataSource
from govchain.gateway.journal import ReceiptJournal
from govchain.gateway.sample import create_sample_db
from govchain.gateway.service import GatewayService


def now_ms() -> int:
    """The real time: signed requests carry it, so the gateway's test clock starts from it."""
    return int(time.time() * 1000)


OWNER, REQUESTER = "market-regulation", "tax"
RESOURCE = "market.enterprises"
SUBJECT, OTHER_SUBJECT = "ent:91330200MA0000001L", "ent:91330200MA0000002J"
GRANT_ID = "g" * 32


def key(label: str) -> KeyPair:
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


def member(org: str, name: str, pair: KeyPair, *, status: str = "active") -> Identity:
    return Identity(
        f"{org}:{name}",
        "member",
        org,
        roles=["gateway" if name == "gateway" else "admin"],
        status=status,  # type: ignore[arg-type]
        keys=[KeyEntry(pair.public_key, 1)],
    )


def org(org_id: str) -> Identity:
    return Identity(org_id, "org", org_id)


def grant(**changes: Any) -> Grant:
    base = Grant(
        GRANT_ID,
        GRANT_ID,
        RESOURCE,
        OWNER,
        REQUESTER,
        ["name", "status"],
        "Subsidy eligibility check",
        5,
        now_ms() + 3_600_000,
        3,
        subject=SUBJECT,
    )
    return msgspec.structs.replace(base, **changes)


@dataclass
class FakeChain:
    """Grants and key holders as the test sets them, "proven" at ``height``."""

    height: int = 10
    grants: dict[str, Grant] = field(default_factory=dict)
    holders: dict[bytes, tuple[Identity, Identity | None]] = field(default_factory=dict)
    head: int | None = None
    reads: int = 0

    def grant(self, grant_id: str) -> ProvenGrant:
        self.reads += 1
        return ProvenGrant(grant_id, self.grants.get(grant_id), self.height)

    def key_holder(self, public_key: bytes) -> KeyHolder | None:
        found = self.holders.get(public_key)
        if found is None:
            return None
        return KeyHolder(public_key, found[0], found[1], self.height)

    def start(self) -> None:
        self.head = self.height

    def stop(self) -> None:
        self.head = None

    def add_member(self, org_id: str, name: str, pair: KeyPair, **kw: Any) -> None:
        self.holders[pair.public_key] = (member(org_id, name, pair, **kw), org(org_id))


@dataclass
class World:
    service: GatewayService
    chain: FakeChain
    journal: ReceiptJournal
    owner_key: KeyPair
    requester_key: KeyPair
    clock_ms: list[int]


def make_world(tmp_path: Path, **config: Any) -> World:
    db_url = f"sqlite:///{tmp_path / 'market.db'}"
    create_sample_db(db_url, "enterprises", [SUBJECT, OTHER_SUBJECT])
    mapping = ResourceMapping(RESOURCE, table="enterprises", key_column="subject")
    cfg = GatewayConfig(db_url, "http://node.invalid", "unused.key", [mapping], **config)
    chain = FakeChain()
    owner_key, requester_key = key("market-gateway"), key("tax-admin")
    chain.add_member(OWNER, "gateway", owner_key)
    chain.add_member(REQUESTER, "admin", requester_key)
    chain.grants[GRANT_ID] = grant()
    journal = ReceiptJournal(tmp_path / "journal.db")
    clock_ms = [now_ms()]
    service = GatewayService(
        cfg,
        owner_key,
        OWNER,
        chain,
        DataSource(db_url, [mapping]),
        journal,
        clock=lambda: clock_ms[0] / 1000,
    )
    return World(service, chain, journal, owner_key, requester_key, clock_ms)
