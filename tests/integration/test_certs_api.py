"""Certificates against a real node: accredit through governance votes, register a schema, issue
with the SDK, verify through the public API, revoke, verify again; bulk issuance; status lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from govchain.client import Client, add_signature
from govchain.client.certs import bulk_issue, issue_credential
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.credentials.schema import DRAFT_2020_12
from govchain.credentials.status_list import StatusList
from govchain.credentials.vc import compute_credential_id
from govchain.crypto.signing import ED25519, KeyPair, get_scheme

from .nodeproc import NodeProcess

TYPE = "BusinessLicence"
SCHEMA = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}


@dataclass
class Issuing:
    node: NodeProcess
    client: Client
    issuer: KeyPair

    def issue(self, name: str) -> dict[str, Any]:
        return issue_credential(
            self.client,
            self.issuer,
            issuer_org="tax",
            credential_type=TYPE,
            schema_version="1.0",
            subject={"id": f"did:example:{name}", "name": name},
            valid_from="2024-01-01T00:00:00Z",
            valid_until="2099-01-01T00:00:00Z",
            assurance_level="B",
        )


@pytest.fixture(scope="module")
def issuing(shared_node: NodeProcess) -> Issuing:
    net = shared_node.network
    admin = net.key("tax")
    client = shared_node.client()
    proposed = client.send(admin, "governance", "propose", ProposeArgs(Accredit("tax", TYPE)))
    proposal_id = proposed.result["id"]
    for org in ("market-regulation", "health-commission"):
        client.send(net.key(org), "governance", "vote", VoteArgs(proposal_id, True))
    issuer = get_scheme(ED25519).generate()
    enrol = {"org": "tax", "name": "issuer", "public_key": issuer.public_key, "roles": ["issuer"]}
    raw = add_signature(client.build(admin, "identity", "enrol_member", enrol), issuer)
    assert client.wait(client.submit(raw)).ok  # this block also enacts the accreditation
    proposal = client.query("governance", "proposal", {"id": proposal_id})
    assert proposal["status"] == "enacted", proposal
    issuer_client = shared_node.client(key=issuer)
    schema = {"credential_type": TYPE, "version": "1.0", "schema_json": _json(SCHEMA)}
    issuer_client.send(issuer, "certs", "register_schema", schema)
    return Issuing(shared_node, issuer_client, issuer)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def test_issue_verify_revoke_verify(issuing: Issuing) -> None:
    vc = issuing.issue("acme")
    anonymous = issuing.node.client(anonymous=True)  # verifying is a public service
    answer = anonymous.verify_credential(vc)
    assert answer["valid"], answer["checks"]
    assert [c["check"] for c in answer["checks"]][-1] == "status"
    assert answer["anchor"]["issuer_org"] == "tax"

    shown = anonymous.credential_status(compute_credential_id(vc))
    assert shown["status"]["status"] == "active"

    revoke = {
        "credential_hash": bytes.fromhex(compute_credential_id(vc)),
        "reason_code": "superseded",
    }
    issuing.client.send(issuing.issuer, "certs", "revoke", revoke)
    again = anonymous.verify_credential(vc)
    assert not again["valid"]
    failed = {c["check"]: c["code"] for c in again["checks"] if c["ok"] is False}
    assert failed == {"status": "CERT_REVOKED"}

    index = int(vc["credentialStatus"][0]["statusListIndex"])
    listed = anonymous.status_list("tax", "revocation")
    assert listed["signed"] is False and len(listed["state_root"]) == 64
    subject = listed["credential"]["credentialSubject"]
    assert StatusList.decode(subject["encodedList"]).get(index)
    assert listed["credential"]["id"] == vc["credentialStatus"][0]["statusListCredential"]


def test_tampered_credential_is_named(issuing: Issuing) -> None:
    vc = issuing.issue("tamper")
    vc["credentialSubject"]["name"] = "evil"
    answer = issuing.node.client(anonymous=True).verify_credential(vc)
    failed = {c["check"]: c["code"] for c in answer["checks"] if c["ok"] is False}
    assert failed == {"anchor": "CERT_NOT_ANCHORED", "signature": "CRED_BAD_PROOF"}


def test_bulk_issue_in_batches(issuing: Issuing) -> None:
    seen: list[int] = []
    rows = [{"id": f"did:example:bulk-{i}", "name": f"Shop {i}"} for i in range(45)]
    result = bulk_issue(
        issuing.client,
        issuing.issuer,
        rows,
        issuer_org="tax",
        credential_type=TYPE,
        schema_version="1.0",
        valid_from="2024-01-01T00:00:00Z",
        batch=20,
        progress=lambda done, total: seen.append(done),
    )
    assert len(result.credentials) == 45 and len(result.outcomes) == 3
    assert seen == [20, 40, 45]
    indexes = [int(vc["credentialStatus"][0]["statusListIndex"]) for vc in result.credentials]
    assert len(set(indexes)) == 45
    assert issuing.client.verify_credential(result.credentials[-1])["valid"]


def test_unknown_credential_is_404(issuing: Issuing) -> None:
    from govchain.errors import GovchainError

    with pytest.raises(GovchainError) as caught:
        issuing.node.client(anonymous=True).credential_status(b"\x07" * 32)
    assert caught.value.code == "CERT_NOT_FOUND"


def test_signed_status_list_publish_serve_verify(issuing: Issuing) -> None:
    import copy
    import time

    from govchain.client.status_lists import (
        fetch_status_list,
        get_list_status,
        publish_status_list,
        verify_status_list,
    )

    vc = issuing.issue("listed")
    suspend = {
        "credential_hash": bytes.fromhex(compute_credential_id(vc)),
        "reason_code": "cessation",
    }
    issuing.client.send(issuing.issuer, "certs", "suspend", suspend)
    published = publish_status_list(issuing.client, issuing.issuer, org="tax", purpose="suspension")
    anonymous = issuing.node.client(anonymous=True)

    served = fetch_status_list(anonymous, "tax", "suspension")
    assert served["signed"] is True and served["record"]["list_hash"] == published.list_hash
    document = served["credential"]
    derived = fetch_status_list(anonymous, "tax", "suspension", derived=True)
    assert derived["signed"] is False and derived["derived"] is True

    now = int(time.time() * 1000)
    result = verify_status_list(anonymous, document, now_ms=now, issuer=vc["issuer"])
    assert result.valid, result.failed
    assert get_list_status(document, vc) is True
    online = anonymous.post("/v1/credentials/status-lists/verify", json={"credential": document})
    assert online["valid"], online["checks"]
    assert [c["check"] for c in online["checks"]][-1] == "content"

    altered = copy.deepcopy(document)
    bits = StatusList.decode(altered["credentialSubject"]["encodedList"])
    bits.set(99_999)
    altered["credentialSubject"]["encodedList"] = bits.encode()
    refused = verify_status_list(anonymous, altered, now_ms=now)
    failed = {c.check: c.code for c in refused.failed}
    assert failed == {
        "anchor": "STATUS_LIST_NOT_ANCHORED",
        "signature": "STATUS_LIST_BAD_SIGNATURE",
    }
    stale = verify_status_list(anonymous, document, now_ms=now + 2 * 86_400_000)
    assert {c.check: c.code for c in stale.failed} == {"freshness": "STATUS_LIST_STALE"}
