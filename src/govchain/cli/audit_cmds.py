"""`govchain audit`: who accessed which data, under which grant, when.

Reads are signed: the parties (the owning and requesting departments' members, the requesting
enterprise or citizen, the data subject) see their records, auditors see all.

    govchain audit access --subject ent:91350100M000100Y43 --key enterprise.key
    govchain audit access --resource tax.payer-status --format csv --out trail.csv --key tax.key
    govchain audit access --grant 3f1c... --format json --key health-officer.key
"""

from __future__ import annotations

from pathlib import Path

import click

from govchain.cli.common import client_from_options, json_option, node_option
from govchain.cli.output import console, print_table
from govchain.errors import BadRequest

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """Who accessed which data, under which grant, when; verified against the chain."""


def _time(ms: int) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@audit.command("access")
@node_option
@click.option("--org", "org", default=None, help="An organisation's accesses.")
@click.option("--resource", default=None, help="A catalogue resource's accesses.")
@click.option("--grant", default=None, help="The accesses under one grant.")
@click.option("--subject", default=None, help="Every use of a citizen's or enterprise's data.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check every record's state proof against its block header.",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@json_option
def audit_access(
    org: str | None,
    resource: str | None,
    grant: str | None,
    subject: str | None,
    fmt: str,
    verify: bool,
    limit: int | None,
    out: Path | None,
    node_url: str,
    as_json: bool,
) -> None:
    """The access trail of one organisation (as owner or requester), resource, grant or data
    subject: time, owner, resource, requester, subject, fields, grant, request hash.

    Here --org names the organisation audited, not the signer: sign with --key FILE (or env
    GOVCHAIN_KEY).

    \b
    govchain audit access --subject ent:91350100M000100Y43 --key enterprise.key
    govchain audit access --org tax --format csv --out trail.csv --key tax-auditor.key
    """
    from govchain.client.audit import AuditClient, records_to_csv, records_to_json

    fmt = "json" if as_json else fmt

    chosen = [v for v in (org, resource, grant, subject) if v is not None]
    if len(chosen) != 1:
        raise BadRequest(
            "give exactly one of --org, --resource, --grant, --subject",
            hint="e.g. `govchain audit access --subject ent:9135... --key enterprise.key`",
        )
    trail = AuditClient(client_from_options(node_url)).access(
        org=org,
        resource=resource,
        grant=grant,
        subject=subject,
        limit=limit,
        verify=verify,
    )
    if fmt == "table" and out is None:
        _print(trail.records, trail.height, verify)
        return
    text = records_to_csv(trail.records) if fmt == "csv" else records_to_json(trail) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"{len(trail.records)} access records → {out}")


def _print(records: list[dict[str, object]], height: int, verified: bool) -> None:
    print_table(
        "data accesses",
        ["time (UTC)", "resource", "owner", "requester", "subject", "fields", "grant"],
        [
            (
                _time(int(str(r["time_ms"]))),
                r["resource_id"],
                r["owner"],
                r["requester"],
                r["subject"] or "",
                ",".join(r["fields"]),  # type: ignore[arg-type]
                r["grant_id"],
            )
            for r in records
        ],
    )
    proof = "each verified against" if verified else "not verified; state at"
    console.print(f"{len(records)} records, {proof} height {height}")
