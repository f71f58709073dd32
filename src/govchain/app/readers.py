"""Adapters from the ledger store to the readers the pure core expects."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from govchain.storage.base import LedgerStore

__all__ = ["LatestStateCache", "StoreState"]

_MISSING = object()


class StoreState:
    """Committed state as of a height (the latest when None) as a ``StateReader``."""

    def __init__(self, store: LedgerStore, height: int | None = None) -> None:
        self._store = store
        self._height = height

    def get(self, key: bytes) -> bytes | None:
        return self._store.get_state(key, self._height)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self._store.iter_state(prefix, self._height)


class LatestStateCache:
    """A bounded read-through cache of the latest committed state, written through at commit.

    Readers in other threads may race with a commit; a value read from the store is cached only
    if no commit happened during the read, so a stale value is never cached.
    """

    def __init__(self, store: LedgerStore, capacity: int = 20_000) -> None:
        self._store = store
        self._capacity = capacity
        self._values: dict[bytes, bytes | None] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        value = self._values.get(key, _MISSING)
        if value is not _MISSING:
            return value  # type: ignore[return-value]
        generation = self._generation
        value = self._store.get_state(key)
        with self._lock:
            if generation == self._generation:
                self._put(key, value)
        return value

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return self._store.iter_state(prefix)

    def apply_commit(self, writes: Mapping[bytes, bytes | None]) -> None:
        """Call right after the store committed ``writes``."""
        with self._lock:
            self._generation += 1
            for key, value in writes.items():
                if key in self._values:
                    self._values[key] = value

    def _put(self, key: bytes, value: bytes | None) -> None:
        if len(self._values) >= self._capacity:
            for old in list(self._values)[: self._capacity // 8]:
                del self._values[old]
        self._values[key] = value
