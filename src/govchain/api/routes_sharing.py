"""Catalogue, sharing and data-access audit routes."""

from __future__ import annotations

from typing import Any

from govchain.node.runtime import Node

__all__ = ["sharing_routes"]


def sharing_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    return []
