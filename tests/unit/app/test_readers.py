"""Store adapters: state as of a height, and the latest-state cache that is never stale."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from govchain.app.readers import LatestStateCache, StoreState
from govchain.storage import MemoryLedgerStore
from govchain.storage.base import CommitBatch


def _commit(store: MemoryLedgerStore, writes: dict[bytes, bytes | None]) -> None:
    height = (store.get_meta().height + 1) if store.get_meta() else 0  # type: ignore[union-attr]
    store.commit(CommitBatch(height, b"h%031d" % height, b"block", [], [], b"r" * 32, writes, {}))


def test_store_state_as_of_a_height() -> None:
    store = MemoryLedgerStore()
    _commit(store, {b"a/1": b"one", b"a/2": b"two"})
    _commit(store, {b"a/1": b"uno", b"a/2": None, b"b": b"x"})
    old, latest = StoreState(store, 0), StoreState(store)
    assert old.get(b"a/1") == b"one" and latest.get(b"a/1") == b"uno"
    assert old.get(b"b") is None and latest.get(b"b") == b"x"
    assert list(old.iter_prefix(b"a/")) == [(b"a/1", b"one"), (b"a/2", b"two")]
    assert list(latest.iter_prefix(b"a/")) == [(b"a/1", b"uno")]


def test_cache_reads_through_and_writes_through() -> None:
    store = MemoryLedgerStore()
    _commit(store, {b"k": b"v0"})
    cache = LatestStateCache(store)
    assert cache.get(b"k") == b"v0"
    assert cache.get(b"missing") is None
    writes: dict[bytes, bytes | None] = {b"k": b"v1", b"missing": b"now here", b"new": b"n"}
    _commit(store, writes)
    cache.apply_commit(writes)
    assert cache.get(b"k") == b"v1"
    assert cache.get(b"missing") == b"now here"  # a cached absence is replaced
    assert cache.get(b"new") == b"n"
    deletes: dict[bytes, bytes | None] = {b"k": None}
    _commit(store, deletes)
    cache.apply_commit(deletes)
    assert cache.get(b"k") is None
    assert list(cache.iter_prefix(b"n")) == [(b"new", b"n")]


class _RacingStore:
    """A store whose read of one key returns the old value while a commit lands mid-read."""

    def __init__(self, store: MemoryLedgerStore) -> None:
        self.store = store
        self.during_read: Callable[[], None] | None = None
        self.reads = 0

    def get_state(self, key: bytes, height: int | None = None) -> bytes | None:
        self.reads += 1
        value = self.store.get_state(key, height)
        if self.during_read is not None:
            hook, self.during_read = self.during_read, None
            hook()
        return value

    def iter_state(self, prefix: bytes, height: int | None = None) -> Iterator[Any]:
        return self.store.iter_state(prefix, height)


def test_cache_never_keeps_a_value_read_across_a_commit() -> None:
    store = MemoryLedgerStore()
    _commit(store, {b"k": b"old"})
    racing = _RacingStore(store)
    cache = LatestStateCache(racing)  # type: ignore[arg-type]

    def commit_new_value() -> None:
        writes: dict[bytes, bytes | None] = {b"k": b"new"}
        _commit(store, writes)
        cache.apply_commit(writes)

    racing.during_read = commit_new_value
    assert cache.get(b"k") == b"old"  # the read began before the commit
    assert cache.get(b"k") == b"new"  # ... but its stale answer was not cached
    assert racing.reads == 2
    assert cache.get(b"k") == b"new"
    assert racing.reads == 2  # now it is cached


def test_cache_never_keeps_an_absence_read_across_a_commit() -> None:
    store = MemoryLedgerStore()
    _commit(store, {})
    racing = _RacingStore(store)
    cache = LatestStateCache(racing)  # type: ignore[arg-type]

    def commit_key() -> None:
        writes: dict[bytes, bytes | None] = {b"k": b"created"}
        _commit(store, writes)
        cache.apply_commit(writes)

    racing.during_read = commit_key
    assert cache.get(b"k") is None
    assert cache.get(b"k") == b"created"


def test_cache_is_bounded_and_stays_correct() -> None:
    store = MemoryLedgerStore()
    _commit(store, {b"k%03d" % i: b"v%03d" % i for i in range(100)})
    cache = LatestStateCache(store, capacity=16)
    for _ in range(2):
        for i in range(100):
            assert cache.get(b"k%03d" % i) == b"v%03d" % i
    writes: dict[bytes, bytes | None] = {b"k%03d" % i: b"w" for i in range(100)}
    _commit(store, writes)
    cache.apply_commit(writes)
    assert all(cache.get(b"k%03d" % i) == b"w" for i in range(100))


def test_application_reads_through_the_cache_after_commits(chain: Any) -> None:
    """End to end: a sender enrolled nowhere stays unknown, a doc anchored is seen at once."""
    args = chain.anchor_args("deed")
    first = chain.tx(args=args)
    chain.commit([first])
    (again,) = chain.app.check_txs([chain.tx(chain.admin("tax", 1), args=args)])
    pending = chain.app.finalize_block([again], chain.next_time())
    assert pending.execution.receipts[0].code == "NOTARY_ALREADY_ANCHORED"
