"""Blocks. The header commits to the transactions, the receipts and the state after the block."""

from __future__ import annotations

import msgspec

from govchain.crypto.hashing import tagged_hash

__all__ = [
    "BLOCK_HASH_PREFIX",
    "Block",
    "BlockHeader",
    "block_hash_state_key",
    "compute_block_hash",
    "header_sign_bytes",
]

HEADER_DOMAIN = b"govchain/header/v1"

# The block-hash history: at the start of block h the executor writes block h-1's hash under
# ``block_hash_state_key(h - 1)``, so any later header's state root proves every earlier block's
# hash with one state proof (as EIP-2935 does for Ethereum's recent blocks, kept for all heights).
# An offline verifier holding a recent trusted header thus trusts an old header without its
# signature. The prefix is outside every contract's namespace (contract keys are "<name>/...").
BLOCK_HASH_PREFIX = b"chain/block_hash/"


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


def block_hash_state_key(height: int) -> bytes:
    """The state key under which the hash of the block at ``height`` is kept (written at the
    start of the next block)."""
    return BLOCK_HASH_PREFIX + height.to_bytes(8, "big")
