"""The etcd orderer against an in-memory etcd: two peers racing for sequence numbers get a
unique, gap-free order that both read the same; a peer reads its own batches back without
decoding them; a forged entry halts it; a compacted log tells it to catch up elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from govchain.consensus import CutterConfig, OrderedBatch
from govchain.consensus.batch import LogLayout, sign_batch
from govchain.consensus.etcd import EtcdOrderer, LogCompacted, LogCorrupt
from govchain.consensus.etcd_client import KeyValue, WatchEvent
from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import encode
from govchain.execution import CheckedTx

KEYS = {f"node{i}": get_scheme(ED25519).from_seed(bytes([i + 1]) * 32) for i in range(2)}
PEERS = {n: k.public_key for n, k in KEYS.items()}
CONFIG = CutterConfig(max_txs=2, max_bytes=1 << 20, max_wait_ms=50)


class FakeEtcd:
    """Just enough of etcd: revisions, create-if-absent and value comparisons, ranges, a
    watch that replays history from a revision."""

    def __init__(self) -> None:
        self.kv: dict[bytes, KeyValue] = {}
        self.history: list[tuple[int, WatchEvent]] = []
        self.revision = 1
        self.changed = asyncio.Condition()

    def _put(self, key: bytes, value: bytes) -> None:
        self.revision += 1
        old = self.kv.get(key)
        created = old.create_revision if old else self.revision
        kv = KeyValue(key, value, created, self.revision)
        self.kv[key] = kv
        self.history.append((self.revision, WatchEvent(kv)))

    def _holds(self, c: dict[str, Any]) -> bool:
        kv = self.kv.get(c["key"])
        if c["target"] == "CREATE":
            return (kv.create_revision if kv else 0) == int(c["create_revision"])
        return kv is not None and kv.value < bytes(c["value"])  # VALUE, LESS

    async def txn(self, body: dict[str, Any]) -> bool:
        ok = all(self._holds(c) for c in body["compare"])
        if ok:
            for op in body["success"]:
                if "request_put" in op:
                    self._put(op["request_put"]["key"], op["request_put"]["value"])
                else:
                    r = op["request_delete_range"]
                    for key in [k for k in self.kv if r["key"] <= k < r["range_end"]]:
                        del self.kv[key]
            async with self.changed:
                self.changed.notify_all()
        await asyncio.sleep(0)
        return ok

    async def create(self, key: bytes, value: bytes) -> bool:
        body = {"compare": [{"key": key, "target": "CREATE", "create_revision": 0}]}
        return await self.txn({**body, "success": [{"request_put": {"key": key, "value": value}}]})

    async def range(
        self, key: bytes, range_end: bytes | None = None, *, limit: int = 0, revision: int = 0
    ) -> tuple[int, list[KeyValue], bool]:
        keys = sorted(
            k for k in self.kv if (k == key if range_end is None else key <= k < range_end)
        )
        page = keys[:limit] if limit else keys
        return self.revision, [self.kv[k] for k in page], len(page) < len(keys)

    async def last_key(self, prefix: bytes) -> KeyValue | None:
        keys = sorted(k for k in self.kv if k.startswith(prefix))
        return self.kv[keys[-1]] if keys else None

    async def watch(
        self, key: bytes, range_end: bytes, start_revision: int
    ) -> AsyncIterator[list[WatchEvent]]:
        seen = start_revision - 1
        while True:
            async with self.changed:
                await self.changed.wait_for(self._after(seen))
            events = [e for r, e in self.history if r > seen and key <= e.kv.key < range_end]
            seen = self.revision
            if events:
                yield events

    def _after(self, revision: int) -> Callable[[], bool]:
        return lambda: self.revision > revision

    async def aclose(self) -> None:
        return None


def _orderer(
    etcd: FakeEtcd, node_id: str, chain: Any, config: CutterConfig = CONFIG
) -> EtcdOrderer:
    return EtcdOrderer(
        etcd,  # type: ignore[arg-type]
        chain_id=chain.genesis.chain_id,
        node_id=node_id,
        key=KEYS[node_id],
        peers=PEERS,
        config=config,
        next_seq=0,
        decode_tx=lambda raw: chain.check(raw),
    )


async def _take(orderer: EtcdOrderer, n: int) -> list[OrderedBatch]:
    return [await asyncio.wait_for(orderer.next_batch(), timeout=10) for _ in range(n)]


@pytest.fixture
def txs(chain: Any) -> list[CheckedTx]:
    return [chain.check(chain.tx()) for _ in range(8)]


def test_two_peers_racing_read_one_order(chain: Any, txs: list[CheckedTx]) -> None:
    async def main() -> tuple[list[OrderedBatch], list[OrderedBatch], EtcdOrderer]:
        etcd = FakeEtcd()
        a, b = _orderer(etcd, "node0", chain), _orderer(etcd, "node1", chain)
        await a.start()
        await b.start()
        try:
            await asyncio.gather(a.order(txs[:4]), b.order(txs[4:]))
            return await _take(a, 4), await _take(b, 4), a
        finally:
            await a.stop()
            await b.stop()

    seen_a, seen_b, a = asyncio.run(main())
    ids_a = [[t.tx_id for t in batch.txs] for batch in seen_a]
    assert ids_a == [[t.tx_id for t in batch.txs] for batch in seen_b]
    assert sorted(i for batch in ids_a for i in batch) == sorted(t.tx_id for t in txs)
    assert [b.proposer for b in seen_a] == [b.proposer for b in seen_b]
    assert {b.proposer for b in seen_a} == {KEYS["node0"].public_key, KEYS["node1"].public_key}
    assert a.next_seq == 4


def test_a_forged_entry_halts_the_reader(chain: Any) -> None:
    async def main() -> None:
        etcd = FakeEtcd()
        layout = LogLayout(chain.genesis.chain_id)
        stranger = get_scheme(ED25519).from_seed(bytes([9]) * 32)
        forged = sign_batch(stranger, chain.genesis.chain_id, 0, 1, "node0", [])
        await etcd.create(layout.log_key(0), encode(forged))
        orderer = _orderer(etcd, "node1", chain)
        await orderer.start()
        try:
            with pytest.raises(LogCorrupt) as info:
                await _take(orderer, 1)
            assert info.value.code == "ORDER_LOG_CORRUPT"
        finally:
            await orderer.stop()

    asyncio.run(main())


def test_a_batch_of_a_node_that_is_not_a_founding_peer_is_delivered(chain: Any) -> None:
    """Its author's standing (added by governance, removed, unknown) is judged on chain state
    when the batch executes, alike on every peer: the reader neither halts nor skips it."""

    async def main() -> OrderedBatch:
        etcd = FakeEtcd()
        layout = LogLayout(chain.genesis.chain_id)
        newcomer = get_scheme(ED25519).from_seed(bytes([9]) * 32)
        batch = sign_batch(newcomer, chain.genesis.chain_id, 0, 1, "node9", [])
        await etcd.create(layout.log_key(0), encode(batch))
        orderer = _orderer(etcd, "node1", chain)
        await orderer.start()
        try:
            (delivered,) = await _take(orderer, 1)
            return delivered
        finally:
            await orderer.stop()

    delivered = asyncio.run(main())
    assert delivered.proposer == get_scheme(ED25519).from_seed(bytes([9]) * 32).public_key
    assert delivered.txs == []


def test_a_compacted_log_sends_a_late_reader_elsewhere(chain: Any, txs: list[CheckedTx]) -> None:
    async def main() -> None:
        etcd = FakeEtcd()
        writer = _orderer(etcd, "node0", chain)
        await writer.start()
        await writer.order(txs[:6])
        await _take(writer, 3)
        assert await writer.compact_below(2)
        assert not await writer.compact_below(1)  # the floor only moves forward
        late = _orderer(etcd, "node1", chain)
        await late.start()
        try:
            with pytest.raises(LogCompacted) as info:
                await _take(late, 1)
            assert (info.value.code, info.value.next_seq, info.value.floor) == (
                "ORDER_LOG_COMPACTED",
                0,
                2,
            )
        finally:
            await late.stop()
            await writer.stop()

    asyncio.run(main())


def test_a_claim_below_the_floor_is_refused(chain: Any, txs: list[CheckedTx]) -> None:
    async def main() -> None:
        etcd = FakeEtcd()
        orderer = _orderer(etcd, "node0", chain)
        await orderer.start()
        try:
            await orderer.order(txs[:4])
            await _take(orderer, 2)
            assert await orderer.compact_below(2)
            # sequence 0 and 1 were deleted: they may never be claimed again
            assert not await orderer._claim(0, b"late")
            assert await orderer.floor() == 2
        finally:
            await orderer.stop()

    asyncio.run(main())


def test_batches_cut_during_an_append_are_joined_within_the_limits(
    chain: Any, txs: list[CheckedTx]
) -> None:
    async def main() -> None:
        orderer = EtcdOrderer(
            FakeEtcd(),  # type: ignore[arg-type]
            chain_id=chain.genesis.chain_id,
            node_id="node0",
            key=KEYS["node0"],
            peers=PEERS,
            config=CutterConfig(max_txs=3, max_bytes=1 << 20, max_wait_ms=50),
            next_seq=0,
            decode_tx=lambda raw: chain.check(raw),
        )
        orderer._outbox.put_nowait([txs[1]])
        orderer._outbox.put_nowait([txs[2], txs[3]])
        assert orderer._merge_queued([txs[0]]) == [txs[0], txs[1]]
        assert orderer._carry == [[txs[2], txs[3]]]  # would pass max_txs: the next entry

    asyncio.run(main())


def test_a_busy_peer_lets_its_batch_grow_for_longer(chain: Any) -> None:
    async def main() -> None:
        orderer = _orderer(FakeEtcd(), "node0", chain)
        assert orderer._stretch_ms() == 0
        for _ in range(2):  # two batches of the log wait for this peer's block loop
            orderer._batches.put_nowait(OrderedBatch([], 0, b""))
        assert orderer._stretch_ms() == 2 * CONFIG.max_wait_ms
        for _ in range(10):
            orderer._batches.put_nowait(OrderedBatch([], 0, b""))
        assert orderer._stretch_ms() == 4 * CONFIG.max_wait_ms  # bounded

    asyncio.run(main())


def test_a_peer_lets_its_batch_grow_while_other_peers_append(
    chain: Any, txs: list[CheckedTx]
) -> None:
    slow = CutterConfig(max_txs=2, max_bytes=1 << 20, max_wait_ms=60_000)  # cuts by size only

    async def main() -> list[int]:
        etcd = FakeEtcd()
        a, b = _orderer(etcd, "node0", chain), _orderer(etcd, "node1", chain, slow)
        await a.start()
        await b.start()
        try:
            await b.order(txs[:1])  # b's batch is pending
            stretch = [b._stretch_ms()]
            await a.order(txs[1:5])  # a appends two full batches meanwhile
            await _take(b, 2)  # b's block loop takes them
            stretch.append(b._stretch_ms())
            await b.order(txs[5:6])  # b's batch is full: cut and appended
            await _take(b, 1)
            await b.order(txs[6:7])  # a new batch counts only what comes after it
            stretch.append(b._stretch_ms())
            return stretch
        finally:
            await a.stop()
            await b.stop()

    assert asyncio.run(main()) == [0, 2 * slow.max_wait_ms, 0]
