"""Data sharing against a real node: publish a catalogue entry, request enterprise data, the
enterprise consents, the owner approves, the gateways' receipts are anchored, and the audit
trail is read per subject, grant, resource and organisation with every state proof checked."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import pytest

from govchain.client import Client, add_signature
from govchain.client.audit import AuditClient, records_to_csv
from govchain.client.catalog import CatalogClient, resource_from_json
from govchain.client.sharing import SharingClient, sign_receipt
from govchain.contracts.sharing_records import AccessReceipt
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import AuthForbidden, AuthRequired, AuthUnknownKey, ContractError

from .nodeproc import NodeProcess

CREDIT_CODE = "91350100M000100Y43"
ENTERPRISE = f"ent:{CREDIT_CODE}"
RESOURCE = {
    "id": "tax.payer-status",
    "org": "tax",
    "responsibility": "tax-collection",
    "name": "Taxpayer status",
    "name_zh": "纳税人状态",
    "description": "Registration and arrears status of taxpayers",
    "fields": [
        {"name": "credit_code", "type": "string", "sensitivity": "public"},
        {"name": "status", "type": "string", "sensitivity": "enterprise"},
        {"name": "arrears", "type": "decimal", "sensitivity": "enterprise"},
    ],
    "classification": "internal",
    "update_frequency": "daily",
    "sharing": "conditional",
    "legal_basis": "Tax Collection Administration Law, art. 6",
    "gateway": {"url": "https://gw.tax.example/v1", "public_key": "11" * 32},
}


@dataclass
class Setup:
    node: NodeProcess
    tax: KeyPair  # tax admin: publishes and decides
    gateway: KeyPair  # tax member with the gateway role: anchors receipts
    health: KeyPair  # health-commission admin: requests
    enterprise: KeyPair  # the data subject
    grant_id: str

    def client(self, key: KeyPair | None) -> Client:
        return self.node.client(key=key, anonymous=key is None)


def _enrol_gateway(node: NodeProcess, admin: KeyPair) -> KeyPair:
    gateway = get_scheme(ED25519).generate()
    client = node.client(key=admin)
    args = {"org": "tax", "name": "gateway", "public_key": gateway.public_key, "roles": ["gateway"]}
    raw = add_signature(client.build(admin, "identity", "enrol_member", args), gateway)
    assert client.wait(client.submit(raw)).ok
    return gateway


@pytest.fixture(scope="module")
def setup(shared_node: NodeProcess) -> Setup:
    net = shared_node.network
    tax, health = net.key("tax"), net.key("health-commission")
    enterprise = get_scheme(ED25519).generate()
    shared_node.client(key=enterprise).send(
        enterprise, "identity", "register_enterprise", {"credit_code": CREDIT_CODE, "name": "Acme"}
    )
    gateway = _enrol_gateway(shared_node, tax)
    catalog = CatalogClient(shared_node.client(key=tax))
    catalog.add_responsibility(tax, "tax", "tax-collection", "Tax collection", "征税")
    catalog.add(tax, resource_from_json(RESOURCE))

    requester = SharingClient(shared_node.client(key=health))
    request = requester.request(
        health,
        "tax.payer-status",
        ["credit_code", "status"],
        purpose="Subsidy eligibility check",
        max_uses=3,
        subject=ENTERPRISE,
    )
    owner = SharingClient(shared_node.client(key=tax))
    with pytest.raises(ContractError) as missing:
        owner.approve(tax, request["id"])
    assert missing.value.code == "SHARE_CONSENT_MISSING"
    SharingClient(shared_node.client(key=enterprise)).consent(enterprise, request["id"])
    approved = owner.approve(tax, request["id"])
    return Setup(shared_node, tax, gateway, health, enterprise, approved["grant_id"])


def _receipt(s: Setup, n: int, fields: list[str] | None = None) -> AccessReceipt:
    unsigned = AccessReceipt(
        s.grant_id,
        hashlib.sha256(b"request %d" % n).digest(),
        hashlib.sha256(b"response %d" % n).digest(),
        fields or ["credit_code", "status"],
        int(time.time() * 1000),
        "health-commission",
        b"",
        b"",
        b"",
        b"",
    )
    return sign_receipt(sign_receipt(unsigned, s.health, "requester"), s.gateway, "owner")


def test_catalogue_is_public_and_proven(setup: Setup) -> None:
    catalog = CatalogClient(setup.client(None))
    shown = catalog.resource("tax.payer-status")
    assert shown["resource"]["version"] == 1 and shown["state"]["exists"]
    assert [r["id"] for r in catalog.search("arrears")] == ["tax.payer-status"]
    assert [r["id"] for r in catalog.search(org="tax")] == ["tax.payer-status"]
    assert catalog.responsibilities("tax")[0]["name_zh"] == "征税"


def test_anchor_and_audit_per_subject_with_proofs(setup: Setup) -> None:
    sharing = SharingClient(setup.client(setup.gateway))
    outcome = sharing.anchor_receipts(setup.gateway, [_receipt(setup, 0), _receipt(setup, 1)])
    assert outcome.ok
    with pytest.raises(ContractError) as replay:
        sharing.anchor_receipts(setup.gateway, [_receipt(setup, 1)])
    assert replay.value.code == "SHARE_RECEIPT_REPLAYED"
    with pytest.raises(ContractError) as outside:
        sharing.anchor_receipts(setup.gateway, [_receipt(setup, 2, ["arrears"])])
    assert outside.value.code == "SHARE_FIELDS_NOT_GRANTED"

    trail = AuditClient(setup.client(setup.enterprise)).access(subject=ENTERPRISE)
    assert trail.verified and len(trail.records) == 2
    assert {r["requester"] for r in trail.records} == {"health-commission"}
    assert trail.records[0]["fields"] == ["credit_code", "status"]
    csv_text = records_to_csv(trail.records)
    assert csv_text.splitlines()[0].startswith("time_ms,owner,resource_id")
    for key, query in [
        (setup.tax, {"resource": "tax.payer-status"}),
        (setup.health, {"grant": setup.grant_id}),
        (setup.health, {"org": "health-commission"}),
    ]:
        assert len(AuditClient(setup.client(key)).access(**query).records) == 2
    shown = SharingClient(setup.client(setup.enterprise)).show(setup.grant_id)
    assert shown["grant"]["uses"] == 2


def test_auditors_of_any_organisation_read_the_trail(setup: Setup) -> None:
    admin = setup.node.network.key("market-regulation")
    auditor = get_scheme(ED25519).generate()
    client = setup.client(admin)
    args = {"org": "market-regulation", "name": "auditor", "public_key": auditor.public_key}
    raw = client.build(admin, "identity", "enrol_member", {**args, "roles": ["auditor"]})
    assert client.wait(client.submit(add_signature(raw, auditor))).ok
    receipt = _receipt(setup, 10)
    assert SharingClient(setup.client(setup.gateway)).anchor_receipts(setup.gateway, [receipt]).ok
    trail = AuditClient(setup.client(auditor)).access(resource="tax.payer-status")
    assert trail.verified
    assert receipt.request_hash.hex() in {r["request_hash"] for r in trail.records}
    assert SharingClient(setup.client(auditor)).show(setup.grant_id)["grant"] is not None
    stranger = get_scheme(ED25519).generate()
    with pytest.raises(AuthUnknownKey):
        AuditClient(setup.client(stranger)).access(subject=ENTERPRISE)


def test_audit_is_for_the_parties_only(setup: Setup) -> None:
    outsider = setup.node.network.key("market-regulation")
    assert AuditClient(setup.client(outsider)).access(subject=ENTERPRISE).records == []
    with pytest.raises(AuthRequired):
        AuditClient(setup.client(None)).access(subject=ENTERPRISE)
    with pytest.raises(AuthForbidden):
        SharingClient(setup.client(outsider)).show(setup.grant_id)
    with pytest.raises(AuthForbidden):
        SharingClient(setup.client(outsider)).requests("tax")
    listed = SharingClient(setup.client(setup.enterprise)).requests(grants_only=True)
    assert [r["id"] for r in listed] == [setup.grant_id]
