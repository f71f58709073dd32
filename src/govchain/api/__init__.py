"""The HTTP API."""

from govchain.api.server import create_app

__all__ = ["create_app"]
