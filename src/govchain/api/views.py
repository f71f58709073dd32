"""Conversions from ledger objects to API shapes (no ledger logic)."""

from __future__ import annotations

from typing import Any

import msgspec

from govchain.api.dto import EventView, HeaderView, InclusionProofView, ReceiptView
from govchain.encoding import decode, encode, to_builtins
from govchain.merkle import rfc6962
from govchain.types import Block, BlockHeader, Receipt, SignedTx, TxBody, compute_block_hash
from govchain.types.finality import FinalityCertificate

__all__ = ["finality_view", "header_view", "proof_view", "receipt_view", "tx_json"]


def header_view(header: BlockHeader, signature: bytes) -> HeaderView:
    return HeaderView(
        chain_id=header.chain_id,
        height=header.height,
        hash=compute_block_hash(header).hex(),
        prev_hash=header.prev_hash.hex(),
        time_ms=header.time_ms,
        tx_count=header.tx_count,
        tx_root=header.tx_root.hex(),
        receipts_root=header.receipts_root.hex(),
        state_root=header.state_root.hex(),
        proposer=header.proposer.hex(),
        proposer_signature=signature.hex(),
        header_raw=encode(header).hex(),
    )


def block_header_view(block: Block) -> HeaderView:
    return header_view(block.header, block.proposer_signature)


def finality_view(cert: FinalityCertificate | None) -> str | None:
    """The ``finality`` field of an answer with a header: hex of the canonical encoding of the
    block's finality certificate (what a client decodes and verifies), or ``None`` while the
    node has none for the block."""
    return None if cert is None else encode(cert).hex()


def _raw_to_builtins(raw: bytes) -> Any:
    try:
        return to_builtins(msgspec.msgpack.decode(raw))
    except msgspec.DecodeError:
        return raw.hex()


def receipt_view(receipt: Receipt) -> ReceiptView:
    return ReceiptView(
        receipt.tx_hash.hex(),
        receipt.ok,
        receipt.code,
        receipt.message,
        receipt.hint,
        [EventView(e.contract, e.name, e.attributes) for e in receipt.events],
        _raw_to_builtins(bytes(receipt.result)),
    )


def tx_json(raw: bytes) -> dict[str, Any]:
    """A readable view of an encoded signed transaction."""
    signed = decode(raw, SignedTx)
    body = decode(signed.body, TxBody)
    return {
        "chain_id": body.chain_id,
        "sender": body.sender.hex(),
        "nonce": body.nonce.hex(),
        "valid_until": body.valid_until,
        "contract": body.contract,
        "method": body.method,
        "args": _raw_to_builtins(bytes(body.args)),
        "scheme": body.scheme,
        "signatures": [
            {"public_key": s.public_key.hex(), "signature": s.signature.hex(), "scheme": s.scheme}
            for s in signed.signatures
        ],
    }


def proof_view(proof: rfc6962.InclusionProof) -> InclusionProofView:
    return InclusionProofView(proof.index, proof.size, [p.hex() for p in proof.path])
