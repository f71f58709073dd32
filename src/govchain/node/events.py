"""Committed-block notifications: SSE subscribers and transaction waiters."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from govchain.errors import GovchainError

__all__ = ["EventHub", "Fate"]


@dataclass(frozen=True, slots=True)
class Fate:
    """How a transaction ended: committed at a height, or rejected at block building."""

    committed_height: int | None = None
    error: GovchainError | None = None


class EventHub:
    """Fans committed heights out to subscribers and resolves waiters on transaction ids."""

    def __init__(self, rejected_capacity: int = 100_000) -> None:
        self._subscribers: set[asyncio.Queue[int]] = set()
        self._waiters: dict[bytes, list[asyncio.Future[Fate]]] = {}
        self._rejected: OrderedDict[bytes, GovchainError] = OrderedDict()
        self._capacity = rejected_capacity
        self.height = 0
        self._height_changed = asyncio.Condition()

    def subscribe(self) -> asyncio.Queue[int]:
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=10_000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[int]) -> None:
        self._subscribers.discard(queue)

    def rejected(self, tx_id: bytes) -> GovchainError | None:
        return self._rejected.get(tx_id)

    async def wait(self, tx_id: bytes, timeout: float) -> Fate | None:
        future: asyncio.Future[Fate] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tx_id, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(tx_id)
            if waiters is not None and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._waiters[tx_id]

    def _resolve(self, tx_id: bytes, fate: Fate) -> None:
        for future in self._waiters.pop(tx_id, ()):
            if not future.done():
                future.set_result(fate)

    def publish_block(
        self, height: int, tx_ids: Sequence[bytes], dropped: Sequence[tuple[bytes, GovchainError]]
    ) -> None:
        self.height = height
        if self._waiters:
            fate = Fate(committed_height=height)
            for tx_id in tx_ids:
                if tx_id in self._waiters:
                    self._resolve(tx_id, fate)
        for tx_id, error in dropped:
            self._rejected[tx_id] = error
            self._resolve(tx_id, Fate(error=error))
        while len(self._rejected) > self._capacity:
            self._rejected.popitem(last=False)
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(height)
            except asyncio.QueueFull:  # a stalled client: it will resume from its last height
                self._subscribers.discard(queue)
