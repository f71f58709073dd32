"""A sample health database for gateways: synthetic test results of enterprises' staff.

The health commission's own system keeps test results; the resumption-of-production service asks
for an enterprise's staff health status through a sharing grant, and a gateway answers from this
layout (one record by key, only the granted columns):

``health_test_results`` — one row per sample (the detail; never served row by row)
    ``id`` integer key · ``subject`` the enterprise (``ent:<unified social credit code>``) ·
    ``staff_ref`` a pseudonymous staff reference (no names, no ID numbers) · ``test_type``
    ``PCR``/``RAT`` · ``result`` ``negative``/``positive`` · ``sampled_on`` date

``health_enterprise_status`` — one row per enterprise, keyed by ``subject`` (what gateways serve)
    ``staff`` · ``tested_7d`` staff tested in the last 7 days · ``negative_7d`` staff with a
    negative test in the last 7 days · ``positive_14d`` staff with a positive test in the last
    14 days · ``as_of`` the day the status was computed

A gateway maps resource e.g. ``health.enterprise-status`` to table ``health_enterprise_status``
with key column ``subject``; :data:`ENTERPRISE_STATUS_QUERY` (parameter ``key`` only) computes the
same row from the detail table, as of today, for gateways that map a query instead. Values are
made up, deterministically from the seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

__all__ = [
    "ENTERPRISE_STATUS_QUERY",
    "create_health_sample_db",
    "enterprise_status_query",
    "enterprise_status_table",
    "health_tables",
    "results_table",
]


def results_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "health_test_results",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(80), nullable=False, index=True),
        sa.Column("staff_ref", sa.String(32), nullable=False),
        sa.Column("test_type", sa.String(8), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("sampled_on", sa.Date, nullable=False),
    )


def enterprise_status_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "health_enterprise_status",
        metadata,
        sa.Column("subject", sa.String(80), primary_key=True),
        sa.Column("staff", sa.Integer, nullable=False),
        sa.Column("tested_7d", sa.Integer, nullable=False),
        sa.Column("negative_7d", sa.Integer, nullable=False),
        sa.Column("positive_14d", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
    )


def health_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The detail and the per-enterprise tables, in ``metadata``."""
    return results_table(metadata), enterprise_status_table(metadata)


_STATUS_SQL = """
SELECT :key AS subject,
       COUNT(DISTINCT staff_ref) AS staff,
       COUNT(DISTINCT CASE WHEN sampled_on >= date({day}, '-6 days')
                           THEN staff_ref END) AS tested_7d,
       COUNT(DISTINCT CASE WHEN sampled_on >= date({day}, '-6 days') AND result = 'negative'
                           THEN staff_ref END) AS negative_7d,
       COUNT(DISTINCT CASE WHEN sampled_on >= date({day}, '-13 days') AND result = 'positive'
                           THEN staff_ref END) AS positive_14d
FROM health_test_results WHERE subject = :key
"""


def enterprise_status_query(as_of: date | None = None) -> str:
    """SQLite SQL of one enterprise's status (``:key`` = its subject) computed from the detail
    table, as of a day (default: today, as a gateway serves it)."""
    day = "'now'" if as_of is None else f"'{as_of.isoformat()}'"  # a date: digits and '-'
    return _STATUS_SQL.format(day=day)


ENTERPRISE_STATUS_QUERY = enterprise_status_query()
"""The gateway's query for resource mappings: only ``:key``, as of today."""


def _staff_ref(subject: str, n: int) -> str:
    return hashlib.sha256(f"staff/{subject}/{n}".encode()).hexdigest()[:16]


def _results(
    rng: random.Random, subject: str, staff: int, days: int, as_of: date
) -> list[dict[str, Any]]:
    rows = []
    for n in range(staff):
        ref = _staff_ref(subject, n)
        for back in range(days):
            if rng.random() < 0.4:  # about two tests a week each
                rows.append(
                    {
                        "subject": subject,
                        "staff_ref": ref,
                        "test_type": rng.choice(("PCR", "RAT")),
                        "result": "positive" if rng.random() < 0.01 else "negative",
                        "sampled_on": as_of - timedelta(days=back),
                    }
                )
    return rows


def _status(subject: str, staff: int, rows: list[dict[str, Any]], as_of: date) -> dict[str, Any]:
    week, fortnight = as_of - timedelta(days=6), as_of - timedelta(days=13)

    def refs(since: date, result: str | None = None) -> set[str]:
        return {
            r["staff_ref"]
            for r in rows
            if r["sampled_on"] >= since and (result is None or r["result"] == result)
        }

    return {
        "subject": subject,
        "staff": staff,
        "tested_7d": len(refs(week)),
        "negative_7d": len(refs(week, "negative")),
        "positive_14d": len(refs(fortnight, "positive")),
        "as_of": as_of,
    }


def create_health_sample_db(
    url: str,
    enterprises: Sequence[str],
    *,
    staff: int = 20,
    days: int = 14,
    as_of: date,
    seed: int = 0,
) -> int:
    """Create the tables at ``url`` (any SQLAlchemy URL, e.g. ``sqlite:///health.db``), replace
    the given enterprises' rows with synthetic ones (``staff`` people each, ``days`` days up to
    ``as_of``) and return how many test results were written."""
    rng = random.Random(seed)
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        results, status = health_tables(metadata)
        metadata.create_all(engine)
        written = 0
        with engine.begin() as conn:
            for subject in enterprises:
                rows = _results(rng, subject, staff, days, as_of)
                conn.execute(sa.delete(results).where(results.c.subject == subject))
                conn.execute(sa.delete(status).where(status.c.subject == subject))
                if rows:
                    conn.execute(sa.insert(results), rows)
                conn.execute(sa.insert(status), [_status(subject, staff, rows, as_of)])
                written += len(rows)
        return written
    finally:
        engine.dispose()
