"""DIDs: syntax, Multikey encoding (against the W3C vc-di-eddsa key pair), document shape,
resolution as of a height, deactivation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import base58
import pytest
from identity_world import World

from govchain.contracts.did import (
    DID_CONTEXT,
    InvalidDid,
    build_did_document,
    decode_multikey,
    did_of,
    encode_multikey,
    parse_did,
)
from govchain.contracts.identity import Identity, KeyEntry
from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import ContractError

ROOT = Path(__file__).resolve().parents[3]
KEY_PAIR = ROOT.parent / "shared" / "vectors" / "vc-di-eddsa" / "keyPair.json"
CHAIN = "govchain-unit"


def resolve(world: World, ref: str, height: int | None = None) -> Any:
    return world.chain.app.query("identity", "did", {"id": ref}, height)


def test_multikey_matches_the_w3c_vector() -> None:
    if not KEY_PAIR.exists():
        pytest.skip("shared conformance vectors are not present")
    pair = json.loads(KEY_PAIR.read_text())
    private = base58.b58decode(pair["privateKeyMultibase"][1:])
    assert private[:2] == b"\x80\x26"  # multicodec ed25519-priv
    public_key = get_scheme(ED25519).from_seed(private[2:]).public_key
    assert encode_multikey(public_key) == pair["publicKeyMultibase"]
    assert decode_multikey(pair["publicKeyMultibase"]) == public_key


@pytest.mark.parametrize("bad", ["", "z", "u6Mk", "z6MkrJVnaZ0", "z" + "1" * 40])
def test_decode_multikey_rejects(bad: str) -> None:
    with pytest.raises(ContractError) as info:
        decode_multikey(bad)
    assert info.value.code == "IDENTITY_BAD_KEY"


@pytest.mark.parametrize(
    ("did", "parts"),
    [
        ("did:govchain:city:tax", ("city", "tax")),
        ("did:govchain:govchain-local:tax:alice", ("govchain-local", "tax:alice")),
        ("did:govchain:c:ent:91350100M000100Y43", ("c", "ent:91350100M000100Y43")),
        ("did:govchain:c:cit:" + "ab" * 16, ("c", "cit:" + "ab" * 16)),
    ],
)
def test_parse_did(did: str, parts: tuple[str, str]) -> None:
    assert parse_did(did) == parts
    assert did_of(*parts) == did


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "tax",
        "did:web:example.com",
        "did:govchain:city",
        "did:govchain:city:",
        "did:govchain:city:tax:",
        "did:govchain::tax",
        "did:govchain:city:tax#key-1",
        "did:govchain:city:tax?versionId=1",
        "did:govchain:city:tax/path",
        "DID:govchain:city:tax",
        "did:govchain:city:t ax",
        "did:govchain:city:" + "a" * 300,
    ],
)
def test_parse_did_is_strict(bad: str) -> None:
    with pytest.raises(InvalidDid) as info:
        parse_did(bad)
    assert info.value.code == "IDENTITY_BAD_DID" and info.value.status == 400


def test_member_did_document(world: World) -> None:
    result = resolve(world, "tax:client")
    did = f"did:govchain:{CHAIN}:tax:client"
    doc, meta = result["didDocument"], result["didDocumentMetadata"]
    key = encode_multikey(world.key("client").public_key)
    assert doc == {
        "@context": DID_CONTEXT,
        "id": did,
        "controller": f"did:govchain:{CHAIN}:tax",
        "verificationMethod": [
            {"id": did + "#key-1", "type": "Multikey", "controller": did, "publicKeyMultibase": key}
        ],
        "authentication": [did + "#key-1"],
        "assertionMethod": [did + "#key-1"],
        "service": [],
    }
    assert key.startswith("z6Mk")
    assert meta["deactivated"] is False and meta["status"] == "active"
    assert meta["createdHeight"] == meta["updatedHeight"] > 0
    assert result["didResolutionMetadata"]["height"] == world.chain.height
    assert resolve(world, did) == result  # by DID or by id


def test_org_did_with_service_and_metadata(world: World) -> None:
    svc = {"id": "gateway", "type": "DataGateway", "endpoint": "https://tax.example/gw"}
    world.ok("admin", "set_service", {"id": "tax", "service": svc})
    result = resolve(world, "tax")
    doc, meta = result["didDocument"], result["didDocumentMetadata"]
    did = f"did:govchain:{CHAIN}:tax"
    assert doc["controller"] == did
    assert doc["service"] == [
        {"id": did + "#gateway", "type": "DataGateway", "serviceEndpoint": svc["endpoint"]}
    ]
    assert (meta["name"], meta["nameZh"], meta["orgKind"]) == (
        "Tax Department",
        "tax局",
        "department",
    )
    assert meta["createdHeight"] == 0 and meta["updatedHeight"] == world.chain.height


def test_citizen_did_shows_only_hashes(world: World) -> None:
    from govchain.contracts.identity_methods import citizen_id

    cid = citizen_id(world.key("citizen").public_key)
    meta = resolve(world, cid)["didDocumentMetadata"]
    assert meta["attestation"]["issuer"] == f"did:govchain:{CHAIN}:bureau"
    assert len(bytes.fromhex(meta["attestation"]["evidenceHash"])) == 32


def test_rotation_in_the_document_and_as_of_a_height(world: World) -> None:
    before = world.chain.height
    args = {
        "id": "tax:client",
        "old_public_key": world.key("client").public_key,
        "new_public_key": world.key("client-2").public_key,
    }
    world.ok("client", "rotate_key", args, cosign=["client-2"])
    h = world.chain.height
    now = resolve(world, "tax:client")
    did = f"did:govchain:{CHAIN}:tax:client"
    assert [m["id"] for m in now["didDocument"]["verificationMethod"]] == [did + "#key-2"]
    history = now["didDocumentMetadata"]["keyHistory"]
    assert [(k["id"][-5:], k["addedHeight"], k["untilHeight"], k["status"]) for k in history] == [
        ("key-1", history[0]["addedHeight"], h, "rotated"),
        ("key-2", h, None, "active"),
    ]
    then = resolve(world, "tax:client", before)  # the document as it was before the rotation
    assert [m["id"] for m in then["didDocument"]["verificationMethod"]] == [did + "#key-1"]
    assert then["didResolutionMetadata"]["height"] == before


def test_suspended_and_removed_dids(world: World) -> None:
    world.ok("admin", "suspend", {"id": "tax:client"})
    doc = resolve(world, "tax:client")["didDocument"]
    assert doc["authentication"] == [] and doc["assertionMethod"] == []
    world.ok("admin", "remove", {"id": "tax:client"})
    result = resolve(world, "tax:client")
    assert result["didDocumentMetadata"]["deactivated"] is True
    assert result["didDocument"]["verificationMethod"] == []
    assert result["didDocumentMetadata"]["keyHistory"][0]["status"] == "revoked"


def test_did_view_errors(world: World) -> None:
    with pytest.raises(InvalidDid):
        resolve(world, "did:govchain:another-chain:tax")
    with pytest.raises(InvalidDid):
        resolve(world, "did:govchain:x")
    with pytest.raises(ContractError) as info:
        resolve(world, "tax:nobody")
    assert info.value.code == "IDENTITY_NOT_FOUND"


def test_document_is_pure() -> None:
    key = b"\x01" * 32
    ident = Identity("ent:X", "enterprise", "", keys=[KeyEntry(key, 3)])
    assert build_did_document("c", ident, 2)["verificationMethod"] == []
    (method,) = build_did_document("c", ident, 3)["verificationMethod"]
    assert method["publicKeyMultibase"] == encode_multikey(key)
