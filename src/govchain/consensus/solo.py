"""The solo orderer: one node orders everything it admits, cutting blocks with the pure cutter."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from govchain.consensus.base import OrderedBatch
from govchain.consensus.cutter import BlockCutter, CutterConfig
from govchain.execution import CheckedTx

__all__ = ["SoloOrderer"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class SoloOrderer:
    def __init__(self, config: CutterConfig, clock: Callable[[], int] = _now_ms) -> None:
        self._cutter: BlockCutter[CheckedTx] = BlockCutter(config)
        self._clock = clock
        self._batches: asyncio.Queue[OrderedBatch] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._queued = 0

    async def start(self) -> None:
        self._timer = asyncio.create_task(self._run_timer(), name="solo-cutter-timer")

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer

    async def order(self, txs: Sequence[CheckedTx]) -> None:
        now = self._clock()
        for tx in txs:
            for batch in self._cutter.ordered(tx, len(tx.raw), now):
                self._emit(batch, now)
        self._wake.set()

    async def next_batch(self) -> OrderedBatch:
        batch = await self._batches.get()
        self._queued -= len(batch.txs)
        return batch

    def update_config(self, config: CutterConfig) -> None:
        """Cut blocks under new limits from now on (governance changed the chain parameters);
        a batch already pending is cut by the new rule at its next step."""
        self._cutter.config = config
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Transactions ordered but not yet handed out in a batch."""
        return self._cutter.pending_count + self._queued

    def _emit(self, batch: list[CheckedTx], now_ms: int) -> None:
        self._queued += len(batch)
        self._batches.put_nowait(OrderedBatch(batch, now_ms))

    async def _run_timer(self) -> None:
        while True:
            deadline = self._cutter.deadline_ms()
            if deadline is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            delay = (deadline - self._clock()) / 1000
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                continue
            now = self._clock()
            if self._cutter.is_due(now):
                self._emit(self._cutter.cut(), now)
