"""Catch-up from other peers, in process: an honest peer (the real API of a node) and malicious
peers that serve tampered answers. Every block is verified and re-executed before it commits;
a peer whose block does not check out is refused with the height and the reason, and the next
peer is tried."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from finality_world import asgi_transport, certify, key_for, make_network, make_node, produce

from govchain.api.server import create_app
from govchain.encoding import decode, encode
from govchain.node import sync as sync_module
from govchain.node.runtime import Node
from govchain.node.sync import SyncUnavailable, catch_up
from govchain.types import Block, compute_block_hash, header_sign_bytes
from govchain.types.finality import decode_certificate

HONEST = "http://honest"
EVIL = "http://evil"
DOWN = "http://down"
Tamper = Callable[[dict[str, Any]], None]  # edits one answer of /v1/sync/blocks in place


class Peers(httpx.AsyncBaseTransport):
    """Routes by host: ``honest`` to the source node's API, ``evil`` to the same answers passed
    through ``tamper``, ``down`` to a connection error."""

    def __init__(self, source: Node) -> None:
        self.honest = asgi_transport(create_app(source))
        self.tamper: Tamper | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "down":
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.honest.handle_async_request(request)
        if request.url.host != "evil" or self.tamper is None:
            return response
        await response.aread()
        answer = response.json()
        self.tamper(answer)
        return httpx.Response(200, json=answer)


def edit_block(height: int, change: Callable[[Block], Block]) -> Tamper:
    def tamper(answer: dict[str, Any]) -> None:
        for item in answer["blocks"]:
            if item["height"] == height:
                block = decode(base64.b64decode(item["block"]), Block)
                item["block"] = base64.b64encode(encode(change(block))).decode()

    return tamper


def chain(*tampers: Tamper) -> Tamper:
    def tamper(answer: dict[str, Any]) -> None:
        for t in tampers:
            t(answer)

    return tamper


def edit_certificate(height: int, change: Callable[[Any], Any]) -> Tamper:
    def tamper(answer: dict[str, Any]) -> None:
        for item in answer["blocks"]:
            if item["height"] == height:
                cert = decode_certificate(base64.b64decode(item["certificate"]))
                item["certificate"] = base64.b64encode(encode(change(cert))).decode()

    return tamper


@pytest.fixture
def network(tmp_path: Path) -> Path:
    make_network(tmp_path)
    return tmp_path


@pytest.fixture
def source(network: Path) -> Iterator[Node]:
    node = make_node(network, "p0")
    produce(node, 6)
    for height in (3, 6):
        certify(node, height)
    yield node
    node.store.close()


@pytest.fixture
def target(network: Path) -> Iterator[Node]:
    node = make_node(network, "p1")
    yield node
    node.store.close()


@pytest.fixture
def peers(source: Node) -> Peers:
    return Peers(source)


def sync(target: Node, peers: Peers, urls: list[str], **kw: Any) -> int:
    return asyncio.run(catch_up(target, urls, transport=peers, chunk=4, **kw))


def test_catch_up_commits_certified_blocks_byte_for_byte(
    source: Node, target: Node, peers: Peers
) -> None:
    seen: list[int] = []
    assert sync(target, peers, [HONEST], progress=lambda h, _: seen.append(h)) == 6
    assert seen == [1, 2, 3, 4, 5, 6]
    for height in range(7):
        assert target.store.get_block(height) == source.store.get_block(height)
        assert target.store.get_receipts(height) == source.store.get_receipts(height)
    assert target.app.info() == source.app.info()
    assert target.store.get_finalized_height() == 6
    assert target.store.get_finality_certificate(3) == source.store.get_finality_certificate(3)
    assert target.store.get_finality_certificate(4) is None
    assert target.events.height == 6


def test_blocks_no_certificate_covers_wait(source: Node, target: Node, peers: Peers) -> None:
    produce(source, 2)  # blocks 7 and 8: not certified yet
    assert sync(target, peers, [HONEST]) == 6
    assert sync(target, peers, [HONEST]) == 6  # idempotent: nothing new is certified
    certify(source, 8)
    assert sync(target, peers, [HONEST]) == 8


def test_target_height(source: Node, target: Node, peers: Peers) -> None:
    assert sync(target, peers, [HONEST], target_height=3) == 3
    with pytest.raises(SyncUnavailable) as caught:
        sync(target, peers, [HONEST], target_height=9)
    assert caught.value.code == "SYNC_NO_PEER"
    assert target.app.info().height == 6


def test_unsigned_blocks_are_trusted_through_their_certificates(
    source: Node, target: Node, peers: Peers
) -> None:
    # a peer that did not propose a block stores it without the proposer's signature
    peers.tamper = chain(*(edit_block(h, _drop_signature) for h in range(1, 7)))
    assert sync(target, peers, [EVIL]) == 6
    assert target.app.info() == source.app.info()


def _drop_signature(block: Block) -> Block:
    return msgspec.structs.replace(block, proposer_signature=b"")


def _reorder_txs(block: Block) -> Block:
    return msgspec.structs.replace(block, txs=list(reversed(block.txs)))


def _drop_tx(block: Block) -> Block:
    return msgspec.structs.replace(block, txs=block.txs[:1])


def _another_chain(block: Block) -> Block:
    header = msgspec.structs.replace(block.header, chain_id="elsewhere")
    return msgspec.structs.replace(block, header=header)


def _forged_state_root(block: Block) -> Block:
    header = msgspec.structs.replace(block.header, state_root=b"\x01" * 32)
    signature = key_for("p0").sign(header_sign_bytes(compute_block_hash(header)))
    return Block(header, signature, block.txs)


def _bad_signature(cert: Any) -> Any:
    node_id, key, signature = cert.signatures[1]
    sigs = list(cert.signatures)
    sigs[1] = (node_id, key, bytes([signature[0] ^ 1]) + signature[1:])
    return msgspec.structs.replace(cert, signatures=sigs)


def _garbage(answer: dict[str, Any]) -> None:
    answer["blocks"][1]["block"] = base64.b64encode(b"\xc1 not a block").decode()


def _skip_a_block(answer: dict[str, Any]) -> None:
    del answer["blocks"][1]


MALICIOUS: dict[str, tuple[Tamper, int, str]] = {
    # name: (tamper, height refused, reason)
    "reordered-txs": (edit_block(3, _reorder_txs), 3, "TX_ROOT_MISMATCH"),
    "dropped-tx": (edit_block(2, _drop_tx), 2, "TX_COUNT_MISMATCH"),
    "another-chain": (edit_block(2, _another_chain), 2, "CHAIN_ID_MISMATCH"),
    "forged-root": (edit_block(3, _forged_state_root), 3, "FINALITY_MISMATCH"),
    "forged-certificate": (edit_certificate(3, _bad_signature), 3, "FINALITY_BAD_SIGNATURE"),
    "too-few-signers": (
        edit_certificate(3, lambda c: msgspec.structs.replace(c, signatures=c.signatures[:2])),
        3,
        "FINALITY_NO_QUORUM",
    ),
    "garbage": (_garbage, 2, "UNDECODABLE"),
    "gap": (_skip_a_block, 2, "HEIGHT_GAP"),
}


@pytest.mark.parametrize("case", MALICIOUS, ids=list(MALICIOUS))
def test_a_malicious_peer_is_refused_with_height_and_reason(
    case: str, target: Node, peers: Peers
) -> None:
    tamper, height, reason = MALICIOUS[case]
    peers.tamper = tamper
    with pytest.raises(SyncUnavailable) as caught:
        sync(target, peers, [EVIL], target_height=6)
    [failure] = caught.value.details["failures"]
    assert failure["code"] == "SYNC_BLOCK_REFUSED"
    assert (failure["peer"], failure["height"], failure["reason"]) == (EVIL, height, reason)
    assert target.app.info().height < height  # nothing at or after the bad block committed


@pytest.mark.parametrize("case", ["reordered-txs", "forged-root", "forged-certificate"])
def test_fail_over_to_an_honest_peer(case: str, source: Node, target: Node, peers: Peers) -> None:
    peers.tamper = MALICIOUS[case][0]
    assert sync(target, peers, [DOWN, EVIL, HONEST], target_height=6) == 6
    assert target.app.info() == source.app.info()


def test_no_peer_answers(target: Node, peers: Peers) -> None:
    with pytest.raises(SyncUnavailable) as caught:
        sync(target, peers, [DOWN])
    assert [f["code"] for f in caught.value.details["failures"]] == ["UNREACHABLE"]
    with pytest.raises(SyncUnavailable):
        sync(target, peers, [])


def test_single_peer_chain_trusts_signed_blocks(tmp_path: Path) -> None:
    make_network(tmp_path, peers=1)
    source, target = make_node(tmp_path, "p0"), make_node(tmp_path, "p0")
    produce(source, 3)
    peers = Peers(source)
    assert sync(target, peers, [HONEST]) == 3
    assert target.app.info() == source.app.info()
    produce(source, 2)
    peers.tamper = edit_block(4, _drop_signature)  # neither signed nor certified
    with pytest.raises(SyncUnavailable):
        sync(target, peers, [EVIL], target_height=5)
    # block 5's signature does not vouch for the unsigned block 4 before it
    assert target.app.info().height == 3
    assert sync(target, peers, [HONEST], target_height=5) == 5


def test_a_peer_holding_back_certificates_is_given_up(
    source: Node, target: Node, peers: Peers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "MAX_UNCERTIFIED", 1)  # the certificate is at 3
    with pytest.raises(SyncUnavailable) as caught:
        sync(target, peers, [HONEST], target_height=3, require_certificates=True)
    [failure] = caught.value.details["failures"]
    assert (failure["height"], failure["reason"]) == (2, "NO_CERTIFICATE")
    assert target.app.info().height == 0
