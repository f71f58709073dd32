"""`govchain gateway`: A department's data gateway in front of its own database."""

from __future__ import annotations

import click

__all__ = ["gateway"]


@click.group()
def gateway() -> None:
    """A department's data gateway in front of its own database."""
