"""Client-side verification: a client re-derives every hash from raw bytes and checks every
proof itself, so it never has to trust the node it talks to."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import decode
from govchain.errors import ProofError, RootMismatch
from govchain.merkle import rfc6962, smt
from govchain.types import (
    BlockHeader,
    Receipt,
    SignedTx,
    compute_block_hash,
    compute_tx_id,
    header_sign_bytes,
)

__all__ = ["TrustAnchor", "verify_header", "verify_state_answer", "verify_tx_answer"]


class TrustAnchor:
    """What a client trusts: the chain id, its genesis hash and the keys that may sign blocks."""

    def __init__(self, chain_id: str, genesis_hash: bytes, node_keys: Collection[bytes]) -> None:
        self.chain_id = chain_id
        self.genesis_hash = genesis_hash
        self.node_keys = frozenset(node_keys)


def verify_header(header_view: dict[str, Any], trust: TrustAnchor | None) -> BlockHeader:
    """Decode a header from its raw bytes, check its hash and (with a trust anchor) its
    proposer's signature; return the decoded header."""
    header = decode(bytes.fromhex(header_view["header_raw"]), BlockHeader)
    block_hash = compute_block_hash(header)
    if block_hash.hex() != header_view["hash"]:
        raise RootMismatch("the block hash does not match the header's bytes")
    if trust is not None:
        if header.chain_id != trust.chain_id:
            raise ProofError(f"header is for chain {header.chain_id!r}, not {trust.chain_id!r}")
        if header.height == 0:
            if block_hash != trust.genesis_hash:
                raise RootMismatch("the genesis block differs from the trusted genesis hash")
        else:
            signature = bytes.fromhex(header_view["proposer_signature"])
            ok = header.proposer in trust.node_keys and get_scheme(ED25519).verify(
                header.proposer, header_sign_bytes(block_hash), signature
            )
            if not ok:
                raise ProofError(f"block {header.height} is not signed by a trusted node")
    return header


def verify_tx_answer(answer: dict[str, Any], trust: TrustAnchor | None = None) -> BlockHeader:
    """Check a committed transaction's inclusion and receipt proofs against its block header."""
    header = verify_header(answer["header"], trust)
    tx_raw = bytes.fromhex(answer["tx_raw"])
    receipt_raw = bytes.fromhex(answer["receipt_raw"])
    if compute_tx_id(decode(tx_raw, SignedTx).body).hex() != answer["tx_id"]:
        raise RootMismatch("the transaction bytes do not match its id")
    receipt = decode(receipt_raw, Receipt)
    if receipt.tx_hash.hex() != answer["tx_id"]:
        raise RootMismatch("the receipt is another transaction's")
    view = answer.get("receipt")
    if view is not None and (view["ok"], view["code"], view["message"]) != (
        receipt.ok,
        receipt.code,
        receipt.message,
    ):
        raise RootMismatch("the receipt shown differs from the proven receipt")
    for raw, proof, root in (
        (tx_raw, answer["tx_proof"], header.tx_root),
        (receipt_raw, answer["receipt_proof"], header.receipts_root),
    ):
        rfc6962.verify_inclusion(
            raw,
            rfc6962.InclusionProof(
                proof["index"], proof["size"], [bytes.fromhex(p) for p in proof["path"]]
            ),
            root,
        )
    return header


def verify_state_answer(answer: dict[str, Any], trust: TrustAnchor | None = None) -> BlockHeader:
    """Check a state value's membership (or the key's absence) against the header's root."""
    header = verify_header(answer["header"], trust)
    proof = smt.decode_state_proof(bytes.fromhex(answer["proof"]))
    value = bytes.fromhex(answer["value"]) if answer["value"] is not None else None
    smt.verify_state_proof(header.state_root, bytes.fromhex(answer["key"]), value, proof)
    return header
