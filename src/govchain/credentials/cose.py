"""COSE_Sign1 (RFC 9052) messages and CWT claims (RFC 8392), the signed core of a QR container.

A COSE_Sign1 message is the CBOR array ``[protected, unprotected, payload, signature]``, usually
wrapped in CBOR tag 18; the signature covers ``["Signature1", protected, external_aad, payload]``.
govchain signs with EdDSA (Ed25519, through :class:`govchain.crypto.KeyPair`) or ES256 (a P-256
key from ``cryptography``, deterministic RFC 6979 nonces); it verifies EdDSA, ES256 and PS256 (RSA,
as found in EU Digital COVID Certificates) against a public key or an X.509 certificate.

Decoding raises :class:`~govchain.credentials.errors.CredentialMalformed` with a ``reason`` detail
(``COSE_MALFORMED``, ``CWT_MALFORMED``, ``CERTIFICATE_MALFORMED``); verification returns a bool and
never raises, so that the caller picks the error. Nothing here reads a clock or draws randomness.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding

from govchain.credentials.errors import CredentialMalformed
from govchain.crypto.signing import ED25519, Ed25519Scheme, KeyPair

__all__ = [
    "ALG_EDDSA",
    "ALG_ES256",
    "ALG_PS256",
    "CLAIM_EXP",
    "CLAIM_GOVCHAIN",
    "CLAIM_HCERT",
    "CLAIM_IAT",
    "CLAIM_ISS",
    "CLAIM_NBF",
    "CLAIM_SUB",
    "COSE_SIGN1_TAG",
    "CWT_TAG",
    "HEADER_ALG",
    "HEADER_KID",
    "SUPPORTED_ALGORITHMS",
    "CoseSign1",
    "CoseSigningKey",
    "CoseVerificationKey",
    "CwtClaims",
    "compute_certificate_kid",
    "compute_sig_structure",
    "decode_cose_sign1",
    "decode_cwt",
    "encode_cose_sign1",
    "encode_cwt",
    "get_algorithm_for_key",
    "load_certificate",
    "sign_cose_sign1",
    "verify_cose_sign1",
]

ALG_EDDSA = -8
ALG_ES256 = -7
ALG_PS256 = -37
SUPPORTED_ALGORITHMS = frozenset({ALG_EDDSA, ALG_ES256, ALG_PS256})

HEADER_ALG = 1
HEADER_KID = 4
COSE_SIGN1_TAG = 18
CWT_TAG = 61

CLAIM_ISS = 1
CLAIM_SUB = 2
CLAIM_EXP = 4
CLAIM_NBF = 5
CLAIM_IAT = 6
CLAIM_HCERT = -260  # EU DCC: {1: <health certificate>}
CLAIM_GOVCHAIN = -65537  # private use (below -65536): govchain's own credential claims

COSE_MALFORMED = "COSE_MALFORMED"
CWT_MALFORMED = "CWT_MALFORMED"
CERTIFICATE_MALFORMED = "CERTIFICATE_MALFORMED"

CoseSigningKey: TypeAlias = KeyPair | ec.EllipticCurvePrivateKey
CoseVerificationKey: TypeAlias = (
    bytes
    | ed25519.Ed25519PublicKey
    | ec.EllipticCurvePublicKey
    | rsa.RSAPublicKey
    | x509.Certificate
)
"""A raw 32-byte Ed25519 public key (govchain's native form), a ``cryptography`` public key, or
an X.509 certificate whose subject key signed the message."""

_ED25519 = Ed25519Scheme()
_MIN_RSA_BITS = 2048
_ES256_SIZE = 32


def _malformed(reason: str, message: str) -> CredentialMalformed:
    return CredentialMalformed(message, reason=reason)


def _reject_value_sharing(value: Any, immutable: bool) -> Any:
    raise cbor2.CBORDecodeError("value sharing (tags 28/29) is not allowed")


_STRICT = {28: _reject_value_sharing, 29: _reject_value_sharing}
_CBOR_ERRORS = (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError)


def _decode_cbor(data: bytes, reason: str, what: str) -> Any:
    """One CBOR item, no trailing bytes, no duplicate map keys, no shared (cyclic) values."""
    fp = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(fp, allow_duplicate_keys=False, semantic_decoders=_STRICT).decode()
    except _CBOR_ERRORS as exc:
        raise _malformed(reason, f"{what} is not valid CBOR: {exc}") from None
    if fp.tell() != len(data):
        raise _malformed(reason, f"{what} has {len(data) - fp.tell()} trailing bytes")
    return item


# --- COSE_Sign1 ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoseSign1:
    """A decoded COSE_Sign1 message; ``protected`` keeps the exact bytes the signature covers."""

    protected: bytes
    protected_header: Mapping[Any, Any]
    unprotected_header: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    @property
    def alg(self) -> int | None:
        """The algorithm, from the protected header if present there, else the unprotected one."""
        alg = _header_value(self, HEADER_ALG, int)
        return alg if isinstance(alg, int) else None

    @property
    def kid(self) -> bytes | None:
        """The key id; the protected header wins over the unprotected one (RFC 9052 §3)."""
        kid = _header_value(self, HEADER_KID, bytes)
        return kid if isinstance(kid, bytes) else None

    def to_be_signed(self, external_aad: bytes = b"") -> bytes:
        return compute_sig_structure(self.protected, self.payload, external_aad)


def _header_value(msg: CoseSign1, label: int, kind: type[Any]) -> Any:
    for header in (msg.protected_header, msg.unprotected_header):
        if label in header:
            value = header[label]
            return value if isinstance(value, kind) and not isinstance(value, bool) else None
    return None


def compute_sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes a COSE_Sign1 signature covers: ``["Signature1", protected, aad, payload]``."""
    return cbor2.dumps(["Signature1", protected, external_aad, payload])


def encode_cose_sign1(msg: CoseSign1, *, tagged: bool = True) -> bytes:
    body = [msg.protected, dict(msg.unprotected_header), msg.payload, msg.signature]
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, body) if tagged else body, canonical=True)


