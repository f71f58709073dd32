"""The HTTP API (Litestar): routes, DTOs and error mapping; no ledger logic lives here.

Errors are RFC 7807 problem documents (``application/problem+json``) with a stable ``code`` and
a ``hint``. The OpenAPI document is served at ``/schema/openapi.json``.

Every route declares its access level (``opt={"access": ...}``, see :mod:`govchain.api.auth`):
public — status, organisations, contracts, the OpenAPI document, transaction submission (writes
are authenticated by their own signatures), notary look-ups and metrics; member — blocks, state,
events and queries; self — a transaction's fate, also readable by its sender and co-signers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import govchain
from govchain.api.auth import (
    CHALLENGE,
    MEMBER,
    PUBLIC,
    SECURITY_SCHEME,
    SELF,
    SIGNED,
    Authenticator,
    AuthMiddleware,
    Principal,
    get_principal,
    is_auth_challenge,
)
from govchain.api.dto import (
    BatchSubmitRequest,
    BatchSubmitResponse,
    BlockView,
    ContractInfo,
    MethodInfo,
    NotaryView,
    StateView,
    StatusView,
    SubmitItem,
    SubmitRequest,
    TxView,
)
from govchain.api.routes_certs import cert_routes, state_view
from govchain.api.routes_console import console_routes, console_template_config
from govchain.api.routes_finality import finality_routes
from govchain.api.routes_health import health_routes
from govchain.api.routes_identity import identity_routes
from govchain.api.routes_services import service_routes
from govchain.api.routes_sharing import sharing_routes
from govchain.api.stream import StreamFilter, block_messages
from govchain.api.views import (
    block_header_view,
    finality_view,
    proof_view,
    receipt_view,
    tx_json,
)
from govchain.contracts.notary import notary_state_key
from govchain.encoding import decode, to_builtins
from govchain.errors import (
    AuthForbidden,
    AuthRequired,
    AuthThrottled,
    BadRequest,
    GovchainError,
    MempoolFull,
    NotFound,
)
from govchain.merkle import rfc6962
from govchain.node.runtime import Node, SubmitResult
from govchain.types import Receipt, SignedTx
from govchain.types.finality import CertificateNotFound

__all__ = ["create_app"]

log = logging.getLogger("govchain.api")
PROBLEM = "application/problem+json"
_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
MAX_BATCH = 10_000
MAX_WAIT_S = 30.0
MAX_BODY = 64 * 1024 * 1024


def _unhex(value: str, what: str, size: int | None = None) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise BadRequest(f"{what} must be hex", hint=f"Pass the {what} as lowercase hex.") from None
    if size is not None and len(raw) != size:
        raise BadRequest(f"{what} must be {size} bytes ({2 * size} hex digits)")
    return raw


def _unbase64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(
            "tx must be base64 of the encoded signed transaction",
            hint="Use the SDK or `govchain tx` to build transactions.",
        ) from None


def _problem(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, GovchainError):
        body, status = exc.to_problem(request.url.path), exc.status
        headers = {"Retry-After": "1"} if isinstance(exc, MempoolFull | AuthThrottled) else {}
        if is_auth_challenge(exc):
            headers["WWW-Authenticate"] = CHALLENGE
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        body = {
            "type": "about:blank",
            "title": exc.detail,
            "status": status,
            "code": _HTTP_CODES.get(status, "HTTP_" + str(status)),
            "detail": str(exc.extra or exc.detail),
            "hint": "See the OpenAPI document at /schema for the expected request.",
        }
        headers = {}
    else:
        log.exception("unhandled error on %s", request.url.path)
        body, status, headers = GovchainError("internal error").to_problem(), 500, {}
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _submit_item(result: SubmitResult) -> SubmitItem:
    tx_id = result.tx_id.hex() if result.tx_id else None
    if result.error is None:
        return SubmitItem(tx_id, "pending")
    return SubmitItem(tx_id, "rejected", result.error.to_problem())


def _authorize_tx_reader(
    principal: Principal | None, tid: bytes, signers: frozenset[bytes]
) -> None:
    """Members read every transaction; anyone else only those their key signed."""
    if principal is None:
        raise AuthRequired(f"reading transaction {tid.hex()} needs authentication")
    if principal.is_org_member or principal.public_key in signers:
        return
    who = principal.identity or f"key {principal.public_key.hex()}"
    raise AuthForbidden(
        f"{who} neither signed transaction {tid.hex()} nor is a member of an organisation",
        hint="Read it with the key that sent or co-signed it, or as a member of an organisation.",
    )


def create_app(node: Node) -> Litestar:
    app_ = node.app
    authenticator = Authenticator(
        app_,
        window_ms=node.config.auth_window_ms,
        nonce_capacity=node.config.auth_nonce_capacity,
    )

    @get("/v1/status", summary="Chain status: height, last block hash, state root", opt=PUBLIC)
    async def status() -> StatusView:
        meta = app_.info()
        header = app_.get_header(meta.height)
        return StatusView(
            node.genesis.chain_id,
            node.config.node_id,
            govchain.__version__,
            meta.height,
            meta.block_hash.hex(),
            meta.state_root.hex(),
            app_.genesis_hash.hex(),
            header.time_ms,
            len(node.mempool),
            node.mempool.size_bytes,
            int(time.time() - node.started_at),
        )

    @post("/v1/txs", status_code=202, summary="Submit one signed transaction", opt=PUBLIC)
    async def submit(data: JSONBody[SubmitRequest]) -> SubmitItem:
        result = (await node.submit([_unbase64(data.tx)]))[0]
        if result.error is not None:
            raise result.error
        return _submit_item(result)

    @post(
        "/v1/txs/batch",
        status_code=200,
        summary="Submit many signed transactions; each is admitted or rejected on its own",
        opt=PUBLIC,
    )
    async def submit_batch(data: JSONBody[BatchSubmitRequest]) -> BatchSubmitResponse:
        if not data.txs:
            raise BadRequest("txs is empty")
        if len(data.txs) > MAX_BATCH:
            raise BadRequest(f"at most {MAX_BATCH} transactions per batch")
        results = await node.submit([_unbase64(t) for t in data.txs])
        items = [_submit_item(r) for r in results]
        rejected = sum(1 for i in items if i.error is not None)
        return BatchSubmitResponse(len(items) - rejected, rejected, items)

    @get(
        "/v1/txs/{tx_id:str}",
        summary="A transaction's fate, receipt and inclusion proofs",
        description="For members of organisations, and for the transaction's sender and "
        "co-signers (a citizen or enterprise follows its own transactions).",
        opt=SELF,
        security=SIGNED,
    )
    async def get_tx(
        request: Request[Any, Any, Any], tx_id: FromPath[str], wait_ms: FromQuery[int] = 0
    ) -> TxView:
        tid = _unhex(tx_id, "tx_id", 32)
        if wait_ms > 0:
            await node.wait_for(tid, min(wait_ms / 1000, MAX_WAIT_S))
        return await asyncio.to_thread(_tx_view, tid, get_principal(request))

    def _tx_view(tid: bytes, principal: Principal | None) -> TxView:
        loc = node.store.get_tx_location(tid)
        if loc is None:
            if (err := node.events.rejected(tid)) is not None:
                # nothing of it is on the ledger: any authenticated caller may learn why
                return TxView(tid.hex(), "rejected", error=err.to_problem())
            if (pending := node.mempool.pending_ids.get(tid)) is not None:
                _authorize_tx_reader(principal, tid, pending.signers)
                return TxView(tid.hex(), "pending")
            raise NotFound(
                f"transaction {tid.hex()} is unknown to this node",
                hint="Submit it, or check the id (GET /v1/txs/{id}).",
            )
        block = app_.get_block(loc.height)
        receipts = node.store.get_receipts(loc.height) or []
        raw, receipt_raw = block.txs[loc.index], receipts[loc.index]
        signed = decode(raw, SignedTx)
        _authorize_tx_reader(principal, tid, frozenset(s.public_key for s in signed.signatures))
        return TxView(
            tid.hex(),
            "committed",
            loc.height,
            loc.index,
            tx_json(raw),
            receipt_view(decode(receipt_raw, Receipt)),
            None,
            block_header_view(block),
            raw.hex(),
            receipt_raw.hex(),
            proof_view(rfc6962.build_inclusion_proof(block.txs, loc.index)),
            proof_view(rfc6962.build_inclusion_proof(receipts, loc.index)),
            finality_view(node.store.get_finality_certificate(loc.height)),
        )

    def _block_view(height: int, full: bool) -> BlockView:
        block = app_.get_block(height)
        receipts = [decode(r, Receipt) for r in node.store.get_receipts(height) or []]
        tx_ids = [r.tx_hash.hex() for r in receipts]
        failed = [r.tx_hash.hex() for r in receipts if not r.ok]
        if not full:
            return BlockView(block_header_view(block), tx_ids, failed)
        return BlockView(
            block_header_view(block),
            tx_ids,
            failed,
            [tx_json(t) for t in block.txs],
            [receipt_view(r) for r in receipts],
        )

    @get("/v1/blocks/latest", summary="The last committed block", opt=MEMBER, security=SIGNED)
    async def latest_block(full: FromQuery[bool] = False) -> BlockView:
        return await asyncio.to_thread(_block_view, app_.info().height, full)

    @get("/v1/blocks/{height:int}", summary="A block by height", opt=MEMBER, security=SIGNED)
    async def block_by_height(height: FromPath[int], full: FromQuery[bool] = False) -> BlockView:
        return await asyncio.to_thread(_block_view, height, full)

    @get("/v1/blocks/hash/{block_hash:str}", summary="A block by hash", opt=MEMBER, security=SIGNED)
    async def block_by_hash(block_hash: FromPath[str], full: FromQuery[bool] = False) -> BlockView:
        height = node.store.get_height_by_hash(_unhex(block_hash, "block hash", 32))
        if height is None:
            raise NotFound(f"no block with hash {block_hash}")
        return await asyncio.to_thread(_block_view, height, full)

    def _state_view(key: bytes, height: int | None) -> StateView:
        return state_view(app_, app_.prove_state(key, height))

    def _read_height(height: int | None, final: bool) -> int | None:
        """The height a state read answers at: ``height``, or with ``final`` the latest
        finalized one (whose finality certificate the answer carries)."""
        if not final:
            return height
        if height is not None:
            raise BadRequest("give either height or final=true, not both")
        finalized = node.store.get_finalized_height()
        if finalized < 0:
            raise CertificateNotFound("no block of this chain is final yet")
        return finalized

    @get(
        "/v1/state/{key:str}",
        summary="A state key's value, or its absence, with a proof against a block's state root",
        description="At the latest height, at `height`, or with `final=true` at the latest "
        "finalized height. `finality` is the block's finality certificate (hex of its canonical "
        "encoding) when the node has one. Errors: FINALITY_NOT_FOUND (404) with `final=true` "
        "while no block is final.",
        opt=MEMBER,
        security=SIGNED,
    )
    async def state(
        key: FromPath[str], height: FromQuery[int | None] = None, final: FromQuery[bool] = False
    ) -> StateView:
        return await asyncio.to_thread(_state_view, _unhex(key, "key"), _read_height(height, final))

    @get(
        "/v1/notary/{doc_hash:str}",
        summary="A document's anchor with its state proof",
        description="Public: verifying a document is a public service. `height` and `final` "
        "as for `GET /v1/state/{key}`.",
        opt=PUBLIC,
    )
    async def notary(
        doc_hash: FromPath[str],
        height: FromQuery[int | None] = None,
        final: FromQuery[bool] = False,
    ) -> NotaryView:
        h = _unhex(doc_hash, "document hash", 32)
        height = _read_height(height, final)
        record = await asyncio.to_thread(app_.query, "notary", "get", {"hash": h}, height)
        view = await asyncio.to_thread(_state_view, notary_state_key(h), height)
        return NotaryView(to_builtins(record), view)

    @get("/v1/orgs", summary="The organisations of this chain", opt=PUBLIC)
    async def orgs() -> list[dict[str, Any]]:
        return to_builtins(app_.query("identity", "orgs", {}))  # type: ignore[no-any-return]

    @get(
        "/v1/contracts",
        summary="The system contracts with their methods and argument schemas",
        opt=PUBLIC,
    )
    async def contracts() -> list[ContractInfo]:
        return [
            ContractInfo(
                c.name,
                c.description,
                [
                    MethodInfo(m.name, m.doc, msgspec.json.schema(m.args_type))
                    for m in c.methods.values()
                ],
                [
                    MethodInfo(v.name, v.doc, msgspec.json.schema(v.args_type))
                    for v in c.views.values()
                ],
            )
            for c in app_.registry
        ]

    @post(
        "/v1/query/{contract:str}/{view:str}",
        status_code=200,
        summary="Run a contract's read-only view (bytes arguments as hex)",
        opt=MEMBER,
        security=SIGNED,
    )
    async def query(
        contract: FromPath[str],
        view: FromPath[str],
        data: JSONBody[dict[str, Any]],
        height: FromQuery[int | None] = None,
    ) -> Any:
        args = {
            k: bytes.fromhex(v[4:]) if isinstance(v, str) and v.startswith("hex:") else v
            for k, v in data.items()
        }
        return to_builtins(await asyncio.to_thread(app_.query, contract, view, args, height))

    @get(
        "/v1/events",
        summary="Server-sent events: committed blocks, their transactions and contract events",
        description="One `block` event per committed block (its `id` is the height, sent last "
        "for the block, so reconnecting with `Last-Event-ID` resumes after the last complete "
        "block). With `txs=true` a `tx` event per transaction (id, ok, code), with "
        "`events=true` an `event` per contract event, optionally only those of `contract`.",
        opt=MEMBER,
        security=SIGNED,
    )
    async def events(
        request: Request[Any, Any, Any],
        from_height: FromQuery[int | None] = None,
        full: FromQuery[bool] = False,
        txs: FromQuery[bool] = False,
        events: FromQuery[bool] = False,
        contract: FromQuery[str | None] = None,
    ) -> ServerSentEvent:
        last_id = request.headers.get("last-event-id")
        start = int(last_id) + 1 if last_id and last_id.isdigit() else from_height
        if start is None:
            start = app_.info().height + 1
        wanted = StreamFilter(full=full, txs=txs, events=events, contract=contract)
        return ServerSentEvent(_event_stream(max(start, 0), wanted))

    async def _event_stream(
        start: int, wanted: StreamFilter
    ) -> AsyncIterator[ServerSentEventMessage]:
        queue = node.events.subscribe()
        try:
            next_height = start
            while True:
                while next_height <= node.events.height:
                    view = await asyncio.to_thread(_block_view, next_height, wanted.needs_full_view)
                    for message in block_messages(view, wanted):
                        yield message
                    next_height += 1
                try:
                    await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive")
        finally:
            node.events.unsubscribe(queue)

    @get("/metrics", summary="Prometheus metrics", include_in_schema=False, opt=PUBLIC)
    async def metrics() -> Response[bytes]:
        return Response(generate_latest(node.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Litestar(
        route_handlers=[
            status,
            submit,
            submit_batch,
            get_tx,
            latest_block,
            block_by_height,
            block_by_hash,
            state,
            notary,
            orgs,
            contracts,
            query,
            events,
            metrics,
            *identity_routes(node),
            *cert_routes(node),
            *finality_routes(node),
            *sharing_routes(node),
            *service_routes(node),
            *health_routes(node),
            *console_routes(node),
        ],
        exception_handlers={Exception: _problem},
        middleware=[
            DefineMiddleware(AuthMiddleware, authenticator=authenticator, max_body=MAX_BODY)
        ],
        openapi_config=OpenAPIConfig(
            title="govchain node API",
            version=govchain.__version__,
            components=Components(
                security_schemes={
                    SECURITY_SCHEME: SecurityScheme(
                        type="apiKey",
                        name="Authorization",
                        security_scheme_in="header",
                        description="Govchain-Ed25519 signed request (docs/adr/0004): "
                        "key=<hex>, ts=<unix ms>, nonce=<hex>, sig=<hex>; the SDK and CLI sign.",
                    )
                }
            ),
            description="Submit signed transactions, read blocks, "
            "transactions and state with proofs, follow the chain.",
        ),
        request_max_body_size=MAX_BODY,
        template_config=console_template_config(),
        debug=False,
        logging_config=None,
    )
