"""Real etcd members and real peer processes for the multi-node tests.

An :class:`EtcdProcs` cluster is shared by a whole test run (each test's network uses its own
chain id, so its keys live under its own prefix); a :class:`PeerNetwork` is one test's network of
peers, each a ``govchain node start --node nodeI`` process. Everything started is stopped at the
end, also when a test fails. Tests synchronise on conditions (:func:`wait_until`), never on fixed
sleeps.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from govchain.client import Client, RequestSigner, build_tx
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import KeyPair
from govchain.node.config import load_key
from govchain.node.launcher import (
    EtcdCluster,
    EtcdMember,
    etcd_command,
    peer_command,
    spawn,
)
from govchain.node.network import init_peer_network
from govchain.types import ChainParams

from ..nodeproc import free_port

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
CONVERGE_TIMEOUT_S = 180.0  # a deadline, not a measurement: a loaded CI machine is slow


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_S)


class EtcdProcs:
    """A loopback etcd cluster of real member processes."""

    def __init__(self, base: Path, size: int = 3) -> None:
        self.base = base
        members = [EtcdMember(f"m{i}", free_port(), free_port()) for i in range(size)]
        self.cluster = EtcdCluster(f"govchain-test-{uuid.uuid4().hex[:8]}", members)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def endpoints(self) -> list[str]:
        return self.cluster.endpoints

    def start(self) -> EtcdProcs:
        for m in self.cluster.members:
            self.start_member(m.name)
        wait_until(self.is_healthy, START_TIMEOUT_S, "the etcd cluster to elect a leader")
        return self

    def start_member(self, name: str) -> None:
        member = next(m for m in self.cluster.members if m.name == name)
        command = etcd_command(member, self.cluster, self.base / name)
        self.procs[name] = spawn(command, self.base / f"{name}.log")

    def stop_member(self, name: str) -> None:
        _stop(self.procs.get(name))

    def kill_member(self, name: str) -> None:
        self.procs[name].kill()
        self.procs[name].wait(STOP_TIMEOUT_S)

    def status(self, endpoint: str) -> dict[str, Any] | None:
        try:
            r = httpx.post(endpoint + "/v3/maintenance/status", json={}, timeout=2)
            return r.json() if r.status_code == 200 else None
        except httpx.HTTPError:
            return None

    def leader(self) -> str | None:
        """The name of the member that is the Raft leader, if any answers."""
        for m in self.cluster.members:
            s = self.status(m.client_url)
            if s and s.get("leader") and s["leader"] == s["header"]["member_id"]:
                return m.name
        return None

    def is_healthy(self) -> bool:
        return self.leader() is not None

    def stop(self) -> None:
        for proc in self.procs.values():
            _stop(proc)


class Peer:
    """One organisation's peer process."""

    def __init__(self, net: PeerNetwork, index: int, port: int) -> None:
        self.net = net
        self.node_id = f"node{index}"
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = net.dir.parent / f"{self.node_id}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> Peer:
        assert not self.running, f"{self.node_id} is already running"
        self.process = spawn(peer_command(self.net.dir, self.node_id), self.log_path)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"{self.node_id} exited with {self.process.returncode}:\n{self.log()}")
            try:
                return httpx.get(self.url + "/v1/status", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, START_TIMEOUT_S, f"{self.node_id} to answer")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _stop(self.process)

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(STOP_TIMEOUT_S)

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def status(self) -> dict[str, Any]:
        r = httpx.get(self.url + "/v1/status", timeout=10)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]

    def metric(self, name: str) -> float:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)

    def client(self, org: str | None = None) -> Client:
        key = self.net.key(org or self.net.org_of(self.node_id))
        return Client(self.url, key=key, timeout=30)


