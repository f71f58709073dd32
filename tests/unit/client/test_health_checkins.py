"""The holder's check-in store and the local exposure matching."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from govchain.client.checkins import (
    CHECKINS_ENV,
    RETENTION_DAYS,
    Checkin,
    CheckinStore,
    default_checkins_path,
    match_exposures,
)
from govchain.health.passes import HealthError

DAY = 86_400_000
T0 = 1_700_000_000_000


def test_check_ins_are_kept_in_order_in_a_private_file(tmp_path: Path) -> None:
    store = CheckinStore.open(tmp_path / "holder" / "checkins.jsonl")
    store.add("gym-7", T0 + 2)
    store.add("venue:market-42", T0 + 1)
    assert store.list() == [Checkin("venue:market-42", T0 + 1), Checkin("gym-7", T0 + 2)]
    assert store.list(since_ms=T0 + 2) == [Checkin("gym-7", T0 + 2)]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_old_check_ins_are_dropped_when_writing(tmp_path: Path) -> None:
    store = CheckinStore.open(tmp_path / "c.jsonl")
    store.add("old-venue", T0)
    store.add("new-venue", T0 + (RETENTION_DAYS + 1) * DAY)
    assert [c.venue_id for c in store.list()] == ["new-venue"]


def test_a_bad_venue_id_and_a_damaged_file_are_refused(tmp_path: Path) -> None:
    store = CheckinStore.open(tmp_path / "c.jsonl")
    with pytest.raises(HealthError) as caught:
        store.add("Market 42", T0)
    assert caught.value.code == "CHECKIN_BAD_VENUE"
    store.path.write_text("not json\n")
    with pytest.raises(HealthError) as damaged:
        store.list()
    assert damaged.value.code == "CHECKIN_STORE"


def test_no_file_means_no_check_ins(tmp_path: Path) -> None:
    assert CheckinStore.open(tmp_path / "missing.jsonl").list() == []


def test_the_default_path_is_beside_the_wallet(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CHECKINS_ENV, raising=False)
    monkeypatch.setenv("GOVCHAIN_WALLET", str(tmp_path / "wallet"))
    assert default_checkins_path() == tmp_path / "checkins.jsonl"
    monkeypatch.setenv(CHECKINS_ENV, str(tmp_path / "x.jsonl"))
    assert default_checkins_path() == tmp_path / "x.jsonl"


def _exposure(
    exposure_id: int, venue: str, start: int, end: int, withdrawn: int | None = None
) -> dict[str, object]:
    return {
        "id": exposure_id,
        "venue_id": venue,
        "start_ms": start,
        "end_ms": end,
        "withdrawn_height": withdrawn,
    }


def test_matching_needs_the_same_venue_inside_the_window() -> None:
    checkins = [Checkin("a", T0), Checkin("b", T0), Checkin("a", T0 + 10 * DAY)]
    exposures = [
        _exposure(1, "a", T0 - 1, T0 + 1),
        _exposure(2, "b", T0 + 1, T0 + 2),
        _exposure(3, "a", T0 + 9 * DAY, T0 + 10 * DAY),
        _exposure(4, "b", T0 - 1, T0 + 1, withdrawn=7),
    ]
    matches = match_exposures(checkins, exposures)
    assert [(m.checkin.venue_id, m.exposure_id) for m in matches] == [("a", 1), ("a", 3)]
    assert matches[0].to_json()["checkin_ms"] == T0
    assert match_exposures([], exposures) == []
