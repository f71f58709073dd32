"""Helpers of the certificate tests: a chain where tax is accredited for ``BusinessLicence``, has
an issuer and an officer, and has registered the type's schema version 1.0.

Credentials are built with the SDK's pure :func:`govchain.client.certs.build_credential` and
anchored through the contract, so every test drives the real transaction path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from govchain.app.verify_credential import CredentialVerification, verify_credential
from govchain.client.certs import build_credential
from govchain.client.tx import add_signature
from govchain.contracts.certs_records import AnchorArgs
from govchain.contracts.did import did_of
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit, Action, RevokeAccreditation
from govchain.credentials.schema import DRAFT_2020_12
from govchain.credentials.vc import compute_credential_hash, parse_datetime_stamp
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import decode
from govchain.types import Receipt

TYPE = "BusinessLicence"
VERSION = "1.0"
SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "maxLength": 100},
        "licenceNo": {"type": "string", "pattern": "^[0-9]{6}$"},
    },
}
VALID_FROM = "2023-11-01T00:00:00Z"  # the unit chain's genesis is 2023-11-14T22:13:20Z
VALID_UNTIL = "2030-01-01T00:00:00Z"
LISTS = "https://node.example/v1/credentials/status-lists/tax"


def key_for(label: str) -> KeyPair:
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


def ms(stamp: str | None) -> int | None:
    return None if stamp is None else int(parse_datetime_stamp(stamp) * 1000)


@dataclass
class CertWorld:
    chain: Any  # tests/unit/conftest.py's Chain
    issuer: KeyPair = field(default_factory=lambda: key_for("tax-issuer"))
    officer: KeyPair = field(default_factory=lambda: key_for("tax-officer"))
    next_index: int = 0

    def send(
        self,
        key: KeyPair,
        method: str,
        args: Any,
        *,
        contract: str = "certs",
        cosign: tuple[KeyPair, ...] = (),
    ) -> Receipt:
        raw = self.chain.tx(key, args, contract=contract, method=method)
        for co in cosign:
            raw = add_signature(raw, co)
        committed = self.chain.commit([raw])
        assert len(committed.receipts) == 1, committed.dropped
        receipt: Receipt = committed.receipts[0]
        return receipt

    def ok(self, key: KeyPair, method: str, args: Any, **kw: Any) -> Any:
        receipt = self.send(key, method, args, **kw)
        assert receipt.ok, (receipt.code, receipt.message)
        return None if receipt.result is None else msgspec.msgpack.decode(bytes(receipt.result))

    def code(self, key: KeyPair, method: str, args: Any, **kw: Any) -> str:
        receipt = self.send(key, method, args, **kw)
        return "OK" if receipt.ok else str(receipt.code)

    # --- set-up ----------------------------------------------------------------------------

    def enrol(self, org: str, name: str, key: KeyPair, roles: list[str]) -> None:
        args = {"org": org, "name": name, "public_key": key.public_key, "roles": roles}
        self.ok(self.chain.admin(org), "enrol_member", args, contract="identity", cosign=(key,))

    def govern(self, action: Action) -> None:
        """Tax proposes, bureau approves, the next block enacts."""
        receipt = self.send(
            self.chain.admin("tax"), "propose", ProposeArgs(action), contract="governance"
        )
        assert receipt.ok, receipt.message
        proposal_id = decode(bytes(receipt.result), dict)["id"]
        vote = self.send(
            self.chain.admin("bureau"), "vote", VoteArgs(proposal_id, True), contract="governance"
        )
        assert vote.ok, vote.message
        self.chain.commit([])
        shown = self.chain.app.query("governance", "proposal", {"id": proposal_id})
        assert shown.status == "enacted", shown

    def accredit(self, org: str, credential_type: str = TYPE) -> None:
        self.govern(Accredit(org, credential_type))

    def revoke_accreditation(self, org: str, credential_type: str = TYPE) -> None:
        self.govern(RevokeAccreditation(org, credential_type))

    def register_schema(
        self, key: KeyPair | None = None, version: str = VERSION, schema: Any = None
    ) -> str:
        args = {
            "credential_type": TYPE,
            "version": version,
            "schema_json": msgspec.json.encode(SCHEMA if schema is None else schema).decode(),
        }
        return self.code(key or self.issuer, "register_schema", args)

    # --- credentials -----------------------------------------------------------------------

    def method_of(self, member: str = "tax:issuer", n: int = 1) -> str:
        return f"{did_of(self.chain.chain_id, member)}#key-{n}"

    def vc(
        self,
        subject: dict[str, Any] | None = None,
        *,
        key: KeyPair | None = None,
        method: str | None = None,
        issuer_did: str | None = None,
        credential_type: str = TYPE,
        index: int | None = None,
        valid_until: str | None = VALID_UNTIL,
    ) -> dict[str, Any]:
        if index is None:
            index, self.next_index = self.next_index, self.next_index + 1
        return build_credential(
            key or self.issuer,
            verification_method=method or self.method_of(),
            issuer_did=issuer_did or did_of(self.chain.chain_id, "tax"),
            credential_type=credential_type,
            subject=subject or {"id": "did:example:holder", "name": "Acme Ltd"},
            status_index=index,
            status_lists_url=LISTS,
            valid_from=VALID_FROM,
            valid_until=valid_until,
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
            created="2023-11-15T00:00:00Z",
        )

    def anchor_args(self, vc: dict[str, Any], **kw: Any) -> AnchorArgs:
        index = int(vc["credentialStatus"][0]["statusListIndex"])
        fields: dict[str, Any] = {
            "credential_hash": compute_credential_hash(vc),
            "credential_type": TYPE,
            "schema_version": VERSION,
            "issuer_org": "tax",
            "valid_from_ms": ms(vc.get("validFrom")),
            "status_index": index,
            "valid_until_ms": ms(vc.get("validUntil")),
            "assurance_level": "B",
        }
        fields.update(kw)
        return AnchorArgs(**fields)

    def anchor(self, vc: dict[str, Any], key: KeyPair | None = None, **kw: Any) -> str:
        return self.code(key or self.issuer, "anchor", self.anchor_args(vc, **kw))

    def issue(self, **kw: Any) -> dict[str, Any]:
        vc = self.vc(**kw)
        assert self.anchor(vc) == "OK"
        return vc

    def set_status(self, vc: dict[str, Any], action: str, reason: str = "administrative") -> str:
        args = {"credential_hash": compute_credential_hash(vc), "reason_code": reason}
        return self.code(self.officer, action, args)

    def verify(self, vc: Any, now_ms: int | None = None) -> CredentialVerification:
        now = self.chain.header.time_ms if now_ms is None else now_ms
        return verify_credential(self.chain.app, vc, now)


def make_world(chain: Any) -> CertWorld:
    world = CertWorld(chain)
    world.enrol("tax", "issuer", world.issuer, ["issuer"])
    world.enrol("tax", "officer", world.officer, ["officer"])
    world.accredit("tax")
    assert world.register_schema() == "OK"
    return world


def outcome(result: CredentialVerification) -> dict[str, tuple[bool | None, str]]:
    """``{check: (ok, code)}`` of a verification."""
    return {c.check: (c.ok, c.code) for c in result.checks}
