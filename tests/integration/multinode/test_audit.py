"""A multi-node peer's ledger holds the blocks other peers proposed without a proposer signature:
a client holding only the genesis trusts its answers on finality certificates, and once the
network is stopped `govchain verify` audits every peer's ledger, trusting the unsigned blocks on
the stored certificates."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from govchain.client import Client, TrustAnchor

from ..nodeproc import run_cli
from .cluster import PeerNetwork, wait_until
from .conftest import NetworkFactory


def _submit(url: str, raws: list[bytes]) -> list[str]:
    payload = {"txs": [base64.b64encode(r).decode() for r in raws]}
    r = httpx.post(url + "/v1/txs/batch", json=payload, timeout=30)
    r.raise_for_status()
    results = r.json()["results"]
    assert all(item["status"] == "pending" for item in results), results
    return [str(item["tx_id"]) for item in results]


def _verify(net: PeerNetwork, node_id: str) -> dict[str, Any]:
    result = run_cli("verify", "--dir", str(net.dir), "--node-id", node_id, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_non_proposing_peers_are_trusted_on_certificates(peer_network: NetworkFactory) -> None:
    net = peer_network()
    proposer, asked = net.peers[0], net.peers[2]
    tx_ids = _submit(proposer.url, net.anchors(proposer.node_id, 30))
    with asked.client() as plain:  # committed everywhere before anything is checked
        for tx_id in tx_ids:
            assert plain.wait(tx_id, timeout=30).ok
    height = net.wait_converged()
    wait_until(
        lambda: all(p.metric("govchain_finalized_height") >= height for p in net.peers),
        30,
        f"every peer to finalize block {height}",
    )

    key = net.key(net.org_of(asked.node_id))
    trust = TrustAnchor.from_genesis(net.genesis)
    with Client(asked.url, key=key, trust=trust) as client:
        answer = client.tx(tx_ids[0])  # verified on the certificate it carries
        assert answer["header"]["proposer_signature"] == ""
        assert answer["finality"]
        absent = client.state(b"notary/no such document", final=True)  # proven absent
        assert absent["height"] >= answer["height"] and absent["finality"]
    strict = TrustAnchor.from_genesis(net.genesis, require_finality=True)
    with Client(proposer.url, key=key, trust=strict) as client:
        assert client.tx(tx_ids[-1])["finality"]  # signed here, and final
    net.stop()

    proposed = _verify(net, proposer.node_id)
    assert proposed["ok"] is True and proposed["height"] == height
    assert proposed["by_signature"] > 0 and proposed["finalized_height"] == height
    for peer in net.peers[1:]:
        report = _verify(net, peer.node_id)
        assert report["ok"] is True, report
        assert report["height"] == height and report["finalized_height"] == height
        assert report["by_signature"] + report["by_certificate"] == height
        assert report["by_certificate"] >= proposed["by_signature"]  # node0's blocks
    human = run_cli("verify", "--dir", str(net.dir), "--node-id", asked.node_id)
    assert human.returncode == 0 and "by finality certificate" in human.stdout
