"""The identity contract's transaction methods: membership, self-registration, keys, services.

Each method authorises inside the contract with :func:`~govchain.contracts.identity.require` and
rejects with a stable ``IDENTITY_*`` code. Rules worth knowing:

- **Proof of possession.** A key is bound to an identity only if the transaction also carries a
  signature by that key (``enrol_member``, ``rotate_key``, ``add_key``; for self-registration the
  new key is the sender). The admin (or the identity) sends; the new key co-signs
  (``govchain tx sign``, or ``--new-key FILE`` in the CLI). Nobody can bind someone else's key.
- **Organisations keep an admin.** The last active admin of an organisation cannot be suspended,
  removed or lose the admin role.
- **Nodes are governed.** Members with the ``node`` role are added, changed and removed by
  governance proposals, not by these methods (a suspended node would halt block production).
- **Attestations.** A registration may carry an attestation (issuer organisation, SHA-256 of the
  off-chain evidence, kind). An officer or issuer of the issuer organisation co-signs the
  transaction, and the issuer must be accredited for the kind (:func:`is_accredited_issuer`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

import msgspec

from govchain.contracts.base import Context, ReadContext
from govchain.contracts.identity import (
    ENROLLABLE_ROLES,
    KEY_SIZE,
    Attestation,
    IdArgs,
    Identity,
    Service,
    active_admins,
    add_key,
    check_id,
    close_key,
    controller_policy,
    create_member,
    founding_orgs,
    get_identity,
    get_org,
    get_valid_keys,
    put_identity,
    require,
    require_identity,
)
from govchain.contracts.policy import Role, SignedBy, any_of
from govchain.errors import AlreadyExists, ContractError, NotFoundInState

__all__ = [
    "AddKeyArgs",
    "EnrolArgs",
    "RegisterCitizenArgs",
    "RegisterEnterpriseArgs",
    "RemoveArgs",
    "RemoveServiceArgs",
    "RevokeKeyArgs",
    "RotateKeyArgs",
    "SetRolesArgs",
    "SetServiceArgs",
    "SuspendArgs",
    "citizen_id",
    "is_accredited_issuer",
    "is_valid_credit_code",
]

MAX_NAME = 200
MAX_REASON = 200
MAX_SERVICES = 16
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
_FRAGMENT = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ENDPOINT = re.compile(r"https?://[^\s]{1,500}")


class EnrolArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    name: str
    public_key: bytes
    roles: list[str]


class SetRolesArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    roles: list[str]


class SuspendArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    reason: str = ""


class RemoveArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    reason: str = ""


class RegisterEnterpriseArgs(msgspec.Struct, forbid_unknown_fields=True):
    credit_code: str
    name: str
    name_zh: str = ""
    attestation: Attestation | None = None


class RegisterCitizenArgs(msgspec.Struct, forbid_unknown_fields=True):
    attestation: Attestation


class RotateKeyArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    old_public_key: bytes
    new_public_key: bytes


class RevokeKeyArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    public_key: bytes
    reason: str = ""


class AddKeyArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    public_key: bytes


class SetServiceArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    service: Service


class RemoveServiceArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    service_id: str


# --- checks ---------------------------------------------------------------------------------


def _admin_policy(org: str) -> SignedBy:
    return SignedBy(Role(org, "admin"))


def _require_admin(ctx: Context, org: str, action: str) -> None:
    require(
        ctx,
        _admin_policy(org),
        code="IDENTITY_NOT_ADMIN",
        action=action,
        hint=f"Sign with the key of an active admin of {org}.",
    )


def _require_controller(ctx: Context, ident: Identity, action: str) -> None:
    require(
        ctx,
        controller_policy(ident),
        code="IDENTITY_NOT_CONTROLLER",
        action=action,
        hint="Sign with a valid key of the identity itself"
        + (f" or of an admin of {ident.org}." if ident.kind in ("member", "org") else "."),
    )


def _require_possession(ctx: Context, public_key: bytes) -> None:
    if len(public_key) != KEY_SIZE:
        raise ContractError(
            f"a public key has {KEY_SIZE} bytes, got {len(public_key)}",
            code="IDENTITY_BAD_KEY",
            hint="Pass the Ed25519 public key as 64 hex digits.",
        )
    if public_key not in ctx.signers:
        raise ContractError(
            f"key {public_key.hex()} did not sign the transaction",
            code="IDENTITY_KEY_NOT_PROVEN",
            hint="The new key must co-sign the transaction (proof of possession): "
            "`govchain tx sign FILE --key NEW.key`, or pass --new-key to the CLI.",
        )


def _check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in ENROLLABLE_ROLES]
    if not roles or bad:
        raise ContractError(
            f"roles must be a non-empty subset of {', '.join(ENROLLABLE_ROLES)}"
            + (f"; got {', '.join(bad)}" if bad else ""),
            code="IDENTITY_BAD_ROLE",
            hint="Nodes (role 'node') are added by governance proposals.",
        )
    return sorted(set(roles))


def _check_text(value: str, what: str, limit: int, *, required: bool = False) -> None:
    if len(value) > limit or (required and not value.strip()):
        raise ContractError(
            f"{what} must be {'1' if required else '0'}..{limit} characters",
            code="IDENTITY_BAD_TEXT",
            hint=f"Shorten the {what}.",
        )


def _member(ctx: ReadContext, identity_id: str) -> Identity:
    """A member (not a node, not an organisation) of an organisation."""
    ident = require_identity(ctx, identity_id)
    if ident.kind != "member":
        raise ContractError(
            f"{identity_id} is a{'n' if ident.kind[0] in 'aeiou' else ''} {ident.kind}, "
            "not a member of an organisation",
            code="IDENTITY_NOT_MEMBER",
            hint="Organisations and nodes are added and removed by governance proposals.",
        )
    return ident


def _not_removed(ident: Identity) -> Identity:
    if ident.status == "removed":
        raise ContractError(
            f"{ident.id} was removed", code="IDENTITY_INACTIVE", hint="A removal is final."
        )
    return ident


def _keep_an_admin(ctx: ReadContext, ident: Identity, action: str) -> None:
    """Refuse to leave an organisation without an active admin."""
    admins = active_admins(ctx, ident.org)
    if [a.id for a in admins] == [ident.id]:
        raise ContractError(
            f"{action} would leave {ident.org} without an active admin",
            code="IDENTITY_LAST_ADMIN",
            hint="Enrol another admin first.",
        )


# --- organisations' members -----------------------------------------------------------------


def enrol_member(ctx: Context, args: EnrolArgs) -> Identity:
    org = get_org(ctx, args.org)
    if org is None:
        raise NotFoundInState(f"no organisation {args.org!r}", code="IDENTITY_NOT_FOUND")
    _require_admin(ctx, args.org, f"enrolling a member of {args.org}")
    if org.status != "active":
        raise ContractError(f"{args.org} is not active", code="IDENTITY_INACTIVE")
    check_id(args.name, org=False, what="member name")
    roles = _check_roles(args.roles)
    _require_possession(ctx, args.public_key)
    member = create_member(ctx, args.org, args.name, args.public_key, roles)
    ctx.emit("member_enrolled", id=member.id, roles=",".join(roles))
    return member


def set_roles(ctx: Context, args: SetRolesArgs) -> Identity:
    ident = _not_removed(_member(ctx, args.id))
    _require_admin(ctx, ident.org, f"changing the roles of {ident.id}")
    roles = _check_roles(args.roles)
    if "admin" in ident.roles and "admin" not in roles:
        _keep_an_admin(ctx, ident, f"taking the admin role from {ident.id}")
    ident = msgspec.structs.replace(ident, roles=roles, updated_height=ctx.height)
    put_identity(ctx, ident)
    ctx.emit("roles_set", id=ident.id, roles=",".join(roles))
    return ident


def suspend(ctx: Context, args: SuspendArgs) -> Identity:
    ident = _member(ctx, args.id)
    _require_admin(ctx, ident.org, f"suspending {ident.id}")
    _check_text(args.reason, "reason", MAX_REASON)
    if ident.status != "active":
        raise ContractError(f"{ident.id} is {ident.status}", code="IDENTITY_INACTIVE")
    _keep_an_admin(ctx, ident, f"suspending {ident.id}")
    ident = msgspec.structs.replace(ident, status="suspended", updated_height=ctx.height)
    put_identity(ctx, ident)
    ctx.emit("suspended", id=ident.id, reason=args.reason)
    return ident


def reinstate(ctx: Context, args: IdArgs) -> Identity:
    ident = _member(ctx, args.id)
    _require_admin(ctx, ident.org, f"reinstating {ident.id}")
    if ident.status != "suspended":
        raise ContractError(
            f"{ident.id} is {ident.status}, not suspended",
            code="IDENTITY_NOT_SUSPENDED",
            hint="Only a suspended member can be reinstated; a removal is final.",
        )
    ident = msgspec.structs.replace(ident, status="active", updated_height=ctx.height)
    put_identity(ctx, ident)
    ctx.emit("reinstated", id=ident.id)
    return ident


def remove(ctx: Context, args: RemoveArgs) -> Identity:
    ident = _not_removed(_member(ctx, args.id))
    _require_admin(ctx, ident.org, f"removing {ident.id}")
    _check_text(args.reason, "reason", MAX_REASON)
    if ident.status == "active":
        _keep_an_admin(ctx, ident, f"removing {ident.id}")
    for key in get_valid_keys(ident, ctx.height):
        ident = close_key(ident, key.public_key, ctx.height, "revoked", "identity removed")
    ident = msgspec.structs.replace(ident, status="removed", updated_height=ctx.height)
    put_identity(ctx, ident)
    ctx.emit("removed", id=ident.id, reason=args.reason)
    return ident


# --- self-registration ----------------------------------------------------------------------


def compute_credit_code_check(body: str) -> str:
    """The check character of a unified social credit code's first 17 characters
    (GB 32100-2015: weights 3^i mod 31, check = (31 - sum mod 31) mod 31)."""
    total = sum(
        CREDIT_CODE_CHARS.index(c) * w for c, w in zip(body, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    """Whether ``code`` is a unified social credit code (GB 32100-2015): 18 characters of
    ``CREDIT_CODE_CHARS`` whose last one is the check character of the first 17."""
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return False
    return compute_credit_code_check(code[:17]) == code[17]


def citizen_id(public_key: bytes) -> str:
    """A citizen's pseudonymous id: ``cit:`` + hex of the first 16 bytes of SHA-256(key)."""
    return "cit:" + hashlib.sha256(public_key).digest()[:16].hex()


