"""The finality routes on a node of a four-peer network (in process): certificates, the finality
status, and the raw blocks served for catch-up."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from finality_world import (
    CHAIN_ID,
    asgi_transport,
    attest,
    certify,
    key_for,
    make_network,
    make_node,
    produce,
)
from litestar.testing import TestClient

from govchain.api import routes_finality
from govchain.api.routes_finality import MAX_SYNC_BLOCKS, get_tracker
from govchain.api.server import create_app
from govchain.client import RequestSigner
from govchain.encoding import decode, encode
from govchain.node.finality import FinalityTracker
from govchain.node.runtime import Node
from govchain.types import Block, Genesis, GenesisNode
from govchain.types.finality import decode_certificate, founding_peer_keys, verify_certificate


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    make_network(tmp_path)
    node = make_node(tmp_path)
    produce(node, 4)
    yield node
    node.store.close()


@pytest.fixture
def http(node: Node) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(node)) as client:
        yield client


def test_certificate_of_a_block_verifies_from_its_raw_bytes(
    node: Node, http: TestClient[Any]
) -> None:
    cert = certify(node, 2)
    answer = http.get("/v1/blocks/2/finality").json()
    assert decode_certificate(bytes.fromhex(answer["raw"])) == cert
    assert answer["height"] == 2 and answer["block_hash"] == cert.block_hash.hex()
    assert [s["node_id"] for s in answer["signatures"]] == ["p0", "p1", "p2"]
    assert (answer["quorum"], answer["peers"]) == (3, 4)
    verify_certificate(cert, CHAIN_ID, founding_peer_keys(node.genesis))


def test_block_without_certificate_and_missing_block(http: TestClient[Any]) -> None:
    pending = http.get("/v1/blocks/3/finality")
    assert (pending.status_code, pending.json()["code"]) == (404, "FINALITY_NOT_FOUND")
    missing = http.get("/v1/blocks/99/finality")
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")


def test_status_shows_the_finalized_height_and_latest_certificate(
    node: Node, http: TestClient[Any]
) -> None:
    empty = http.get("/v1/finality").json()
    assert (empty["finalized_height"], empty["latest"], empty["divergence"]) == (-1, None, None)
    certify(node, 1)
    certify(node, 3)
    status = http.get("/v1/finality").json()
    assert status["height"] == 4 and status["finalized_height"] == 3
    assert status["latest"]["height"] == 3
    assert status["founding_peers"] == ["p0", "p1", "p2", "p3"] and status["quorum"] == 3
    assert status["tracking"] is False


def test_status_reports_the_trackers_divergence(node: Node, http: TestClient[Any]) -> None:
    tracker = FinalityTracker(node.genesis, key_for("p0"), "p0")
    node.finality = tracker  # type: ignore[attr-defined]
    wrong_root = b"\x07" * 32
    block_hash = node.store.get_block_hash(4)
    assert block_hash is not None
    tracker.attest(4, block_hash, wrong_root)
    for peer in ("p1", "p2", "p3"):
        tracker.add(attest(peer, 4, block_hash, node.store.get_state_root(4) or b""))
    status = http.get("/v1/finality").json()
    assert status["tracking"] is True
    assert status["divergence"]["height"] == 4
    assert status["divergence"]["local_state_root"] == wrong_root.hex()
    assert status["divergence"]["signers"] == ["p1", "p2", "p3"]


def test_tracker_is_found_on_the_node_or_its_peer() -> None:
    tracker = FinalityTracker(make_world_genesis(), key_for("p0"), "p0")
    assert get_tracker(SimpleNamespace(finality=tracker)) is tracker
    assert get_tracker(SimpleNamespace(peer=SimpleNamespace(tracker=tracker))) is tracker
    assert get_tracker(SimpleNamespace()) is None


def make_world_genesis() -> Genesis:
    return Genesis(CHAIN_ID, 0, [], [GenesisNode("p0", "bureau", key_for("p0").public_key.hex())])


def signed(http: TestClient[Any], path: str, **params: Any) -> httpx.Response:
    """A request signed by a peer's node key (in process, through a spec-conforming transport)."""

    async def fetch() -> httpx.Response:
        transport = asgi_transport(http.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://peer") as client:
            return await client.get(path, params=params, auth=RequestSigner(key_for("p1")))

    return asyncio.run(fetch())


def test_sync_serves_raw_blocks_with_their_certificates(node: Node, http: TestClient[Any]) -> None:
    cert = certify(node, 2)
    answer = signed(http, "/v1/sync/blocks", **{"from": 1, "limit": 3}).json()
    assert answer["chain_id"] == CHAIN_ID and answer["height"] == 4
    assert answer["finalized_height"] == 2
    assert [b["height"] for b in answer["blocks"]] == [1, 2, 3]
    raws = [base64.b64decode(b["block"]) for b in answer["blocks"]]
    assert raws == [node.store.get_block(h) for h in (1, 2, 3)]
    assert decode(raws[0], Block).header.height == 1
    certs = [b["certificate"] for b in answer["blocks"]]
    assert certs[0] is None and certs[2] is None
    assert base64.b64decode(certs[1]) == encode(cert)
    tail = signed(http, "/v1/sync/blocks", **{"from": 4}).json()
    assert [b["height"] for b in tail["blocks"]] == [4]
    assert signed(http, "/v1/sync/blocks", **{"from": 5}).json()["blocks"] == []


def test_sync_is_for_members(http: TestClient[Any]) -> None:
    anonymous = http.get("/v1/sync/blocks", params={"from": 1})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "AUTH_REQUIRED")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"from": -1},
        {"from": "x"},
        {"from": 1, "limit": 0},
        {"from": 1, "limit": MAX_SYNC_BLOCKS + 1},
    ],
    ids=["no-from", "negative", "not-a-number", "zero-limit", "limit-too-large"],
)
def test_sync_refuses_bad_ranges(http: TestClient[Any], params: dict[str, Any]) -> None:
    response = signed(http, "/v1/sync/blocks", **params)
    assert (response.status_code, response.json()["code"]) == (400, "BAD_REQUEST")


def test_sync_answers_are_bounded_in_bytes(
    node: Node, http: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = [len(node.store.get_block(h) or b"") for h in (1, 2, 3)]
    monkeypatch.setattr(routes_finality, "MAX_SYNC_BYTES", sizes[0] + sizes[1])
    answer = signed(http, "/v1/sync/blocks", **{"from": 1, "limit": 3}).json()
    assert [b["height"] for b in answer["blocks"]] == [1, 2]
    monkeypatch.setattr(routes_finality, "MAX_SYNC_BYTES", 1)
    answer = signed(http, "/v1/sync/blocks", **{"from": 1, "limit": 3}).json()
    assert [b["height"] for b in answer["blocks"]] == [1]  # at least one block, however large
