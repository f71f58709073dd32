"""Attestations and finality certificates (pure): signing, the quorum, forming and checking."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import encode
from govchain.types import Genesis, GenesisNode
from govchain.types.finality import (
    Attestation,
    FinalityError,
    attestation_sign_bytes,
    compute_certificate,
    compute_quorum,
    decode_attestation,
    founding_peer_keys,
    verify_attestation,
    verify_certificate,
)

CHAIN = "finality-unit"
BLOCK = hashlib.sha256(b"block").digest()
ROOT = hashlib.sha256(b"root").digest()


def key(label: str) -> KeyPair:
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


PEERS = {f"p{i}": key(f"p{i}").public_key for i in range(4)}


def attest(node: str, *, root: bytes = ROOT, chain: str = CHAIN, height: int = 7) -> Attestation:
    pair = key(node)
    message = attestation_sign_bytes(chain, height, BLOCK, root)
    return Attestation(chain, height, BLOCK, root, node, pair.public_key, pair.sign(message))


@pytest.mark.parametrize(("peers", "quorum"), [(1, 1), (2, 2), (3, 3), (4, 3), (7, 5), (10, 7)])
def test_quorum_is_more_than_two_thirds(peers: int, quorum: int) -> None:
    assert compute_quorum(peers) == quorum
    assert 3 * quorum > 2 * peers and 3 * (quorum - 1) <= 2 * peers


def test_no_peers_no_quorum() -> None:
    with pytest.raises(FinalityError) as caught:
        compute_quorum(0)
    assert caught.value.code == "FINALITY_NO_QUORUM"


def test_sign_bytes_are_domain_separated_and_bind_every_field() -> None:
    base = attestation_sign_bytes(CHAIN, 7, BLOCK, ROOT)
    assert len(base) == 32
    assert base != attestation_sign_bytes(CHAIN + "x", 7, BLOCK, ROOT)
    assert base != attestation_sign_bytes(CHAIN, 8, BLOCK, ROOT)
    assert base != attestation_sign_bytes(CHAIN, 7, ROOT, BLOCK)


def test_founding_peer_keys_refuse_a_key_listed_twice() -> None:
    nodes = [GenesisNode("a", "org", "11" * 32), GenesisNode("b", "org", "11" * 32)]
    with pytest.raises(FinalityError) as caught:
        founding_peer_keys(Genesis(CHAIN, 0, [], nodes))
    assert caught.value.code == "FINALITY_MALFORMED"
    bad_hex = Genesis(CHAIN, 0, [], [GenesisNode("a", "org", "zz")])
    with pytest.raises(FinalityError):
        founding_peer_keys(bad_hex)


def test_a_genuine_attestation_verifies() -> None:
    verify_attestation(attest("p1"), CHAIN, PEERS)


@pytest.mark.parametrize(
    ("att", "code"),
    [
        (attest("p1", chain="another"), "FINALITY_WRONG_CHAIN"),
        (attest("stranger"), "FINALITY_UNKNOWN_SIGNER"),
        (
            msgspec.structs.replace(attest("p1"), public_key=key("p2").public_key),
            "FINALITY_UNKNOWN_SIGNER",
        ),
        (msgspec.structs.replace(attest("p1"), state_root=BLOCK), "FINALITY_BAD_SIGNATURE"),
        (msgspec.structs.replace(attest("p1"), signature=b"\x00" * 64), "FINALITY_BAD_SIGNATURE"),
        (msgspec.structs.replace(attest("p1"), block_hash=b"short"), "FINALITY_MALFORMED"),
        (msgspec.structs.replace(attest("p1"), height=-1), "FINALITY_MALFORMED"),
    ],
    ids=["wrong-chain", "stranger", "other-peer-key", "altered", "zero-sig", "short", "negative"],
)
def test_bad_attestations_name_their_fault(att: Attestation, code: str) -> None:
    with pytest.raises(FinalityError) as caught:
        verify_attestation(att, CHAIN, PEERS)
    assert caught.value.code == code


def test_certificate_forms_at_quorum_only() -> None:
    assert compute_certificate([attest("p0"), attest("p1")], PEERS) is None
    cert = compute_certificate([attest("p2"), attest("p0"), attest("p1")], PEERS, CHAIN)
    assert cert is not None
    assert cert.signers == ["p0", "p1", "p2"]
    verify_certificate(cert, CHAIN, PEERS, height=7, block_hash=BLOCK, state_root=ROOT)


def test_forged_and_minority_attestations_never_form_a_certificate() -> None:
    other = hashlib.sha256(b"other root").digest()
    forged = msgspec.structs.replace(attest("p2"), signature=attest("p2", root=other).signature)
    atts = [attest("p0"), attest("p1"), forged, attest("p3", root=other), attest("x")]
    assert compute_certificate(atts, PEERS) is None
    assert compute_certificate([*atts, attest("p3")], PEERS) is not None


def test_attestations_of_another_chain_do_not_count() -> None:
    atts = [attest(p, chain="another") for p in ("p0", "p1", "p2")]
    assert compute_certificate(atts, PEERS, CHAIN) is None


def test_attestations_decode_from_their_canonical_bytes() -> None:
    att = attest("p1")
    assert decode_attestation(encode(att)) == att
    for garbage in (b"", b"\xc1", encode([CHAIN, 7])):
        with pytest.raises(FinalityError) as caught:
            decode_attestation(garbage)
        assert caught.value.code == "FINALITY_MALFORMED"
