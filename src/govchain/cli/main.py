"""The ``govchain`` command line."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import json
from pathlib import Path
from typing import Any

import click

import govchain
from govchain.cli.common import (
    client_from_options,
    dir_option,
    json_option,
    key_options,
    load_signing_key,
    node_option,
    signing_org,
)
from govchain.cli.output import console, fail, print_json, print_kv, print_table
from govchain.errors import BadRequest, GovchainError

__all__ = ["main"]


class GovchainGroup(click.Group):
    """Turns govchain errors into a clear message with its code and a hint, exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        # Read the arguments now: invoking the subcommand consumes them from ``ctx.args``.
        wants_json = "--json" in ctx.args
        try:
            return super().invoke(ctx)
        except GovchainError as exc:
            fail(exc, bool(ctx.params.get("as_json")) or wants_json)


@click.group(cls=GovchainGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(govchain.__version__, prog_name="govchain")
def cli() -> None:
    """govchain: a permissioned blockchain for a city's digital governance.

    \b
    Start here:
      govchain init --dir city            create a network (sample city)
      govchain node start --dir city      run its node (API on 127.0.0.1:8700)
      govchain notarize FILE --dir city --org tax --title "Lease"
      govchain status                     where the chain is
      govchain block show --dir city --org tax    reads sign with a member's key
    """


# --- network and node -----------------------------------------------------------------------


@cli.command()
@dir_option()
@click.option("--chain-id", default="govchain-local", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Overwrite an existing network directory.")
@json_option
def init(
    network_dir: Path, chain_id: str, host: str, port: int, force: bool, as_json: bool
) -> None:
    """Create a network directory: genesis, organisations' keys, node key and config."""
    from govchain.node import init_network

    genesis = init_network(network_dir, chain_id=chain_id, host=host, port=port, force=force)
    if as_json:
        print_json(
            {
                "dir": str(network_dir),
                "chain_id": genesis.chain_id,
                "orgs": [o.id for o in genesis.orgs],
                "nodes": [n.id for n in genesis.nodes],
            }
        )
        return
    print_table(
        f"Network {genesis.chain_id} in {network_dir}",
        ["organisation", "name", "名称", "kind"],
        [(o.id, o.name, o.name_zh, o.kind) for o in genesis.orgs],
    )
    console.print(f"Next: [bold]govchain node start --dir {network_dir}[/]")


@cli.group()
def node() -> None:
    """Run a node."""


@node.command("start")
@dir_option()
@click.option(
    "--node",
    "--node-id",
    "node_id",
    default="node0",
    show_default=True,
    help="Which node of the network directory to run (nodes/<ID>/); in a multi-node network "
    "each organisation runs its own, e.g. --node node2.",
)
@click.option("--host", default=None, help="Override the configured host.")
@click.option("--port", default=None, type=int, help="Override the configured port.")
def node_start(network_dir: Path, node_id: str, host: str | None, port: int | None) -> None:
    """Run a node and its HTTP API until Ctrl-C; it resumes from its last committed block.

    When the node's config.json names an etcd cluster ("etcd": {"endpoints": [...]}) the node
    runs as one peer of a multi-node network: it orders on etcd and attests every block.

    \b
    Examples:
      govchain node start --dir city
      govchain node start --dir city --node node2      one organisation's peer
    """
    from govchain.node.serve import serve_node

    async def ready(n: Any) -> None:
        meta = n.app.info()
        console.print(
            f"[green]node {node_id}[/] of chain [bold]{n.genesis.chain_id}[/] at "
            f"height {meta.height}, API on {n.config.scheme}://{host or n.config.host}:"
            f"{port or n.config.port}  (Ctrl-C stops)"
        )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_node(network_dir, node_id, host=host, port=port, on_ready=ready))


@cli.command()
@node_option
@json_option
def status(node_url: str, as_json: bool) -> None:
    """Show the chain's height, last block hash and state root."""
    s = client_from_options(node_url).status()
    if as_json:
        print_json(s)
    else:
        print_kv(f"{s['chain_id']} via {node_url}", s.items())


# --- transactions, blocks, state ------------------------------------------------------------


@cli.group()
def tx() -> None:
    """Build, sign, submit and look up transactions."""


def _parse_args(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"--args is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadRequest("--args must be a JSON object")
    return value


@tx.command("send")
@click.argument("contract")
@click.argument("method")
@click.option(
    "--args",
    "args_text",
    default="{}",
    show_default=True,
    help="Arguments as a JSON object; bytes as hex.",
)
@key_options
@node_option
@click.option("--no-wait", is_flag=True, help="Return once admitted.")
@json_option
def tx_send(
    contract: str,
    method: str,
    args_text: str,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Sign and submit a transaction, then wait for its receipt."""
    key = load_signing_key(key_file, network_dir, org)
    client = client_from_options(node_url, key=key)
    raw = client.build(key, contract, method, _parse_args(args_text))
    tx_id = client.submit(raw)
    if no_wait:
        print_json({"tx_id": tx_id, "status": "pending"}) if as_json else console.print(tx_id)
        return
    _show_outcome(client.wait(tx_id), as_json)


@tx.command("build")
@click.argument("contract")
@click.argument("method")
@click.option("--args", "args_text", default="{}", show_default=True)
@key_options
@node_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def tx_build(
    contract: str,
    method: str,
    args_text: str,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    out: Path,
) -> None:
    """Build and sign a transaction into a file, for co-signers to add their signatures."""
    key = load_signing_key(key_file, network_dir, org)
    client = client_from_options(node_url, key=key)
    out.write_bytes(client.build(key, contract, method, _parse_args(args_text)))
    console.print(f"wrote {out}; co-sign with `govchain tx sign {out} --key ...`")


@tx.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@key_options
def tx_sign(file: Path, key_file: Path | None, network_dir: Path | None, org: str | None) -> None:
    """Add a signature to a transaction file (multi-party approval)."""
    from govchain.client import add_signature

    key = load_signing_key(key_file, network_dir, org)
    file.write_bytes(add_signature(file.read_bytes(), key))
    console.print(f"signed {file} with {key.public_key.hex()[:16]}…")


@tx.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@node_option
@json_option
def tx_submit(file: Path, node_url: str, as_json: bool) -> None:
    """Submit a signed transaction file and wait for its receipt (reading the receipt needs a
    member's key or one of the transaction's signers' keys: --key, or --dir with --org)."""
    client = client_from_options(node_url)
    _show_outcome(client.wait(client.submit(file.read_bytes())), as_json)


@tx.command("show")
@click.argument("tx_id")
@node_option
@json_option
def tx_show(tx_id: str, node_url: str, as_json: bool) -> None:
    """A transaction's status and receipt (inclusion proofs verified)."""
    answer = client_from_options(node_url).tx(tx_id)
    if as_json:
        print_json(answer)
        return
    receipt = answer.get("receipt") or {}
    print_kv(
        f"transaction {tx_id[:16]}…",
        [
            ("status", answer["status"]),
            ("height", answer.get("height")),
            ("contract", (answer.get("tx") or {}).get("contract")),
            ("method", (answer.get("tx") or {}).get("method")),
            ("ok", receipt.get("ok")),
            ("code", receipt.get("code")),
            ("message", receipt.get("message")),
            ("proofs", "verified" if answer["status"] == "committed" else "-"),
        ],
    )


def _show_outcome(outcome: Any, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                k: getattr(outcome, k)
                for k in ("tx_id", "status", "ok", "height", "code", "message", "result")
            }
        )
        if not outcome.ok:  # a failed or undecided transaction fails the command, as below
            raise SystemExit(1)
        return
    colour = "green" if outcome.ok else "red"
    console.print(
        f"[{colour}]{outcome.status}[/] {outcome.tx_id} at height {outcome.height}"
        + (f"  [{outcome.code}] {outcome.message}" if not outcome.ok else "")
    )
    if not outcome.ok:
        raise SystemExit(1)


@cli.group()
def block() -> None:
    """Read blocks."""


@block.command("show")
@click.argument("ref", default="latest")
@click.option("--full", is_flag=True, help="Include transactions and receipts.")
@node_option
@json_option
def block_show(ref: str, full: bool, node_url: str, as_json: bool) -> None:
    """A block by height, by hash, or the latest."""
    client = client_from_options(node_url)
    answer = (
        client.block_by_hash(ref, full=full) if len(ref) == 64 else client.block(ref, full=full)
    )
    if as_json:
        print_json(answer)
        return
    h = answer["header"]
    print_kv(
        f"block {h['height']}",
        [
            (k, h[k])
            for k in (
                "hash",
                "prev_hash",
                "time_ms",
                "tx_count",
                "tx_root",
                "receipts_root",
                "state_root",
                "proposer",
            )
        ],
    )


@cli.group()
def state() -> None:
    """Read the world state with proofs."""


@state.command("get")
@click.argument("key")
@click.option("--height", type=int, default=None)
@click.option("--hex", "is_hex", is_flag=True, help="KEY is hex.")
@node_option
@json_option
def state_get(key: str, height: int | None, is_hex: bool, node_url: str, as_json: bool) -> None:
    """A key's value or absence, with its proof verified against the block's state root."""
    raw_key = bytes.fromhex(key) if is_hex else key.encode()
    answer = client_from_options(node_url).state(raw_key, height=height)
    if as_json:
        print_json(answer)
        return
    print_kv(
        f"state at height {answer['height']}",
        [
            ("key", raw_key),
            ("exists", answer["exists"]),
            ("value (hex)", answer["value"]),
            ("state root", answer["header"]["state_root"]),
            ("proof", "verified"),
        ],
    )


# --- notary ---------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", default=None, help="Defaults to the file name.")
@click.option("--owner-org", default=None, help="Defaults to the signing organisation.")
@click.option("--expires-at-ms", type=int, default=None)
@click.option("--meta", multiple=True, help="KEY=VALUE metadata (repeatable).")
@key_options
@node_option
@json_option
def notarize(
    file: Path,
    title: str | None,
    owner_org: str | None,
    expires_at_ms: int | None,
    meta: tuple[str, ...],
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Anchor FILE's SHA-256 on chain (the file itself stays with you)."""
    key = load_signing_key(key_file, network_dir, org)
    if owner_org is None:
        owner_org = signing_org(key_file, network_dir, org)
    metadata = dict(m.split("=", 1) for m in meta if "=" in m)
    outcome = client_from_options(node_url, key=key).notarize(
        key,
        file,
        title=title or file.name,
        owner_org=owner_org,
        expires_at_ms=expires_at_ms,
        metadata=metadata,
    )
    if as_json:
        _show_outcome(outcome, True)
        return
    console.print(
        f"[green]anchored[/] {hashlib.sha256(file.read_bytes()).hexdigest()} at height "
        f"{outcome.height} (tx {outcome.tx_id})"
    )


@cli.group()
def notary() -> None:
    """Look up notarised documents."""


@notary.command("show")
@click.argument("ref")
@click.option("--height", type=int, default=None)
@node_option
@json_option
def notary_show(ref: str, height: int | None, node_url: str, as_json: bool) -> None:
    """A document's anchor by its SHA-256 (hex) or by the file itself, proof verified."""
    path = Path(ref)
    doc_hash = hashlib.sha256(path.read_bytes()).digest() if path.is_file() else None
    if doc_hash is None:
        try:
            doc_hash = bytes.fromhex(ref)
        except ValueError:
            raise BadRequest(f"{ref!r} is neither a file nor a hex SHA-256") from None
    answer = client_from_options(node_url).notary(doc_hash, height=height)
    if as_json:
        print_json(answer)
        return
    r = answer["record"]
    print_kv(
        "notarised document",
        [
            ("hash", r["hash"]),
            ("title", r["title"]),
            ("owner", r["owner_org"]),
            ("anchored at height", r["height"]),
            ("block time (ms)", r["time_ms"]),
            ("tx", r["tx_id"]),
            ("expires (ms)", r["expires_at_ms"]),
            ("metadata", r["metadata"] or ""),
            ("proof", f"verified against state root of block {answer['state']['height']}"),
        ],
    )


# --- audit, events, bench, demo -------------------------------------------------------------


@cli.command()
@dir_option()
@click.option("--node-id", default="node0", show_default=True)
@json_option
def verify(network_dir: Path, node_id: str, as_json: bool) -> None:
    """Re-check a stored ledger from genesis; exit 0 when consistent."""
    from govchain.cli.verify import run_verify

    raise SystemExit(run_verify(network_dir, node_id, as_json))


@cli.command()
@click.option("--from-height", type=int, default=None, help="Start here (default: next block).")
@click.option("--full", is_flag=True, help="Blocks with transactions and receipts.")
@click.option("--txs", is_flag=True, help="Also one line per transaction.")
@click.option(
    "--contract-events", "contract_events", is_flag=True, help="Also one line per contract event."
)
@click.option("--contract", default=None, help="Only this contract's transactions and events.")
@node_option
def events(
    from_height: int | None,
    full: bool,
    txs: bool,
    contract_events: bool,
    contract: str | None,
    node_url: str,
) -> None:
    """Follow the chain as JSON lines: blocks, and optionally transactions and contract events
    (Ctrl-C stops; resume with --from-height)."""
    stream = client_from_options(node_url).stream(
        from_height, full=full, txs=txs, events=contract_events, contract=contract
    )
    with contextlib.suppress(KeyboardInterrupt):
        for kind, data in stream:
            click.echo(json.dumps({"type": kind, **data}, ensure_ascii=False))


# Command groups that live in their own modules, as "module:attribute".
LATE_COMMANDS = (
    "govchain.cli.identity_cmds:org",
    "govchain.cli.identity_cmds:member",
    "govchain.cli.identity_cmds:did",
    "govchain.cli.key_cmds:key",
    "govchain.cli.key_cmds:register",
    "govchain.cli.gov_cmds:gov",
    "govchain.cli.cert_cmds:cert",
    "govchain.cli.network_cmds:network",
    "govchain.cli.catalog_cmds:catalog",
    "govchain.cli.share_cmds:share",
    "govchain.cli.gateway_cmds:gateway",
    "govchain.cli.audit_cmds:audit",
    "govchain.cli.service_cmds:service",
    "govchain.cli.report_cmds:report",
    "govchain.cli.health_cmds:health",
    "govchain.cli.bench:bench",
    "govchain.cli.demo:demo",
)


def _register_late_commands() -> None:
    for ref in LATE_COMMANDS:
        module_name, attr = ref.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command), ref
        cli.add_command(command)
    from govchain.cli.finality_cmds import block_finality

    block.add_command(block_finality)


_register_late_commands()


def main() -> None:
    cli(prog_name="govchain")
