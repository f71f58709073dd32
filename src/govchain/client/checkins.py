"""A holder's check-ins: venue and time, kept on the holder's device only.

Check-ins are never sent anywhere and never go on chain. They live in one JSON-lines file beside
the holder's wallet (``~/.govchain/checkins.jsonl``; env ``GOVCHAIN_CHECKINS`` or an explicit
path overrides it), readable by its owner only (mode 0600). Entries older than
:data:`RETENTION_DAYS` are dropped whenever the file is written. Exposure matching
(:func:`match_exposures`) is pure and local: the holder downloads the public announcements and
compares them with this file.

>>> store = CheckinStore.open()
>>> store.add("venue:market-42", now_ms)
>>> match_exposures(store.list(), get_exposures(client))
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from govchain.client.wallet import default_wallet_dir
from govchain.contracts.health_records import is_venue_id
from govchain.health.passes import HealthError

__all__ = [
    "CHECKINS_ENV",
    "RETENTION_DAYS",
    "Checkin",
    "CheckinStore",
    "ExposureMatch",
    "default_checkins_path",
    "match_exposures",
]

CHECKINS_ENV = "GOVCHAIN_CHECKINS"
RETENTION_DAYS = 21
_DAY_MS = 86_400_000


class Checkin(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    venue_id: str
    time_ms: int


@dataclass(frozen=True, slots=True)
class ExposureMatch:
    checkin: Checkin
    exposure_id: int
    start_ms: int
    end_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "venue_id": self.checkin.venue_id,
            "checkin_ms": self.checkin.time_ms,
            "exposure_id": self.exposure_id,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
        }


def _order(entry: Checkin) -> tuple[int, str]:
    return entry.time_ms, entry.venue_id


def default_checkins_path() -> Path:
    """Env ``GOVCHAIN_CHECKINS``, else ``checkins.jsonl`` beside the wallet directory."""
    env = os.environ.get(CHECKINS_ENV)
    return Path(env) if env else default_wallet_dir().parent / "checkins.jsonl"


class CheckinStore:
    """The holder's check-ins in one private file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> CheckinStore:
        return cls(path if path is not None else default_checkins_path())

    def list(self, since_ms: int | None = None) -> list[Checkin]:
        """The check-ins in time order (those at or after ``since_ms``)."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HealthError(f"cannot read {self.path}: {exc}", code="CHECKIN_STORE") from None
        try:
            entries = [msgspec.json.decode(line, type=Checkin) for line in lines if line.strip()]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise HealthError(
                f"{self.path} is damaged: {exc}",
                code="CHECKIN_STORE",
                hint="Move the file away; new check-ins start a fresh one.",
            ) from None
        chosen = (e for e in entries if since_ms is None or e.time_ms >= since_ms)
        return sorted(chosen, key=_order)

    def add(self, venue_id: str, time_ms: int) -> Checkin:
        """Record a check-in; entries older than the retention period are dropped."""
        if not is_venue_id(venue_id):
            raise HealthError(
                f"{venue_id[:70]!r} is not a venue id",
                code="CHECKIN_BAD_VENUE",
                hint="Use the id on the venue's poster: lower-case letters, digits, : . _ -",
            )
        entry = Checkin(venue_id, time_ms)
        kept = [e for e in self.list() if e.time_ms >= time_ms - RETENTION_DAYS * _DAY_MS]
        self._save([*kept, entry])
        return entry

    def _save(self, entries: Iterable[Checkin]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = b"".join(msgspec.json.encode(e) + b"\n" for e in sorted(entries, key=_order))
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


def match_exposures(
    checkins: Iterable[Checkin], exposures: Iterable[Mapping[str, Any]]
) -> list[ExposureMatch]:
    """The check-ins at an announced venue inside its window (withdrawn announcements and other
    venues do not match). Pure: nothing leaves the device."""
    by_venue: dict[str, list[Mapping[str, Any]]] = {}
    for exposure in exposures:
        if exposure.get("withdrawn_height") is None:
            by_venue.setdefault(str(exposure["venue_id"]), []).append(exposure)
    return [
        ExposureMatch(c, int(e["id"]), int(e["start_ms"]), int(e["end_ms"]))
        for c in checkins
        for e in by_venue.get(c.venue_id, [])
        if int(e["start_ms"]) <= c.time_ms <= int(e["end_ms"])
    ]
