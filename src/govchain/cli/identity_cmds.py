"""``govchain org|member|did|key|register``: organisations, members, DIDs, keys, registration.

Methods that bind a key need the key's own signature (proof of possession) on the transaction:
these commands co-sign with ``--member-key``/``--new-key FILE``, and with every
``--cosign-key FILE`` (e.g. the officer who attests a registration). With ``--out FILE`` the
transaction is written instead of submitted, for parties elsewhere to add their signatures
(``govchain tx sign FILE --key ...``) and for someone to submit it (``govchain tx submit FILE``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from govchain.cli.common import (
    client_from_options,
    json_option,
    key_options,
    load_signing_key,
    node_option,
)
from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.crypto.signing import KeyPair
from govchain.errors import BadRequest, ContractError

__all__ = [
    "did",
    "member",
    "org",
    "transact_options",
    "transact",
    "key_file_or_new",
    "cosigners",
    "unhex",
    "signer_of",
]

F = TypeVar("F", bound=Callable[..., Any])
ASSIGNABLE = ("admin", "officer", "issuer", "auditor", "gateway", "client")


def transact_options(f: F) -> F:
    f = click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the signed transaction to FILE instead of submitting it "
        "(others add signatures with `govchain tx sign FILE`, then `govchain tx submit FILE`).",
    )(f)
    return click.option(
        "--cosign-key",
        "cosign_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Also sign with this key file (repeatable): co-signers of a multi-party approval.",
    )(f)


def _load(path: Path) -> KeyPair:
    from govchain.node.config import load_key

    return load_key(path)


def key_file_or_new(path: Path, *, org: str = "", role: str = "") -> KeyPair:
    """The key in ``path``; a new key is generated and saved there if the file does not exist."""
    from govchain.crypto.signing import ED25519, get_scheme
    from govchain.node.config import save_key

    if path.exists():
        return _load(path)
    pair = get_scheme(ED25519).generate()
    save_key(path, pair, org=org, role=role)
    click.echo(f"new key {pair.public_key.hex()} saved to {path} (keep it private)", err=True)
    return pair


def unhex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise BadRequest(f"{what} must be hex", hint=f"Pass the {what} as hex digits.") from None


def transact(
    node_url: str,
    signer: KeyPair,
    method: str,
    args: dict[str, Any],
    *,
    cosigners: Sequence[KeyPair] = (),
    out: Path | None = None,
    as_json: bool = False,
) -> Any:
    """Build ``identity.<method>``, sign it with ``signer`` and the co-signers, then submit it
    and wait (a failed receipt raises its error) or write it to ``out``."""
    from govchain.client import add_signature

    client = client_from_options(node_url, key=signer)
    raw = client.build(signer, "identity", method, args)
    for cosigner in cosigners:
        raw = add_signature(raw, cosigner)
    if out is not None:
        out.write_bytes(raw)
        if as_json:
            print_json({"file": str(out), "status": "built"})
        else:
            console.print(
                f"wrote {out}; co-sign with `govchain tx sign {out} --key FILE`, "
                f"then `govchain tx submit {out}`"
            )
        return None
    outcome = client.wait(client.submit(raw))
    if not outcome.ok:
        raise ContractError(
            outcome.message or f"the transaction is {outcome.status}",
            code=outcome.code or "TX_PENDING",
            hint=outcome.hint or None,
        )
    if as_json:
        print_json({"tx_id": outcome.tx_id, "height": outcome.height, "result": outcome.result})
    else:
        result = outcome.result if isinstance(outcome.result, dict) else {}
        console.print(
            f"[green]ok[/] {method} {result.get('id', '')} at height {outcome.height} "
            f"(tx {outcome.tx_id})"
        )
    return outcome.result


def signer_of(key_file: Path | None, network_dir: Path | None, org_: str | None) -> KeyPair:
    return load_signing_key(key_file, network_dir, org_)


def cosigners(files: Sequence[Path], *extra: KeyPair) -> list[KeyPair]:
    return [*extra, *(_load(p) for p in files)]


# --- organisations --------------------------------------------------------------------------


@click.group()
def org() -> None:
    """Organisations of the chain (public)."""


@org.command("list")
@node_option
@json_option
def org_list(node_url: str, as_json: bool) -> None:
    """List the organisations."""
    orgs = client_from_options(node_url).orgs()
    if as_json:
        print_json(orgs)
        return
    print_table(
        "organisations",
        ["id", "name", "名称", "kind", "founding", "status"],
        [
            (o["id"], o["name"], o["name_zh"], o["org_kind"], o["founding"], o["status"])
            for o in orgs
        ],
    )


@org.command("show")
@click.argument("org_id", metavar="ORG")
@node_option
@json_option
def org_show(org_id: str, node_url: str, as_json: bool) -> None:
    """Show an organisation and its services."""
    record = client_from_options(node_url).org(org_id)
    if as_json:
        print_json(record)
        return
    print_kv(
        f"organisation {org_id}",
        [
            ("name", record["name"]),
            ("名称", record["name_zh"]),
            ("kind", record["org_kind"]),
            ("founding", record["founding"]),
            ("status", record["status"]),
            ("services", ", ".join(f"{s['id']}={s['endpoint']}" for s in record["services"])),
        ],
    )


# --- members --------------------------------------------------------------------------------


@click.group()
def member() -> None:
    """Members of organisations (an admin of the organisation signs: --dir DIR --org ORG)."""


def _role_option(f: F) -> F:
    return click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice(ASSIGNABLE),
        help="A role (repeatable). Nodes are added by governance.",
    )(f)


@member.command("enrol")
@click.argument("org_id", metavar="ORG")
@click.argument("name")
@_role_option
@click.option(
    "--member-key",
    "member_key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The new member's key file; it co-signs (proof of possession). "
    "A new key is generated there if the file does not exist.",
)
@transact_options
@key_options
@node_option
@json_option
def member_enrol(
    org_id: str,
    name: str,
    roles: tuple[str, ...],
    member_key_file: Path,
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Enrol NAME as a member of ORG (id ORG:NAME) with roles.

    \b
    govchain member enrol tax clerk --role officer --member-key clerk.key --dir city --org tax
    """
    new = key_file_or_new(member_key_file, org=org_id, role=roles[0])
    args = {"org": org_id, "name": name, "public_key": new.public_key, "roles": list(roles)}
    transact(
        node_url,
        signer_of(key_file, network_dir, org),
        "enrol_member",
        args,
        cosigners=cosigners(cosign_files, new),
        out=out,
        as_json=as_json,
    )


