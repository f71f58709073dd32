"""Building and signing transactions, including multi-party signing off chain."""

from __future__ import annotations

import os
from typing import Any

import msgspec

from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, encode, ensure_no_floats
from govchain.errors import BadRequest, MissingSignature
from govchain.types import Signature, SignedTx, TxBody, compute_tx_id, tx_sign_bytes

__all__ = ["add_signature", "build_tx", "coerce_args", "tx_id_of"]


def coerce_args(args_type: type[msgspec.Struct] | None, args: Any) -> Any:
    """Accept a Struct, or a dict in which ``bytes`` fields may be hex strings (CLI/JSON)."""
    if args_type is None or isinstance(args, msgspec.Struct):
        return args

    def dec_hook(type_: type, obj: Any) -> Any:
        raise NotImplementedError

    fields = {f.name: f for f in msgspec.structs.fields(args_type)}
    converted = {}
    for name, value in dict(args).items():
        field = fields.get(name)
        wants_bytes = field is not None and "bytes" in repr(field.type)
        if wants_bytes and isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError:
                raise BadRequest(f"argument {name!r} must be hex") from None
        converted[name] = value
    try:
        return msgspec.convert(converted, type=args_type, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"invalid arguments: {exc}") from exc


def build_tx(
    key: KeyPair,
    *,
    chain_id: str,
    contract: str,
    method: str,
    args: Any,
    valid_until: int,
    nonce: bytes | None = None,
    sign: bool = True,
) -> bytes:
    """An encoded signed transaction from ``key`` (unsigned when ``sign`` is False)."""
    ensure_no_floats(msgspec.to_builtins(args))
    body = TxBody(
        chain_id,
        key.public_key,
        nonce or os.urandom(16),
        valid_until,
        contract,
        method,
        msgspec.Raw(encode(args)),
        key.scheme,
    )
    body_raw = encode(body)
    sigs = (
        [Signature(key.public_key, key.sign(tx_sign_bytes(body_raw)), key.scheme)] if sign else []
    )
    return encode(SignedTx(body_raw, sigs))


def add_signature(raw: bytes, key: KeyPair) -> bytes:
    """Add ``key``'s signature to a transaction (co-signing for multi-party approvals)."""
    signed = decode(raw, SignedTx)
    if any(s.public_key == key.public_key for s in signed.signatures):
        return raw
    sig = Signature(key.public_key, key.sign(tx_sign_bytes(signed.body)), key.scheme)
    return encode(SignedTx(signed.body, [*signed.signatures, sig]))


def tx_id_of(raw: bytes) -> bytes:
    signed = decode(raw, SignedTx)
    if not signed.body:
        raise MissingSignature("empty transaction")
    return compute_tx_id(signed.body)
