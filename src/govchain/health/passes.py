"""Health passes: the minimised claims of a test-result or vaccination credential, in the compact
QR container of :mod:`govchain.credentials.qr` (``HC1:`` + Base45(zlib(COSE_Sign1(CWT)))).

A pass carries only what a venue checks (pure; times are passed in):

========  ==========================================================================
``iss``   the issuing organisation's DID (the health commission)
``sub``   a pseudonymous holder reference, different for every pass:
          hex of the first 8 bytes of SHA-256("govchain/health/holder/v1" ‖ 0 ‖
          holder DID ‖ 0 ‖ credential hash); the holder proves it by showing the VC
``nbf``   the credential's ``validFrom``; ``exp`` its ``validUntil``; ``iat`` issuance
claims    ``type``, ``hash`` (the credential's anchor id), ``idx`` (its status index),
          then ``result``, ``tt`` (test type), ``sc`` (sample time, seconds) of a test,
          or ``dn``/``sd`` (dose number, of doses), ``dt`` (date), ``mp`` (product) of
          a vaccination; ``nam`` (a name) only if the holder chooses
========  ==========================================================================

The COSE key id is the signing member's verification method ``<member DID>#key-N``, as for any
compact credential of the certificates stack.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govchain.credentials.cose import CoseSigningKey, CwtClaims
from govchain.credentials.qr import encode_qr_payload
from govchain.credentials.vc import compute_credential_id, parse_datetime_stamp
from govchain.errors import GovchainError
from govchain.health.schemas import TEST_RESULT, TEST_RESULTS, TEST_TYPES, VACCINATION

__all__ = [
    "PASS_BAD_CLAIMS",
    "HealthError",
    "HealthPass",
    "build_pass_claims",
    "compute_holder_ref",
    "encode_health_pass",
    "parse_pass_claims",
]

PASS_BAD_CLAIMS = "PASS_BAD_CLAIMS"
_HOLDER_TAG = b"govchain/health/holder/v1"


class HealthError(GovchainError):
    """A health pass, venue kit or check-in store refused, with a stable code."""

    code = "HEALTH_ERROR"
    status = 400
    title = "Health pass refused"
    default_hint = "Read the reason; ask the holder for a new pass or download a new venue kit."

    def __init__(self, message: str, *, code: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class HealthPass:
    """The claims of a verified pass, typed."""

    credential_type: str
    credential_hash: str
    status_index: int
    holder_ref: str
    issuer: str
    not_before: int | None
    expires: int | None
    result: str | None = None
    test_type: str | None = None
    sample_time: int | None = None
    dose_number: int | None = None
    total_doses: int | None = None
    vaccination_date: str | None = None
    product: str | None = None
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


def compute_holder_ref(holder_did: str, credential_hash: str) -> str:
    """The pass's pseudonymous holder reference (16 hex digits)."""
    data = b"\x00".join((_HOLDER_TAG, holder_did.encode(), credential_hash.encode()))
    return hashlib.sha256(data).digest()[:8].hex()


def _seconds(stamp: Any, name: str) -> int | None:
    return None if stamp is None else int(parse_datetime_stamp(stamp, field=name))


def _status_index(vc: Mapping[str, Any]) -> int:
    entries = vc.get("credentialStatus")
    first = entries[0] if isinstance(entries, list) and entries else entries
    if not isinstance(first, Mapping):
        raise HealthError("the credential has no credentialStatus", code=PASS_BAD_CLAIMS)
    return int(first["statusListIndex"])


def _type_claims(credential_type: str, subject: Mapping[str, Any]) -> dict[str, Any]:
    if credential_type == TEST_RESULT:
        return {
            "result": subject["result"],
            "tt": subject["testType"],
            "sc": _seconds(subject["sampleTime"], "sampleTime"),
        }
    if credential_type == VACCINATION:
        return {
            "dn": subject["doseNumber"],
            "sd": subject["totalDoses"],
            "dt": subject["date"],
            "mp": subject["product"],
        }
    raise HealthError(f"{credential_type!r} is not a health pass type", code=PASS_BAD_CLAIMS)


