"""Signed batches of the total-order log and the etcd key layout (pure).

A peer cuts a batch from the transactions it admitted, signs the batch digest with its node key
and appends it to the log at the next free sequence number. Batch ``seq`` becomes block
``seq + 1`` on every peer. Keys (all under ``/govchain/<chain_id>/``)::

    log/<seq:020d>                 a LogBatch (the total order)
    log-floor                      the lowest sequence still in etcd (older entries compacted)
    att/<height:020d>/<node_id>    a peer's Attestation of the block it committed at height
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from govchain.crypto.hashing import tagged_hash
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import encode

__all__ = [
    "BATCH_DOMAIN",
    "LogBatch",
    "LogLayout",
    "batch_sign_bytes",
    "get_batch_problem",
    "sign_batch",
]

BATCH_DOMAIN = b"govchain/batch/v1"
SEQ_WIDTH = 20


class LogBatch(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    seq: int
    time_ms: int  # when the author cut it; the block time is max(this, the previous block's)
    author: str  # the author's node id
    public_key: bytes  # the author's node key: becomes the block header's proposer
    txs: list[bytes]  # encoded SignedTx, in the author's admission order
    signature: bytes  # over batch_sign_bytes(...)


def batch_sign_bytes(
    chain_id: str, seq: int, time_ms: int, author: str, public_key: bytes, txs: list[bytes]
) -> bytes:
    return tagged_hash(BATCH_DOMAIN, encode([chain_id, seq, time_ms, author, public_key, txs]))


def sign_batch(
    key: KeyPair, chain_id: str, seq: int, time_ms: int, author: str, txs: list[bytes]
) -> LogBatch:
    digest = batch_sign_bytes(chain_id, seq, time_ms, author, key.public_key, txs)
    return LogBatch(chain_id, seq, time_ms, author, key.public_key, txs, key.sign(digest))


def get_batch_problem(
    batch: LogBatch, chain_id: str, seq: int, peers: Mapping[str, bytes]
) -> str | None:
    """None when ``batch`` is a well-signed batch for ``seq`` of this chain; otherwise why not.
    ``peers`` maps the founding peers' node ids to their keys: a batch naming one of them must
    carry its key. Any other author passes here; whether it may fill a block (an active node,
    e.g. one added by governance) is judged on the state before that block, when it executes."""
    if batch.chain_id != chain_id:
        return f"batch {seq} is for chain {batch.chain_id!r}"
    if batch.seq != seq:
        return f"the entry at sequence {seq} says it is batch {batch.seq}"
    if batch.author in peers and peers[batch.author] != batch.public_key:
        return f"batch {seq}: {batch.author!r} is not a peer with that key"
    digest = batch_sign_bytes(
        batch.chain_id, batch.seq, batch.time_ms, batch.author, batch.public_key, batch.txs
    )
    if not get_scheme(ED25519).verify(batch.public_key, digest, batch.signature):
        return f"batch {seq}: the author's signature does not verify"
    return None


class LogLayout:
    """The etcd keys of one chain."""

    def __init__(self, chain_id: str) -> None:
        self.root = f"/govchain/{chain_id}/".encode()
        self.log_prefix = self.root + b"log/"
        self.floor_key = self.root + b"log-floor"
        self.att_prefix = self.root + b"att/"

    def log_key(self, seq: int) -> bytes:
        return self.log_prefix + encode_seq(seq)

    def seq_of(self, key: bytes) -> int:
        return int(key[len(self.log_prefix) :])

    def att_key(self, height: int, node_id: str) -> bytes:
        return self.att_prefix + encode_seq(height) + b"/" + node_id.encode()

    def att_height_key(self, height: int) -> bytes:
        return self.att_prefix + encode_seq(height)


def encode_seq(n: int) -> bytes:
    """A zero-padded decimal, so that key order and byte order are number order."""
    return str(n).zfill(SEQ_WIDTH).encode()