def _governance_accreditation() -> Callable[[ReadContext, str, str], bool] | None:
    try:
        from govchain.contracts.governance import is_accredited
    except ImportError:
        return None
    return is_accredited


def is_accredited_issuer(ctx: ReadContext, org: str, kind: str) -> bool:
    """Whether ``org`` may attest registrations of ``kind``: accredited by governance. Until the
    governance contract provides ``is_accredited``, the founding organisations count as
    accredited for "real-name" (and nothing else)."""
    lookup = _governance_accreditation()
    if lookup is not None:
        return lookup(ctx, org, kind)
    return kind == "real-name" and org in founding_orgs(ctx)


def _check_attestation(ctx: Context, att: Attestation) -> None:
    if len(att.evidence_hash) != 32 or not 1 <= len(att.kind) <= 64:
        raise ContractError(
            "an attestation has a 32-byte evidence_hash and a kind of 1..64 characters",
            code="IDENTITY_ATTESTATION_INVALID",
            hint="evidence_hash is the SHA-256 of the evidence kept by the issuer, not the data.",
        )
    issuer = get_org(ctx, att.issuer)
    if issuer is None or issuer.status != "active":
        raise ContractError(
            f"no active organisation {att.issuer!r} to attest",
            code="IDENTITY_ATTESTATION_INVALID",
            hint="`govchain org list` shows the organisations.",
        )
    if not is_accredited_issuer(ctx, att.issuer, att.kind):
        raise ContractError(
            f"{att.issuer} is not accredited to attest {att.kind!r}",
            code="IDENTITY_NOT_ACCREDITED",
            hint="Ask an accredited organisation, or accredit this one by a governance proposal.",
        )
    require(
        ctx,
        any_of(SignedBy(Role(att.issuer, "officer")), SignedBy(Role(att.issuer, "issuer"))),
        code="IDENTITY_ATTESTATION_UNSIGNED",
        action=f"an attestation by {att.issuer}",
        hint=f"An officer or issuer of {att.issuer} co-signs the registration transaction.",
    )


