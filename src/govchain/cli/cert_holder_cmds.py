"""The holder's and the offline verifier's side of ``govchain cert``: wallet, QR, SD-JWT.

None of these commands talks to a node.

    govchain cert wallet add vc.json | list | show HASH | remove HASH   (--wallet DIR or env
        GOVCHAIN_WALLET; default ~/.govchain/wallet)
    govchain cert qr vc.json --key issuer.key [--png qr.png] [--svg qr.svg]
    govchain cert qr-verify qr.txt --issuer-key HEX [--genesis genesis.json]   exit 1 if invalid
    govchain cert sd-issue --subject subject.json --disclosable name,birthDate --age-over 18 \\
        --holder-key holder.key --key issuer.key --out cred.sdjwt
    govchain cert present cred.sdjwt --reveal age_over_18 --holder-key holder.key \\
        --nonce N --audience A --out presentation.txt
    govchain cert sd-verify presentation.txt --issuer-key HEX --nonce N --audience A

The QR verifier trusts exactly the issuer key given with ``--issuer-key`` (hex Ed25519 public key,
e.g. from the issuer's member record or a verified bundle); ``--genesis`` adds the check that the
issuer's DID and the key id belong to that network.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.errors import BadRequest

__all__ = ["register_holder_commands"]

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc}") from None


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc}") from None


def _public_key_hex(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest(f"--issuer-key {value[:20]!r}… is not a 64-hex-digit Ed25519 public key")
    return raw


def _load_key(path: Path) -> Any:
    from govchain.node.config import load_key

    return load_key(path)


def _seconds(stamp: str | None, field: str) -> int | None:
    from govchain.credentials.vc import parse_datetime_stamp

    return None if stamp is None else int(parse_datetime_stamp(stamp, field=field))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


# --- wallet ----------------------------------------------------------------------------------


def _wallet_option(f: Any) -> Any:
    return click.option(
        "--wallet",
        "wallet_dir",
        envvar="GOVCHAIN_WALLET",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The wallet directory (env GOVCHAIN_WALLET; default ~/.govchain/wallet).",
    )(f)


def _json_flag(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(f)


@click.group("wallet")
def wallet_group() -> None:
    """The holder's credentials, kept as files named by credential hash (mode 0600)."""


@wallet_group.command("add")
@click.argument("file", type=_FILE)
@_wallet_option
@_json_flag
def wallet_add(file: Path, wallet_dir: Path | None, as_json: bool) -> None:
    """Store the signed credential FILE in the wallet."""
    from govchain.client.wallet import Wallet

    wallet = Wallet.open(wallet_dir)
    digest = wallet.add(_read_json(file, "the credential"))
    if as_json:
        print_json({"hash": digest, "wallet": str(wallet.directory)})
        return
    console.print(f"[green]added[/] {digest}")


@wallet_group.command("list")
@_wallet_option
@_json_flag
def wallet_list(wallet_dir: Path | None, as_json: bool) -> None:
    """The stored credentials: type, issuer, subject, validity, hash."""
    from govchain.client.wallet import Wallet

    entries = Wallet.open(wallet_dir).list()
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    print_table(
        f"wallet ({len(entries)} credentials)",
        ["type", "issuer", "subject", "valid from", "valid until", "hash"],
        [
            (e.credential_type, e.issuer, e.subject_id, e.valid_from, e.valid_until, e.hash)
            for e in entries
        ],
    )


@wallet_group.command("show")
@click.argument("ref", metavar="HASH")
@_wallet_option
@_json_flag
def wallet_show(ref: str, wallet_dir: Path | None, as_json: bool) -> None:
    """A stored credential (HASH or a unique prefix of it)."""
    from govchain.client.wallet import Wallet, describe

    wallet = Wallet.open(wallet_dir)
    digest = wallet.resolve(ref)
    credential = wallet.get(digest)
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


@wallet_group.command("remove")
@click.argument("ref", metavar="HASH")
@_wallet_option
@_json_flag
def wallet_remove(ref: str, wallet_dir: Path | None, as_json: bool) -> None:
    """Delete a stored credential."""
    from govchain.client.wallet import Wallet

    digest = Wallet.open(wallet_dir).remove(ref)
    if as_json:
        print_json({"removed": digest})
        return
    console.print(f"removed {digest}")


# --- QR --------------------------------------------------------------------------------------


