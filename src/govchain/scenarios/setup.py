"""Make a running network ready for the built-in services, through ordinary transactions:
officers for the departments, accreditations and schemas of the credential types the services
use, the definitions published and registered by governance. Idempotent: what is already on
chain is left alone, so the demo city and the tests can call it on every run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from govchain.client import Client, TxOutcome, add_signature
from govchain.client.services import Services
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit, RegisterService
from govchain.contracts.identity_methods import EnrolArgs
from govchain.contracts.notary import AnchorArgs
from govchain.contracts.workflow_definitions import (
    Definition,
    compute_definition_hash,
    parse_definition,
)
from govchain.credentials.schema import DRAFT_2020_12
from govchain.crypto.hashing import sha256
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import GovchainError
from govchain.services import builtin_ids, issued_types, load_definition, load_document

__all__ = [
    "REAL_NAME",
    "SCHEMA_VERSION",
    "ServiceCity",
    "TxItem",
    "prepare_services",
    "run_round",
    "settle",
]

REAL_NAME = "real-name"
ATTESTING_ORG = "public-security"
SCHEMA_VERSION = "1.0"
OPEN_SCHEMA = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "string"}},
}
WAIT_S = 60.0
SETTLE_ROUNDS = 5


@dataclass
class ServiceCity:
    """Who acts: ``connect(key)`` returns a client signing with ``key``; ``admins`` holds every
    founding organisation's admin key (governance votes, schemas); ``officers`` an organisation's
    officers (acting on steps, issuing): given, or enrolled by :func:`prepare_services`."""

    connect: Callable[[KeyPair | None], Client]
    admins: dict[str, KeyPair]
    officers: dict[str, list[KeyPair]] = field(default_factory=dict)
    _clients: dict[bytes, Client] = field(default_factory=dict, repr=False)

    def client(self, key: KeyPair | None = None) -> Client:
        """A client signing with ``key`` (default: the first admin's), kept for reuse."""
        key = key or next(iter(self.admins.values()))
        if key.public_key not in self._clients:
            self._clients[key.public_key] = self.connect(key)
        return self._clients[key.public_key]

    def services(self, key: KeyPair | None = None) -> Services:
        return Services(self.client(key))

    def officer(self, org: str, n: int = 0) -> KeyPair:
        return self.officers[org][n]


# one transaction of a round: signer, contract, method, arguments, co-signers
TxItem = tuple[KeyPair, str, str, Any, Sequence[KeyPair]]


def run_round(client: Client, items: Sequence[TxItem]) -> list[TxOutcome]:
    """Submit many transactions at once and wait for every one; a failure raises, naming it."""
    raws = []
    for key, contract, method, args, cosigners in items:
        raw = client.build(key, contract, method, args)
        for co in cosigners:
            raw = add_signature(raw, co)
        raws.append(raw)
    if not raws:
        return []
    answer = client.submit_batch(raws)
    outcomes = []
    for item, result in zip(items, answer["results"], strict=True):
        if result.get("error") is not None:
            raise GovchainError(f"{item[1]}.{item[2]} refused: {result['error'].get('detail')}")
        outcome = client.wait(str(result["tx_id"]), WAIT_S)
        if not outcome.ok:
            raise GovchainError(f"{item[1]}.{item[2]} failed: {outcome.code}: {outcome.message}")
        outcomes.append(outcome)
    return outcomes


def settle(city: ServiceCity, what: str, is_done: Callable[[], bool]) -> None:
    """Wait until ``is_done`` (a read of committed state) holds. Governance enacts a passed
    proposal at the start of the next block, and a node cuts blocks only for transactions: while
    the condition does not hold, anchor a set-up checkpoint in the notary to make that block."""
    admin_org, admin = next(iter(city.admins.items()))
    client = city.client()
    for _ in range(SETTLE_ROUNDS):
        if is_done():
            return
        mark = sha256(f"{what} {time.time_ns()}".encode())
        args = AnchorArgs(mark, f"service set-up checkpoint: {what}"[:200], admin_org)
        run_round(client, [(admin, "notary", "anchor", args, ())])
    raise GovchainError(f"{what} did not take effect after {SETTLE_ROUNDS} blocks")


def _govern(city: ServiceCity, actions: list[Any], is_done: Callable[[], bool], what: str) -> None:
    """Propose each action and let a majority of the founding organisations approve it."""
    if not actions:
        return
    client = city.client()
    proposer, *others = list(city.admins)
    proposals = run_round(
        client, [(city.admins[proposer], "governance", "propose", a, ()) for a in actions]
    )
    ids = [int(o.result["id"]) for o in proposals]
    voters = others[: len(city.admins) // 2]
    votes = [
        (city.admins[v], "governance", "vote", VoteArgs(i, True), ()) for i in ids for v in voters
    ]
    run_round(client, votes)
    settle(city, what, is_done)


def needed_officers(definitions: Iterable[Definition]) -> dict[str, int]:
    """How many officers each organisation needs (the largest approval count of its steps)."""
    need: dict[str, int] = {}
    for definition in definitions:
        for org in definition.organisations():
            need.setdefault(org, 1)
        for step in definition.steps:
            need[step.org] = max(need[step.org], step.approval.n)
    return need


def _enrol_officers(city: ServiceCity, wanted: dict[str, int]) -> None:
    client = city.client()
    members = {org: {m["id"] for m in client.members(org)} for org in wanted}
    items: list[TxItem] = []
    for org, count in sorted(wanted.items()):
        keys = city.officers.setdefault(org, [])
        for n in range(count):
            name = f"service-officer-{n + 1}"
            if len(keys) <= n:
                keys.append(get_scheme(ED25519).generate())
            if f"{org}:{name}" not in members[org]:
                args = EnrolArgs(org, name, keys[n].public_key, ["officer", "issuer"])
                items.append((city.admins[org], "identity", "enrol_member", args, [keys[n]]))
    run_round(client, items)


def _accredited(client: Client) -> set[tuple[str, str]]:
    found = client.query("governance", "accreditations", {})
    return {(a["org"], a["credential_type"]) for a in found if a["status"] == "active"}


def _accredit(city: ServiceCity, pairs: set[tuple[str, str]]) -> None:
    client = city.client()
    missing = sorted(pairs - _accredited(client))
    actions = [ProposeArgs(Accredit(org, t), title=f"accredit {org} for {t}") for org, t in missing]
    _govern(city, actions, lambda: pairs <= _accredited(client), "accreditations")


def _register_schemas(city: ServiceCity, pairs: set[tuple[str, str]]) -> None:
    client = city.client()
    items: list[TxItem] = []
    for org, ctype in sorted(pairs):
        if ctype == REAL_NAME:
            continue
        try:
            client.credential_schema(ctype, SCHEMA_VERSION)
            continue
        except GovchainError as exc:
            if exc.code != "CERT_UNKNOWN_SCHEMA":
                raise
        args = {
            "credential_type": ctype,
            "version": SCHEMA_VERSION,
            "schema_json": json.dumps(OPEN_SCHEMA),
        }
        items.append((city.admins[org], "certs", "register_schema", args, ()))
    run_round(client, items)


def _active_hashes(client: Client) -> set[str]:
    return {
        s["definition_hash"] for s in Services(client).list_services() if s["status"] == "active"
    }


def _is_published(client: Client, digest: str) -> bool:
    try:
        client.query("workflow", "definition", {"hash": bytes.fromhex(digest)})
    except GovchainError as exc:
        if exc.code != "WF_DEFINITION_MISSING":
            raise
        return False
    return True


def _register_services(city: ServiceCity, service_ids: list[str]) -> None:
    client = city.client()
    documents = {sid: load_document(sid) for sid in service_ids}
    wanted = {compute_definition_hash(d).hex(): d for d in documents.values()}
    missing = {h: d for h, d in wanted.items() if h not in _active_hashes(client)}
    publisher = next(iter(city.admins.values()))
    publish = [
        (publisher, "workflow", "publish", {"document": document}, ())
        for digest, document in missing.items()
        if not _is_published(client, digest)
    ]
    run_round(client, publish)
    actions = []
    for document in missing.values():
        d = parse_definition(document)
        action = RegisterService(d.id, d.version, d.title, compute_definition_hash(document))
        actions.append(ProposeArgs(action, title=f"register service {d.id} {d.version}"))
    _govern(city, actions, lambda: set(wanted) <= _active_hashes(client), "service registrations")


def prepare_services(city: ServiceCity, service_ids: Iterable[str] | None = None) -> None:
    """Everything the built-in services (or ``service_ids``) need before they can run."""
    ids = sorted(service_ids or builtin_ids())
    definitions = [load_definition(sid) for sid in ids]
    _enrol_officers(city, needed_officers(definitions))
    pairs = {pair for d in definitions for pair in issued_types(d)}
    pairs.add((ATTESTING_ORG, REAL_NAME))
    _accredit(city, pairs)
    _register_schemas(city, pairs)
    _register_services(city, ids)
