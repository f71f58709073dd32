"""The holder's and the offline verifier's side of ``govchain cert``: wallet, QR, SD-JWT.

    govchain cert wallet add vc.json --alias licence     (a W3C credential, or an SD-JWT file)
    govchain cert wallet list | show REF | remove REF     (--wallet DIR or env GOVCHAIN_WALLET;
        default ~/.govchain/wallet; REF = alias, hash or a unique prefix of it)
    govchain cert qr licence --key issuer.key [--png qr.png] [--svg qr.svg]   (REF or a file)
    govchain cert qr-verify qr.txt --bundle bundle.json --genesis genesis.json   exit 1 if invalid
    govchain cert qr-verify qr.txt --trust trust.json --genesis genesis.json
    govchain cert qr-verify qr.txt --node http://127.0.0.1:8700
    govchain cert sd-issue --subject subject.json --disclosable name,birthDate --age-over 18 \\
        --holder-key holder.key --key issuer.key --out cred.sdjwt
    govchain cert present id-card --reveal age_over_18 --holder-key holder.key \\
        --nonce N --audience A --out presentation.txt
    govchain cert sd-verify presentation.txt --trust trust.json --genesis genesis.json \\
        --nonce N --audience A      (or --node URL; or --issuer-key HEX to pin a key)

The QR and SD-JWT verifiers find the issuer's key themselves: offline from the credential's
verification bundle (the key valid at issuance, proven; QR) or from a trust file exported from
the chain (``govchain cert trust-export``), both checked against the network's genesis; or online
from the chain (``--node``: for a QR pass the key the issuer's DID had when the credential was
anchored, for a presentation the issuing members' open keys). ``--issuer-key
HEX`` still pins one key by hand. Only ``--node`` and ``trust-export`` talk to a node.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.errors import BadRequest

__all__ = [
    "FILE_TYPE",
    "OUT_TYPE",
    "credential_from",
    "json_flag",
    "load_key_file",
    "public_key_from_hex",
    "read_json",
    "read_text",
    "register_holder_commands",
    "seconds_of",
    "wallet_option",
]

FILE_TYPE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT_TYPE = click.Path(dir_okay=False, path_type=Path)


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc}") from None


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc}") from None


def public_key_from_hex(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest(f"--issuer-key {value[:20]!r}… is not a 64-hex-digit Ed25519 public key")
    return raw


def load_key_file(path: Path) -> Any:
    from govchain.node.config import load_key

    return load_key(path)


def seconds_of(stamp: str | None, field: str) -> int | None:
    from govchain.credentials.vc import parse_datetime_stamp

    return None if stamp is None else int(parse_datetime_stamp(stamp, field=field))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def credential_from(ref: str, wallet_dir: Path | None) -> tuple[dict[str, Any], str]:
    """A W3C credential from a FILE, else from the wallet (alias, hash or prefix); and a label."""
    from govchain.client.wallet import Wallet

    path = Path(ref)
    if path.is_file():
        return read_json(path, "the credential"), str(path)
    return Wallet.open(wallet_dir).get(ref), f"wallet:{ref}"


def _sd_jwt(ref: str, wallet_dir: Path | None) -> str:
    """An SD-JWT from a FILE, else from the wallet."""
    from govchain.client.wallet import Wallet

    path = Path(ref)
    if path.is_file():
        return read_text(path, "the SD-JWT")
    return Wallet.open(wallet_dir).get_sd_jwt(ref)


# --- wallet ----------------------------------------------------------------------------------


def wallet_option(f: Any) -> Any:
    return click.option(
        "--wallet",
        "wallet_dir",
        envvar="GOVCHAIN_WALLET",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The wallet directory (env GOVCHAIN_WALLET; default ~/.govchain/wallet).",
    )(f)


def json_flag(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(f)


@click.group("wallet")
def wallet_group() -> None:
    """The holder's credentials, kept as files named by credential hash (mode 0600)."""


@wallet_group.command("add")
@click.argument("file", type=FILE_TYPE)
@click.option("--alias", default=None, help="A short name to use instead of the hash.")
@wallet_option
@json_flag
def wallet_add(file: Path, alias: str | None, wallet_dir: Path | None, as_json: bool) -> None:
    """Store the signed credential FILE in the wallet: a W3C credential (JSON) or an SD-JWT
    (text, e.g. from `govchain cert sd-issue`).

    \b
    govchain cert wallet add vc.json --alias licence
    govchain cert wallet add cred.sdjwt --alias id-card
    """
    from govchain.client.wallet import Wallet

    wallet = Wallet.open(wallet_dir)
    text = read_text(file, "the credential")
    credential: Any = text
    if text.startswith("{"):
        credential = read_json(file, "the credential")
    digest = wallet.add(credential, alias=alias)
    kind = "sd-jwt" if isinstance(credential, str) else "vc"
    if as_json:
        print_json(
            {"hash": digest, "format": kind, "alias": alias, "wallet": str(wallet.directory)}
        )
        return
    console.print(f"[green]added[/] {kind} {digest}" + (f" as {alias}" if alias else ""))


