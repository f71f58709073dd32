"""The node: the composition root that wires storage, the application, the mempool, the orderer,
events and metrics, and runs the block loop. It holds no ledger logic of its own."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from govchain.app import Application, CommittedBlock, PendingBlock
from govchain.consensus import CutterConfig, Orderer, SoloOrderer
from govchain.consensus.etcd import LogCompacted
from govchain.contracts import ContractRegistry, default_registry
from govchain.errors import (
    ConfigError,
    GovchainError,
    InvalidTransaction,
    MempoolFull,
    ReplayedTransaction,
)
from govchain.execution import CheckedTx, decode_tx
from govchain.mempool import Mempool, MempoolJournal
from govchain.node.config import (
    NodeConfig,
    load_genesis,
    load_key,
    load_node_config,
    node_dir,
)
from govchain.node.events import EventHub, Fate
from govchain.node.metrics import NodeMetrics
from govchain.node.multinode import Peer, build_peer
from govchain.node.sync import catch_up, get_peer_tls
from govchain.storage import LedgerStore, open_store
from govchain.types import ChainParams

__all__ = ["Node", "SubmitResult"]

log = logging.getLogger("govchain.node")


@dataclass(frozen=True, slots=True)
class SubmitResult:
    tx_id: bytes | None
    error: GovchainError | None = None


_UNBOUNDED_SIZE = ChainParams(max_tx_bytes=2**62)  # decode_tx reads only max_tx_bytes


def cutter_config(params: ChainParams) -> CutterConfig:
    """The block cutter's limits from the chain parameters in force."""
    return CutterConfig(params.max_block_txs, params.max_block_bytes, params.block_interval_ms)


