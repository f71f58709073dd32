"""Epidemic-control routes: health-pass anchors and anonymised aggregates."""

from __future__ import annotations

from typing import Any

from govchain.node.runtime import Node

__all__ = ["health_routes"]


def health_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    return []
