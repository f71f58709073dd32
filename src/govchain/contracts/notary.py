"""Notary: anchor a document's SHA-256 with metadata, look it up, prove when it was anchored.

The document itself never goes on chain. An anchor names its owner organisation, and only a key of
that organisation may anchor for it. The record keeps the height, block time and transaction of
anchoring, so a state proof of the record against a block's state root proves the anchor existed
by that block.
"""

from __future__ import annotations

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.identity import get_org, require
from govchain.contracts.policy import NOf, Policy, Role, SignedBy
from govchain.errors import AlreadyExists, ContractError, NotFoundInState

__all__ = ["AnchorArgs", "NotaryContract", "NotaryRecord", "notary_state_key"]

NAME = "notary"
MAX_TITLE = 200
MAX_META = 16


class AnchorArgs(msgspec.Struct, forbid_unknown_fields=True):
    hash: bytes  # SHA-256 of the document
    title: str
    owner_org: str
    expires_at_ms: int | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class HashArgs(msgspec.Struct, forbid_unknown_fields=True):
    hash: bytes


class NotaryRecord(msgspec.Struct, frozen=True):
    hash: bytes
    title: str
    owner_org: str
    submitter: bytes
    height: int
    time_ms: int
    tx_id: bytes
    expires_at_ms: int | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


def anchor_policy(org: str) -> Policy:
    """Who may anchor for an organisation: one of its admins or officers."""
    return NOf(1, [SignedBy(Role(org, "admin")), SignedBy(Role(org, "officer"))])


def notary_state_key(doc_hash: bytes) -> bytes:
    """The full state key of a document's anchor (for state proofs)."""
    return NAME.encode() + b"/doc/" + doc_hash


class NotaryContract(Contract):
    name = NAME
    description = "Anchors documents' SHA-256 hashes with metadata and time."

    @method(AnchorArgs)
    def anchor(self, ctx: Context, args: AnchorArgs) -> NotaryRecord:
        """Anchor a document hash for an organisation the sender acts for."""
        _check_anchor_args(args, ctx.time_ms)
        if get_org(ctx, args.owner_org) is None:
            raise NotFoundInState(
                f"no organisation {args.owner_org!r}",
                code="NOTARY_UNKNOWN_ORG",
                hint="GET /v1/orgs lists the organisations.",
            )
        require(
            ctx,
            anchor_policy(args.owner_org),
            code="NOTARY_NOT_OWNER",
            action=f"anchoring for {args.owner_org}",
            signers=[ctx.sender],
            hint="Anchor with a key of the owner organisation.",
        )
        if ctx.get(b"doc/" + args.hash) is not None:
            raise AlreadyExists(
                f"document {args.hash.hex()} is already anchored",
                code="NOTARY_ALREADY_ANCHORED",
                hint="`govchain notary show HASH` shows the existing anchor.",
            )
        record = NotaryRecord(
            args.hash,
            args.title,
            args.owner_org,
            ctx.sender,
            ctx.height,
            ctx.time_ms,
            ctx.tx_id,
            args.expires_at_ms,
            args.metadata,
        )
        ctx.set(b"doc/" + args.hash, record)
        ctx.emit("anchored", hash=args.hash.hex(), owner_org=args.owner_org)
        return record

    @view(HashArgs)
    def get(self, ctx: ReadContext, args: HashArgs) -> NotaryRecord:
        """The anchor of a document hash."""
        record = ctx.get_as(b"doc/" + args.hash, NotaryRecord)
        if record is None:
            raise NotFoundInState(
                f"document {args.hash.hex()} is not anchored", code="NOTARY_NOT_FOUND"
            )
        return record


def _check_anchor_args(args: AnchorArgs, now_ms: int) -> None:
    if len(args.hash) != 32:
        raise ContractError("hash must be a 32-byte SHA-256 digest", code="NOTARY_BAD_HASH")
    if not args.title.strip() or len(args.title) > MAX_TITLE:
        raise ContractError(f"title must be 1..{MAX_TITLE} characters", code="NOTARY_BAD_TITLE")
    if len(args.metadata) > MAX_META or any(
        len(k) > 64 or len(v) > 256 for k, v in args.metadata.items()
    ):
        raise ContractError(
            f"at most {MAX_META} metadata entries of 64/256 characters", code="NOTARY_BAD_METADATA"
        )
    if args.expires_at_ms is not None and args.expires_at_ms <= now_ms:
        raise ContractError("expires_at_ms is in the past", code="NOTARY_BAD_EXPIRY")
