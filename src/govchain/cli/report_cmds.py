"""`govchain report`: Reports over the chain, e.g. the paperwork figure."""

from __future__ import annotations

import click

__all__ = ["report"]


@click.group()
def report() -> None:
    """Reports over the chain, e.g. the paperwork figure."""
