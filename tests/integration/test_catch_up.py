"""Catch-up over real HTTP: a node process serves its blocks; a second node of the same network,
on its own SQLite ledger, fetches, verifies, re-executes and commits them (signing its requests
with its node key, through the real server's authentication)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govchain.node.runtime import Node
from govchain.node.sync import SyncUnavailable, catch_up
from govchain.storage import SqliteLedgerStore

from .nodeproc import MEMBER_ORG, NodeProcess, free_port, run_cli


@pytest.fixture
def lagging(node: NodeProcess, tmp_path: Path) -> Iterator[Node]:
    """A second node of the network (same genesis and node key), not started, on an empty
    ledger of its own."""
    peer = Node(node.dir, "node0", store=SqliteLedgerStore(tmp_path / "lagging.db"))
    try:
        yield peer
    finally:
        peer.store.close()


def test_a_lagging_node_catches_up_from_a_running_one(node: NodeProcess, lagging: Node) -> None:
    with node.client() as client:
        key = node.network.key(MEMBER_ORG)
        for i in range(5):
            client.notarize(key, b"catch-up document %d" % i, title=f"doc {i}", owner_org="tax")
        status = client.status()
    dead = f"http://127.0.0.1:{free_port()}"
    seen: list[int] = []
    height = asyncio.run(
        catch_up(lagging, [dead, node.url], progress=lambda h, _: seen.append(h), chunk=2)
    )
    assert height == status["height"] >= 5
    assert seen == list(range(1, height + 1))
    meta = lagging.app.info()
    assert (meta.block_hash.hex(), meta.state_root.hex()) == (
        status["block_hash"],
        status["state_root"],
    )
    with httpx.Client(base_url=node.url, auth=node.network.signer(), timeout=10) as http:
        for h in range(height + 1):
            served = http.get("/v1/blocks/" + str(h)).json()["header"]["hash"]
            assert lagging.store.get_block_hash(h) == bytes.fromhex(served)


def test_catch_up_beyond_what_any_peer_has(node: NodeProcess, lagging: Node) -> None:
    with pytest.raises(SyncUnavailable) as caught:
        asyncio.run(catch_up(lagging, [node.url], target_height=10_000))
    assert caught.value.code == "SYNC_NO_PEER"
    assert lagging.app.info().height == node.status()["height"]


def test_finality_routes_answer_anonymous_clients(node: NodeProcess) -> None:
    status = httpx.get(node.url + "/v1/finality", timeout=10).json()
    assert status["founding_peers"] == ["node0"] and status["quorum"] == 1
    shown = run_cli("block", "finality", "0", "--node", node.url, "--json")
    assert shown.returncode == 1 and "FINALITY_NOT_FOUND" in shown.stdout
    anonymous = httpx.get(node.url + "/v1/sync/blocks?from=0", timeout=10)
    assert anonymous.status_code == 401
