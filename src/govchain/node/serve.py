"""Run a node with its HTTP API until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvicorn

from govchain.errors import ConfigError, GovchainError
from govchain.node.runtime import Node
from govchain.node.sync import catch_up, get_peer_tls

__all__ = ["serve_node"]

log = logging.getLogger("govchain.node")


async def serve_node(
    network_dir: Path,
    node_id: str = "node0",
    *,
    host: str | None = None,
    port: int | None = None,
    on_ready: Callable[[Node], Awaitable[None]] | None = None,
) -> None:
    from govchain.api import create_app

    node = Node(network_dir, node_id)
    logging.basicConfig(
        level=node.config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if _is_joining(node):
        await _catch_up_first(node)
        node = Node(network_dir, node_id)  # its orderer follows the log after what it fetched
    app = create_app(node)
    config = uvicorn.Config(
        app,
        host=host or node.config.host,
        port=port or node.config.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        **_tls_options(node),
    )
    server = uvicorn.Server(config)
    _let_node_stop_on_sigterm()
    await node.start()
    try:
        serve = asyncio.create_task(server.serve())
        if on_ready is not None:
            while not server.started and not serve.done():
                await asyncio.sleep(0.05)
            if server.started:
                await on_ready(node)
        await serve
    finally:
        await node.stop()


def _is_joining(node: Node) -> bool:
    """A multi-node peer that is not a founding peer (a node governance added) and starts with
    an empty ledger. A node that claims a founding peer's id with another key is refused: every
    peer would halt at its first batch."""
    founding = {n.id: n.public_key for n in node.genesis.nodes}
    own_key = node.key.public_key.hex()
    if founding.get(node.config.node_id, own_key) != own_key:
        raise ConfigError(
            f"node id {node.config.node_id!r} is a founding peer's, but {node.dir}/node.key is "
            "not that peer's key",
            hint="Give a new organisation's peer an id of its own (nodes/<id>/).",
        )
    return (
        node.peer is not None
        and bool(node.config.peers)
        and node.config.node_id not in founding
        and node.app.info().height == 0
    )


async def _catch_up_first(node: Node) -> None:
    """Fetch, verify and commit the certified blocks from the other peers' stores (blocks are
    certified by the founding peers, see :func:`govchain.node.sync.catch_up`); the node then
    follows the ordering log from the next sequence. If no peer can serve them (e.g. this node
    is not yet on chain, so its requests are refused), it reads the log from the start."""
    try:
        verify = get_peer_tls(node.config.tls, node.dir)
        height = await catch_up(node, node.config.peers, verify=verify)
        log.info("caught up to block %d from the other peers' block stores", height)
    except GovchainError as exc:
        log.warning("catching up from the other peers failed (%s); reading the log", exc.message)
    finally:
        await node.stop()


def _tls_options(node: Node) -> dict[str, Any]:
    """uvicorn's TLS options from the node config (paths relative to the node directory)."""
    tls = node.config.tls
    if tls is None:
        return {}
    options: dict[str, Any] = {
        "ssl_certfile": str(node.dir / tls.cert_file),
        "ssl_keyfile": str(node.dir / tls.key_file),
    }
    if tls.ca_file is not None:
        options["ssl_ca_certs"] = str(node.dir / tls.ca_file)
    if tls.require_client_cert:
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
    return options


def _let_node_stop_on_sigterm() -> None:
    """uvicorn catches SIGTERM while it serves, shuts down, then raises the signal again under
    the handler that was there before; with Python's default one the process would end there,
    before the node closes its orderer, journal and store. Ignoring that second delivery lets
    ``serve_node`` finish its ``finally``."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
