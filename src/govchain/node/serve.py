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

from govchain.node.runtime import Node

__all__ = ["serve_node"]


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
