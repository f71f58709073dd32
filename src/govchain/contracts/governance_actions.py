"""What a governance proposal can do: the actions, how each is checked and how it is enacted,
and the governance state the rest of the chain reads (chain parameters, policies,
accreditations, service definitions).

An action is checked twice: when it is proposed (so a proposal that cannot work is refused at
once with ``GOV_INVALID_ACTION`` and the reason) and again when it is enacted, against the state
at that height (the world may have changed in between: the organisation may already exist, two
parameter changes may no longer fit together). An action that fails at enactment leaves the
proposal ``failed`` with the reason; it never stops the block.

State (under ``governance/``)::

    params                         ChainParams in force
    lifetime_ceiling               the largest max_tx_lifetime ever in force (replay window)
    policy/<name>                  a named Policy
    accreditation/<org>/<type>     Accreditation (kept when revoked, with its revocation)
    service/<id>                   ServiceRecord (versions, active or retired)
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from govchain.contracts.base import Context, ReadContext
from govchain.contracts.identity import (
    Identity,
    create_member,
    create_org,
    get_identity,
    get_org,
    member_id,
    put_identity,
)
from govchain.contracts.policy import FoundersMajority, Policy, validate
from govchain.contracts.workflow_definitions import get_definition_problem
from govchain.errors import ContractError, NotFoundInState
from govchain.state.overlay import StateReader
from govchain.types import ChainParams

__all__ = [
    "accreditation_state_key",
    "DEFAULT_POLICY",
    "PARAMS_KEY",
    "PARAM_BOUNDS",
    "Accredit",
    "Accreditation",
    "Action",
    "AddNode",
    "AddOrg",
    "RegisterService",
    "RemoveNode",
    "RemoveOrg",
    "RetireService",
    "RevokeAccreditation",
    "ServiceRecord",
    "ServiceVersion",
    "SetParams",
    "SetPolicy",
    "action_kind",
    "check_action",
    "enact_action",
    "get_lifetime_ceiling",
    "get_params",
    "get_policy",
    "is_accredited",
    "put_params",
]

NAME = "governance"
PARAMS_KEY = b"governance/params"
LIFETIME_CEILING_KEY = b"governance/lifetime_ceiling"
DEFAULT_POLICY = "governance"
INVALID = "GOV_INVALID_ACTION"

ORG_KINDS = ("department", "district", "bureau", "enterprise")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
MAX_TEXT = 200

# Sane bounds for every chain parameter (inclusive); max_tx_bytes must also fit in a block.
PARAM_BOUNDS: dict[str, tuple[int, int]] = {
    "max_block_txs": (1, 100_000),
    "max_block_bytes": (64 * 1024, 256 * 1024 * 1024),
    "max_tx_bytes": (1024, 16 * 1024 * 1024),
    "block_interval_ms": (10, 60_000),
    "max_tx_lifetime": (10, 100_000),
}


# --- actions -------------------------------------------------------------------------------


class _Action(msgspec.Struct, tag_field="type", frozen=True, forbid_unknown_fields=True):
    pass


class AddOrg(_Action, tag="add_org", frozen=True):
    id: str
    name: str
    name_zh: str
    kind: str  # department | district | bureau | enterprise
    admin_key: bytes  # Ed25519 public key of the organisation's first admin


class RemoveOrg(_Action, tag="remove_org", frozen=True):
    id: str


class AddNode(_Action, tag="add_node", frozen=True):
    org: str
    node_id: str  # the node's identity becomes <org>:<node_id>
    public_key: bytes


class RemoveNode(_Action, tag="remove_node", frozen=True):
    id: str  # the node's identity id, e.g. bureau:node1


class SetPolicy(_Action, tag="set_policy", frozen=True):
    name: str
    policy: Policy


class SetParams(_Action, tag="set_params", frozen=True):
    max_block_txs: int | None = None
    max_block_bytes: int | None = None
    max_tx_bytes: int | None = None
    block_interval_ms: int | None = None
    max_tx_lifetime: int | None = None


class Accredit(_Action, tag="accredit", frozen=True):
    org: str
    credential_type: str


class RevokeAccreditation(_Action, tag="revoke_accreditation", frozen=True):
    org: str
    credential_type: str


class RegisterService(_Action, tag="register_service", frozen=True):
    service_id: str
    version: str
    title: str
    definition_hash: bytes  # SHA-256 of the service definition (kept off chain)


class RetireService(_Action, tag="retire_service", frozen=True):
    service_id: str


Action = (
    AddOrg
    | RemoveOrg
    | AddNode
    | RemoveNode
    | SetPolicy
    | SetParams
    | Accredit
    | RevokeAccreditation
    | RegisterService
    | RetireService
)


def action_kind(action: Action) -> str:
    """The action's tag, e.g. ``set_params``."""
    return str(action.__struct_config__.tag)


