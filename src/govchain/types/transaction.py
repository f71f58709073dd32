"""Transactions.

A signed transaction is ``SignedTx(body, signatures)`` where ``body`` is the canonical encoding
of a :class:`TxBody`. Signers sign the body bytes (with a domain tag), so nodes verify exactly the
bytes the client signed and never re-encode them. The transaction id is the tagged hash of the
body: extra or re-ordered signatures do not make a new transaction, so a transaction can never be
replayed by re-signing.
"""

from __future__ import annotations

import msgspec

from govchain.crypto.hashing import tagged_hash

__all__ = ["Signature", "SignedTx", "TxBody", "compute_tx_hash", "compute_tx_id", "tx_sign_bytes"]

TX_DOMAIN = b"govchain/tx/v1"


class TxBody(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    sender: bytes  # the sender's public key; the sender must sign
    nonce: bytes  # 8..32 random or counter bytes chosen by the sender
    valid_until: int  # last height at which the transaction may be included
    contract: str
    method: str
    args: msgspec.Raw  # canonical MessagePack map, decoded by the method into its typed args
    scheme: str = "ed25519"  # the sender key's signature scheme


class Signature(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    public_key: bytes
    signature: bytes
    scheme: str = "ed25519"


class SignedTx(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    body: bytes
    signatures: list[Signature]


def tx_sign_bytes(body: bytes) -> bytes:
    """The message each signer signs: the domain tag and the body bytes."""
    return TX_DOMAIN + b"\x00" + body


def compute_tx_id(body: bytes) -> bytes:
    """The transaction's identity (used for replay protection and lookups)."""
    return tagged_hash(TX_DOMAIN, body)


def compute_tx_hash(body: bytes) -> bytes:
    """Alias of :func:`compute_tx_id`: the hash clients look transactions up by."""
    return compute_tx_id(body)
