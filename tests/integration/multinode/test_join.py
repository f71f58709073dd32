"""A new organisation's peer joins a running network after a governance vote, with real
processes: four founding peers under load, a fifth organisation added (add_org), its peer
prepared and proposed with `govchain network add-peer` (add_node, approved by a majority of the
founders), started with `govchain network start-peer`; it catches up from the founders' block
stores, converges to their state root, and what it is sent is committed. Then batches written
to the log by an unknown author and by the node after governance removed it are skipped by
every peer alike: no peer halts, and none of their transactions runs."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from govchain.client import Client, build_tx
from govchain.consensus.batch import LogLayout, encode_seq, sign_batch
from govchain.consensus.etcd_client import EtcdClient
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Action, AddOrg, RemoveNode
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import encode
from govchain.node.config import load_key, save_key
from govchain.node.launcher import pid_path, read_pid, stop_pid

from ..nodeproc import run_cli
from .cluster import Load, PeerNetwork, wait_until
from .conftest import NetworkFactory

NEW_ORG = "culture"
JOIN_TIMEOUT_S = 120.0


@pytest.fixture
def joined_peers() -> Iterator[list[Path]]:
    """Network directories whose `network start-peer` processes are stopped at the end."""
    dirs: list[Path] = []
    try:
        yield dirs
    finally:
        for directory in dirs:
            for pid_file in (directory / "run").glob("*.pid"):
                pid = read_pid(pid_file)
                if pid is not None:
                    stop_pid(pid)


def _client(url: str, key: KeyPair) -> Client:
    return Client(url, key=key, timeout=60)


def _enact(net: PeerNetwork, action: Action) -> dict[str, Any]:
    """Propose ``action`` as the first founder and have the next founders approve until it
    passes; wait until it is enacted."""
    orgs = [o.id for o in net.genesis.orgs]
    url = net.peers[0].url
    with _client(url, net.key(orgs[0])) as c:
        args = ProposeArgs(action, "", "", None, None)
        proposal = c.send(net.key(orgs[0]), "governance", "propose", args).result
    for org in orgs[1:]:
        if proposal["status"] != "open":
            break
        with _client(url, net.key(org)) as c:
            vote = VoteArgs(proposal["id"], True)
            proposal = c.send(net.key(org), "governance", "vote", vote).result
    assert proposal["status"] == "passed", proposal
    return _wait_enacted(net, proposal["id"])


def _wait_enacted(net: PeerNetwork, proposal_id: int) -> dict[str, Any]:
    """Wait until a passed proposal is enacted (at the start of a later block: a transaction
    is sent meanwhile, so that there is one)."""
    seen: dict[str, Any] = {}
    nudges = iter(range(1_000_000))

    def enacted() -> bool:
        with _client(net.peers[0].url, net.key("tax")) as c:
            seen.update(c.query("governance", "proposal", {"id": proposal_id}))
            assert seen["status"] in ("passed", "enacted"), seen
            nudge = next(nudges)
            if seen["status"] == "passed" and nudge % 10 == 0:
                c.submit(_anchor(net, "tax", net.key("tax"), f"nudge {proposal_id} {nudge}"))
        return bool(seen["status"] == "enacted")

    wait_until(enacted, 60, f"proposal {proposal_id} to be enacted")
    return seen


def _status(url: str) -> dict[str, Any]:
    return httpx.get(url + "/v1/status", timeout=10).json()  # type: ignore[no-any-return]


def _tip(url: str) -> tuple[int, str, str]:
    s = _status(url)
    return s["height"], s["block_hash"], s["state_root"]


def _wait_same_tip(net: PeerNetwork, url: str, timeout: float = JOIN_TIMEOUT_S) -> int:
    """Wait until the founders converged and the peer at ``url`` has their tip."""

    def same() -> bool:
        tips = {_tip(p.url) for p in net.peers} | {_tip(url)}
        return len(tips) == 1

    wait_until(same, timeout, f"{url} to reach the founders' tip")
    return _tip(url)[0]


def _anchor(net: PeerNetwork, org: str, key: KeyPair, label: str) -> bytes:
    import hashlib

    height = max(_tip(p.url)[0] for p in net.peers)
    args = AnchorArgs(hashlib.sha256(label.encode()).digest(), label, org)
    return build_tx(
        key,
        chain_id=net.chain_id,
        contract="notary",
        method="anchor",
        args=args,
        valid_until=height + 400,
    )


def _append_batch(net: PeerNetwork, key: KeyPair, author: str, txs: list[bytes]) -> int:
    """Write a batch signed by ``key`` at the next free sequence of the log, as a peer would;
    return its sequence number (its block is seq + 1)."""
    layout = LogLayout(net.chain_id)

    async def claim() -> int:
        client = EtcdClient(net.etcd.endpoints)
        try:
            seq = max(_tip(p.url)[0] for p in net.peers)
            while True:
                batch = sign_batch(key, net.chain_id, seq, 1, author, txs)
                body = {
                    "compare": [
                        {
                            "key": layout.log_key(seq),
                            "target": "CREATE",
                            "result": "EQUAL",
                            "create_revision": 0,
                        },
                        {
                            "key": layout.floor_key,
                            "target": "VALUE",
                            "result": "LESS",
                            "value": encode_seq(seq + 1),
                        },
                    ],
                    "success": [
                        {"request_put": {"key": layout.log_key(seq), "value": encode(batch)}}
                    ],
                }
                if await client.txn(body):
                    return seq
                seq += 1
        finally:
            await client.aclose()

    return asyncio.run(claim())


def _block(url: str, height: int, key: KeyPair) -> dict[str, Any]:
    from govchain.client import RequestSigner

    r = httpx.get(f"{url}/v1/blocks/{height}", auth=RequestSigner(key), timeout=10)
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def _wait_skipped(net: PeerNetwork, urls: list[str], seq: int, tx_id: str) -> None:
    """Every peer committed block seq + 1 without the batch's transaction, and goes on."""
    height = seq + 1
    wait_until(
        lambda: all(_tip(u)[0] >= height for u in urls), 60, f"every peer to commit block {height}"
    )
    member = net.key("tax")
    blocks = [_block(u, height, member) for u in urls]
    assert all(b["tx_ids"] == [] for b in blocks), blocks
    assert len({json.dumps(b["header"], sort_keys=True) for b in blocks}) == 1
    for u in urls:
        with _client(u, member) as c:
            fate = c.tx(tx_id)
        assert fate["status"] == "rejected", fate
        assert fate["error"]["code"] == "NODE_NOT_ACTIVE", fate


