"""Options shared by the commands.

Every command that talks to a node takes ``--node`` and the key options (:func:`node_option`
adds both), so that its requests are signed (the API serves most reads only to members of
organisations). Commands build their client with :func:`client_from_options`.

Which key signs, first match wins: ``--key FILE``; ``--org ORG`` (that organisation's admin key
in ``--dir``); env ``GOVCHAIN_KEY`` (a key file); ``--dir`` alone (its first organisation's admin
key). A read with none of these goes unsigned and reaches only the public routes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from govchain.crypto.signing import KeyPair
from govchain.errors import ConfigError

if TYPE_CHECKING:
    from govchain.client import Client

__all__ = [
    "KEY_ENV",
    "client_from_options",
    "dir_option",
    "json_option",
    "key_options",
    "load_signing_key",
    "node_option",
    "reading_key",
    "signing_org",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_NODE = "http://127.0.0.1:8700"
KEY_ENV = "GOVCHAIN_KEY"
_META = "govchain.key_options"
_KEY_PARAMS = ("key_file", "network_dir", "org")


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Record a key option's value where :func:`client_from_options` finds it."""
    if param.name is not None:
        ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def _params(f: Any) -> list[click.Parameter]:
    params: list[click.Parameter] = getattr(f, "__click_params__", [])
    return params


def _has_param(f: Any, name: str) -> bool:
    return any(p.name == name for p in _params(f))


def _drop_param(f: Any, name: str) -> None:
    params = _params(f)
    params[:] = [p for p in params if p.name != name]


def _add_key_options(f: F, *, expose: bool) -> F:
    """``--dir``, ``--org``, ``--key``; exposed to the command as ``network_dir``, ``org`` and
    ``key_file``, or only recorded for :func:`client_from_options`. Exposed options replace
    recorded-only ones; options already present are not added twice."""
    options: dict[str, Callable[[F], F]] = {
        "key_file": click.option(
            "--key",
            "key_file",
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=expose,
            callback=_remember,
            help=f"A key file to sign with (else env {KEY_ENV}).",
        ),
        "org": click.option(
            "--org",
            default=None,
            expose_value=expose,
            callback=_remember,
            help="Sign with this organisation's admin key from --dir.",
        ),
        "network_dir": _dir_decorator(required=False, expose=expose),
    }
    for name, option in options.items():
        if _has_param(f, name):
            if not expose:
                continue  # the command has it already (exposed or not)
            _drop_param(f, name)
        f = option(f)
    return f


def _dir_decorator(*, required: bool, expose: bool = True) -> Callable[[F], F]:
    return click.option(
        "--dir",
        "network_dir",
        envvar="GOVCHAIN_DIR",
        required=required,
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=expose,
        callback=_remember,
        help="The network directory made by `govchain init` (env GOVCHAIN_DIR).",
    )


def node_option(f: F) -> F:
    """``--node URL`` and the key options that sign the command's requests (recorded for
    :func:`client_from_options`; a command that wants them as arguments also uses
    :func:`key_options`, in either order)."""
    f = click.option(
        "--node",
        "node_url",
        envvar="GOVCHAIN_NODE",
        default=DEFAULT_NODE,
        show_default=True,
        help="The node's API URL (env GOVCHAIN_NODE).",
    )(f)
    return _add_key_options(f, expose=False)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document (for scripts)."
    )(f)


def dir_option(required: bool = True) -> Callable[[F], F]:
    def deco(f: F) -> F:
        _drop_param(f, "network_dir")
        return _dir_decorator(required=required)(f)

    return deco


def key_options(f: F) -> F:
    """``--key``, ``--org`` and ``--dir`` as the command's ``key_file``, ``org`` and
    ``network_dir`` arguments."""
    return _add_key_options(f, expose=True)


def load_signing_key(key_file: Path | None, network_dir: Path | None, org: str | None) -> KeyPair:
    """The key the options name (see the module's docstring for the order)."""
    from govchain.node.config import load_genesis, load_key

    if key_file is not None:
        return load_key(key_file)
    if org is not None:
        if network_dir is None:
            raise ConfigError(
                f"--org {org} needs --dir", hint="Pass --dir DIR (or env GOVCHAIN_DIR) with --org."
            )
        return load_key(network_dir / "orgs" / org / "admin.key")
    if env_key := os.environ.get(KEY_ENV):
        return load_key(Path(env_key))
    if network_dir is None:
        raise ConfigError(
            "no signing key given",
            hint=f"Pass --key FILE, or --dir DIR with --org ORG, or set {KEY_ENV}.",
        )
    return load_key(network_dir / "orgs" / load_genesis(network_dir).orgs[0].id / "admin.key")


def reading_key(ctx: click.Context | None = None) -> KeyPair | None:
    """The key that signs the current command's requests, or None when no key option, no
    ``--dir`` and no ``GOVCHAIN_KEY`` is given (the command then reads public routes only)."""
    ctx = ctx or click.get_current_context(silent=True)
    given: dict[str, Any] = ctx.meta.get(_META, {}) if ctx is not None else {}
    key_file, network_dir, org = (given.get(name) for name in _KEY_PARAMS)
    if key_file is None and network_dir is None and org is None and not os.environ.get(KEY_ENV):
        return None
    return load_signing_key(key_file, network_dir, org)


def client_from_options(node_url: str, *, key: KeyPair | None = None) -> Client:
    """A client of ``node_url`` that signs with ``key``, else with the key the command's options
    name (:func:`reading_key`)."""
    from govchain.client import Client

    return Client(node_url, key=key if key is not None else reading_key())


def signing_org(key_file: Path | None, network_dir: Path | None, org: str | None) -> str:
    """The organisation the signing key acts for (the same choice as :func:`load_signing_key`)."""
    import msgspec

    from govchain.node.config import KeyFile, load_genesis

    if org is not None:
        return org
    if key_file is None and (env_key := os.environ.get(KEY_ENV)):
        key_file = Path(env_key)
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
