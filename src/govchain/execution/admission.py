"""Stateless transaction checks: decoding, size, chain id, signatures, contract and arguments.

These checks depend only on the transaction bytes, the chain parameters and the contract registry,
so the node runs them once at admission and block validation runs them again for blocks it did not
build. Signature checks are batched so libsodium can use both cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from govchain.contracts.base import Method
from govchain.contracts.registry import ContractRegistry
from govchain.crypto.hashing import sha256
from govchain.crypto.signing import verify_many
from govchain.encoding import decode
from govchain.errors import (
    BadSignature,
    InvalidTransaction,
    MalformedTransaction,
    MissingSignature,
    OversizedTransaction,
    WrongChainId,
)
from govchain.types import ChainParams, SignedTx, TxBody, compute_tx_id, tx_sign_bytes

__all__ = ["CheckedTx", "SignatureCache", "decode_tx", "verify_tx_signatures"]

MIN_NONCE, MAX_NONCE = 8, 32
MAX_SIGNATURES = 16


@dataclass(frozen=True, slots=True)
class CheckedTx:
    """A transaction that passed the stateless checks, with everything decoded once."""

    raw: bytes
    tx_id: bytes
    body: TxBody
    signed: SignedTx
    method: Method
    args: msgspec.Struct

    @property
    def signers(self) -> frozenset[bytes]:
        return frozenset(s.public_key for s in self.signed.signatures)


class SignatureCache:
    """Remembers transactions whose signatures were verified (keyed by a hash of the raw bytes),
    so a block built from the node's own mempool is not verified twice. Bounded."""

    def __init__(self, capacity: int = 65_536) -> None:
        self._capacity = capacity
        self._seen: dict[bytes, None] = {}

    def __contains__(self, raw: bytes) -> bool:
        return sha256(raw) in self._seen

    def add(self, raw: bytes) -> None:
        self._seen[sha256(raw)] = None
        if len(self._seen) > self._capacity:
            for key in list(self._seen)[: self._capacity // 4]:
                del self._seen[key]


def decode_tx(
    raw: bytes, chain_id: str, params: ChainParams, registry: ContractRegistry
) -> CheckedTx:
    """Every stateless check except the signatures; raises an :class:`InvalidTransaction`."""
    if len(raw) > params.max_tx_bytes:
        raise OversizedTransaction(
            f"transaction is {len(raw)} bytes; the limit is {params.max_tx_bytes}",
            size=len(raw),
            limit=params.max_tx_bytes,
        )
    signed = decode(raw, SignedTx)
    body = decode(signed.body, TxBody)
    if body.chain_id != chain_id:
        raise WrongChainId(f"transaction is for chain {body.chain_id!r}, this is {chain_id!r}")
    if not MIN_NONCE <= len(body.nonce) <= MAX_NONCE:
        raise MalformedTransaction(f"nonce must be {MIN_NONCE}..{MAX_NONCE} bytes")
    if not signed.signatures:
        raise MissingSignature("transaction carries no signature")
    if len(signed.signatures) > MAX_SIGNATURES:
        raise MalformedTransaction(f"at most {MAX_SIGNATURES} signatures")
    signers = [s.public_key for s in signed.signatures]
    if len(set(signers)) != len(signers):
        raise MalformedTransaction("a key signed the transaction twice")
    if body.sender not in signers:
        raise MissingSignature("the sender did not sign the transaction")
    method = registry.get_method(body.contract, body.method)
    args = method.decode_args(bytes(body.args))
    return CheckedTx(raw, compute_tx_id(signed.body), body, signed, method, args)


def verify_tx_signatures(
    txs: Sequence[CheckedTx], cache: SignatureCache | None = None
) -> list[InvalidTransaction | None]:
    """Verify every signature of every transaction; ``None`` where all are valid."""
    items: list[tuple[str, bytes, bytes, bytes]] = []
    owners: list[int] = []
    for i, tx in enumerate(txs):
        if cache is not None and tx.raw in cache:
            continue
        message = tx_sign_bytes(tx.signed.body)
        for sig in tx.signed.signatures:
            items.append((sig.scheme, sig.public_key, message, sig.signature))
            owners.append(i)
    results: list[InvalidTransaction | None] = [None] * len(txs)
    for ok, i in zip(verify_many(items), owners, strict=True):
        if not ok and results[i] is None:
            results[i] = BadSignature(
                "a signature does not match the transaction body", tx_id=txs[i].tx_id.hex()
            )
    if cache is not None:
        for i, tx in enumerate(txs):
            if results[i] is None:
                cache.add(tx.raw)
    return results
