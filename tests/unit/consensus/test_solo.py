"""The solo orderer with a fake clock: batches come out in order, cut by size or by deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from govchain.consensus import CutterConfig, OrderedBatch, SoloOrderer
from govchain.execution import CheckedTx

START_MS = 1_700_000_000_000


class FakeClock:
    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _run(config: CutterConfig, body: Callable[[SoloOrderer, FakeClock], Awaitable[None]]) -> None:
    async def main() -> None:
        clock = FakeClock()
        orderer = SoloOrderer(config, clock)
        await orderer.start()
        try:
            await body(orderer, clock)
        finally:
            await orderer.stop()

    asyncio.run(main())


async def _next(orderer: SoloOrderer) -> OrderedBatch:
    return await asyncio.wait_for(orderer.next_batch(), timeout=10)


async def _nothing_pending(orderer: SoloOrderer) -> bool:
    try:
        await asyncio.wait_for(orderer.next_batch(), timeout=0.05)
    except TimeoutError:
        return True
    return False


@pytest.fixture
def txs(chain: Any) -> list[CheckedTx]:
    return [chain.check(chain.tx()) for _ in range(10)]


def test_size_cuts_come_out_in_order(txs: list[CheckedTx]) -> None:
    async def body(orderer: SoloOrderer, clock: FakeClock) -> None:
        await orderer.order(txs[:5])
        first, second = await _next(orderer), await _next(orderer)
        assert first.txs == txs[0:2] and second.txs == txs[2:4]
        assert first.time_ms == second.time_ms == START_MS
        assert orderer.backlog == 1
        # The last one waits for the deadline on the orderer's clock.
        clock.now += 199
        await orderer.order([])
        assert await _nothing_pending(orderer)
        clock.now += 1
        await orderer.order([])  # wakes the timer, which reads the clock again
        third = await _next(orderer)
        assert third.txs == txs[4:5]
        assert third.time_ms == START_MS + 200
        assert orderer.backlog == 0

    _run(CutterConfig(max_txs=2, max_bytes=10**6, max_wait_ms=200), body)


def test_timer_cuts_by_itself_once_the_deadline_passes(txs: list[CheckedTx]) -> None:
    async def body(orderer: SoloOrderer, clock: FakeClock) -> None:
        await orderer.order(txs[:3])
        assert orderer.backlog == 3
        clock.now += 20  # the timer re-reads the clock when its wait runs out
        batch = await _next(orderer)
        assert batch.txs == txs[:3]
        assert batch.time_ms >= START_MS + 20

    _run(CutterConfig(max_txs=100, max_bytes=10**6, max_wait_ms=20), body)


def test_many_orders_keep_the_total_order(txs: list[CheckedTx]) -> None:
    async def body(orderer: SoloOrderer, clock: FakeClock) -> None:
        for i, tx in enumerate(txs):
            clock.now = START_MS + i
            await orderer.order([tx])
        batches = [await _next(orderer) for _ in range(3)]
        assert [b.txs for b in batches] == [txs[0:3], txs[3:6], txs[6:9]]
        assert [b.time_ms for b in batches] == [START_MS + 2, START_MS + 5, START_MS + 8]
        clock.now = START_MS + 9 + 1_000
        await orderer.order([])
        last = await _next(orderer)
        assert last.txs == txs[9:]
        assert last.time_ms == START_MS + 1_009

    _run(CutterConfig(max_txs=3, max_bytes=10**6, max_wait_ms=1_000), body)


def test_byte_limit_cuts(txs: list[CheckedTx]) -> None:
    size = len(txs[0].raw)
    assert all(len(t.raw) == size for t in txs)

    async def body(orderer: SoloOrderer, clock: FakeClock) -> None:
        await orderer.order(txs[:5])
        assert (await _next(orderer)).txs == txs[0:2]
        assert (await _next(orderer)).txs == txs[2:4]

    _run(CutterConfig(max_txs=100, max_bytes=2 * size + size // 2, max_wait_ms=10**6), body)


def test_no_empty_batches(txs: list[CheckedTx]) -> None:
    async def body(orderer: SoloOrderer, clock: FakeClock) -> None:
        clock.now += 10**6
        await orderer.order([])
        assert await _nothing_pending(orderer)
        assert orderer.backlog == 0

    _run(CutterConfig(max_txs=2, max_bytes=10**6, max_wait_ms=1), body)


def test_stop_without_start_and_twice() -> None:
    async def main() -> None:
        orderer = SoloOrderer(CutterConfig(1, 1, 1), FakeClock())
        await orderer.stop()
        await orderer.start()
        await orderer.stop()
        await orderer.stop()

    asyncio.run(main())


def test_update_config_applies_to_the_next_cuts(txs: list[CheckedTx]) -> None:
    """Governance changed the chain parameters: the node hands the orderer new limits."""

    async def body(orderer: SoloOrderer, clock: FakeClock) -> None:
        await orderer.order(txs[:2])
        assert len((await _next(orderer)).txs) == 2
        orderer.update_config(CutterConfig(max_txs=3, max_bytes=1 << 20, max_wait_ms=1000))
        await orderer.order(txs[2:5])
        assert (await _next(orderer)).txs == txs[2:5]

    _run(CutterConfig(max_txs=2, max_bytes=1 << 20, max_wait_ms=1000), body)
