from __future__ import annotations

from collections.abc import Iterator

import pytest

from govchain.storage import MemoryLedgerStore, open_store

from .conformance import LedgerStoreConformance


class TestMemoryLedgerStore(LedgerStoreConformance):
    @pytest.fixture
    def store(self) -> Iterator[MemoryLedgerStore]:
        store = MemoryLedgerStore()
        yield store
        store.close()


def test_open_store_memory() -> None:
    store = open_store("memory:")
    assert isinstance(store, MemoryLedgerStore)
    assert store.get_meta() is None
