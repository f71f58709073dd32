"""`govchain health`: Epidemic control: health passes, venue checks, anonymised aggregates."""

from __future__ import annotations

import click

__all__ = ["health"]


@click.group()
def health() -> None:
    """Epidemic control: health passes, venue checks, anonymised aggregates."""
