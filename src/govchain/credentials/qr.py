"""The compact QR container: ``prefix + Base45(zlib(COSE_Sign1(CWT claims)))``.

This is the EU Digital COVID Certificate transport (``HC1:``), used by govchain for health passes
and for any credential that must fit in a QR code and be checked offline. Encoding signs the
claims with EdDSA or ES256; decoding runs seven named steps and reports each one:

    unprefix → base45 → decompress → cose → verify → claims → expiry

A step that fails carries a stable reason code (``QR_BAD_PREFIX`` ...), and every later step is
reported as skipped. The decoder never raises on any input text; :meth:`DecodedQr.require_valid`
turns a failure into :class:`~govchain.credentials.errors.QrInvalid`. The module is pure: the
validation time comes in as ``now`` (seconds since the epoch), and nothing draws randomness.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeAlias, cast

import base45  # type: ignore[import-untyped]
from cryptography import x509

from govchain.credentials.cose import (
    SUPPORTED_ALGORITHMS,
    CoseSign1,
    CoseSigningKey,
    CoseVerificationKey,
    CwtClaims,
    decode_cose_sign1,
    decode_cwt,
    encode_cose_sign1,
    encode_cwt,
    sign_cose_sign1,
    verify_cose_sign1,
)
from govchain.credentials.errors import CredentialMalformed, QrInvalid

__all__ = [
    "DCC_PREFIX",
    "MAX_DECOMPRESSED_SIZE",
    "MAX_QR_TEXT_LENGTH",
    "QR_BAD_BASE45",
    "QR_BAD_CBOR",
    "QR_BAD_COMPRESSION",
    "QR_BAD_COSE",
    "QR_BAD_PREFIX",
    "QR_BAD_SIGNATURE",
    "QR_EXPIRED",
    "QR_NOT_YET_VALID",
    "QR_REASONS",
    "QR_TOO_LARGE",
    "QR_UNKNOWN_KID",
    "QR_UNSUPPORTED_ALG",
    "DecodedQr",
    "KeyResolver",
    "QrStep",
    "QrStepResult",
    "StepStatus",
    "decode_qr_payload",
    "encode_qr_payload",
    "is_dcc_key_usage_allowed",
]

DCC_PREFIX = "HC1:"
MAX_QR_TEXT_LENGTH = 8192  # a version-40 QR code holds at most 4,296 alphanumeric characters
MAX_DECOMPRESSED_SIZE = 65536  # bounds a zlib bomb

QR_TOO_LARGE = "QR_TOO_LARGE"
QR_BAD_PREFIX = "QR_BAD_PREFIX"
QR_BAD_BASE45 = "QR_BAD_BASE45"
QR_BAD_COMPRESSION = "QR_BAD_COMPRESSION"
QR_BAD_COSE = "QR_BAD_COSE"
QR_UNSUPPORTED_ALG = "QR_UNSUPPORTED_ALG"
QR_UNKNOWN_KID = "QR_UNKNOWN_KID"
QR_BAD_SIGNATURE = "QR_BAD_SIGNATURE"
QR_BAD_CBOR = "QR_BAD_CBOR"
QR_NOT_YET_VALID = "QR_NOT_YET_VALID"
QR_EXPIRED = "QR_EXPIRED"
QR_REASONS = frozenset(
    {
        QR_TOO_LARGE,
        QR_BAD_PREFIX,
        QR_BAD_BASE45,
        QR_BAD_COMPRESSION,
        QR_BAD_COSE,
        QR_UNSUPPORTED_ALG,
        QR_UNKNOWN_KID,
        QR_BAD_SIGNATURE,
        QR_BAD_CBOR,
        QR_NOT_YET_VALID,
        QR_EXPIRED,
    }
)

KeyResolver: TypeAlias = (
    Callable[[bytes], CoseVerificationKey | None] | Mapping[bytes, CoseVerificationKey]
)
"""Maps a key id to the issuer's public key or certificate, or ``None`` when it is not trusted."""

_BASE45_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


class QrStep(StrEnum):
    UNPREFIX = "unprefix"
    BASE45 = "base45"
    DECOMPRESS = "decompress"
    COSE = "cose"
    VERIFY = "verify"
    CLAIMS = "claims"
    EXPIRY = "expiry"


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: an earlier step failed, or (expiry) no validation time given