def decode_cose_sign1(data: bytes) -> CoseSign1:
    """Decode a COSE_Sign1 message, tagged (18, optionally inside the CWT tag 61) or untagged."""
    item = _decode_cbor(data, COSE_MALFORMED, "COSE message")
    if isinstance(item, cbor2.CBORTag) and item.tag == CWT_TAG:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise _malformed(COSE_MALFORMED, f"CBOR tag {item.tag} is not COSE_Sign1 (18)")
        item = item.value
    if not isinstance(item, Sequence) or isinstance(item, str | bytes) or len(item) != 4:
        raise _malformed(COSE_MALFORMED, "COSE_Sign1 must be an array of four items")
    protected, unprotected, payload, signature = item
    if not isinstance(protected, bytes):
        raise _malformed(COSE_MALFORMED, "protected header must be a byte string")
    if not isinstance(unprotected, Mapping):
        raise _malformed(COSE_MALFORMED, "unprotected header must be a map")
    if not isinstance(payload, bytes):
        raise _malformed(COSE_MALFORMED, "payload must be a byte string (detached not supported)")
    if not isinstance(signature, bytes):
        raise _malformed(COSE_MALFORMED, "signature must be a byte string")
    msg = CoseSign1(protected, _decode_protected(protected), unprotected, payload, signature)
    _check_header_types(msg)
    return msg


def _decode_protected(protected: bytes) -> Mapping[Any, Any]:
    if not protected:
        return {}
    header = _decode_cbor(protected, COSE_MALFORMED, "protected header")
    if not isinstance(header, Mapping):
        raise _malformed(COSE_MALFORMED, "protected header must encode a map")
    return header


def _check_header_types(msg: CoseSign1) -> None:
    for header in (msg.protected_header, msg.unprotected_header):
        alg = header.get(HEADER_ALG)
        if alg is not None and (not isinstance(alg, int | str) or isinstance(alg, bool)):
            raise _malformed(COSE_MALFORMED, "header 'alg' must be an integer or a text string")
        kid = header.get(HEADER_KID)
        if kid is not None and not isinstance(kid, bytes):
            raise _malformed(COSE_MALFORMED, "header 'kid' must be a byte string")


