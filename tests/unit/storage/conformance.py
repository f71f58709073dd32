"""The conformance suite every :class:`~govchain.storage.base.LedgerStore` backend passes.

A backend's test module subclasses :class:`LedgerStoreConformance` and provides the ``store``
fixture (and, for durable backends, ``reopen``). The in-memory store is the reference: every
answer asserted here is what it gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

import msgspec
import pytest

from govchain.errors import StorageError
from govchain.storage.base import ChainMeta, CommitBatch, LedgerStore, TxLocation
from govchain.types.finality import FinalityCertificate


def h(*parts: object) -> bytes:
    """A deterministic 32-byte test hash."""
    return hashlib.sha256(repr(parts).encode()).digest()


def make_batch(
    height: int,
    *,
    txs: int = 2,
    state: Mapping[bytes, bytes | None] | None = None,
    nodes: Mapping[bytes, bytes] | None = None,
    tag: str = "",
) -> CommitBatch:
    tx_ids = [h("tx", height, i, tag) for i in range(txs)]
    return CommitBatch(
        height=height,
        block_hash=h("block", height, tag),
        block=b"block-%d" % height + tag.encode(),
        tx_ids=tx_ids,
        receipts=[b"receipt-%d-%d" % (height, i) for i in range(txs)],
        state_root=h("root", height, tag),
        state_writes=dict(state or {}),
        nodes=dict(nodes or {}),
    )


def make_certificate(
    batch: CommitBatch, *, signers: tuple[str, ...] = ("node0", "node1", "node2")
) -> FinalityCertificate:
    """A certificate about ``batch`` (the store does not check signatures)."""
    sigs = [(n, h("key", n), h("sig", n, batch.height) * 2) for n in signers]
    return FinalityCertificate("chain", batch.height, batch.block_hash, batch.state_root, sigs)


def commit_chain(store: LedgerStore, count: int) -> list[CommitBatch]:
    batches = [make_batch(height) for height in range(count)]
    for batch in batches:
        store.commit(batch)
    return batches


class LedgerStoreConformance:
    """Behaviour shared by every backend. Subclasses provide the ``store`` fixture."""

    # --- chain ---------------------------------------------------------------------------
    def test_empty_store(self, store: LedgerStore) -> None:
        assert store.get_meta() is None
        assert store.get_block(0) is None
        assert store.get_block_hash(0) is None
        assert store.get_state_root(0) is None
        assert store.get_height_by_hash(h("nothing")) is None
        assert list(store.iter_blocks(0)) == []
        assert store.get_receipts(0) is None
        assert store.get_state(b"k") is None
        assert list(store.iter_state(b"")) == []

    def test_commit_genesis_then_next_heights(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 3)
        assert store.get_meta() == ChainMeta(2, batches[2].block_hash, batches[2].state_root)
        for batch in batches:
            assert store.get_block(batch.height) == batch.block
            assert store.get_block_hash(batch.height) == batch.block_hash
            assert store.get_height_by_hash(batch.block_hash) == batch.height
            assert store.get_state_root(batch.height) == batch.state_root
        assert store.get_block(3) is None
        assert store.get_block(-1) is None

    def test_iter_blocks_ranges(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 5)
        every = [(b.height, b.block) for b in batches]
        assert list(store.iter_blocks(0)) == every
        assert list(store.iter_blocks(2)) == every[2:]
        assert list(store.iter_blocks(1, 3)) == every[1:4]
        assert list(store.iter_blocks(3, 3)) == every[3:4]
        assert list(store.iter_blocks(4, 100)) == every[4:]
        assert list(store.iter_blocks(3, 2)) == []
        assert list(store.iter_blocks(5)) == []

    def test_iter_blocks_many(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 70)
        assert [height for height, _ in store.iter_blocks(0)] == list(range(70))
        assert list(store.iter_blocks(10, 50)) == [(b.height, b.block) for b in batches[10:51]]

    # --- transactions --------------------------------------------------------------------
    def test_tx_locations_and_receipts(self, store: LedgerStore) -> None:
        store.commit(make_batch(0, txs=0))
        batch = make_batch(1, txs=3)
        store.commit(batch)
        for index, tx_id in enumerate(batch.tx_ids):
            assert store.get_tx_location(tx_id) == TxLocation(1, index)
            assert store.get_receipt(1, index) == batch.receipts[index]
        assert store.get_receipts(1) == list(batch.receipts)
        assert store.get_receipts(0) == []
        assert store.get_receipts(2) is None
        assert store.get_receipt(1, 3) is None
        assert store.get_receipt(0, 0) is None
        assert store.get_receipt(2, 0) is None
        assert store.get_tx_location(h("unknown")) is None

    # --- state ---------------------------------------------------------------------------
    def test_versioned_state(self, store: LedgerStore) -> None:
        store.commit(make_batch(0, state={b"a": b"a0", b"b": b"b0"}))
        store.commit(make_batch(1, state={b"a": b"a1"}))
        store.commit(make_batch(2, state={b"b": None, b"c": b"c2"}))
        store.commit(make_batch(3))
        store.commit(make_batch(4, state={b"b": b"b4"}))
        assert store.get_state(b"a") == b"a1"
        assert store.get_state(b"a", 0) == b"a0"
        assert store.get_state(b"a", 1) == b"a1"
        assert store.get_state(b"a", 3) == b"a1"
        assert store.get_state(b"b", 1) == b"b0"
        assert store.get_state(b"b", 2) is None
        assert store.get_state(b"b", 3) is None
        assert store.get_state(b"b") == b"b4"
        assert store.get_state(b"c", 1) is None
        assert store.get_state(b"c", 2) == b"c2"
        assert store.get_state(b"c", -1) is None
        assert store.get_state(b"missing") is None

    def test_empty_value_is_not_a_delete(self, store: LedgerStore) -> None:
        store.commit(make_batch(0, state={b"k": b""}))
        assert store.get_state(b"k") == b""
        assert list(store.iter_state(b"k")) == [(b"k", b"")]

    def test_iter_state_prefix_order_and_limit(self, store: LedgerStore) -> None:
        writes: dict[bytes, bytes | None] = {b"p/%03d" % i: b"v%d" % i for i in range(0, 40)}
        writes.update({b"o": b"before", b"p": b"exact", b"q": b"after", b"p\xff\xff": b"ff"})
        store.commit(make_batch(0, state=writes))
        listed = list(store.iter_state(b"p/"))
        assert listed == [(b"p/%03d" % i, b"v%d" % i) for i in range(40)]
        assert list(store.iter_state(b"p/", limit=5)) == listed[:5]
        assert list(store.iter_state(b"p/", limit=0)) == []
        assert list(store.iter_state(b"p/01")) == listed[10:20]
        assert [k for k, _ in store.iter_state(b"p")] == [b"p"] + [k for k, _ in listed] + [
            b"p\xff\xff"
        ]
        assert list(store.iter_state(b"p\xff")) == [(b"p\xff\xff", b"ff")]
        everything = list(store.iter_state(b""))
        assert [k for k, _ in everything] == sorted(k for k in writes)
        assert list(store.iter_state(b"zzz")) == []

    def test_iter_state_as_of_height_skips_deleted(self, store: LedgerStore) -> None:
        store.commit(make_batch(0, state={b"k/1": b"one", b"k/2": b"two", b"k/3": b"three"}))
        store.commit(make_batch(1, state={b"k/2": None, b"k/3": b"THREE", b"k/4": b"four"}))
        store.commit(make_batch(2, state={b"k/1": None}))
        assert list(store.iter_state(b"k/", 0)) == [
            (b"k/1", b"one"),
            (b"k/2", b"two"),
            (b"k/3", b"three"),
        ]
        assert list(store.iter_state(b"k/", 1)) == [
            (b"k/1", b"one"),
            (b"k/3", b"THREE"),
            (b"k/4", b"four"),
        ]
        assert list(store.iter_state(b"k/")) == [(b"k/3", b"THREE"), (b"k/4", b"four")]
        assert list(store.iter_state(b"k/", 1, limit=2)) == [(b"k/1", b"one"), (b"k/3", b"THREE")]

    def test_iter_state_many_keys_with_deletions(self, store: LedgerStore) -> None:
        store.commit(make_batch(0, state={b"x/%05d" % i: b"%d" % i for i in range(1500)}))
        store.commit(make_batch(1, state={b"x/%05d" % i: None for i in range(0, 1500, 3)}))
        live = [(b"x/%05d" % i, b"%d" % i) for i in range(1500) if i % 3]
        assert list(store.iter_state(b"x/")) == live
        assert list(store.iter_state(b"x/", limit=700)) == live[:700]
        assert len(list(store.iter_state(b"x/", 0))) == 1500

    # --- nodes ---------------------------------------------------------------------------
    def test_nodes(self, store: LedgerStore) -> None:
        first = {h("n", i): b"node-%d" % i for i in range(10)}
        store.commit(make_batch(0, nodes=first))
        again = {h("n", 0): b"node-0", h("n", 10): b"node-10"}
        store.commit(make_batch(1, nodes=again))
        for key, value in {**first, **again}.items():
            assert store.get_node(key) == value
        assert store.get_node(h("n", 11)) is None

    # --- rejected commits ----------------------------------------------------------------
    def assert_unchanged(
        self, store: LedgerStore, meta: ChainMeta | None, rejected: CommitBatch
    ) -> None:
        assert store.get_meta() == meta
        next_height = 0 if meta is None else meta.height + 1
        assert store.get_block(next_height) is None
        assert store.get_receipts(next_height) is None
        assert store.get_height_by_hash(rejected.block_hash) in (None, rejected.height - 1)
        for key in rejected.state_writes:
            assert store.get_state(key) is None
        for node in rejected.nodes:
            assert store.get_node(node) is None

    @pytest.mark.parametrize("height", [1, 2, -1, 5])
    def test_genesis_must_be_height_zero(self, store: LedgerStore, height: int) -> None:
        batch = make_batch(height, state={b"s": b"v"}, nodes={h("x"): b"x"})
        with pytest.raises(StorageError):
            store.commit(batch)
        self.assert_unchanged(store, None, batch)

    @pytest.mark.parametrize("height", [0, 1, 2, 4])
    def test_commit_at_wrong_height(self, store: LedgerStore, height: int) -> None:
        commit_chain(store, 3)
        meta = store.get_meta()
        batch = make_batch(height, state={b"s": b"v"}, nodes={h("x"): b"x"}, tag="again")
        with pytest.raises(StorageError):
            store.commit(batch)
        self.assert_unchanged(store, meta, batch)
        store.commit(make_batch(3))  # the store still accepts the right height

    def test_duplicate_tx_id_of_an_earlier_block(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 2)
        meta = store.get_meta()
        good = make_batch(2, txs=3, state={b"s": b"v"}, nodes={h("x"): b"x"})
        bad = CommitBatch(
            height=2,
            block_hash=good.block_hash,
            block=good.block,
            tx_ids=[good.tx_ids[0], good.tx_ids[1], batches[0].tx_ids[1]],
            receipts=good.receipts,
            state_root=good.state_root,
            state_writes=good.state_writes,
            nodes=good.nodes,
        )
        with pytest.raises(StorageError):
            store.commit(bad)
        self.assert_unchanged(store, meta, bad)
        assert store.get_tx_location(good.tx_ids[0]) is None
        assert store.get_tx_location(batches[0].tx_ids[1]) == TxLocation(0, 1)
        store.commit(good)
        assert store.get_meta() == ChainMeta(2, good.block_hash, good.state_root)

    def test_duplicate_tx_id_within_a_block(self, store: LedgerStore) -> None:
        good = make_batch(0, txs=2, state={b"s": b"v"}, nodes={h("x"): b"x"})
        bad = CommitBatch(
            height=0,
            block_hash=good.block_hash,
            block=good.block,
            tx_ids=[good.tx_ids[0], good.tx_ids[0]],
            receipts=good.receipts,
            state_root=good.state_root,
            state_writes=good.state_writes,
            nodes=good.nodes,
        )
        with pytest.raises(StorageError):
            store.commit(bad)
        self.assert_unchanged(store, None, bad)
        assert store.get_tx_location(good.tx_ids[0]) is None

    def test_duplicate_block_hash(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 1)
        meta = store.get_meta()
        bad = make_batch(1, state={b"s": b"v"}, nodes={h("x"): b"x"})
        bad = CommitBatch(
            height=1,
            block_hash=batches[0].block_hash,
            block=bad.block,
            tx_ids=bad.tx_ids,
            receipts=bad.receipts,
            state_root=bad.state_root,
            state_writes=bad.state_writes,
            nodes=bad.nodes,
        )
        with pytest.raises(StorageError):
            store.commit(bad)
        self.assert_unchanged(store, meta, bad)

    def test_receipts_must_match_transactions(self, store: LedgerStore) -> None:
        good = make_batch(0, txs=2)
        bad = CommitBatch(
            height=0,
            block_hash=good.block_hash,
            block=good.block,
            tx_ids=good.tx_ids,
            receipts=good.receipts[:1],
            state_root=good.state_root,
        )
        with pytest.raises(StorageError):
            store.commit(bad)
        self.assert_unchanged(store, None, bad)

    def test_closed_store_refuses_use(self, store: LedgerStore) -> None:
        commit_chain(store, 1)
        store.close()
        store.close()  # idempotent
        with pytest.raises(StorageError):
            store.get_meta()
        with pytest.raises(StorageError):
            store.commit(make_batch(1))

    # --- finality ------------------------------------------------------------------------
    def test_no_certificates_yet(self, store: LedgerStore) -> None:
        assert store.get_finalized_height() == -1
        assert store.get_finality_certificate(0) is None
        commit_chain(store, 2)
        assert store.get_finalized_height() == -1
        assert store.get_finality_certificate(1) is None

    def test_certificates_arrive_after_their_blocks_in_any_order(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 4)
        store.save_finality_certificate(make_certificate(batches[2]))
        assert store.get_finalized_height() == 2
        store.save_finality_certificate(make_certificate(batches[1]))
        assert store.get_finalized_height() == 2
        assert store.get_finality_certificate(1) == make_certificate(batches[1])
        assert store.get_finality_certificate(2) == make_certificate(batches[2])
        assert store.get_finality_certificate(3) is None

    def test_saving_a_certificate_is_idempotent(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 2)
        first = make_certificate(batches[1])
        store.save_finality_certificate(first)
        store.save_finality_certificate(first)
        store.save_finality_certificate(make_certificate(batches[1], signers=("node1", "node3")))
        assert store.get_finality_certificate(1) == first
        assert store.get_finalized_height() == 1

    def test_certificate_of_an_uncommitted_block_is_refused(self, store: LedgerStore) -> None:
        commit_chain(store, 2)
        with pytest.raises(StorageError):
            store.save_finality_certificate(make_certificate(make_batch(2)))
        assert store.get_finalized_height() == -1

    @pytest.mark.parametrize("field", ["block_hash", "state_root"])
    def test_certificate_of_another_block_is_refused(self, store: LedgerStore, field: str) -> None:
        batches = commit_chain(store, 2)
        cert = make_certificate(batches[1])
        forged = msgspec.structs.replace(cert, **{field: h("other")})
        with pytest.raises(StorageError):
            store.save_finality_certificate(forged)
        assert store.get_finality_certificate(1) is None

    def test_certificates_saved_together(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 4)
        first = make_certificate(batches[1])
        store.save_finality_certificate(first)
        forged = msgspec.structs.replace(make_certificate(batches[2]), state_root=h("other"))
        refused = store.save_finality_certificates(
            [
                make_certificate(batches[3]),
                make_certificate(batches[1], signers=("node1", "node3")),  # already has one
                forged,
                make_certificate(make_batch(4)),  # not committed
                make_certificate(batches[0]),
            ]
        )
        assert [type(e) for e in refused] == [StorageError, StorageError]
        assert [e.details["height"] for e in refused] == [2, 4]
        assert store.get_finality_certificate(0) == make_certificate(batches[0])
        assert store.get_finality_certificate(1) == first
        assert store.get_finality_certificate(2) is None
        assert store.get_finality_certificate(3) == make_certificate(batches[3])
        assert store.get_finalized_height() == 3
        assert store.save_finality_certificates([]) == []

    def test_closed_store_refuses_certificates(self, store: LedgerStore) -> None:
        batches = commit_chain(store, 1)
        store.close()
        with pytest.raises(StorageError):
            store.save_finality_certificate(make_certificate(batches[0]))
        with pytest.raises(StorageError):
            store.save_finality_certificates([make_certificate(batches[0])])
        with pytest.raises(StorageError):
            store.get_finalized_height()


class DurableLedgerStoreConformance(LedgerStoreConformance):
    """Extra behaviour of backends that persist: subclasses provide ``reopen``, a fixture that
    closes the given store and opens the same database again."""

    def test_reopen_keeps_everything(
        self, store: LedgerStore, reopen: Callable[[LedgerStore], LedgerStore]
    ) -> None:
        store.commit(make_batch(0, state={b"a": b"0", b"b": b"0"}, nodes={h("n0"): b"n0"}))
        store.commit(make_batch(1, txs=3, state={b"a": None, b"c": b"1"}, nodes={h("n1"): b"n1"}))
        meta = store.get_meta()
        store = reopen(store)
        assert store.get_meta() == meta
        assert store.get_block(1) == make_batch(1, txs=3).block
        assert store.get_height_by_hash(make_batch(0).block_hash) == 0
        assert store.get_receipts(1) == list(make_batch(1, txs=3).receipts)
        assert store.get_tx_location(make_batch(1, txs=3).tx_ids[2]) == TxLocation(1, 2)
        assert store.get_state(b"a") is None
        assert store.get_state(b"a", 0) == b"0"
        assert list(store.iter_state(b"")) == [(b"b", b"0"), (b"c", b"1")]
        assert store.get_node(h("n0")) == b"n0"
        assert store.get_node(h("n1")) == b"n1"
        store.commit(make_batch(2))
        assert store.get_meta() == ChainMeta(2, make_batch(2).block_hash, make_batch(2).state_root)

    def test_reopen_keeps_certificates(
        self, store: LedgerStore, reopen: Callable[[LedgerStore], LedgerStore]
    ) -> None:
        batches = commit_chain(store, 3)
        store.save_finality_certificate(make_certificate(batches[1]))
        store = reopen(store)
        assert store.get_finality_certificate(1) == make_certificate(batches[1])
        assert store.get_finalized_height() == 1
