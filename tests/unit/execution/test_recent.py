"""The replay window: ids of committed transactions that have not yet expired."""

from __future__ import annotations

from govchain.execution import RecentTxIndex


def _index(entries: dict[bytes, int]) -> RecentTxIndex:
    index = RecentTxIndex()
    index.add(entries.items())
    return index


def test_add_and_lookup() -> None:
    index = _index({b"a": 10, b"b": 20})
    assert len(index) == 2
    assert index.is_committed(b"a") and index.is_committed(b"b")
    assert not index.is_committed(b"c")
    index.add(iter([(b"c", 5)]))
    assert index.is_committed(b"c") and len(index) == 3


def test_prune_forgets_only_expired_ids() -> None:
    index = _index({b"old": 9, b"edge": 10, b"new": 11})
    index.prune(10, every=0)
    # valid_until 9 < 10 can never be included again; valid_until 10 still could be.
    assert not index.is_committed(b"old")
    assert index.is_committed(b"edge") and index.is_committed(b"new")
    index.prune(11, every=0)
    assert not index.is_committed(b"edge")
    assert index.is_committed(b"new")
    assert len(index) == 1


def test_prune_runs_at_most_every_n_blocks() -> None:
    index = _index({b"a": 1, b"b": 60, b"c": 200})
    index.prune(10, every=50)  # first prune: 10 - (-1) = 11 < 50 blocks since "never"
    assert len(index) == 3
    index.prune(49, every=50)  # 49 - (-1) = 50: prunes
    assert not index.is_committed(b"a") and index.is_committed(b"b")
    index.prune(98, every=50)  # only 49 blocks since the last prune
    assert index.is_committed(b"b")
    index.prune(99, every=50)
    assert not index.is_committed(b"b") and index.is_committed(b"c")


def test_pruning_late_is_always_safe() -> None:
    """Skipped prunes only keep more ids; an id is never forgotten while it could be replayed."""
    index = RecentTxIndex()
    for height in range(1, 300):
        index.add([(b"tx-%d" % height, height + 20)])
        index.prune(height + 1)
        for h in range(max(1, height - 19), height + 1):
            assert index.is_committed(b"tx-%d" % h), (height, h)


def test_re_adding_updates_valid_until() -> None:
    index = _index({b"a": 5})
    index.add([(b"a", 50)])
    index.prune(10, every=0)
    assert index.is_committed(b"a")
