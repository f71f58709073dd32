"""W3C Verifiable Credentials Data Model 2.0: the checks that need no network and no clock.

* :func:`check_credential` — the shape the data model requires: ``@context`` whose first entry is
  ``https://www.w3.org/ns/credentials/v2``, a ``type`` that includes ``VerifiableCredential``, an
  ``issuer`` (a URL string or an object with an ``id``), a ``credentialSubject`` (an object or a
  non-empty list of objects) and, when present, ``validFrom``/``validUntil`` as XML Schema
  ``dateTimeStamp`` strings (a time zone is required), ``validFrom`` not after ``validUntil``.
* :func:`check_validity_window` — ``validFrom <= now <= validUntil``, ``now`` passed in as
  milliseconds since the Unix epoch (the unit of block headers' ``time_ms``).
* :func:`compute_credential_hash` / :func:`compute_credential_id` — SHA-256 of the RFC 8785
  canonical form of the whole secured credential, proof included: what the chain anchors. Plain
  SHA-256 (no domain tag) so that anyone can recompute it with standard tools.

Floats: govchain refuses floating-point numbers anywhere in a credential it hashes or signs (see
:mod:`govchain.credentials.jcs`); write decimal amounts as strings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any

from .errors import CredentialExpired, CredentialMalformed, CredentialNotYetValid
from .jcs import canonicalize

__all__ = [
    "VC_CONTEXT_V2",
    "VERIFIABLE_CREDENTIAL",
    "check_credential",
    "check_validity_window",
    "compute_credential_hash",
    "compute_credential_id",
    "get_credential_types",
    "get_issuer_id",
    "parse_datetime_stamp",
]

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"

_DATETIME_STAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,12})?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _offset_seconds(zone: str) -> int:
    if zone == "Z":
        return 0
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if minutes > 59 or hours > 14 or (hours == 14 and minutes):
        raise ValueError("time zone offset out of range")
    sign = 1 if zone[0] == "+" else -1
    return sign * (hours * 3600 + minutes * 60)


def parse_datetime_stamp(value: Any, *, field: str = "dateTime") -> Fraction:
    """Seconds since the Unix epoch (exact) of an XML Schema ``dateTimeStamp`` string such as
    ``2023-01-01T00:00:00Z`` or ``2023-01-01T08:00:00.5+08:00`` (four-digit years, at most
    twelve fractional digits).

    Raises :class:`CredentialMalformed` naming ``field`` for anything else.
    """
    try:
        if not isinstance(value, str):
            raise ValueError(_STAMP_SHAPE)
        return _parse_stamp(value)
    except ValueError as exc:
        raise CredentialMalformed(
            f"{field} is not an XML Schema dateTimeStamp ({exc}): {str(value)[:40]!r}",
            field=field,
        ) from None


_STAMP_SHAPE = "expected YYYY-MM-DDThh:mm:ss[.fff] followed by Z or +hh:mm"


@lru_cache(maxsize=1024)
def _parse_stamp(value: str) -> Fraction:
    """:func:`parse_datetime_stamp` of a string, or ``ValueError`` saying what is wrong. Cached:
    one verification reads a credential's ``validFrom`` and ``validUntil`` more than once (shape,
    anchor, validity window), and a Fraction is immutable."""
    match = _DATETIME_STAMP.fullmatch(value)
    if match is None:
        raise ValueError(_STAMP_SHAPE)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    digits = (match.group(7) or ".")[1:]
    if not 1 <= month <= 12:
        raise ValueError("month out of range")
    days = _DAYS_IN_MONTH[month - 1] + (month == 2 and _is_leap(year))
    if not 1 <= day <= days:
        raise ValueError("day out of range")
    end_of_day = hour == 24 and minute == 0 and second == 0 and digits.strip("0") == ""
    if not (hour <= 23 or end_of_day) or minute > 59 or second > 59:
        raise ValueError("time of day out of range")
    offset = _offset_seconds(match.group(8))
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    scale = 10 ** len(digits)
    return Fraction((seconds - offset) * scale + int(digits or "0"), scale)


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise CredentialMalformed(f"{field}: {message}", field=field)


def _check_context(vc: Mapping[str, Any]) -> None:
    context = vc.get("@context")
    if not isinstance(context, list) or not context:
        raise CredentialMalformed("@context: must be a non-empty list", field="@context")
    _require(context[0] == VC_CONTEXT_V2, "@context", f"the first entry must be {VC_CONTEXT_V2}")
    for entry in context[1:]:
        _require(isinstance(entry, str | dict), "@context", "entries must be URLs or objects")


def _check_subject(vc: Mapping[str, Any]) -> None:
    subject = vc.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    _require(
        len(subjects) > 0 and all(isinstance(s, dict) and s for s in subjects),
        "credentialSubject",
        "must be a non-empty object or a non-empty list of them",
    )


def get_credential_types(vc: Mapping[str, Any]) -> tuple[str, ...]:
    """The credential's ``type`` values (a string or a list of strings)."""
    types = vc.get("type")
    values = [types] if isinstance(types, str) else types
    if not isinstance(values, list) or not all(isinstance(t, str) and t for t in values):
        raise CredentialMalformed("type: must be a string or a list of strings", field="type")
    return tuple(values)


