"""Catch-up: a lagging or new peer fetches blocks from other peers, verifies and re-executes
every one of them, and commits them.

:func:`catch_up` asks the peers in turn (``GET /v1/sync/blocks``, signed with the node key) and
fails over to the next when one does not answer or serves something that does not check out.
Nothing a peer sends is trusted:

1. **Form and linkage** — the block decodes, is of this chain, has the next height, links to the
   previous block's hash, and its time does not go backwards.
2. **Trust basis** — a finality certificate of the genesis' founding peers, checked against the
   block's own hash and state root. A certificate at height *h* vouches for every block below
   it too (each header commits to its predecessor's hash), so blocks wait until a certificate
   covers them and are then committed together. On a chain with a single founding peer, the
   proposer's signature (by a registered node key) is the trust basis instead, as it is for
   clients; certificates are still checked when present.
3. **Re-execution** — the transactions are decoded and their signatures verified, the block is
   executed on the committed state, and the recomputed transaction, receipt and state roots must
   equal the header's (and so the certificate's). Only then is the block committed.

A block that fails is refused with :class:`SyncBlockRefused` naming the height, the reason and
the peer; the peer is dropped and the next one is tried. Run catch-up while the node does not
produce blocks (before :meth:`Node.start`, or with ordering paused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec

from govchain.app import Application, PendingBlock
from govchain.app.readers import StoreState
from govchain.client.auth import RequestSigner
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode
from govchain.errors import GovchainError, InvalidBlock, InvalidTransaction
from govchain.execution import (
    BlockEnv,
    Execution,
    decode_tx,
    replay_block,
    run_txs,
    seal_block,
    start_block,
    verify_tx_signatures,
)
from govchain.node.config import ApiTls
from govchain.types import (
    Block,
    BlockHeader,
    Genesis,
    SignedTx,
    compute_block_hash,
    compute_tx_id,
)
from govchain.types.finality import (
    FinalityCertificate,
    FinalityError,
    decode_certificate,
    founding_peer_keys,
    verify_certificate,
)

__all__ = [
    "DEFAULT_CHUNK",
    "SyncBlockRefused",
    "SyncError",
    "SyncTarget",
    "SyncUnavailable",
    "catch_up",
    "get_peer_tls",
]

log = logging.getLogger("govchain.node.sync")

DEFAULT_CHUNK = 256  # blocks asked per request (the most a peer serves at once)
MAX_UNCERTIFIED = 4096  # blocks held while waiting for a certificate that covers them
MAX_WAITING_BYTES = 256 * 1024 * 1024  # and their encoded size


class SyncError(GovchainError):
    code = "SYNC_FAILED"
    status = 502
    title = "Catch-up failed"
    default_hint = "Check the peers' URLs and that this node's key is registered on the chain."


class SyncBlockRefused(SyncError):
    code = "SYNC_BLOCK_REFUSED"
    title = "A peer served a block that does not check out"
    default_hint = (
        "The block was not committed and the next peer is tried; report the peer to its "
        "organisation's operator."
    )


class SyncUnavailable(SyncError):
    code = "SYNC_NO_PEER"
    title = "No peer could serve the blocks"
    default_hint = "Start or reach at least one other peer, then catch up again."


class SyncTarget(Protocol):
    """What catch-up needs of a node (:class:`govchain.node.runtime.Node` provides it)."""

    @property
    def app(self) -> Application: ...
    @property
    def genesis(self) -> Genesis: ...
    @property
    def key(self) -> KeyPair: ...


class _PageBlock(msgspec.Struct):
    height: int
    block: bytes
    certificate: bytes | None = None


class _Page(msgspec.Struct):
    """An answer of ``GET /v1/sync/blocks`` (see :mod:`govchain.api.routes_finality`)."""

    chain_id: str
    height: int
    finalized_height: int
    blocks: list[_PageBlock]


@dataclass(slots=True)
class _Received:
    block: Block
    block_hash: bytes
    certificate: FinalityCertificate | None


class _StoreGuard:
    """Replay protection for blocks replayed one after another: the store's transaction index."""

    def __init__(self, app: Application) -> None:
        self._store = app.store

    def is_committed(self, tx_id: bytes) -> bool:
        return self._store.get_tx_location(tx_id) is not None


