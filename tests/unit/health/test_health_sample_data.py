"""The sample health database gateways serve: layout, determinism, the per-enterprise status
agreeing with the query computed from the detail table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from govchain.health.sample_data import (
    ENTERPRISE_STATUS_QUERY,
    create_health_sample_db,
    enterprise_status_query,
)

AS_OF = date(2026, 11, 28)
ENTERPRISES = ["ent:91330200MA2GXXXX1X", "ent:91330200MA2GYYYY2Y"]


def _rows(url: str, sql: str, **params: object) -> list[dict[str, object]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]
    finally:
        engine.dispose()


def test_the_database_is_filled_deterministically(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    counts = [create_health_sample_db(u, ENTERPRISES, as_of=AS_OF, seed=3) for u in urls]
    assert counts[0] == counts[1] > 0
    query = "SELECT * FROM health_test_results ORDER BY id"
    assert _rows(urls[0], query) == _rows(urls[1], query)
    assert create_health_sample_db(urls[0], ENTERPRISES[:1], as_of=AS_OF, seed=3) > 0
    status = _rows(urls[0], "SELECT subject FROM health_enterprise_status ORDER BY subject")
    assert [r["subject"] for r in status] == sorted(ENTERPRISES)


def test_no_names_and_the_status_matches_the_query(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    create_health_sample_db(url, ENTERPRISES, staff=30, as_of=AS_OF)
    columns = {r["name"] for r in _rows(url, "PRAGMA table_info(health_test_results)")}
    assert columns == {"id", "subject", "staff_ref", "test_type", "result", "sampled_on"}
    for subject in ENTERPRISES:
        (stored,) = _rows(
            url,
            "SELECT subject, staff, tested_7d, negative_7d, positive_14d "
            "FROM health_enterprise_status WHERE subject = :key",
            key=subject,
        )
        (computed,) = _rows(url, enterprise_status_query(AS_OF), key=subject)
        assert stored == computed
        assert stored["staff"] == 30 and 0 < stored["tested_7d"] <= 30


def test_the_gateway_query_takes_only_the_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    create_health_sample_db(url, ENTERPRISES, staff=5, as_of=datetime.now(UTC).date())
    (row,) = _rows(url, ENTERPRISE_STATUS_QUERY, key=ENTERPRISES[0])
    assert row["subject"] == ENTERPRISES[0] and row["staff"] == 5
