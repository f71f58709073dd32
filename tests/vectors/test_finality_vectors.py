"""Golden vectors for finality certificates (tests/vectors/finality/certificates.json): a valid
certificate any implementation must accept byte for byte, and tampered and garbage ones, each
with the error code a verifier must raise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import encode
from govchain.types.finality import (
    FinalityCertificate,
    FinalityError,
    attestation_sign_bytes,
    compute_quorum,
    decode_certificate,
    get_certificate_problem,
    verify_certificate,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "finality" / "certificates.json").read_text(encoding="utf-8")
)
CHAIN_ID: str = VECTORS["chain_id"]
PEERS = {p["node_id"]: bytes.fromhex(p["public_key"]) for p in VECTORS["peers"]}
VALID = VECTORS["valid"]


def _expect(case: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v if k == "height" else bytes.fromhex(v)) for k, v in case.get("expect", {}).items()
    }


def test_peer_keys_derive_from_their_seeds() -> None:
    for peer in VECTORS["peers"]:
        pair = get_scheme(ED25519).from_seed(bytes.fromhex(peer["seed"]))
        assert pair.public_key.hex() == peer["public_key"]
    assert compute_quorum(len(PEERS)) == VECTORS["quorum"]


def test_valid_certificate_is_reproduced_byte_for_byte() -> None:
    block_hash, state_root = bytes.fromhex(VALID["block_hash"]), bytes.fromhex(VALID["state_root"])
    message = attestation_sign_bytes(CHAIN_ID, VALID["height"], block_hash, state_root)
    assert message.hex() == VALID["sign_bytes"]
    seeds = {p["node_id"]: bytes.fromhex(p["seed"]) for p in VECTORS["peers"]}
    signatures = []
    for node_id in VALID["signers"]:
        pair = get_scheme(ED25519).from_seed(seeds[node_id])
        signatures.append((node_id, pair.public_key, pair.sign(message)))
    cert = FinalityCertificate(CHAIN_ID, VALID["height"], block_hash, state_root, signatures)
    assert encode(cert).hex() == VALID["raw"]


def test_valid_certificate_verifies() -> None:
    cert = decode_certificate(bytes.fromhex(VALID["raw"]))
    verify_certificate(
        cert,
        CHAIN_ID,
        PEERS,
        height=VALID["height"],
        block_hash=bytes.fromhex(VALID["block_hash"]),
        state_root=bytes.fromhex(VALID["state_root"]),
    )
    assert get_certificate_problem(cert, CHAIN_ID, PEERS) is None


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["name"])
def test_invalid_certificate_is_refused_with_its_code(case: dict[str, Any]) -> None:
    cert = decode_certificate(bytes.fromhex(case["raw"]))
    with pytest.raises(FinalityError) as caught:
        verify_certificate(cert, CHAIN_ID, PEERS, **_expect(case))
    assert caught.value.code == case["code"]
    problem = get_certificate_problem(cert, CHAIN_ID, PEERS, **_expect(case))
    assert problem == caught.value.message


@pytest.mark.parametrize("case", VECTORS["garbage"], ids=lambda c: c["name"])
def test_garbage_is_refused_as_malformed(case: dict[str, Any]) -> None:
    with pytest.raises(FinalityError) as caught:
        decode_certificate(bytes.fromhex(case["raw"]))
    assert caught.value.code == case["code"]