def build_pass_claims(vc: Mapping[str, Any], *, iat: int, include_name: bool = False) -> CwtClaims:
    """The minimised CWT claims of a health credential's pass."""
    types = [t for t in vc.get("type", []) if t != "VerifiableCredential"]
    subject = vc.get("credentialSubject")
    if len(types) != 1 or not isinstance(subject, Mapping):
        raise HealthError("not a health credential", code=PASS_BAD_CLAIMS)
    digest = compute_credential_id(vc)
    claims: dict[str, Any] = {
        "v": 1,
        "type": types[0],
        "hash": digest,
        "idx": _status_index(vc),
        **_type_claims(types[0], subject),
    }
    if include_name and subject.get("name"):
        claims["nam"] = subject["name"]
    issuer = vc.get("issuer")
    return CwtClaims(
        iss=issuer if isinstance(issuer, str) else None,
        sub=compute_holder_ref(str(subject.get("id", "")), digest),
        iat=iat,
        nbf=_seconds(vc.get("validFrom"), "validFrom"),
        exp=_seconds(vc.get("validUntil"), "validUntil"),
        claims=claims,
    )


def encode_health_pass(
    vc: Mapping[str, Any], signer: CoseSigningKey, *, iat: int, include_name: bool = False
) -> str:
    """The QR text of a health credential's pass, signed (COSE EdDSA) by the key that signed the
    credential; the key id is the credential's verification method."""
    proof = vc.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str):
        raise HealthError("the credential names no verification method", code=PASS_BAD_CLAIMS)
    claims = build_pass_claims(vc, iat=iat, include_name=include_name)
    return encode_qr_payload(claims, signer, method.encode("utf-8"))


def _get(claims: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = claims.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise HealthError(f"claim {key!r} is missing or of the wrong type", code=PASS_BAD_CLAIMS)
    return value


def _typed_fields(kind: str, c: Mapping[str, Any]) -> dict[str, Any]:
    if kind == TEST_RESULT:
        result, test_type = _get(c, "result", str), _get(c, "tt", str)
        if result not in TEST_RESULTS or test_type not in TEST_TYPES:
            raise HealthError("unknown test result or test type", code=PASS_BAD_CLAIMS)
        return {"result": result, "test_type": test_type, "sample_time": _get(c, "sc", int)}
    if kind == VACCINATION:
        dose, of = _get(c, "dn", int), _get(c, "sd", int)
        if not 1 <= dose <= 9 or not 1 <= of <= 9:
            raise HealthError("dose numbers must be 1..9", code=PASS_BAD_CLAIMS)
        return {
            "dose_number": dose,
            "total_doses": of,
            "vaccination_date": _get(c, "dt", str),
            "product": _get(c, "mp", str),
        }
    raise HealthError(f"{kind[:40]!r} is not a health pass type", code=PASS_BAD_CLAIMS)


def parse_pass_claims(claims: CwtClaims) -> HealthPass:
    """The typed pass of verified CWT claims; :class:`HealthError` (``PASS_BAD_CLAIMS``) when
    they are not a health pass."""
    c = claims.claims
    if c is None or c.get("v") != 1 or claims.iss is None or claims.sub is None:
        raise HealthError("not a version-1 health pass", code=PASS_BAD_CLAIMS)
    kind = _get(c, "type", str)
    name = c.get("nam")
    return HealthPass(
        credential_type=kind,
        credential_hash=_get(c, "hash", str),
        status_index=_get(c, "idx", int),
        holder_ref=claims.sub,
        issuer=claims.iss,
        not_before=claims.nbf,
        expires=claims.exp,
        name=name if isinstance(name, str) else None,
        **_typed_fields(kind, c),
    )