def get_issuer_id(vc: Mapping[str, Any]) -> str:
    """The issuer's URL: ``issuer`` itself or ``issuer.id``."""
    issuer = vc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    _require(
        isinstance(issuer_id, str) and ":" in issuer_id,
        "issuer",
        "must be a URL or an object whose id is a URL",
    )
    return str(issuer_id)


def _get_window(vc: Mapping[str, Any]) -> tuple[Fraction | None, Fraction | None]:
    start = vc.get("validFrom")
    end = vc.get("validUntil")
    valid_from = None if start is None else parse_datetime_stamp(start, field="validFrom")
    valid_until = None if end is None else parse_datetime_stamp(end, field="validUntil")
    return valid_from, valid_until


def check_credential(vc: Any) -> None:
    """Check the data model's required shape; :class:`CredentialMalformed` names the field."""
    _require(isinstance(vc, Mapping), "credential", "must be a JSON object")
    _check_context(vc)
    _require(
        VERIFIABLE_CREDENTIAL in get_credential_types(vc),
        "type",
        f"must include {VERIFIABLE_CREDENTIAL}",
    )
    get_issuer_id(vc)
    _check_subject(vc)
    if "id" in vc:
        _require(isinstance(vc["id"], str) and ":" in vc["id"], "id", "must be a URL")
    valid_from, valid_until = _get_window(vc)
    if valid_from is not None and valid_until is not None:
        _require(valid_from <= valid_until, "validUntil", "is before validFrom")


def check_validity_window(vc: Mapping[str, Any], now_ms: int) -> None:
    """Raise :class:`CredentialNotYetValid` before ``validFrom`` and :class:`CredentialExpired`
    after ``validUntil`` (both bounds inclusive); ``now_ms`` is milliseconds since the epoch."""
    if isinstance(now_ms, bool) or not isinstance(now_ms, int):
        raise TypeError("now_ms must be an int: milliseconds since the Unix epoch")
    now = Fraction(now_ms, 1000)
    valid_from, valid_until = _get_window(vc)
    if valid_from is not None and now < valid_from:
        raise CredentialNotYetValid(
            f"credential is valid from {vc['validFrom']}", valid_from=vc["validFrom"]
        )
    if valid_until is not None and now > valid_until:
        raise CredentialExpired(
            f"credential expired at {vc['validUntil']}", valid_until=vc["validUntil"]
        )


def compute_credential_hash(vc: Mapping[str, Any]) -> bytes:
    """SHA-256 of the JCS form of the whole (secured) credential; floats are refused."""
    return hashlib.sha256(canonicalize(vc)).digest()


def compute_credential_id(vc: Mapping[str, Any]) -> str:
    """:func:`compute_credential_hash` in lower-case hex: the credential's anchor id on chain."""
    return compute_credential_hash(vc).hex()