# --- records -------------------------------------------------------------------------------


class Accreditation(msgspec.Struct, frozen=True):
    org: str
    credential_type: str
    status: Literal["active", "revoked"]
    accredited_height: int
    proposal: int
    revoked_height: int | None = None
    revoked_by: int | None = None  # the proposal that revoked it


class ServiceVersion(msgspec.Struct, frozen=True):
    version: str
    title: str
    definition_hash: bytes
    registered_height: int
    proposal: int


class ServiceRecord(msgspec.Struct, frozen=True):
    id: str
    status: Literal["active", "retired"]
    versions: list[ServiceVersion]
    retired_height: int | None = None


# --- reading -------------------------------------------------------------------------------


def get_params(state: StateReader, fallback: ChainParams | None = None) -> ChainParams:
    """The chain parameters in force in ``state`` (``fallback`` when governance has written
    none, e.g. a chain run without the governance contract)."""
    raw = state.get(PARAMS_KEY)
    if raw is None:
        return fallback if fallback is not None else ChainParams()
    return msgspec.msgpack.decode(raw, type=ChainParams)


def get_lifetime_ceiling(state: StateReader) -> int:
    """The largest ``max_tx_lifetime`` ever in force (0 when unknown): how far back a restarted
    node must look for transactions that could still be replayed."""
    raw = state.get(LIFETIME_CEILING_KEY)
    return 0 if raw is None else msgspec.msgpack.decode(raw, type=int)


def put_params(ctx: Context, params: ChainParams) -> None:
    writer = ctx.other_writer(NAME)
    writer.set("params", msgspec.msgpack.encode(params))
    raw = writer.get("lifetime_ceiling")
    ceiling = 0 if raw is None else msgspec.msgpack.decode(raw, type=int)
    ceiling = max(ceiling, params.max_tx_lifetime)
    writer.set("lifetime_ceiling", msgspec.msgpack.encode(ceiling))


def read_params(ctx: ReadContext) -> ChainParams:
    """The chain parameters in force, read through a contract context."""
    raw = ctx.other(NAME).get("params")
    return ChainParams() if raw is None else msgspec.msgpack.decode(raw, type=ChainParams)


def get_policy(ctx: ReadContext, name: str) -> Policy:
    """A named policy; raises ``GOV_UNKNOWN_POLICY`` when there is none."""
    raw = ctx.other(NAME).get(f"policy/{name}")
    if raw is None:
        raise NotFoundInState(
            f"no policy named {name!r}",
            code="GOV_UNKNOWN_POLICY",
            hint="`govchain gov policies` lists the policies; governance adds them (set-policy).",
        )
    return msgspec.msgpack.decode(raw, type=Policy)


def has_policy(ctx: ReadContext, name: str) -> bool:
    return ctx.other(NAME).get(f"policy/{name}") is not None


def put_policy(ctx: Context, name: str, policy: Policy) -> None:
    ctx.other_writer(NAME).set(f"policy/{name}", msgspec.msgpack.encode(policy))


def _accreditation_key(org: str, credential_type: str) -> str:
    return f"accreditation/{org}/{credential_type}"


def accreditation_state_key(org: str, credential_type: str) -> bytes:
    """The full state key of an accreditation record (for state proofs)."""
    return f"{NAME}/{_accreditation_key(org, credential_type)}".encode()


def get_accreditation(ctx: ReadContext, org: str, credential_type: str) -> Accreditation | None:
    return ctx.other(NAME).get_as(_accreditation_key(org, credential_type), Accreditation)


def is_accredited(ctx: ReadContext, org: str, credential_type: str) -> bool:
    """Whether governance accredits ``org`` for ``credential_type`` (e.g. real-name checks of
    citizens); the organisation itself must also be active."""
    record = get_accreditation(ctx, org, credential_type)
    if record is None or record.status != "active":
        return False
    org_identity = get_org(ctx, org)
    return org_identity is not None and org_identity.status == "active"


def get_service(ctx: ReadContext, service_id: str) -> ServiceRecord | None:
    return ctx.other(NAME).get_as(f"service/{service_id}", ServiceRecord)


# --- checking ------------------------------------------------------------------------------


def _invalid(reason: str, hint: str | None = None) -> ContractError:
    return ContractError(reason, code=INVALID, hint=hint or "Fix the action and propose it again.")


