"""``govchain gov``: propose changes to the network, vote on them, follow their fate.

``--org`` always names the signing organisation (its admin key in ``--dir``); the organisation an
action is about is ``--id``, ``--node-org`` or ``--issuer``.

    govchain gov propose set-params --max-block-txs 2000 --dir city --org tax
    govchain gov propose add-org --id culture --name "Culture Bureau" --name-zh 文化局 \\
        --kind department --admin-key HEX --dir city --org tax
    govchain gov propose accredit --issuer health --type real-name --dir city --org tax
    govchain gov propose from-json '{"type": "accredit", "org": "health", ...}' --dir city
    govchain gov vote 3 --yes --dir city --org bureau
    govchain gov show 3
    govchain gov list --status open
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from govchain.cli.common import (
    client_from_options,
    json_option,
    key_options,
    load_signing_key,
    node_option,
)
from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import (
    Accredit,
    Action,
    AddNode,
    AddOrg,
    RegisterService,
    RemoveNode,
    RemoveOrg,
    RetireService,
    RevokeAccreditation,
    SetParams,
    SetPolicy,
)
from govchain.contracts.policy import Policy
from govchain.errors import BadRequest

__all__ = ["gov"]

F = TypeVar("F", bound=Callable[..., Any])
BYTES_FIELDS = ("admin_key", "public_key", "definition_hash")


@click.group("gov")
def gov() -> None:
    """Governance: organisations' admins propose changes and vote on them."""


# --- helpers -------------------------------------------------------------------------------


def _hex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise BadRequest(f"{what} must be hex") from None


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not JSON: {exc}") from exc


def parse_action(text: str) -> Action:
    """An action from JSON (``{"type": "add_org", ...}``; keys and hashes as hex)."""
    value = _json(text, "the action")
    if not isinstance(value, dict):
        raise BadRequest("the action must be a JSON object with a `type`")
    for name in BYTES_FIELDS:
        if isinstance(value.get(name), str):
            value[name] = _hex(value[name], name)
    try:
        return msgspec.convert(value, Action)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid action: {exc}") from exc


def parse_policy(text: str) -> Policy:
    try:
        return msgspec.convert(_json(text, "--policy"), Policy)  # type: ignore[no-any-return]
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid policy: {exc}") from exc


def _query(view: str, args: dict[str, Any], node_url: str) -> Any:
    client = client_from_options(node_url)
    return client.query("governance", view, args)


def _proposal_options(f: F) -> F:
    for option in reversed(
        [
            click.option("--title", default="", help="A short title (default: the action)."),
            click.option("--description", default="", help="Why the change is needed."),
            click.option(
                "--voting-period",
                type=int,
                default=None,
                help="Blocks during which votes count (default 1000).",
            ),
            click.option(
                "--effective-delay",
                type=int,
                default=None,
                help="Blocks between passing and taking effect (default 1).",
            ),
        ]
    ):
        f = option(f)
    return json_option(node_option(key_options(f)))


def _submit(action: Action, opts: dict[str, Any]) -> None:
    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    args = ProposeArgs(
        action, opts["title"], opts["description"], opts["voting_period"], opts["effective_delay"]
    )
    client = client_from_options(opts["node_url"], key=key)
    outcome = client.send(key, "governance", "propose", args)
    proposal = outcome.result
    if opts["as_json"]:
        print_json(proposal)
        return
    console.print(
        f"[green]proposal {proposal['id']}[/] ({proposal['action']['type']}) is "
        f"[bold]{proposal['status']}[/]; policy {proposal['policy']}; votes close at height "
        f"{proposal['deadline_height']} (tx {outcome.tx_id})"
    )


# --- propose -------------------------------------------------------------------------------


@gov.group("propose")
def propose() -> None:
    """Propose a change (your organisation votes yes with the proposal)."""


@propose.command("add-org")
@click.option("--id", "org_id", required=True)
@click.option("--name", required=True)
@click.option("--name-zh", required=True)
@click.option("--kind", required=True, help="department | district | bureau | enterprise")
@click.option("--admin-key", required=True, help="The first admin's public key (hex).")
@_proposal_options
def add_org(org_id: str, name: str, name_zh: str, kind: str, admin_key: str, **opts: Any) -> None:
    """Add an organisation with its first admin."""
    _submit(AddOrg(org_id, name, name_zh, kind, _hex(admin_key, "--admin-key")), opts)


