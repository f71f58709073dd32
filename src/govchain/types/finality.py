"""Attestations and finality certificates (multi-node).

After executing block ``h`` every peer signs an :class:`Attestation` of what it computed (chain
id, height, block hash, state root). Attestations from a quorum of the founding organisations'
peers — more than two thirds of them — form the block's :class:`FinalityCertificate`, which a
light client, an offline verifier or another region's chain checks with nothing but the genesis
(the trust anchor): no single node has to be trusted.

Everything here is pure: encoding, the bytes that are signed, the quorum size and the checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from govchain.crypto.hashing import tagged_hash
from govchain.crypto.signing import ED25519, get_scheme
from govchain.types.genesis import Genesis

__all__ = [
    "ATTESTATION_DOMAIN",
    "Attestation",
    "FinalityCertificate",
    "FinalityError",
    "attestation_sign_bytes",
    "compute_certificate",
    "compute_quorum",
    "founding_peer_keys",
    "get_certificate_problem",
    "is_attestation_signed",
]

ATTESTATION_DOMAIN = b"govchain/attestation/v1"


class Attestation(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    height: int
    block_hash: bytes
    state_root: bytes
    node_id: str
    public_key: bytes  # the peer's node key (as in the genesis or added by governance)
    signature: bytes  # over attestation_sign_bytes(...)


class FinalityCertificate(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    height: int
    block_hash: bytes
    state_root: bytes
    # (node_id, public_key, signature), sorted by node id; one per peer
    signatures: list[tuple[str, bytes, bytes]]


class FinalityError(ValueError):
    """Why an attestation or a certificate does not hold (pure layer; the node and client map it
    to their typed errors)."""


def attestation_sign_bytes(
    chain_id: str, height: int, block_hash: bytes, state_root: bytes
) -> bytes:
    from govchain.encoding import encode

    return tagged_hash(ATTESTATION_DOMAIN, encode([chain_id, height, block_hash, state_root]))


def is_attestation_signed(att: Attestation) -> bool:
    message = attestation_sign_bytes(att.chain_id, att.height, att.block_hash, att.state_root)
    return get_scheme(ED25519).verify(att.public_key, message, att.signature)


def founding_peer_keys(genesis: Genesis) -> dict[str, bytes]:
    """node id -> public key of the founding organisations' peers (the genesis nodes)."""
    return {n.id: bytes.fromhex(n.public_key) for n in genesis.nodes}


def compute_quorum(peer_count: int) -> int:
    """The smallest number of peers that is more than two thirds of ``peer_count``."""
    if peer_count <= 0:
        raise FinalityError("no peers to form a quorum")
    return (2 * peer_count) // 3 + 1


def get_certificate_problem(
    cert: FinalityCertificate,
    chain_id: str,
    peers: Mapping[str, bytes],
    *,
    block_hash: bytes | None = None,
    state_root: bytes | None = None,
) -> str | None:
    """``None`` when ``cert`` carries valid signatures of a quorum of ``peers`` (node id ->
    key) over its (chain id, height, block hash, state root), and matches the expected block
    hash and state root when given; otherwise the reason it does not hold."""
    if cert.chain_id != chain_id:
        return f"certificate is for chain {cert.chain_id!r}, not {chain_id!r}"
    if block_hash is not None and cert.block_hash != block_hash:
        return f"certificate is for another block at height {cert.height}"
    if state_root is not None and cert.state_root != state_root:
        return f"certificate attests another state root at height {cert.height}"
    message = attestation_sign_bytes(cert.chain_id, cert.height, cert.block_hash, cert.state_root)
    scheme = get_scheme(ED25519)
    signers: set[str] = set()
    for node_id, key, signature in cert.signatures:
        if node_id in signers:
            return f"peer {node_id!r} signed twice"
        if peers.get(node_id) != key:
            return f"{node_id!r} is not a founding peer with that key"
        if not scheme.verify(key, message, signature):
            return f"the signature of {node_id!r} does not verify"
        signers.add(node_id)
    need = compute_quorum(len(peers))
    if len(signers) < need:
        return f"{len(signers)} of {len(peers)} peers signed; a quorum is {need}"
    return None


def compute_certificate(
    attestations: Iterable[Attestation], peers: Mapping[str, bytes]
) -> FinalityCertificate | None:
    """The certificate formed by ``attestations`` (all for one height), or ``None`` while no
    (block hash, state root) pair has valid signatures from a quorum of ``peers``."""
    groups: dict[tuple[str, int, bytes, bytes], dict[str, Attestation]] = {}
    for att in attestations:
        if peers.get(att.node_id) != att.public_key or not is_attestation_signed(att):
            continue
        key = (att.chain_id, att.height, att.block_hash, att.state_root)
        groups.setdefault(key, {})[att.node_id] = att
    need = compute_quorum(len(peers))
    for (chain_id, height, block_hash, state_root), by_node in groups.items():
        if len(by_node) >= need:
            sigs = [(n, a.public_key, a.signature) for n, a in sorted(by_node.items())]
            return FinalityCertificate(chain_id, height, block_hash, state_root, sigs)
    return None
