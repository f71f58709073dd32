"""Identity: the organisations and keys the chain knows.

The genesis writes the founding organisations and their admin and node keys. The ledger core asks
:func:`get_key_record` whether a sender is known; later services authorise through it.
"""

from __future__ import annotations

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, view
from govchain.errors import NotFoundInState
from govchain.types import Genesis

__all__ = ["IdentityContract", "KeyRecord", "OrgRecord", "get_key_record", "get_org"]

NAME = "identity"


class OrgRecord(msgspec.Struct, frozen=True):
    id: str
    name: str
    name_zh: str
    kind: str
    founding: bool
    active: bool = True


class KeyRecord(msgspec.Struct, frozen=True):
    public_key: bytes
    org: str
    role: str  # admin | node | officer | issuer | auditor | client
    scheme: str = "ed25519"
    active: bool = True


class OrgArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str


class KeyArgs(msgspec.Struct, forbid_unknown_fields=True):
    public_key: bytes


def get_org(ctx: ReadContext, org_id: str) -> OrgRecord | None:
    return ctx.other(NAME).get_as(f"org/{org_id}", OrgRecord)


def get_key_record(ctx: ReadContext, public_key: bytes) -> KeyRecord | None:
    return ctx.other(NAME).get_as(b"key/" + public_key, KeyRecord)


class IdentityContract(Contract):
    name = NAME
    description = "Organisations and the keys that act for them."

    def init_genesis(self, ctx: Context, genesis: Genesis) -> None:
        for org in genesis.orgs:
            ctx.set(f"org/{org.id}", OrgRecord(org.id, org.name, org.name_zh, org.kind, True))
            for key_hex in org.admin_keys:
                key = bytes.fromhex(key_hex)
                ctx.set(b"key/" + key, KeyRecord(key, org.id, "admin"))
        for node in genesis.nodes:
            key = bytes.fromhex(node.public_key)
            ctx.set(b"key/" + key, KeyRecord(key, node.org, "node"))

    @view(OrgArgs)
    def org(self, ctx: ReadContext, args: OrgArgs) -> OrgRecord:
        """An organisation by id."""
        if (rec := get_org(ctx, args.id)) is None:
            raise NotFoundInState(f"no organisation {args.id!r}")
        return rec

    @view(msgspec.Struct)
    def orgs(self, ctx: ReadContext, args: msgspec.Struct) -> list[OrgRecord]:
        """Every organisation."""
        return [msgspec.msgpack.decode(v, type=OrgRecord) for _, v in ctx.iter("org/")]

    @view(KeyArgs)
    def key(self, ctx: ReadContext, args: KeyArgs) -> KeyRecord:
        """Which organisation and role a public key acts for."""
        if (rec := get_key_record(ctx, args.public_key)) is None:
            raise NotFoundInState(f"unknown key {args.public_key.hex()}")
        return rec
