"""The SDK trusts a multi-node peer's answers on finality certificates: transaction and state
answers carry the certificate of their header's block (``finality``), an unsigned header (a
block another peer proposed) is trusted on it, ``final=true`` reads state at the latest finalized
height, and with ``require_finality`` an answer without a certificate is refused."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from finality_world import (
    GENESIS_TIME_MS,
    anchor_tx,
    asgi_transport,
    certify,
    key_for,
    make_network,
    make_node,
    produce,
)

from govchain.api.server import create_app
from govchain.client import Client, TrustAnchor, verify_state_answer, verify_tx_answer
from govchain.client.verify import FinalityMissing
from govchain.contracts.notary import notary_state_key
from govchain.encoding import encode
from govchain.errors import BadRequest
from govchain.execution import CheckedTx
from govchain.node.runtime import Node
from govchain.types.finality import CertificateNotFound, FinalityError


class SyncASGI(httpx.BaseTransport):
    """A synchronous transport into the node's ASGI app (the SDK's client is synchronous)."""

    def __init__(self, app: Any) -> None:
        self.inner = asgi_transport(app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def run() -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run(run())


def commit_from(node: Node, proposer: str) -> list[bytes]:
    """Commit one block of two anchors proposed by another peer (stored unsigned); return the
    transaction ids."""
    height = node.app.info().height + 1
    checked = node.app.check_txs([anchor_tx(node, f"doc-{height}-{i}") for i in range(2)])
    assert all(isinstance(c, CheckedTx) for c in checked), checked
    pending = node.app.finalize_block(
        checked,  # type: ignore[arg-type]
        GENESIS_TIME_MS + 1000 * height,
        key_for(proposer).public_key,
    )
    assert pending.block.proposer_signature == b""
    return node.app.commit(pending).tx_ids


def doc_hash(height: int) -> bytes:
    return hashlib.sha256(f"doc-{height}-0".encode()).digest()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """Block 1 signed by this peer; blocks 2 and 3 proposed by p1 (unsigned); 2 is final."""
    make_network(tmp_path)
    node = make_node(tmp_path)
    produce(node, 1)
    commit_from(node, "p1")
    commit_from(node, "p1")
    certify(node, 2)
    yield node
    node.store.close()


@pytest.fixture
def transport(node: Node) -> SyncASGI:
    return SyncASGI(create_app(node))


def client(node: Node, transport: SyncASGI, **trust: Any) -> Client:
    anchor = TrustAnchor.from_genesis(node.genesis, **trust)
    return Client("http://node", key=key_for("tax-admin"), trust=anchor, transport=transport)


def tx_at(node: Node, height: int) -> str:
    """The id of the first transaction of block ``height``."""
    locations = node.store._tx_locations.items()  # type: ignore[attr-defined]
    return str(next(t.hex() for t, loc in locations if (loc.height, loc.index) == (height, 0)))


def test_tx_answers_carry_and_are_trusted_on_certificates(node: Node, transport: SyncASGI) -> None:
    with client(node, transport) as sdk:
        final = sdk.tx(tx_at(node, 2))
        assert final["header"]["proposer_signature"] == ""
        assert final["finality"] and final["height"] == 2
        signed = sdk.tx(tx_at(node, 1))  # this peer's own block: its signature will do
        assert "finality" not in signed
        with pytest.raises(FinalityMissing) as caught:
            sdk.tx(tx_at(node, 3))  # unsigned, not final yet
        assert "final=true" in caught.value.hint


def test_state_reads_at_the_finalized_height(node: Node, transport: SyncASGI) -> None:
    with client(node, transport) as sdk:
        with pytest.raises(FinalityMissing):
            sdk.notary(doc_hash(3))  # the latest block, 3, is not final
        answer = sdk.notary(doc_hash(2), final=True)
        assert answer["state"]["height"] == 2 and answer["state"]["finality"]
        assert answer["record"]["title"] == "doc-2-0"
        later = sdk.state(notary_state_key(doc_hash(3)), final=True)  # anchored in block 3
        assert (later["height"], later["exists"]) == (2, False)
        key = bytes.fromhex(answer["state"]["key"])
        assert sdk.state(key, final=True)["height"] == 2
        assert sdk.state(key, height=2)["exists"]
        with pytest.raises(BadRequest):
            sdk.state(key, height=2, final=True)


def test_require_finality_refuses_a_signature_alone(node: Node, transport: SyncASGI) -> None:
    with client(node, transport, require_finality=True) as strict:
        assert strict.tx(tx_at(node, 2))["finality"]
        with pytest.raises(FinalityMissing) as caught:
            strict.tx(tx_at(node, 1))  # signed, but one node's signature is not enough
        assert caught.value.code == "FINALITY_MISSING"
        key = bytes.fromhex(strict.notary(doc_hash(2), final=True)["state"]["key"])
        with pytest.raises(FinalityMissing):
            strict.state(key, height=1)
        assert strict.state(key, final=True)["exists"]


def test_block_answers_fetch_the_certificate_of_an_unsigned_header(
    node: Node, transport: SyncASGI
) -> None:
    with client(node, transport) as sdk:
        assert sdk.block(2)["header"]["height"] == 2
        assert sdk.block(1)["header"]["height"] == 1
        with pytest.raises(CertificateNotFound):
            sdk.block(3)


def test_a_forged_certificate_in_an_answer_is_refused(node: Node, transport: SyncASGI) -> None:
    trust = TrustAnchor.from_genesis(node.genesis)
    with client(node, transport) as sdk:
        tx = sdk.tx(tx_at(node, 2))
        state = sdk.notary(doc_hash(2), final=True)["state"]
    for answer, check in ((tx, verify_tx_answer), (state, verify_state_answer)):
        raw = bytearray.fromhex(answer["finality"])
        raw[-1] ^= 1  # the last signature's last byte
        with pytest.raises(FinalityError) as caught:
            check({**answer, "finality": raw.hex()}, trust)
        assert caught.value.code == "FINALITY_BAD_SIGNATURE"
        with pytest.raises(FinalityError) as caught:
            check({**answer, "finality": "c0ffee"}, trust)
        assert caught.value.code == "FINALITY_MALFORMED"
    # a certificate of another block does not vouch for this header
    other = certify(node, 3)
    with pytest.raises(FinalityError) as caught:
        verify_state_answer({**state, "finality": encode(other).hex()}, trust)
    assert caught.value.code == "FINALITY_MISMATCH"


def test_final_reads_before_any_block_is_final(tmp_path: Path) -> None:
    make_network(tmp_path)
    node = make_node(tmp_path)
    try:
        produce(node, 1)
        with client(node, SyncASGI(create_app(node))) as sdk, pytest.raises(CertificateNotFound):
            sdk.notary(doc_hash(1), final=True)
    finally:
        node.store.close()
