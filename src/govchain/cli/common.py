"""Options shared by the commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from govchain.crypto.signing import KeyPair
from govchain.errors import ConfigError

__all__ = [
    "dir_option",
    "json_option",
    "key_options",
    "load_signing_key",
    "node_option",
    "signing_org",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_NODE = "http://127.0.0.1:8700"


def node_option(f: F) -> F:
    return click.option(
        "--node",
        "node_url",
        envvar="GOVCHAIN_NODE",
        default=DEFAULT_NODE,
        show_default=True,
        help="The node's API URL (env GOVCHAIN_NODE).",
    )(f)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document (for scripts)."
    )(f)


def dir_option(required: bool = True) -> Callable[[F], F]:
    def deco(f: F) -> F:
        return click.option(
            "--dir",
            "network_dir",
            envvar="GOVCHAIN_DIR",
            required=required,
            type=click.Path(file_okay=False, path_type=Path),
            help="The network directory made by `govchain init` (env GOVCHAIN_DIR).",
        )(f)

    return deco


def key_options(f: F) -> F:
    f = click.option(
        "--key",
        "key_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A key file to sign with.",
    )(f)
    f = click.option(
        "--org", default=None, help="Sign with this organisation's admin key from --dir."
    )(f)
    return dir_option(required=False)(f)


def load_signing_key(key_file: Path | None, network_dir: Path | None, org: str | None) -> KeyPair:
    from govchain.node.config import load_genesis, load_key

    if key_file is not None:
        return load_key(key_file)
    if network_dir is None:
        raise ConfigError(
            "no signing key given", hint="Pass --key FILE, or --dir DIR with --org ORG."
        )
    if org is None:
        org = load_genesis(network_dir).orgs[0].id
    return load_key(network_dir / "orgs" / org / "admin.key")


def signing_org(key_file: Path | None, network_dir: Path | None, org: str | None) -> str:
    """The organisation the signing key acts for (the same choice as :func:`load_signing_key`)."""
    import msgspec

    from govchain.node.config import KeyFile, load_genesis

    if org is not None:
        return org
    if key_file is not None:
        named = msgspec.json.decode(key_file.read_bytes(), type=KeyFile).org
        if named:
            return named
    if network_dir is not None:
        return load_genesis(network_dir).orgs[0].id
    raise ConfigError(
        "cannot tell which organisation the key acts for",
        hint="Pass --org with --dir, or --owner-org.",
    )
