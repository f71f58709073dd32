"""Blocks. The header commits to the transactions, the receipts and the state after the block."""

from __future__ import annotations

import msgspec

from govchain.crypto.hashing import tagged_hash

__all__ = ["Block", "BlockHeader", "compute_block_hash", "header_sign_bytes"]

HEADER_DOMAIN = b"govchain/header/v1"


class BlockHeader(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    height: int
    prev_hash: bytes
    time_ms: int  # proposer's clock, milliseconds since the epoch; never read inside execution
    tx_count: int
    tx_root: bytes  # RFC 6962 root over the encoded signed transactions
    receipts_root: bytes  # RFC 6962 root over the encoded receipts
    state_root: bytes  # sparse Merkle root of the world state after this block
    proposer: bytes  # the proposer's public key


class Block(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    header: BlockHeader
    proposer_signature: bytes  # over header_sign_bytes(header)
    txs: list[bytes]  # encoded SignedTx, in order


def compute_block_hash(header: BlockHeader) -> bytes:
    from govchain.encoding import encode

    return tagged_hash(HEADER_DOMAIN, encode(header))


def header_sign_bytes(block_hash: bytes) -> bytes:
    return HEADER_DOMAIN + b"\x00sign\x00" + block_hash
