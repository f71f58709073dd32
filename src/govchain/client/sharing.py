"""Data sharing (SDK side): request data, consent, approve or reject, revoke, read requests and
grants with their state proofs, and sign access receipts.

>>> sharing = SharingClient(client)
>>> req = sharing.request(health_key, "tax.payer-status", ["credit_code", "status"],
...     purpose="Subsidy eligibility check", duration_days=30, subject="ent:9135...")
>>> sharing.consent(enterprise_key, req["id"])         # the data subject, with its own key
>>> sharing.approve(tax_officer_key, req["id"])        # the owning department
>>> sharing.show(req["id"])["grant"]                   # proofs verified

The data itself flows between the departments' gateways; both sign an
:class:`~govchain.contracts.sharing_records.AccessReceipt` (:func:`sign_receipt`) and the owner's
gateway anchors receipts in batches (:meth:`SharingClient.anchor_receipts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

import msgspec

from govchain.client.sdk import Client, TxOutcome
from govchain.client.verify import verify_state_answer
from govchain.contracts.sharing_records import (
    AccessReceipt,
    Grant,
    grant_state_key,
    receipt_sign_bytes,
)
from govchain.contracts.sharing_state import (
    AnchorReceiptsArgs,
    RequestArgs,
    ShareRequest,
    request_state_key,
)
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, to_builtins
from govchain.errors import RootMismatch

__all__ = ["DAY_MS", "SharingClient", "sign_receipt"]

DAY_MS = 24 * 3600 * 1000


def sign_receipt(
    receipt: AccessReceipt, key: KeyPair, role: Literal["requester", "owner"]
) -> AccessReceipt:
    """``receipt`` with ``key``'s signature as the requester's or the owner gateway's."""
    signature = key.sign(receipt_sign_bytes(receipt))
    if role == "requester":
        return msgspec.structs.replace(
            receipt, requester_key=key.public_key, requester_signature=signature
        )
    return msgspec.structs.replace(receipt, owner_key=key.public_key, owner_signature=signature)


def _check_proven(
    state: dict[str, Any] | None,
    key: bytes,
    record: dict[str, Any] | None,
    type_: type[Any],
    client: Client,
) -> None:
    if state is None or record is None:
        return
    if bytes.fromhex(state["key"]) != key or state["value"] is None:
        raise RootMismatch("the node proved another key than the record asked for")
    verify_state_answer(state, client.trust)
    if to_builtins(decode(bytes.fromhex(state["value"]), type_)) != record:
        raise RootMismatch("the node's record differs from the proven one")


class SharingClient:
    """Requests, consents, decisions and grants through a node's API."""

    def __init__(self, client: Client) -> None:
        self.client = client

    # --- writes ----------------------------------------------------------------------------

    def request(
        self,
        key: KeyPair,
        resource_id: str,
        fields: Sequence[str],
        *,
        purpose: str,
        duration_days: float = 30,
        max_uses: int = 1,
        subject: str | None = None,
    ) -> dict[str, Any]:
        """Ask for ``fields`` of a resource; the new request (approved at once for a
        department asking for an unconditional resource)."""
        args = RequestArgs(
            resource_id, list(fields), purpose, int(duration_days * DAY_MS), max_uses, subject
        )
        return self._result(self.client.send(key, "sharing", "request", args))

    def consent(self, key: KeyPair, request_id: str) -> dict[str, Any]:
        """The data subject consents (``key`` is the citizen's or enterprise's own)."""
        return self._result(self.client.send(key, "sharing", "consent", {"id": request_id}))

    def withdraw_consent(self, key: KeyPair, request_id: str) -> dict[str, Any]:
        outcome = self.client.send(key, "sharing", "withdraw_consent", {"id": request_id})
        return self._result(outcome)

    def approve(self, key: KeyPair, request_id: str) -> dict[str, Any]:
        """The owning department approves: the request with its ``grant_id``."""
        return self._result(self.client.send(key, "sharing", "approve", {"id": request_id}))

    def reject(self, key: KeyPair, request_id: str, reason: str) -> dict[str, Any]:
        args = {"id": request_id, "reason": reason}
        return self._result(self.client.send(key, "sharing", "reject", args))

    def revoke(self, key: KeyPair, grant_id: str, reason: str) -> dict[str, Any]:
        """Revoke a grant (the owner's admin or officer, or the data subject)."""
        args = {"grant_id": grant_id, "reason": reason}
        return self._result(self.client.send(key, "sharing", "revoke", args))

    def anchor_receipts(self, key: KeyPair, receipts: Sequence[AccessReceipt]) -> TxOutcome:
        """Anchor receipts, all or nothing (the owner's gateway or an officer)."""
        args = AnchorReceiptsArgs(list(receipts))
        return self.client.send(key, "sharing", "anchor_receipts", args)

    @staticmethod
    def _result(outcome: TxOutcome) -> dict[str, Any]:
        return cast("dict[str, Any]", outcome.result)

    # --- reads (parties and auditors; signed requests) ------------------------------------

    def show(self, request_id: str) -> dict[str, Any]:
        """A request and its grant, each checked against its state proof."""
        answer = self.client.get(f"/v1/sharing/requests/{request_id}")
        _check_proven(
            answer["request_state"],
            request_state_key(request_id),
            answer["request"],
            ShareRequest,
            self.client,
        )
        grant_id = answer["request"].get("grant_id")
        if grant_id is not None:
            _check_proven(
                answer["grant_state"],
                grant_state_key(grant_id),
                answer["grant"],
                Grant,
                self.client,
            )
        return cast("dict[str, Any]", answer)

    def requests(
        self, identity: str | None = None, *, grants_only: bool = False
    ) -> list[dict[str, Any]]:
        """The requests of a party (default: the caller's organisation, or itself)."""
        params: dict[str, Any] = {"grants_only": grants_only}
        if identity is not None:
            params["identity"] = identity
        found = self.client.get("/v1/sharing/requests", params=params)
        return cast("list[dict[str, Any]]", found)