def _refuse(height: int, reason: str, message: str) -> SyncBlockRefused:
    return SyncBlockRefused(f"block {height}: {message}", height=height, reason=reason)


class _Verifier:
    """Checks and applies the blocks one peer serves (state kept across its pages)."""

    def __init__(self, node: SyncTarget, strict: bool) -> None:
        self.app = node.app
        self.chain_id = node.genesis.chain_id
        self.peers = founding_peer_keys(node.genesis)
        self.strict = strict
        self.waiting: list[_Received] = []  # linked, not yet covered by a certificate
        self.waiting_bytes = 0
        self.tip = self.app.get_header(self.app.info().height)

    @property
    def last(self) -> BlockHeader:
        return self.waiting[-1].block.header if self.waiting else self.tip

    def take(self, item: _PageBlock) -> list[_Received]:
        """Check one served block; return the blocks it makes ready to apply, in order. A
        certificate makes its block and every block waiting before it ready; without strict
        mode, a signed block is ready on its own when none waits (its signature is checked when
        it is replayed, before anything after it)."""
        received = self._check_form(item)
        signed_alone = not self.strict and bool(received.block.proposer_signature)
        if received.certificate is None and not (signed_alone and not self.waiting):
            self._wait(received, len(item.block))
            return []
        ready, self.waiting, self.waiting_bytes = [*self.waiting, received], [], 0
        return ready

    def _wait(self, received: _Received, size: int) -> None:
        height = received.block.header.height
        if len(self.waiting) >= MAX_UNCERTIFIED or self.waiting_bytes + size > MAX_WAITING_BYTES:
            raise _refuse(
                height,
                "NO_CERTIFICATE",
                f"no finality certificate covers the {len(self.waiting)} blocks before it",
            )
        self.waiting.append(received)
        self.waiting_bytes += size

    def _check_form(self, item: _PageBlock) -> _Received:
        prev = self.last
        height = prev.height + 1
        if item.height != height:
            raise _refuse(height, "HEIGHT_GAP", f"the peer sent block {item.height} instead")
        try:
            block = decode(item.block, Block)
        except GovchainError as exc:
            raise _refuse(height, "UNDECODABLE", exc.message) from exc
        _check_linkage(prev, block.header, self.chain_id)
        block_hash = compute_block_hash(block.header)
        cert = None
        if item.certificate is not None:
            cert = self._check_certificate(item.certificate, block.header, block_hash)
        return _Received(block, block_hash, cert)

    def _check_certificate(
        self, raw: bytes, header: BlockHeader, block_hash: bytes
    ) -> FinalityCertificate:
        try:
            cert = decode_certificate(raw)
            verify_certificate(
                cert,
                self.chain_id,
                self.peers,
                height=header.height,
                block_hash=block_hash,
                state_root=header.state_root,
            )
        except FinalityError as exc:
            raise _refuse(header.height, exc.code, exc.message) from exc
        return cert

    def apply(self, received: _Received) -> list[bytes]:
        """Re-execute a covered block on the committed state and commit it (with its
        certificate, when it has one); return its transaction ids."""
        block = received.block
        prev = self.tip
        try:
            execution, nodes = _execute(self.app, prev, block)
        except InvalidBlock as exc:
            reason = str(exc.details.get("reason", exc.code))
            raise _refuse(block.header.height, reason, exc.message) from exc
        self.app.commit(PendingBlock(block, received.block_hash, execution, nodes))
        if received.certificate is not None:
            self.app.store.save_finality_certificate(received.certificate)
        self.tip = block.header
        return [tx.tx_id for tx in execution.included]


