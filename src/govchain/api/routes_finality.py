"""Finality routes: attestations, finality certificates and raw blocks for catch-up."""

from __future__ import annotations

from typing import Any

from govchain.node.runtime import Node

__all__ = ["finality_routes"]


def finality_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    return []
