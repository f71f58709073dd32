"""The multi-node side of a peer: ordering on etcd, attestations, finality and divergence.

:func:`build_peer` makes the :class:`EtcdOrderer` and a :class:`Peer` for a node whose config
names an etcd cluster. After each commit the peer signs an attestation of (chain id, height,
block hash, state root) and publishes it at ``/govchain/<chain>/att/<height>/<node>``; it
watches every peer's attestations and feeds them to the :class:`FinalityTracker`, saves the
certificates that form, and compacts log entries well below the finalized height. When a
certificate's state root differs from the one this peer committed, the peer halts API writes
(:class:`ChainDiverged`, 503) and reports the divergence in its log, its metrics and
``govchain network status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from govchain.consensus.batch import LogLayout
from govchain.consensus.cutter import CutterConfig
from govchain.consensus.etcd import EtcdOrderer
from govchain.consensus.etcd_client import EtcdClient, EtcdCompacted, EtcdTls, prefix_end
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, encode
from govchain.errors import GovchainError
from govchain.execution import CheckedTx
from govchain.node.config import EtcdSettings
from govchain.node.finality import Divergence, FinalityTracker
from govchain.node.metrics import NodeMetrics
from govchain.storage import LedgerStore
from govchain.types import Genesis
from govchain.types.finality import Attestation, FinalityCertificate, FinalityError

__all__ = ["ChainDiverged", "Peer", "build_peer", "etcd_client"]

log = logging.getLogger("govchain.node.peer")

PUBLISH_MAX = 100  # attestations per etcd transaction (etcd allows 128 operations)


class ChainDiverged(GovchainError):
    code = "CHAIN_DIVERGED"
    status = 503
    title = "This peer's state differs from the quorum's; it accepts no writes"
    default_hint = (
        "Submit to another peer. Operators: see `govchain network status`, stop this peer, "
        "and rebuild its ledger from the other peers."
    )


def etcd_client(settings: EtcdSettings, node_dir: Path) -> EtcdClient:
    """A client for the configured cluster (TLS files relative to the node directory)."""

    def resolve(name: str | None) -> str | None:
        return None if name is None else str(node_dir / name)

    tls = None
    if settings.ca_file or settings.cert_file:
        tls = EtcdTls(
            resolve(settings.ca_file), resolve(settings.cert_file), resolve(settings.key_file)
        )
    return EtcdClient(settings.endpoints, tls=tls, timeout=settings.timeout_s)


class Peer:
    """Attestation exchange and finality for one peer (see the module's doc)."""

    def __init__(
        self,
        orderer: EtcdOrderer,
        tracker: FinalityTracker,
        store: LedgerStore,
        metrics: NodeMetrics,
        *,
        retain_blocks: int,
        compact_every: int,
        faulty: bool = False,
    ) -> None:
        self.orderer = orderer
        self.client = orderer.client
        self.layout: LogLayout = orderer.layout
        self.tracker = tracker
        self.store = store
        self.metrics = metrics
        self.retain_blocks = retain_blocks
        self.compact_every = max(1, compact_every)
        self.faulty = faulty
        self._outbox: asyncio.Queue[Attestation] = asyncio.Queue()
        self._committed_at: dict[int, float] = {}
        self._early: dict[int, FinalityCertificate] = {}  # formed before this peer committed
        self._compacted_to = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._reported: Divergence | None = None
        self._stored_final = -1
        self._counted = (0, 0)  # the orderer's appended batches and lost races, as counted
        self._unsaved: list[FinalityCertificate] = []  # to write, in a thread, in order
        self._unsaved_ready = asyncio.Event()
        self._writing: asyncio.Future[None] | None = None

    async def start(self) -> None:
        self._stored_final = self.store.get_finalized_height()
        self.metrics.finalized_height.set(self.finalized_height)
        self._tasks = [
            asyncio.create_task(self._run_publisher(), name="attestation-publisher"),
            asyncio.create_task(self._run_watcher(), name="attestation-watcher"),
            asyncio.create_task(self._run_saver(), name="certificate-saver"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._writing is not None:
            with contextlib.suppress(Exception):
                await self._writing
        if self._unsaved:  # certificates formed just before the stop are kept
            certs, self._unsaved = self._unsaved, []
            await asyncio.to_thread(self._write_certificates, certs)

    # --- state -----------------------------------------------------------------------------

    @property
    def finalized_height(self) -> int:
        """The highest height known final: by a certificate formed here or stored earlier."""
        return max(self.tracker.finalized_height, self._stored_final)

    @property
    def divergence(self) -> Divergence | None:
        return self.tracker.divergence

    def check_writable(self) -> None:
        """Raise :class:`ChainDiverged` while this peer disagrees with the quorum."""
        d = self.tracker.divergence
        if d is not None:
            raise ChainDiverged(
                f"at height {d.height} this peer computed state root {d.local_state_root.hex()}"
                f" but a quorum certified {d.quorum_state_root.hex()}",
                height=d.height,
            )

    # --- after each commit -----------------------------------------------------------------

    def on_commit(self, height: int, block_hash: bytes, state_root: bytes) -> None:
        """Attest a committed block and send the attestation to the other peers."""
        if self.faulty:
            state_root = hashlib.sha256(b"deliberately wrong" + state_root).digest()
        self._committed_at[height] = time.monotonic()
        att = self.tracker.attest(height, block_hash, state_root)
        self._outbox.put_nowait(att)
        for h in sorted(h for h in self._early if h <= height):
            self._save(self._early.pop(h))
        self._count_ordering()
        self._after_tracking()

    def _count_ordering(self) -> None:
        appended, lost = self.orderer.appended, self.orderer.lost_races
        self.metrics.batches_appended.inc(appended - self._counted[0])
        self.metrics.order_races_lost.inc(lost - self._counted[1])
        self._counted = (appended, lost)

    async def _run_publisher(self) -> None:
        while True:
            atts = [await self._outbox.get()]
            while not self._outbox.empty() and len(atts) < PUBLISH_MAX:
                atts.append(self._outbox.get_nowait())
            puts = [
                {
                    "request_put": {
                        "key": self.layout.att_key(a.height, a.node_id),
                        "value": encode(a),
                    }
                }
                for a in atts
            ]
            try:
                await self.client.txn({"compare": [], "success": puts})
            except GovchainError as exc:
                log.warning("publishing %d attestations failed (%s); retrying", len(atts), exc)
                for a in atts:
                    self._outbox.put_nowait(a)
                await asyncio.sleep(0.5)

    # --- receiving attestations ------------------------------------------------------------

    async def _run_watcher(self) -> None:
        while True:
            try:
                revision = await self._read_attestations()
                end = prefix_end(self.layout.att_prefix)
                async for events in self.client.watch(self.layout.att_prefix, end, revision + 1):
                    for event in events:
                        if event.type == "PUT":
                            self._receive(event.kv.value)
                    self._after_tracking()
            except EtcdCompacted:
                log.info("etcd compacted the attestation history; re-reading")
            except Exception:
                log.exception("watching attestations failed; retrying")
                await asyncio.sleep(0.5)

    async def _read_attestations(self) -> int:
        """Read the attestations above the finalized height; return the revision read at."""
        start = self.layout.att_height_key(self.tracker.finalized_height + 1)
        end = prefix_end(self.layout.att_prefix)
        while True:
            revision, kvs, more = await self.client.range(start, end, limit=1000)
            for kv in kvs:
                self._receive(kv.value)
            self._after_tracking()
            if not more or not kvs:
                return revision
            start = kvs[-1].key + b"\x00"

    def _receive(self, value: bytes) -> None:
        try:
            att = decode(value, Attestation)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.metrics.attestations_rejected.labels("FINALITY_MALFORMED").inc()
            return
        try:
            self.tracker.add(att)
        except FinalityError as exc:
            code = str(getattr(exc, "code", type(exc).__name__))
            self.metrics.attestations_rejected.labels(code).inc()
            log.warning("attestation of %r at %d refused: %s", att.node_id, att.height, exc)

    def _after_tracking(self) -> None:
        for cert in self.tracker.pop_certificates():
            self._save(cert)
        self.metrics.finalized_height.set(self.finalized_height)
        self._report_divergence()
        self._maybe_compact()

    def _save(self, cert: FinalityCertificate) -> None:
        if self.store.get_block_hash(cert.height) is None:
            self._early[cert.height] = cert  # saved when this peer commits the block
            return
        started = self._committed_at.pop(cert.height, None)
        if started is not None:
            self.metrics.finality_latency.observe(time.monotonic() - started)
        for h in [h for h in self._committed_at if h < cert.height]:
            del self._committed_at[h]
        if self.tracker.divergence is not None and self.tracker.divergence.height <= cert.height:
            return  # the certificate is not about what this peer stored
        # written by the saver, off the event loop: a write waits for the block commit under way
        # (and its fsync), which would otherwise stall admission, the log and attestations
        self._unsaved.append(cert)
        self._unsaved_ready.set()

    async def _run_saver(self) -> None:
        while True:
            await self._unsaved_ready.wait()
            self._unsaved_ready.clear()
            certs, self._unsaved = self._unsaved, []
            if certs:
                self._writing = asyncio.ensure_future(
                    asyncio.to_thread(self._write_certificates, certs)
                )
                await asyncio.shield(self._writing)

    def _write_certificates(self, certs: list[FinalityCertificate]) -> None:
        """Save the certificates formed since the last write in one store transaction (one sync
        instead of one per certificate)."""
        try:
            refused = self.store.save_finality_certificates(certs)
        except GovchainError as exc:
            heights = [cert.height for cert in certs]
            log.warning("finality certificates of blocks %s not saved: %s", heights, exc)
            return
        for error in refused:
            log.warning("finality certificate not saved: %s", error)

    def _report_divergence(self) -> None:
        d = self.tracker.divergence
        if d is None or d == self._reported:
            return
        self._reported = d
        self.metrics.divergence_height.set(d.height)
        log.error(
            "DIVERGENCE at height %d: this peer committed block %s with state root %s, but "
            "peers %s certified block %s with state root %s; API writes are halted",
            d.height,
            d.local_block_hash.hex(),
            d.local_state_root.hex(),
            ", ".join(d.signers),
            d.quorum_block_hash.hex(),
            d.quorum_state_root.hex(),
        )

    # --- compaction ------------------------------------------------------------------------

    def _maybe_compact(self) -> None:
        """Drop log entries and attestations ``retain_blocks`` below the finalized height (in
        the background; any peer may do it, the floor only moves forward)."""
        target = self.tracker.finalized_height - self.retain_blocks
        if target - self._compacted_to < self.compact_every:
            return
        self._compacted_to = target
        task = asyncio.get_running_loop().create_task(self._compact(target))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _compact(self, height: int) -> None:
        try:
            await self.orderer.compact_below(height - 1)  # block h is batch h - 1
            await self.client.delete_range(
                self.layout.att_prefix, self.layout.att_height_key(height)
            )
            log.info("compacted the ordering log below block %d", height)
        except GovchainError as exc:
            log.warning("compacting the ordering log failed: %s", exc)


def build_peer(
    *,
    settings: EtcdSettings,
    node_dir: Path,
    genesis: Genesis,
    key: KeyPair,
    node_id: str,
    store: LedgerStore,
    metrics: NodeMetrics,
    cutter: CutterConfig,
    height: int,
    decode_tx: Callable[[bytes], CheckedTx | None],
    faulty: bool,
) -> Peer:
    """The etcd orderer and the peer around it for a node at ``height``."""
    peers = {n.id: bytes.fromhex(n.public_key) for n in genesis.nodes}
    orderer = EtcdOrderer(
        etcd_client(settings, node_dir),
        chain_id=genesis.chain_id,
        node_id=node_id,
        key=key,
        peers=peers,
        config=cutter,
        next_seq=height,  # block h is batch h - 1: the next block, height + 1, is batch height
        decode_tx=decode_tx,
    )
    tracker = FinalityTracker(genesis, key, node_id)
    return Peer(
        orderer,
        tracker,
        store,
        metrics,
        retain_blocks=settings.retain_blocks,
        compact_every=settings.compact_every,
        faulty=faulty,
    )
