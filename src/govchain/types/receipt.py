"""Receipts and events: the recorded outcome of every transaction in a block."""

from __future__ import annotations

import msgspec

from govchain.crypto.hashing import tagged_hash

__all__ = ["Event", "Receipt", "compute_receipt_leaf"]


class Event(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    contract: str
    name: str
    attributes: dict[str, str]


class Receipt(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    tx_hash: bytes
    ok: bool
    code: str = ""  # stable error code when not ok
    message: str = ""
    hint: str = ""  # what to do about a failure
    events: list[Event] = msgspec.field(default_factory=list)
    result: msgspec.Raw = msgspec.Raw(b"\xc0")  # the method's return value, MessagePack


def compute_receipt_leaf(receipt_bytes: bytes) -> bytes:
    return tagged_hash(b"govchain/receipt/v1", receipt_bytes)
