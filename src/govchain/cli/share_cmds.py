"""`govchain share`: Data sharing: requests, consent, approvals, grants and fetching data."""

from __future__ import annotations

import click

__all__ = ["share"]


@click.group()
def share() -> None:
    """Data sharing: requests, consent, approvals, grants and fetching data."""


def _register() -> None:
    from govchain.cli.share_fetch import fetch

    share.add_command(fetch)


_register()