@member.command("list")
@click.argument("org_id", metavar="ORG")
@node_option
@json_option
def member_list(org_id: str, node_url: str, as_json: bool) -> None:
    """List an organisation's members and nodes (for members: sign with --dir/--org or --key)."""
    members = client_from_options(node_url).members(org_id)
    if as_json:
        print_json(members)
        return
    print_table(
        f"members of {org_id}",
        ["id", "kind", "roles", "status", "valid keys", "since height"],
        [
            (
                m["id"],
                m["kind"],
                ",".join(m["roles"]),
                m["status"],
                sum(1 for k in m["keys"] if k["until_height"] is None),
                m["created_height"],
            )
            for m in members
        ],
    )


def _admin_command(name: str, method: str, help_text: str, *, reason: bool = False) -> None:
    @member.command(name, help=help_text)
    @click.argument("identity_id", metavar="ID")
    @transact_options
    @key_options
    @node_option
    @json_option
    def command(
        identity_id: str,
        cosign_files: tuple[Path, ...],
        out: Path | None,
        key_file: Path | None,
        network_dir: Path | None,
        org: str | None,
        node_url: str,
        as_json: bool,
        **extra: Any,
    ) -> None:
        args = {"id": identity_id, **extra}
        transact(
            node_url,
            signer_of(key_file, network_dir, org),
            method,
            args,
            cosigners=cosigners(cosign_files),
            out=out,
            as_json=as_json,
        )

    if reason:
        click.option("--reason", default="", help="Why (recorded on chain; no personal data).")(
            command
        )


_admin_command("suspend", "suspend", "Suspend member ID: its keys stop signing.", reason=True)
_admin_command("reinstate", "reinstate", "Reinstate suspended member ID.")
_admin_command("remove", "remove", "Remove member ID for good.", reason=True)


@member.command("roles")
@click.argument("identity_id", metavar="ID")
@_role_option
@transact_options
@key_options
@node_option
@json_option
def member_roles(
    identity_id: str,
    roles: tuple[str, ...],
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Replace the roles of member ID."""
    transact(
        node_url,
        signer_of(key_file, network_dir, org),
        "set_roles",
        {"id": identity_id, "roles": list(roles)},
        cosigners=cosigners(cosign_files),
        out=out,
        as_json=as_json,
    )


# --- DIDs -----------------------------------------------------------------------------------


@click.group()
def did() -> None:
    """Resolve DIDs (did:govchain:<chain-id>:<id>)."""


@did.command("resolve")
@click.argument("ref", metavar="DID")
@click.option("--height", type=int, default=None, help="Resolve as of this block height.")
@node_option
@json_option
def did_resolve(ref: str, height: int | None, node_url: str, as_json: bool) -> None:
    """Resolve DID (or an identity id) to its DID document and metadata.

    Organisations' DIDs are public; others need a member's or the identity's own key."""
    from govchain.contracts.did import did_of

    client = client_from_options(node_url)
    answer = client.resolve_did(
        ref if ref.startswith("did:") else did_of(client.chain_id, ref), height
    )
    if as_json:
        print_json(answer)
        return
    doc, meta = answer["didDocument"], answer["didDocumentMetadata"]
    print_kv(
        doc["id"],
        [
            ("controller", doc["controller"]),
            ("status", meta["status"] + (" (deactivated)" if meta["deactivated"] else "")),
            ("created", f"height {meta['createdHeight']} ({meta.get('created', '')})"),
            ("updated", f"height {meta['updatedHeight']} ({meta.get('updated', '')})"),
            ("resolved at height", answer["didResolutionMetadata"]["height"]),
            ("services", ", ".join(f"{s['id']} {s['serviceEndpoint']}" for s in doc["service"])),
        ],
    )
    print_table(
        "keys",
        ["id", "publicKeyMultibase", "from height", "until height", "status"],
        [
            (
                k["id"].rsplit("#", 1)[-1],
                k["publicKeyMultibase"],
                k["addedHeight"],
                k["untilHeight"],
                k["status"],
            )
            for k in meta["keyHistory"]
        ],
    )
