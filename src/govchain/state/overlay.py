"""Copy-on-write overlays over committed state.

Execution never writes to storage: a block executes on an :class:`Overlay` over the committed
state, and each transaction on a child overlay that is merged into the block's overlay only if the
transaction succeeds. The node persists ``overlay.writes`` at commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

__all__ = ["Overlay", "StateReader"]

_DELETED = None


class StateReader(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Live ``(key, value)`` pairs under ``prefix`` in key order."""


class Overlay:
    """A layer of pending writes over a :class:`StateReader`."""

    __slots__ = ("_base", "writes")

    def __init__(self, base: StateReader) -> None:
        self._base = base
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self._base.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = _DELETED

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        merged = dict(self._base.iter_prefix(prefix))
        for key, value in self.writes.items():
            if key.startswith(prefix):
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
        yield from sorted(merged.items())

    def child(self) -> Overlay:
        return Overlay(self)

    def merge_into_parent(self, parent: Overlay) -> None:
        parent.writes.update(self.writes)


class MemoryState:
    """A plain dict as a :class:`StateReader` (tests and genesis)."""

    def __init__(self, data: dict[bytes, bytes] | None = None) -> None:
        self.data = dict(data or {})

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        yield from sorted((k, v) for k, v in self.data.items() if k.startswith(prefix))