def _check_linkage(prev: BlockHeader, header: BlockHeader, chain_id: str) -> None:
    if header.chain_id != chain_id:
        raise _refuse(header.height, "CHAIN_ID_MISMATCH", f"it is of chain {header.chain_id!r}")
    if header.height != prev.height + 1:
        raise _refuse(prev.height + 1, "HEIGHT_GAP", f"the block says height {header.height}")
    if header.prev_hash != compute_block_hash(prev):
        raise _refuse(header.height, "PREV_HASH_MISMATCH", "it does not link to our last block")
    if header.time_ms < prev.time_ms:
        raise _refuse(header.height, "TIME_BACKWARDS", "its time goes backwards")


def _execute(
    app: Application, prev: BlockHeader, block: Block
) -> tuple[Execution, dict[bytes, bytes]]:
    """Re-execute ``block`` on the committed state; raise :class:`InvalidBlock` on a fault. A
    block with a proposer signature goes through :func:`replay_block` (which also checks that
    the signer is a registered node); an unsigned one — a peer that did not propose it stores it
    so — has its certificate as trust basis and is executed the same way without that check."""
    state = StoreState(app.store)
    guard = _StoreGuard(app)
    if block.proposer_signature:
        return replay_block(
            state, app.store, app.registry, app.genesis.params, prev, block, guard, app.sig_cache
        )
    h = block.header
    start = start_block(
        state,
        app.registry,
        BlockEnv(h.chain_id, h.height, h.time_ms, h.proposer, h.prev_hash, app.genesis.params),
    )
    try:
        checked = [decode_tx(raw, h.chain_id, start.env.params, app.registry) for raw in block.txs]
    except InvalidTransaction as exc:
        raise InvalidBlock(exc.message, height=h.height, reason=exc.code) from exc
    for err in verify_tx_signatures(checked, app.sig_cache):
        if err is not None:
            raise InvalidBlock(err.message, height=h.height, reason=err.code)
    execution = run_txs(start, app.registry, checked, guard)
    if execution.dropped:
        _, why = execution.dropped[0]
        raise InvalidBlock(why.message, height=h.height, reason=why.code)
    header, nodes = seal_block(start.env, h.prev_hash, prev.state_root, execution, app.store)
    for name in ("tx_count", "tx_root", "receipts_root", "state_root"):
        if getattr(header, name) != getattr(h, name):
            raise InvalidBlock(
                f"{name} does not match the recomputed value",
                height=h.height,
                reason=name.upper() + "_MISMATCH",
            )
    return execution, nodes


def get_peer_tls(tls: ApiTls | None, node_dir: Path) -> ssl.SSLContext | bool:
    """How a peer reaches the others over HTTPS: with its API's TLS settings it verifies them
    with their CA (``tls.ca_file``) and presents its own certificate (peers that demand client
    certificates accept it); without, through the system's trust store."""
    if tls is None:
        return True
    ca = None if tls.ca_file is None else str(node_dir / tls.ca_file)
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(node_dir / tls.cert_file, node_dir / tls.key_file)
    return context


async def _fetch(http: httpx.AsyncClient, url: str, start: int, limit: int) -> _Page:
    response = await http.get(
        url.rstrip("/") + "/v1/sync/blocks", params={"from": start, "limit": limit}
    )
    if response.status_code != 200:
        raise SyncError(f"{url} answered {response.status_code}: {response.text[:200]}")
    try:
        return msgspec.json.decode(response.content, type=_Page)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SyncError(f"{url} sent an unreadable answer: {exc}") from exc