def get_algorithm_for_key(key: CoseSigningKey) -> int:
    """The COSE algorithm govchain signs with for this key (EdDSA or ES256)."""
    if isinstance(key, KeyPair):
        if key.scheme != ED25519:
            raise ValueError(f"COSE signing is not defined for scheme {key.scheme!r}")
        return ALG_EDDSA
    if isinstance(key.curve, ec.SECP256R1):
        return ALG_ES256
    raise ValueError(f"ES256 needs a P-256 key, not {key.curve.name}")


def sign_cose_sign1(
    payload: bytes,
    key: CoseSigningKey,
    *,
    kid: bytes,
    unprotected: Mapping[Any, Any] | None = None,
) -> CoseSign1:
    """Sign ``payload``; ``alg`` and ``kid`` go into the protected header. Deterministic."""
    alg = get_algorithm_for_key(key)
    header = {HEADER_ALG: alg, HEADER_KID: bytes(kid)}
    protected = cbor2.dumps(header, canonical=True)
    to_be_signed = compute_sig_structure(protected, payload)
    if isinstance(key, KeyPair):
        signature = key.sign(to_be_signed)
    else:
        der = key.sign(to_be_signed, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(_ES256_SIZE, "big") + s.to_bytes(_ES256_SIZE, "big")
    return CoseSign1(protected, header, dict(unprotected or {}), payload, signature)


def verify_cose_sign1(msg: CoseSign1, key: CoseVerificationKey) -> bool:
    """True when ``key`` made ``msg``'s signature with the message's algorithm. Never raises."""
    to_be_signed = msg.to_be_signed()
    alg = msg.alg
    try:
        public = key.public_key() if isinstance(key, x509.Certificate) else key
        if alg == ALG_EDDSA:
            return _verify_eddsa(public, to_be_signed, msg.signature)
        if alg == ALG_ES256:
            return _verify_es256(public, to_be_signed, msg.signature)
        if alg == ALG_PS256:
            return _verify_ps256(public, to_be_signed, msg.signature)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return False


def _verify_eddsa(public: object, to_be_signed: bytes, signature: bytes) -> bool:
    if isinstance(public, ed25519.Ed25519PublicKey):
        public = public.public_bytes_raw()
    if not isinstance(public, bytes):
        return False
    return _ED25519.verify(public, to_be_signed, signature)


def _verify_es256(public: object, to_be_signed: bytes, signature: bytes) -> bool:
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        return False
    if len(signature) != 2 * _ES256_SIZE:
        return False
    r = int.from_bytes(signature[:_ES256_SIZE], "big")
    s = int.from_bytes(signature[_ES256_SIZE:], "big")
    public.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hashes.SHA256()))
    return True


def _verify_ps256(public: object, to_be_signed: bytes, signature: bytes) -> bool:
    if not isinstance(public, rsa.RSAPublicKey) or public.key_size < _MIN_RSA_BITS:
        return False
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    public.verify(signature, to_be_signed, pss, hashes.SHA256())
    return True


# --- certificates -------------------------------------------------------------------------------


def load_certificate(der: bytes) -> x509.Certificate:
    """Parse a DER X.509 certificate (e.g. a DCC document signer)."""
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, TypeError) as exc:
        raise _malformed(CERTIFICATE_MALFORMED, f"not a DER X.509 certificate: {exc}") from None


def compute_certificate_kid(certificate: x509.Certificate | bytes) -> bytes:
    """The EU DCC key id of a signer certificate: the first 8 bytes of SHA-256 over its DER."""
    der = certificate if isinstance(certificate, bytes) else certificate.public_bytes(Encoding.DER)
    return hashlib.sha256(der).digest()[:8]


