"""`govchain verify`: audit a node's stored ledger from genesis, with a progress bar."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from govchain.app.audit import AuditReport, audit_ledger
from govchain.cli.output import console, print_json
from govchain.contracts import default_registry
from govchain.errors import ConfigError
from govchain.node.config import load_genesis, load_node_config, node_dir
from govchain.storage import open_store

__all__ = ["run_verify"]


def run_verify(network_dir: Path, node_id: str, as_json: bool) -> int:
    genesis = load_genesis(network_dir)
    config = load_node_config(network_dir, node_id)
    path = node_dir(network_dir, node_id) / config.storage
    if not path.exists():
        raise ConfigError(f"{path} does not exist", hint="Start the node once to create it.")
    store = open_store(str(path), durable=False)
    try:
        meta = store.get_meta()
        total = meta.height if meta else 0
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("blocks"),
            TimeRemainingColumn(),
            console=console,
            disable=as_json,
            transient=True,
        ) as progress:
            task = progress.add_task("verify", total=total)
            report = audit_ledger(
                store, genesis, default_registry(), lambda h, n: progress.update(task, completed=h)
            )
    finally:
        store.close()
    if as_json:
        print_json(dataclasses.asdict(report))
    elif report.ok:
        console.print(
            f"[green]ledger consistent[/]: {report.blocks} blocks, {report.txs} "
            f"transactions, up to height {report.height}"
        )
        console.print(_trust_line(report))
    else:
        console.print(
            f"[bold red]ledger inconsistent[/] at block {report.first_bad_height}: "
            f"[{report.reason}] {report.message}"
        )
    return 0 if report.ok else 2


def _trust_line(report: AuditReport) -> str:
    """How the blocks after genesis were trusted: proposer signatures, finality certificates."""
    final = (
        f"final up to height {report.finalized_height}"
        if report.finalized_height >= 0
        else "no finality certificate stored"
    )
    return (
        f"trusted by proposer signature: {report.by_signature} blocks; "
        f"by finality certificate: {report.by_certificate} blocks ({final})"
    )