@dataclass(frozen=True, slots=True)
class QrStepResult:
    step: QrStep
    status: StepStatus
    reason: str | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class DecodedQr:
    """What the decoder found, step by step, and every intermediate form it got to."""

    steps: tuple[QrStepResult, ...]
    prefix: str | None = None
    compressed: bytes | None = None
    cose_bytes: bytes | None = None
    cose: CoseSign1 | None = None
    claims: CwtClaims | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def failure(self) -> QrStepResult | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)

    @property
    def reason(self) -> str | None:
        failure = self.failure
        return None if failure is None else failure.reason

    @property
    def kid(self) -> bytes | None:
        return None if self.cose is None else self.cose.kid

    def get_step(self, step: QrStep) -> QrStepResult:
        return next(s for s in self.steps if s.step is step)

    def require_valid(self) -> CwtClaims:
        """The verified claims, or :class:`QrInvalid` naming the failed step and its reason."""
        failure = self.failure
        if failure is not None:
            raise QrInvalid(failure.message, reason=failure.reason, step=str(failure.step))
        if self.claims is None:  # unreachable: the claims step passed
            raise QrInvalid("no claims decoded", reason=QR_BAD_CBOR, step=str(QrStep.CLAIMS))
        return self.claims


# --- encoding -----------------------------------------------------------------------------------


def encode_qr_payload(
    claims: CwtClaims,
    signer: CoseSigningKey,
    kid: bytes,
    *,
    prefix: str = DCC_PREFIX,
) -> str:
    """``prefix`` + Base45(zlib(COSE_Sign1(CWT))), signed with EdDSA or ES256. Deterministic."""
    message = sign_cose_sign1(encode_cwt(claims), signer, kid=kid)
    compressed = zlib.compress(encode_cose_sign1(message), 9)
    return prefix + cast(bytes, base45.b45encode(compressed)).decode("ascii")


# --- decoding -----------------------------------------------------------------------------------


class _StepSkipped(Exception):
    pass


class _StepFailed(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class _Work:
    text: object
    prefixes: tuple[str, ...]
    resolver: KeyResolver
    now: int | None
    leeway: int
    prefix: str | None = None
    body: str = ""
    compressed: bytes | None = None
    cose_bytes: bytes | None = None
    cose: CoseSign1 | None = None
    claims: CwtClaims | None = None


def decode_qr_payload(
    text: str,
    *,
    key_or_cert_resolver: KeyResolver,
    now: int | None = None,
    prefixes: tuple[str, ...] = (DCC_PREFIX,),
    leeway: int = 0,
) -> DecodedQr:
    """Decode and verify a QR payload; never raises on bad input (the resolver's own errors
    propagate). ``now`` is the validation time in seconds since the epoch; without it the expiry
    step is skipped. ``leeway`` seconds of clock skew are allowed on ``iat``/``nbf``/``exp``."""
    work = _Work(text, prefixes, key_or_cert_resolver, now, leeway)
    results: list[QrStepResult] = []
    failed = False
    for step, run in _PIPELINE:
        if failed:
            results.append(QrStepResult(step, StepStatus.SKIPPED, None, "an earlier step failed"))
            continue
        try:
            results.append(QrStepResult(step, StepStatus.PASSED, None, run(work)))
        except _StepSkipped as skipped:
            results.append(QrStepResult(step, StepStatus.SKIPPED, None, str(skipped)))
        except _StepFailed as failure:
            results.append(QrStepResult(step, StepStatus.FAILED, failure.reason, failure.message))
            failed = True
    return DecodedQr(
        tuple(results), work.prefix, work.compressed, work.cose_bytes, work.cose, work.claims
    )


def _unprefix(work: _Work) -> str:
    if not isinstance(work.text, str):
        raise _StepFailed(QR_BAD_PREFIX, "the QR payload must be text")
    if len(work.text) > MAX_QR_TEXT_LENGTH:
        raise _StepFailed(
            QR_TOO_LARGE, f"{len(work.text)} characters; a QR payload has at most 4,296"
        )
    for prefix in work.prefixes:
        if work.text.startswith(prefix):
            work.prefix, work.body = prefix, work.text[len(prefix) :]
            return f"prefix {prefix!r}"
    expected = " or ".join(repr(p) for p in work.prefixes)
    raise _StepFailed(QR_BAD_PREFIX, f"the payload does not start with {expected}")


def _decode_base45(work: _Work) -> str:
    body = work.body
    if not body:
        raise _StepFailed(QR_BAD_BASE45, "nothing follows the prefix")
    bad = sorted(set(body) - _BASE45_ALPHABET)
    if bad:
        raise _StepFailed(QR_BAD_BASE45, f"characters outside the Base45 alphabet: {bad[:5]!r}")
    try:
        work.compressed = cast(bytes, base45.b45decode(body))
    except ValueError:
        raise _StepFailed(
            QR_BAD_BASE45, "not valid Base45 (a bad length or a group out of range)"
        ) from None
    return f"{len(work.compressed)} bytes"


def _decompress(work: _Work) -> str:
    data = work.compressed or b""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_SIZE)
    except zlib.error as exc:
        raise _StepFailed(QR_BAD_COMPRESSION, f"not a zlib stream: {exc}") from None
    if inflater.unconsumed_tail:
        raise _StepFailed(
            QR_BAD_COMPRESSION, f"decompresses to more than {MAX_DECOMPRESSED_SIZE} bytes"
        )
    if not inflater.eof:
        raise _StepFailed(QR_BAD_COMPRESSION, "the zlib stream is truncated")
    if inflater.unused_data:
        raise _StepFailed(QR_BAD_COMPRESSION, "bytes follow the end of the zlib stream")
    work.cose_bytes = out
    return f"{len(out)} bytes"


