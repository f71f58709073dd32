"""Sharing records other contracts read: grants (what a requester may fetch from a data resource,
for which purpose, until when, how many times).

State (under ``sharing/``)::

    grant/<grant id>    Grant
"""

from __future__ import annotations

from typing import Literal

import msgspec

from govchain.contracts.base import ReadContext

__all__ = ["Grant", "get_grant", "grant_state_key", "get_grant_problem"]

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
