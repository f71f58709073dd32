"""Service definitions: the document format, its JSON Schema and the semantic checks.

A service definition is a JSON document (see ``docs/services.md``) that says who may apply, which
departments act in which order, what each step needs from the applicant, who approves it, how long
it may take and which credentials are issued on completion. It is data: a new service or a new
version of one needs a governance vote, never a code deployment.

A definition is *published* (its exact bytes stored under their SHA-256 by the workflow contract)
and then *registered* by the governance action ``register_service`` naming that hash. Both steps
check it: the JSON Schema (:data:`DEFINITION_SCHEMA`, draft 2020-12) for its shape, then
:func:`check_semantics` for what a schema cannot say (unique ids, known predecessors, no cycles,
known organisations, a way to meet every need). Every problem has its own stable code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from govchain.contracts.base import ReadContext
from govchain.contracts.catalog_records import get_resource
from govchain.contracts.identity import get_org
from govchain.credentials.errors import SchemaInvalid
from govchain.credentials.schema import DRAFT_2020_12, SubjectSchema
from govchain.crypto.hashing import sha256
from govchain.errors import ContractError

__all__ = [
    "APPLICANT_KINDS",
    "DEFINITION_SCHEMA",
    "MAX_DEFINITION_BYTES",
    "Approval",
    "CredentialWay",
    "DataWay",
    "Definition",
    "DefinitionRecord",
    "Need",
    "Output",
    "Step",
    "check_orgs",
    "check_semantics",
    "compute_deadline_ms",
    "compute_definition_hash",
    "definition_state_key",
    "get_definition",
    "get_definition_problem",
    "parse_definition",
]

NAME = "workflow"
MAX_DEFINITION_BYTES = 32 * 1024  # well below a transaction's size limit
APPLICANT_KINDS = ("citizen", "enterprise", "org")
APPROVER_ROLES = ("admin", "officer", "issuer")
_ORG = "^[a-z0-9][a-z0-9-]{0,62}$"
_ID = "^[a-z0-9][a-z0-9-]{0,47}$"
_TYPE = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
_RESOURCE = "^[a-z0-9][a-z0-9._-]{0,95}$"  # a catalogue resource id
_FIELD = "^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # a catalogue field name
_HOUR_MS = 3_600_000


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit}


def _ids(pattern: str, *, min_items: int = 0, max_items: int = 32) -> dict[str, Any]:
    return {
        "type": "array",
        "uniqueItems": True,
        "minItems": min_items,
        "maxItems": max_items,
        "items": {"type": "string", "pattern": pattern},
    }


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


DEFINITION_SCHEMA: dict[str, Any] = {
    "$schema": DRAFT_2020_12,
    "$id": "urn:govchain:service-definition:1",
    **_object(
        ["id", "version", "title", "applicants", "steps"],
        {
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"},
            "version": {"type": "string", "pattern": "^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$"},
            "title": _text(200),
            "title_zh": _text(200),
            "description": _text(2000),
            "applicants": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": list(APPLICANT_KINDS)},
            },
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": 32,
                "items": {"$ref": "#/$defs/step"},
            },
        },
    ),
    "$defs": {
        "step": _object(
            ["id", "title", "org", "approval", "deadline"],
            {
                "id": {"type": "string", "pattern": _ID},
                "title": _text(200),
                "org": {"type": "string", "pattern": _ORG},
                "after": _ids(_ID),
                "approval": {"$ref": "#/$defs/approval"},
                "deadline": {"type": "string", "pattern": "^[1-9][0-9]{0,3}[hd]$"},
                "needs": {"type": "array", "maxItems": 16, "items": {"$ref": "#/$defs/need"}},
                "outputs": {"type": "array", "maxItems": 8, "items": {"$ref": "#/$defs/output"}},
            },
        ),
        "approval": _object(
            ["n", "roles"],
            {
                "n": {"type": "integer", "minimum": 1, "maximum": 5},
                "roles": {
                    "type": "array",
                    "minItems": 1,
                    "uniqueItems": True,
                    "items": {"enum": list(APPROVER_ROLES)},
                },
            },
        ),
        "need": _object(
            ["id", "title"],
            {
                "id": {"type": "string", "pattern": _ID},
                "title": _text(200),
                "credential": _object(
                    ["types", "issuers"],
                    {"types": _ids(_TYPE, min_items=1), "issuers": _ids(_ORG, min_items=1)},
                ),
                "data": _object(
                    ["owner", "resource", "fields"],
                    {
                        "owner": {"type": "string", "pattern": _ORG},
                        "resource": {"type": "string", "pattern": _RESOURCE},
                        "fields": _ids(_FIELD, min_items=1),
                    },
                ),
                "upload": {"type": "boolean"},
            },
        ),
        "output": _object(
            ["credential_type", "issuer"],
            {
                "credential_type": {"type": "string", "pattern": _TYPE},
                "issuer": {"type": "string", "pattern": _ORG},
            },
        ),
    },
}

_COMPILED = SubjectSchema(DEFINITION_SCHEMA)


# --- the definition as typed records (after the schema has checked its shape) --------------------


class Approval(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    n: int  # distinct members of the step's organisation ...
    roles: list[str]  # ... each holding one of these roles


class CredentialWay(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    types: list[str]  # accepted credential types
    issuers: list[str]  # accepted issuing organisations


class DataWay(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    owner: str  # the organisation holding the data
    resource: str  # catalogue resource id
    fields: list[str]  # the fields the step needs


class Need(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    title: str
    credential: CredentialWay | None = None
    data: DataWay | None = None
    upload: bool = True


class Output(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    credential_type: str
    issuer: str


class Step(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    title: str
    org: str
    approval: Approval
    deadline: str  # "72h", "5d"
    after: list[str] = msgspec.field(default_factory=list)
    needs: list[Need] = msgspec.field(default_factory=list)
    outputs: list[Output] = msgspec.field(default_factory=list)


class Definition(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    version: str
    title: str
    applicants: list[Literal["citizen", "enterprise", "org"]]
    steps: list[Step]
    title_zh: str = ""
    description: str = ""

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def organisations(self) -> list[str]:
        """Every organisation the definition names (steps, issuers, data owners), sorted."""
        orgs: set[str] = set()
        for step in self.steps:
            orgs.add(step.org)
            orgs.update(o.issuer for o in step.outputs)
            for need in step.needs:
                orgs.update(need.credential.issuers if need.credential else ())
                orgs.update([need.data.owner] if need.data else ())
        return sorted(orgs)


class DefinitionRecord(msgspec.Struct, frozen=True):
    """A published definition: its exact bytes, stored under their SHA-256."""

    hash: bytes
    service_id: str
    version: str
    title: str
    document: str
    definition: Definition  # the document, decoded and checked
    publisher: str  # identity id of the member who published it
    height: int
    tx_id: bytes


# --- checking ------------------------------------------------------------------------------------


def _bad(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


def parse_definition(document: str) -> Definition:
    """The definition in ``document``, or a :class:`ContractError` naming the first problem of
    its shape (``WF_DEF_TOO_LARGE``, ``WF_DEF_NOT_JSON``, ``WF_DEF_SCHEMA``) or of its meaning
    (see :func:`check_semantics`). Organisations are checked apart (:func:`check_orgs`)."""
    if len(document.encode()) > MAX_DEFINITION_BYTES:
        raise _bad(
            "WF_DEF_TOO_LARGE",
            f"a service definition has at most {MAX_DEFINITION_BYTES} bytes",
            "Split the service or shorten its texts.",
        )
    try:
        raw = msgspec.json.decode(document)
    except msgspec.DecodeError as exc:
        raise _bad(
            "WF_DEF_NOT_JSON", f"the definition is not JSON: {exc}", "Write it as a JSON object."
        ) from None
    try:
        _COMPILED.validate(raw, label="definition")
    except SchemaInvalid as exc:
        raise _bad(
            "WF_DEF_SCHEMA",
            exc.message,
            "Fix the named field; docs/services.md describes the definition format.",
        ) from None
    definition = msgspec.convert(raw, Definition)
    check_semantics(definition)
    return definition


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]


def check_semantics(definition: Definition) -> None:
    """What the schema cannot say: unique step and need ids, known predecessors, an acyclic
    order, and a way to meet every need."""
    if dup := _duplicates(s.id for s in definition.steps):
        raise _bad("WF_DEF_DUPLICATE_STEP", f"step id {dup[0]!r} is used twice", "Rename a step.")
    ids = {s.id for s in definition.steps}
    for step in definition.steps:
        if unknown := sorted(set(step.after) - ids):
            raise _bad(
                "WF_DEF_UNKNOWN_STEP",
                f"step {step.id!r} comes after {unknown[0]!r}, which is not a step",
                "Name only steps of this definition in `after`.",
            )
        if dup := _duplicates(n.id for n in step.needs):
            raise _bad(
                "WF_DEF_DUPLICATE_NEED",
                f"step {step.id!r} names need {dup[0]!r} twice",
                "Rename one of the needs.",
            )
        for need in step.needs:
            if need.credential is None and need.data is None and not need.upload:
                raise _bad(
                    "WF_DEF_NEED_UNMEETABLE",
                    f"need {step.id}/{need.id} accepts no credential, no shared data and no upload",
                    "Give the need a credential, data or upload way.",
                )
    _check_acyclic(definition)


def _check_acyclic(definition: Definition) -> None:
    after = {s.id: set(s.after) for s in definition.steps}
    done: set[str] = set()
    while len(done) < len(after):
        ready = [s for s, deps in after.items() if s not in done and deps <= done]
        if not ready:
            stuck = sorted(set(after) - done)
            raise _bad(
                "WF_DEF_CYCLE",
                f"steps {', '.join(stuck)} wait for each other (a cycle in `after`)",
                "Order the steps so that no step comes after itself.",
            )
        done.update(ready)


def check_orgs(ctx: ReadContext, definition: Definition) -> None:
    """Every organisation the definition names exists and is active (``WF_DEF_UNKNOWN_ORG``);
    a data need naming a resource already in the catalogue names its owner and existing fields
    (``WF_DEF_RESOURCE_MISMATCH``; a resource not catalogued yet is checked when shared)."""
    for org_id in definition.organisations():
        org = get_org(ctx, org_id)
        if org is None or org.status != "active":
            raise _bad(
                "WF_DEF_UNKNOWN_ORG",
                f"the definition names {org_id!r}, which is not an active organisation",
                "GET /v1/orgs lists the organisations; governance adds new ones.",
            )
    for step in definition.steps:
        for need in step.needs:
            if need.data is not None:
                _check_resource(ctx, f"{step.id}/{need.id}", need.data)


def _check_resource(ctx: ReadContext, where: str, way: DataWay) -> None:
    resource = get_resource(ctx, way.resource)
    if resource is None:
        return
    problem = None
    if resource.org != way.owner:
        problem = f"resource {way.resource} belongs to {resource.org}, not {way.owner}"
    elif missing := sorted(set(way.fields) - resource.field_names()):
        problem = f"resource {way.resource} has no field(s) {', '.join(missing)}"
    if problem is not None:
        raise _bad(
            "WF_DEF_RESOURCE_MISMATCH",
            f"need {where}: {problem}",
            "`govchain catalog show RESOURCE` lists its owner and fields.",
        )


def compute_deadline_ms(deadline: str) -> int:
    """``"72h"`` or ``"5d"`` in milliseconds."""
    count, unit = int(deadline[:-1]), deadline[-1]
    return count * _HOUR_MS * (24 if unit == "d" else 1)


# --- reading -------------------------------------------------------------------------------------


def definition_state_key(definition_hash: bytes) -> bytes:
    """The full state key of a published definition (for state proofs)."""
    return NAME.encode() + b"/def/" + definition_hash


def get_definition(ctx: ReadContext, definition_hash: bytes) -> DefinitionRecord | None:
    return ctx.other(NAME).get_as(b"def/" + definition_hash, DefinitionRecord)


def get_definition_problem(
    ctx: ReadContext, service_id: str, version: str, definition_hash: bytes
) -> str | None:
    """Why governance may not register ``definition_hash`` as ``service_id`` ``version`` now
    (``None`` when it may): it must be published, name that id and version, and still check
    out (its organisations may have changed since it was published)."""
    record = get_definition(ctx, definition_hash)
    if record is None:
        return (
            f"no service definition with hash {definition_hash.hex()} is published; "
            "publish it first (`govchain service publish FILE`)"
        )
    if (record.service_id, record.version) != (service_id, version):
        return (
            f"the definition with hash {definition_hash.hex()[:16]}... is "
            f"{record.service_id} version {record.version}, not {service_id} version {version}"
        )
    try:
        check_orgs(ctx, parse_definition(record.document))
    except ContractError as exc:
        return f"the definition no longer checks out: {exc.message}"
    return None


def compute_definition_hash(document: str) -> bytes:
    """The SHA-256 of a definition's exact UTF-8 bytes (what governance registers)."""
    return sha256(document.encode())