def _decode_cose(work: _Work) -> str:
    try:
        work.cose = decode_cose_sign1(work.cose_bytes or b"")
    except CredentialMalformed as exc:
        raise _StepFailed(QR_BAD_COSE, exc.message) from None
    return f"alg {work.cose.alg}, kid {_hex(work.cose.kid)}"


def _verify(work: _Work) -> str:
    cose = cast(CoseSign1, work.cose)
    if cose.alg not in SUPPORTED_ALGORITHMS:
        raise _StepFailed(QR_UNSUPPORTED_ALG, f"unsupported or missing algorithm {cose.alg!r}")
    kid = cose.kid
    if kid is None:
        raise _StepFailed(QR_UNKNOWN_KID, "the message names no key id")
    key = _resolve(work.resolver, kid)
    if key is None:
        raise _StepFailed(QR_UNKNOWN_KID, f"no trusted key with kid {_hex(kid)}")
    if not verify_cose_sign1(cose, key):
        raise _StepFailed(QR_BAD_SIGNATURE, f"the signature does not verify with kid {_hex(kid)}")
    return f"signature valid (kid {_hex(kid)})"


def _resolve(resolver: KeyResolver, kid: bytes) -> CoseVerificationKey | None:
    if isinstance(resolver, Mapping):
        return resolver.get(kid)
    return resolver(kid)


def _decode_claims(work: _Work) -> str:
    try:
        work.claims = decode_cwt(cast(CoseSign1, work.cose).payload)
    except CredentialMalformed as exc:
        raise _StepFailed(QR_BAD_CBOR, exc.message) from None
    return f"issuer {work.claims.iss!r}"


def _check_expiry(work: _Work) -> str:
    claims = cast(CwtClaims, work.claims)
    if work.now is None:
        raise _StepSkipped("no validation time given")
    now, leeway = work.now, work.leeway
    for name, start in (("iat", claims.iat), ("nbf", claims.nbf)):
        if start is not None and start > now + leeway:
            raise _StepFailed(QR_NOT_YET_VALID, f"{name} {start} is after the time {now}")
    if claims.exp is not None and now - leeway >= claims.exp:
        raise _StepFailed(QR_EXPIRED, f"expired at {claims.exp}; the time is {now}")
    return "within validity" if claims.exp is not None else "no expiry set"


def _hex(value: bytes | None) -> str:
    return "none" if value is None else value.hex()


_PIPELINE: tuple[tuple[QrStep, Callable[[_Work], str]], ...] = (
    (QrStep.UNPREFIX, _unprefix),
    (QrStep.BASE45, _decode_base45),
    (QrStep.DECOMPRESS, _decompress),
    (QrStep.COSE, _decode_cose),
    (QrStep.VERIFY, _verify),
    (QrStep.CLAIMS, _decode_claims),
    (QrStep.EXPIRY, _check_expiry),
)


# --- EU DCC policy ------------------------------------------------------------------------------

# Extended key usages that limit a DCC signer certificate to certificate types (test, vaccination,
# recovery). The second spelling, with an extra ".0", is what the public DCC test data uses.
_DCC_KEY_USAGE: dict[str, frozenset[str]] = {
    kind: frozenset({f"1.3.6.1.4.1.1847.2021.1.{n}", f"1.3.6.1.4.1.0.1847.2021.1.{n}"})
    for kind, n in (("t", 1), ("v", 2), ("r", 3))
}
_ALL_DCC_USAGES = frozenset().union(*_DCC_KEY_USAGE.values())
# An extendedKeyUsage extension holding an empty list (non-critical, critical). RFC 5280 forbids
# it and ``cryptography`` refuses to parse it, but DCC signers carry it to mean "no restriction".
_EMPTY_EKU = (
    bytes.fromhex("0603551d25" + "04023000"),
    bytes.fromhex("0603551d25" + "0101ff" + "04023000"),
)


def is_dcc_key_usage_allowed(certificate: x509.Certificate, hcert: Mapping[Any, Any]) -> bool:
    """A signer certificate with DCC extended key usages may sign only those certificate types;
    one without any may sign all."""
    try:
        ext = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return True
    except ValueError:  # a malformed extension: only an empty key-usage list is tolerated
        tbs = certificate.tbs_certificate_bytes
        return any(empty in tbs for empty in _EMPTY_EKU)
    usages = {oid.dotted_string for oid in ext.value} & _ALL_DCC_USAGES
    if not usages:
        return True
    kinds = [kind for kind in _DCC_KEY_USAGE if kind in hcert]
    return all(usages & _DCC_KEY_USAGE[kind] for kind in kinds)
