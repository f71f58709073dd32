"""Narrow storage interfaces.

The ledger persists through one :class:`LedgerStore`: reads of blocks, receipts, the transaction
index, versioned state values and sparse-Merkle nodes, and one atomic write, :meth:`commit`, that
stores a whole block's outcome at once (compute first, persist second). Finality certificates
arrive after their block and are saved on their own (:meth:`save_finality_certificate`, or
several in one write with :meth:`save_finality_certificates`). Every
backend passes the same conformance suite (``tests/unit/storage/conformance.py``).

Heights start at 0 for the genesis block. Values are opaque bytes: the store never decodes them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from govchain.errors import StorageError
from govchain.types.finality import FinalityCertificate

__all__ = ["ChainMeta", "CommitBatch", "LedgerStore", "TxLocation", "check_certificate_target"]


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

    # --- finality --------------------------------------------------------------------------
    def save_finality_certificate(self, cert: FinalityCertificate) -> None:
        """Store the finality certificate of a committed block (it may arrive any time after
        the block commits). Idempotent: when the height already has a certificate, the first
        one stays. Raise :class:`govchain.errors.StorageError` when no block is stored at
        ``cert.height`` or its hash or state root differ from the certificate's. The store does
        not check signatures: the caller verified the certificate."""

    def save_finality_certificates(
        self, certs: Sequence[FinalityCertificate]
    ) -> list[StorageError]:
        """Store several certificates in one atomic write (one transaction, one sync), each
        judged as :meth:`save_finality_certificate` judges it. A certificate that would be refused
        is left out and its :class:`~govchain.errors.StorageError` returned (in input order);
        the others are stored. Raise ``StorageError`` and store none when the write itself
        fails (store closed, I/O error)."""

    def get_finality_certificate(self, height: int) -> FinalityCertificate | None: ...
    def get_finalized_height(self) -> int:
        """The highest height with a stored certificate; -1 when there is none. Every block up
        to it is final too: its hash is linked into the certified block's."""

    def close(self) -> None: ...


def check_certificate_target(cert: FinalityCertificate, stored: tuple[bytes, bytes] | None) -> None:
    """Raise :class:`StorageError` unless ``stored`` — the (block hash, state root) committed at
    ``cert.height`` — is what the certificate is about (shared by the backends)."""
    if stored is None:
        raise StorageError(
            f"cannot save the finality certificate of block {cert.height}: the block is not "
            "committed",
            height=cert.height,
        )
    if stored != (cert.block_hash, cert.state_root):
        raise StorageError(
            f"the finality certificate of block {cert.height} is for another block or state "
            "root than the one committed",
            height=cert.height,
            hint="This peer diverged from the quorum: stop it and resynchronise from the others.",
        )
