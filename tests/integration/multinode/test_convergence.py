"""Four real peers ordering on a real 3-member etcd cluster: whatever peer a client submits to,
every peer executes the same blocks, reaches the same state root, and answers for every
transaction; a transaction sent to two peers runs once; a faulty peer is found out."""

from __future__ import annotations

import base64

import httpx

from .cluster import PeerNetwork, committed_tx_ids, wait_until
from .conftest import NetworkFactory


def _submit(url: str, raws: list[bytes]) -> list[dict[str, object]]:
    payload = {"txs": [base64.b64encode(r).decode() for r in raws]}
    r = httpx.post(url + "/v1/txs/batch", json=payload, timeout=30)
    r.raise_for_status()
    return r.json()["results"]  # type: ignore[no-any-return]


def _finalized(net: PeerNetwork, height: int) -> bool:
    return all(p.metric("govchain_finalized_height") >= height for p in net.peers)


def test_submissions_to_every_peer_converge_and_finalize(peer_network: NetworkFactory) -> None:
    net = peer_network()
    sent: dict[str, str] = {}  # tx id -> the peer it was sent to
    for peer in net.peers:
        results = _submit(peer.url, net.anchors(peer.node_id, 25))
        assert [r["status"] for r in results] == ["pending"] * 25, results
        sent.update((str(r["tx_id"]), peer.node_id) for r in results)
    # each transaction's fate, asked of a peer it was not sent to
    for i, (tx_id, origin) in enumerate(sent.items()):
        asked = next(p for p in net.peers[i % 4 :] + net.peers if p.node_id != origin)
        with asked.client() as client:
            outcome = client.wait(tx_id, timeout=30)
        assert outcome.status == "committed" and outcome.ok, (tx_id, outcome)
    height = net.wait_converged()
    assert sorted(committed_tx_ids(net.peers[1], height)) == sorted(sent)
    wait_until(lambda: _finalized(net, height), 30, f"every peer to finalize block {height}")
    assert all(p.metric("govchain_divergence_height") == -1 for p in net.peers)


def test_a_transaction_sent_to_two_peers_runs_once(peer_network: NetworkFactory) -> None:
    net = peer_network()
    raws = net.anchors("node0", 10)
    first = _submit(net.peers[0].url, raws)
    second = _submit(net.peers[1].url, raws)  # the same signed transactions, to another peer
    assert all(r["status"] == "pending" for r in first)
    assert all(
        r["status"] == "pending" or r["error"]["code"] == "TX_REPLAYED"  # type: ignore[index]
        for r in second
    ), second
    ids = [str(r["tx_id"]) for r in first]
    heights = set()
    for peer in net.peers:
        with peer.client() as client:
            for tx_id in ids:
                outcome = client.wait(tx_id, timeout=30)
                assert outcome.status == "committed" and outcome.ok, (peer.node_id, outcome)
                heights.add((tx_id, outcome.height))
    assert len(heights) == len(ids), "peers disagree on where a transaction committed"
    height = net.wait_converged()
    included = committed_tx_ids(net.peers[2], height)
    assert sorted(included) == sorted(ids), "a transaction ran twice or not at all"


def test_a_peer_attesting_a_wrong_state_root_is_found_out(peer_network: NetworkFactory) -> None:
    net = peer_network(configs={"node3": {"faulty_attestations": True}})
    faulty, honest = net.peers[3], net.peers[:3]
    for peer in honest:
        results = _submit(peer.url, net.anchors(peer.node_id, 5))
        with peer.client() as client:
            for r in results:
                assert client.wait(str(r["tx_id"]), timeout=30).status == "committed"
    height = net.wait_converged()
    # the three honest peers are a quorum of four: their blocks become final
    wait_until(
        lambda: all(p.metric("govchain_finalized_height") >= height for p in honest),
        30,
        "the honest peers to finalize",
    )
    # the faulty peer's root never gathers a quorum; it sees the quorum's and halts writes
    wait_until(
        lambda: faulty.metric("govchain_divergence_height") >= 1, 30, "the faulty peer to notice"
    )
    assert all(p.metric("govchain_divergence_height") == -1 for p in honest)
    refused = httpx.post(
        faulty.url + "/v1/txs/batch",
        json={"txs": [base64.b64encode(net.anchors("node3", 1)[0]).decode()]},
        timeout=30,
    )
    assert refused.status_code == 503
    assert refused.json()["code"] == "CHAIN_DIVERGED"
