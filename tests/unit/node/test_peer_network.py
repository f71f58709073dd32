"""A multi-node network directory: one peer per organisation, each with its own key in the
genesis and a config naming the etcd cluster and the other peers; the launcher's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from govchain.errors import ConfigError
from govchain.node.config import load_genesis, load_key, load_node_config
from govchain.node.launcher import (
    ETCD_ENV,
    EtcdCluster,
    EtcdMember,
    EtcdNotInstalled,
    etcd_command,
    find_etcd,
    is_running,
    load_cluster,
    save_cluster,
    stop_pid,
)
from govchain.node.network import init_peer_network, sample_orgs

ETCD = ["http://127.0.0.1:23790", "http://127.0.0.1:23792", "http://127.0.0.1:23794"]


def test_every_organisation_runs_its_own_peer(tmp_path: Path) -> None:
    genesis = init_peer_network(
        tmp_path, orgs=4, ports=[9001, 9002, 9003, 9004], etcd_endpoints=ETCD
    )
    assert [n.id for n in genesis.nodes] == ["node0", "node1", "node2", "node3"]
    assert [n.org for n in genesis.nodes] == [o.id for o in sample_orgs(4)]
    assert len({n.public_key for n in genesis.nodes}) == 4
    assert load_genesis(tmp_path) == genesis
    for i, node in enumerate(genesis.nodes):
        assert (
            load_key(tmp_path / "nodes" / node.id / "node.key").public_key.hex() == node.public_key
        )
        config = load_node_config(tmp_path, node.id)
        assert config.port == 9001 + i
        assert config.etcd is not None and config.etcd.endpoints == ETCD
        assert f"http://127.0.0.1:{9001 + i}" not in config.peers
        assert len(config.peers) == 3


def test_more_organisations_than_the_sample_city() -> None:
    orgs = sample_orgs(7)
    assert len({o.id for o in orgs}) == 7
    assert orgs[-1].id == "district-7"


def test_ports_must_match_the_organisations(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        init_peer_network(tmp_path, orgs=3, ports=[9001], etcd_endpoints=ETCD)
    assert info.value.code == "CONFIG_INVALID"


def test_a_missing_etcd_binary_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ETCD_ENV, str(tmp_path / "no-etcd-here"))
    with pytest.raises(EtcdNotInstalled) as info:
        find_etcd()
    assert info.value.code == "ETCD_NOT_INSTALLED"
    assert "scripts/deps/etcd.sh" in info.value.hint


def test_cluster_file_and_member_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "fake-etcd"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(ETCD_ENV, str(fake))
    cluster = EtcdCluster("t", [EtcdMember("a", 1, 2), EtcdMember("b", 3, 4)])
    save_cluster(tmp_path, cluster)
    assert load_cluster(tmp_path) == cluster
    assert load_cluster(tmp_path / "elsewhere") is None
    command = etcd_command(cluster.members[1], cluster, tmp_path / "b")
    assert command[0] == str(fake)
    assert command[command.index("--initial-cluster") + 1] == (
        "a=http://127.0.0.1:2,b=http://127.0.0.1:4"
    )
    assert command[command.index("--listen-client-urls") + 1] == "http://127.0.0.1:3"


def test_stopping_a_process_that_is_gone_is_harmless() -> None:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert is_running(process.pid)
    assert stop_pid(process.pid, timeout=10) is False  # it went on SIGTERM
    process.wait(10)
    assert not is_running(process.pid)
    assert stop_pid(process.pid) is False
