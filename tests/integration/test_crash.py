"""Crash safety: ``kill -9`` a node under load; everything it reported committed survives, the
ledger verifies, and the restarted node carries on."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govchain.client import Client, TrustAnchor, build_tx, tx_id_of
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import KeyPair
from govchain.errors import GovchainError

from .nodeproc import Network, NodeProcess

BATCH = 150
BLOCK_INTERVAL_MS = 1000  # an accepted batch stays pending this long: the kill catches it
COMMITS_BEFORE_KILL = 300
KILLS = 2
LOAD_DEADLINE_S = 60.0


class Load(threading.Thread):
    """Submits batches through the SDK until stopped or the node goes away, recording every
    transaction the node accepted and every one it reported committed."""

    def __init__(self, url: str, key: KeyPair, owner: str) -> None:
        super().__init__(daemon=True, name="load")
        self.url, self.key, self.owner = url, key, owner
        self.accepted: list[str] = []
        self.committed: list[str] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.batch_accepted = threading.Event()  # set each time the node accepts a batch
        self.error: BaseException | None = None

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.committed)

    def run(self) -> None:
        try:
            with Client(self.url, key=self.key, timeout=30) as client:
                while not self.stopping.is_set():
                    self._one_batch(client)
        except GovchainError:
            pass  # the node was killed under us: that is the point of the test
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _one_batch(self, client: Client) -> None:
        status = client.status()
        tag = os.urandom(8)
        raws = [
            build_tx(
                self.key,
                chain_id=status["chain_id"],
                contract="notary",
                method="anchor",
                args=AnchorArgs(
                    hashlib.sha256(tag + i.to_bytes(4, "big")).digest(), f"load {i}", self.owner
                ),
                valid_until=status["height"] + 200,
            )
            for i in range(BATCH)
        ]
        answer = client.submit_batch(raws)
        pending = [item["tx_id"] for item in answer["results"] if item["status"] == "pending"]
        assert pending == [tx_id_of(r).hex() for r in raws], answer
        with self.lock:
            self.accepted.extend(pending)
        self.batch_accepted.set()
        for tx_id in pending:
            outcome = client.wait(tx_id, timeout=30)  # proofs verified by the SDK
            if outcome.status == "committed":
                with self.lock:
                    self.committed.append(tx_id)
                    if not outcome.ok:
                        self.failures.append(f"{tx_id}: {outcome.code} {outcome.message}")


def _wait_for_commits(load: Load, at_least: int) -> None:
    deadline = time.monotonic() + LOAD_DEADLINE_S
    while load.count < at_least:
        assert load.is_alive(), f"the load stopped early: {load.error!r}"
        assert time.monotonic() < deadline, f"only {load.count} commits in {LOAD_DEADLINE_S}s"
        time.sleep(0.02)


def _check_all_committed(node: NodeProcess, trust: TrustAnchor, tx_ids: list[str]) -> None:
    with node.client(trust=trust) as client:
        for tx_id in tx_ids:
            answer = client.tx(tx_id)  # GET /v1/txs/{id}, proofs verified against genesis
            assert answer["status"] == "committed", f"{tx_id} was reported committed, now lost"
            assert answer["receipt"]["ok"] is True


def _check_all_eventually_commit(node: NodeProcess, trust: TrustAnchor, tx_ids: list[str]) -> None:
    """Transactions the node accepted before the crash are not dropped: they commit."""
    with node.client(trust=trust) as client:
        for tx_id in tx_ids:
            outcome = client.wait(tx_id, timeout=30)
            assert outcome.status == "committed", f"accepted {tx_id} was dropped: {outcome}"
            assert outcome.ok, outcome


@pytest.fixture
def node(network: Network, tmp_path: Path) -> Iterator[NodeProcess]:
    network.edit_genesis(block_interval_ms=BLOCK_INTERVAL_MS)
    proc = NodeProcess(network, tmp_path / "node.log")
    try:
        yield proc.start()
    finally:
        proc.stop()


def test_kill_9_under_load_loses_nothing_committed(node: NodeProcess) -> None:
    key = node.network.key("tax")
    trust = node.trust_anchor()
    reported: list[str] = []
    for round_ in range(1, KILLS + 1):
        load = Load(node.url, key, "tax")
        load.start()
        try:
            _wait_for_commits(load, COMMITS_BEFORE_KILL)
            # Kill right after the node accepted a batch: its transactions are still pending.
            load.batch_accepted.clear()
            assert load.batch_accepted.wait(LOAD_DEADLINE_S), f"load stalled: {load.error!r}"
            node.kill9()
        finally:
            load.stopping.set()
            load.join(60)
        assert not load.is_alive()
        assert load.error is None, repr(load.error)
        assert not load.failures, load.failures
        with load.lock:
            reported.extend(load.committed)
            in_flight = sorted(set(load.accepted) - set(load.committed))
        assert len(reported) >= round_ * COMMITS_BEFORE_KILL
        assert in_flight, "the kill should have caught accepted transactions in flight"

        result = node.network.verify("--json")
        assert result.returncode == 0, result.stdout + result.stderr

        node.start()
        _check_all_committed(node, trust, reported)
        _check_all_eventually_commit(node, trust, in_flight)  # from the mempool journal
        reported.extend(in_flight)
        assert node.status()["height"] >= 1

    assert len(set(reported)) == len(reported)
    with node.client(trust=trust) as client:
        after = client.notarize(key, os.urandom(64), title="after the crashes", owner_org="tax")
        assert after.status == "committed" and after.ok
    node.stop()
    result = node.network.verify("--json")
    assert result.returncode == 0, result.stdout + result.stderr
