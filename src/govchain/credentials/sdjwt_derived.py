"""Derived claims for government credentials: prove "over 18" or "licence valid", nothing more.

The issuer computes the answer and includes it as a claim of its own, selectively disclosable
apart from everything else (``age_over_18: true``, ``licence_valid: true``), next to the full
claims. The holder reveals only that claim; the verifier learns the boolean, signed by the issuer
and bound to the holder's key, and neither the birth date nor the licence.

A derived claim is true as of issuance (``on``): keep the SD-JWT's ``exp`` short, no later than
the licence's end, and check revocation through the credential's status. Dates are ISO
``YYYY-MM-DD`` strings; nothing here reads a clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from govchain.crypto.signing import KeyPair

from .sdjwt import NEVER_DISCLOSABLE, issue_sd_jwt
from .sdjwt_errors import SdJwtInvalidInput

__all__ = [
    "compute_derived_claims",
    "is_age_over",
    "is_within_period",
    "issue_with_derived_claims",
]

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def is_age_over(birthdate: str, years: int, *, on: str) -> bool:
    """Whether someone born on ``birthdate`` is at least ``years`` old on ``on`` (ISO dates).

    Someone born on 29 February turns a year older on 1 March in common years.
    """
    born, today = _parse_date(birthdate), _parse_date(on)
    return (born[0] + years, born[1], born[2]) <= today


def is_within_period(valid_from: str | None, valid_until: str | None, *, on: str) -> bool:
    """Whether ``on`` falls within ``[valid_from, valid_until]`` (ISO dates, both inclusive)."""
    today = _parse_date(on)
    after_start = valid_from is None or _parse_date(valid_from) <= today
    return after_start and (valid_until is None or today <= _parse_date(valid_until))


def compute_derived_claims(
    claims: Mapping[str, Any],
    *,
    on: str,
    age_thresholds: Iterable[int] = (18,),
    birthdate_claim: str = "birthdate",
    licence_period: tuple[str | None, str | None] | None = None,
) -> dict[str, bool]:
    """``age_over_<n>`` from the birth date and ``licence_valid`` from the licence's period."""
    derived: dict[str, bool] = {}
    thresholds = list(age_thresholds)
    if thresholds:
        birthdate = claims.get(birthdate_claim)
        if not isinstance(birthdate, str):
            raise SdJwtInvalidInput(f"claim {birthdate_claim!r} must hold an ISO date")
        for years in thresholds:
            derived[f"age_over_{years}"] = is_age_over(birthdate, years, on=on)
    if licence_period is not None:
        derived["licence_valid"] = is_within_period(*licence_period, on=on)
    return derived


def issue_with_derived_claims(
    claims: Mapping[str, Any],
    *,
    on: str,
    issuer_key: KeyPair,
    kid: str,
    holder_public_jwk: Mapping[str, Any],
    salt: Callable[[], bytes],
    iat: int,
    exp: int,
    always_visible: Iterable[str] = ("iss", "vct"),
    age_thresholds: Iterable[int] = (18,),
    birthdate_claim: str = "birthdate",
    licence_period: tuple[str | None, str | None] | None = None,
    hash_alg: str = "sha-256",
    decoys: int = 0,
) -> str:
    """Issue the full claims plus the derived booleans, every top-level claim disclosable alone.

    A holder can then reveal ``age_over_18`` or ``licence_valid`` and nothing else.
    """
    derived = compute_derived_claims(
        claims,
        on=on,
        age_thresholds=age_thresholds,
        birthdate_claim=birthdate_claim,
        licence_period=licence_period,
    )
    clash = set(derived) & set(claims)
    if clash:
        raise SdJwtInvalidInput(f"claims already contain derived claims {sorted(clash)}")
    merged = {**claims, **derived}
    visible = set(always_visible) | NEVER_DISCLOSABLE
    return issue_sd_jwt(
        merged,
        disclosable={(name,) for name in merged if name not in visible},
        issuer_key=issuer_key,
        kid=kid,
        holder_public_jwk=holder_public_jwk,
        salt=salt,
        iat=iat,
        exp=exp,
        hash_alg=hash_alg,
        decoys=decoys,
    )


def _parse_date(text: str) -> tuple[int, int, int]:
    match = _DATE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise SdJwtInvalidInput(f"{text!r} is not an ISO date (YYYY-MM-DD)")
    year, month, day = (int(g) for g in match.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (1 <= month <= 12 and 1 <= day <= days[month - 1]):
        raise SdJwtInvalidInput(f"{text!r} is not a calendar date")
    return year, month, day
