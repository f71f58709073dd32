"""`govchain share`: data sharing: requests, consent, approvals, grants and fetching data.

Every command signs with the acting key: a department's member (``--dir DIR --org ORG`` or
``--key member.key``), or an enterprise's or citizen's own key (``--key me.key``).

    govchain share request tax.payer-status --fields credit_code,status \\
        --purpose "Subsidy eligibility check" --days 30 --subject ent:9135... \\
        --dir city --org health-commission
    govchain share consent REQUEST_ID --key enterprise.key          the data subject agrees
    govchain share approve REQUEST_ID --dir city --org tax          the owning department
    govchain share reject REQUEST_ID --reason "No legal basis" --dir city --org tax
    govchain share revoke GRANT_ID --reason "Purpose fulfilled" --dir city --org tax
    govchain share grants [--identity ORG|ent:...|cit:...] [--requests]
    govchain share show REQUEST_ID
"""

from __future__ import annotations

from typing import Any

import click

from govchain.cli.common import (
    client_from_options,
    json_option,
    key_options,
    load_signing_key,
    node_option,
)
from govchain.cli.output import console, print_json, print_kv, print_table

__all__ = ["share"]


@click.group()
def share() -> None:
    """Data sharing: requests, consent, approvals, grants and fetching data."""


def _sharing(opts: dict[str, Any]) -> tuple[Any, Any]:
    """(the signing key, a SharingClient that signs with it)."""
    from govchain.client.sharing import SharingClient

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    return key, SharingClient(client_from_options(opts["node_url"], key=key))


def _report(record: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(record)
        return
    console.print(message)


def _signed(f: Any) -> Any:
    return json_option(node_option(key_options(f)))


@share.command("request")
@click.argument("resource_id", metavar="RESOURCE")
@click.option("--fields", required=True, help="The fields wanted, comma-separated.")
@click.option("--purpose", required=True, help="Why (public on chain: no personal data).")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=30, show_default=True)
@click.option("--max-uses", type=click.IntRange(1), default=1, show_default=True)
@click.option("--subject", default=None, help="The data subject: cit:... or ent:...")
@_signed
def share_request(
    resource_id: str,
    fields: str,
    purpose: str,
    days: float,
    max_uses: int,
    subject: str | None,
    **opts: Any,
) -> None:
    """Request FIELDS of RESOURCE for a purpose, a number of days and of uses.

    Personal or enterprise fields need --subject, who must consent (`share consent`). A
    department asking for an unconditional resource is granted at once.

    \b
    govchain share request tax.payer-status --fields credit_code,status \\
        --purpose "Subsidy eligibility check" --days 30 --max-uses 5 \\
        --subject ent:91350100M000100Y43 --dir city --org health-commission
    """
    key, sharing = _sharing(opts)
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    record = sharing.request(
        key,
        resource_id,
        wanted,
        purpose=purpose,
        duration_days=days,
        max_uses=max_uses,
        subject=subject,
    )
    next_step = {
        "approved": f"granted: grant {record['grant_id']}",
        "pending": "pending: "
        + ("the subject consents, then " if record["needs_consent"] else "")
        + f"{record['owner']} approves",
    }[record["status"]]
    _report(record, opts["as_json"], f"[green]request {record['id']}[/] {next_step}")


@share.command("consent")
@click.argument("request_id", metavar="REQUEST_ID")
@click.option("--withdraw", is_flag=True, help="Withdraw consent to a request not yet decided.")
@_signed
def share_consent(request_id: str, withdraw: bool, **opts: Any) -> None:
    """Consent, as the data subject, to a request for your data (sign with your own key).

    \b
    govchain share consent 3f1c... --key enterprise.key
    """
    key, sharing = _sharing(opts)
    if withdraw:
        record = sharing.withdraw_consent(key, request_id)
        _report(record, opts["as_json"], f"consent to {request_id} withdrawn")
        return
    record = sharing.consent(key, request_id)
    _report(record, opts["as_json"], f"[green]consent[/] to {request_id} recorded")


