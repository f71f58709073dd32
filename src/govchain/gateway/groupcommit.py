"""Group commit for SQLite: many writers' operations in one durable transaction.

Every answer of a gateway waits until its receipt is on disk (``synchronous=FULL``), and an
fsync costs milliseconds. One thread owns the write connection: it takes every operation queued
meanwhile, runs each in a savepoint of one transaction (an operation that fails is rolled back
alone), commits once, and only then tells each caller its result. Durability per operation, at
the cost of one fsync per batch.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from govchain.errors import StorageError

__all__ = ["GroupCommitter"]

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]
_Item = tuple[Operation, "Future[Any]"]


class GroupCommitter:
    """Runs write operations on ``db`` (used by no one else) in a thread of its own."""

    def __init__(self, db: sqlite3.Connection, *, max_batch: int = 512) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="journal-commit", daemon=True)
        self._closed = False
        self._thread.start()

    def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` in a transaction; return its result once the transaction is
        durable (or raise what it raised; it then changed nothing). An operation closes the
        cursors it opens and returns plain values, never a cursor."""
        if self._closed:
            raise StorageError("the receipt journal is closed")
        future: Future[T] = Future()
        self._queue.put((operation, future))
        return future.result()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Item]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for operation, future in batch:
                outcomes.append((future, *self._run_one(operation)))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            failure = StorageError(f"the receipt journal could not commit: {exc}")
            for _, future in batch:
                future.set_exception(failure)
            return
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    def _run_one(self, operation: Operation) -> tuple[Any, BaseException | None]:
        self._db.execute("SAVEPOINT operation")
        try:
            result = operation(self._db)
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            self._db.execute("ROLLBACK TO operation")
            self._db.execute("RELEASE operation")
            return None, exc
        self._db.execute("RELEASE operation")
        return result, None
