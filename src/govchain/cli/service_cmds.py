"""`govchain service`: cross-department services: definitions, instances and steps."""

from __future__ import annotations

from pathlib import Path
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
from govchain.errors import BadRequest

__all__ = ["service"]

ACTIONS = ("approve", "reject", "request_info")


@click.group()
def service() -> None:
    """Cross-department services: definitions, instances and steps.

    \b
    A service is a JSON definition (docs/services.md) published on chain and
    activated by a governance vote; citizens and enterprises start instances,
    departments act on their steps.

    \b
      govchain service list
      govchain service show open-restaurant
      govchain service publish open-restaurant --dir city --org tax
      govchain service start open-restaurant --key ent.key \\
          --credential business-licence/legal-representative-id=HASH:SALT \\
          --upload business-licence/premises-lease=lease.pdf
      govchain service act INSTANCE business-licence approve --key officer.key
      govchain service status INSTANCE --key ent.key
    """


def _services(node_url: str, key: Any = None) -> Any:
    from govchain.client.services import Services

    return Services(client_from_options(node_url, key=key))


def _document(source: str) -> str:
    """A definition's text from a file, or a built-in service's by id."""
    from govchain.services import builtin_ids, load_document

    path = Path(source)
    if path.is_file():
        return path.read_bytes().decode("utf-8")  # exact bytes: their SHA-256 is registered
    if source in builtin_ids():
        return load_document(source)
    raise BadRequest(
        f"{source!r} is neither a file nor a built-in service",
        hint=f"Pass a definition file or one of {', '.join(builtin_ids())}.",
    )


def _split_need(text: str, option: str) -> tuple[str, str, str]:
    target, sep, value = text.partition("=")
    step, slash, need = target.partition("/")
    if not (sep and slash and step and need and value):
        raise BadRequest(
            f"{option} {text!r} is not STEP/NEED=VALUE",
            hint=f"e.g. {option} business-licence/premises-lease=...",
        )
    return step, need, value


def _provisions(
    credentials: tuple[str, ...], grants: tuple[str, ...], uploads: tuple[str, ...]
) -> list[Any]:
    from govchain.client.services import with_credential, with_grant, with_upload

    out = []
    for text in credentials:
        step, need, value = _split_need(text, "--credential")
        digest, colon, salt = value.partition(":")
        if not colon:
            raise BadRequest("--credential needs HASH:SALT", hint="The issuer gave the salt.")
        try:
            out.append(with_credential(step, need, digest, salt))
        except ValueError:
            raise BadRequest("--credential HASH and SALT are hex") from None
    for text in grants:
        step, need, value = _split_need(text, "--grant")
        out.append(with_grant(step, need, value))
    for text in uploads:
        step, need, value = _split_need(text, "--upload")
        out.append(with_upload(step, need, Path(value)))
    return out


def _need_options(f: Any) -> Any:
    for name, help_text in (
        ("--upload", "STEP/NEED=FILE: only the file's SHA-256 goes on chain (repeatable)."),
        ("--grant", "STEP/NEED=GRANT_ID: data shared with the step's department (repeatable)."),
        ("--credential", "STEP/NEED=HASH:SALT: a credential you hold (repeatable)."),
    ):
        f = click.option(name, name.strip("-") + "s", multiple=True, help=help_text)(f)
    return f


# --- definitions -------------------------------------------------------------------------------


@service.command("list")
@node_option
@json_option
def service_list(node_url: str, as_json: bool) -> None:
    """The services, their status and active version."""
    found = _services(node_url).list_services()
    if as_json:
        print_json(found)
        return
    rows = [
        (s["id"], s["version"], s["status"], s["title"], s["definition_hash"][:16]) for s in found
    ]
    print_table("Services", ["id", "version", "status", "title", "definition"], rows)


@service.command("show")
@click.argument("service_id")
@node_option
@json_option
def service_show(service_id: str, node_url: str, as_json: bool) -> None:
    """A service's active definition: steps, order, approvals, deadlines, needs, outputs."""
    shown = _services(node_url).show(service_id)
    if as_json:
        print_json(shown)
        return
    definition, record = shown["definition"], shown["service"]
    print_kv(
        f"Service {definition['id']}",
        [
            ("title", definition["title"]),
            ("version", f"{definition['version']} ({record['status']})"),
            ("applicants", ", ".join(definition["applicants"])),
            ("definition", shown["hash"]),
        ],
    )
    rows = []
    for step in definition["steps"]:
        approval = f"{step['approval']['n']} of {'/'.join(step['approval']['roles'])}"
        needs = ", ".join(_describe_need(n) for n in step["needs"]) or "-"
        outputs = ", ".join(o["credential_type"] for o in step["outputs"]) or "-"
        after = ", ".join(step["after"]) or "-"
        rows.append((step["id"], step["org"], after, approval, step["deadline"], needs, outputs))
    print_table(
        "Steps", ["step", "department", "after", "approval", "deadline", "needs", "issues"], rows
    )


