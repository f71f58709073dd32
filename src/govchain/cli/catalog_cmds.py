"""`govchain catalog`: the data catalogue (directory chain): departments' data resources.

Writing signs with a key of an admin or officer of the owning department (``--key FILE`` or
``--dir DIR --org ORG``); reading is public.

    govchain catalog responsibility tax tax-collection --name "Tax collection" --name-zh 征税
    govchain catalog add payer-status.json --dir city --org tax
    govchain catalog update --id tax.payer-status --frequency weekly --dir city --org tax
    govchain catalog show tax.payer-status [--version 1]
    govchain catalog search arrears
    govchain catalog list --org tax [--responsibility tax-collection]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import msgspec

from govchain.cli.common import (
    client_from_options,
    json_option,
    key_options,
    load_signing_key,
    node_option,
    signing_org,
)
from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.contracts.catalog_records import (
    CLASSIFICATIONS,
    FIELD_TYPES,
    FREQUENCIES,
    SENSITIVITIES,
    SHARING_CLASSES,
    ResourceArgs,
)
from govchain.errors import BadRequest

__all__ = ["catalog"]

LIST_LIMIT = 200  # the catalogue's largest search page; narrow with --owner-org
RESOURCE_FILE_HELP = (
    "A JSON file: id, org, responsibility, name, name_zh, description, fields "
    "[{name, type, sensitivity, description}], classification, update_frequency, sharing, "
    "legal_basis, gateway {url, public_key (hex)}. Options override its values."
)


@click.group()
def catalog() -> None:
    """The data catalogue (directory chain): departments' data resources."""


def _parse_field(spec: str) -> dict[str, str]:
    parts = spec.split(":", 3)
    if len(parts) < 3:
        raise BadRequest(
            f"--field {spec!r} is not NAME:TYPE:SENSITIVITY[:DESCRIPTION]",
            hint=f"Types: {', '.join(FIELD_TYPES)}; sensitivities: {', '.join(SENSITIVITIES)}.",
        )
    name, type_, sensitivity = parts[:3]
    return {
        "name": name,
        "type": type_,
        "sensitivity": sensitivity,
        "description": parts[3] if len(parts) > 3 else "",
    }


def _resource_options(f: Any) -> Any:
    options = [
        click.argument(
            "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
        ),
        click.option("--id", "resource_id", default=None, help="The resource id, e.g. tax.x."),
        click.option("--owner-org", default=None, help="Default: the key's organisation."),
        click.option("--responsibility", default=None, help="The responsibility it is under."),
        click.option("--name", default=None, help="The name in English."),
        click.option("--name-zh", default=None, help="The name in Chinese."),
        click.option("--description", default=None),
        click.option(
            "--field",
            "fields",
            multiple=True,
            help="NAME:TYPE:SENSITIVITY[:DESCRIPTION], repeatable (replaces the file's fields).",
        ),
        click.option("--classification", type=click.Choice(CLASSIFICATIONS), default=None),
        click.option("--frequency", type=click.Choice(FREQUENCIES), default=None),
        click.option("--sharing", type=click.Choice(SHARING_CLASSES), default=None),
        click.option("--legal-basis", default=None),
        click.option("--gateway-url", default=None),
        click.option("--gateway-key", default=None, help="The gateway's public key (hex)."),
    ]
    for option in reversed(options):
        f = option(f)
    return json_option(node_option(key_options(f)))


_OPTION_KEYS = {
    "resource_id": "id",
    "owner_org": "org",
    "responsibility": "responsibility",
    "name": "name",
    "name_zh": "name_zh",
    "description": "description",
    "classification": "classification",
    "frequency": "update_frequency",
    "sharing": "sharing",
    "legal_basis": "legal_basis",
}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadRequest(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"{path} must hold one JSON object", hint=RESOURCE_FILE_HELP)
    return data


def _merge(base: dict[str, Any], opts: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in msgspec.structs.fields(ResourceArgs)}
    data = {k: v for k, v in base.items() if k in known}
    for option, key in _OPTION_KEYS.items():
        if opts.get(option) is not None:
            data[key] = opts[option]
    if opts.get("fields"):
        data["fields"] = [_parse_field(spec) for spec in opts["fields"]]
    gateway = dict(data.get("gateway") or {})
    if opts.get("gateway_url") is not None:
        gateway["url"] = opts["gateway_url"]
    if opts.get("gateway_key") is not None:
        gateway["public_key"] = opts["gateway_key"]
    data["gateway"] = gateway
    if "org" not in data:
        data["org"] = signing_org(opts["key_file"], opts["network_dir"], opts["org"])
    return data


def _send_resource(method: str, file: Path | None, opts: dict[str, Any]) -> None:
    from govchain.client.catalog import CatalogClient, resource_from_json

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    catalog_client = CatalogClient(client_from_options(opts["node_url"], key=key))
    base = _read_json(file) if file is not None else {}
    if method == "update" and file is None and opts.get("resource_id"):
        base = catalog_client.resource(opts["resource_id"])["resource"]
    resource = resource_from_json(_merge(base, opts))
    send = catalog_client.add if method == "add" else catalog_client.update
    outcome = send(key, resource)
    if opts["as_json"]:
        print_json(outcome.result)
        return
    console.print(
        f"[green]{resource.id} version {outcome.result['version']}[/] recorded "
        f"at height {outcome.height}"
    )


