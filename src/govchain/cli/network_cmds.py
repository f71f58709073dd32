"""`govchain network`: Run a multi-node network on etcd: up, status, down, and one peer."""

from __future__ import annotations

import click

__all__ = ["network"]


@click.group()
def network() -> None:
    """Run a multi-node network on etcd: up, status, down, and one peer."""
