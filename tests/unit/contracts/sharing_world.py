"""Helpers of the catalogue and sharing tests: a chain where tax publishes four resources (one per
sharing situation), health requests them, and both departments run a gateway.

- ``tax.payer-status``: conditional, enterprise fields (the enterprise must consent)
- ``tax.income``: conditional, personal fields (the citizen must consent)
- ``tax.offices``: unconditional, public fields (a department's request is granted at once)
- ``tax.case-files``: not shareable

Members: tax's ``officer`` (decides) and ``gateway`` (anchors receipts); health's ``fetcher``
(a client: signs requests at health's gateway). Every key derives from a label.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec
from identity_world import CREDIT_CODE, attestation

from govchain.client.tx import add_signature
from govchain.contracts.catalog_records import DataField, Gateway, ResourceArgs
from govchain.contracts.identity_methods import citizen_id
from govchain.contracts.sharing_records import AccessReceipt, receipt_sign_bytes
from govchain.contracts.sharing_state import AnchorReceiptsArgs
from govchain.crypto.signing import KeyPair
from govchain.types import Receipt

ENTERPRISE = f"ent:{CREDIT_CODE}"
# The methods test_sharing_matrix.py runs against every role (the registry-wide check reads it).
MATRIX_COVERED = {
    ("catalog", m) for m in ("add_responsibility", "add_resource", "update_resource")
} | {
    ("sharing", m)
    for m in (
        "request",
        "consent",
        "withdraw_consent",
        "approve",
        "reject",
        "revoke",
        "anchor_receipts",
    )
}
DAY_MS = 24 * 3600 * 1000
GATEWAY_URL = "https://gateway.tax.example/v1"


def field(name: str, sensitivity: str = "public", type_: str = "string") -> DataField:
    return DataField(name, type_, sensitivity, f"the {name}")


def resource_args(resource_id: str = "tax.payer-status", **changes: Any) -> ResourceArgs:
    base = ResourceArgs(
        id=resource_id,
        org="tax",
        responsibility="tax-collection",
        name="Taxpayer status",
        name_zh="纳税人状态",
        description="Registration and arrears status of taxpayers",
        fields=[
            field("credit_code"),
            field("status", "enterprise"),
            field("arrears", "enterprise", "decimal"),
        ],
        classification="internal",
        update_frequency="daily",
        sharing="conditional",
        legal_basis="Tax Collection Administration Law, art. 6",
        gateway=Gateway(GATEWAY_URL, hashlib.sha256(b"tax-gateway-transport").digest()),
    )
    return msgspec.structs.replace(base, **changes)


RESOURCES = {
    "tax.payer-status": {},
    "tax.income": {
        "name": "Individual income",
        "name_zh": "个人收入",
        "fields": [field("year", type_="integer"), field("income", "personal", "decimal")],
    },
    "tax.offices": {
        "name": "Tax offices",
        "name_zh": "税务办公地点",
        "fields": [field("office"), field("address")],
        "sharing": "unconditional",
    },
    "tax.case-files": {
        "name": "Case files",
        "name_zh": "案卷",
        "fields": [field("case", "internal")],
        "sharing": "none",
        "legal_basis": "",
    },
}


@dataclass
class SharingWorld:
    chain: Any  # tests/unit/conftest.py's Chain

    def key(self, label: str) -> KeyPair:
        named = {f"{org}_admin": self.chain.admin(org) for org in ("tax", "health", "bureau")}
        return named.get(label) or self.chain.key(label)

    @property
    def citizen(self) -> str:
        return citizen_id(self.key("citizen").public_key)

    def send(
        self, actor: str | KeyPair, contract: str, method: str, args: Any, cosign: tuple = ()
    ) -> Receipt:
        key = self.key(actor) if isinstance(actor, str) else actor
        raw = self.chain.tx(key, args, contract=contract, method=method)
        for co in cosign:
            raw = add_signature(raw, self.key(co))
        committed = self.chain.commit([raw])
        assert len(committed.receipts) == 1, committed.dropped
        receipt: Receipt = committed.receipts[0]
        return receipt

    def ok(self, actor: str | KeyPair, contract: str, method: str, args: Any, **kw: Any) -> Any:
        receipt = self.send(actor, contract, method, args, **kw)
        assert receipt.ok, (receipt.code, receipt.message)
        return None if receipt.result is None else msgspec.msgpack.decode(bytes(receipt.result))

    def code(self, actor: str | KeyPair, contract: str, method: str, args: Any) -> str:
        receipt = self.send(actor, contract, method, args)
        return "OK" if receipt.ok else str(receipt.code)

    def query(self, contract: str, view: str, **args: Any) -> Any:
        return self.chain.app.query(contract, view, args)

    # --- set-up ----------------------------------------------------------------------------

    def enrol(self, org: str, name: str, roles: list[str]) -> None:
        label = f"{org}-{name}"
        args = {"org": org, "name": name, "public_key": self.key(label).public_key, "roles": roles}
        admin = f"{org}_admin"
        self.ok(admin, "identity", "enrol_member", args, cosign=(label,))

    def populate(self) -> SharingWorld:
        self.enrol("tax", "officer", ["officer"])
        self.enrol("tax", "gateway", ["gateway"])
        self.enrol("tax", "auditor", ["auditor"])
        self.enrol("health", "fetcher", ["client"])
        self.ok(
            "enterprise",
            "identity",
            "register_enterprise",
            {"credit_code": CREDIT_CODE, "name": "Acme"},
        )
        self.enrol("bureau", "officer", ["officer"])
        self.ok(
            "citizen",
            "identity",
            "register_citizen",
            {"attestation": attestation()},
            cosign=("bureau-officer",),
        )
        duty = {"org": "tax", "id": "tax-collection", "name": "Tax collection", "name_zh": "征税"}
        self.ok("tax-officer", "catalog", "add_responsibility", duty)
        for resource_id, changes in RESOURCES.items():
            self.ok("tax-officer", "catalog", "add_resource", resource_args(resource_id, **changes))
        return self

    # --- sharing ---------------------------------------------------------------------------

    def request(
        self,
        resource_id: str = "tax.payer-status",
        fields: list[str] | None = None,
        *,
        actor: str = "health_admin",
        subject: str | None = ENTERPRISE,
        duration_ms: int = 30 * DAY_MS,
        max_uses: int = 2,
    ) -> Receipt:
        args = {
            "resource_id": resource_id,
            "fields": fields or ["credit_code", "status"],
            "purpose": "Verify tax compliance for a subsidy application",
            "duration_ms": duration_ms,
            "max_uses": max_uses,
            "subject": subject,
        }
        return self.send(actor, "sharing", "request", args)

    def request_id(self, **kw: Any) -> str:
        receipt = self.request(**kw)
        assert receipt.ok, (receipt.code, receipt.message)
        return str(msgspec.msgpack.decode(bytes(receipt.result))["id"])

    def granted(self, **kw: Any) -> str:
        """A request consented to by the enterprise and approved by tax; its grant id."""
        request_id = self.request_id(**kw)
        self.ok("enterprise", "sharing", "consent", {"id": request_id})
        self.ok("tax-officer", "sharing", "approve", {"id": request_id})
        return request_id

    def receipt(
        self,
        grant_id: str,
        n: int = 0,
        *,
        fields: list[str] | None = None,
        time_ms: int | None = None,
        requester: str = "health",
        requester_key: str = "health-fetcher",
        owner_key: str = "tax-gateway",
    ) -> AccessReceipt:
        unsigned = AccessReceipt(
            grant_id,
            hashlib.sha256(f"request-{grant_id}-{n}".encode()).digest(),
            hashlib.sha256(f"response-{grant_id}-{n}".encode()).digest(),
            fields or ["credit_code", "status"],
            self.chain.header.time_ms if time_ms is None else time_ms,
            requester,
            self.key(requester_key).public_key,
            b"",
            self.key(owner_key).public_key,
            b"",
        )
        return sign_receipt(unsigned, self.key(requester_key), self.key(owner_key))

    def anchor(self, *receipts: AccessReceipt, actor: str = "tax-gateway") -> str:
        receipt = self.send(actor, "sharing", "anchor_receipts", AnchorReceiptsArgs(list(receipts)))
        return "OK" if receipt.ok else str(receipt.code)


def sign_receipt(receipt: AccessReceipt, requester: KeyPair, owner: KeyPair) -> AccessReceipt:
    message = receipt_sign_bytes(receipt)
    return msgspec.structs.replace(
        receipt,
        requester_key=requester.public_key,
        requester_signature=requester.sign(message),
        owner_key=owner.public_key,
        owner_signature=owner.sign(message),
    )


def make_world(chain: Any) -> SharingWorld:
    return SharingWorld(chain).populate()