@catalog.command("add")
@_resource_options
def catalog_add(file: Path | None, **opts: Any) -> None:
    """Add a data resource (version 1) from FILE and/or options.

    \b
    govchain catalog add payer-status.json --dir city --org tax
    govchain catalog add --id tax.offices --responsibility tax-collection \\
        --name "Tax offices" --name-zh 税务办公地点 --field office:string:public \\
        --classification public --frequency monthly --sharing unconditional \\
        --legal-basis "Open data rules" --gateway-url https://gw.tax.example \\
        --gateway-key 3b6a...e1 --dir city --org tax
    """
    _send_resource("add", file, opts)


@catalog.command("update")
@_resource_options
def catalog_update(file: Path | None, **opts: Any) -> None:
    """Write the next version of a resource: from FILE, or the current version (--id) with
    the options changed.

    \b
    govchain catalog update --id tax.payer-status --frequency weekly --dir city --org tax
    """
    _send_resource("update", file, opts)


@catalog.command("responsibility")
@click.argument("owner_org", metavar="ORG")
@click.argument("responsibility_id", metavar="ID")
@click.option("--name", required=True, help="The name in English.")
@click.option("--name-zh", default="", help="The name in Chinese.")
@click.option("--description", default="")
@key_options
@node_option
@json_option
def catalog_responsibility(
    owner_org: str,
    responsibility_id: str,
    name: str,
    name_zh: str,
    description: str,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Register (or update) a responsibility ID of ORG, under which its resources are listed.

    \b
    govchain catalog responsibility tax tax-collection --name "Tax collection" --dir city --org tax
    """
    from govchain.client.catalog import CatalogClient

    key = load_signing_key(key_file, network_dir, org)
    outcome = CatalogClient(client_from_options(node_url, key=key)).add_responsibility(
        key, owner_org, responsibility_id, name, name_zh, description
    )
    if as_json:
        print_json(outcome.result)
        return
    console.print(f"[green]responsibility {owner_org}/{responsibility_id}[/] recorded")


@catalog.command("show")
@click.argument("resource_id", metavar="ID")
@click.option("--version", type=int, default=None, help="A past version (default: latest).")
@node_option
@json_option
def catalog_show(resource_id: str, version: int | None, node_url: str, as_json: bool) -> None:
    """Show a resource, its fields and terms (its state proof is verified)."""
    from govchain.client.catalog import CatalogClient

    answer = CatalogClient(client_from_options(node_url)).resource(resource_id, version)
    r = answer["resource"]
    if as_json:
        print_json(r)
        return
    print_kv(
        f"{r['id']} (version {r['version']})",
        [
            ("name", f"{r['name']} / {r['name_zh']}"),
            ("owner", f"{r['org']} — {r['responsibility']}"),
            ("description", r["description"]),
            ("classification", r["classification"]),
            ("update frequency", r["update_frequency"]),
            ("sharing", r["sharing"]),
            ("legal basis", r["legal_basis"]),
            ("gateway", f"{r['gateway']['url']} key {r['gateway']['public_key']}"),
            ("recorded", f"height {r['height']} by {r['submitter']}"),
            ("proved at", f"height {answer['state']['height']}"),
        ],
    )
    print_table(
        "fields",
        ["name", "type", "sensitivity", "description"],
        [(f["name"], f["type"], f["sensitivity"], f["description"]) for f in r["fields"]],
    )


def _print_resources(title: str, found: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(found)
        return
    print_table(
        title,
        ["id", "owner", "name", "sharing", "classification", "fields", "version"],
        [
            (
                r["id"],
                r["org"],
                f"{r['name']} / {r['name_zh']}",
                r["sharing"],
                r["classification"],
                len(r["fields"]),
                r["version"],
            )
            for r in found
        ],
    )


@catalog.command("search")
@click.argument("text")
@click.option("--owner-org", default=None, help="Only this organisation's resources.")
@click.option("--sharing", type=click.Choice(SHARING_CLASSES), default=None)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@node_option
@json_option
def catalog_search(
    text: str,
    owner_org: str | None,
    sharing: str | None,
    limit: int,
    node_url: str,
    as_json: bool,
) -> None:
    """Find resources whose id, names, description or field names contain TEXT.

    \b
    govchain catalog search 纳税
    govchain catalog search status --sharing conditional --json
    """
    from govchain.client.catalog import CatalogClient

    found = CatalogClient(client_from_options(node_url)).search(
        text, org=owner_org, sharing=sharing, limit=limit
    )
    _print_resources(f"resources matching {text!r}", found, as_json)


@catalog.command("list")
@click.option("--owner-org", default=None, help="One organisation's resources.")
@click.option("--responsibility", default=None, help="Those under one responsibility.")
@node_option
@json_option
def catalog_list(
    owner_org: str | None, responsibility: str | None, node_url: str, as_json: bool
) -> None:
    """List the catalogue: all resources, or one organisation's (by responsibility).

    \b
    govchain catalog list --owner-org tax --responsibility tax-collection
    """
    from govchain.client.catalog import CatalogClient

    if responsibility is not None and owner_org is None:
        raise BadRequest("--responsibility needs --owner-org")
    found = CatalogClient(client_from_options(node_url)).search(
        org=owner_org, responsibility=responsibility, limit=LIST_LIMIT
    )
    title = "catalogue" if len(found) < LIST_LIMIT else f"catalogue (first {LIST_LIMIT})"
    _print_resources(title, found, as_json)
