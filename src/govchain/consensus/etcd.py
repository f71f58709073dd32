"""The etcd orderer: a total order of signed batches in etcd, the same on every peer.

Cutting rule: each peer cuts its own batches, with the pure :class:`BlockCutter`, from the
transactions it admitted. It signs each batch and appends it to the log at the next free
sequence number, claimed with one etcd transaction (``create_revision == 0`` on
``log/<seq>``, and ``seq`` not below the compaction floor); a peer that loses the race tries the
next number. Every peer reads the log in sequence order and hands each batch to its block loop:
batch ``seq`` is block ``seq + 1``, proposed by the batch's author, at time ``max(batch time,
previous block time)``. The log order is the block order. See docs/adr/0005-ordering-on-etcd.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence

import msgspec

from govchain.consensus.base import OrderedBatch
from govchain.consensus.batch import LogBatch, LogLayout, encode_seq, get_batch_problem, sign_batch
from govchain.consensus.cutter import BlockCutter, CutterConfig
from govchain.consensus.etcd_client import EtcdClient, EtcdCompacted, KeyValue, prefix_end
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, encode
from govchain.errors import GovchainError
from govchain.execution import CheckedTx

__all__ = ["EtcdOrderer", "LogCompacted", "LogCorrupt"]

log = logging.getLogger("govchain.consensus.etcd")

READ_PAGE = 256  # log entries per range read
AHEAD = 64  # batches read ahead of the block loop
MAX_STRETCH = 4  # a busy peer waits up to this many more block intervals before cutting


class LogCorrupt(GovchainError):
    code = "ORDER_LOG_CORRUPT"
    status = 500
    title = "The ordering log holds an entry that no peer signed"
    default_hint = (
        "Someone with write access to etcd wrote to the chain's log: rotate the etcd "
        "credentials, then restore the entry from another peer's block store."
    )


class LogCompacted(GovchainError):
    code = "ORDER_LOG_COMPACTED"
    status = 500
    title = "The ordering log no longer holds the blocks this peer needs"
    default_hint = (
        "Catch up from other peers' block stores (the node does this when `peers` is set in "
        "its config.json)."
    )

    def __init__(self, message: str, *, next_seq: int, floor: int) -> None:
        super().__init__(message, next_seq=next_seq, floor=floor)
        self.next_seq = next_seq
        self.floor = floor


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class EtcdOrderer:
    """Orders through an etcd cluster; implements :class:`~govchain.consensus.base.Orderer`."""

    def __init__(
        self,
        client: EtcdClient,
        *,
        chain_id: str,
        node_id: str,
        key: KeyPair,
        peers: Mapping[str, bytes],
        config: CutterConfig,
        next_seq: int,
        decode_tx: Callable[[bytes], CheckedTx | None],
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.client = client
        self.layout = LogLayout(chain_id)
        self.chain_id = chain_id
        self.node_id = node_id
        self._key = key
        self._peers = dict(peers)
        self._cutter: BlockCutter[CheckedTx] = BlockCutter(config)
        self._clock = clock
        self._decode_tx = decode_tx
        self._next_seq = next_seq  # the next sequence to hand to the block loop
        self._claim_from = next_seq  # no free sequence is below this one
        self._outbox: asyncio.Queue[list[CheckedTx]] = asyncio.Queue()
        self._carry: list[list[CheckedTx]] = []  # taken from the outbox, appended next
        self._batches: asyncio.Queue[OrderedBatch | BaseException] = asyncio.Queue(AHEAD)
        self._mine: dict[int, list[CheckedTx]] = {}  # own batches, by sequence
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._queued = 0
        self._others = 0  # batches of other peers delivered from the log, ever
        self._others_at_start = 0  # ... when this peer's pending batch got its first transaction
        self.appended = 0  # batches this peer appended (for metrics)
        self.lost_races = 0  # sequence numbers another peer took first

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.client.create(self.layout.floor_key, encode_seq(0))
        self._tasks = [
            asyncio.create_task(self._run_timer(), name="etcd-cutter-timer"),
            asyncio.create_task(self._run_appender(), name="etcd-appender"),
            asyncio.create_task(self._run_follower(), name="etcd-follower"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.client.aclose()

    # --- the Orderer protocol --------------------------------------------------------------

    async def order(self, txs: Sequence[CheckedTx]) -> None:
        now = self._clock()
        for tx in txs:
            if self._cutter.pending_count == 0:
                self._others_at_start = self._others
            for batch in self._cutter.ordered(tx, len(tx.raw), now):
                self._emit(batch)
        self._wake.set()

    async def next_batch(self) -> OrderedBatch:
        item = await self._batches.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def update_config(self, config: CutterConfig) -> None:
        self._cutter.config = config
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Transactions admitted here and not yet appended to the log."""
        return self._cutter.pending_count + self._queued

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def resume_from(self, next_seq: int) -> None:
        """Follow the log again from ``next_seq`` (after the node caught up from other peers'
        block stores past what etcd still holds)."""
        self._next_seq = next_seq
        self._claim_from = max(self._claim_from, next_seq)
        while not self._batches.empty():
            self._batches.get_nowait()
        follower = asyncio.create_task(self._run_follower(), name="etcd-follower")
        self._tasks = [t for t in self._tasks if not t.done()] + [follower]

    # --- cutting ---------------------------------------------------------------------------

    def _emit(self, batch: list[CheckedTx]) -> None:
        self._queued += len(batch)
        self._outbox.put_nowait(batch)

    def _stretch_ms(self) -> int:
        """How much longer than the block interval to let a batch grow: one more interval for
        each batch that stands before it (at most ``MAX_STRETCH``). Those are the batches of the
        log waiting for this peer's block loop and this peer's batches not yet appended — a
        batch cut now would only wait behind them — and the batches other peers appended while
        this one was pending: each is a block every peer executes, commits, attests and
        certifies, so when several peers take transactions, each cutting less often keeps the
        network near one block per interval instead of one per peer per interval. It costs the
        transactions little (they would queue behind those blocks) and makes fewer, larger
        blocks — fewer commits, attestations and certificates per transaction — exactly when
        the peers are loaded. A peer that alone takes transactions cuts every interval."""
        waiting = self._batches.qsize() + self._outbox.qsize() + len(self._carry)
        waiting += self._others - self._others_at_start
        return self._cutter.config.max_wait_ms * min(waiting, MAX_STRETCH)

    async def _run_timer(self) -> None:
        while True:
            deadline = self._cutter.deadline_ms()
            if deadline is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            delay = (deadline + self._stretch_ms() - self._clock()) / 1000
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(delay, 0.05))
                continue
            if self._cutter.is_due(self._clock()):
                self._emit(self._cutter.cut())

    # --- appending -------------------------------------------------------------------------

    async def _run_appender(self) -> None:
        while True:
            txs = self._carry.pop(0) if self._carry else await self._outbox.get()
            txs = self._merge_queued(txs)
            try:
                seq = await self._append(txs)
            except Exception:
                log.exception("appending a batch of %d transactions failed", len(txs))
                self._carry.insert(0, txs)  # the transactions stay admitted: try again
                await asyncio.sleep(1.0)
                continue
            self._queued -= len(txs)
            log.debug("appended batch %d (%d transactions)", seq, len(txs))

    def _merge_queued(self, txs: list[CheckedTx]) -> list[CheckedTx]:
        """Join the batches cut while the previous append was under way into one, within the
        cutter's limits: one log entry (and one block) instead of several small ones."""
        limits = self._cutter.config
        size = sum(len(tx.raw) for tx in txs)
        while not self._outbox.empty():
            queued = self._outbox.get_nowait()
            more = sum(len(tx.raw) for tx in queued)
            if len(txs) + len(queued) > limits.max_txs or size + more > limits.max_bytes:
                self._carry.append(queued)  # the next append starts with it
                break
            txs = txs + queued
            size += more
        return txs

    async def _append(self, txs: list[CheckedTx]) -> int:
        """Claim the next free sequence for ``txs``; retry at the next one on a lost race."""
        raws = [tx.raw for tx in txs]
        seq = max(self._claim_from, self._next_seq)
        failures = 0
        while True:
            batch = sign_batch(self._key, self.chain_id, seq, self._clock(), self.node_id, raws)
            self._mine[seq] = txs
            if await self._claim(seq, encode(batch)):
                self._claim_from = seq + 1
                self.appended += 1
                return seq
            self._mine.pop(seq, None)
            self.lost_races += 1
            failures += 1
            seq += 1
            if failures % 8 == 0:  # far behind: jump to the end of the log
                seq = max(seq, await self._log_end())

    async def _claim(self, seq: int, value: bytes) -> bool:
        key = self.layout.log_key(seq)
        body = {
            "compare": [
                {"key": key, "target": "CREATE", "result": "EQUAL", "create_revision": 0},
                {
                    "key": self.layout.floor_key,
                    "target": "VALUE",
                    "result": "LESS",
                    "value": encode_seq(seq + 1),
                },
            ],
            "success": [{"request_put": {"key": key, "value": value}}],
        }
        return await self.client.txn(body)

    async def _log_end(self) -> int:
        last = await self.client.last_key(self.layout.log_prefix)
        return 0 if last is None else self.layout.seq_of(last.key) + 1

    async def floor(self) -> int:
        _, kvs, _ = await self.client.range(self.layout.floor_key)
        return int(kvs[0].value) if kvs else 0

    # --- following the log -----------------------------------------------------------------

    async def _run_follower(self) -> None:
        while True:
            try:
                revision = await self._read_forward()
                await self._watch_from(revision + 1)
            except EtcdCompacted:
                log.info("etcd compacted the watched history; re-reading the log")
            except LogCompacted as exc:
                await self._batches.put(exc)
                return
            except LogCorrupt as exc:
                log.error("%s", exc.message)
                await self._batches.put(exc)
                return
            except Exception:
                log.exception("reading the ordering log failed; retrying")
                await asyncio.sleep(0.5)

    async def _read_forward(self) -> int:
        """Deliver every entry from the next expected sequence to the end of the log; return the
        revision at which the end was read."""
        while True:
            start = self.layout.log_key(self._next_seq)
            end = prefix_end(self.layout.log_prefix)
            revision, kvs, more = await self.client.range(start, end, limit=READ_PAGE)
            if kvs and self.layout.seq_of(kvs[0].key) != self._next_seq:
                await self._check_gap()
            for kv in kvs:
                await self._deliver(kv)
            if not more:
                return revision

    async def _watch_from(self, revision: int) -> None:
        end = prefix_end(self.layout.log_prefix)
        async for events in self.client.watch(self.layout.log_prefix, end, revision):
            for event in events:
                if event.type != "PUT":
                    continue
                seq = self.layout.seq_of(event.kv.key)
                if seq > self._next_seq:
                    return  # a gap: re-read from where we are
                if seq == self._next_seq:
                    await self._deliver(event.kv)

    async def _check_gap(self) -> None:
        floor = await self.floor()
        if floor > self._next_seq:
            raise LogCompacted(
                f"the log starts at batch {floor}; this peer needs batch {self._next_seq}",
                next_seq=self._next_seq,
                floor=floor,
            )

    async def _deliver(self, kv: KeyValue) -> None:
        seq = self.layout.seq_of(kv.key)
        if seq != self._next_seq:
            return
        try:
            batch = decode(kv.value, LogBatch)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise LogCorrupt(f"log entry {seq} is not a batch: {exc}", seq=seq) from exc
        if (problem := get_batch_problem(batch, self.chain_id, seq, self._peers)) is not None:
            raise LogCorrupt(problem, seq=seq)
        txs = self._mine.pop(seq, None)
        if batch.author != self.node_id:
            self._others += 1
        if txs is None or batch.author != self.node_id:
            txs = [tx for raw in batch.txs if (tx := self._decode_tx(raw)) is not None]
        self._next_seq = seq + 1
        self._claim_from = max(self._claim_from, seq + 1)
        await self._batches.put(OrderedBatch(txs, batch.time_ms, batch.public_key))

    # --- compaction ------------------------------------------------------------------------

    async def compact_below(self, seq: int) -> bool:
        """Delete log entries below ``seq`` and raise the floor to it, in one transaction that
        only moves the floor forward. True if this call moved it."""
        floor = encode_seq(seq)
        body = {
            "compare": [
                {"key": self.layout.floor_key, "target": "VALUE", "result": "LESS", "value": floor}
            ],
            "success": [
                {
                    "request_delete_range": {
                        "key": self.layout.log_prefix,
                        "range_end": self.layout.log_key(seq),
                    }
                },
                {"request_put": {"key": self.layout.floor_key, "value": floor}},
            ],
        }
        return await self.client.txn(body)
