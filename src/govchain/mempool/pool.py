"""The mempool: every admitted, not yet committed transaction, bounded in count and bytes.

Admission is all-or-nothing per batch with respect to capacity: when a batch does not fit, none
of it is admitted and the caller answers 503 with Retry-After, so a client never has to guess
which part of a batch was kept. Nothing leaves the mempool except by being committed or by being
dropped at block building with a recorded reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from govchain.errors import MempoolFull, ReplayedTransaction
from govchain.execution import CheckedTx

__all__ = ["Mempool"]


class Mempool:
    def __init__(self, max_txs: int = 50_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self._txs: dict[bytes, CheckedTx] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._txs

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @property
    def pending_ids(self) -> dict[bytes, CheckedTx]:
        return self._txs

    def ensure_room(self, count: int, size: int) -> None:
        if len(self._txs) + count > self.max_txs or self._bytes + size > self.max_bytes:
            raise MempoolFull(
                f"the mempool holds {len(self._txs)} transactions ({self._bytes} bytes); "
                f"{count} more do not fit",
                pending=len(self._txs),
                limit=self.max_txs,
            )

    def add_all(self, txs: Sequence[CheckedTx]) -> None:
        """Admit transactions (checked against duplicates and capacity first, all or none)."""
        ids = set()
        for tx in txs:
            if tx.tx_id in self._txs or tx.tx_id in ids:
                raise ReplayedTransaction(
                    f"transaction {tx.tx_id.hex()} is already pending", tx_id=tx.tx_id.hex()
                )
            ids.add(tx.tx_id)
        self.ensure_room(len(txs), sum(len(tx.raw) for tx in txs))
        for tx in txs:
            self._txs[tx.tx_id] = tx
            self._bytes += len(tx.raw)

    def remove(self, tx_ids: Iterable[bytes]) -> None:
        for tx_id in tx_ids:
            tx = self._txs.pop(tx_id, None)
            if tx is not None:
                self._bytes -= len(tx.raw)
