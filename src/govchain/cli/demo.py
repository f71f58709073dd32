"""`govchain demo`: the demo city on a single-node chain — set up, exercised end to end,
summarised, then left running for exploration."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import click

from govchain.cli.output import console, print_kv

__all__ = ["demo"]


def _print_summary(summary: Any, url: str) -> None:
    rows: dict[str, Any] = {
        "organisations": summary.organisations,
        "enterprises": summary.enterprises,
        "citizens": summary.citizens,
        "transactions": summary.transactions,
        "height": summary.height,
        "documents notarised": summary.documents_notarised,
        "services completed": sum(summary.services_completed.values()),
        "credentials issued": summary.credentials_issued,
        "data shared (requests)": summary.data_shared,
        "health passes issued": summary.epidemic.passes_issued,
        "venue checks offline": (
            f"{summary.epidemic.venue_admitted} of {summary.epidemic.venue_checked} admitted"
        ),
        "district counts published": summary.epidemic.aggregates_published,
    }
    total = summary.paperwork.get("total") or {}
    if total.get("reduction_percent") is not None:
        rows["paperwork reduction"] = (
            f"{total['reduction_percent']:.1f} % ({total['uploaded']} of {total['required']} "
            "documents uploaded)"
        )
    rows["ready in"] = f"{summary.seconds:.1f} s"
    print_kv(f"The demo city is running on {url}", list(rows.items()))


def _print_tour(chain_id: str, url: str, d: Path, gateways: dict[str, str]) -> None:
    listed = ", ".join(f"{org} {u}" for org, u in gateways.items())
    console.print(
        f"""
[bold green]govchain is running[/] — chain [bold]{chain_id}[/], API and console on {url}

Departments' data gateways: {listed}

Try (reads are signed with a member's key):
  curl {url}/v1/status
  open {url}/console                  (the web console; this demo opens its blocks to all)
  open {url}/schema                   (the API, interactive)
  .venv/bin/govchain status
  .venv/bin/govchain org list
  .venv/bin/govchain block show latest --full --dir {d} --org tax
  .venv/bin/govchain events --from-height 0 --dir {d} --org tax    (follow blocks)
  .venv/bin/govchain notarize README.md --dir {d} --org tax
  .venv/bin/govchain gov accreditations --dir {d} --org tax
  .venv/bin/govchain did resolve tax --dir {d} --org tax
  .venv/bin/govchain service list                  (the cross-department services)
  .venv/bin/govchain report paperwork              (documents not re-submitted, from the chain)
  .venv/bin/govchain catalog search lease          (the departments' data catalogue)
  .venv/bin/govchain audit access --org housing --key {d}/orgs/housing/admin.key  (data used)
  .venv/bin/govchain health aggregate show         (anonymised counts per district and day)
  .venv/bin/govchain health venue-kit --out kit.json   (then `health check PASS --kit kit.json`)
  .venv/bin/govchain verify --dir {d}        (after Ctrl-C)

Ctrl-C stops the node; `make demo` again resumes from the last block.""",
        soft_wrap=True,
    )


@click.command()
@click.option(
    "--dir",
    "network_dir",
    default="demo-network",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo city's network lives (created on the first run).",
)
@click.option("--port", default=8700, show_default=True, help="The node's API port.")
@click.option("--exit", "exit_after", is_flag=True, help="Stop after the summary (for scripts).")
def demo(network_dir: Path, port: int, exit_after: bool) -> None:
    """Create (once) the demo city — departments, districts, a bank, enterprises and citizens —
    on a single-node chain, run every part of the platform end to end, print a summary, and
    keep the node running until Ctrl-C."""
    import msgspec

    from govchain.democity import DEMO_CITY
    from govchain.democity.run import DemoCity
    from govchain.node import init_network
    from govchain.node.config import load_node_config, save_node_config
    from govchain.node.serve import serve_node

    if not (network_dir / "genesis.json").exists():
        genesis = init_network(network_dir, chain_id="govchain-demo", orgs=DEMO_CITY, port=port)
        # the demo is for exploration: its console shows blocks and transactions to everyone
        for n in genesis.nodes:
            cfg = load_node_config(network_dir, n.id)
            save_node_config(network_dir, msgspec.structs.replace(cfg, console_ledger="public"))
        console.print(f"created the demo city's network in [bold]{network_dir}[/]")
    url = f"http://127.0.0.1:{port}"

    async def ready(node: Any) -> None:
        with console.status("setting the city up") as status:
            await asyncio.to_thread(city.set_up, status.update)
            city.start_gateways()
            summary = await asyncio.to_thread(city.exercise, status.update)
        _print_summary(summary, url)
        _print_tour(node.genesis.chain_id, url, network_dir, city.gateway_urls())
        if exit_after:
            await asyncio.to_thread(city.close)  # gateways first: they follow the node's blocks
            raise KeyboardInterrupt

    city = DemoCity(url, network_dir, first_gateway_port=port + 1)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_node(network_dir, host="127.0.0.1", port=port, on_ready=ready))
    finally:
        city.close()  # stops the gateways too
