"""Fixtures of the multi-node tests: one etcd cluster of 3 real members for the whole test run
(each test's network has its own chain id, hence its own keys in etcd), and per-test networks
of real peer processes, always stopped at the end."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from govchain.node.launcher import ETCD_ENV
from govchain.types import ChainParams

from .cluster import EtcdProcs, PeerNetwork

NetworkFactory = Callable[..., PeerNetwork]


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdProcs]:
    import os

    if not (os.environ.get(ETCD_ENV) or shutil.which("etcd")):
        pytest.fail(f"etcd is not installed: run scripts/deps/etcd.sh or set {ETCD_ENV}")
    cluster = EtcdProcs(tmp_path_factory.mktemp("etcd"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def peer_network(etcd_cluster: EtcdProcs, tmp_path: Path) -> Iterator[NetworkFactory]:
    """Make (and start) a network of peers; every peer is stopped at the end of the test.
    ``configs`` maps a node id to settings written into its config.json before it starts."""
    made: list[PeerNetwork] = []

    def make(
        orgs: int = 4,
        params: dict[str, Any] | None = None,
        configs: dict[str, dict[str, Any]] | None = None,
    ) -> PeerNetwork:
        base = tmp_path / f"net{len(made)}"
        base.mkdir()
        chain_params = ChainParams(**(params or {"block_interval_ms": 50}))
        net = PeerNetwork(base, etcd_cluster, orgs, chain_params)
        made.append(net)
        for node_id, settings in (configs or {}).items():
            net.edit_config(node_id, **settings)
        return net.start()

    try:
        yield make
    finally:
        for net in made:
            net.stop()
