"""The block cutter: a pure, side-effect-free rule for when to cut a block.

A batch is cut when it reaches ``max_txs`` transactions, when the next transaction would take it
past ``max_bytes``, or when its oldest transaction has waited ``max_wait_ms``. The caller passes
the time in; the cutter never reads a clock, so its behaviour is reproducible in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["BlockCutter", "CutterConfig"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CutterConfig:
    max_txs: int
    max_bytes: int
    max_wait_ms: int


@dataclass
class BlockCutter(Generic[T]):
    config: CutterConfig
    _pending: list[T] = field(default_factory=list)
    _bytes: int = 0
    _first_ms: int | None = None

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def ordered(self, item: T, size: int, now_ms: int) -> list[list[T]]:
        """Add an item; return the batches that must be cut now (zero, one or two)."""
        batches: list[list[T]] = []
        if self._pending and self._bytes + size > self.config.max_bytes:
            batches.append(self.cut())
        self._pending.append(item)
        self._bytes += size
        if self._first_ms is None:
            self._first_ms = now_ms
        if len(self._pending) >= self.config.max_txs or self._bytes >= self.config.max_bytes:
            batches.append(self.cut())
        return batches

    def deadline_ms(self) -> int | None:
        """When the pending batch must be cut by time, or None when nothing is pending."""
        return None if self._first_ms is None else self._first_ms + self.config.max_wait_ms

    def is_due(self, now_ms: int) -> bool:
        deadline = self.deadline_ms()
        return deadline is not None and now_ms >= deadline

    def cut(self) -> list[T]:
        batch, self._pending, self._bytes, self._first_ms = self._pending, [], 0, None
        return batch