@wallet_group.command("list")
@wallet_option
@json_flag
def wallet_list(wallet_dir: Path | None, as_json: bool) -> None:
    """The stored credentials: type, issuer, subject, validity, hash."""
    from govchain.client.wallet import Wallet

    entries = Wallet.open(wallet_dir).list()
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    print_table(
        f"wallet ({len(entries)} credentials)",
        ["alias", "type", "issuer", "subject", "valid until", "hash"],
        [
            (
                e.alias,
                e.credential_type + (" (SD-JWT)" if e.format == "sd-jwt" else ""),
                e.issuer,
                e.subject_id,
                e.valid_until,
                e.hash,
            )
            for e in entries
        ],
    )


@wallet_group.command("show")
@click.argument("ref", metavar="REF")
@wallet_option
@json_flag
def wallet_show(ref: str, wallet_dir: Path | None, as_json: bool) -> None:
    """A stored credential (its alias, hash or a unique prefix of the hash)."""
    from govchain.client.wallet import Wallet, describe

    wallet = Wallet.open(wallet_dir)
    item = wallet.get_item(ref)
    digest = item.hash
    if item.sd_jwt is not None:
        _show_sd_jwt(item.sd_jwt, digest, as_json)
        return
    credential = item.vc or {}
    if as_json:
        print_json(credential)
        return
    entry = describe(credential, digest)
    subject = credential.get("credentialSubject", {})
    rows: list[tuple[str, Any]] = [
        ("type", entry.credential_type),
        ("issuer", entry.issuer),
        ("valid from", entry.valid_from),
        ("valid until", entry.valid_until),
    ]
    if isinstance(subject, Mapping):
        rows += [(f"subject.{k}", v) for k, v in subject.items()]
    print_kv(f"credential {digest}", rows)


def _show_sd_jwt(text: str, digest: str, as_json: bool) -> None:
    """An SD-JWT's open claims and the names of the claims its holder may disclose."""
    from govchain.client.wallet import describe_sd_jwt
    from govchain.credentials.sdjwt import get_disclosable_paths

    entry = describe_sd_jwt(text, digest)
    disclosable = sorted(".".join(map(str, p)) for p in get_disclosable_paths(text))
    if as_json:
        print_json({**entry.to_json(), "disclosable": disclosable})
        return
    rows: list[tuple[str, Any]] = [
        ("format", "SD-JWT"),
        ("type", entry.credential_type),
        ("issuer", entry.issuer),
        ("subject", entry.subject_id),
        ("valid until", entry.valid_until),
        ("disclosable", ", ".join(disclosable) or "-"),
    ]
    print_kv(f"credential {digest}", rows)


@wallet_group.command("remove")
@click.argument("ref", metavar="REF")
@wallet_option
@json_flag
def wallet_remove(ref: str, wallet_dir: Path | None, as_json: bool) -> None:
    """Delete a stored credential."""
    from govchain.client.wallet import Wallet

    digest = Wallet.open(wallet_dir).remove(ref)
    if as_json:
        print_json({"removed": digest})
        return
    console.print(f"removed {digest}")


# --- SD-JWT ----------------------------------------------------------------------------------


def _paths(text: str) -> list[tuple[str | int, ...]]:
    return [
        tuple(int(p) if p.isdigit() else p for p in item.strip().split("."))
        for item in text.split(",")
        if item.strip()
    ]


