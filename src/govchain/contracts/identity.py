"""Identity: organisations, their members and nodes, enterprises and citizens, their keys (with
history) and DID documents.

Every actor is an :class:`Identity` with an id that is also the last part of its DID
(``did:govchain:<chain-id>:<id>``):

    tax                      an organisation (department, district, bureau, enterprise partner)
    tax:admin, tax:alice     members of an organisation (admin, officer, issuer, auditor, client)
    tax:node0                a node run by an organisation (role: node)
    ent:<credit-code>        an enterprise, by its unified social credit code (self-registered)
    cit:<hex>                a citizen (self-registered, pseudonymous: no personal data on chain)

Keys keep their history: a key is valid for signatures made at heights
``[added_height, until_height)``; rotating or revoking a key closes its window, so a signature
made before the rotation stays verifiable and one made with a revoked key afterwards does not.

The ledger core asks :func:`is_active_sender` whether a transaction's sender may act; contracts
authorise with :func:`require`, which evaluates a declarative policy over the resolved signers.

This module holds the records and the helpers other contracts use; the transaction methods are in
:mod:`govchain.contracts.identity_methods`, the contract (methods and views) in
:mod:`govchain.contracts.identity_contract`, DID documents in :mod:`govchain.contracts.did`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import msgspec

from govchain.contracts.base import Context, ReadContext
from govchain.contracts.policy import (
    IdentityPrincipal,
    Policy,
    Role,
    SignedBy,
    Signer,
    any_of,
    describe,
    is_satisfied,
)
from govchain.errors import AlreadyExists, ContractError, NotFoundInState, Unauthorized

__all__ = [
    "ENROLLABLE_ROLES",
    "KEY_SIZE",
    "ROLES",
    "Attestation",
    "EmptyArgs",
    "IdArgs",
    "Identity",
    "KeyArgs",
    "KeyEntry",
    "KeyRef",
    "Service",
    "active_admins",
    "add_key",
    "check_id",
    "close_key",
    "controller_policy",
    "create_member",
    "create_org",
    "founding_orgs",
    "get_chain_id",
    "get_identity",
    "get_identity_by_key",
    "identity_state_key",
    "get_org",
    "get_valid_keys",
    "is_active_node_key",
    "is_active_sender",
    "is_key_valid_at",
    "list_members",
    "member_id",
    "put_identity",
    "require",
    "require_identity",
    "resolve_signer",
    "resolve_signers",
    "set_chain_id",
]

NAME = "identity"
ROLES = ("admin", "officer", "issuer", "auditor", "gateway", "node", "client")
# "node" is given by governance; "gateway" anchors a data gateway's access receipts (sharing)
ENROLLABLE_ROLES = ("admin", "officer", "issuer", "auditor", "gateway", "client")
RESERVED_IDS = ("ent", "cit", "did", "govchain")  # prefixes of self-registered identities
_ORG_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_MEMBER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
KEY_SIZE = 32
Kind = Literal["org", "member", "node", "enterprise", "citizen"]
Status = Literal["active", "suspended", "removed"]


class KeyEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    public_key: bytes
    added_height: int
    scheme: str = "ed25519"
    until_height: int | None = None  # first height at which the key no longer signs
    status: Literal["active", "rotated", "revoked"] = "active"
    reason: str = ""


class Service(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str  # fragment, e.g. "gateway"
    type: str  # e.g. "DataGateway"
    endpoint: str


class Attestation(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An accredited organisation vouches for a registration (e.g. a real-name check): only the
    hash of its evidence and who issued it are on chain."""

    issuer: str  # organisation id
    evidence_hash: bytes  # SHA-256 of the off-chain evidence
    kind: str = "real-name"


