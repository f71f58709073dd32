"""Narrow storage interfaces.

The ledger persists through one :class:`LedgerStore`: reads of blocks, receipts, the transaction
index, versioned state values and sparse-Merkle nodes, and one atomic write, :meth:`commit`, that
stores a whole block's outcome at once (compute first, persist second). Every backend passes the
same conformance suite (``tests/unit/storage/conformance.py``).

Heights start at 0 for the genesis block. Values are opaque bytes: the store never decodes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["ChainMeta", "CommitBatch", "LedgerStore", "TxLocation"]


@dataclass(frozen=True, slots=True)
class ChainMeta:
    height: int
    block_hash: bytes
    state_root: bytes


@dataclass(frozen=True, slots=True)
class TxLocation:
    height: int
    index: int


@dataclass(frozen=True, slots=True)
class CommitBatch:
    """Everything one block changes, written in a single atomic step."""

    height: int
    block_hash: bytes
    block: bytes  # encoded Block
    tx_ids: Sequence[bytes]  # in block order
    receipts: Sequence[bytes]  # encoded Receipts, in block order
    state_root: bytes
    state_writes: Mapping[bytes, bytes | None] = field(default_factory=dict)  # None = delete
    nodes: Mapping[bytes, bytes] = field(default_factory=dict)  # new sparse-Merkle nodes


class LedgerStore(Protocol):
    # --- chain -----------------------------------------------------------------------------
    def get_meta(self) -> ChainMeta | None:
        """The last committed block, or None for an empty store."""

    def get_block(self, height: int) -> bytes | None: ...
    def get_block_hash(self, height: int) -> bytes | None: ...
    def get_height_by_hash(self, block_hash: bytes) -> int | None: ...
    def get_state_root(self, height: int) -> bytes | None: ...
    def iter_blocks(self, start: int, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Encoded blocks with heights in ``[start, end]`` (to the last block when end is None)."""

    # --- transactions ----------------------------------------------------------------------
    def get_tx_location(self, tx_id: bytes) -> TxLocation | None: ...
    def get_receipts(self, height: int) -> list[bytes] | None: ...
    def get_receipt(self, height: int, index: int) -> bytes | None: ...

    # --- state -----------------------------------------------------------------------------
    def get_state(self, key: bytes, height: int | None = None) -> bytes | None:
        """The value of ``key`` after block ``height`` (the latest when None)."""

    def get_node(self, node_hash: bytes) -> bytes | None:
        """A sparse-Merkle node by its hash (nodes are content-addressed and immutable)."""

    def iter_state(
        self, prefix: bytes, height: int | None = None, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Live ``(key, value)`` pairs whose key starts with ``prefix``, in key order."""

    # --- writes ----------------------------------------------------------------------------
    def commit(self, batch: CommitBatch) -> None:
        """Atomically store a block and its outcome. ``batch.height`` must be the next height;
        otherwise raise :class:`govchain.errors.StorageError` and store nothing."""

    def close(self) -> None: ...
