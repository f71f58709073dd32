"""``govchain cert``: credential schemas, issuing, verifying and the status of certificates.

Issuing signs with a member's key (``--key issuer.key``; an issuer or officer of an organisation
accredited for the type); the organisation is the one recorded in the key file unless
``--issuer-org`` says otherwise.

    govchain cert schema register BusinessLicence 1.0 schema.json --key issuer.key
    govchain cert schema show BusinessLicence
    govchain cert issue --type BusinessLicence --schema-version 1.0 --subject subject.json \\
        --valid-until 2031-01-01T00:00:00Z --out vc.json --key issuer.key
    govchain cert bulk-issue licences.csv --type BusinessLicence --schema-version 1.0 \\
        --columns id,name,licenceNo --out licences.jsonl --key issuer.key
    govchain cert show vc.json                 (or a hash)
    govchain cert verify vc.json               exit 1 when a check fails
    govchain cert revoke vc.json --reason superseded --key officer.key
    govchain cert bundle vc.json --out bundle.json          (a hash gives a bundle without the VC)
    govchain cert verify-offline bundle.json --genesis genesis.json    no network; exit 1 if invalid
    govchain cert status-list publish --org tax --purpose revocation --key issuer.key

The holder side (wallet, QR passes, SD-JWT presentations):
:mod:`govchain.cli.cert_holder_cmds`.
"""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path
from typing import Any

import click

from govchain.cli.common import (
    client_from_options,
    json_option,
    key_options,
    load_signing_key,
    node_option,
    signing_org,
)
from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.contracts.certs_records import ASSURANCE_LEVELS, MAX_BATCH, REASON_CODES
from govchain.credentials.vc import compute_credential_id, parse_datetime_stamp
from govchain.errors import BadRequest

__all__ = ["cert", "load_genesis_trust"]


@click.group("cert")
def cert() -> None:
    """Certificates: schemas, issuing, verifying, revoking, suspending, reinstating."""


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc}") from None


def _hash_of(ref: str) -> str:
    """A credential's hash from a hash or a credential file."""
    path = Path(ref)
    if path.is_file():
        return compute_credential_id(_read_json(path, "the credential"))
    try:
        raw = bytes.fromhex(ref)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest(f"{ref!r} is neither a credential file nor a 64-hex-digit hash")
    return ref.lower()


def _now_stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _issuer_options(f: Any) -> Any:
    options = [
        click.option("--type", "credential_type", required=True, help="The credential type."),
        click.option("--schema-version", required=True, help="The type's schema version."),
        click.option("--valid-from", default=None, help="dateTimeStamp (default: now)."),
        click.option("--valid-until", default=None, help="dateTimeStamp (default: none)."),
        click.option(
            "--assurance",
            type=click.Choice(ASSURANCE_LEVELS),
            default="C",
            show_default=True,
            help="Evidence grade A (strongest) to D.",
        ),
        click.option("--issuer-org", default=None, help="Default: the key file's organisation."),
    ]
    for option in reversed(options):
        f = option(f)
    return json_option(node_option(key_options(f)))


# --- schemas ---------------------------------------------------------------------------------


@cert.group("schema")
def schema() -> None:
    """Credential types' JSON Schemas on chain (versioned, immutable)."""


@schema.command("register")
@click.argument("credential_type", metavar="TYPE")
@click.argument("version")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@key_options
@node_option
@json_option
def schema_register(
    credential_type: str,
    version: str,
    file: Path,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Register VERSION of TYPE's JSON Schema (draft 2020-12) from FILE (an admin or issuer of an
    organisation accredited for TYPE)."""
    key = load_signing_key(key_file, network_dir, org)
    text = json.dumps(_read_json(file, "the schema"), ensure_ascii=False, separators=(",", ":"))
    args = {"credential_type": credential_type, "version": version, "schema_json": text}
    outcome = client_from_options(node_url, key=key).send(key, "certs", "register_schema", args)
    if as_json:
        print_json(outcome.result)
        return
    console.print(f"[green]schema {credential_type} {version} registered[/] at {outcome.height}")


@schema.command("show")
@click.argument("credential_type", metavar="TYPE")
@click.option("--version", "version", default=None, help="Default: the latest.")
@node_option
@json_option
def schema_show(credential_type: str, version: str | None, node_url: str, as_json: bool) -> None:
    """Show a credential type's schema."""
    record = client_from_options(node_url).credential_schema(credential_type, version)
    if as_json:
        print_json({**record, "schema": json.loads(record["schema_json"])})
        return
    print_kv(
        f"schema {credential_type} {record['version']}",
        [("registered by", f"{record['registrant']} at height {record['height']}")],
    )
    console.print_json(record["schema_json"])


