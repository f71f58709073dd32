"""`govchain audit`: who accessed which data, under which grant, when."""

from __future__ import annotations

import click

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """Who accessed which data, under which grant, when; verified against the chain."""
