"""``govchain cert qr`` and ``qr-verify``: compact signed passes of credentials.

    govchain cert qr licence --key issuer.key --png qr.png     (a wallet REF or a FILE)
    govchain cert qr-verify qr.txt --bundle bundle.json --genesis genesis.json
    govchain cert qr-verify qr.txt --trust trust.json --genesis genesis.json
    govchain cert qr-verify qr.txt --node http://127.0.0.1:8700

See :mod:`govchain.cli.cert_holder_cmds` for where the verifier's issuer key comes from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from govchain.cli.cert_holder_cmds import (
    FILE_TYPE,
    OUT_TYPE,
    credential_from,
    json_flag,
    load_key_file,
    public_key_from_hex,
    read_json,
    read_text,
    seconds_of,
    wallet_option,
)
from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.errors import BadRequest

__all__ = ["build_qr_claims", "register_qr_commands"]


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
        nbf=seconds_of(vc.get("validFrom"), "validFrom"),
        exp=seconds_of(vc.get("validUntil"), "validUntil"),
        claims=claims,
    )


def qr_command(
    ref: str,
    key_file: Path,
    png: Path | None,
    svg: Path | None,
    wallet_dir: Path | None,
    as_json: bool,
) -> None:
    """Encode a credential (a FILE, or REF in the wallet) as a compact signed pass (HC1: +
    Base45(zlib(COSE_Sign1 CWT))), signed with EdDSA by the issuer key that signed it; print it
    as a QR code."""
    from govchain.credentials.data_integrity import verify_proof
    from govchain.credentials.qr import encode_qr_payload
    from govchain.credentials.qr_render import render_qr_png, render_qr_svg, render_qr_terminal
    from govchain.credentials.vc import compute_credential_id

    vc, file = credential_from(ref, wallet_dir)
    key = load_key_file(key_file)
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


@dataclass(frozen=True)
class _KeySource:
    issuer_key: str | None
    bundle_file: Path | None
    trust_file: Path | None
    genesis_file: Path | None
    node_url: str | None


def _resolve_keys(source: _KeySource, text: str) -> tuple[dict[bytes, bytes], dict[str, Any]]:
    """The trusted issuer keys by kid, and the step that reports where they came from."""
    from govchain.errors import GovchainError

    try:
        keys, message = _find_keys(source, text)
    except GovchainError as exc:
        step: dict[str, Any] = {"step": "issuer-key", "status": "failed", "reason": exc.code}
        return {}, {**step, "message": exc.message}
    return keys, {"step": "issuer-key", "status": "passed", "reason": None, "message": message}


def _find_keys(source: _KeySource, text: str) -> tuple[dict[bytes, bytes], str]:
    from govchain.cli.cert_cmds import load_genesis_trust
    from govchain.client.issuer_keys import get_bundle_keys, get_trust_file_keys
    from govchain.credentials.bundle import decode_bundle, decode_issuer_trust

    if source.issuer_key is not None:
        return _PinnedKey(public_key_from_hex(source.issuer_key)), "pinned with --issuer-key"
    if source.node_url is not None:
        return _online_keys(source.node_url, text)
    if source.genesis_file is None or (source.bundle_file or source.trust_file) is None:
        raise BadRequest(
            "say where the issuer's key comes from",
            hint="Give --bundle FILE or --trust FILE with --genesis genesis.json (offline), "
            "or --node URL (online), or --issuer-key HEX.",
        )
    trust, peers = load_genesis_trust(source.genesis_file, None)
    if source.bundle_file is not None:
        bundle = decode_bundle(source.bundle_file.read_bytes())
        found = get_bundle_keys(bundle, trust, int(time.time() * 1000), peers=peers)
        claimed = _claimed_hash(text)
        if claimed is not None and claimed != bundle.credential_hash:
            raise BadRequest("the pass is of another credential than the bundle's")
    else:
        assert source.trust_file is not None
        trusted = decode_issuer_trust(source.trust_file.read_bytes())
        found = get_trust_file_keys(trusted, trust, peers=peers)
    keys = {kid.encode(): k.public_key for kid, k in found.items()}
    first = next(iter(found.values()), None)
    where = "no key" if first is None else f"{len(found)} key(s) from the {first.source}"
    return keys, where + (f": {first.detail}" if len(found) == 1 and first else "")


class _PinnedKey(dict[bytes, bytes]):
    """One key for whatever kid the pass names."""

    def __init__(self, key: bytes) -> None:
        super().__init__()
        self.key = key

    def get(self, kid: bytes, default: Any = None) -> Any:
        return self.key


def _claimed(text: str) -> tuple[Any, str | None]:
    """The pass's claims and kid, read without checking the signature (to find which key and
    credential to look up)."""
    from govchain.credentials.cose import decode_cwt
    from govchain.credentials.qr import decode_qr_payload

    decoded = decode_qr_payload(text, key_or_cert_resolver=lambda _kid: None)
    if decoded.cose is None or decoded.cose.kid is None:
        return None, None
    try:
        claims = decode_cwt(decoded.cose.payload)
    except (ValueError, TypeError, BadRequest):
        return None, None
    return claims, decoded.cose.kid.decode("utf-8", "replace")


def _claimed_hash(text: str) -> str | None:
    claims, _ = _claimed(text)
    value = None if claims is None else (claims.claims or {}).get("hash")
    return value if isinstance(value, str) else None


def _online_keys(node_url: str, text: str) -> tuple[dict[bytes, bytes], str]:
    from govchain.client import Client
    from govchain.client.issuer_keys import resolve_key_online

    claims, kid = _claimed(text)
    digest = None if claims is None else (claims.claims or {}).get("hash")
    if kid is None or not isinstance(digest, str):
        return {}, "the pass names no key id or credential hash"
    with Client(node_url) as client:
        found = resolve_key_online(client, kid, bytes.fromhex(digest))
    return {kid.encode(): found.public_key}, f"{kid} from the chain: {found.detail}"


def qr_verify_command(
    ref: str,
    issuer_key: str | None,
    bundle_file: Path | None,
    trust_file: Path | None,
    genesis_file: Path | None,
    node_url: str | None,
    as_json: bool,
) -> None:
    """Decode and verify a QR pass (the text, or a file holding it); exit 1 on failure. The
    issuer's key comes from --bundle or --trust with --genesis (offline), --node (online) or
    --issuer-key.

    \b
    govchain cert qr-verify qr.txt --bundle bundle.json --genesis genesis.json
    govchain cert qr-verify qr.txt --trust trust.json --genesis genesis.json --json
    govchain cert qr-verify "HC1:..." --node http://127.0.0.1:8700
    """
    from govchain.credentials.qr import StepStatus, decode_qr_payload

    path = Path(ref)
    text = read_text(path, "the QR text") if path.is_file() else ref.strip()
    source = _KeySource(issuer_key, bundle_file, trust_file, genesis_file, node_url)
    keys, key_step = _resolve_keys(source, text)
    decoded = decode_qr_payload(text, key_or_cert_resolver=keys.get, now=int(time.time()))
    steps = [key_step] + [
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
    if key_step["status"] == "failed" and not valid:
        reason = key_step["reason"]
    _report_qr(decoded, steps, valid, reason, as_json, StepStatus)
    if not valid:
        raise SystemExit(1)


def _report_qr(
    decoded: Any, steps: list[dict[str, Any]], valid: bool, reason: Any, as_json: bool, status: Any
) -> None:
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
        return
    mark = {
        str(status.PASSED): "[green]ok[/]",
        str(status.FAILED): "[red]FAILED[/]",
        str(status.SKIPPED): "[yellow]-[/]",
    }
    print_table(
        "QR pass",
        ["step", "result", "reason", "detail"],
        [(s["step"], mark[str(s["status"])], s["reason"], s["message"]) for s in steps],
    )
    if summary is not None:
        print_kv("claims", list(summary.items()))
    console.print("[green]VALID[/]" if valid else f"[red]INVALID[/] {reason}")


def _check_chain(genesis_file: Path, claims: Any, kid: bytes | None) -> str | None:
    from govchain.contracts.did import parse_did
    from govchain.errors import GovchainError

    genesis = read_json(genesis_file, "the genesis")
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


def register_qr_commands(cert: click.Group) -> None:
    """Add ``qr`` and ``qr-verify`` to the ``cert`` group."""
    qr = qr_command
    for option in reversed(
        (
            click.argument("ref", metavar="FILE|REF"),
            click.option(
                "--key", "key_file", type=FILE_TYPE, required=True, help="Issuer key file."
            ),
            click.option("--png", type=OUT_TYPE, default=None, help="Also write a PNG."),
            click.option("--svg", type=OUT_TYPE, default=None, help="Also write an SVG."),
            wallet_option,
            json_flag,
        )
    ):
        qr = option(qr)
    cert.command("qr")(qr)

    qr_verify = qr_verify_command
    for option in reversed(
        (
            click.argument("ref", metavar="TEXT_OR_FILE"),
            click.option("--issuer-key", default=None, help="Pin the issuer's key (hex) by hand."),
            click.option(
                "--bundle",
                "bundle_file",
                type=FILE_TYPE,
                default=None,
                help="The credential's verification bundle: the key valid at issuance.",
            ),
            click.option(
                "--trust",
                "trust_file",
                type=FILE_TYPE,
                default=None,
                help="A trust file from `govchain cert trust-export`.",
            ),
            click.option(
                "--genesis",
                "genesis_file",
                type=FILE_TYPE,
                default=None,
                help="The network's genesis.json (checks bundles, trust files, DIDs).",
            ),
            click.option(
                "--node", "node_url", default=None, help="Resolve the key online from this node."
            ),
            json_flag,
        )
    ):
        qr_verify = option(qr_verify)
    cert.command("qr-verify")(qr_verify)