@propose.command("remove-org")
@click.option("--id", "org_id", required=True)
@_proposal_options
def remove_org(org_id: str, **opts: Any) -> None:
    """Remove an organisation: its members can no longer send transactions."""
    _submit(RemoveOrg(org_id), opts)


@propose.command("add-node")
@click.option("--node-org", required=True, help="The organisation that runs the node.")
@click.option("--node-id", required=True)
@click.option("--public-key", required=True, help="The node's public key (hex).")
@_proposal_options
def add_node(node_org: str, node_id: str, public_key: str, **opts: Any) -> None:
    """Add a node run by an organisation."""
    _submit(AddNode(node_org, node_id, _hex(public_key, "--public-key")), opts)


@propose.command("remove-node")
@click.option("--id", "node_id", required=True, help="The node's identity, e.g. bureau:node1.")
@_proposal_options
def remove_node(node_id: str, **opts: Any) -> None:
    """Remove a node."""
    _submit(RemoveNode(node_id), opts)


@propose.command("set-policy")
@click.option("--name", required=True, help="e.g. governance, or governance.<action kind>.")
@click.option("--policy", "policy_json", required=True, help="The policy as JSON.")
@_proposal_options
def set_policy(name: str, policy_json: str, **opts: Any) -> None:
    """Set a named policy."""
    _submit(SetPolicy(name, parse_policy(policy_json)), opts)


@propose.command("set-params")
@click.option("--max-block-txs", type=int, default=None)
@click.option("--max-block-bytes", type=int, default=None)
@click.option("--max-tx-bytes", type=int, default=None)
@click.option("--block-interval-ms", type=int, default=None)
@click.option("--max-tx-lifetime", type=int, default=None)
@_proposal_options
def set_params(
    max_block_txs: int | None,
    max_block_bytes: int | None,
    max_tx_bytes: int | None,
    block_interval_ms: int | None,
    max_tx_lifetime: int | None,
    **opts: Any,
) -> None:
    """Change chain parameters (the others stay as they are)."""
    change = SetParams(
        max_block_txs, max_block_bytes, max_tx_bytes, block_interval_ms, max_tx_lifetime
    )
    _submit(change, opts)


@propose.command("accredit")
@click.option("--issuer", "target_org", required=True, help="The organisation to accredit.")
@click.option("--type", "credential_type", required=True, help="The credential type.")
@_proposal_options
def accredit(target_org: str, credential_type: str, **opts: Any) -> None:
    """Accredit an organisation as a trusted issuer of a credential type."""
    _submit(Accredit(target_org, credential_type), opts)


@propose.command("revoke-accreditation")
@click.option("--issuer", "target_org", required=True, help="The accredited organisation.")
@click.option("--type", "credential_type", required=True)
@_proposal_options
def revoke_accreditation(target_org: str, credential_type: str, **opts: Any) -> None:
    """Revoke an accreditation."""
    _submit(RevokeAccreditation(target_org, credential_type), opts)


@propose.command("register-service")
@click.option("--service-id", required=True)
@click.option("--version", "service_version", required=True)
@click.option("--service-title", required=True, help="The service's title.")
@click.option(
    "--definition",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The definition file (its SHA-256 is registered).",
)
@click.option("--definition-hash", default=None, help="Or its SHA-256 (hex).")
@_proposal_options
def register_service(
    service_id: str,
    service_version: str,
    service_title: str,
    definition: Path | None,
    definition_hash: str | None,
    **opts: Any,
) -> None:
    """Register a service definition (or a new version of one)."""
    import hashlib

    if definition is not None:
        digest = hashlib.sha256(definition.read_bytes()).digest()
    elif definition_hash is not None:
        digest = _hex(definition_hash, "--definition-hash")
    else:
        raise BadRequest("pass --definition FILE or --definition-hash HEX")
    _submit(RegisterService(service_id, service_version, service_title, digest), opts)


@propose.command("retire-service")
@click.option("--service-id", required=True)
@_proposal_options
def retire_service(service_id: str, **opts: Any) -> None:
    """Retire a service definition."""
    _submit(RetireService(service_id), opts)


@propose.command("from-json")
@click.argument("action_json")
@_proposal_options
def from_json(action_json: str, **opts: Any) -> None:
    """Any action as JSON, e.g. '{"type": "remove_org", "id": "culture"}'."""
    _submit(parse_action(action_json), opts)


# --- vote, show, list ----------------------------------------------------------------------


