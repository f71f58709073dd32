"""`govchain network up / status / down` with real processes: an etcd cluster of three members
and four peers on free ports, then everything stopped again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from govchain.node.launcher import is_running, pid_path, read_pid

from ..nodeproc import run_cli

NAMES = ["node0", "node1", "node2", "node3", "etcd0", "etcd1", "etcd2"]


@pytest.fixture
def network_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "city"
    try:
        yield directory
    finally:
        run_cli("network", "down", "--dir", str(directory))


def test_up_status_down(network_dir: Path) -> None:
    up = run_cli(
        "network", "up", "--orgs", "4", "--dir", str(network_dir),
        "--api-port", "0", "--etcd-port", "0", "--json",
    )  # fmt: skip
    assert up.returncode == 0, up.stderr + up.stdout
    pids = {name: read_pid(pid_path(network_dir, name)) for name in NAMES}
    assert all(pid is not None and is_running(pid) for pid in pids.values()), pids

    status = run_cli("network", "status", "--dir", str(network_dir), "--json")
    assert status.returncode == 0, status.stderr
    s = json.loads(status.stdout)
    assert len(s["etcd"]) == 3 and all(m["healthy"] for m in s["etcd"])
    assert sum(m["is_leader"] for m in s["etcd"]) == 1
    assert [p["node_id"] for p in s["peers"]] == NAMES[:4]
    assert all(p["up"] and p["divergence_height"] is None for p in s["peers"])
    assert s["converged"] is True

    human = run_cli("network", "status", "--dir", str(network_dir))
    assert "etcd cluster" in human.stdout and "node3" in human.stdout

    again = run_cli("network", "up", "--dir", str(network_dir), "--json")  # all running: no-op
    assert again.returncode == 0, again.stderr + again.stdout
    assert {n: read_pid(pid_path(network_dir, n)) for n in NAMES} == pids
    tls = run_cli("network", "up", "--dir", str(network_dir), "--tls", "--json")
    assert tls.returncode != 0 and "new networks only" in tls.stdout + tls.stderr

    down = run_cli("network", "down", "--dir", str(network_dir), "--json")
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout)["stopped"] == {n: "stopped" for n in NAMES}
    assert not any(is_running(pid) for pid in pids.values() if pid is not None)

    # a peer that cannot start is named, with its log
    config_path = network_dir / "nodes" / "node3" / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["storage"] = "/proc/no-ledger-here/ledger.db"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    broken = run_cli("network", "up", "--dir", str(network_dir), "--json")
    assert broken.returncode == 1
    problem = json.loads(broken.stdout)
    assert problem["code"] == "PROCESS_START_FAILED"
    assert "node3" in problem["detail"] and "logs/node3.log" in problem["detail"]


def test_up_on_a_directory_it_did_not_make(tmp_path: Path) -> None:
    init = run_cli("init", "--dir", str(tmp_path / "solo"), "--json")
    assert init.returncode == 0, init.stderr
    up = run_cli("network", "up", "--dir", str(tmp_path / "solo"), "--json")
    assert up.returncode == 1
    assert json.loads(up.stdout)["code"] == "CONFIG_INVALID"
