"""The identity system contract: genesis, transaction methods and views.

The methods' rules are documented in :mod:`govchain.contracts.identity_methods`; the records and
helpers other contracts use are in :mod:`govchain.contracts.identity`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from govchain.contracts import identity_methods as m
from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.did import InvalidDid, build_resolution, parse_did
from govchain.contracts.identity import (
    NAME,
    EmptyArgs,
    IdArgs,
    Identity,
    KeyArgs,
    add_key,
    create_member,
    create_org,
    get_chain_id,
    get_identity,
    get_identity_by_key,
    get_org,
    is_key_valid_at,
    list_members,
    member_id,
    put_identity,
    require_identity,
    set_chain_id,
)
from govchain.errors import NotFoundInState
from govchain.types import Genesis

__all__ = ["DidArgs", "IdentityContract", "KeyAtArgs", "KeyStatus"]


class DidArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str  # an identity id or its DID


class KeyAtArgs(msgspec.Struct, forbid_unknown_fields=True):
    public_key: bytes
    height: int | None = None  # default: the height of the query


class KeyStatus(msgspec.Struct, frozen=True):
    """Which identity a key belongs to and whether it could sign for it at ``height``."""

    public_key: bytes
    identity: str
    kind: str
    height: int
    valid: bool  # within the key's window [added_height, until_height)
    added_height: int
    until_height: int | None
    key_status: str  # active | rotated | revoked
    identity_status: str  # the identity's status at the height of the query


class IdentityContract(Contract):
    name = NAME
    description = "Organisations, members, nodes, enterprises and citizens, their keys and DIDs."

    def init_genesis(self, ctx: Context, genesis: Genesis) -> None:
        set_chain_id(ctx, genesis.chain_id)
        for org in genesis.orgs:
            keys = [bytes.fromhex(k) for k in org.admin_keys]
            create_org(ctx, org.id, org.name, org.name_zh, org.kind, keys[0], founding=True)
            admin = get_identity(ctx, member_id(org.id, "admin"))
            assert admin is not None
            for extra in keys[1:]:
                admin = add_key(ctx, admin, extra)
            put_identity(ctx, admin)
        for node in genesis.nodes:
            create_member(
                ctx, node.org, node.id, bytes.fromhex(node.public_key), ["node"], kind="node"
            )
        ctx.set("founders", msgspec.msgpack.encode(sorted(o.id for o in genesis.orgs)))

    # --- members of organisations (an admin of the organisation) ---------------------------

    @method(m.EnrolArgs)
    def enrol_member(self, ctx: Context, args: m.EnrolArgs) -> Identity:
        """Enrol a member of an organisation with roles (admin, officer, issuer, auditor,
        client); signed by an admin of the organisation and co-signed by the new key."""
        return m.enrol_member(ctx, args)

    @method(m.SetRolesArgs)
    def set_roles(self, ctx: Context, args: m.SetRolesArgs) -> Identity:
        """Replace a member's roles (an admin of its organisation)."""
        return m.set_roles(ctx, args)

    @method(m.SuspendArgs)
    def suspend(self, ctx: Context, args: m.SuspendArgs) -> Identity:
        """Suspend a member: its keys stop signing until reinstated (an admin of its org)."""
        return m.suspend(ctx, args)

    @method(IdArgs)
    def reinstate(self, ctx: Context, args: IdArgs) -> Identity:
        """Reinstate a suspended member (an admin of its organisation)."""
        return m.reinstate(ctx, args)

    @method(m.RemoveArgs)
    def remove(self, ctx: Context, args: m.RemoveArgs) -> Identity:
        """Remove a member for good; its keys' windows close (an admin of its organisation)."""
        return m.remove(ctx, args)

    # --- self-registration (open: the sender's key is not registered yet) ------------------

    @method(m.RegisterEnterpriseArgs, open=True)
    def register_enterprise(self, ctx: Context, args: m.RegisterEnterpriseArgs) -> Identity:
        """Register the sender's key as the enterprise ``ent:<unified social credit code>``,
        optionally with an attestation co-signed by an accredited organisation."""
        return m.register_enterprise(ctx, args)

    @method(m.RegisterCitizenArgs, open=True)
    def register_citizen(self, ctx: Context, args: m.RegisterCitizenArgs) -> Identity:
        """Register the sender's key as a pseudonymous citizen ``cit:<hex>``, with an
        attestation co-signed by an officer or issuer of an accredited organisation."""
        return m.register_citizen(ctx, args)

    # --- keys and services (the identity's controller) -------------------------------------

    @method(m.RotateKeyArgs)
    def rotate_key(self, ctx: Context, args: m.RotateKeyArgs) -> Identity:
        """Replace a valid key by a new one (co-signed by the new key) from this height on."""
        return m.rotate_key(ctx, args)

    @method(m.RevokeKeyArgs)
    def revoke_key(self, ctx: Context, args: m.RevokeKeyArgs) -> Identity:
        """Revoke a key from this height on (never the identity's last valid key)."""
        return m.revoke_key(ctx, args)

    @method(m.AddKeyArgs)
    def add_key(self, ctx: Context, args: m.AddKeyArgs) -> Identity:
        """Add a key to an identity (co-signed by the new key)."""
        return m.add_key_to(ctx, args)

    @method(m.SetServiceArgs)
    def set_service(self, ctx: Context, args: m.SetServiceArgs) -> Identity:
        """Add or replace a service of the identity's DID document (e.g. a data gateway)."""
        return m.set_service(ctx, args)

    @method(m.RemoveServiceArgs)
    def remove_service(self, ctx: Context, args: m.RemoveServiceArgs) -> Identity:
        """Remove a service from the identity's DID document."""
        return m.remove_service(ctx, args)

    # --- views -----------------------------------------------------------------------------

    @view(IdArgs)
    def get(self, ctx: ReadContext, args: IdArgs) -> Identity:
        """An identity by id."""
        return require_identity(ctx, args.id)

    @view(IdArgs)
    def org(self, ctx: ReadContext, args: IdArgs) -> Identity:
        """An organisation by id."""
        if (org := get_org(ctx, args.id)) is None:
            raise NotFoundInState(f"no organisation {args.id!r}", code="IDENTITY_NOT_FOUND")
        return org

    @view(EmptyArgs)
    def orgs(self, ctx: ReadContext, args: EmptyArgs) -> list[Identity]:
        """Every organisation."""
        out = []
        for _, raw in ctx.iter("id/"):
            ident = msgspec.msgpack.decode(raw, type=Identity)
            if ident.kind == "org":
                out.append(ident)
        return out

    @view(IdArgs)
    def members(self, ctx: ReadContext, args: IdArgs) -> list[Identity]:
        """The members and nodes of an organisation."""
        self.org(ctx, args)
        return list_members(ctx, args.id)

    @view(KeyArgs)
    def key(self, ctx: ReadContext, args: KeyArgs) -> Identity:
        """The identity a public key is (or was) bound to."""
        if (ident := get_identity_by_key(ctx, args.public_key)) is None:
            raise NotFoundInState(f"unknown key {args.public_key.hex()}", code="IDENTITY_NOT_FOUND")
        return ident

    @view(KeyAtArgs)
    def key_at(self, ctx: ReadContext, args: KeyAtArgs) -> KeyStatus:
        """Whether a key could sign for its identity at a height (signature "as of height h")."""
        ident = self.key(ctx, KeyArgs(args.public_key))
        height = ctx.height if args.height is None else args.height
        entry = next(k for k in ident.keys if k.public_key == args.public_key)
        return KeyStatus(
            args.public_key,
            ident.id,
            ident.kind,
            height,
            is_key_valid_at(ident, args.public_key, height),
            entry.added_height,
            entry.until_height,
            entry.status,
            ident.status,
        )

    @view(DidArgs)
    def did(self, ctx: ReadContext, args: DidArgs) -> dict[str, Any]:
        """The DID resolution result of an identity (by id or DID) as of the query's height."""
        chain_id = get_chain_id(ctx)
        identity_id = args.id
        if identity_id.startswith("did:"):
            did_chain, identity_id = parse_did(identity_id)
            if did_chain != chain_id:
                raise InvalidDid(
                    f"the DID is of chain {did_chain!r}; this is chain {chain_id!r}",
                    hint="Resolve it with a node of its own chain.",
                )
        return build_resolution(chain_id, require_identity(ctx, identity_id), ctx.height)