@gov.command("vote")
@click.argument("proposal_id", type=int)
@click.option("--yes/--no", "approve", required=True, help="Approve or reject.")
@key_options
@node_option
@json_option
def vote(
    proposal_id: int,
    approve: bool,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Vote on an open proposal for your organisation."""
    key = load_signing_key(key_file, network_dir, org)
    client = client_from_options(node_url, key=key)
    outcome = client.send(key, "governance", "vote", VoteArgs(proposal_id, approve))
    proposal = outcome.result
    if as_json:
        print_json(proposal)
        return
    console.print(
        f"voted {'yes' if approve else 'no'} on proposal {proposal_id}: it is "
        f"[bold]{proposal['status']}[/]"
        + (
            f", takes effect at height {proposal['enact_height']}"
            if proposal["enact_height"]
            else ""
        )
    )


def _tally(proposal: dict[str, Any]) -> str:
    yes = [v["org"] for v in proposal["votes"] if v["approve"]]
    no = [v["org"] for v in proposal["votes"] if not v["approve"]]
    return f"yes: {', '.join(yes) or '-'}; no: {', '.join(no) or '-'}"


@gov.command("show")
@click.argument("proposal_id", type=int)
@node_option
@json_option
def show(proposal_id: int, node_url: str, as_json: bool) -> None:
    """A proposal: its action, votes, status and outcome."""
    p = _query("proposal", {"id": proposal_id}, node_url)
    if as_json:
        print_json(p)
        return
    action = {k: v for k, v in p["action"].items() if k != "type"}
    print_kv(
        f"proposal {p['id']}: {p['title']}",
        [
            ("action", p["action"]["type"]),
            ("arguments", json.dumps(action, ensure_ascii=False)),
            ("status", p["status"]),
            ("proposer", p["proposer"]),
            ("policy", p["policy"]),
            ("votes", _tally(p)),
            ("created at height", p["created_height"]),
            ("votes close at height", p["deadline_height"]),
            ("decided at height", p["decided_height"]),
            ("takes effect at height", p["enact_height"]),
            (
                "outcome",
                f"{p['outcome']} {('[' + p['outcome_code'] + ']') if p['outcome_code'] else ''}",
            ),
            ("description", p["description"]),
        ],
    )


@gov.command("list")
@click.option(
    "--status", default=None, help="open | passed | rejected | expired | enacted | failed"
)
@node_option
@json_option
def list_(status: str | None, node_url: str, as_json: bool) -> None:
    """Every proposal (or those with a status), oldest first."""
    args = {"status": status} if status else {}
    proposals = _query("proposals", args, node_url)
    if as_json:
        print_json(proposals)
        return
    print_table(
        "proposals",
        ["id", "action", "title", "proposer", "status", "votes", "closes", "effective"],
        [
            (
                p["id"],
                p["action"]["type"],
                p["title"],
                p["proposer"],
                p["status"],
                _tally(p),
                p["deadline_height"],
                p["enact_height"],
            )
            for p in proposals
        ],
    )


@gov.command("params")
@node_option
@json_option
def params(node_url: str, as_json: bool) -> None:
    """The chain parameters in force."""
    values = _query("params", {}, node_url)
    print_json(values) if as_json else print_kv("chain parameters", values.items())


@gov.command("policies")
@node_option
@json_option
def policies(node_url: str, as_json: bool) -> None:
    """The named policies."""
    values = _query("policies", {}, node_url)
    if as_json:
        print_json(values)
        return
    print_kv("policies", ((k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()))


@gov.command("accreditations")
@click.option("--issuer", "target_org", default=None, help="Only this organisation's.")
@node_option
@json_option
def accreditations(target_org: str | None, node_url: str, as_json: bool) -> None:
    """Accredited issuers and their credential types (revoked ones too)."""
    values = _query("accreditations", {"org": target_org} if target_org else {}, node_url)
    if as_json:
        print_json(values)
        return
    print_table(
        "accreditations",
        ["organisation", "credential type", "status", "since height", "revoked at"],
        [
            (
                a["org"],
                a["credential_type"],
                a["status"],
                a["accredited_height"],
                a["revoked_height"],
            )
            for a in values
        ],
    )


@gov.command("services")
@node_option
@json_option
def services(node_url: str, as_json: bool) -> None:
    """Registered service definitions."""
    values = _query("services", {}, node_url)
    if as_json:
        print_json(values)
        return
    print_table(
        "services",
        ["service", "status", "versions"],
        [(s["id"], s["status"], ", ".join(v["version"] for v in s["versions"])) for s in values],
    )
