"""Helpers of the identity tests: a populated chain (``world``) with one actor per role.

The tax department has an admin (``tax:admin``, two keys), an officer, an issuer, an auditor and a
client; the bureau runs the node and has an officer who attests citizens; an enterprise and a
citizen have registered. Every actor's key derives from a label, so every run is the same.

Citizens' attestations need the issuer to be accredited: :func:`accredit_founders` makes the
governance lookup say that the founding organisations are accredited for "real-name" (the
accreditation itself is the governance contract's business, tested there).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from govchain.client.tx import add_signature
from govchain.contracts.identity import Attestation
from govchain.crypto.signing import KeyPair
from govchain.errors import GovchainError
from govchain.execution import CheckedTx

CREDIT_CODE = "91350100M000100Y43"
OTHER_CREDIT_CODE = "91110000600037341L"
TAX_ROLES = ("officer", "issuer", "auditor", "client")
ACTORS = (
    "admin",
    "officer",
    "issuer",
    "auditor",
    "client",
    "node",
    "other_admin",
    "enterprise",
    "citizen",
    "unregistered",
)


def doc_hash(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def attestation(issuer: str = "bureau", kind: str = "real-name") -> Attestation:
    return Attestation(issuer, doc_hash(f"evidence-{issuer}-{kind}"), kind)


@dataclass
class World:
    chain: Any  # tests/unit/conftest.py's Chain

    def key(self, actor: str) -> KeyPair:
        """The key of an actor of the authorisation matrix (or of any label)."""
        chain = self.chain
        named = {
            "admin": chain.admin("tax"),
            "node": chain.node_key,
            "other_admin": chain.admin("health"),
            "enterprise": chain.key("enterprise"),
            "citizen": chain.key("citizen"),
            "unregistered": chain.key("stranger"),
            "bureau_officer": chain.key("bureau-officer"),
        }
        if actor in named:
            return named[actor]
        if actor in TAX_ROLES:
            return chain.key(f"tax-{actor}")
        return chain.key(actor)

    def raw(
        self,
        actor: str | KeyPair,
        method: str,
        args: Any,
        cosign: Sequence[str | KeyPair] = (),
        contract: str = "identity",
    ) -> bytes:
        signer = self.key(actor) if isinstance(actor, str) else actor
        raw = self.chain.tx(signer, args, contract=contract, method=method)
        for co in cosign:
            raw = add_signature(raw, self.key(co) if isinstance(co, str) else co)
        return raw

    def run(
        self,
        actor: str | KeyPair,
        method: str,
        args: Any,
        cosign: Sequence[str | KeyPair] = (),
        contract: str = "identity",
    ) -> str:
        """Admit, execute and commit one transaction: "OK", or the code that rejected it (at
        admission, e.g. TX_UNKNOWN_SENDER, or in its receipt)."""
        checked = self.chain.app.check_txs([self.raw(actor, method, args, cosign, contract)])[0]
        if isinstance(checked, GovchainError):
            return checked.code
        assert isinstance(checked, CheckedTx)
        pending = self.chain.app.finalize_block([checked], self.chain.next_time())
        committed = self.chain.app.commit(pending)
        if committed.dropped:
            return committed.dropped[0][1].code
        (receipt,) = committed.receipts
        return "OK" if receipt.ok else str(receipt.code)

    def ok(self, *args: Any, **kw: Any) -> None:
        assert self.run(*args, **kw) == "OK"

    def admitted(self, actor: str | KeyPair) -> str:
        """Whether a notarisation signed by ``actor`` passes admission ("OK" or its code)."""
        raw = self.chain.tx(self.key(actor) if isinstance(actor, str) else actor)
        checked = self.chain.app.check_txs([raw])[0]
        return checked.code if isinstance(checked, GovchainError) else "OK"

    def get(self, identity_id: str) -> Any:
        return self.chain.app.query("identity", "get", {"id": identity_id})


def populate(chain: Any) -> World:
    world = World(chain)
    for role in TAX_ROLES:
        args = {
            "org": "tax",
            "name": role,
            "public_key": world.key(role).public_key,
            "roles": [role],
        }
        world.ok("admin", "enrol_member", args, cosign=[role])
    bureau = {
        "org": "bureau",
        "name": "officer",
        "public_key": world.key("bureau_officer").public_key,
        "roles": ["officer"],
    }
    world.ok(chain.admin("bureau"), "enrol_member", bureau, cosign=["bureau_officer"])
    world.ok("enterprise", "register_enterprise", {"credit_code": CREDIT_CODE, "name": "Acme"})
    world.ok(
        "citizen", "register_citizen", {"attestation": attestation()}, cosign=["bureau_officer"]
    )
    return world
