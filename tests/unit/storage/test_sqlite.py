from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest

from govchain.errors import StorageError
from govchain.storage import SqliteLedgerStore, open_store
from govchain.storage.base import ChainMeta, CommitBatch, LedgerStore, TxLocation
from govchain.storage.sqlite import SCHEMA_VERSION

from .conformance import DurableLedgerStoreConformance, h, make_batch, make_certificate

TABLES_BY_HEIGHT = ("blocks", "txs", "receipts", "state")


class TestSqliteLedgerStore(DurableLedgerStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqliteLedgerStore]:
        store = SqliteLedgerStore(tmp_path / "ledger.db", durable=False)
        yield store
        store.close()

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Iterator[Callable[[LedgerStore], LedgerStore]]:
        opened: list[SqliteLedgerStore] = []

        def reopen(store: LedgerStore) -> LedgerStore:
            store.close()
            opened.append(SqliteLedgerStore(tmp_path / "ledger.db", durable=False))
            return opened[-1]

        yield reopen
        for store in opened:
            store.close()


def count_rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (*TABLES_BY_HEIGHT, "nodes")
        }


def test_rejected_commit_leaves_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with SqliteLedgerStore(path) as store:
        store.commit(make_batch(0, txs=2, state={b"a": b"1"}, nodes={h("n"): b"n"}))
        before = count_rows(path)
        bad = make_batch(1, txs=3, state={b"b": b"2"}, nodes={h("m"): b"m"})
        with pytest.raises(StorageError):
            store.commit(make_batch(2, txs=3, state={b"b": b"2"}, nodes={h("m"): b"m"}))
        clash = CommitBatch(
            height=1,
            block_hash=bad.block_hash,
            block=bad.block,
            tx_ids=[bad.tx_ids[0], bad.tx_ids[1], make_batch(0).tx_ids[0]],
            receipts=bad.receipts,
            state_root=bad.state_root,
            state_writes=bad.state_writes,
            nodes=bad.nodes,
        )
        with pytest.raises(StorageError):
            store.commit(clash)
        assert count_rows(path) == before
        assert store.get_node(h("m")) is None


def test_durable_settings(tmp_path: Path) -> None:
    with SqliteLedgerStore(tmp_path / "a.db") as store:
        assert store._writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with SqliteLedgerStore(tmp_path / "b.db", durable=False) as store:
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_schema_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    SqliteLedgerStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE name = 'schema_version'")
    with pytest.raises(StorageError, match="schema version 999"):
        SqliteLedgerStore(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError):
        SqliteLedgerStore(path)


def test_open_store_path(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "ledger.db"))
    assert isinstance(store, SqliteLedgerStore)
    store.close()
    store = open_store(tmp_path / "other.db")
    assert isinstance(store, SqliteLedgerStore)
    store.close()


def test_node_cache_is_bounded_and_falls_back_to_disk(tmp_path: Path) -> None:
    with SqliteLedgerStore(tmp_path / "ledger.db", node_cache_size=10) as store:
        nodes = {h("n", i): b"node-%d" % i for i in range(50)}
        store.commit(make_batch(0, nodes=nodes))
        assert len(store._node_cache._items) == 10
        assert all(store.get_node(key) == value for key, value in nodes.items())
        assert len(store._node_cache._items) == 10


def test_readers_run_while_blocks_are_committed(tmp_path: Path) -> None:
    with SqliteLedgerStore(tmp_path / "ledger.db", durable=False) as store:
        store.commit(make_batch(0, state={b"k": b"0"}))
        errors: list[BaseException] = []
        done = threading.Event()

        def read() -> None:
            try:
                while not done.is_set():
                    meta = store.get_meta()
                    assert meta is not None
                    assert store.get_state(b"k", meta.height) == b"%d" % meta.height
                    assert store.get_receipts(meta.height) == list(make_batch(meta.height).receipts)
                    assert len(list(store.iter_blocks(0, meta.height))) == meta.height + 1
            except BaseException as exc:  # reported below
                errors.append(exc)

        readers = [threading.Thread(target=read) for _ in range(6)]
        for thread in readers:
            thread.start()
        for height in range(1, 60):
            store.commit(make_batch(height, state={b"k": b"%d" % height}))
        done.set()
        for thread in readers:
            thread.join()
        assert errors == []


# --- crash atomicity -------------------------------------------------------------------------

BATCH_SOURCE = """
import hashlib
from govchain.storage.base import CommitBatch

def crash_batch(height):
    def d(*parts):
        return hashlib.sha256(repr(parts).encode()).digest()
    txs = 50 + height % 7
    return CommitBatch(
        height=height, block_hash=d("block", height), block=d("body", height) * 200,
        tx_ids=[d("tx", height, i) for i in range(txs)],
        receipts=[d("receipt", height, i) * 3 for i in range(txs)],
        state_root=d("root", height),
        state_writes={b"key/%d/%d" % (height % 5, i): d("v", height, i) for i in range(300)}
        | {b"height": b"%d" % height},
        nodes={d("node", height, i): d("nd", height, i) * 2 for i in range(3000)},
    )
"""

