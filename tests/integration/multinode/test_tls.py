"""A network over TLS with real certificates (`govchain network up --tls`): three etcd members
that demand client certificates of clients and of each other, peers that serve HTTPS and
authenticate to etcd and to each other with their certificates. Transactions commit and become
final; a client without a certificate is refused by etcd, one that does not trust the network's
CA by the peers; a new organisation's peer gets its certificate from the network's CA and
catches up from the others' block stores over HTTPS."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govchain.client import Client
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import AddOrg
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.hashing import sha256
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.node.config import load_key, save_key
from govchain.node.launcher import read_pid, stop_pid

from ..nodeproc import run_cli
from .cluster import wait_until

ORGS = ("big-data-bureau", "market-regulation")
TIMEOUT_S = 120.0


@pytest.fixture
def network_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "city"
    try:
        yield directory
    finally:
        run_cli("network", "down", "--dir", str(directory))
        for pid_file in (directory / "run").glob("*.pid"):  # a peer started later, if any
            pid = read_pid(pid_file)
            if pid is not None:
                stop_pid(pid)


def _ok(*args: str) -> dict[str, Any]:
    done = run_cli(*args, "--json", timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _client(network_dir: Path, url: str, org: str) -> Client:
    key = load_key(network_dir / "orgs" / org / "admin.key")
    return Client(url, key=key, timeout=60, verify=str(network_dir / "tls" / "ca.pem"))


def _anchor(client: Client, key: KeyPair, owner: str, text: str) -> int:
    args = AnchorArgs(sha256(text.encode()), "TLS record", owner)
    fate = client.send(key, "notary", "anchor", args)
    assert fate.ok and fate.height is not None, fate
    return fate.height


def _statuses(network_dir: Path) -> dict[str, Any]:
    return _ok("network", "status", "--dir", str(network_dir))


def test_a_network_over_tls(network_dir: Path) -> None:
    up = _ok("network", "up", "--orgs", "2", "--dir", str(network_dir), "--tls",
             "--api-port", "0", "--etcd-port", "0")  # fmt: skip
    assert all(m["endpoint"].startswith("https://") and m["healthy"] for m in up["etcd"]), up
    assert all(p["url"].startswith("https://") and p["up"] for p in up["peers"]), up
    ca = network_dir / "tls" / "ca.pem"
    assert (network_dir / "tls" / "ca-key.pem").stat().st_mode & 0o077 == 0

    # etcd refuses a client that shows no certificate; a peer one that does not trust the CA
    only_ca = ssl.create_default_context(cafile=str(ca))
    endpoint = up["etcd"][0]["endpoint"]
    with pytest.raises(httpx.HTTPError):
        httpx.post(endpoint + "/v3/maintenance/status", json={}, verify=only_ca, timeout=5)
    first, second = (p["url"] for p in up["peers"])
    with pytest.raises(httpx.ConnectError):
        httpx.get(first + "/v1/status", timeout=5)  # the default trust store: not the city's CA
    assert httpx.get(first + "/v1/status", verify=only_ca, timeout=5).status_code == 200

    # a transaction sent to one peer commits on both and becomes final
    key = load_key(network_dir / "orgs" / ORGS[1] / "admin.key")
    with _client(network_dir, second, ORGS[1]) as client:
        height = _anchor(client, key, ORGS[1], "sent over TLS")
    wait_until(
        lambda: all(
            p["up"] and p["height"] >= height and p["finalized_height"] >= height
            for p in _statuses(network_dir)["peers"]
        ),
        TIMEOUT_S,
        f"both peers to commit and finalise block {height}",
    )

    # a new organisation's peer: its certificate from the network's CA, then it catches up
    culture = get_scheme(ED25519).generate()
    save_key(network_dir / "orgs" / "culture" / "admin.key", culture, org="culture", role="admin")
    _add_org(network_dir, first, culture)
    added = _ok("network", "add-peer", "--dir", str(network_dir), "--org", "culture", "--vote",
                "--api-port", "0")  # fmt: skip
    node_id = added["node_id"]
    assert (network_dir / "nodes" / node_id / "tls" / "node.pem").exists()
    _wait_enacted(network_dir, first, added["proposal"]["id"])
    started = _ok("network", "start-peer", "--dir", str(network_dir), "--node", node_id)
    assert started["url"].startswith("https://")

    def converged() -> bool:
        s = _statuses(network_dir)
        return bool(s["converged"]) and len(s["peers"]) == 3

    wait_until(converged, TIMEOUT_S, "the new peer to reach the founders' tip")
    log = (network_dir / "logs" / f"{node_id}.log").read_text(encoding="utf-8")
    assert "caught up to block" in log, log[-3000:]


def _add_org(network_dir: Path, url: str, culture: KeyPair) -> None:
    action = AddOrg("culture", "Culture Bureau", "文化局", "bureau", culture.public_key)
    with _client(network_dir, url, ORGS[0]) as c:
        key = load_key(network_dir / "orgs" / ORGS[0] / "admin.key")
        proposal = c.send(key, "governance", "propose", ProposeArgs(action)).result
    with _client(network_dir, url, ORGS[1]) as c:
        key = load_key(network_dir / "orgs" / ORGS[1] / "admin.key")
        proposal = c.send(key, "governance", "vote", VoteArgs(proposal["id"], True)).result
    assert proposal["status"] == "passed", proposal
    _wait_enacted(network_dir, url, proposal["id"])


def _wait_enacted(network_dir: Path, url: str, proposal_id: int) -> None:
    """Wait for the proposal's enactment (at the start of a later block: records are sent
    meanwhile, so that there are blocks)."""
    key = load_key(network_dir / "orgs" / ORGS[0] / "admin.key")
    deadline = time.monotonic() + TIMEOUT_S
    with _client(network_dir, url, ORGS[0]) as c:
        n = 0
        while True:
            found = c.query("governance", "proposal", {"id": proposal_id})
            if found["status"] == "enacted":
                return
            assert found["status"] == "passed", found
            assert time.monotonic() < deadline, f"proposal {proposal_id} not enacted"
            _anchor(c, key, ORGS[0], f"nudge {proposal_id} {n}")
            n += 1