def _run_ok(*args: str) -> dict[str, Any]:
    done = run_cli(*args, "--json", timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_new_organisations_peer_joins_after_a_vote(
    peer_network: NetworkFactory, joined_peers: list[Path]
) -> None:
    net = peer_network()
    joined_peers.append(net.dir)
    load = Load(net)
    load.start()
    try:
        wait_until(lambda: load.count() >= 300, 90, "300 accepted")
        # a fifth organisation, by governance
        culture = get_scheme(ED25519).generate()
        save_key(net.dir / "orgs" / NEW_ORG / "admin.key", culture, org=NEW_ORG, role="admin")
        add_org = AddOrg(NEW_ORG, "Culture Bureau", "文化局", "bureau", culture.public_key)
        _enact(net, add_org)
        # its peer: key and config, add_node proposed by its admin, approved by the founders
        added = _run_ok("network", "add-peer", "--dir", str(net.dir), "--org", NEW_ORG, "--vote")
    finally:
        accepted = load.finish()
    node_id = added["node_id"]
    assert node_id == "node4" and added["proposal"]["status"] == "passed", added
    assert set(added["proposal"]["action"]) >= {"org", "node_id", "public_key"}
    _wait_enacted(net, added["proposal"]["id"])

    started = _run_ok("network", "start-peer", "--dir", str(net.dir), "--node", node_id)
    url = started["url"]
    height = _wait_same_tip(net, url)
    assert height > 0 and len(accepted) >= 300
    log = (net.dir / "logs" / f"{node_id}.log").read_text(encoding="utf-8")
    assert "caught up to block" in log, log[-3000:]

    # what the new peer is sent is committed, and seen from a founding peer
    raw = _anchor(net, NEW_ORG, culture, "culture's first record")
    with _client(url, culture) as c:
        tx_id = c.submit(raw)
    with net.peers[0].client() as c:
        fate = c.wait(tx_id, timeout=60)
    assert fate.status == "committed" and fate.ok, fate
    assert fate.height is not None
    node_key = load_key(net.dir / "nodes" / node_id / "node.key")
    proposer = _block(net.peers[1].url, fate.height, net.key("tax"))["header"]["proposer"]
    assert proposer == node_key.public_key.hex()  # the new peer ordered it
    _wait_same_tip(net, url)

    # the new peer counts in `network status`; its attestations do not count, quietly
    status = _run_ok("network", "status", "--dir", str(net.dir))
    assert [p["node_id"] for p in status["peers"]][-1] == node_id
    assert all(p["up"] for p in status["peers"])
    wait_until(
        lambda: httpx.get(url + "/v1/finality", timeout=10).json()["finalized_height"] >= height,
        60,
        "the new peer to see certificates of the founders",
    )
    assert "refused" not in net.peers[0].log()

    # a batch by an author no governance added is skipped by everyone
    urls = [p.url for p in net.peers] + [url]
    stranger = get_scheme(ED25519).generate()
    raw = _anchor(net, "tax", net.key("tax"), "through a forged batch")
    seq = _append_batch(net, stranger, "intruder", [raw])
    _wait_skipped(net, urls, seq, _tx_id(raw))

    # once governance removes the node, it takes nothing more, and its batches are skipped
    _enact(net, RemoveNode(f"{NEW_ORG}:{node_id}"))
    _wait_same_tip(net, url)
    with httpx.Client(timeout=30) as http:
        late = base64.b64encode(_anchor(net, NEW_ORG, culture, "late")).decode()
        refused = http.post(url + "/v1/txs", json={"tx": late})
    assert refused.status_code == 421 and refused.json()["code"] == "NODE_NOT_ACTIVE", refused.text
    raw = _anchor(net, "tax", net.key("tax"), "through the removed node's batch")
    seq = _append_batch(net, node_key, node_id, [raw])
    _wait_skipped(net, urls, seq, _tx_id(raw))
    _wait_same_tip(net, url)
    for p in net.peers:
        assert "ORDER_LOG_CORRUPT" not in p.log()

    down = _run_ok("network", "down", "--dir", str(net.dir))
    assert down["stopped"].get(node_id) == "stopped", down
    assert read_pid(pid_path(net.dir, node_id)) is None


def _tx_id(raw: bytes) -> str:
    from govchain.encoding import decode
    from govchain.types import SignedTx, compute_tx_id

    return compute_tx_id(decode(raw, SignedTx).body).hex()
