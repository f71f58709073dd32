"""Checking access receipts before they are anchored (pure; used by the sharing contract).

A receipt is accepted only if every check passes, each failure with its own code:

==============================  ==========================================================
``SHARE_NO_GRANT``              the grant does not exist
``SHARE_NOT_OWNER_GATEWAY``     the sender is not a ``gateway``/``officer`` of the owner
``SHARE_RECEIPT_REPLAYED``      the request hash was anchored before (or twice in a batch)
``SHARE_BAD_RECEIPT``           hashes not 32 bytes, no fields or repeated fields
``SHARE_WRONG_REQUESTER``       the receipt names another requester than the grant
``SHARE_BAD_REQUESTER_SIGNATURE``  the requester's signature does not match (forged/altered)
``SHARE_BAD_OWNER_SIGNATURE``   the owner gateway's signature does not match
``SHARE_REQUESTER_KEY_INVALID`` the key is not an active key of the requester now
``SHARE_OWNER_KEY_INVALID``     the key is not an active key of a member of the owner now
``SHARE_BAD_RECEIPT_TIME``      before the grant, or later than the block (plus skew)
``SHARE_GRANT_REVOKED``         the grant was revoked before the receipt's time
``SHARE_GRANT_EXPIRED``         the grant had expired at the receipt's time
``SHARE_FIELDS_NOT_GRANTED``    the receipt returns fields the grant does not cover
``SHARE_GRANT_EXHAUSTED``       the grant's uses are spent
==============================  ==========================================================

Keys are judged at the anchoring height: a key rotated between the exchange and the anchoring no
longer counts, so gateways anchor promptly (they batch for seconds, not days).
"""

from __future__ import annotations

from govchain.contracts.base import ReadContext
from govchain.contracts.identity import resolve_signer
from govchain.contracts.policy import Signer
from govchain.contracts.sharing_records import AccessReceipt, Grant, receipt_sign_bytes
from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import ContractError, NotFoundInState, Unauthorized

__all__ = ["ANCHOR_ROLES", "MAX_CLOCK_SKEW_MS", "check_receipt"]

ANCHOR_ROLES = ("gateway", "officer")
MAX_CLOCK_SKEW_MS = 60_000


def _fail(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


def _is_valid_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != 64:
        return False
    return get_scheme(ED25519).verify(public_key, message, signature)


def _check_shape(receipt: AccessReceipt) -> None:
    fields = receipt.fields
    if len(receipt.request_hash) != 32 or len(receipt.response_hash) != 32:
        raise _fail(
            "SHARE_BAD_RECEIPT",
            "request_hash and response_hash must be 32-byte SHA-256 digests",
            "Anchor the receipt exactly as both gateways signed it.",
        )
    if not fields or len(set(fields)) != len(fields):
        raise _fail(
            "SHARE_BAD_RECEIPT",
            "a receipt names the fields returned, each once",
            "Anchor the receipt exactly as both gateways signed it.",
        )


def _check_signatures(ctx: ReadContext, receipt: AccessReceipt, grant: Grant) -> None:
    message = receipt_sign_bytes(receipt)
    if not _is_valid_signature(receipt.requester_key, message, receipt.requester_signature):
        raise _fail(
            "SHARE_BAD_REQUESTER_SIGNATURE",
            "the requester's signature does not match the receipt (forged or altered)",
            "Do not anchor this receipt; report it to the requester.",
        )
    if not _is_valid_signature(receipt.owner_key, message, receipt.owner_signature):
        raise _fail(
            "SHARE_BAD_OWNER_SIGNATURE",
            "the owner gateway's signature does not match the receipt (forged or altered)",
            "Do not anchor this receipt; check the gateway's signing key.",
        )
    requester = resolve_signer(ctx, receipt.requester_key, ctx.height)
    if requester is None or grant.requester not in (requester.identity, requester.org):
        raise _fail(
            "SHARE_REQUESTER_KEY_INVALID",
            f"key {receipt.requester_key.hex()} is not an active key of {grant.requester}",
            "The requester signs with a key of its own (or of one of its members).",
        )
    owner = resolve_signer(ctx, receipt.owner_key, ctx.height)
    if owner is None or owner.org != grant.owner:
        raise _fail(
            "SHARE_OWNER_KEY_INVALID",
            f"key {receipt.owner_key.hex()} is not an active key of a member of {grant.owner}",
            "The owner's gateway signs with a member key of the owning organisation.",
        )


def _check_terms(receipt: AccessReceipt, grant: Grant, uses: int, block_ms: int) -> None:
    if receipt.time_ms < grant.granted_ms or receipt.time_ms > block_ms + MAX_CLOCK_SKEW_MS:
        raise _fail(
            "SHARE_BAD_RECEIPT_TIME",
            f"receipt time {receipt.time_ms} is before the grant or after this block",
            "Check the gateway's clock (NTP).",
        )
    if grant.status == "revoked" and (
        grant.revoked_ms is None or receipt.time_ms >= grant.revoked_ms
    ):
        raise _fail("SHARE_GRANT_REVOKED", f"grant {grant.id} was revoked", "Request anew.")
    if receipt.time_ms > grant.expires_ms:
        raise _fail("SHARE_GRANT_EXPIRED", f"grant {grant.id} had expired", "Request anew.")
    outside = sorted(set(receipt.fields) - set(grant.fields))
    if outside:
        raise _fail(
            "SHARE_FIELDS_NOT_GRANTED",
            f"grant {grant.id} does not cover {', '.join(outside)}",
            "A gateway returns only the granted fields.",
        )
    if uses >= grant.max_uses:
        raise _fail(
            "SHARE_GRANT_EXHAUSTED",
            f"grant {grant.id} has been used {uses} of {grant.max_uses} times",
            "Request a new grant.",
        )


def check_receipt(
    ctx: ReadContext,
    receipt: AccessReceipt,
    grant: Grant | None,
    *,
    anchorer: Signer | None,
    uses: int,
    block_ms: int,
    seen: bool,
) -> Grant:
    """The grant ``receipt`` is anchored under, or the first check's error. ``uses`` counts the
    grant's uses including earlier receipts of the batch; ``seen`` says whether the request hash
    is already anchored or earlier in the batch."""
    if grant is None:
        raise NotFoundInState(
            f"no grant {receipt.grant_id!r}",
            code="SHARE_NO_GRANT",
            hint="`govchain share grants` lists the grants.",
        )
    if anchorer is None or anchorer.org != grant.owner or not anchorer.roles & set(ANCHOR_ROLES):
        raise Unauthorized(
            f"receipts of {grant.owner}'s grants are anchored by its gateway or officers",
            code="SHARE_NOT_OWNER_GATEWAY",
            hint=f"Sign with the key of a member of {grant.owner} with role gateway or officer.",
        )
    if seen:
        raise _fail(
            "SHARE_RECEIPT_REPLAYED",
            f"request {receipt.request_hash.hex()} is already anchored",
            "Each exchange is anchored once; drop the duplicate.",
        )
    _check_shape(receipt)
    if receipt.requester != grant.requester:
        raise _fail(
            "SHARE_WRONG_REQUESTER",
            f"grant {grant.id} is for {grant.requester}, not {receipt.requester}",
            "Only the grant's requester fetches under it.",
        )
    _check_signatures(ctx, receipt, grant)
    _check_terms(receipt, grant, uses, block_ms)
    return grant
