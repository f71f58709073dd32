"""A network of founding peers for finality and catch-up tests: a network directory whose genesis
lists ``peers`` nodes (all of the ``bureau`` organisation), nodes on in-memory stores, blocks
with notary transactions, and certificates signed by the peers' keys. Every key derives from a
label, so every run builds the same chain."""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import httpx

from govchain.app import CommittedBlock
from govchain.client.tx import build_tx
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.execution import CheckedTx
from govchain.node.config import NodeConfig, save_genesis, save_key, save_node_config
from govchain.node.runtime import Node
from govchain.storage import MemoryLedgerStore
from govchain.types import ChainParams, Genesis, GenesisNode, GenesisOrg
from govchain.types.finality import (
    Attestation,
    FinalityCertificate,
    attestation_sign_bytes,
    compute_certificate,
    founding_peer_keys,
)

CHAIN_ID = "finality-world"
GENESIS_TIME_MS = 1_700_000_000_000


def key_for(label: str) -> KeyPair:
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


def make_network(directory: Path, peers: int = 4) -> Genesis:
    """Write a network directory with ``peers`` founding nodes ``p0``, ``p1``, ..."""
    orgs = [
        GenesisOrg("bureau", "Bureau", "局", "bureau", [key_for("bureau-admin").public_key.hex()]),
        GenesisOrg("tax", "Tax", "税务局", "department", [key_for("tax-admin").public_key.hex()]),
    ]
    nodes = [
        GenesisNode(f"p{i}", "bureau", key_for(f"p{i}").public_key.hex()) for i in range(peers)
    ]
    genesis = Genesis(CHAIN_ID, GENESIS_TIME_MS, orgs, nodes, ChainParams(max_tx_lifetime=100))
    save_genesis(directory, genesis)
    for i in range(peers):
        save_key(directory / "nodes" / f"p{i}" / "node.key", key_for(f"p{i}"), org="bureau")
        save_node_config(directory, NodeConfig(f"p{i}", storage="memory:"))
    return genesis


def make_node(directory: Path, node_id: str = "p0") -> Node:
    return Node(directory, node_id, store=MemoryLedgerStore())


def anchor_tx(node: Node, label: str) -> bytes:
    height = node.app.info().height
    return build_tx(
        key_for("tax-admin"),
        chain_id=CHAIN_ID,
        contract="notary",
        method="anchor",
        args=AnchorArgs(hashlib.sha256(label.encode()).digest(), title=label, owner_org="tax"),
        valid_until=height + 10,
        nonce=hashlib.sha256(b"nonce " + label.encode()).digest()[:16],
    )


def produce(node: Node, count: int, txs_per_block: int = 2) -> list[CommittedBlock]:
    """Commit ``count`` blocks, each with notary anchors, on ``node`` (proposer: its key)."""
    out = []
    for _ in range(count):
        height = node.app.info().height + 1
        raws = [anchor_tx(node, f"doc-{height}-{i}") for i in range(txs_per_block)]
        checked = node.app.check_txs(raws)
        assert all(isinstance(c, CheckedTx) for c in checked), checked
        time_ms = GENESIS_TIME_MS + 1000 * height
        pending = node.app.finalize_block(checked, time_ms)  # type: ignore[arg-type]
        out.append(node.app.commit(pending))
    return out


def attest(node_id: str, height: int, block_hash: bytes, state_root: bytes) -> Attestation:
    key = key_for(node_id)
    message = attestation_sign_bytes(CHAIN_ID, height, block_hash, state_root)
    return Attestation(
        CHAIN_ID, height, block_hash, state_root, node_id, key.public_key, key.sign(message)
    )


def certify(
    node: Node, height: int, signers: tuple[str, ...] = ("p0", "p1", "p2")
) -> FinalityCertificate:
    """The certificate of ``node``'s block ``height`` by ``signers``, saved in its store."""
    block_hash = node.store.get_block_hash(height)
    state_root = node.store.get_state_root(height)
    assert block_hash is not None and state_root is not None
    atts = [attest(s, height, block_hash, state_root) for s in signers]
    cert = compute_certificate(atts, founding_peer_keys(node.genesis), CHAIN_ID)
    assert cert is not None
    node.store.save_finality_certificate(cert)
    return cert


def asgi_transport(app: Any) -> httpx.ASGITransport:
    """An in-process transport to ``app`` that passes ``raw_path`` without the query string, as
    the ASGI spec and uvicorn do (httpx puts the query in it, which breaks signed requests)."""

    async def spec_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("raw_path"):
            scope = {**scope, "raw_path": bytes(scope["raw_path"]).split(b"?", 1)[0]}
        await app(scope, receive, send)

    return httpx.ASGITransport(app=spec_app)