CHILD_SOURCE = (
    BATCH_SOURCE
    + """
import sys
from govchain.storage.sqlite import SqliteLedgerStore
store = SqliteLedgerStore(sys.argv[1])
meta = store.get_meta()
height = 0 if meta is None else meta.height + 1
print("ready", flush=True)
while True:
    store.commit(crash_batch(height))
    height += 1
"""
)


def check_crashed_store(path: Path, crash_batch: Callable[[int], CommitBatch]) -> int:
    """Reopen a store whose writer was killed; check it holds whole blocks 0..top and nothing
    of any later block. Returns top."""
    with SqliteLedgerStore(path) as store:
        meta = store.get_meta()
        assert meta is not None
        top = meta.height
        with sqlite3.connect(path) as conn:
            for table in TABLES_BY_HEIGHT:
                assert conn.execute(f"SELECT MAX(height) FROM {table}").fetchone()[0] == top
            assert conn.execute("SELECT COUNT(*) FROM blocks").fetchone()[0] == top + 1
        for height in range(top + 1):
            batch = crash_batch(height)
            last_tx = len(batch.tx_ids) - 1
            assert store.get_block(height) == batch.block
            assert store.get_receipts(height) == batch.receipts
            assert store.get_tx_location(batch.tx_ids[last_tx]) == TxLocation(height, last_tx)
            assert store.get_state(b"height", height) == b"%d" % height
            for key, value in list(batch.state_writes.items())[::37]:
                assert store.get_state(key, height) == value
            for node in list(batch.nodes)[::500]:
                assert store.get_node(node) == batch.nodes[node]
        after = crash_batch(top + 1)
        assert store.get_height_by_hash(after.block_hash) is None
        assert all(store.get_node(node) is None for node in list(after.nodes)[:50])
        assert all(store.get_tx_location(tx_id) is None for tx_id in after.tx_ids)
        assert store.get_state(b"height") == b"%d" % top
        return top


def test_kill_during_commits_keeps_whole_blocks(tmp_path: Path) -> None:
    namespace: dict[str, object] = {}
    exec(BATCH_SOURCE, namespace)
    crash_batch = cast(Callable[[int], CommitBatch], namespace["crash_batch"])
    path = tmp_path / "ledger.db"
    rng = random.Random(7)
    heights: list[int] = []
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_SOURCE, str(path)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.2, 0.8))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        heights.append(check_crashed_store(path, crash_batch))
    assert heights == sorted(heights) and heights[-1] > heights[0]


def test_version_1_database_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with SqliteLedgerStore(path) as store:
        batches = [make_batch(0), make_batch(1)]
        for batch in batches:
            store.commit(batch)
    with sqlite3.connect(path) as conn:  # the database as version 1 left it
        conn.execute("DROP TABLE finality")
        conn.execute("UPDATE meta SET value = '1' WHERE name = 'schema_version'")
    with SqliteLedgerStore(path) as store:
        meta = store.get_meta()
        assert meta is not None and meta.height == 1
        assert store.get_finalized_height() == -1
        store.save_finality_certificate(make_certificate(batches[1]))
        assert store.get_finality_certificate(1) == make_certificate(batches[1])
    with sqlite3.connect(path) as conn:
        version = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)


class _RecordingConnection:
    """Passes statements to a connection and records them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[str] = []

    def execute(self, sql: str) -> sqlite3.Cursor:
        self.statements.append(sql)
        return self.conn.execute(sql)

    def close(self) -> None:
        self.conn.close()


@pytest.mark.parametrize(("force_frames", "restarts"), [(1_000_000, False), (1, True)])
def test_checkpoints_run_beside_the_writer_and_restart_a_long_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force_frames: int, restarts: bool
) -> None:
    import govchain.storage.sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "_WAL_FORCE_FRAMES", force_frames)
    monkeypatch.setattr(sqlite_store, "_CHECKPOINT_INTERVAL_S", 3600.0)  # the test checkpoints
    store = SqliteLedgerStore(tmp_path / "ledger.db", durable=False)
    recorder = _RecordingConnection(store._checkpoint_conn)
    store._checkpoint_conn = recorder  # type: ignore[assignment]
    try:
        for height in range(10):
            nodes = {h("node", height, i): bytes(200) for i in range(50)}
            store.commit(make_batch(height, txs=5, nodes=nodes))
            store._checkpoint()
        busy, frames, copied = recorder.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert (busy, copied) == (0, frames)  # everything is in the database file
        assert ("PRAGMA wal_checkpoint(RESTART)" in recorder.statements) is restarts
        assert store.get_node(h("node", 0, 0)) == bytes(200)
    finally:
        store.close()
    last = make_batch(9, txs=5)
    with SqliteLedgerStore(tmp_path / "ledger.db") as reopened:
        assert reopened.get_meta() == ChainMeta(9, last.block_hash, last.state_root)
