"""Sharing records other contracts read: grants (what a requester may fetch from a data resource,
for which purpose, until when, how many times).

State (under ``sharing/``)::

    grant/<grant id>    Grant

An :class:`AccessReceipt` is what both gateways sign for one data exchange under a grant; the
owner's gateway anchors receipts in batches through the sharing contract.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from govchain.contracts.base import ReadContext
from govchain.crypto.hashing import tagged_hash
from govchain.encoding import encode

__all__ = [
    "AccessReceipt",
    "Grant",
    "get_grant",
    "get_grant_problem",
    "grant_state_key",
    "receipt_sign_bytes",
]

NAME = "sharing"


class Grant(msgspec.Struct, frozen=True):
    id: str
    request_id: str
    resource_id: str  # catalogue resource id
    owner: str  # the owning organisation's id
    requester: str  # identity id of the requester (organisation, enterprise or citizen)
    fields: list[str]  # the fields that may be fetched
    purpose: str
    granted_height: int
    expires_ms: int  # block time after which the grant no longer holds
    max_uses: int
    uses: int = 0
    subject: str | None = None  # identity id of the data subject (personal or enterprise data)
    status: Literal["active", "revoked"] = "active"
    revoked_height: int | None = None
    granted_ms: int = 0  # block time of the approval (receipts before it are refused)
    resource_version: int = 0  # the catalogue version the grant was made under
    revoked_by: str = ""  # identity that revoked it (the owner's member or the subject)
    revoke_reason: str = ""
    revoked_ms: int | None = None  # block time of the revocation


def grant_state_key(grant_id: str) -> bytes:
    """The full state key of a grant (for state proofs)."""
    return f"{NAME}/grant/{grant_id}".encode()


def get_grant(ctx: ReadContext, grant_id: str) -> Grant | None:
    """A grant as of ``ctx``'s state, from any contract."""
    return ctx.other(NAME).get_as(f"grant/{grant_id}", Grant)


def get_grant_problem(grant: Grant, now_ms: int) -> str | None:
    """``None`` when ``grant`` may be used at ``now_ms``; otherwise why not."""
    if grant.status != "active":
        return f"grant {grant.id} is {grant.status}"
    if now_ms > grant.expires_ms:
        return f"grant {grant.id} expired"
    if grant.uses >= grant.max_uses:
        return f"grant {grant.id} has been used {grant.uses} of {grant.max_uses} times"
    return None


class AccessReceipt(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    grant_id: str
    request_hash: bytes  # SHA-256 of the requester's signed request
    response_hash: bytes  # SHA-256 of the encrypted response the owner's gateway sent
    fields: list[str]  # the fields returned
    time_ms: int  # when the owner's gateway answered
    requester: str  # identity id of the requester
    requester_key: bytes  # the key that signed the request (a member key of the requester)
    requester_signature: bytes  # over receipt_sign_bytes(receipt)
    owner_key: bytes  # the owner gateway's key (a member key of the owning organisation)
    owner_signature: bytes  # over receipt_sign_bytes(receipt)


def receipt_sign_bytes(receipt: AccessReceipt) -> bytes:
    """What both gateways sign: everything in the receipt but the keys and signatures."""
    body = [
        receipt.grant_id,
        receipt.request_hash,
        receipt.response_hash,
        receipt.fields,
        receipt.time_ms,
        receipt.requester,
    ]
    return tagged_hash(b"govchain/access-receipt/v1", encode(body))