def _check_key(ctx: ReadContext, key: bytes, what: str) -> None:
    if len(key) != 32:
        raise _invalid(f"{what} must be a 32-byte Ed25519 public key, got {len(key)} bytes")
    if ctx.other("identity").get(b"key/" + key) is not None:
        raise _invalid(f"{what} {key.hex()} is already bound to an identity", "Use a new key.")


def _active_org(ctx: ReadContext, org_id: str) -> Identity:
    org = get_org(ctx, org_id)
    if org is None:
        raise _invalid(f"unknown organisation {org_id!r}", "GET /v1/orgs lists them.")
    if org.status != "active":
        raise _invalid(f"organisation {org_id!r} is {org.status}")
    return org


def _check_text(value: str, what: str) -> None:
    if not value.strip() or len(value) > MAX_TEXT:
        raise _invalid(f"{what} must be 1..{MAX_TEXT} characters")


def merge_params(current: ChainParams, change: SetParams) -> ChainParams:
    """``current`` with ``change`` applied, checked against :data:`PARAM_BOUNDS`."""
    updates = {name: value for name in PARAM_BOUNDS if (value := getattr(change, name)) is not None}
    if not updates:
        raise _invalid("set_params changes no parameter", "Name at least one parameter.")
    for name, value in updates.items():
        low, high = PARAM_BOUNDS[name]
        if isinstance(value, bool) or not low <= value <= high:
            raise _invalid(f"{name} must be between {low} and {high}, got {value}")
    merged = msgspec.structs.replace(current, **updates)
    if merged.max_tx_bytes > merged.max_block_bytes:
        raise _invalid(
            f"max_tx_bytes ({merged.max_tx_bytes}) exceeds max_block_bytes "
            f"({merged.max_block_bytes})"
        )
    return merged


def _active_nodes(ctx: ReadContext) -> list[Identity]:
    out = []
    for _, raw in ctx.other("identity").iter("id/"):
        ident = msgspec.msgpack.decode(raw, type=Identity)
        if ident.kind == "node" and ident.status == "active":
            org = get_org(ctx, ident.org)
            if org is not None and org.status == "active":
                out.append(ident)
    return out


def check_action(ctx: ReadContext, action: Action) -> None:
    """Raise ``GOV_INVALID_ACTION`` with the reason if ``action`` cannot be enacted now."""
    if isinstance(action, AddOrg):
        if not _ID.match(action.id):
            raise _invalid(f"organisation id {action.id!r} must match {_ID.pattern}")
        if get_identity(ctx, action.id) is not None:
            raise _invalid(f"identity {action.id!r} already exists")
        if action.kind not in ORG_KINDS:
            raise _invalid(f"kind must be one of {', '.join(ORG_KINDS)}, got {action.kind!r}")
        _check_text(action.name, "name")
        _check_text(action.name_zh, "name_zh")
        _check_key(ctx, action.admin_key, "admin_key")
    elif isinstance(action, RemoveOrg):
        org = _active_org(ctx, action.id)
        if org.founding:
            raise _invalid(
                f"{action.id!r} is a founding organisation and cannot be removed",
                "Founding organisations are named by the genesis.",
            )
    elif isinstance(action, AddNode):
        _active_org(ctx, action.org)
        if not _ID.match(action.node_id):
            raise _invalid(f"node id {action.node_id!r} must match {_ID.pattern}")
        if get_identity(ctx, member_id(action.org, action.node_id)) is not None:
            raise _invalid(f"identity {member_id(action.org, action.node_id)!r} already exists")
        _check_key(ctx, action.public_key, "public_key")
    elif isinstance(action, RemoveNode):
        node = get_identity(ctx, action.id)
        if node is None or node.kind != "node":
            raise _invalid(f"no node {action.id!r}")
        if node.status == "removed":
            raise _invalid(f"node {action.id!r} is already removed")
        if [n.id for n in _active_nodes(ctx)] == [action.id]:
            raise _invalid(f"{action.id!r} is the last active node; the chain would stop")
    elif isinstance(action, SetPolicy):
        if not _NAME.match(action.name):
            raise _invalid(f"policy name {action.name!r} must match {_NAME.pattern}")
        try:
            validate(action.policy)
        except ValueError as exc:
            raise _invalid(f"policy {action.name!r}: {exc}") from exc
    elif isinstance(action, SetParams):
        merge_params(read_params(ctx), action)
    elif isinstance(action, Accredit | RevokeAccreditation):
        _check_accreditation(ctx, action)
    else:
        _check_service(ctx, action)