class Node:
    def __init__(
        self,
        network_dir: Path,
        node_id: str = "node0",
        *,
        config: NodeConfig | None = None,
        store: LedgerStore | None = None,
        registry: ContractRegistry | None = None,
        orderer: Orderer | None = None,
    ) -> None:
        self.network_dir = network_dir
        self.config = config or load_node_config(network_dir, node_id)
        self.dir = node_dir(network_dir, self.config.node_id)
        self.genesis = load_genesis(network_dir)
        self.key = load_key(self.dir / "node.key")
        self.journal: MempoolJournal | None = None
        self._lock_file: IO[bytes] | None = None
        if store is None:
            location = self.config.storage
            if location != "memory:":
                path = self.dir / location
                path.parent.mkdir(parents=True, exist_ok=True)
                location = str(path)
                self._lock_file = _lock_data_dir(path.parent)
                self.journal = MempoolJournal(path.parent / "mempool.journal")
            store = open_store(location, durable=self.config.durable)
        self.store = store
        self.app = Application(store, self.genesis, registry or default_registry(), self.key)
        self.mempool = Mempool(self.config.mempool_max_txs, self.config.mempool_max_bytes)
        self.events = EventHub()
        self.metrics = NodeMetrics()
        self.peer: Peer | None = None  # multi-node: ordering on etcd, attestations, finality
        if orderer is None and self.config.etcd is not None:
            self.peer = build_peer(
                settings=self.config.etcd,
                node_dir=self.dir,
                genesis=self.genesis,
                key=self.key,
                node_id=self.config.node_id,
                store=self.store,
                metrics=self.metrics,
                cutter=cutter_config(self.app.params),
                height=self.app.info().height,
                decode_tx=self._decode_ordered_tx,
                faulty=self.config.faulty_attestations,
            )
        self.orderer: Orderer = orderer or (
            self.peer.orderer if self.peer else SoloOrderer(cutter_config(self.app.params))
        )
        self._admitted_at: dict[bytes, float] = {}
        self._admit_lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._committing: asyncio.Task[None] | None = None
        self.started_at = time.time()
        meta = self.app.info()
        self.events.height = meta.height
        self.metrics.height.set(meta.height)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.orderer.start()
        if self.peer is not None:
            await self.peer.start()
            meta = self.app.info()
            if meta.height > 0:  # attest the tip again: the tracker learns where this peer is
                self.peer.on_commit(meta.height, meta.block_hash, meta.state_root)
        self._loop_task = asyncio.create_task(self._block_loop(), name="block-loop")
        await self._recover_journal()
        log.info(
            "node %s started at height %d (chain %s)",
            self.config.node_id,
            self.app.info().height,
            self.genesis.chain_id,
        )

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._committing is not None:
            with contextlib.suppress(Exception):
                await self._committing  # a commit under way finishes before the store closes
        if self.peer is not None:
            await self.peer.stop()
        await self.orderer.stop()
        if self.journal is not None:
            self.journal.close()
        height = self.app.info().height
        self.store.close()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the data directory's lock
        log.info("node %s stopped at height %d", self.config.node_id, height)

    # --- admission -------------------------------------------------------------------------

    async def submit(self, raws: list[bytes]) -> list[SubmitResult]:
        """Admit a batch: each transaction is checked on its own; capacity is all-or-nothing
        (raises :class:`MempoolFull` and admits nothing when the batch does not fit). A peer
        whose state diverged from the quorum refuses writes (:class:`ChainDiverged`)."""
        if self.peer is not None:
            self.peer.check_writable()
        self.mempool.ensure_room(len(raws), sum(len(r) for r in raws))
        checked = await asyncio.to_thread(self.app.check_txs, raws)
        async with self._admit_lock:  # admission order is ordering order
            seen: set[bytes] = set()
            results = [self._admission_result(item, seen) for item in checked]
            admitted = [
                item
                for item, r in zip(checked, results, strict=True)
                if isinstance(item, CheckedTx) and r.error is None
            ]
            try:
                self.mempool.add_all(admitted)
            except MempoolFull:
                self.metrics.txs_rejected.labels(MempoolFull.code).inc(len(admitted))
                raise
            for r in results:
                if r.error is not None:
                    self.metrics.txs_rejected.labels(r.error.code).inc()
            now = time.monotonic()
            self._admitted_at.update((tx.tx_id, now) for tx in admitted)
            if self.journal is not None and admitted:
                self.journal.append(tx.raw for tx in admitted)  # before the API answers 202
            self.metrics.txs_admitted.inc(len(admitted))
            self._update_mempool_metrics()
            await self.orderer.order(admitted)
        return results

    def _admission_result(self, item: CheckedTx | GovchainError, seen: set[bytes]) -> SubmitResult:
        """The verdict on one checked item; ``seen`` collects the ids admitted so far."""
        if not isinstance(item, CheckedTx):
            return SubmitResult(None, item)
        if item.tx_id in self.mempool or item.tx_id in seen:
            return SubmitResult(
                item.tx_id,
                ReplayedTransaction(
                    f"transaction {item.tx_id.hex()} is already pending", tx_id=item.tx_id.hex()
                ),
            )
        seen.add(item.tx_id)
        return SubmitResult(item.tx_id)

    async def _recover_journal(self) -> None:
        """Re-admit what the journal holds: transactions accepted before a crash or stop."""
        if self.journal is None:
            return
        raws = list(self.journal.read())
        if not raws:
            return
        readmitted, gone = 0, collections.Counter[str]()
        for i in range(0, len(raws), 1000):
            for r in await self.submit(raws[i : i + 1000]):
                if r.error is None:
                    readmitted += 1
                else:
                    gone[r.error.code] += 1  # TX_REPLAYED: committed before the stop
        self.journal.rewrite(tx.raw for tx in self.mempool.pending_ids.values())
        log.info(
            "re-admitted %d journaled transactions; not re-admitted: %s", readmitted, gone or "none"
        )

    async def wait_for(self, tx_id: bytes, timeout: float) -> Fate | None:
        """Wait until a transaction is committed or rejected (None on timeout)."""
        loc = self.store.get_tx_location(tx_id)
        if loc is not None:
            return Fate(committed_height=loc.height)
        if (err := self.events.rejected(tx_id)) is not None:
            return Fate(error=err)
        if tx_id not in self.mempool and self.peer is None:
            return None  # (a peer waits: the transaction may reach it through the log)
        return await self.events.wait(tx_id, timeout)

    # --- the block loop --------------------------------------------------------------------

    async def _block_loop(self) -> None:
        """Finalize block N+1 while block N is being written (compute first, persist second):
        commits stay strictly in order, and each is published as soon as it is durable."""
        while True:
            try:
                batch = await self.orderer.next_batch()
            except LogCompacted as exc:
                await self._catch_up_past(exc)
                continue
            try:
                pending = await asyncio.to_thread(
                    self._finalize, batch.txs, batch.time_ms, batch.proposer
                )
            except Exception:
                log.exception("block production failed; the node stops producing blocks")
                raise
            if self._committing is not None:
                await self._committing  # block N is durable (and published) before N+1 commits
            self._committing = asyncio.create_task(self._commit_and_publish(pending))

    async def _catch_up_past(self, exc: LogCompacted) -> None:
        """etcd no longer holds the blocks this peer needs: fetch and verify them from the other
        peers' block stores, then follow the log again."""
        if self._committing is not None:
            await self._committing
        if self.peer is None or not self.config.peers:
            log.error("%s; no peers are configured to catch up from", exc.message)
            raise exc
        log.warning("%s; catching up from %s", exc.message, ", ".join(self.config.peers))
        while True:
            try:
                height = await catch_up(
                    self,
                    self.config.peers,
                    target_height=exc.floor,
                    verify=get_peer_tls(self.config.tls, self.dir),
                )
                break
            except GovchainError as failure:
                log.warning("catch-up failed (%s); trying again", failure.message)
                await asyncio.sleep(1.0)
        log.info("caught up to block %d from other peers", height)
        self.peer.orderer.resume_from(height)

    def _finalize(self, txs: list[CheckedTx], time_ms: int, proposer: bytes | None) -> PendingBlock:
        with self.metrics.finalize_seconds.time():
            return self.app.finalize_block(txs, time_ms, proposer)

    def _decode_ordered_tx(self, raw: bytes) -> CheckedTx | None:
        """Decode a transaction another peer ordered; None when it does not decode. Its size,
        signatures and stateful checks are judged when its block executes, under that block's
        parameters: decoding must not depend on how far this peer has committed, or peers that
        read the log at different moments of a parameter change would build different blocks."""
        try:
            return decode_tx(raw, self.genesis.chain_id, _UNBOUNDED_SIZE, self.app.registry)
        except InvalidTransaction as exc:
            log.warning("an ordered transaction does not decode and is left out: %s", exc)
            return None

    async def _commit_and_publish(self, pending: PendingBlock) -> None:
        try:
            with self.metrics.commit_seconds.time():
                committed = await asyncio.to_thread(self.app.commit, pending)
        except Exception:
            log.exception(
                "commit of block %d failed; the node stops producing blocks",
                pending.block.header.height,
            )
            raise
        self._after_commit(committed)

    def _after_commit(self, c: CommittedBlock) -> None:
        height = c.block.header.height
        if self.peer is not None:
            self.peer.on_commit(height, c.block_hash, c.block.header.state_root)
        # a transaction that reached the log through two peers runs once: the copy dropped as
        # replayed is not a rejection of the transaction
        dropped = [
            (tx.tx_id, err)
            for tx, err in c.dropped
            if not (isinstance(err, ReplayedTransaction) and self.store.get_tx_location(tx.tx_id))
        ]
        self.mempool.remove(c.tx_ids)
        self.mempool.remove(tx_id for tx_id, _ in dropped)
        now = time.monotonic()
        for tx_id in c.tx_ids:
            started = self._admitted_at.pop(tx_id, None)
            if started is not None:
                self.metrics.tx_latency.observe(now - started)
        for tx_id, err in dropped:
            self._admitted_at.pop(tx_id, None)
            self.metrics.txs_rejected.labels(err.code).inc()
            log.warning("transaction %s dropped at block %d: %s", tx_id.hex(), height, err)
        ok = sum(1 for r in c.receipts if r.ok)
        self.metrics.txs_committed.labels("ok").inc(ok)
        self.metrics.txs_committed.labels("failed").inc(len(c.receipts) - ok)
        self.metrics.blocks.inc()
        self.metrics.block_txs.observe(len(c.tx_ids))
        self.metrics.height.set(height)
        self._update_mempool_metrics()
        if self.journal is not None and self.journal.needs_compaction():
            self.journal.rewrite(tx.raw for tx in self.mempool.pending_ids.values())
        if c.params_changed is not None:
            self.orderer.update_config(cutter_config(c.params_changed))
            log.info("chain parameters changed at block %d: %s", height, c.params_changed)
        self.events.publish_block(height, c.tx_ids, dropped)

    def _update_mempool_metrics(self) -> None:
        self.metrics.mempool_txs.set(len(self.mempool))
        self.metrics.mempool_bytes.set(self.mempool.size_bytes)


def _lock_data_dir(data_dir: Path) -> IO[bytes]:
    """Hold an exclusive lock on the data directory for the node's lifetime, so that two node
    processes never write the same ledger."""
    lock = open(data_dir / "LOCK", "wb")  # noqa: SIM115 - held until stop()
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise ConfigError(
            f"another node is already running on {data_dir}",
            hint="Stop it first, or start this node with another --dir.",
        ) from None
    return lock
