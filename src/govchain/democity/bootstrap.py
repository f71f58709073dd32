"""Set the demo city up through ordinary transactions, as a real city would: governance
accredits departments for the credential types they issue, departments enrol officers and
issuers, enterprises and citizens register themselves (citizens with a real-name attestation of
the public security bureau). Every key is kept in the demo directory; running it again on a city
that is already set up only loads the keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from govchain.client import Client
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.contracts.identity import Attestation, member_id
from govchain.contracts.identity_methods import (
    EnrolArgs,
    RegisterCitizenArgs,
    RegisterEnterpriseArgs,
    citizen_id,
)
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.democity.city import CITIZEN_COUNT, ENTERPRISES, Enterprise
from govchain.democity.txbatch import TxRound
from govchain.errors import GovchainError, NotFound
from govchain.node.config import load_key, save_key
from govchain.types import Genesis

__all__ = ["City", "bootstrap_city", "exists", "load_or_create_key"]

REAL_NAME = "real-name"
ATTESTING_ORG = "public-security"


@dataclass
class City:
    """The keys of everyone in the demo city, as set up on its chain."""

    directory: Path
    admins: dict[str, KeyPair]  # org id -> admin key
    officers: dict[str, list[KeyPair]] = field(default_factory=dict)  # org id -> officer keys
    enterprises: dict[str, tuple[Enterprise, KeyPair]] = field(default_factory=dict)
    citizens: list[KeyPair] = field(default_factory=list)
    transactions: int = 0

    def enterprise_id(self, key_name: str) -> str:
        return "ent:" + self.enterprises[key_name][0].credit_code

    def citizen_ids(self) -> list[str]:
        return [citizen_id(k.public_key) for k in self.citizens]


def load_or_create_key(path: Path, *, org: str = "", role: str = "") -> KeyPair:
    """The key stored at ``path``, created when missing."""
    if path.exists():
        return load_key(path)
    pair = get_scheme(ED25519).generate()
    save_key(path, pair, org=org, role=role)
    return pair


def exists(client: Client, identity_id: str) -> bool:
    try:
        client.identity(identity_id)
    except GovchainError as exc:
        if exc.code in (NotFound.code, "IDENTITY_NOT_FOUND"):
            return False
        raise
    return True


def _accredit(
    client: Client, city: City, pairs: Iterable[tuple[str, str]], genesis: Genesis
) -> None:
    """Propose one accreditation per (org, type) and let a majority of founders approve it."""
    wanted = [p for p in pairs if not _is_accredited(client, *p)]
    if not wanted:
        return
    proposer = genesis.orgs[0].id
    rnd = TxRound(client)
    for org, ctype in wanted:
        rnd.add(
            city.admins[proposer],
            "governance",
            "propose",
            ProposeArgs(Accredit(org, ctype), title=f"accredit {org} for {ctype}"),
        )
    ids = [int(o.result["id"]) for o in rnd.run()]
    voters = [o.id for o in genesis.orgs if o.id != proposer][: len(genesis.orgs) // 2]
    for proposal_id in ids:
        for voter in voters:
            rnd.add(city.admins[voter], "governance", "vote", VoteArgs(proposal_id, True))
    rnd.run()
    city.transactions += len(wanted) * (1 + len(voters))


def _is_accredited(client: Client, org: str, ctype: str) -> bool:
    found = client.query("governance", "accreditations", {"org": org})
    return any(a["credential_type"] == ctype and a["status"] == "active" for a in found)


def _enrol(client: Client, city: City, wanted: dict[str, int]) -> None:
    """Each organisation enrols ``wanted[org]`` officers (who may also issue credentials), as
    ``service-officer-N``; the new member's key co-signs (proof of possession)."""
    rnd = TxRound(client)
    for org, count in sorted(wanted.items()):
        keys = city.officers.setdefault(org, [])
        for n in range(1, count + 1):
            name = f"service-officer-{n}"
            key = load_or_create_key(
                city.directory / "orgs" / org / f"{name}.key", org=org, role="officer"
            )
            keys.append(key)
            if not exists(client, member_id(org, name)):
                args = EnrolArgs(org, name, key.public_key, ["officer", "issuer"])
                rnd.add(city.admins[org], "identity", "enrol_member", args, cosigners=[key])
    city.transactions += len(rnd)
    rnd.run()


def _register_people(client: Client, city: City) -> None:
    rnd = TxRound(client)
    people = city.directory / "people"
    for ent in ENTERPRISES:
        key = load_or_create_key(people / f"{ent.key_name}.key", role="enterprise")
        city.enterprises[ent.key_name] = (ent, key)
        if not exists(client, "ent:" + ent.credit_code):
            rnd.add(
                key,
                "identity",
                "register_enterprise",
                RegisterEnterpriseArgs(ent.credit_code, ent.name, ent.name_zh),
            )
    attester = city.officers[ATTESTING_ORG][0]
    for i in range(CITIZEN_COUNT):
        key = load_or_create_key(people / f"citizen-{i:02d}.key", role="citizen")
        city.citizens.append(key)
        if not exists(client, citizen_id(key.public_key)):
            evidence = hashlib.sha256(b"real-name check %d" % i).digest()
            args = RegisterCitizenArgs(Attestation(ATTESTING_ORG, evidence, REAL_NAME))
            rnd.add(key, "identity", "register_citizen", args, cosigners=[attester])
    city.transactions += len(rnd)
    rnd.run()


def bootstrap_city(
    client: Client,
    directory: Path,
    genesis: Genesis,
    accreditations: Iterable[tuple[str, str]],
    officers: dict[str, int],
    *,
    step: Callable[[str], None] = lambda _: None,
) -> City:
    """Set the city up (or load it when already set up). ``accreditations`` lists the
    (organisation, credential type) pairs governance should grant, ``officers`` how many
    officers each organisation needs (at least one each)."""
    admins = {o.id: load_key(directory / "orgs" / o.id / "admin.key") for o in genesis.orgs}
    city = City(directory, admins)
    pairs = [(ATTESTING_ORG, REAL_NAME), *accreditations]
    step("accrediting departments through governance")
    _accredit(client, city, pairs, genesis)
    step("enrolling officers and issuers")
    _enrol(client, city, {o.id: max(1, officers.get(o.id, 1)) for o in genesis.orgs})
    step("registering enterprises and citizens")
    _register_people(client, city)
    return city
