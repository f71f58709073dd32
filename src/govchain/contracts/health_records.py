"""Records, arguments and rules of the ``health`` contract (pure).

Anonymised aggregates are counts per district per day; a count from 1 to ``K_ANONYMITY - 1`` is
never published: the SDK turns it into ``None`` ("<k", suppressed) before signing, and the
contract refuses a transaction that carries one (``HEALTH_BELOW_K``), because a transaction's
arguments stay in its block for ever. Zero and counts of at least ``K_ANONYMITY`` are published
as they are.
"""

from __future__ import annotations

import re

import msgspec

__all__ = [
    "AGGREGATE_KIND",
    "AGGREGATE_ROLES",
    "EXPOSURE_KIND",
    "K_ANONYMITY",
    "MAX_EXPOSURE_WINDOW_MS",
    "NAME",
    "AggregateArgs",
    "AggregateQuery",
    "AggregateRecord",
    "DayArgs",
    "ExposureArgs",
    "ExposureIdArgs",
    "ExposureQuery",
    "ExposureRecord",
    "WithdrawExposureArgs",
    "aggregate_key",
    "exposure_key",
    "is_district",
    "is_venue_id",
    "parse_day",
    "suppress_below_k",
]

NAME = "health"
K_ANONYMITY = 5  # counts 1..4 are published as "<5" (None)
AGGREGATE_KIND = "HealthAggregate"  # the accreditation governance grants for aggregates
EXPOSURE_KIND = "ExposureNotice"  # ... and for exposure announcements
AGGREGATE_ROLES = ("issuer", "officer")
MAX_EXPOSURE_WINDOW_MS = 14 * 24 * 3600 * 1000
MAX_LIST = 1000

_DISTRICT = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
_VENUE = re.compile(r"^[a-z0-9][a-z0-9:._-]{0,63}$")
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


class AggregateArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str  # the publishing organisation (the health commission)
    district: str
    day: str  # YYYY-MM-DD (UTC)
    tests: int | None  # None: 1..k-1, suppressed
    positives: int | None
    vaccinations: int | None


class AggregateRecord(msgspec.Struct, frozen=True):
    district: str
    day: str
    tests: int | None
    positives: int | None
    vaccinations: int | None
    k: int
    org: str
    publisher: str  # the member that signed
    height: int
    time_ms: int
    revision: int = 1


class DayArgs(msgspec.Struct, forbid_unknown_fields=True):
    district: str
    day: str


class AggregateQuery(msgspec.Struct, forbid_unknown_fields=True):
    district: str | None = None
    since: str | None = None  # first day, inclusive
    until: str | None = None  # last day, inclusive
    limit: int = MAX_LIST


class ExposureArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    venue_id: str
    start_ms: int
    end_ms: int


class ExposureRecord(msgspec.Struct, frozen=True):
    id: int
    venue_id: str
    start_ms: int
    end_ms: int
    org: str
    publisher: str
    height: int
    time_ms: int
    withdrawn_height: int | None = None


class ExposureIdArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: int


class WithdrawExposureArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    id: int


class ExposureQuery(msgspec.Struct, forbid_unknown_fields=True):
    venue_id: str | None = None
    since_ms: int | None = None  # windows ending at or after this time
    include_withdrawn: bool = False
    limit: int = MAX_LIST


def is_district(value: str) -> bool:
    return bool(_DISTRICT.fullmatch(value))


def is_venue_id(value: str) -> bool:
    return bool(_VENUE.fullmatch(value))


def parse_day(value: str) -> int | None:
    """The UTC start of day ``YYYY-MM-DD`` in milliseconds, or None if it is not a date."""
    match = _DAY.fullmatch(value)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1970 <= year <= 9999 and 1 <= month <= 12):
        return None
    lengths = (31, 29 if _is_leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not 1 <= day <= lengths[month - 1]:
        return None
    return _days_from_civil(year, month, day) * 86_400_000


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 (H. Hinnant's algorithm; no clock, no datetime)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def suppress_below_k(count: int, k: int = K_ANONYMITY) -> int | None:
    """The count as published: ``None`` ("<k") for 1..k-1, else itself."""
    return None if 0 < count < k else count


def aggregate_key(district: str, day: str) -> str:
    return f"aggregate/{district}/{day}"


def exposure_key(exposure_id: int) -> str:
    return f"exposure/{exposure_id:012d}"