def sd_issue_command(
    subject_file: Path,
    disclosable: str,
    age_over: tuple[int, ...],
    birthdate_claim: str | None,
    issuer: str | None,
    kid: str | None,
    expires_in_days: int,
    holder_key_file: Path,
    key_file: Path,
    out: Path,
) -> None:
    """Issue an SD-JWT of the subject's claims bound to the holder's key."""
    from govchain.credentials.data_integrity import get_did_key_verification_method
    from govchain.credentials.jose import keypair_public_jwk
    from govchain.credentials.sdjwt import issue_sd_jwt
    from govchain.credentials.sdjwt_derived import compute_derived_claims

    subject = read_json(subject_file, "the subject")
    if not isinstance(subject, dict):
        raise BadRequest(f"{subject_file} must hold a JSON object of claims")
    key, holder = load_key_file(key_file), load_key_file(holder_key_file)
    now = datetime.datetime.now(datetime.UTC)
    claims = dict(subject)
    paths = _paths(disclosable)
    if age_over:
        name = birthdate_claim or ("birthDate" if "birthDate" in claims else "birthdate")
        derived = compute_derived_claims(
            claims, on=now.date().isoformat(), age_thresholds=age_over, birthdate_claim=name
        )
        claims.update(derived)
        paths += [(n,) for n in derived]
    if issuer is not None:
        claims["iss"] = issuer
    iat = int(now.timestamp())
    token = issue_sd_jwt(
        claims,
        disclosable=paths,
        issuer_key=key,
        kid=kid or get_did_key_verification_method(key.public_key),
        holder_public_jwk=keypair_public_jwk(holder),
        salt=lambda: os.urandom(16),
        iat=iat,
        exp=iat + expires_in_days * 86400,
    )
    _write_private(out, token + "\n")
    console.print(
        f"[green]issued[/] SD-JWT with {len(paths)} disclosable claims → {out} "
        f"(issuer key {key.public_key.hex()})"
    )


def present_command(
    ref: str,
    reveal: str,
    holder_key_file: Path,
    nonce: str,
    audience: str,
    out: Path | None,
    wallet_dir: Path | None,
) -> None:
    """The holder's presentation of an SD-JWT (a FILE, or REF in the wallet) revealing only the
    chosen claims, bound to nonce and audience."""
    from govchain.credentials.sdjwt import present

    text = present(
        _sd_jwt(ref, wallet_dir),
        reveal=_paths(reveal),
        holder_key=load_key_file(holder_key_file),
        nonce=nonce,
        audience=audience,
        iat=int(time.time()),
    )
    if out is None:
        click.echo(text)
        return
    _write_private(out, text + "\n")
    console.print(f"presentation revealing {reveal} → {out}")


def _sd_issuer_keys(
    text: str,
    issuer_key: str | None,
    trust_file: Path | None,
    genesis_file: Path | None,
    node_url: str | None,
) -> Callable[[str | None, str | None], Mapping[str, Any] | None]:
    """The issuer-key resolver of ``sd-verify``: the pinned key, or the keys of the issuing
    members of the presentation's ``iss`` organisation from a trust file (offline) or the node
    (online), each checked against the genesis when one is given. A key resolves only for the
    ``kid`` it is published under and an ``iss`` that is its holder's organisation."""
    from govchain.cli.cert_cmds import load_genesis_trust
    from govchain.client.issuer_keys import fetch_issuer_trust, get_trust_file_keys
    from govchain.contracts.did import did_of, parse_did
    from govchain.credentials.bundle import decode_issuer_trust
    from govchain.credentials.jose import JoseFailure, ed25519_public_jwk, split_compact

    if issuer_key is not None:
        pinned = ed25519_public_jwk(public_key_from_hex(issuer_key))
        return lambda _iss, _kid: pinned
    if trust_file is None and node_url is None:
        raise BadRequest(
            "say where the issuer's key comes from",
            hint="Give --trust FILE with --genesis genesis.json (offline), --node URL (online), "
            "or --issuer-key HEX.",
        )
    if trust_file is not None and genesis_file is None:
        raise BadRequest("a trust file is checked against the network's genesis: add --genesis")
    trust, peers = (None, None) if genesis_file is None else load_genesis_trust(genesis_file, None)
    if trust_file is not None:
        trusted = decode_issuer_trust(trust_file.read_bytes())
    else:
        from govchain.client import Client

        try:
            iss = split_compact(text.partition("~")[0])[1].get("iss")
        except JoseFailure:
            return lambda _iss, _kid: None  # the verifier reports the malformed presentation
        if not isinstance(iss, str):
            raise BadRequest("the presentation names no issuer (iss) to look up")
        with Client(str(node_url)) as client:
            trusted = fetch_issuer_trust(client, [parse_did(iss)[1]])
    keys = get_trust_file_keys(trusted, trust, peers=peers)

    def resolve(iss: str | None, kid: str | None) -> Mapping[str, Any] | None:
        found = keys.get(kid or "")
        if found is None or iss != did_of(trusted.chain_id, found.org):
            return None
        return ed25519_public_jwk(found.public_key)

    return resolve