def _check_accreditation(ctx: ReadContext, action: Accredit | RevokeAccreditation) -> None:
    if not _TYPE.match(action.credential_type):
        raise _invalid(f"credential type {action.credential_type!r} must match {_TYPE.pattern}")
    record = get_accreditation(ctx, action.org, action.credential_type)
    active = record is not None and record.status == "active"
    if isinstance(action, Accredit):
        _active_org(ctx, action.org)
        if active:
            raise _invalid(f"{action.org!r} is already accredited for {action.credential_type!r}")
    elif not active:
        raise _invalid(f"{action.org!r} is not accredited for {action.credential_type!r}")


def _check_service(ctx: ReadContext, action: RegisterService | RetireService) -> None:
    if not _NAME.match(action.service_id):
        raise _invalid(f"service id {action.service_id!r} must match {_NAME.pattern}")
    record = get_service(ctx, action.service_id)
    if isinstance(action, RetireService):
        if record is None or record.status != "active":
            raise _invalid(f"no active service {action.service_id!r}")
        return
    if not action.version.strip() or len(action.version) > 32:
        raise _invalid("version must be 1..32 characters")
    _check_text(action.title, "title")
    if len(action.definition_hash) != 32:
        raise _invalid("definition_hash must be a 32-byte SHA-256 digest")
    if record is not None and any(v.version == action.version for v in record.versions):
        raise _invalid(f"service {action.service_id!r} already has version {action.version!r}")
    problem = get_definition_problem(ctx, action.service_id, action.version, action.definition_hash)
    if problem is not None:
        raise _invalid(problem, "Publish a valid definition (`govchain service publish FILE`).")


# --- enacting ------------------------------------------------------------------------------


def enact_action(ctx: Context, action: Action, proposal_id: int) -> str:
    """Check ``action`` against the current state and apply it; return what was done."""
    check_action(ctx, action)
    h = ctx.height
    if isinstance(action, AddOrg):
        create_org(ctx, action.id, action.name, action.name_zh, action.kind, action.admin_key)
        return f"organisation {action.id} added with admin {member_id(action.id, 'admin')}"
    if isinstance(action, RemoveOrg | RemoveNode):
        ident = get_identity(ctx, action.id)
        assert ident is not None
        put_identity(ctx, msgspec.structs.replace(ident, status="removed", updated_height=h))
        return f"{ident.kind} {action.id} removed"
    if isinstance(action, AddNode):
        create_member(ctx, action.org, action.node_id, action.public_key, ["node"], kind="node")
        return f"node {member_id(action.org, action.node_id)} added"
    if isinstance(action, SetPolicy):
        put_policy(ctx, action.name, action.policy)
        return f"policy {action.name} set"
    if isinstance(action, SetParams):
        params = merge_params(read_params(ctx), action)
        put_params(ctx, params)
        return "chain parameters set: " + ", ".join(
            f"{k}={getattr(params, k)}" for k in PARAM_BOUNDS if getattr(action, k) is not None
        )
    writer = ctx.other_writer(NAME)
    if isinstance(action, Accredit):
        record = Accreditation(action.org, action.credential_type, "active", h, proposal_id)
        writer.set(_accreditation_key(action.org, action.credential_type), record)
        return f"{action.org} accredited for {action.credential_type}"
    if isinstance(action, RevokeAccreditation):
        old = get_accreditation(ctx, action.org, action.credential_type)
        assert old is not None
        revoked = msgspec.structs.replace(
            old, status="revoked", revoked_height=h, revoked_by=proposal_id
        )
        writer.set(_accreditation_key(action.org, action.credential_type), revoked)
        return f"accreditation of {action.org} for {action.credential_type} revoked"
    return _enact_service(ctx, action, proposal_id)


def _enact_service(ctx: Context, action: RegisterService | RetireService, proposal_id: int) -> str:
    writer = ctx.other_writer(NAME)
    record = get_service(ctx, action.service_id)
    if isinstance(action, RetireService):
        assert record is not None
        retired = msgspec.structs.replace(record, status="retired", retired_height=ctx.height)
        writer.set(f"service/{action.service_id}", retired)
        return f"service {action.service_id} retired"
    version = ServiceVersion(
        action.version, action.title, action.definition_hash, ctx.height, proposal_id
    )
    versions = [*(record.versions if record is not None else []), version]
    writer.set(f"service/{action.service_id}", ServiceRecord(action.service_id, "active", versions))
    return f"service {action.service_id} version {action.version} registered"


def default_policies() -> dict[str, Policy]:
    """The policies written at genesis."""
    return {DEFAULT_POLICY: FoundersMajority()}