def build_qr_claims(vc: Mapping[str, Any], digest: str, iat: int) -> Any:
    """The CWT claims of a credential's compact pass."""
    from govchain.credentials.cose import CwtClaims

    types = [t for t in vc.get("type", []) if t != "VerifiableCredential"]
    issuer = vc.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    subject = vc.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, Mapping) else None
    claims: dict[str, Any] = {"hash": digest, "type": types[0] if types else ""}
    return CwtClaims(
        iss=issuer if isinstance(issuer, str) else None,
        sub=subject_id if isinstance(subject_id, str) else None,
        iat=iat,
        nbf=_seconds(vc.get("validFrom"), "validFrom"),
        exp=_seconds(vc.get("validUntil"), "validUntil"),
        claims=claims,
    )


def qr_command(
    file: Path, key_file: Path, png: Path | None, svg: Path | None, as_json: bool
) -> None:
    """Encode the credential FILE as a compact signed pass (HC1: + Base45(zlib(COSE_Sign1 CWT))),
    signed with EdDSA by the issuer key that signed it; print it as a QR code."""
    from govchain.credentials.data_integrity import verify_proof
    from govchain.credentials.qr import encode_qr_payload
    from govchain.credentials.qr_render import render_qr_png, render_qr_svg, render_qr_terminal
    from govchain.credentials.vc import compute_credential_id

    vc = _read_json(file, "the credential")
    key = _load_key(key_file)
    proof = vc.get("proof") if isinstance(vc, Mapping) else None
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str):
        raise BadRequest(f"{file} has no Data Integrity proof naming its verification method")
    if not verify_proof(vc, resolve_key=lambda _m: key.public_key).verified:
        raise BadRequest(
            f"{key_file} did not sign {file}: its proof does not verify with it",
            hint="Pass --key with the issuer key that signed the credential.",
        )
    digest = compute_credential_id(vc)
    claims = build_qr_claims(vc, digest, int(time.time()))
    text = encode_qr_payload(claims, key, method.encode("utf-8"))
    if png is not None:
        png.write_bytes(render_qr_png(text))
    if svg is not None:
        svg.write_bytes(render_qr_svg(text))
    if as_json:
        print_json({"hash": digest, "kid": method, "qr": text, "png": png, "svg": svg})
        return
    click.echo(render_qr_terminal(text))
    click.echo(text)
    console.print(f"credential {digest}, kid {method}, {len(text)} characters")


def qr_verify_command(ref: str, issuer_key: str, genesis_file: Path | None, as_json: bool) -> None:
    """Decode and verify a QR pass offline (the text, or a file holding it); exit 1 on failure."""
    from govchain.credentials.qr import StepStatus, decode_qr_payload

    path = Path(ref)
    text = _read_text(path, "the QR text") if path.is_file() else ref.strip()
    public = _public_key_hex(issuer_key)
    decoded = decode_qr_payload(
        text, key_or_cert_resolver=lambda _kid: public, now=int(time.time())
    )
    steps = [
        {"step": str(s.step), "status": str(s.status), "reason": s.reason, "message": s.message}
        for s in decoded.steps
    ]
    chain_error = None
    if decoded.ok and genesis_file is not None:
        chain_error = _check_chain(genesis_file, decoded.claims, decoded.kid)
        steps.append(
            {
                "step": "chain",
                "status": "failed" if chain_error else "passed",
                "reason": "QR_WRONG_CHAIN" if chain_error else None,
                "message": chain_error or "issuer DID and key id of this network",
            }
        )
    valid = decoded.ok and chain_error is None
    reason = decoded.reason or ("QR_WRONG_CHAIN" if chain_error else None)
    claims = decoded.claims
    summary = None
    if claims is not None:
        extra = dict(claims.claims or {})
        summary = {
            "hash": extra.get("hash"),
            "type": extra.get("type"),
            "issuer": claims.iss,
            "subject": claims.sub,
            "nbf": claims.nbf,
            "exp": claims.exp,
            "kid": None if decoded.kid is None else decoded.kid.decode("utf-8", "replace"),
        }
    if as_json:
        print_json({"valid": valid, "reason": reason, "steps": steps, "claims": summary})
    else:
        mark = {
            str(StepStatus.PASSED): "[green]ok[/]",
            str(StepStatus.FAILED): "[red]FAILED[/]",
            str(StepStatus.SKIPPED): "[yellow]-[/]",
        }
        print_table(
            "QR pass",
            ["step", "result", "reason", "detail"],
            [(s["step"], mark[str(s["status"])], s["reason"], s["message"]) for s in steps],
        )
        if summary is not None:
            print_kv("claims", list(summary.items()))
        verdict = "[green]VALID[/]" if valid else f"[red]INVALID[/] {reason}"
        console.print(verdict)
    if not valid:
        raise SystemExit(1)


