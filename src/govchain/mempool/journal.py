"""The mempool journal: admitted transactions survive a crash of the node process.

Every admitted batch is appended (length-prefixed raw transactions) before the API answers 202,
so a transaction the node accepted is never dropped silently: after a restart the node re-admits
what the journal holds (transactions committed meanwhile are recognised and skipped). The file is
compacted to the current mempool content when it grows past a bound. Appends are flushed to the
operating system (they survive ``kill -9``); ``fsync=True`` also survives power loss at the cost
of one fsync per request.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["MempoolJournal"]

_LEN = struct.Struct(">I")


class MempoolJournal:
    def __init__(
        self, path: Path, *, fsync: bool = False, compact_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.path = path
        self._fsync = fsync
        self._compact_bytes = compact_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab")  # noqa: SIM115 - held open for the node's lifetime

    def read(self) -> Iterator[bytes]:
        """Every complete record (a torn last record from a crash is ignored)."""
        with open(self.path, "rb") as fh:
            data = fh.read()
        pos = 0
        while pos + _LEN.size <= len(data):
            (size,) = _LEN.unpack_from(data, pos)
            end = pos + _LEN.size + size
            if end > len(data):
                break
            yield data[pos + _LEN.size : end]
            pos = end

    def append(self, raws: Iterable[bytes]) -> None:
        self._file.write(b"".join(_LEN.pack(len(r)) + r for r in raws))
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def needs_compaction(self) -> bool:
        return self._file.tell() > self._compact_bytes

    def rewrite(self, raws: Iterable[bytes]) -> None:
        """Replace the journal with ``raws`` (the mempool's current content), atomically."""
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(b"".join(_LEN.pack(len(r)) + r for r in raws))
            fh.flush()
            os.fsync(fh.fileno())
        self._file.close()
        os.replace(tmp, self.path)
        self._file = open(self.path, "ab")  # noqa: SIM115

    def close(self) -> None:
        self._file.close()
