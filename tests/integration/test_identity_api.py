"""Identity routes against a real node: public DID resolution of organisations, strict DID
parsing, and the access rules of identities' records and members' lists."""

from __future__ import annotations

import httpx
import pytest

from govchain.client import Client, add_signature
from govchain.contracts.did import encode_multikey
from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import GovchainError

from .nodeproc import NodeProcess

ORG = "tax"


def test_org_did_is_public(shared_node: NodeProcess) -> None:
    client = shared_node.client()
    did = f"did:govchain:{client.chain_id}:{ORG}"
    result = client.resolve_did(did)
    doc, meta = result["didDocument"], result["didDocumentMetadata"]
    assert doc["id"] == did and doc["controller"] == did
    assert doc["@context"][0] == "https://www.w3.org/ns/did/v1"
    assert meta["deactivated"] is False and meta["kind"] == "org"
    assert meta["createdHeight"] == 0 and meta["created"].endswith("Z")
    assert result["didResolutionMetadata"]["did"] == did
    assert client.resolve_did(did, height=0)["didResolutionMetadata"]["height"] == 0
    assert client.org(ORG)["name_zh"] == "税务局"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/dids/did:govchain:other-chain:tax", 400, "IDENTITY_BAD_DID"),
        ("/v1/dids/did:web:example.com", 400, "IDENTITY_BAD_DID"),
        ("/v1/dids/tax", 400, "IDENTITY_BAD_DID"),
        ("/v1/dids/did:govchain:{chain}:nowhere", 404, "IDENTITY_NOT_FOUND"),
        ("/v1/dids/did:govchain:{chain}:tax:admin", 401, "AUTH_REQUIRED"),
        ("/v1/orgs/nowhere", 404, "IDENTITY_NOT_FOUND"),
        ("/v1/orgs/tax/members", 401, "AUTH_REQUIRED"),
        ("/v1/identities/tax:admin", 401, "AUTH_REQUIRED"),
    ],
)
def test_problems(shared_node: NodeProcess, path: str, status: int, code: str) -> None:
    chain = shared_node.client().chain_id
    response = httpx.get(shared_node.url + path.format(chain=chain), timeout=10)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code and problem["hint"]


def test_members_read_identities_and_member_lists(shared_node: NodeProcess) -> None:
    admin = shared_node.network.key(ORG)
    with Client(shared_node.url, key=admin) as client:
        record = client.identity(f"{ORG}:admin")
        assert record["roles"] == ["admin"] and record["keys"][0]["public_key"] == (
            admin.public_key.hex()
        )
        assert f"{ORG}:admin" in [m["id"] for m in client.members(ORG)]


def test_enrol_by_sdk_then_the_member_reads_itself(shared_node: NodeProcess) -> None:
    admin = shared_node.network.key(ORG)
    new = get_scheme(ED25519).generate()
    with Client(shared_node.url, key=admin) as client:
        args = {"org": ORG, "name": "sdk-clerk", "public_key": new.public_key, "roles": ["officer"]}
        raw = add_signature(client.build(admin, "identity", "enrol_member", args), new)
        outcome = client.wait(client.submit(raw))
        assert outcome.ok, outcome
    with Client(shared_node.url, key=new) as member:
        record = member.identity(f"{ORG}:sdk-clerk")
        assert record["status"] == "active"
        with pytest.raises(GovchainError):
            member.identity(f"{ORG}:nobody")  # members read others' records; this one is absent
    org_doc = Client(shared_node.url).resolve_did(f"did:govchain:{client.chain_id}:{ORG}")
    assert org_doc["didDocument"]["verificationMethod"] == []  # the org's own keys: none yet
    assert encode_multikey(new.public_key).startswith("z6Mk")
