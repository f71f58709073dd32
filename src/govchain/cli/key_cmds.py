"""``govchain key|register``: keys of identities (new, rotate, revoke, add) and self-registration
of enterprises and citizens. Co-signing works as in :mod:`govchain.cli.identity_cmds`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from govchain.cli.common import json_option, key_options, node_option
from govchain.cli.identity_cmds import (
    cosigners,
    key_file_or_new,
    signer_of,
    transact,
    transact_options,
    unhex,
)
from govchain.cli.output import print_json
from govchain.errors import BadRequest

__all__ = ["key", "register"]

F = TypeVar("F", bound=Callable[..., Any])


# --- keys -----------------------------------------------------------------------------------


@click.group()
def key() -> None:
    """Create, rotate, revoke and add keys (the identity itself or its organisation's admin)."""


@key.command("new")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--org", "org_id", default="", help="Record the organisation it will act for.")
@click.option("--role", default="", help="Record the role it will have.")
@json_option
def key_new(file: Path, org_id: str, role: str, as_json: bool) -> None:
    """Generate a new Ed25519 key into FILE (never overwrites)."""
    if file.exists():
        raise BadRequest(f"{file} exists", hint="Choose another file name.")
    pair = key_file_or_new(file, org=org_id, role=role)
    if as_json:
        print_json({"file": str(file), "public_key": pair.public_key.hex()})


def _key_change_options(f: F) -> F:
    return transact_options(key_options(node_option(json_option(f))))


@key.command("rotate")
@click.argument("identity_id", metavar="ID")
@click.option("--old", "old_hex", required=True, help="The key to replace (hex).")
@click.option(
    "--new-key",
    "new_key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new key file (generated if missing); it co-signs.",
)
@_key_change_options
def key_rotate(
    identity_id: str,
    old_hex: str,
    new_key_file: Path,
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Replace key --old of ID by --new-key from the next block on (older signatures stay
    verifiable as of their height)."""
    new = key_file_or_new(new_key_file)
    args = {
        "id": identity_id,
        "old_public_key": unhex(old_hex, "old key"),
        "new_public_key": new.public_key,
    }
    transact(
        node_url,
        signer_of(key_file, network_dir, org),
        "rotate_key",
        args,
        cosigners=cosigners(cosign_files, new),
        out=out,
        as_json=as_json,
    )


@key.command("revoke")
@click.argument("identity_id", metavar="ID")
@click.argument("public_key")
@click.option("--reason", default="", help="Why (recorded on chain).")
@_key_change_options
def key_revoke(
    identity_id: str,
    public_key: str,
    reason: str,
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Revoke PUBLIC_KEY (hex) of ID (never its last valid key)."""
    args = {"id": identity_id, "public_key": unhex(public_key, "public key"), "reason": reason}
    transact(
        node_url,
        signer_of(key_file, network_dir, org),
        "revoke_key",
        args,
        cosigners=cosigners(cosign_files),
        out=out,
        as_json=as_json,
    )


@key.command("add")
@click.argument("identity_id", metavar="ID")
@click.option(
    "--new-key",
    "new_key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The key file to add (generated if missing); it co-signs.",
)
@_key_change_options
def key_add(
    identity_id: str,
    new_key_file: Path,
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Add --new-key to ID."""
    new = key_file_or_new(new_key_file)
    transact(
        node_url,
        signer_of(key_file, network_dir, org),
        "add_key",
        {"id": identity_id, "public_key": new.public_key},
        cosigners=cosigners(cosign_files, new),
        out=out,
        as_json=as_json,
    )


# --- self-registration ----------------------------------------------------------------------


@click.group()
def register() -> None:
    """Register your own identity (enterprise or citizen) with your key (--key FILE)."""


def _attestation_options(f: F) -> F:
    f = click.option("--kind", default="real-name", show_default=True, help="Attestation kind.")(f)
    f = click.option(
        "--evidence-hash", default=None, help="SHA-256 (hex) of the evidence the issuer keeps."
    )(f)
    f = click.option(
        "--evidence",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="A file whose SHA-256 is the evidence hash (the file stays off chain).",
    )(f)
    return click.option("--issuer", default=None, help="The attesting organisation.")(f)


def _attestation(
    issuer: str | None, evidence: Path | None, evidence_hash: str | None, kind: str
) -> dict[str, Any] | None:
    if issuer is None:
        return None
    if evidence is not None:
        digest = hashlib.sha256(evidence.read_bytes()).digest()
    elif evidence_hash is not None:
        digest = unhex(evidence_hash, "evidence hash")
    else:
        raise BadRequest("an attestation needs --evidence FILE or --evidence-hash HEX")
    return {"issuer": issuer, "evidence_hash": digest, "kind": kind}


@register.command("enterprise")
@click.argument("credit_code")
@click.option("--name", required=True, help="The enterprise's registered name.")
@click.option("--name-zh", default="", help="The name in Chinese.")
@_attestation_options
@transact_options
@node_option
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your key file (generated if missing): it becomes the enterprise's key.",
)
@json_option
def register_enterprise(
    credit_code: str,
    name: str,
    name_zh: str,
    issuer: str | None,
    evidence: Path | None,
    evidence_hash: str | None,
    kind: str,
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path,
    node_url: str,
    as_json: bool,
) -> None:
    """Register the enterprise CREDIT_CODE (unified social credit code) as ent:CREDIT_CODE;
    an attestation (--issuer ...) is co-signed by an officer of the issuer (--cosign-key)."""
    args: dict[str, Any] = {"credit_code": credit_code, "name": name, "name_zh": name_zh}
    if (att := _attestation(issuer, evidence, evidence_hash, kind)) is not None:
        args["attestation"] = att
    transact(
        node_url,
        key_file_or_new(key_file),
        "register_enterprise",
        args,
        cosigners=cosigners(cosign_files),
        out=out,
        as_json=as_json,
    )


@register.command("citizen")
@_attestation_options
@transact_options
@node_option
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your key file (generated if missing): your pseudonymous id derives from it.",
)
@json_option
def register_citizen(
    issuer: str | None,
    evidence: Path | None,
    evidence_hash: str | None,
    kind: str,
    cosign_files: tuple[Path, ...],
    out: Path | None,
    key_file: Path,
    node_url: str,
    as_json: bool,
) -> None:
    """Register as a citizen (id cit:<hex>, no personal data on chain) with an attestation by
    an accredited organisation, co-signed by its officer (--cosign-key, or --out and
    `govchain tx sign`)."""
    att = _attestation(issuer, evidence, evidence_hash, kind)
    if att is None:
        raise BadRequest("a citizen registration needs an attestation: --issuer ORG --evidence ...")
    transact(
        node_url,
        key_file_or_new(key_file),
        "register_citizen",
        {"attestation": att},
        cosigners=cosigners(cosign_files),
        out=out,
        as_json=as_json,
    )
