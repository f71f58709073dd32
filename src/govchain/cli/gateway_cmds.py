"""`govchain gateway`: A department's data gateway in front of its own database.

    govchain gateway init-db --db sqlite:///tax.db --table taxpayers --subject ent:9133...
    govchain gateway start --db sqlite:///tax.db --resource tax.payer-status=taxpayers:subject \\
        --node http://127.0.0.1:8700 --key tax-gateway.key --port 8801
    govchain gateway start --config gateway.json
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from govchain.cli.output import console, fail, print_json
from govchain.errors import ConfigError, GovchainError

if TYPE_CHECKING:
    from govchain.gateway.config import GatewayConfig

__all__ = ["gateway"]


@click.group()
def gateway() -> None:
    """A department's data gateway in front of its own database."""


def _config_from_options(
    config_file: Path | None,
    db: str | None,
    resources: tuple[str, ...],
    node_url: str | None,
    key_file: Path | None,
    overrides: dict[str, object],
) -> GatewayConfig:
    import msgspec

    from govchain.gateway.config import GatewayConfig, load_gateway_config, parse_resource_spec

    if config_file is not None:
        config = load_gateway_config(config_file)
        if db or resources or key_file:
            raise ConfigError("give --config or --db/--resource/--key, not both")
        if node_url is not None:
            overrides["node"] = node_url
    else:
        missing = [
            n for n, v in (("--db", db), ("--resource", resources), ("--key", key_file)) if not v
        ]
        if missing:
            raise ConfigError(
                f"missing {', '.join(missing)}",
                hint="Pass --config FILE, or --db URL --resource ID=TABLE[:KEY] --key FILE.",
            )
        config = GatewayConfig(
            db=str(db),
            node=node_url or "http://127.0.0.1:8700",
            key=str(key_file),
            resources=[parse_resource_spec(r) for r in resources],
        )
    config = msgspec.structs.replace(
        config, **{k: v for k, v in overrides.items() if v is not None}
    )
    config.check()
    return config


@gateway.command("start")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", default=None, help="The department's database (an SQLAlchemy URL).")
@click.option(
    "--resource",
    "resources",
    multiple=True,
    help="RESOURCE_ID=TABLE[:KEY_COLUMN] (repeatable): a catalogue resource and its table.",
)
@click.option("--node", "node_url", default=None, help="The node's API URL.")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--journal", default=None, help="The receipt journal (an SQLite file).")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--batch-size", default=None, type=int, help="Receipts per anchoring batch.")
@click.option("--flush-ms", default=None, type=int, help="Longest wait before anchoring.")
def gateway_start(
    config_file: Path | None,
    db: str | None,
    resources: tuple[str, ...],
    node_url: str | None,
    key_file: Path | None,
    journal: str | None,
    host: str | None,
    port: int | None,
    batch_size: int | None,
    flush_ms: int | None,
) -> None:
    """Serve the catalogue resources of this department under grants on chain (Ctrl-C stops)."""
    from govchain.gateway.app import build_service, serve_gateway
    from govchain.node.config import load_key

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    overrides: dict[str, object] = {
        "journal": journal,
        "host": host,
        "port": port,
        "batch_size": batch_size,
        "flush_ms": flush_ms,
    }
    try:
        config = _config_from_options(config_file, db, resources, node_url, key_file, overrides)
        service = build_service(config, load_key(Path(config.key)))
    except GovchainError as exc:
        fail(exc)
    console.print(
        f"[green]gateway[/] of [bold]{service.org}[/] serving "
        f"{', '.join(m.resource_id for m in config.resources)} on "
        f"http://{config.host}:{config.port}  (Ctrl-C stops)"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_gateway(service, config.host, config.port))


@gateway.command("init-db")
@click.option("--db", required=True, help="The database to fill (an SQLAlchemy URL).")
@click.option(
    "--table",
    type=click.Choice(["enterprises", "taxpayers"]),
    required=True,
    help="Which sample table to create.",
)
@click.option("--subject", "subjects", multiple=True, help="A record key (repeatable).")
@click.option("--rows", default=0, type=int, help="Also add this many made-up enterprises.")
@click.option("--json", "as_json", is_flag=True)
def gateway_init_db(
    db: str, table: str, subjects: tuple[str, ...], rows: int, as_json: bool
) -> None:
    """Create and fill a sample departmental table (for demonstrations)."""
    from govchain.gateway.sample import create_sample_db

    keys = [*subjects, *(f"ent:SAMPLE{i:010d}" for i in range(rows))]
    written = create_sample_db(db, table, keys)
    if as_json:
        print_json({"table": table, "rows": written})
    else:
        console.print(f"{written} rows in table [bold]{table}[/]")
