"""``audit_ledger``: a good ledger passes; an altered one is reported at its first bad block."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from govchain.app.audit import AuditReport, audit_ledger
from govchain.contracts.notary import notary_state_key
from govchain.encoding import decode, encode
from govchain.storage import MemoryLedgerStore, SqliteLedgerStore
from govchain.storage.base import TxLocation
from govchain.types import Block, Receipt, compute_block_hash


def _build(chain: Any) -> list[bytes]:
    """Blocks 1..3: two anchors and a failed one, one anchor, then an empty block."""
    docs = [chain.anchor_args(f"doc-{i}") for i in range(3)]
    chain.commit([chain.tx(args=docs[0]), chain.tx(chain.admin("health")), chain.tx(args=docs[1])])
    chain.commit([chain.tx(chain.admin("tax", 1), args=docs[2])])
    chain.commit([])
    return [notary_state_key(d.hash) for d in docs]


@pytest.fixture
def ledger(chain: Any) -> tuple[Any, list[bytes]]:
    keys = _build(chain)
    assert chain.height == 3
    return chain, keys


def _audit(chain: Any, **kw: Any) -> AuditReport:
    return audit_ledger(chain.store, chain.genesis, chain.registry, **kw)


def _bad(chain: Any, height: int, reason: str) -> AuditReport:
    report = _audit(chain)
    assert not report.ok
    assert (report.first_bad_height, report.reason) == (height, reason), report.message
    assert report.height == height - 1
    assert report.blocks == height
    assert report.message
    return report


def _block(store: MemoryLedgerStore, height: int) -> Block:
    return decode(store._blocks[height].data, Block)


def test_good_ledger_passes(ledger: Any) -> None:
    chain, _ = ledger
    calls: list[tuple[int, int]] = []
    report = _audit(chain, progress=lambda h, n: calls.append((h, n)))
    assert report == AuditReport(True, 3, 4, 4, by_signature=3)
    assert calls == [(1, 3), (2, 1), (3, 0)]


def test_genesis_only_ledger_passes(chain: Any) -> None:
    assert _audit(chain) == AuditReport(True, 0, 1, 0)


def test_empty_ledger(chain: Any) -> None:
    report = audit_ledger(MemoryLedgerStore(), chain.genesis, chain.registry)
    assert not report.ok and report.reason == "EMPTY_LEDGER"


def test_other_genesis(ledger: Any, genesis_factory: Any) -> None:
    chain, _ = ledger
    report = audit_ledger(chain.store, genesis_factory("another-chain"), chain.registry)
    assert not report.ok
    assert (report.first_bad_height, report.reason) == (0, "GENESIS_MISMATCH")


def test_altered_header(ledger: Any) -> None:
    chain, _ = ledger
    block = _block(chain.store, 2)
    header = msgspec.structs.replace(block.header, time_ms=block.header.time_ms + 1)
    chain.store._blocks[2].data = encode(Block(header, block.proposer_signature, block.txs))
    _bad(chain, 2, "BLOCK_HASH_MISMATCH")


def test_altered_header_with_a_consistent_hash_index(ledger: Any) -> None:
    chain, _ = ledger
    block = _block(chain.store, 2)
    header = msgspec.structs.replace(block.header, time_ms=block.header.time_ms + 1)
    chain.store._blocks[2].data = encode(Block(header, block.proposer_signature, block.txs))
    chain.store._blocks[2].block_hash = compute_block_hash(header)
    _bad(chain, 2, "BAD_PROPOSER_SIGNATURE")  # only the node's key could re-sign it


def test_removed_transaction(ledger: Any) -> None:
    chain, _ = ledger
    block = _block(chain.store, 1)
    shorter = Block(block.header, block.proposer_signature, block.txs[:2])
    chain.store._blocks[1].data = encode(shorter)
    _bad(chain, 1, "TX_COUNT_MISMATCH")


def test_reordered_transactions(ledger: Any) -> None:
    chain, _ = ledger
    block = _block(chain.store, 1)
    txs = [block.txs[2], block.txs[0], block.txs[1]]
    chain.store._blocks[1].data = encode(Block(block.header, block.proposer_signature, txs))
    _bad(chain, 1, "TX_ROOT_MISMATCH")


def test_undecodable_block(ledger: Any) -> None:
    chain, _ = ledger
    chain.store._blocks[3].data = b"\xc1 not a block"
    _bad(chain, 3, "BLOCK_UNDECODABLE")


def test_altered_receipt(ledger: Any) -> None:
    chain, _ = ledger
    receipt = decode(chain.store._blocks[1].receipts[1], Receipt)
    assert not receipt.ok
    forged = Receipt(receipt.tx_hash, True)  # claim the failed transaction succeeded
    chain.store._blocks[1].receipts[1] = encode(forged)
    _bad(chain, 1, "RECEIPTS_MISMATCH")


def test_altered_state_value(ledger: Any) -> None:
    chain, keys = ledger
    versions = chain.store._state[keys[2]]
    assert versions.heights == [2]
    versions.values[0] = b"forged record"
    _bad(chain, 2, "STATE_VALUE_MISMATCH")


def test_deleted_state_value(ledger: Any) -> None:
    chain, keys = ledger
    chain.store._state[keys[0]].values[0] = None
    _bad(chain, 1, "STATE_VALUE_MISMATCH")


def test_altered_tx_index(ledger: Any) -> None:
    chain, _ = ledger
    tx_id = next(tid for tid, loc in chain.store._tx_locations.items() if loc.height == 2)
    chain.store._tx_locations[tx_id] = TxLocation(1, 0)
    _bad(chain, 2, "TX_INDEX_MISMATCH")


def test_altered_state_root_index(ledger: Any) -> None:
    chain, _ = ledger
    chain.store._blocks[3].state_root = b"\x00" * 32
    _bad(chain, 3, "STATE_ROOT_INDEX_MISMATCH")


def test_first_fault_wins(ledger: Any) -> None:
    chain, keys = ledger
    chain.store._blocks[3].state_root = b"\x00" * 32
    chain.store._state[keys[0]].values[0] = b"forged"
    _bad(chain, 1, "STATE_VALUE_MISMATCH")


# --- the same on SQLite, altering rows with raw SQL ----------------------------------------------


@pytest.fixture
def sqlite_ledger(tmp_path: Path, make_chain: Any) -> tuple[Any, Path, list[bytes]]:
    path = tmp_path / "ledger.db"
    chain = make_chain(store=SqliteLedgerStore(path, durable=False))
    keys = _build(chain)
    chain.store.close()
    return chain, path, keys


def _audit_file(chain: Any, path: Path) -> AuditReport:
    with SqliteLedgerStore(path, durable=False) as store:
        return audit_ledger(store, chain.genesis, chain.registry)


def _sql(path: Path, statement: str, *params: Any) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute(statement, params).rowcount == 1
        conn.commit()
    finally:
        conn.close()


def test_sqlite_good_ledger_passes(sqlite_ledger: Any) -> None:
    chain, path, _ = sqlite_ledger
    assert _audit_file(chain, path) == AuditReport(True, 3, 4, 4, by_signature=3)


def test_sqlite_altered_receipt(sqlite_ledger: Any) -> None:
    chain, path, _ = sqlite_ledger
    _sql(path, "UPDATE receipts SET data = ? WHERE height = 2 AND idx = 0", b"\xc0")
    report = _audit_file(chain, path)
    assert (report.ok, report.first_bad_height, report.reason) == (False, 2, "RECEIPTS_MISMATCH")


def test_sqlite_altered_state_value(sqlite_ledger: Any) -> None:
    chain, path, keys = sqlite_ledger
    _sql(path, "UPDATE state SET value = ? WHERE key = ? AND height = 1", b"forged", keys[1])
    report = _audit_file(chain, path)
    assert (report.first_bad_height, report.reason) == (1, "STATE_VALUE_MISMATCH")


def test_sqlite_altered_block(sqlite_ledger: Any) -> None:
    chain, path, _ = sqlite_ledger
    conn = sqlite3.connect(path)
    (data,) = conn.execute("SELECT data FROM blocks WHERE height = 2").fetchone()
    conn.close()
    block = decode(data, Block)
    header = msgspec.structs.replace(block.header, tx_count=5)
    _sql(path, "UPDATE blocks SET data = ? WHERE height = 2", encode(Block(header, b"", [])))
    report = _audit_file(chain, path)
    assert (report.first_bad_height, report.reason) == (2, "BLOCK_HASH_MISMATCH")
