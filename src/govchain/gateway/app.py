"""The gateway's HTTP API (Litestar) and how it is run (uvicorn).

Routes::

    POST /v1/fetch      a signed FetchRequest -> FetchAnswer (sealed envelope, owner's receipt)
    POST /v1/receipts   a signed CountersignRequest -> CountersignAnswer (each receipt's fate)
    GET  /v1/health     the gateway's organisation, key, resources and receipt counts

Errors are RFC 7807 problem documents with a stable ``code``, as on the node's API.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get, post

from govchain.api.auth import CHALLENGE, is_auth_challenge
from govchain.client.sdk import Client
from govchain.crypto.request_signing import compute_canonical_target
from govchain.crypto.signing import KeyPair
from govchain.errors import ConfigError, GovchainError
from govchain.gateway.anchor import ReceiptAnchorer, anchored_height_of, submit_to_chain
from govchain.gateway.chain import ChainView
from govchain.gateway.config import GatewayConfig
from govchain.gateway.datasource import DataSource
from govchain.gateway.journal import ReceiptJournal
from govchain.gateway.protocol import FETCH_PATH, RECEIPTS_PATH, CountersignAnswer, FetchAnswer
from govchain.gateway.service import GatewayService, SignedCall

__all__ = ["build_service", "create_gateway_app", "serve_gateway"]

log = logging.getLogger("govchain.gateway")
PROBLEM = "application/problem+json"
MAX_BODY = 1024 * 1024


def _problem(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    headers: dict[str, str] = {}
    if isinstance(exc, GovchainError):
        body, status = exc.to_problem(request.url.path), exc.status
        if is_auth_challenge(exc):
            headers["WWW-Authenticate"] = CHALLENGE
    elif (status_code := getattr(exc, "status_code", None)) is not None and status_code < 500:
        status = int(status_code)
        body = {
            "type": "about:blank",
            "title": "Bad request",
            "status": status,
            "code": "BAD_REQUEST" if status == 400 else f"HTTP_{status}",
            "detail": str(getattr(exc, "detail", exc)),
            "hint": "POST /v1/fetch and /v1/receipts take signed JSON bodies.",
        }
    else:
        # the type and where it was raised, never the message: it could quote a value
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        place = f"{where.filename}:{where.lineno}" if where else "?"
        log.error("unhandled %s on %s at %s", type(exc).__name__, request.url.path, place)
        body, status = GovchainError("internal error").to_problem(), 500
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


async def _signed_call(request: Request[Any, Any, Any]) -> SignedCall:
    body = await request.body()
    raw_path = request.scope.get("raw_path")
    path = bytes(raw_path).decode("latin-1") if raw_path else request.url.path
    query = bytes(request.scope.get("query_string", b"")).decode("latin-1")
    return SignedCall(
        request.headers.get("authorization"),
        request.method,
        compute_canonical_target(path, query),
        body,
    )


def create_gateway_app(service: GatewayService, *, manage: bool = True) -> Litestar:
    """The Litestar app; with ``manage`` it starts and stops the head follower and anchorer."""

    @post(FETCH_PATH, status_code=200, summary="Fetch granted fields (sealed) and a receipt")
    async def fetch(request: Request[Any, Any, Any]) -> FetchAnswer:
        call = await _signed_call(request)
        return await asyncio.to_thread(service.fetch, call)

    @post(RECEIPTS_PATH, status_code=200, summary="Return counter-signed access receipts")
    async def receipts(request: Request[Any, Any, Any]) -> CountersignAnswer:
        call = await _signed_call(request)
        return await asyncio.to_thread(service.countersign, call)

    @get("/v1/health", summary="The gateway's organisation, resources and receipt counts")
    async def health() -> dict[str, Any]:
        return await asyncio.to_thread(service.health)

    def startup() -> None:
        service.chain.start()
        if service.anchorer is not None:
            service.anchorer.start()

    def shutdown() -> None:
        if service.anchorer is not None:
            service.anchorer.stop()
        service.chain.stop()

    return Litestar(
        route_handlers=[fetch, receipts, health],
        exception_handlers={Exception: _problem},
        on_startup=[startup] if manage else [],
        on_shutdown=[shutdown] if manage else [],
        request_max_body_size=MAX_BODY,
        openapi_config=None,
    )


def build_service(config: GatewayConfig, key: KeyPair) -> GatewayService:
    """Wire a gateway from its configuration: its organisation comes from the chain (the key
    must be an active member key of the organisation that owns the resources)."""
    client = Client(config.node, key=key)
    chain = ChainView(client, cache_ms=config.cache_ms)
    holder = chain.key_holder(key.public_key)
    identity = holder.identity if holder is not None else None
    if identity is None or identity.kind not in ("member", "node") or not identity.org:
        raise ConfigError(
            f"the gateway key {key.public_key.hex()} is not a member key of an organisation",
            hint="Enrol the key as a member of the owning organisation (`govchain member add`).",
        )
    data = DataSource(config.db, config.resources)
    data.check()
    journal = ReceiptJournal(Path(config.journal))
    anchorer = ReceiptAnchorer(
        journal,
        submit_to_chain(client, key),
        anchored_height_of(client),
        batch_size=config.batch_size,
        flush_ms=config.flush_ms,
        on_anchored=chain.note_height,
    )
    return GatewayService(config, key, identity.org, chain, data, journal, anchorer)


async def serve_gateway(service: GatewayService, host: str, port: int) -> None:
    """Serve until interrupted; receipts ready at shutdown are anchored first."""
    import uvicorn

    app = create_gateway_app(service)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        service.journal.close()
        service.data.close()
