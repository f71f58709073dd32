"""Records and state keys of the sharing contract beyond the grant (which other contracts read:
:mod:`govchain.contracts.sharing_records`).

State (under ``sharing/``)::

    req/<request id>                          ShareRequest
    grant/<grant id>                          Grant (grant id = request id)
    party/<identity>/<request id>             index: requests of an owner, requester or subject
    access/<request hash hex>                 AccessRecord (one per anchored receipt)
    aud/<kind>/<identity>/<height>/<hash>     audit index; kind: org | resource | grant | subject

A request id is the first 16 bytes (hex) of the requesting transaction's id. Nothing personal is
stored: requests carry purposes and identity ids, receipts carry hashes, never data values.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from govchain.contracts.sharing_records import AccessReceipt

__all__ = [
    "AUDIT_KINDS",
    "MAX_BATCH",
    "MAX_DURATION_MS",
    "MAX_PURPOSE",
    "MAX_USES",
    "AccessRecord",
    "AnchorReceiptsArgs",
    "AuditArgs",
    "IdArgs",
    "PartyArgs",
    "RejectArgs",
    "RequestArgs",
    "RequestHashArgs",
    "RevokeArgs",
    "ShareRequest",
    "access_state_key",
    "audit_key",
    "request_state_key",
]

NAME = "sharing"
MAX_PURPOSE = 500
MAX_REASON = 500
MAX_FIELDS = 200
MAX_USES = 1_000_000
MAX_DURATION_MS = 5 * 366 * 24 * 3600 * 1000  # five years
MAX_BATCH = 500
MAX_AUDIT_PAGE = 500
AUDIT_KINDS = ("org", "resource", "grant", "subject")

RequestStatus = Literal["pending", "approved", "rejected"]


class ShareRequest(msgspec.Struct, frozen=True):
    id: str
    resource_id: str
    resource_version: int
    owner: str  # the owning organisation
    requester: str  # an organisation, enterprise or citizen id
    requested_by: str  # the member (or the enterprise/citizen itself) who sent the request
    fields: list[str]
    purpose: str
    duration_ms: int
    max_uses: int
    subject: str | None
    needs_consent: bool  # personal or enterprise fields: the subject must consent
    created_height: int
    created_ms: int
    status: RequestStatus = "pending"
    consent_height: int | None = None
    decided_by: str = ""  # the owner's member, or "auto" (unconditional resource)
    decided_height: int | None = None
    reason: str = ""  # why it was rejected
    grant_id: str | None = None


class AccessRecord(msgspec.Struct, frozen=True):
    """One anchored access: who fetched which fields of which resource under which grant."""

    request_hash: bytes
    response_hash: bytes
    grant_id: str
    resource_id: str
    owner: str
    requester: str
    subject: str | None
    fields: list[str]
    time_ms: int  # when the owner's gateway answered
    requester_key: bytes
    owner_key: bytes
    anchored_by: str  # the owner's member (gateway) that anchored the receipt
    height: int
    tx_id: bytes


class RequestArgs(msgspec.Struct, forbid_unknown_fields=True):
    resource_id: str
    fields: list[str]
    purpose: str
    duration_ms: int
    max_uses: int = 1
    subject: str | None = None  # cit:... or ent:... whose data is asked for


class IdArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str


class RejectArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    reason: str


class RevokeArgs(msgspec.Struct, forbid_unknown_fields=True):
    grant_id: str
    reason: str


class AnchorReceiptsArgs(msgspec.Struct, forbid_unknown_fields=True):
    receipts: list[AccessReceipt]


class PartyArgs(msgspec.Struct, forbid_unknown_fields=True):
    identity: str
    grants_only: bool = False


class RequestHashArgs(msgspec.Struct, forbid_unknown_fields=True):
    request_hash: bytes


class AuditArgs(msgspec.Struct, forbid_unknown_fields=True):
    kind: str  # org | resource | grant | subject
    id: str
    after: str = ""  # the ``cursor`` of the last record of the previous page
    limit: int = 100


def request_state_key(request_id: str) -> bytes:
    return f"{NAME}/req/{request_id}".encode()


def access_state_key(request_hash: bytes) -> bytes:
    """The full state key of an access record (for state proofs)."""
    return f"{NAME}/access/{request_hash.hex()}".encode()


def audit_key(kind: str, identity: str, height: int, request_hash: bytes) -> str:
    """An audit index entry (namespaced under the contract), in height order."""
    return f"aud/{kind}/{identity}/{height:012d}/{request_hash.hex()}"