def _check_chain(genesis_file: Path, claims: Any, kid: bytes | None) -> str | None:
    from govchain.contracts.did import parse_did
    from govchain.errors import GovchainError

    genesis = _read_json(genesis_file, "the genesis")
    chain_id = genesis.get("chain_id") if isinstance(genesis, Mapping) else None
    method = (kid or b"").decode("utf-8", "replace").split("#", 1)[0]
    for what, did in (("issuer", claims.iss or ""), ("key", method)):
        try:
            did_chain, _ = parse_did(did)
        except GovchainError:
            return f"the {what} {did[:80]!r} is not a govchain DID"
        if did_chain != chain_id:
            return f"the {what} DID is of chain {did_chain!r}, not {chain_id!r}"
    return None


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

    subject = _read_json(subject_file, "the subject")
    if not isinstance(subject, dict):
        raise BadRequest(f"{subject_file} must hold a JSON object of claims")
    key, holder = _load_key(key_file), _load_key(holder_key_file)
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
    file: Path,
    reveal: str,
    holder_key_file: Path,
    nonce: str,
    audience: str,
    out: Path | None,
) -> None:
    """The holder's presentation revealing only the chosen claims, bound to nonce and audience."""
    from govchain.credentials.sdjwt import present

    text = present(
        _read_text(file, "the SD-JWT"),
        reveal=_paths(reveal),
        holder_key=_load_key(holder_key_file),
        nonce=nonce,
        audience=audience,
        iat=int(time.time()),
    )
    if out is None:
        click.echo(text)
        return
    _write_private(out, text + "\n")
    console.print(f"presentation revealing {reveal} → {out}")


def sd_verify_command(
    file: Path, issuer_key: str, nonce: str, audience: str, max_age: int, as_json: bool
) -> None:
    """Verify a presentation against the issuer key, nonce and audience; exit 1 with the failure's
    code."""
    from govchain.credentials.jose import ed25519_public_jwk
    from govchain.credentials.sdjwt import verify_presentation

    jwk = ed25519_public_jwk(_public_key_hex(issuer_key))
    verified = verify_presentation(
        _read_text(file, "the presentation"),
        issuer_key_resolver=lambda _iss, _kid: jwk,
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
    cert.add_command(wallet_group)

    cert.command("qr")(
        click.argument("file", type=_FILE)(
            click.option("--key", "key_file", type=_FILE, required=True, help="Issuer key file.")(
                click.option("--png", type=_OUT, default=None, help="Also write a PNG.")(
                    click.option("--svg", type=_OUT, default=None, help="Also write an SVG.")(
                        _json_flag(qr_command)
                    )
                )
            )
        )
    )
    issuer_key = click.option(
        "--issuer-key", required=True, help="The issuer's Ed25519 public key (hex)."
    )
    cert.command("qr-verify")(
        click.argument("ref", metavar="TEXT_OR_FILE")(
            issuer_key(
                click.option(
                    "--genesis",
                    "genesis_file",
                    type=_FILE,
                    default=None,
                    help="Also check the issuer DID and key id are of this network.",
                )(_json_flag(qr_verify_command))
            )
        )
    )
    holder_key = click.option(
        "--holder-key", "holder_key_file", type=_FILE, required=True, help="Holder key file."
    )
    sd_issue = sd_issue_command
    for option in (
        click.option("--subject", "subject_file", type=_FILE, required=True),
        click.option("--disclosable", default="", help="Comma-separated claim paths (a.b.0)."),
        click.option(
            "--age-over", type=int, multiple=True, help="Add a disclosable age_over_N claim."
        ),
        click.option("--birthdate-claim", default=None, help="Default birthDate or birthdate."),
        click.option("--issuer", default=None, help="The iss claim (the issuer's DID)."),
        click.option("--kid", default=None, help="Default: the issuer key's did:key id."),
        click.option("--expires-in-days", type=click.IntRange(1), default=365, show_default=True),
        holder_key,
        click.option("--key", "key_file", type=_FILE, required=True, help="Issuer key file."),
        click.option("--out", type=_OUT, required=True),
    ):
        sd_issue = option(sd_issue)
    cert.command("sd-issue")(sd_issue)

    present_ = present_command
    for option in (
        click.argument("file", type=_FILE),
        click.option("--reveal", required=True, help="Comma-separated claim paths to reveal."),
        holder_key,
        click.option("--nonce", required=True),
        click.option("--audience", required=True),
        click.option("--out", type=_OUT, default=None, help="Default: print it."),
    ):
        present_ = option(present_)
    cert.command("present")(present_)

    sd_verify = sd_verify_command
    for option in (
        click.argument("file", type=_FILE),
        issuer_key,
        click.option("--nonce", required=True),
        click.option("--audience", required=True),
        click.option("--max-age", type=int, default=300, show_default=True, help="KB-JWT age."),
    ):
        sd_verify = option(sd_verify)
    cert.command("sd-verify")(_json_flag(sd_verify))
