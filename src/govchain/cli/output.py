"""Output helpers shared by the commands: JSON for scripts, tables and colour for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from govchain.errors import GovchainError

__all__ = ["console", "fail", "print_json", "print_kv", "print_table"]

console = Console()
err_console = Console(stderr=True)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def print_kv(title: str, rows: Iterable[tuple[str, Any]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold cyan")
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(k, "" if v is None else str(v))
    console.print(table)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def fail(exc: GovchainError, as_json: bool = False, exit_code: int = 1) -> NoReturn:
    """Report an error (with its code and what to do) and exit."""
    if as_json:
        click.echo(json.dumps(exc.to_problem(), indent=2, ensure_ascii=False), err=False)
    else:
        err_console.print(f"[bold red]error[/] [{exc.code}] {exc.message}")
        err_console.print(f"[yellow]hint:[/] {exc.hint}")
    sys.exit(exit_code)
