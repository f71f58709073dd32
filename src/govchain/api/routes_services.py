"""Cross-department service routes: definitions, instances, the paperwork report."""

from __future__ import annotations

from typing import Any

from govchain.node.runtime import Node

__all__ = ["service_routes"]


def service_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    return []
