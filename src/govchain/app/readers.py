"""Adapters from the ledger store to the readers the pure core expects."""

from __future__ import annotations

from collections.abc import Iterator

from govchain.storage.base import LedgerStore

__all__ = ["StoreReplayGuard", "StoreState"]


class StoreState:
    """Committed state as of a height (the latest when None) as a ``StateReader``."""

    def __init__(self, store: LedgerStore, height: int | None = None) -> None:
        self._store = store
        self._height = height

    def get(self, key: bytes) -> bytes | None:
        return self._store.get_state(key, self._height)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self._store.iter_state(prefix, self._height)


class StoreReplayGuard:
    """A transaction id is on chain when the store's transaction index knows it."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    def is_committed(self, tx_id: bytes) -> bool:
        return self._store.get_tx_location(tx_id) is not None