async def catch_up(
    node: SyncTarget,
    peer_urls: Sequence[str],
    *,
    target_height: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = DEFAULT_CHUNK,
    require_certificates: bool | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
    verify: ssl.SSLContext | bool = True,
) -> int:
    """Fetch, verify, re-execute and commit blocks from ``peer_urls``; return the local height
    reached.

    With ``target_height``, peers are asked in turn until it is reached, and
    :class:`SyncUnavailable` is raised when none could serve it. Without, every peer is asked
    for what it has beyond the local height (:class:`SyncUnavailable` only when none answered).
    ``progress(height, peer_height)`` is called after each committed block. ``verify`` is how
    peers' HTTPS certificates are checked (:func:`get_peer_tls`).
    ``require_certificates`` (by default: when the genesis has more than one founding peer)
    commits only blocks a finality certificate covers. Each refusal is logged with its peer."""
    strict = len(founding_peer_keys(node.genesis)) > 1
    if require_certificates is not None:
        strict = require_certificates
    failures: list[dict[str, Any]] = []
    async with httpx.AsyncClient(
        transport=transport, timeout=timeout, auth=RequestSigner(node.key), verify=verify
    ) as http:
        for url in peer_urls:
            try:
                await _sync_from(node, http, url, strict, target_height, progress, chunk)
            except (SyncError, httpx.HTTPError) as exc:
                failures.append(_failure(url, exc))
                log.warning("catch-up from %s stopped: %s", url, failures[-1]["message"])
                continue
            if target_height is not None and node.app.info().height >= target_height:
                break
    height = node.app.info().height
    unreached = target_height is not None and height < target_height
    if unreached or len(failures) == len(peer_urls):
        said = "; ".join(f"{f['peer']}: {f['message']}" for f in failures) or "no peers given"
        raise SyncUnavailable(
            f"caught up to block {height}"
            + (f" of {target_height}" if target_height is not None else "")
            + f"; {said}",
            height=height,
            target=target_height,
            failures=failures,
        )
    return height


def _failure(url: str, exc: Exception) -> dict[str, Any]:
    """What went wrong with one peer, for the log and :class:`SyncUnavailable`'s details."""
    if isinstance(exc, GovchainError):
        out: dict[str, Any] = {"peer": url, "code": exc.code, "message": exc.message}
        out.update((k, exc.details[k]) for k in ("height", "reason") if k in exc.details)
        return out
    return {"peer": url, "code": "UNREACHABLE", "message": f"{type(exc).__name__}: {exc}"}


async def _sync_from(
    node: SyncTarget,
    http: httpx.AsyncClient,
    url: str,
    strict: bool,
    target: int | None,
    progress: Callable[[int, int], None] | None,
    chunk: int,
) -> None:
    """Apply what one peer serves, until the target, or until it has nothing more. The next
    page is fetched while the current one is verified and applied (a page that does not check
    out stops this peer, and the page fetched ahead is dropped unread)."""
    verifier = _Verifier(node, strict)

    def fetch(start: int) -> tuple[int, asyncio.Task[_Page]] | None:
        if target is not None and verifier.tip.height >= target:
            return None
        limit = chunk if target is None or start > target else min(chunk, target - start + 1)
        return start, asyncio.ensure_future(_fetch(http, url, start, limit))

    ahead = fetch(verifier.last.height + 1)
    try:
        while ahead is not None:
            start = verifier.last.height + 1
            (fetched_from, task), ahead = ahead, None
            if fetched_from != start:  # the last page was not used up: ask again from here
                await _drop(task)
                ahead = fetch(start)
                continue
            page = await task
            if page.chain_id != verifier.chain_id:
                raise _refuse(start, "CHAIN_ID_MISMATCH", f"{url} serves chain {page.chain_id!r}")
            if not page.blocks:
                return
            ahead = fetch(page.blocks[-1].height + 1)
            for item in page.blocks:
                ready = verifier.take(item)
                for received in ready:
                    tx_ids = await asyncio.to_thread(verifier.apply, received)
                    _announce(node, received.block, tx_ids)
                    if progress is not None:
                        progress(received.block.header.height, max(page.height, target or 0))
                if target is not None and verifier.last.height >= target:
                    break
            if target is not None and verifier.tip.height >= target:
                return
    finally:
        if ahead is not None:
            await _drop(ahead[1])


async def _drop(task: asyncio.Task[_Page]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _announce(node: SyncTarget, block: Block, tx_ids: list[bytes] | None = None) -> None:
    """Tell a running node's subscribers and metrics about a block caught up (if it has them)."""
    events = getattr(node, "events", None)
    if events is not None:
        if tx_ids is None:
            tx_ids = [compute_tx_id(decode(raw, SignedTx).body) for raw in block.txs]
        events.publish_block(block.header.height, tx_ids, [])
    metrics = getattr(node, "metrics", None)
    if metrics is not None:
        metrics.height.set(block.header.height)