def _register(ctx: Context, ident: Identity) -> Identity:
    if get_identity(ctx, ident.id) is not None:
        raise AlreadyExists(f"identity {ident.id!r} exists", code="IDENTITY_EXISTS")
    ident = add_key(ctx, ident, ctx.sender)
    put_identity(ctx, ident)
    ctx.emit("registered", id=ident.id, kind=ident.kind)
    return ident


def register_enterprise(ctx: Context, args: RegisterEnterpriseArgs) -> Identity:
    code = args.credit_code.upper()
    if not is_valid_credit_code(code):
        raise ContractError(
            f"{args.credit_code!r} is not a valid unified social credit code",
            code="IDENTITY_BAD_CREDIT_CODE",
            hint="18 characters (digits and capitals without I, O, S, V, Z), the last one the "
            "check character of GB 32100-2015; copy it from the business licence.",
        )
    _check_text(args.name, "name", MAX_NAME, required=True)
    _check_text(args.name_zh, "name_zh", MAX_NAME)
    if args.attestation is not None:
        _check_attestation(ctx, args.attestation)
    ident = Identity(
        "ent:" + code,
        "enterprise",
        "",
        args.name,
        args.name_zh,
        attestation=args.attestation,
        created_height=ctx.height,
        updated_height=ctx.height,
    )
    return _register(ctx, ident)


def register_citizen(ctx: Context, args: RegisterCitizenArgs) -> Identity:
    _check_attestation(ctx, args.attestation)
    ident = Identity(
        citizen_id(ctx.sender),
        "citizen",
        "",
        attestation=args.attestation,
        created_height=ctx.height,
        updated_height=ctx.height,
    )
    return _register(ctx, ident)


