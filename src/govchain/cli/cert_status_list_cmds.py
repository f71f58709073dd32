"""``govchain cert status-list``: issuer-signed Bitstring Status Lists.

govchain cert status-list publish --org tax --purpose revocation --key issuer.key
govchain cert status-list show tax --purpose revocation --out list.json
govchain cert status-list show tax --derived       the UNSIGNED list derived from state
govchain cert status-list verify list.json --credential vc.json   exit 1 if a check fails
govchain cert status-list verify --fetch tax --max-age 86400
"""

from __future__ import annotations

import datetime
import json
import time
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
from govchain.errors import BadRequest

__all__ = ["register_status_list_commands", "status_list_group"]

_PURPOSE = click.option(
    "--purpose",
    type=click.Choice(["revocation", "suspension"]),
    default="revocation",
    show_default=True,
)
_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadRequest(f"cannot read {what} {path}: {exc}") from None


@click.group("status-list")
def status_list_group() -> None:
    """Issuer-signed status lists: publish, show, verify."""


@status_list_group.command("publish")
@_PURPOSE
@click.option(
    "--valid-for",
    type=click.IntRange(1, 24 * 366),
    default=24,
    show_default=True,
    help="Hours until the list's validUntil (verifiers refuse it afterwards).",
)
@key_options
@node_option
@json_option
def publish(
    purpose: str,
    valid_for: int,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Build the organisation's list from the latest chain state, sign it (eddsa-jcs-2022,
    issuer = the organisation's DID) with an issuer's or admin's key, and anchor it on chain.

    \b
    govchain cert status-list publish --org tax --purpose revocation --key issuer.key
    govchain cert status-list publish --dir net --org tax --purpose suspension --valid-for 6
    """
    from govchain.client.status_lists import publish_status_list

    key = load_signing_key(key_file, network_dir, org)
    issuer_org = signing_org(key_file, network_dir, org)
    client = client_from_options(node_url, key=key)
    published = publish_status_list(
        client,
        key,
        org=issuer_org,
        purpose=purpose,  # type: ignore[arg-type]  # a click.Choice
        valid_for=datetime.timedelta(hours=valid_for),
    )
    answer = {
        "org": issuer_org,
        "purpose": purpose,
        "list_hash": published.list_hash,
        "list_height": published.list_height,
        "height": published.height,
        "valid_until": published.credential.get("validUntil"),
    }
    if as_json:
        print_json(answer)
        return
    print_kv(f"published {issuer_org}'s {purpose} list", answer.items())


@status_list_group.command("show")
@click.argument("issuer_org", metavar="ORG")
@_PURPOSE
@click.option("--derived", is_flag=True, help="The UNSIGNED list derived from state now.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the list credential to this file.",
)
@node_option
@json_option
def show(
    issuer_org: str, purpose: str, derived: bool, out: Path | None, node_url: str, as_json: bool
) -> None:
    """Show an organisation's status list as the node serves it: the latest issuer-signed one,
    else (or with --derived) the unsigned one derived from state.

    \b
    govchain cert status-list show tax --out list.json
    """
    from govchain.client.status_lists import fetch_status_list

    client = client_from_options(node_url)
    answer = fetch_status_list(client, issuer_org, purpose, derived=derived)
    if out is not None:
        text = json.dumps(answer["credential"], indent=2, ensure_ascii=False)
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        print_json(answer)
        return
    record = answer.get("record") or {}
    rows: list[tuple[str, Any]] = [
        ("signed", "yes (issuer-signed, anchored)" if answer["signed"] else "NO (derived)"),
        ("reflects height", answer.get("height")),
        ("list hash", record.get("list_hash", "-")),
        ("published at height", record.get("height", "-")),
        ("valid until", answer["credential"].get("validUntil", "-")),
    ]
    if out is not None:
        rows.append(("written to", str(out)))
    print_kv(f"{issuer_org} {purpose} list", rows)


@status_list_group.command("verify")
@click.argument("file", type=_FILE, required=False)
@click.option(
    "--fetch", "list_org", metavar="ORG", default=None, help="Fetch ORG's list from the node."
)
@_PURPOSE
@click.option(
    "--credential",
    "credential_file",
    type=_FILE,
    default=None,
    help="Check the list is this credential's issuer's and show its bit.",
)
@click.option("--max-age", type=int, default=None, help="Refuse lists published longer ago (s).")
@click.option("--at-ms", type=int, default=None, help="Verify as of this time (default: now).")
@node_option
@json_option
def verify(
    file: Path | None,
    list_org: str | None,
    purpose: str,
    credential_file: Path | None,
    max_age: int | None,
    at_ms: int | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Verify a signed status list here, trusting no node: signature, issuer, anchored on chain
    (state proofs checked here), not superseded, signing key valid, fresh. Exit 1 when a check
    fails.

    \b
    govchain cert status-list verify list.json --credential vc.json
    govchain cert status-list verify --fetch tax --purpose suspension --max-age 86400
    """
    from govchain.client.status_lists import (
        fetch_status_list,
        get_list_status,
        verify_status_list,
    )

    client = client_from_options(node_url)
    if file is not None:
        document = _read_json(file, "the status list")
    elif list_org is not None:
        document = fetch_status_list(client, list_org, purpose)["credential"]
    else:
        raise BadRequest(
            "give a list FILE or --fetch ORG",
            hint="`govchain cert status-list show ORG --out list.json` saves one.",
        )
    vc = None if credential_file is None else _read_json(credential_file, "the credential")
    issuer = None if vc is None else vc.get("issuer")
    now_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    result = verify_status_list(
        client,
        document,
        now_ms=now_ms,
        issuer=issuer if isinstance(issuer, str) else None,
        max_age_ms=None if max_age is None else max_age * 1000,
    )
    answer = result.to_json()
    if vc is not None and result.valid:
        answer["credential_bit_set"] = get_list_status(document, vc)
    if as_json:
        print_json(answer)
    else:
        mark = {True: "[green]ok[/]", False: "[red]FAILED[/]", None: "[yellow]-[/]"}
        print_table(
            "status list",
            ["check", "result", "code", "reason"],
            [(c.check, mark[c.ok], c.code, c.reason) for c in result.checks],
        )
        verdict = "[green]VALID[/]" if result.valid else "[red]INVALID[/]"
        console.print(f"{verdict} (proofs against height {result.height})")
        if "credential_bit_set" in answer:
            state = "SET" if answer["credential_bit_set"] else "not set"
            console.print(f"the credential's bit in this list: {state}")
    if not result.valid:
        raise SystemExit(1)


def register_status_list_commands(cert: click.Group) -> None:
    cert.add_command(status_list_group)