# --- issuing ---------------------------------------------------------------------------------


@cert.command("issue")
@click.option(
    "--subject",
    "subject_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="credentialSubject as a JSON file.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--id", "credential_id", default=None, help="The credential's id (a URL).")
@_issuer_options
def cert_issue(subject_file: Path, out: Path, credential_id: str | None, **opts: Any) -> None:
    """Issue one credential: validate, sign, anchor; write the signed VC to --out."""
    from govchain.client.certs import issue_credential

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    issuer_org = opts["issuer_org"] or signing_org(opts["key_file"], opts["network_dir"], None)
    client = client_from_options(opts["node_url"], key=key)
    vc = issue_credential(
        client,
        key,
        issuer_org=issuer_org,
        credential_type=opts["credential_type"],
        schema_version=opts["schema_version"],
        subject=_read_json(subject_file, "the subject"),
        valid_from=opts["valid_from"] or _now_stamp(),
        valid_until=opts["valid_until"],
        assurance_level=opts["assurance"],
        id=credential_id,
    )
    out.write_text(json.dumps(vc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    digest = compute_credential_id(vc)
    if opts["as_json"]:
        print_json({"hash": digest, "file": str(out), "credential": vc})
        return
    console.print(f"[green]issued[/] {opts['credential_type']} {digest} → {out}")


def _read_rows(file: Path, columns: str | None) -> list[dict[str, Any]]:
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        names = [c.strip() for c in columns.split(",")] if columns else reader.fieldnames or []
        missing = [n for n in names if n not in (reader.fieldnames or [])]
        if missing:
            raise BadRequest(f"{file} has no column {', '.join(missing)}")
        return [{n: row[n] for n in names if row[n] != ""} for row in reader]


@cert.command("bulk-issue")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--columns", default=None, help="CSV columns that make the subject (default: all).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the signed credentials, one JSON per line.",
)
@click.option("--batch", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH, show_default=True)
@_issuer_options
def cert_bulk_issue(file: Path, columns: str | None, out: Path, batch: int, **opts: Any) -> None:
    """Issue one credential per CSV row, anchored in batches, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from govchain.client.certs import bulk_issue

    rows = _read_rows(file, columns)
    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    issuer_org = opts["issuer_org"] or signing_org(opts["key_file"], opts["network_dir"], None)
    client = client_from_options(opts["node_url"], key=key)
    columns_ = [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns_, console=console, disable=opts["as_json"]) as bar:
        task = bar.add_task("issuing", total=len(rows))
        result = bulk_issue(
            client,
            key,
            rows,
            issuer_org=issuer_org,
            credential_type=opts["credential_type"],
            schema_version=opts["schema_version"],
            valid_from=opts["valid_from"] or _now_stamp(),
            valid_until=opts["valid_until"],
            assurance_level=opts["assurance"],
            batch=batch,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    with out.open("w", encoding="utf-8") as handle:
        for vc in result.credentials:
            handle.write(json.dumps(vc, ensure_ascii=False, separators=(",", ":")) + "\n")
    summary = {
        "issued": len(result.credentials),
        "batches": len(result.outcomes),
        "seconds": round(result.seconds, 3),
        "per_second": round(result.per_second, 1),
        "file": str(out),
    }
    if opts["as_json"]:
        print_json(summary)
        return
    console.print(
        f"[green]issued {summary['issued']}[/] in {summary['batches']} batches, "
        f"{summary['seconds']} s ({summary['per_second']}/s) → {out}"
    )


# --- reading and verifying -------------------------------------------------------------------


@cert.command("show")
@click.argument("ref", metavar="HASH|FILE")
@node_option
@json_option
def cert_show(ref: str, node_url: str, as_json: bool) -> None:
    """A credential's anchor and status (state proofs verified)."""
    answer = client_from_options(node_url).credential_status(_hash_of(ref))
    if as_json:
        print_json(answer)
        return
    anchor, status = answer["anchor"], answer["status"]
    print_kv(
        f"credential {anchor['credential_hash']}",
        [
            ("type", f"{anchor['credential_type']} (schema {anchor['schema_version']})"),
            ("issuer", f"{anchor['issuer_org']} ({anchor['submitter']})"),
            ("anchored", f"height {anchor['height']}"),
            ("assurance", anchor["assurance_level"]),
            ("status index", anchor["status_index"]),
            ("status", f"{status['status']} {status['reason_code']}".strip()),
            ("proved at", f"height {answer['status_state']['height']}"),
        ],
    )


@cert.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--at", "at", default=None, help="Verify as of this dateTimeStamp (default: now).")
@node_option
@json_option
def cert_verify(file: Path, at: str | None, node_url: str, as_json: bool) -> None:
    """Verify a credential: every check named; exit code 1 when one fails."""
    at_ms = None if at is None else int(parse_datetime_stamp(at, field="--at") * 1000)
    answer = client_from_options(node_url).verify_credential(
        _read_json(file, "the credential"), at_ms=at_ms
    )
    if as_json:
        print_json(answer)
    else:
        mark = {True: "[green]ok[/]", False: "[red]FAILED[/]", None: "[yellow]-[/]"}
        print_table(
            f"credential {answer['credential_hash']}",
            ["check", "result", "code", "reason"],
            [(c["check"], mark[c["ok"]], c["code"], c["reason"]) for c in answer["checks"]],
        )
        verdict = "[green]VALID[/]" if answer["valid"] else "[red]INVALID[/]"
        console.print(f"{verdict} (state at height {answer['height']})")
    if not answer["valid"]:
        raise SystemExit(1)


# --- offline bundles -------------------------------------------------------------------------


@cert.command("bundle")
@click.argument("ref", metavar="HASH|FILE")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@node_option
def cert_bundle(ref: str, out: Path, node_url: str) -> None:
    """Fetch a credential's offline verification bundle (signed header + state proofs). Given
    the credential FILE, the bundle carries it; given a HASH, add it with verify-offline's
    --credential."""
    path = Path(ref)
    target: Any = _read_json(path, "the credential") if path.is_file() else _hash_of(ref)
    answer = client_from_options(node_url).credential_bundle(target)
    out.write_text(json.dumps(answer, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"bundle of {answer['credential_hash']} → {out}")


@cert.command("trust-export")
@click.option(
    "--issuer", "orgs", multiple=True, required=True, help="An issuing organisation (repeat)."
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@node_option
def cert_trust_export(orgs: tuple[str, ...], out: Path, node_url: str) -> None:
    """Export a trust file: the issuing organisations' and their issuing members' identity
    records, proven against one signed header. A verifier with the genesis resolves issuer keys
    from it offline (`govchain cert qr-verify --trust trust.json --genesis genesis.json`).

    \b
    govchain cert trust-export --issuer tax --issuer market-regulation --out trust.json
    """
    from govchain.client.issuer_keys import fetch_issuer_trust
    from govchain.credentials.bundle import encode_issuer_trust

    with client_from_options(node_url) as client:
        trust = fetch_issuer_trust(client, list(orgs))
    out.write_bytes(encode_issuer_trust(trust) + b"\n")
    console.print(f"trust file of {', '.join(orgs)}: {len(trust.identities)} records → {out}")


def load_genesis_trust(
    genesis_file: Path, genesis_hash: str | None
) -> tuple[Any, dict[str, bytes]]:
    """The trust anchor of a network's genesis.json: its chain id, its nodes' keys and the
    genesis block's hash (given, or computed by building block 0 as a node does); and its
    founding peers by node id (who sign finality certificates)."""
    import msgspec

    from govchain.client.verify import TrustAnchor
    from govchain.contracts import default_registry
    from govchain.execution import build_genesis
    from govchain.merkle import smt
    from govchain.types import Genesis, compute_block_hash
    from govchain.types.finality import founding_peer_keys

    try:
        genesis = msgspec.json.decode(genesis_file.read_bytes(), type=Genesis)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(f"cannot read the genesis {genesis_file}: {exc}") from None
    if genesis_hash is not None:
        digest = bytes.fromhex(genesis_hash)
    else:
        block, _, _ = build_genesis(genesis, default_registry(), smt.MemoryNodeStore())
        digest = compute_block_hash(block.header)
    keys = [bytes.fromhex(n.public_key) for n in genesis.nodes]
    return TrustAnchor(genesis.chain_id, digest, keys), founding_peer_keys(genesis)


@cert.command("verify-offline")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--genesis",
    "genesis_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The network's genesis.json: chain id and node keys.",
)
@click.option("--genesis-hash", default=None, help="Hex; default: computed from --genesis.")
@click.option(
    "--credential",
    "credential_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The credential, when the bundle does not carry it.",
)
@click.option("--max-age", type=int, default=None, help="Refuse headers older (seconds).")
@click.option("--at-ms", type=int, default=None, help="Verify as of this time (default: now).")
@click.option(
    "--require-finality",
    is_flag=True,
    help="Refuse headers without a finality certificate of a quorum of the founding peers.",
)
@json_option
def cert_verify_offline(
    file: Path,
    genesis_file: Path,
    genesis_hash: str | None,
    credential_file: Path | None,
    max_age: int | None,
    at_ms: int | None,
    require_finality: bool,
    as_json: bool,
) -> None:
    """Verify a credential from its bundle with no network; exit 1 when a check fails.

    The bundle proves the credential's anchor and status at a recent block, and the signing
    key, the issuer's accreditation and the schema as they stood at the anchoring block. A
    header is trusted on its finality certificate (a quorum of the genesis peers) or on a
    genesis node's signature.

    \b
    govchain cert verify-offline bundle.json --genesis genesis.json
    govchain cert verify-offline bundle.json --genesis genesis.json --max-age 86400 --json
    """
    import time

    import msgspec

    from govchain.client.offline import verify_bundle
    from govchain.credentials.bundle import decode_bundle

    try:
        bundle = decode_bundle(file.read_bytes())
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(
            f"{file} is not a govchain verification bundle: {exc}",
            hint="Fetch a fresh bundle: `govchain cert bundle vc.json --out bundle.json`.",
        ) from None
    if credential_file is not None:
        credential = _read_json(credential_file, "the credential")
        bundle = msgspec.structs.replace(bundle, credential=credential)
    trust, peers = load_genesis_trust(genesis_file, genesis_hash)
    now_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    max_age_ms = None if max_age is None else max_age * 1000
    result = verify_bundle(
        bundle, trust, now_ms, max_age_ms, peers=peers, require_finality=require_finality
    )
    if as_json:
        print_json({"credential_hash": bundle.credential_hash, **result.to_json()})
    else:
        mark = {True: "[green]ok[/]", False: "[red]FAILED[/]", None: "[yellow]-[/]"}
        print_table(
            f"credential {bundle.credential_hash} (offline)",
            ["check", "result", "code", "reason"],
            [(c.check, mark[c.ok], c.code, c.reason) for c in result.checks],
        )
        verdict = "[green]VALID[/]" if result.valid else "[red]INVALID[/]"
        console.print(f"{verdict} (header at height {result.height})")
    if not result.valid:
        raise SystemExit(1)


def _status_command(action: str, help_text: str) -> None:
    @cert.command(action, help=help_text)
    @click.argument("ref", metavar="HASH|FILE")
    @click.option("--reason", type=click.Choice(REASON_CODES), required=True)
    @key_options
    @node_option
    @json_option
    def command(
        ref: str,
        reason: str,
        key_file: Path | None,
        network_dir: Path | None,
        org: str | None,
        node_url: str,
        as_json: bool,
    ) -> None:
        key = load_signing_key(key_file, network_dir, org)
        args = {"credential_hash": _hash_of(ref), "reason_code": reason}
        outcome = client_from_options(node_url, key=key).send(key, "certs", action, args)
        if as_json:
            print_json(outcome.result)
            return
        console.print(f"credential {args['credential_hash']} is now {outcome.result['status']}")


_status_command("revoke", "Revoke a credential for good (an issuer, officer or admin of its org).")
_status_command("suspend", "Suspend a credential until reinstated.")
_status_command("reinstate", "Reinstate a suspended credential (never a revoked one).")


def _register_holder_commands() -> None:
    from govchain.cli.cert_holder_cmds import register_holder_commands

    register_holder_commands(cert)


def _register_status_list_commands() -> None:
    from govchain.cli.cert_status_list_cmds import register_status_list_commands

    register_status_list_commands(cert)


_register_holder_commands()
_register_status_list_commands()