class Identity(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    kind: Kind
    org: str  # the organisation it belongs to (itself for an organisation; "" for self-registered)
    name: str = ""
    name_zh: str = ""
    org_kind: str = ""  # for organisations: department | district | bureau | enterprise
    roles: list[str] = msgspec.field(default_factory=list)
    status: Status = "active"
    controller: str = ""  # identity that may manage this one ("" = itself)
    keys: list[KeyEntry] = msgspec.field(default_factory=list)
    services: list[Service] = msgspec.field(default_factory=list)
    attestation: Attestation | None = None
    founding: bool = False
    created_height: int = 0
    updated_height: int = 0


class KeyRef(msgspec.Struct, frozen=True):
    identity: str


class IdArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str


class KeyArgs(msgspec.Struct, forbid_unknown_fields=True):
    public_key: bytes


class EmptyArgs(msgspec.Struct, forbid_unknown_fields=True):
    pass


# --- reading ---------------------------------------------------------------------------------


def member_id(org: str, name: str) -> str:
    return f"{org}:{name}"


def _id_key(identity_id: str) -> str:
    return f"id/{identity_id}"


def identity_state_key(identity_id: str) -> bytes:
    """The full state key of an identity's record (for state proofs)."""
    return f"{NAME}/{_id_key(identity_id)}".encode()


def get_identity(ctx: ReadContext, identity_id: str) -> Identity | None:
    return ctx.other(NAME).get_as(_id_key(identity_id), Identity)


def get_org(ctx: ReadContext, org_id: str) -> Identity | None:
    ident = get_identity(ctx, org_id)
    return ident if ident is not None and ident.kind == "org" else None


def get_identity_by_key(ctx: ReadContext, public_key: bytes) -> Identity | None:
    ref = ctx.other(NAME).get_as(b"key/" + public_key, KeyRef)
    return None if ref is None else get_identity(ctx, ref.identity)


def is_key_valid_at(identity: Identity, public_key: bytes, height: int) -> bool:
    """Whether ``public_key`` could sign for ``identity`` at ``height`` (key history)."""
    for k in identity.keys:
        if k.public_key == public_key:
            return k.added_height <= height and (k.until_height is None or height < k.until_height)
    return False


def _is_active(ctx: ReadContext, identity: Identity) -> bool:
    if identity.status != "active":
        return False
    if identity.kind in ("member", "node") and identity.org:
        org = get_org(ctx, identity.org)
        return org is not None and org.status == "active"
    return True


def resolve_signer(ctx: ReadContext, public_key: bytes, height: int) -> Signer | None:
    """The active identity a key signs for at ``height``, or None."""
    identity = get_identity_by_key(ctx, public_key)
    if identity is None or not is_key_valid_at(identity, public_key, height):
        return None
    if not _is_active(ctx, identity):
        return None
    return Signer(public_key, identity.id, identity.org, frozenset(identity.roles))


def resolve_signers(ctx: ReadContext, public_keys: Iterable[bytes], height: int) -> list[Signer]:
    return [s for k in public_keys if (s := resolve_signer(ctx, k, height)) is not None]


def is_active_sender(ctx: ReadContext, public_key: bytes, height: int) -> bool:
    """The ledger core's admission rule: the sender's key is active for an active identity."""
    return resolve_signer(ctx, public_key, height) is not None


def is_active_node_key(ctx: ReadContext, public_key: bytes, height: int) -> bool:
    """Whether ``public_key`` is the key, valid at ``height``, of an active node of an active
    organisation: a genesis node or one governance added and has not removed. This decides
    whose ordered batches become blocks' contents (judged on the state before the block)."""
    node = get_identity_by_key(ctx, public_key)
    return (
        node is not None
        and node.kind == "node"
        and is_key_valid_at(node, public_key, height)
        and _is_active(ctx, node)
    )


def founding_orgs(ctx: ReadContext) -> list[str]:
    raw = ctx.other(NAME).get("founders")
    return [] if raw is None else msgspec.msgpack.decode(raw, type=list[str])


def get_chain_id(ctx: ReadContext) -> str:
    """The chain id, recorded at genesis (DIDs name it)."""
    raw = ctx.other(NAME).get("chain")
    return "" if raw is None else msgspec.msgpack.decode(raw, type=str)


def set_chain_id(ctx: Context, chain_id: str) -> None:
    ctx.other_writer(NAME).set("chain", msgspec.msgpack.encode(chain_id))


def require_identity(ctx: ReadContext, identity_id: str) -> Identity:
    """The identity, or :class:`NotFoundInState` (``IDENTITY_NOT_FOUND``)."""
    if (ident := get_identity(ctx, identity_id)) is None:
        raise NotFoundInState(
            f"no identity {identity_id!r}",
            code="IDENTITY_NOT_FOUND",
            hint="`govchain org list` and `govchain member list ORG` show the identities.",
        )
    return ident


def list_members(ctx: ReadContext, org_id: str) -> list[Identity]:
    """The members and nodes of an organisation (ids ``<org>:<name>``), in id order."""
    reader = ctx.other(NAME)
    return [
        msgspec.msgpack.decode(raw, type=Identity)
        for _, raw in reader.iter(_id_key(member_id(org_id, "")))
    ]


def active_admins(ctx: ReadContext, org_id: str) -> list[Identity]:
    return [
        m
        for m in list_members(ctx, org_id)
        if m.status == "active" and "admin" in m.roles and get_valid_keys(m, ctx.height)
    ]


def get_valid_keys(identity: Identity, height: int) -> list[KeyEntry]:
    """The keys that sign for ``identity`` at ``height``."""
    return [k for k in identity.keys if is_key_valid_at(identity, k.public_key, height)]


def controller_policy(identity: Identity) -> Policy:
    """Who manages an identity's keys and services: an organisation's admins manage it; a member
    manages itself, and its organisation's admins manage it too; an enterprise or a citizen
    manages itself (nodes are managed by governance, not by this policy)."""
    if identity.kind == "org":
        return SignedBy(Role(identity.id, "admin"))
    if identity.kind in ("member", "node"):
        return any_of(
            SignedBy(IdentityPrincipal(identity.id)), SignedBy(Role(identity.org, "admin"))
        )
    return SignedBy(IdentityPrincipal(identity.id))


def require(
    ctx: Context,
    policy: Policy,
    *,
    code: str = "UNAUTHORIZED",
    action: str = "this",
    signers: Sequence[bytes] | None = None,
    hint: str | None = None,
) -> list[Signer]:
    """Raise :class:`Unauthorized` unless the transaction's signers satisfy ``policy``."""
    resolved = resolve_signers(
        ctx, signers if signers is not None else sorted(ctx.signers), ctx.height
    )
    if not is_satisfied(policy, resolved, founding_orgs(ctx)):
        raise Unauthorized(
            f"{action} needs the signature of {describe(policy)}",
            code=code,
            hint=hint
            or "Collect the required signatures on the transaction "
            "(`govchain tx build`, `govchain tx sign`) and submit it.",
        )
    return resolved


# --- writing (used by this contract and by governance) ---------------------------------------


def put_identity(ctx: Context, identity: Identity) -> None:
    ctx.other_writer(NAME).set(_id_key(identity.id), identity)


def check_id(value: str, *, org: bool, what: str = "id") -> None:
    """An organisation id (``tax``) or a member name (``alice``): lowercase, short, no ``:``."""
    pattern = _ORG_ID if org else _MEMBER_NAME
    if not pattern.fullmatch(value) or (org and value in RESERVED_IDS):
        raise ContractError(
            f"{what} {value!r} is not allowed",
            code="IDENTITY_BAD_ID",
            hint="Use 1-63 lowercase letters, digits and '-'"
            + ("" if org else ", '.', '_'")
            + (f"; {', '.join(RESERVED_IDS)} are reserved." if org else "."),
        )


def close_key(
    identity: Identity,
    public_key: bytes,
    height: int,
    status: Literal["rotated", "revoked"],
    reason: str = "",
) -> Identity:
    """Close a key's window at ``height``: it signs for heights before it, never after."""
    keys = [
        msgspec.structs.replace(k, until_height=height, status=status, reason=reason)
        if k.public_key == public_key and k.until_height is None
        else k
        for k in identity.keys
    ]
    return msgspec.structs.replace(identity, keys=keys, updated_height=height)


def add_key(
    ctx: Context, identity: Identity, public_key: bytes, scheme: str = "ed25519"
) -> Identity:
    """Bind a new key to an identity (a key belongs to at most one identity, ever)."""
    if len(public_key) != KEY_SIZE:
        raise ContractError(
            f"a public key has {KEY_SIZE} bytes, got {len(public_key)}",
            code="IDENTITY_BAD_KEY",
            hint="Pass the Ed25519 public key as 64 hex digits.",
        )
    writer = ctx.other_writer(NAME)
    if writer.get(b"key/" + public_key) is not None:
        raise AlreadyExists(
            f"key {public_key.hex()} is already bound to an identity",
            code="IDENTITY_KEY_IN_USE",
            hint="Generate a new key.",
        )
    writer.set(b"key/" + public_key, KeyRef(identity.id))
    entry = KeyEntry(public_key, ctx.height, scheme)
    return msgspec.structs.replace(
        identity, keys=[*identity.keys, entry], updated_height=ctx.height
    )


def create_org(
    ctx: Context,
    org_id: str,
    name: str,
    name_zh: str,
    org_kind: str,
    admin_key: bytes,
    *,
    founding: bool = False,
) -> Identity:
    """An organisation with its first admin member ``<org>:admin``."""
    check_id(org_id, org=True, what="organisation id")
    if get_identity(ctx, org_id) is not None:
        raise AlreadyExists(f"identity {org_id!r} exists", code="IDENTITY_EXISTS")
    org = Identity(
        org_id,
        "org",
        org_id,
        name,
        name_zh,
        org_kind,
        founding=founding,
        created_height=ctx.height,
        updated_height=ctx.height,
    )
    put_identity(ctx, org)
    create_member(ctx, org_id, "admin", admin_key, ["admin"])
    return org


def create_member(
    ctx: Context,
    org_id: str,
    name: str,
    public_key: bytes,
    roles: list[str],
    *,
    kind: Kind = "member",
) -> Identity:
    ident_id = member_id(org_id, name)
    if get_identity(ctx, ident_id) is not None:
        raise AlreadyExists(f"identity {ident_id!r} exists", code="IDENTITY_EXISTS")
    member = Identity(
        ident_id,
        kind,
        org_id,
        name,
        roles=sorted(set(roles)),
        controller=org_id,
        created_height=ctx.height,
        updated_height=ctx.height,
    )
    member = add_key(ctx, member, public_key)
    put_identity(ctx, member)
    return member


def __getattr__(name: str) -> Any:
    # The contract lives in its own module (it imports this one); kept importable from here.
    if name == "IdentityContract":
        from govchain.contracts.identity_contract import IdentityContract

        return IdentityContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