@share.command("approve")
@click.argument("request_id", metavar="REQUEST_ID")
@_signed
def share_approve(request_id: str, **opts: Any) -> None:
    """Approve a request for your department's data (an admin or officer): a grant is made.

    \b
    govchain share approve 3f1c... --dir city --org tax
    """
    key, sharing = _sharing(opts)
    record = sharing.approve(key, request_id)
    _report(record, opts["as_json"], f"[green]approved[/]: grant {record['grant_id']}")


@share.command("reject")
@click.argument("request_id", metavar="REQUEST_ID")
@click.option("--reason", required=True, help="Why (public on chain: no personal data).")
@_signed
def share_reject(request_id: str, reason: str, **opts: Any) -> None:
    """Reject a request for your department's data, saying why.

    \b
    govchain share reject 3f1c... --reason "No legal basis for this purpose" --dir city --org tax
    """
    key, sharing = _sharing(opts)
    record = sharing.reject(key, request_id, reason)
    _report(record, opts["as_json"], f"request {request_id} [red]rejected[/]")


@share.command("revoke")
@click.argument("grant_id", metavar="GRANT_ID")
@click.option("--reason", required=True, help="Why (public on chain: no personal data).")
@_signed
def share_revoke(grant_id: str, reason: str, **opts: Any) -> None:
    """Revoke a grant: the owning department, or the data subject withdrawing its consent.

    \b
    govchain share revoke 3f1c... --reason "Consent withdrawn" --key enterprise.key
    """
    key, sharing = _sharing(opts)
    record = sharing.revoke(key, grant_id, reason)
    _report(record, opts["as_json"], f"grant {grant_id} [red]revoked[/]")


@share.command("grants")
@click.option("--identity", default=None, help="Whose (default: your organisation or you).")
@click.option("--requests", "all_requests", is_flag=True, help="Also requests not granted.")
@node_option
@json_option
def share_grants(identity: str | None, all_requests: bool, node_url: str, as_json: bool) -> None:
    """List the grants (or requests) you own, made or are the subject of."""
    from govchain.client.sharing import SharingClient

    found = SharingClient(client_from_options(node_url)).requests(
        identity, grants_only=not all_requests
    )
    if as_json:
        print_json(found)
        return
    print_table(
        "requests" if all_requests else "grants",
        ["id", "status", "resource", "owner", "requester", "subject", "fields", "purpose"],
        [
            (
                r["id"],
                r["status"],
                r["resource_id"],
                r["owner"],
                r["requester"],
                r["subject"] or "",
                ",".join(r["fields"]),
                r["purpose"],
            )
            for r in found
        ],
    )


@share.command("show")
@click.argument("request_id", metavar="REQUEST_ID")
@node_option
@json_option
def share_show(request_id: str, node_url: str, as_json: bool) -> None:
    """Show a request and its grant (state proofs verified)."""
    from govchain.client.sharing import SharingClient

    answer = SharingClient(client_from_options(node_url)).show(request_id)
    if as_json:
        print_json({"request": answer["request"], "grant": answer["grant"]})
        return
    r, g = answer["request"], answer["grant"]
    rows: list[tuple[str, Any]] = [
        ("status", r["status"] + (f" ({r['reason']})" if r["reason"] else "")),
        ("resource", f"{r['resource_id']} v{r['resource_version']} of {r['owner']}"),
        ("requester", f"{r['requester']} ({r['requested_by']})"),
        ("fields", ", ".join(r["fields"])),
        ("purpose", r["purpose"]),
        ("subject", r["subject"] or "-"),
        ("consent", _consent(r)),
        ("decided by", r["decided_by"] or "-"),
    ]
    if g is not None:
        rows += [
            ("grant", f"{g['status']}, used {g['uses']} of {g['max_uses']}"),
            ("expires", f"{g['expires_ms']} ms"),
        ]
    rows.append(("proved at", f"height {answer['request_state']['height']}"))
    print_kv(f"request {request_id}", rows)


def _consent(request: dict[str, Any]) -> str:
    if not request["needs_consent"]:
        return "not needed"
    height = request["consent_height"]
    return "missing" if height is None else f"given at height {height}"


def _register() -> None:
    from govchain.cli.share_fetch import fetch

    share.add_command(fetch)


_register()
