"""Finality routes: finality certificates, the finality status, and raw blocks for catch-up.

``GET /v1/blocks/{height}/finality`` and ``GET /v1/finality`` are public, like ``/v1/status``:
a certificate holds block hashes, state roots and the founding peers' signatures, nothing
personal, and verifiers must be able to check it with only the genesis. ``GET /v1/sync/blocks``
serves whole encoded blocks, transactions included, so it is for members like the other block
routes: a peer catching up signs its requests with its node key.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.params import FromPath, QueryParameter

from govchain.api.auth import MEMBER, PUBLIC, SIGNED
from govchain.encoding import encode
from govchain.errors import BadRequest, NotFound
from govchain.node.finality import Divergence, FinalityTracker
from govchain.node.runtime import Node
from govchain.types.finality import (
    CertificateNotFound,
    FinalityCertificate,
    compute_quorum,
    founding_peer_keys,
)

__all__ = [
    "MAX_SYNC_BLOCKS",
    "MAX_SYNC_BYTES",
    "CertificateView",
    "DivergenceView",
    "FinalityStatusView",
    "SignatureView",
    "SyncBlock",
    "SyncBlocksView",
    "certificate_view",
    "finality_routes",
    "get_tracker",
]

MAX_SYNC_BLOCKS = 256  # blocks per /v1/sync/blocks answer
MAX_SYNC_BYTES = 8 * 1024 * 1024  # encoded bytes per answer (at least one block is sent)


class SignatureView(msgspec.Struct):
    node_id: str
    public_key: str
    signature: str


class CertificateView(msgspec.Struct):
    chain_id: str
    height: int
    block_hash: str
    state_root: str
    signatures: list[SignatureView]
    quorum: int  # signatures needed: more than two thirds of the founding peers
    peers: int  # founding peers
    raw: str  # hex of the canonical encoding: what a verifier decodes and checks


class DivergenceView(msgspec.Struct):
    height: int
    local_block_hash: str
    local_state_root: str
    quorum_block_hash: str
    quorum_state_root: str
    signers: list[str]


class FinalityStatusView(msgspec.Struct):
    chain_id: str
    node_id: str
    height: int  # this node's last committed block
    finalized_height: int  # the highest block with a stored certificate (-1: none yet)
    founding_peers: list[str]
    quorum: int
    latest: CertificateView | None
    divergence: DivergenceView | None  # this peer committed another state than the quorum
    tracking: bool  # whether this node exchanges attestations (multi-node)


class SyncBlock(msgspec.Struct):
    height: int
    block: bytes  # the encoded Block (base64 in JSON)
    certificate: bytes | None = None  # the encoded FinalityCertificate, when stored


class SyncBlocksView(msgspec.Struct):
    chain_id: str
    height: int  # the serving node's last committed block
    finalized_height: int
    blocks: list[SyncBlock]


def get_tracker(node: Any) -> FinalityTracker | None:
    """The node's finality tracker: ``node.finality``, or the multi-node peer's; None on a node
    that does not exchange attestations."""
    tracker = getattr(node, "finality", None)
    if tracker is None:
        tracker = getattr(getattr(node, "peer", None), "tracker", None)
    return tracker if isinstance(tracker, FinalityTracker) else None


def certificate_view(cert: FinalityCertificate, peers: int) -> CertificateView:
    return CertificateView(
        cert.chain_id,
        cert.height,
        cert.block_hash.hex(),
        cert.state_root.hex(),
        [SignatureView(n, k.hex(), s.hex()) for n, k, s in cert.signatures],
        compute_quorum(peers),
        peers,
        encode(cert).hex(),
    )


def _divergence_view(d: Divergence | None) -> DivergenceView | None:
    if d is None:
        return None
    return DivergenceView(
        d.height,
        d.local_block_hash.hex(),
        d.local_state_root.hex(),
        d.quorum_block_hash.hex(),
        d.quorum_state_root.hex(),
        list(d.signers),
    )


def finality_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    store = node.store
    peers = founding_peer_keys(node.genesis)

    def _certificate(height: int) -> CertificateView:
        cert = store.get_finality_certificate(height)
        if cert is None:
            if store.get_block_hash(height) is None:
                raise NotFound(f"no block at height {height}", height=height)
            raise CertificateNotFound(
                f"block {height} has no finality certificate yet", height=height
            )
        return certificate_view(cert, len(peers))

    @get(
        "/v1/blocks/{height:int}/finality",
        summary="A block's finality certificate: a quorum of the founding peers' signatures",
        description="Verify it with the genesis alone: `raw` decodes to the certificate; see "
        "docs/finality.md.",
        opt=PUBLIC,
    )
    async def block_finality(height: FromPath[int]) -> CertificateView:
        return await asyncio.to_thread(_certificate, height)

    def _status() -> FinalityStatusView:
        tracker = get_tracker(node)
        meta = node.app.info()
        finalized = store.get_finalized_height()
        latest = store.get_finality_certificate(finalized) if finalized >= 0 else None
        return FinalityStatusView(
            node.genesis.chain_id,
            node.config.node_id,
            meta.height,
            finalized,
            sorted(peers),
            compute_quorum(len(peers)),
            certificate_view(latest, len(peers)) if latest is not None else None,
            _divergence_view(tracker.divergence if tracker is not None else None),
            tracker is not None,
        )

    @get(
        "/v1/finality",
        summary="Finalized height, latest finality certificate, and divergence if any",
        opt=PUBLIC,
    )
    async def finality_status() -> FinalityStatusView:
        return await asyncio.to_thread(_status)

    def _sync(start: int, limit: int) -> SyncBlocksView:
        blocks: list[SyncBlock] = []
        size = 0
        for height, raw in store.iter_blocks(start, start + limit - 1):
            if blocks and size + len(raw) > MAX_SYNC_BYTES:
                break
            cert = store.get_finality_certificate(height)
            blocks.append(SyncBlock(height, raw, encode(cert) if cert is not None else None))
            size += len(raw)
        meta = node.app.info()
        return SyncBlocksView(
            node.genesis.chain_id, meta.height, store.get_finalized_height(), blocks
        )

    @get(
        "/v1/sync/blocks",
        summary="Encoded blocks with their finality certificates, for a peer catching up",
        description=f"Blocks from height `from`, at most `limit` (≤ {MAX_SYNC_BLOCKS}) and about "
        f"{MAX_SYNC_BYTES // (1024 * 1024)} MiB; `block` and `certificate` are base64 of the "
        "canonical encodings. The receiver verifies and re-executes everything.",
        opt=MEMBER,
        security=SIGNED,
    )
    async def sync_blocks(
        from_: Annotated[int, QueryParameter(name="from", ge=0)],
        limit: Annotated[int, QueryParameter(ge=1)] = 64,
    ) -> SyncBlocksView:
        if limit > MAX_SYNC_BLOCKS:
            raise BadRequest(f"limit must be at most {MAX_SYNC_BLOCKS}", limit=limit)
        return await asyncio.to_thread(_sync, from_, limit)

    return [block_finality, finality_status, sync_blocks]
