"""Online verification of an issuer-signed status list against the chain's state.

:func:`verify_status_list` runs the pure checker of
:mod:`govchain.contracts.certs_status_lists` (format, issuer, anchor, key, signature,
freshness) over the records in the node's state — the list's record by hash, the organisation's
latest published list, the signing member's identity at the publishing height — and one check
only the node can make cheaply:

    content   the list's bits are those the state held at the height the list reflects
              (STATUS_LIST_CONTENT_MISMATCH): the issuer listed every revocation, no more
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govchain.app.application import Application
from govchain.app.readers import StoreState
from govchain.contracts.base import ReadContext
from govchain.contracts.certs_records import NAME, build_org_status_list
from govchain.contracts.certs_status_lists import (
    ListCheck,
    StatusListRecord,
    StatusListShape,
    check_signed_status_list,
    get_published_status_list,
    get_status_list_by_hash,
    get_status_list_shape,
)
from govchain.contracts.identity import Identity, get_identity
from govchain.credentials.status_list import StatusList
from govchain.credentials.vc import compute_credential_hash
from govchain.encoding import to_builtins
from govchain.errors import GovchainError

__all__ = ["LIST_CHECKS", "StatusListVerification", "verify_status_list"]

LIST_CHECKS = ("format", "issuer", "anchor", "key", "signature", "freshness", "content")


@dataclass
class StatusListVerification:
    checks: list[ListCheck]
    height: int  # the block whose state answered
    list_hash: bytes | None = None
    record: StatusListRecord | None = None

    @property
    def valid(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "height": self.height,
            "list_hash": None if self.list_hash is None else self.list_hash.hex(),
            "record": to_builtins(self.record),
            "checks": [c.to_json() for c in self.checks],
        }


def _shape(document: Any) -> StatusListShape | None:
    try:
        return get_status_list_shape(document)
    except (ValueError, TypeError, GovchainError):
        return None


def _content(
    app: Application, shape: StatusListShape | None, record: StatusListRecord | None
) -> ListCheck:
    if shape is None or record is None:
        return ListCheck("content", None, "", "not checked: the list is not anchored")
    h = record.list_height
    ctx = ReadContext(NAME, StoreState(app.store, h), h)
    derived = build_org_status_list(ctx, shape.org, shape.purpose, record.list_id)
    bits = StatusList.decode(derived["credentialSubject"]["encodedList"])
    if bits != shape.bits:
        return ListCheck(
            "content",
            False,
            "STATUS_LIST_CONTENT_MISMATCH",
            f"the bits differ from {shape.org}'s {shape.purpose} status at height {h}",
        )
    return ListCheck("content", True, "", f"{bits.count_set()} bits set, as at height {h}")


def verify_status_list(
    app: Application,
    document: Mapping[str, Any],
    now_ms: int,
    *,
    issuer: str | None = None,
    max_age_ms: int | None = None,
) -> StatusListVerification:
    """Every check of :data:`LIST_CHECKS` on a signed status list credential; ``issuer`` is the
    DID of the credential whose status the list is to answer."""
    height = app.info().height
    latest_ctx = ReadContext(NAME, StoreState(app.store, height), height)
    try:
        digest: bytes | None = compute_credential_hash(document)
    except (GovchainError, TypeError, ValueError):
        digest = None
    shape = _shape(document)
    record = None if digest is None else get_status_list_by_hash(latest_ctx, digest)
    latest = (
        None if shape is None else get_published_status_list(latest_ctx, shape.org, shape.purpose)
    )
    signer: Identity | None = None
    signer_height = height if record is None else record.height
    if shape is not None:
        at = ReadContext(NAME, StoreState(app.store, signer_height), signer_height)
        signer = get_identity(at, shape.member)
    checks = check_signed_status_list(
        document,
        chain_id=app.chain_id,
        record=record,
        latest=latest,
        signer=signer,
        signer_height=signer_height,
        now_ms=now_ms,
        expected_issuer=issuer,
        max_age_ms=max_age_ms,
    )
    checks.append(_content(app, shape, record))
    return StatusListVerification(checks, height, digest, record)
