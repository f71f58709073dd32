"""The in-memory reference :class:`~govchain.storage.base.LedgerStore`.

Plain dicts and lists, guarded by one lock. State is versioned: every key keeps the heights at
which it was written and the value written there (``None`` for a delete), so reads "as of" any
committed height are answered by a binary search. This backend defines the behaviour the
conformance suite checks; the durable backends must answer exactly as it does.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from govchain.errors import StorageError
from govchain.storage.base import ChainMeta, CommitBatch, TxLocation, check_certificate_target
from govchain.types.finality import FinalityCertificate

__all__ = ["MemoryLedgerStore"]


@dataclass(slots=True)
class _Block:
    block_hash: bytes
    data: bytes
    state_root: bytes
    receipts: list[bytes]


@dataclass(slots=True)
class _Versions:
    heights: list[int] = field(default_factory=list)
    values: list[bytes | None] = field(default_factory=list)

    def get_value(self, height: int) -> bytes | None:
        i = bisect.bisect_right(self.heights, height)
        return self.values[i - 1] if i else None


class MemoryLedgerStore:
    """A ledger kept in process memory; lost when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False
        self._blocks: list[_Block] = []
        self._heights_by_hash: dict[bytes, int] = {}
        self._tx_locations: dict[bytes, TxLocation] = {}
        self._state: dict[bytes, _Versions] = {}
        self._sorted_keys: list[bytes] = []
        self._nodes: dict[bytes, bytes] = {}
        self._certificates: dict[int, FinalityCertificate] = {}

    def __enter__(self) -> MemoryLedgerStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- chain -------------------------------------------------------------------------------
    def get_meta(self) -> ChainMeta | None:
        with self._lock:
            self._check_open()
            if not self._blocks:
                return None
            last = self._blocks[-1]
            return ChainMeta(len(self._blocks) - 1, last.block_hash, last.state_root)

    def _get(self, height: int) -> _Block | None:
        self._check_open()
        if 0 <= height < len(self._blocks):
            return self._blocks[height]
        return None

    def get_block(self, height: int) -> bytes | None:
        with self._lock:
            block = self._get(height)
            return block.data if block else None

    def get_block_hash(self, height: int) -> bytes | None:
        with self._lock:
            block = self._get(height)
            return block.block_hash if block else None

    def get_height_by_hash(self, block_hash: bytes) -> int | None:
        with self._lock:
            self._check_open()
            return self._heights_by_hash.get(block_hash)

    def get_state_root(self, height: int) -> bytes | None:
        with self._lock:
            block = self._get(height)
            return block.state_root if block else None

    def iter_blocks(self, start: int, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        with self._lock:
            self._check_open()
            last = len(self._blocks) - 1 if end is None else min(end, len(self._blocks) - 1)
            first = max(start, 0)
            items = [(h, self._blocks[h].data) for h in range(first, last + 1)]
        return iter(items)

    # --- transactions ------------------------------------------------------------------------
    def get_tx_location(self, tx_id: bytes) -> TxLocation | None:
        with self._lock:
            self._check_open()
            return self._tx_locations.get(tx_id)

    def get_receipts(self, height: int) -> list[bytes] | None:
        with self._lock:
            block = self._get(height)
            return list(block.receipts) if block else None

    def get_receipt(self, height: int, index: int) -> bytes | None:
        with self._lock:
            block = self._get(height)
            if block is None or not 0 <= index < len(block.receipts):
                return None
            return block.receipts[index]

    # --- state -------------------------------------------------------------------------------
    def get_state(self, key: bytes, height: int | None = None) -> bytes | None:
        with self._lock:
            self._check_open()
            versions = self._state.get(key)
            if versions is None:
                return None
            return versions.get_value(len(self._blocks) - 1 if height is None else height)

    def get_node(self, node_hash: bytes) -> bytes | None:
        with self._lock:
            self._check_open()
            return self._nodes.get(node_hash)

    def iter_state(
        self, prefix: bytes, height: int | None = None, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        with self._lock:
            self._check_open()
            as_of = len(self._blocks) - 1 if height is None else height
            items: list[tuple[bytes, bytes]] = []
            i = bisect.bisect_left(self._sorted_keys, prefix)
            while (limit is None or len(items) < limit) and i < len(self._sorted_keys):
                key = self._sorted_keys[i]
                if not key.startswith(prefix):
                    break
                value = self._state[key].get_value(as_of)
                if value is not None:
                    items.append((key, value))
                i += 1
        return iter(items)

    # --- writes ------------------------------------------------------------------------------
    def commit(self, batch: CommitBatch) -> None:
        with self._lock:
            self._check_open()
            self._check_batch(batch)
            height = batch.height
            self._blocks.append(
                _Block(batch.block_hash, bytes(batch.block), batch.state_root, list(batch.receipts))
            )
            self._heights_by_hash[batch.block_hash] = height
            for index, tx_id in enumerate(batch.tx_ids):
                self._tx_locations[tx_id] = TxLocation(height, index)
            for key, value in batch.state_writes.items():
                versions = self._state.get(key)
                if versions is None:
                    versions = self._state[key] = _Versions()
                    bisect.insort(self._sorted_keys, key)
                versions.heights.append(height)
                versions.values.append(value)
            self._nodes.update(batch.nodes)

    def _check_batch(self, batch: CommitBatch) -> None:
        expected = len(self._blocks)
        if batch.height != expected:
            raise StorageError(
                f"cannot commit block {batch.height}: the next height is {expected}",
                height=batch.height,
                expected=expected,
            )
        if batch.block_hash in self._heights_by_hash:
            raise StorageError(
                f"block hash {batch.block_hash.hex()} is already stored", height=batch.height
            )
        if len(batch.receipts) != len(batch.tx_ids):
            raise StorageError(
                f"block {batch.height} has {len(batch.tx_ids)} transactions but "
                f"{len(batch.receipts)} receipts",
                height=batch.height,
            )
        seen: set[bytes] = set()
        for tx_id in batch.tx_ids:
            if tx_id in seen or tx_id in self._tx_locations:
                raise StorageError(
                    f"transaction {tx_id.hex()} is already stored",
                    height=batch.height,
                    tx_id=tx_id.hex(),
                )
            seen.add(tx_id)

    # --- finality ----------------------------------------------------------------------------
    def save_finality_certificate(self, cert: FinalityCertificate) -> None:
        with self._lock:
            block = self._get(cert.height)
            stored = (block.block_hash, block.state_root) if block is not None else None
            check_certificate_target(cert, stored)
            self._certificates.setdefault(cert.height, cert)

    def save_finality_certificates(
        self, certs: Sequence[FinalityCertificate]
    ) -> list[StorageError]:
        refused: list[StorageError] = []
        with self._lock:
            self._check_open()
            for cert in certs:
                try:
                    self.save_finality_certificate(cert)
                except StorageError as exc:
                    refused.append(exc)
        return refused

    def get_finality_certificate(self, height: int) -> FinalityCertificate | None:
        with self._lock:
            self._check_open()
            return self._certificates.get(height)

    def get_finalized_height(self) -> int:
        with self._lock:
            self._check_open()
            return max(self._certificates, default=-1)

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the ledger store is closed")
