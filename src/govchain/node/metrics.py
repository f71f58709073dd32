"""Prometheus metrics of one node (a registry per node, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

__all__ = ["NodeMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.height = Gauge("govchain_height", "Height of the last committed block", registry=r)
        self.mempool_txs = Gauge("govchain_mempool_txs", "Transactions in the mempool", registry=r)
        self.mempool_bytes = Gauge("govchain_mempool_bytes", "Bytes in the mempool", registry=r)
        self.blocks = Counter("govchain_blocks_committed", "Blocks committed", registry=r)
        self.txs_committed = Counter(
            "govchain_txs_committed", "Transactions committed", ["status"], registry=r
        )
        self.txs_rejected = Counter(
            "govchain_txs_rejected",
            "Transactions rejected at admission or block building",
            ["code"],
            registry=r,
        )
        self.txs_admitted = Counter("govchain_txs_admitted", "Transactions admitted", registry=r)
        self.block_txs = Histogram(
            "govchain_block_txs",
            "Transactions per block",
            buckets=(0, 1, 10, 100, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.finalize_seconds = Histogram(
            "govchain_block_finalize_seconds",
            "Time to execute and seal a block",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.commit_seconds = Histogram(
            "govchain_block_commit_seconds",
            "Time to persist a block",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tx_latency = Histogram(
            "govchain_tx_commit_latency_seconds",
            "From admission to commit",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        # multi-node
        self.finalized_height = Gauge(
            "govchain_finalized_height",
            "Highest height with a finality certificate (-1: none)",
            registry=r,
        )
        self.finalized_height.set(-1)
        self.divergence_height = Gauge(
            "govchain_divergence_height",
            "Height at which this peer's state root differs from the quorum's (-1: none); "
            "while it is set the peer refuses writes",
            registry=r,
        )
        self.divergence_height.set(-1)
        self.finality_latency = Histogram(
            "govchain_block_finality_latency_seconds",
            "From this peer's commit of a block to its finality certificate",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batches_appended = Counter(
            "govchain_order_batches_appended", "Batches this peer appended to the log", registry=r
        )
        self.order_races_lost = Counter(
            "govchain_order_races_lost",
            "Sequence numbers another peer claimed first (this peer retried at the next)",
            registry=r,
        )
        self.attestations_rejected = Counter(
            "govchain_attestations_rejected",
            "Received attestations that did not hold, by reason",
            ["code"],
            registry=r,
        )
