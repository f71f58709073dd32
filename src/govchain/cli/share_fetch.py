"""`govchain share fetch`: the requesting side of a data exchange through gateways."""

from __future__ import annotations

import click

__all__ = ["fetch"]


@click.command()
def fetch() -> None:
    """Fetch granted fields of a data resource from the owner's gateway."""
    raise click.ClickException("not available yet")
