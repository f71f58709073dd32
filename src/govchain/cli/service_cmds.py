"""`govchain service`: Cross-department services: definitions, instances and steps."""

from __future__ import annotations

import click

__all__ = ["service"]


@click.group()
def service() -> None:
    """Cross-department services: definitions, instances and steps."""