class PeerNetwork:
    """A network directory with one peer per organisation, ordering on ``etcd``."""

    def __init__(
        self, base: Path, etcd: EtcdProcs, orgs: int = 4, params: ChainParams | None = None
    ) -> None:
        self.dir = base / "net"
        self.etcd = etcd
        ports = [free_port() for _ in range(orgs)]
        chain_id = f"mn-{uuid.uuid4().hex[:10]}"
        self.genesis = init_peer_network(
            self.dir,
            orgs=orgs,
            ports=ports,
            etcd_endpoints=etcd.endpoints,
            chain_id=chain_id,
            params=params,
        )
        self.chain_id = chain_id
        self.peers = [Peer(self, i, port) for i, port in enumerate(ports)]

    def org_of(self, node_id: str) -> str:
        return next(n.org for n in self.genesis.nodes if n.id == node_id)

    def key(self, org: str) -> KeyPair:
        return load_key(self.dir / "orgs" / org / "admin.key")

    def signer(self, org: str = "tax") -> RequestSigner:
        """Signs reads as ``org``'s admin (a member)."""
        return RequestSigner(self.key(org))

    def edit_config(self, node_id: str, **settings: Any) -> None:
        path = self.dir / "nodes" / node_id / "config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        for name, value in settings.items():
            if isinstance(value, dict) and isinstance(config.get(name), dict):
                config[name].update(value)  # e.g. etcd={"retain_blocks": 20}
            else:
                config[name] = value
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    def start(self) -> PeerNetwork:
        for peer in self.peers:
            peer.start(wait=False)
        for peer in self.peers:
            peer.wait_ready()
        return self

    def stop(self) -> None:
        for peer in self.peers:
            peer.stop()

    def anchors(self, node_id: str, count: int, *, valid_until: int | None = None) -> list[bytes]:
        """``count`` signed notary anchors by the admin of ``node_id``'s organisation, valid
        until ``valid_until`` (default: 500 blocks after the highest peer's height)."""
        org = self.org_of(node_id)
        key = self.key(org)
        tag = os.urandom(8)
        if valid_until is None:
            valid_until = 500 + max_height_of(self)
        return [
            build_tx(
                key,
                chain_id=self.chain_id,
                contract="notary",
                method="anchor",
                args=AnchorArgs(
                    hashlib.sha256(tag + i.to_bytes(4, "big")).digest(), f"doc {i}", org
                ),
                valid_until=valid_until,
            )
            for i in range(count)
        ]

    def heights_and_roots(self) -> set[tuple[int, str, str]]:
        out = set()
        for p in self.peers:
            s = p.status()
            out.add((s["height"], s["block_hash"], s["state_root"]))
        return out

    def wait_converged(self, at_least: int = 0, timeout: float = CONVERGE_TIMEOUT_S) -> int:
        """Wait until every running peer is at the same height (≥ ``at_least``) with the same
        block hash and state root; return that height."""

        def converged() -> bool:
            seen = {
                (s["height"], s["block_hash"], s["state_root"])
                for s in (p.status() for p in self.peers if p.running)
            }
            return len(seen) == 1 and next(iter(seen))[0] >= at_least

        wait_until(converged, timeout, "the peers to converge")
        return max_height_of(self)


class Load(threading.Thread):
    """Submits batches of notary anchors round-robin to the running peers until stopped, and
    records every transaction a peer accepted (202 pending). A peer that is down is skipped."""

    def __init__(self, net: PeerNetwork, batch: int = 40) -> None:
        super().__init__(daemon=True, name="multinode-load")
        self.net, self.batch = net, batch
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.rounds = 0
        self.valid_until = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(timeout=30) as http:
                while not self.stopping.is_set():
                    if self.rounds % 50 == 0:  # transactions live for 500 blocks
                        self.valid_until = max_height_of(self.net) + 500
                    for peer in list(self.net.peers):
                        if self.stopping.is_set():
                            return
                        self._submit(http, peer)
                    self.rounds += 1
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _submit(self, http: httpx.Client, peer: Peer) -> None:
        if not peer.running:
            return
        raws = self.net.anchors(peer.node_id, self.batch, valid_until=self.valid_until)
        payload = {"txs": [base64.b64encode(r).decode() for r in raws]}
        try:
            answer = http.post(peer.url + "/v1/txs/batch", json=payload)
        except httpx.HTTPError:
            return  # the peer (or one asked for the height) is down: that is the scenario
        if answer.status_code != 200:
            return
        with self.lock:
            self.accepted += [
                i["tx_id"] for i in answer.json()["results"] if i["status"] == "pending"
            ]

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)

    def finish(self) -> list[str]:
        self.stopping.set()
        self.join(60)
        assert self.error is None, f"the load failed: {self.error!r}"
        return list(self.accepted)


def committed_tx_ids(peer: Peer, up_to: int) -> list[str]:
    """Every transaction id in blocks 1..up_to of ``peer``, in block order."""
    out: list[str] = []
    with httpx.Client(base_url=peer.url, timeout=30, auth=peer.net.signer()) as http:
        for height in range(1, up_to + 1):
            r = http.get(f"/v1/blocks/{height}")
            r.raise_for_status()
            out += r.json()["tx_ids"]
    return out


def max_height_of(net: PeerNetwork) -> int:
    heights = []
    for p in net.peers:
        if p.running:
            with contextlib.suppress(httpx.HTTPError):
                heights.append(p.status()["height"])
    return max(heights, default=0)
