"""The mempool: bounded, all-or-nothing admission per batch, no duplicates."""

from __future__ import annotations

from typing import Any

import pytest

from govchain.errors import MempoolFull, ReplayedTransaction
from govchain.execution import CheckedTx
from govchain.mempool import Mempool


def _txs(chain: Any, count: int) -> list[CheckedTx]:
    return [chain.check(chain.tx()) for _ in range(count)]


def test_add_and_remove_track_count_and_bytes(chain: Any) -> None:
    pool = Mempool()
    txs = _txs(chain, 3)
    pool.add_all(txs)
    assert len(pool) == 3
    assert pool.size_bytes == sum(len(t.raw) for t in txs)
    assert all(t.tx_id in pool for t in txs)
    assert list(pool.pending_ids) == [t.tx_id for t in txs]  # arrival order
    pool.remove([txs[1].tx_id])
    assert len(pool) == 2
    assert txs[1].tx_id not in pool
    assert pool.size_bytes == len(txs[0].raw) + len(txs[2].raw)
    pool.remove([txs[0].tx_id, txs[2].tx_id])
    assert len(pool) == 0 and pool.size_bytes == 0


def test_remove_unknown_or_twice_is_harmless(chain: Any) -> None:
    pool = Mempool()
    txs = _txs(chain, 2)
    pool.add_all(txs)
    pool.remove([txs[0].tx_id, txs[0].tx_id, b"\x00" * 32])
    assert len(pool) == 1
    assert pool.size_bytes == len(txs[1].raw)
    pool.remove(iter([txs[1].tx_id]))  # any iterable
    assert pool.size_bytes == 0


def test_count_capacity_is_all_or_nothing(chain: Any) -> None:
    pool = Mempool(max_txs=4)
    pool.add_all(_txs(chain, 2))
    before = dict(pool.pending_ids)
    batch = _txs(chain, 3)
    with pytest.raises(MempoolFull) as info:
        pool.add_all(batch)
    err = info.value
    assert err.code == "MEMPOOL_FULL" and err.status == 503
    assert err.details == {"pending": 2, "limit": 4}
    assert pool.pending_ids == before
    assert not any(t.tx_id in pool for t in batch)
    pool.add_all(batch[:2])  # exactly full
    assert len(pool) == 4


def test_byte_capacity_is_all_or_nothing(chain: Any) -> None:
    txs = _txs(chain, 3)
    limit = len(txs[0].raw) + len(txs[1].raw) + len(txs[2].raw) - 1
    pool = Mempool(max_bytes=limit)
    with pytest.raises(MempoolFull):
        pool.add_all(txs)
    assert len(pool) == 0 and pool.size_bytes == 0
    pool.add_all(txs[:2])
    assert len(pool) == 2


def test_ensure_room(chain: Any) -> None:
    pool = Mempool(max_txs=2, max_bytes=100)
    pool.ensure_room(2, 100)
    with pytest.raises(MempoolFull):
        pool.ensure_room(3, 1)
    with pytest.raises(MempoolFull):
        pool.ensure_room(1, 101)


def test_duplicate_pending_rejected(chain: Any) -> None:
    pool = Mempool()
    txs = _txs(chain, 2)
    pool.add_all(txs[:1])
    with pytest.raises(ReplayedTransaction) as info:
        pool.add_all([txs[1], txs[0]])
    assert info.value.code == "TX_REPLAYED"
    assert info.value.details == {"tx_id": txs[0].tx_id.hex()}
    assert len(pool) == 1 and txs[1].tx_id not in pool  # nothing of the batch admitted


def test_duplicate_within_a_batch_rejected(chain: Any) -> None:
    pool = Mempool()
    tx = chain.check(chain.tx())
    with pytest.raises(ReplayedTransaction):
        pool.add_all([tx, tx])
    assert len(pool) == 0 and pool.size_bytes == 0


def test_duplicate_check_comes_before_capacity(chain: Any) -> None:
    pool = Mempool(max_txs=1)
    tx = chain.check(chain.tx())
    pool.add_all([tx])
    with pytest.raises(ReplayedTransaction):
        pool.add_all([tx])


def test_removed_tx_may_come_back(chain: Any) -> None:
    pool = Mempool()
    tx = chain.check(chain.tx())
    pool.add_all([tx])
    pool.remove([tx.tx_id])
    pool.add_all([tx])
    assert pool.size_bytes == len(tx.raw)
