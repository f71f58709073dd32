"""Run a node with its HTTP API until interrupted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

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
    )
    server = uvicorn.Server(config)
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
