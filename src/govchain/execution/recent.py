"""Replay protection without growing the state: the ids of committed transactions that are still
inside their lifetime.

A transaction can only be included at a height no later than its ``valid_until``, so a committed
transaction whose ``valid_until`` has passed can never be replayed: its copy is expired. Keeping
only the ids of committed transactions with ``valid_until >= height`` therefore answers "is it on
chain?" exactly for every transaction that passes the expiry check (the same idea as a recent-
status cache). The set is rebuilt on start from the last ``max_tx_lifetime`` blocks.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["RecentTxIndex"]


class RecentTxIndex:
    def __init__(self) -> None:
        self._ids: dict[bytes, int] = {}
        self._pruned_at = -1

    def __len__(self) -> int:
        return len(self._ids)

    def is_committed(self, tx_id: bytes) -> bool:
        return tx_id in self._ids

    def add(self, entries: Iterable[tuple[bytes, int]]) -> None:
        """Record committed ``(tx_id, valid_until)`` pairs."""
        self._ids.update(entries)

    def prune(self, height: int, every: int = 50) -> None:
        """Forget transactions that expired before ``height`` (at most every ``every`` blocks)."""
        if height - self._pruned_at < every:
            return
        self._ids = {k: v for k, v in self._ids.items() if v >= height}
        self._pruned_at = height