def sd_verify_command(
    file: Path,
    issuer_key: str | None,
    trust_file: Path | None,
    genesis_file: Path | None,
    node_url: str | None,
    nonce: str,
    audience: str,
    max_age: int,
    as_json: bool,
) -> None:
    """Verify a presentation against the issuer's key, the nonce and the audience; exit 1 with
    the failure's code. The key of the issuer's member named by the presentation's kid comes
    from a trust file (`govchain cert trust-export`) checked against the genesis, from the node
    (--node; checked too with --genesis), or is pinned with --issuer-key.

    \b
    govchain cert sd-verify p.txt --trust trust.json --genesis genesis.json --nonce N --audience A
    govchain cert sd-verify p.txt --node http://127.0.0.1:8700 --nonce N --audience A
    """
    from govchain.credentials.sdjwt import verify_presentation

    text = read_text(file, "the presentation")
    resolver = _sd_issuer_keys(text, issuer_key, trust_file, genesis_file, node_url)
    verified = verify_presentation(
        text,
        issuer_key_resolver=resolver,
        expected_nonce=nonce,
        expected_audience=audience,
        now=int(time.time()),
        max_kb_age_s=max_age,
    )
    revealed = []
    for path in sorted(verified.disclosed, key=lambda p: tuple(map(str, p))):
        value: Any = verified.claims
        for part in path:
            value = value[part]
        revealed.append({"claim": ".".join(map(str, path)), "value": value})
    if as_json:
        print_json(
            {
                "valid": True,
                "issuer": verified.issuer,
                "kid": verified.kid,
                "revealed": revealed,
            }
        )
        return
    print_table(
        "revealed claims",
        ["claim", "value"],
        [(r["claim"], json.dumps(r["value"], ensure_ascii=False)) for r in revealed],
    )
    console.print(f"[green]VALID[/] (issuer {verified.issuer}, kid {verified.kid})")


def register_holder_commands(cert: click.Group) -> None:
    """Add the wallet, QR and SD-JWT commands to the ``cert`` group."""
    from govchain.cli.cert_qr_cmds import register_qr_commands

    cert.add_command(wallet_group)

    register_qr_commands(cert)

    holder_key = click.option(
        "--holder-key", "holder_key_file", type=FILE_TYPE, required=True, help="Holder key file."
    )
    sd_issue = sd_issue_command
    for option in reversed(
        (
            click.option("--subject", "subject_file", type=FILE_TYPE, required=True),
            click.option("--disclosable", default="", help="Comma-separated claim paths (a.b.0)."),
            click.option(
                "--age-over", type=int, multiple=True, help="Add a disclosable age_over_N claim."
            ),
            click.option("--birthdate-claim", default=None, help="Default birthDate or birthdate."),
            click.option("--issuer", default=None, help="The iss claim (the issuer's DID)."),
            click.option("--kid", default=None, help="Default: the issuer key's did:key id."),
            click.option(
                "--expires-in-days", type=click.IntRange(1), default=365, show_default=True
            ),
            holder_key,
            click.option(
                "--key", "key_file", type=FILE_TYPE, required=True, help="Issuer key file."
            ),
            click.option("--out", type=OUT_TYPE, required=True),
        )
    ):  # applied last to first, so --help lists them in this order
        sd_issue = option(sd_issue)
    cert.command("sd-issue")(sd_issue)

    present_ = present_command
    for option in reversed(
        (
            click.argument("ref", metavar="FILE|REF"),
            click.option("--reveal", required=True, help="Comma-separated claim paths to reveal."),
            holder_key,
            click.option("--nonce", required=True),
            click.option("--audience", required=True),
            click.option("--out", type=OUT_TYPE, default=None, help="Default: print it."),
            wallet_option,
        )
    ):  # applied last to first, so --help lists them in this order
        present_ = option(present_)
    cert.command("present")(present_)

    sd_verify = sd_verify_command
    for option in reversed(
        (
            click.argument("file", type=FILE_TYPE),
            click.option("--issuer-key", default=None, help="Pin the issuer's key (hex) by hand."),
            click.option(
                "--trust",
                "trust_file",
                type=FILE_TYPE,
                default=None,
                help="A trust file (offline).",
            ),
            click.option(
                "--genesis", "genesis_file", type=FILE_TYPE, default=None, help="The genesis.json."
            ),
            click.option("--node", "node_url", default=None, help="Resolve the key online."),
            click.option("--nonce", required=True),
            click.option("--audience", required=True),
            click.option("--max-age", type=int, default=300, show_default=True, help="KB-JWT age."),
        )
    ):  # applied last to first, so --help lists them in this order
        sd_verify = option(sd_verify)
    cert.command("sd-verify")(json_flag(sd_verify))
