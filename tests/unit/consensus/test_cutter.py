"""The block cutter: a pure rule for when to cut, driven by explicit times."""

from __future__ import annotations

from govchain.consensus import BlockCutter, CutterConfig


def _cutter(max_txs: int = 3, max_bytes: int = 100, max_wait_ms: int = 200) -> BlockCutter[str]:
    return BlockCutter(CutterConfig(max_txs, max_bytes, max_wait_ms))


def test_nothing_pending() -> None:
    cutter = _cutter()
    assert cutter.pending_count == 0
    assert cutter.deadline_ms() is None
    assert not cutter.is_due(10**15)
    assert cutter.cut() == []


def test_cuts_at_max_txs() -> None:
    cutter = _cutter(max_txs=3)
    assert cutter.ordered("a", 1, 0) == []
    assert cutter.ordered("b", 1, 1) == []
    assert cutter.ordered("c", 1, 2) == [["a", "b", "c"]]
    assert cutter.pending_count == 0
    assert cutter.deadline_ms() is None
    assert cutter.ordered("d", 1, 3) == []
    assert cutter.pending_count == 1


def test_max_txs_of_one() -> None:
    cutter = _cutter(max_txs=1)
    assert [cutter.ordered(x, 1, 0) for x in "abc"] == [[["a"]], [["b"]], [["c"]]]


def test_cuts_before_exceeding_max_bytes() -> None:
    cutter = _cutter(max_txs=100, max_bytes=100)
    assert cutter.ordered("a", 40, 0) == []
    assert cutter.ordered("b", 40, 0) == []
    # "c" would take the batch to 120 bytes: the pending batch is cut first, "c" starts the next.
    assert cutter.ordered("c", 40, 5) == [["a", "b"]]
    assert cutter.pending_count == 1
    assert cutter.deadline_ms() == 5 + 200  # the new batch's clock starts with "c"


def test_cuts_when_max_bytes_reached_exactly() -> None:
    cutter = _cutter(max_txs=100, max_bytes=100)
    assert cutter.ordered("a", 60, 0) == []
    assert cutter.ordered("b", 40, 0) == [["a", "b"]]


def test_oversized_item_is_cut_alone() -> None:
    cutter = _cutter(max_txs=100, max_bytes=100)
    assert cutter.ordered("a", 10, 0) == []
    # Two batches at once: the pending one, then the big item on its own.
    assert cutter.ordered("big", 500, 0) == [["a"], ["big"]]
    assert cutter.pending_count == 0
    assert _cutter(max_bytes=100).ordered("big", 500, 0) == [["big"]]


def test_cut_by_deadline() -> None:
    cutter = _cutter(max_wait_ms=200)
    cutter.ordered("a", 1, 1_000)
    cutter.ordered("b", 1, 1_150)
    assert cutter.deadline_ms() == 1_200  # counted from the oldest item
    assert not cutter.is_due(1_199)
    assert cutter.is_due(1_200)
    assert cutter.is_due(5_000)
    assert cutter.cut() == ["a", "b"]
    assert cutter.deadline_ms() is None and not cutter.is_due(5_000)


def test_deadline_resets_after_a_size_cut() -> None:
    cutter = _cutter(max_txs=2, max_wait_ms=200)
    cutter.ordered("a", 1, 0)
    cutter.ordered("b", 1, 50)
    cutter.ordered("c", 1, 300)
    assert cutter.deadline_ms() == 500


def test_same_inputs_same_batches() -> None:
    def run() -> list[list[str]]:
        cutter = _cutter(max_txs=4, max_bytes=50, max_wait_ms=10)
        out: list[list[str]] = []
        for i in range(40):
            out.extend(cutter.ordered(f"t{i}", (i * 7) % 23 + 1, i))
            if cutter.is_due(i):
                out.append(cutter.cut())
        return out

    batches = run()
    assert batches == run()
    flat = [x for b in batches for x in b]
    assert flat == [f"t{i}" for i in range(len(flat))]  # order is kept, nothing lost
    assert all(0 < len(b) <= 4 for b in batches)
