"""`govchain demo`: a single-node chain with a sample city, ready to use."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from pathlib import Path
from typing import Any

import click

from govchain.cli.output import console, print_table

__all__ = ["demo"]

SAMPLES = (
    ("market-regulation", "Business licence register, 2026 edition", b"business licences 2026"),
    ("tax", "Tax registration of Ningbo Harbour Foods Ltd.", b"tax registration 913302"),
    ("health-commission", "Vaccination campaign plan", b"vaccination plan"),
    ("haishu-district", "Resumption-of-production checklist", b"resumption checklist v3"),
)


def _send_samples(network_dir: Path, url: str) -> list[tuple[str, str, str, int | None]]:
    from govchain.client import Client
    from govchain.node.config import load_key

    rows: list[tuple[str, str, str, int | None]] = []
    for org, title, content in SAMPLES:
        key = load_key(network_dir / "orgs" / org / "admin.key")
        with Client(url, key=key) as client:  # signs the reads of its receipts
            doc_hash = hashlib.sha256(content).digest()
            try:
                client.notary(doc_hash)
                rows.append((org, title, doc_hash.hex(), None))  # already anchored earlier
                continue
            except Exception:
                pass
            outcome = client.notarize(key, content, title=title, owner_org=org)
            rows.append((org, title, doc_hash.hex(), outcome.height))
    return rows


@click.command()
@click.option(
    "--dir",
    "network_dir",
    default="demo-network",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--port", default=8700, show_default=True)
def demo(network_dir: Path, port: int) -> None:
    """Create (once) a sample city network, run its node, anchor sample documents, and keep
    running until Ctrl-C."""
    from govchain.node import init_network
    from govchain.node.serve import serve_node

    if not (network_dir / "genesis.json").exists():
        init_network(network_dir, chain_id="govchain-demo", port=port)
        console.print(f"created a sample city network in [bold]{network_dir}[/]")
    url = f"http://127.0.0.1:{port}"

    async def ready(node: Any) -> None:
        rows = await asyncio.to_thread(_send_samples, network_dir, url)
        print_table(
            "Sample documents notarised",
            ["organisation", "title", "sha256", "height"],
            [(o, t, h[:16] + "…", "earlier" if ht is None else ht) for o, t, h, ht in rows],
        )
        d = network_dir
        console.print(
            f"""
[bold green]govchain is running[/] — chain [bold]{node.genesis.chain_id}[/], API on {url}

Try (blocks, state and events are read with a member's key):
  curl {url}/v1/status
  open {url}/schema                   (the API, interactive)
  .venv/bin/govchain status
  .venv/bin/govchain block show latest --full --dir {d} --org tax
  .venv/bin/govchain events --from-height 0 --dir {d} --org tax    (follow blocks)
  .venv/bin/govchain notarize README.md --dir {d} --org tax
  .venv/bin/govchain notary show README.md
  .venv/bin/govchain org list
  .venv/bin/govchain did resolve tax --dir {d} --org tax
  .venv/bin/govchain member enrol tax clerk --role officer --member-key clerk.key \\
      --dir {d} --org tax
  .venv/bin/govchain gov propose set-params --max-block-txs 2000 --dir {d} --org tax
  .venv/bin/govchain gov vote 1 --yes --dir {d} --org market-regulation
  .venv/bin/govchain verify --dir {d}        (after Ctrl-C)

Ctrl-C stops the node; `make demo` again resumes from the last block.""",
            soft_wrap=True,
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_node(network_dir, host="127.0.0.1", port=port, on_ready=ready))
