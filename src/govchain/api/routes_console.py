"""The web console: HTML pages over the node's own state."""

from __future__ import annotations

from typing import Any

from govchain.node.runtime import Node

__all__ = ["console_routes"]


def console_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    return []
