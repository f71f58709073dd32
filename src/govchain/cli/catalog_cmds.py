"""`govchain catalog`: The data catalogue (directory chain): departments' data resources."""

from __future__ import annotations

import click

__all__ = ["catalog"]


@click.group()
def catalog() -> None:
    """The data catalogue (directory chain): departments' data resources."""
