"""Block and state storage behind one narrow interface; SQLite (WAL) and in-memory backends."""

from __future__ import annotations

from pathlib import Path

from govchain.storage.base import ChainMeta, CommitBatch, LedgerStore, TxLocation
from govchain.storage.memory import MemoryLedgerStore
from govchain.storage.sqlite import SqliteLedgerStore

__all__ = [
    "ChainMeta",
    "CommitBatch",
    "LedgerStore",
    "MemoryLedgerStore",
    "SqliteLedgerStore",
    "TxLocation",
    "open_store",
]

MEMORY_URL = "memory:"


def open_store(url_or_path: str | Path, *, durable: bool = True) -> LedgerStore:
    """Open a ledger store: ``"memory:"`` for an in-memory store, otherwise the path of a SQLite
    database file (created when missing; ``sqlite:`` in front of the path is accepted)."""
    if isinstance(url_or_path, str):
        if url_or_path == MEMORY_URL:
            return MemoryLedgerStore()
        if url_or_path.startswith("sqlite:"):
            url_or_path = url_or_path.removeprefix("sqlite:").removeprefix("//")
    return SqliteLedgerStore(url_or_path, durable=durable)
