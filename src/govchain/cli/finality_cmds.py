"""`govchain block finality`: a block's finality certificate, verified against the genesis.

The command joins the ``block`` group of :mod:`govchain.cli.main`, which adds it when it
registers its late commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from govchain.cli.common import client_from_options, json_option, node_option
from govchain.cli.output import console, print_json, print_kv
from govchain.errors import BadRequest

__all__ = ["block_finality"]


@click.command("finality")
@click.argument("height", type=click.IntRange(min=0))
@click.option(
    "--genesis",
    "genesis_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The network's genesis.json: verify the certificate against its founding peers.",
)
@node_option
@json_option
def block_finality(height: int, genesis_file: Path | None, node_url: str, as_json: bool) -> None:
    """A block's finality certificate; with --genesis, verified against the founding peers
    (exit 1 when it does not hold).

    \b
    govchain block finality 42
    govchain block finality 42 --genesis city/genesis.json --json
    """
    from govchain.client import TrustAnchor

    trust = TrustAnchor.from_genesis(_read_genesis(genesis_file)) if genesis_file else None
    client = client_from_options(node_url)
    client.trust = trust
    cert = client.get_finality(height)  # verified when trust is given
    peers = sorted(trust.peers) if trust is not None else None
    if as_json:
        print_json(_json(cert, verified=trust is not None, peers=peers))
        return
    print_kv(
        f"finality of block {cert.height}",
        [
            ("chain", cert.chain_id),
            ("block hash", cert.block_hash.hex()),
            ("state root", cert.state_root.hex()),
            ("signed by", ", ".join(cert.signers)),
        ],
    )
    if trust is None:
        console.print("[yellow]not verified[/]: pass --genesis FILE to check the signatures")
    else:
        console.print(
            f"[green]verified[/]: {len(cert.signatures)} of {len(trust.peers)} founding peers "
            "of the genesis signed"
        )


def _json(cert: Any, *, verified: bool, peers: list[str] | None) -> dict[str, Any]:
    return {
        "chain_id": cert.chain_id,
        "height": cert.height,
        "block_hash": cert.block_hash.hex(),
        "state_root": cert.state_root.hex(),
        "signers": cert.signers,
        "verified": verified,
        "founding_peers": peers,
    }


def _read_genesis(path: Path) -> Any:
    import msgspec

    from govchain.types import Genesis

    try:
        return msgspec.json.decode(path.read_bytes(), type=Genesis)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(f"cannot read the genesis {path}: {exc}") from None