# --- CWT claims ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CwtClaims:
    """The claims of a CBOR Web Token. Times are NumericDate: whole seconds since the epoch.

    ``hcert`` is the EU DCC health certificate (claim -260, key 1); ``claims`` holds a govchain
    credential's own claims (private claim -65537); ``extra`` keeps every other claim as decoded.
    """

    iss: str | None = None
    sub: str | None = None
    iat: int | None = None
    nbf: int | None = None
    exp: int | None = None
    hcert: Mapping[Any, Any] | None = None
    claims: Mapping[str, Any] | None = None
    extra: Mapping[Any, Any] = field(default_factory=dict)

    def to_map(self) -> dict[Any, Any]:
        out: dict[Any, Any] = dict(self.extra)
        for key, value in (
            (CLAIM_ISS, self.iss),
            (CLAIM_SUB, self.sub),
            (CLAIM_IAT, self.iat),
            (CLAIM_NBF, self.nbf),
            (CLAIM_EXP, self.exp),
            (CLAIM_GOVCHAIN, self.claims),
        ):
            if value is not None:
                out[key] = value
        if self.hcert is not None:
            out[CLAIM_HCERT] = {1: self.hcert}
        return out

    @classmethod
    def from_map(cls, claims: Mapping[Any, Any]) -> CwtClaims:
        """Check the registered claims' types; raise ``CredentialMalformed`` (CWT_MALFORMED)."""
        extra = {
            k: v
            for k, v in claims.items()
            if k not in (CLAIM_ISS, CLAIM_SUB, CLAIM_IAT, CLAIM_NBF, CLAIM_EXP)
            and k not in (CLAIM_HCERT, CLAIM_GOVCHAIN)
        }
        return cls(
            iss=_text_claim(claims, CLAIM_ISS, "iss"),
            sub=_text_claim(claims, CLAIM_SUB, "sub"),
            iat=_time_claim(claims, CLAIM_IAT, "iat"),
            nbf=_time_claim(claims, CLAIM_NBF, "nbf"),
            exp=_time_claim(claims, CLAIM_EXP, "exp"),
            hcert=_hcert_claim(claims),
            claims=_govchain_claim(claims),
            extra=extra,
        )


def _text_claim(claims: Mapping[Any, Any], key: int, name: str) -> str | None:
    value = claims.get(key)
    if value is not None and not isinstance(value, str):
        raise _malformed(CWT_MALFORMED, f"claim {name!r} must be a text string")
    return value


def _time_claim(claims: Mapping[Any, Any], key: int, name: str) -> int | None:
    value = claims.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _malformed(CWT_MALFORMED, f"claim {name!r} must be a NumericDate (a number)")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _malformed(CWT_MALFORMED, f"claim {name!r} is not a finite number")
        return int(value)
    return value


def _hcert_claim(claims: Mapping[Any, Any]) -> Mapping[Any, Any] | None:
    if CLAIM_HCERT not in claims:
        return None
    outer = claims[CLAIM_HCERT]
    if not isinstance(outer, Mapping) or not isinstance(outer.get(1), Mapping):
        raise _malformed(CWT_MALFORMED, "claim -260 must be a map {1: <health certificate map>}")
    inner: Mapping[Any, Any] = outer[1]
    return inner


def _govchain_claim(claims: Mapping[Any, Any]) -> Mapping[str, Any] | None:
    if CLAIM_GOVCHAIN not in claims:
        return None
    value = claims[CLAIM_GOVCHAIN]
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _malformed(CWT_MALFORMED, f"claim {CLAIM_GOVCHAIN} must be a map with text keys")
    return value


def encode_cwt(claims: CwtClaims) -> bytes:
    """Deterministic (RFC 8949 core deterministic) CBOR of the claims map."""
    return cbor2.dumps(claims.to_map(), canonical=True)


def decode_cwt(data: bytes) -> CwtClaims:
    """Decode a CWT claims map (a COSE payload); raise ``CredentialMalformed`` (CWT_MALFORMED)."""
    item = _decode_cbor(data, CWT_MALFORMED, "CWT payload")
    if not isinstance(item, Mapping):
        raise _malformed(CWT_MALFORMED, "CWT payload must be a CBOR map of claims")
    return CwtClaims.from_map(item)