def _describe_need(need: dict[str, Any]) -> str:
    ways = []
    if need.get("credential"):
        ways.append("credential " + "/".join(need["credential"]["types"]))
    if need.get("data"):
        ways.append("data " + need["data"]["resource"])
    if need.get("upload", True):
        ways.append("upload")
    return f"{need['id']} ({' | '.join(ways)})"


@service.command("publish")
@click.argument("source", metavar="FILE|BUILT_IN_ID")
@click.option(
    "--propose", is_flag=True, help="Also propose to governance to register it (an admin)."
)
@click.option("--check-only", is_flag=True, help="Check it on the node; publish nothing.")
@key_options
@node_option
@json_option
def service_publish(
    source: str,
    propose: bool,
    check_only: bool,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Publish a service definition (a file, or a built-in service's id) on chain.

    \b
    A definition that does not validate is refused with the code of the problem
    (WF_DEF_SCHEMA names the field). Governance then activates it:
      govchain service publish restaurant.json --dir city --org tax --propose
    """
    document = _document(source)
    if check_only:
        checked = _services(node_url).check(document)
        if as_json:
            print_json(checked)
        else:
            console.print(f"[green]valid[/] definition {checked['hash']}")
        return
    key = load_signing_key(key_file, network_dir, org)
    services = _services(node_url, key)
    outcome = services.publish(key, document)
    result: dict[str, Any] = {"published": outcome.result}
    if propose:
        result["proposal"] = services.propose_register(key, document)
    if as_json:
        print_json(result)
        return
    published = outcome.result
    console.print(
        f"[green]published[/] {published['service_id']} {published['version']} "
        f"definition {published['hash']} at height {outcome.height}"
    )
    if propose:
        console.print(
            f"proposal {result['proposal']['id']} to register it: "
            f"`govchain gov vote {result['proposal']['id']}`"
        )
    else:
        console.print("next: govchain gov propose register-service (or publish --propose)")


# --- instances ---------------------------------------------------------------------------------


@service.command("start")
@click.argument("service_id")
@_need_options
@key_options
@node_option
@json_option
def service_start(
    service_id: str,
    credentials: tuple[str, ...],
    grants: tuple[str, ...],
    uploads: tuple[str, ...],
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Start an instance of SERVICE_ID as its applicant (your citizen or enterprise key, or an
    admin's or officer's key for its organisation), meeting needs at once."""
    key = load_signing_key(key_file, network_dir, org)
    instance = _services(node_url, key).start(
        key, service_id, _provisions(credentials, grants, uploads)
    )
    if as_json:
        print_json(instance)
        return
    console.print(f"[green]started[/] {service_id} instance [bold]{instance['id']}[/]")
    _print_instance(instance)


@service.command("meet")
@click.argument("instance_id")
@_need_options
@key_options
@node_option
@json_option
def service_meet(
    instance_id: str,
    credentials: tuple[str, ...],
    grants: tuple[str, ...],
    uploads: tuple[str, ...],
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Meet needs of an instance's open steps (the applicant; a department with --grant)."""
    key = load_signing_key(key_file, network_dir, org)
    provisions = _provisions(credentials, grants, uploads)
    if not provisions:
        raise BadRequest("nothing to meet", hint="Pass --credential, --grant or --upload.")
    instance = _services(node_url, key).meet(key, instance_id, provisions)
    if as_json:
        print_json(instance)
        return
    _print_instance(instance)


@service.command("act")
@click.argument("instance_id")
@click.argument("step")
@click.argument("action", type=click.Choice(ACTIONS))
@click.option("--comment", default="", help="The reason of a rejection, the question asked.")
@key_options
@node_option
@json_option
def service_act(
    instance_id: str,
    step: str,
    action: str,
    comment: str,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Act on STEP of an instance as its department: approve, reject (--comment REASON) or
    request_info (--comment QUESTION).

    \b
      govchain service act 3f2a... fire-safety approve --key fire-officer.key
      govchain service act 3f2a... food-permit reject --comment "no hand basin" --key mr.key
    """
    key = load_signing_key(key_file, network_dir, org)
    instance = _services(node_url, key).act(key, instance_id, step, action, comment)
    if as_json:
        print_json(instance)
        return
    _print_instance(instance)


@service.command("answer")
@click.argument("instance_id")
@click.argument("step")
@click.option("--comment", default="", help="Your answer.")
@click.option(
    "--upload",
    "uploads",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file for the department (only its SHA-256 on chain; repeatable).",
)
@key_options
@node_option
@json_option
def service_answer(
    instance_id: str,
    step: str,
    comment: str,
    uploads: tuple[Path, ...],
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Answer a step's request for information (the applicant)."""
    key = load_signing_key(key_file, network_dir, org)
    instance = _services(node_url, key).answer(key, instance_id, step, comment, list(uploads))
    if as_json:
        print_json(instance)
        return
    _print_instance(instance)


@service.command("status")
@click.argument("instance_id", required=False)
@click.option("--applicant", default=None, help="List this applicant's instances (yours).")
@click.option("--department", "department", default=None, help="List your department's.")
@node_option
@json_option
def service_status(
    instance_id: str | None,
    applicant: str | None,
    department: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Follow an instance (its applicant and departments read it; sign with --key), or list
    yours (--applicant ID) or your department's (--department ORG)."""
    services = _services(node_url)
    if instance_id is None:
        if applicant is None and department is None:
            raise BadRequest("name an INSTANCE_ID, --applicant or --department")
        found = services.instances(applicant=applicant, org=department)
        if as_json:
            print_json(found)
            return
        rows = [
            (i["id"], i["service_id"], i["applicant"], i["status"], _open_steps(i)) for i in found
        ]
        print_table("Instances", ["id", "service", "applicant", "status", "open steps"], rows)
        return
    instance = services.instance(instance_id)
    if as_json:
        print_json(instance)
        return
    _print_instance(instance)


def _open_steps(instance: dict[str, Any]) -> str:
    return (
        ", ".join(
            s["id"] + (" (overdue)" if s["overdue"] else "")
            for s in instance["steps"]
            if s["status"] in ("active", "info_requested")
        )
        or "-"
    )


def _print_instance(instance: dict[str, Any]) -> None:
    print_kv(
        f"Instance {instance['id']}",
        [
            ("service", f"{instance['service_id']} {instance['version']}"),
            ("applicant", instance["applicant"]),
            ("status", instance["status"]),
            ("started at height", instance["started_height"]),
        ],
    )
    steps = [
        (
            s["id"],
            s["org"],
            s["status"] + (" OVERDUE" if s["overdue"] else ""),
            len(s["approvals"]),
            s["due_ms"] or "-",
        )
        for s in instance["steps"]
    ]
    print_table("Steps", ["step", "department", "status", "approvals", "due (ms)"], steps)
    needs = [
        (f"{n['step']}/{n['need']}", n["met_by"] or "NOT MET", n["ref"][:24])
        for n in instance["needs"]
    ]
    print_table("Needs", ["need", "met by", "reference"], needs)
    if instance["history"]:
        history = [
            (h["height"], h["step"], h["action"], h["by"], h["comment"])
            for h in instance["history"]
        ]
        print_table("History", ["height", "step", "action", "by", "comment"], history)
    if instance["outputs"]:
        outputs = [
            (o["credential_type"], o["issuer"], o["credential_hash"] or "to be issued")
            for o in instance["outputs"]
        ]
        print_table("Credentials issued on completion", ["type", "issuer", "credential"], outputs)


# --- issuing departments -----------------------------------------------------------------------


@service.command("bind-holder")
@click.argument("credential_hash")
@click.option("--holder", required=True, help="The holder's identity id (cit:... or ent:...).")
@key_options
@node_option
@json_option
def service_bind_holder(
    credential_hash: str,
    holder: str,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Commit on chain that HOLDER holds the credential (an issuer or officer of its issuer);
    prints the salt to hand to the holder with the credential.

    \b
      govchain service bind-holder 5e1c... --holder ent:91330200MA2H3K4L5X --key issuer.key
    """
    key = load_signing_key(key_file, network_dir, org)
    salt = _services(node_url, key).bind_holder(key, _hex32(credential_hash), holder)
    if as_json:
        print_json({"credential_hash": credential_hash, "holder": holder, "salt": salt.hex()})
        return
    console.print(f"[green]bound[/] to {holder}; holder salt: [bold]{salt.hex()}[/]")
    console.print(
        f"the holder presents it as --credential STEP/NEED={credential_hash}:{salt.hex()}"
    )


@service.command("link")
@click.argument("instance_id")
@click.argument("credential_hash")
@key_options
@node_option
@json_option
def service_link(
    instance_id: str,
    credential_hash: str,
    key_file: Path | None,
    network_dir: Path | None,
    org: str | None,
    node_url: str,
    as_json: bool,
) -> None:
    """Link a credential issued on an instance's completion (`govchain cert issue`) to it (an
    issuer or officer of the issuing department)."""
    key = load_signing_key(key_file, network_dir, org)
    instance = _services(node_url, key).link_output(key, instance_id, _hex32(credential_hash))
    if as_json:
        print_json(instance)
        return
    _print_instance(instance)


def _hex32(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest("a credential hash is 64 hex digits (SHA-256)")
    return raw
