"""The wire format of a data exchange between two gateways (pure: no I/O, no clock).

A requester asks the owner's gateway with ``POST /v1/fetch``, signed like every govchain API
request (``Authorization: Govchain-Ed25519 ...``, ADR 0004); the JSON body is a
:class:`FetchRequest`. The *request hash* is the SHA-256 of the exact bytes the requester signed
(method, path, timestamp, nonce and the body's SHA-256), so it names one request, once.

The owner's gateway answers a :class:`FetchAnswer`: the *envelope* — the granted fields sealed to
the requester's key — and an :class:`~govchain.contracts.sharing_records.AccessReceipt` the owner
has signed. The envelope is a libsodium sealed box (X25519 + XSalsa20-Poly1305, an ephemeral
sender key per answer) to the X25519 form of the requester's Ed25519 key; inside is the JSON of an
:class:`EnvelopePayload`, which repeats the grant and the request hash so that an answer cannot be
moved to another request. The receipt's ``response_hash`` is the SHA-256 of the envelope bytes.

The requester checks the owner's signature, opens the envelope, counter-signs the same receipt
bytes (:func:`~govchain.contracts.sharing_records.receipt_sign_bytes`) and sends it back with
``POST /v1/receipts`` (a :class:`CountersignRequest`, alone or in a batch). See
``docs/adr/0006-gateway-exchange.md``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec
import nacl.bindings
import nacl.exceptions
import nacl.public

from govchain.contracts.sharing_records import AccessReceipt, receipt_sign_bytes
from govchain.crypto.hashing import sha256
from govchain.crypto.request_signing import RequestCredentials, compute_request_sign_bytes
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import decode, encode
from govchain.errors import MalformedTransaction
from govchain.gateway.errors import BadGatewayRequest, ResponseInvalid

__all__ = [
    "ENVELOPE_VERSION",
    "FETCH_PATH",
    "RECEIPTS_PATH",
    "MAX_COUNTERSIGN",
    "CountersignAnswer",
    "CountersignRequest",
    "CountersignResult",
    "EnvelopePayload",
    "FetchAnswer",
    "FetchRequest",
    "compute_request_hash",
    "countersign_receipt",
    "decode_receipt",
    "encode_receipt",
    "is_owner_signature_valid",
    "is_requester_signature_valid",
    "is_same_receipt",
    "open_envelope",
    "seal_envelope",
    "sign_receipt",
]

FETCH_PATH = "/v1/fetch"
RECEIPTS_PATH = "/v1/receipts"
ENVELOPE_VERSION = 1
MAX_COUNTERSIGN = 500


class FetchRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a requester asks for (the JSON body of ``POST /v1/fetch``)."""

    grant_id: str
    resource_id: str
    subject: str  # the record's key: the data subject's identity id, or another record key
    fields: list[str]
    requester: str  # the identity the grant was given to; the signing key must act for it


class FetchAnswer(msgspec.Struct, frozen=True):
    """The owner gateway's answer: base64 of the sealed envelope and of the signed receipt."""

    envelope: str
    receipt: str


class CountersignRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The body of ``POST /v1/receipts``: base64 of counter-signed receipts (1 to
    :data:`MAX_COUNTERSIGN`; a requester may return them in batches)."""

    receipts: list[str]


class CountersignResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """One returned receipt's fate: taken (``code`` None) or refused with its error code."""

    request_hash: str  # hex ("" when the receipt could not be decoded)
    code: str | None = None
    detail: str | None = None


class CountersignAnswer(msgspec.Struct, frozen=True):
    results: list[CountersignResult]  # in the order of the request


class EnvelopePayload(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the sealed envelope holds (JSON)."""

    v: int
    grant_id: str
    request_hash: str  # hex
    resource_id: str
    subject: str
    values: dict[str, Any]


def compute_request_hash(
    credentials: RequestCredentials, method: str, target: str, body_sha256: bytes
) -> bytes:
    """SHA-256 of the bytes the requester signed: one request, one hash."""
    c = credentials
    return sha256(compute_request_sign_bytes(method, target, c.ts_ms, c.nonce, body_sha256))


# --- envelope -------------------------------------------------------------------------------


def _x25519_public(ed25519_public: bytes) -> nacl.public.PublicKey:
    try:
        return nacl.public.PublicKey(
            nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519_public)
        )
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise BadGatewayRequest(f"key {ed25519_public.hex()} is not an Ed25519 key") from exc


def seal_envelope(payload: EnvelopePayload, ed25519_public: bytes) -> bytes:
    """Seal ``payload`` to the X25519 form of the requester's Ed25519 key."""
    box = nacl.public.SealedBox(_x25519_public(ed25519_public))
    return bytes(box.encrypt(msgspec.json.encode(payload)))


def open_envelope(envelope: bytes, key: KeyPair) -> EnvelopePayload:
    """Open an envelope with the requester's key; :class:`ResponseInvalid` if it does not."""
    if key.scheme != ED25519:
        raise ValueError("envelopes are sealed to Ed25519 keys")
    secret = nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(key.seed + key.public_key)
    try:
        plain = nacl.public.SealedBox(nacl.public.PrivateKey(secret)).decrypt(envelope)
        payload = msgspec.json.decode(plain, type=EnvelopePayload)
    except (nacl.exceptions.CryptoError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ResponseInvalid(f"the envelope does not open with this key: {exc}") from exc
    if payload.v != ENVELOPE_VERSION:
        raise ResponseInvalid(f"unsupported envelope version {payload.v}")
    return payload


# --- receipts -------------------------------------------------------------------------------


def encode_receipt(receipt: AccessReceipt) -> str:
    return base64.b64encode(encode(receipt)).decode("ascii")


def decode_receipt(text: str) -> AccessReceipt:
    """A receipt from its base64; :class:`BadGatewayRequest` when it is not one."""
    try:
        return decode(base64.b64decode(text, validate=True), AccessReceipt)
    except (binascii.Error, ValueError, MalformedTransaction) as exc:
        raise BadGatewayRequest(f"not an encoded access receipt: {exc}") from exc


def sign_receipt(receipt: AccessReceipt, key: KeyPair) -> AccessReceipt:
    """The owner's signature (``owner_key`` set to ``key``)."""
    return msgspec.structs.replace(
        receipt, owner_key=key.public_key, owner_signature=key.sign(receipt_sign_bytes(receipt))
    )


def countersign_receipt(receipt: AccessReceipt, key: KeyPair) -> AccessReceipt:
    """The requester's signature over the same bytes (``requester_key`` must be ``key``'s)."""
    if receipt.requester_key != key.public_key:
        raise ValueError("the receipt names another requester key")
    return msgspec.structs.replace(
        receipt, requester_signature=key.sign(receipt_sign_bytes(receipt))
    )


def _verify(public_key: bytes, receipt: AccessReceipt, signature: bytes) -> bool:
    return get_scheme(ED25519).verify(public_key, receipt_sign_bytes(receipt), signature)


def is_owner_signature_valid(receipt: AccessReceipt) -> bool:
    return _verify(receipt.owner_key, receipt, receipt.owner_signature)


def is_requester_signature_valid(receipt: AccessReceipt) -> bool:
    return _verify(receipt.requester_key, receipt, receipt.requester_signature)


def is_same_receipt(issued: AccessReceipt, returned: AccessReceipt) -> bool:
    """Whether ``returned`` is ``issued`` with only the requester's signature added."""
    return msgspec.structs.replace(returned, requester_signature=b"") == msgspec.structs.replace(
        issued, requester_signature=b""
    )
