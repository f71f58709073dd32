"""`govchain share fetch`: the requesting side of a data exchange through gateways.

    govchain share fetch --grant 3f9a... --fields name,status --dir city --org tax

The grant is read from the chain (state-proven); the resource, the data subject, the requester
and, unless ``--gateway`` is given, the owner's gateway URL (from the catalogue) come from it.
The answer's receipt is checked (the owner's key must be an active member key of the grant's
owner), the envelope opened, and the counter-signed receipt returned to the owner's gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import click

from govchain.cli.common import client_from_options, json_option, node_option, reading_key
from govchain.cli.output import fail, print_json, print_table
from govchain.errors import ConfigError, GovchainError
from govchain.gateway.errors import GrantNotFound

if TYPE_CHECKING:
    from govchain.client import Client
    from govchain.contracts.sharing_records import Grant

__all__ = ["fetch"]


def _gateway_url(client: Client, resource_id: str) -> str:
    """The gateway URL of a resource's catalogue entry (state-proven)."""
    from govchain.client.catalog import CatalogClient

    resource = CatalogClient(client).resource(resource_id)["resource"]
    url = (resource.get("gateway") or {}).get("url")
    if not url:
        raise ConfigError(f"the catalogue names no gateway for {resource_id}")
    return str(url)


class _Asked(NamedTuple):
    grant: Grant
    gateway_url: str
    subject: str
    fields: list[str]


def _what_to_ask(
    node: Client, grant_id: str, gateway_url: str | None, subject: str | None, fields: str | None
) -> _Asked:
    """The proven grant and, from it and the options, where to ask and for what."""
    from govchain.client.gateway import read_grant

    grant = read_grant(node, grant_id).grant
    if grant is None:
        raise GrantNotFound(f"there is no grant {grant_id} on chain")
    wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else list(grant.fields)
    record_key = subject or grant.subject
    if record_key is None:
        raise ConfigError("this grant names no data subject: pass --subject KEY")
    url = gateway_url or _gateway_url(node, grant.resource_id)
    return _Asked(grant, url, record_key, wanted)


@click.command()
@click.option("--grant", "grant_id", required=True, help="The grant (its id is the request's).")
@click.option("--gateway", "gateway_url", default=None, help="The owner's gateway URL.")
@click.option("--subject", default=None, help="The record's key (default: the grant's subject).")
@click.option("--fields", default=None, help="Comma-separated fields (default: all granted).")
@node_option
@json_option
def fetch(
    grant_id: str,
    gateway_url: str | None,
    subject: str | None,
    fields: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Fetch granted fields of a data resource from the owner's gateway."""
    from govchain.client.gateway import GatewayClient
    from govchain.encoding import to_builtins

    try:
        key = reading_key()
        if key is None:
            raise ConfigError(
                "fetching needs the requester's key",
                hint="Pass --key FILE, or --dir DIR --org ORG, or set GOVCHAIN_KEY.",
            )
        with client_from_options(node_url, key=key) as node:
            asked = _what_to_ask(node, grant_id, gateway_url, subject, fields)
            grant = asked.grant
            with GatewayClient(asked.gateway_url, key=key, node=node) as gateway_client:
                result = gateway_client.fetch(
                    grant_id,
                    resource_id=grant.resource_id,
                    subject=asked.subject,
                    fields=asked.fields,
                    requester=grant.requester,
                    owner=grant.owner,
                )
    except GovchainError as exc:
        fail(exc, as_json)
    if as_json:
        print_json(
            {
                "grant_id": grant_id,
                "values": to_builtins(result.values),
                "receipt": to_builtins(result.receipt),
                "countersigned": result.countersigned,
            }
        )
        return
    print_table(
        f"{grant.resource_id} · {asked.subject} (grant {grant_id})",
        ["field", "value"],
        [(name, result.values.get(name)) for name in asked.fields],
    )
    click.echo(f"receipt {result.receipt.request_hash.hex()} counter-signed and returned")