# --- keys and services ----------------------------------------------------------------------


def _managed(ctx: ReadContext, identity_id: str) -> Identity:
    """An identity whose keys and services its controller may change (not a node)."""
    ident = _not_removed(require_identity(ctx, identity_id))
    if ident.kind == "node":
        raise ContractError(
            f"{identity_id} is a node; its keys change by governance proposals",
            code="IDENTITY_NOT_MEMBER",
            hint="Propose the change with `govchain gov propose`.",
        )
    return ident


def _require_valid_key(ctx: ReadContext, ident: Identity, public_key: bytes) -> None:
    if public_key not in [k.public_key for k in get_valid_keys(ident, ctx.height)]:
        raise ContractError(
            f"key {public_key.hex()} is not a valid key of {ident.id}",
            code="IDENTITY_KEY_NOT_ACTIVE",
            hint=f"`govchain did resolve {ident.id}` lists the identity's valid keys.",
        )


def rotate_key(ctx: Context, args: RotateKeyArgs) -> Identity:
    ident = _managed(ctx, args.id)
    _require_controller(ctx, ident, f"rotating a key of {ident.id}")
    _require_valid_key(ctx, ident, args.old_public_key)
    _require_possession(ctx, args.new_public_key)
    ident = close_key(ident, args.old_public_key, ctx.height, "rotated")
    ident = add_key(ctx, ident, args.new_public_key)
    put_identity(ctx, ident)
    ctx.emit(
        "key_rotated",
        id=ident.id,
        old=args.old_public_key.hex(),
        new=args.new_public_key.hex(),
    )
    return ident


def revoke_key(ctx: Context, args: RevokeKeyArgs) -> Identity:
    ident = _managed(ctx, args.id)
    _require_controller(ctx, ident, f"revoking a key of {ident.id}")
    _check_text(args.reason, "reason", MAX_REASON)
    _require_valid_key(ctx, ident, args.public_key)
    if len(get_valid_keys(ident, ctx.height)) == 1 and ident.kind != "org":
        raise ContractError(
            f"{args.public_key.hex()} is the last valid key of {ident.id}",
            code="IDENTITY_LAST_KEY",
            hint="Rotate it to a new key instead, or remove the identity.",
        )
    ident = close_key(ident, args.public_key, ctx.height, "revoked", args.reason)
    put_identity(ctx, ident)
    ctx.emit("key_revoked", id=ident.id, key=args.public_key.hex(), reason=args.reason)
    return ident


def add_key_to(ctx: Context, args: AddKeyArgs) -> Identity:
    ident = _managed(ctx, args.id)
    _require_controller(ctx, ident, f"adding a key to {ident.id}")
    _require_possession(ctx, args.public_key)
    ident = add_key(ctx, ident, args.public_key)
    put_identity(ctx, ident)
    ctx.emit("key_added", id=ident.id, key=args.public_key.hex())
    return ident


def set_service(ctx: Context, args: SetServiceArgs) -> Identity:
    ident = _managed(ctx, args.id)
    _require_controller(ctx, ident, f"changing the services of {ident.id}")
    svc = args.service
    if not (
        _FRAGMENT.fullmatch(svc.id)
        and 1 <= len(svc.type) <= 64
        and _ENDPOINT.fullmatch(svc.endpoint)
    ):
        raise ContractError(
            "a service has an id of 1..64 of [A-Za-z0-9._-], a type of 1..64 characters "
            "and an http(s) endpoint URL",
            code="IDENTITY_BAD_SERVICE",
            hint='e.g. {"id": "gateway", "type": "DataGateway", "endpoint": "https://..."}',
        )
    services = [s for s in ident.services if s.id != svc.id] + [svc]
    if len(services) > MAX_SERVICES:
        raise ContractError(
            f"at most {MAX_SERVICES} services", code="IDENTITY_BAD_SERVICE", hint="Remove one."
        )
    ident = msgspec.structs.replace(
        ident, services=sorted(services, key=lambda s: s.id), updated_height=ctx.height
    )
    put_identity(ctx, ident)
    ctx.emit("service_set", id=ident.id, service=svc.id)
    return ident


def remove_service(ctx: Context, args: RemoveServiceArgs) -> Identity:
    ident = _managed(ctx, args.id)
    _require_controller(ctx, ident, f"changing the services of {ident.id}")
    if args.service_id not in [s.id for s in ident.services]:
        raise NotFoundInState(
            f"{ident.id} has no service {args.service_id!r}", code="IDENTITY_SERVICE_NOT_FOUND"
        )
    services = [s for s in ident.services if s.id != args.service_id]
    ident = msgspec.structs.replace(ident, services=services, updated_height=ctx.height)
    put_identity(ctx, ident)
    ctx.emit("service_removed", id=ident.id, service=args.service_id)
    return ident
