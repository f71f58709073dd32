"""A sample departmental database for demonstrations and tests (``govchain gateway init-db``).

Two tables keyed by the enterprise's identity id (``ent:<unified social credit code>``):
``enterprises`` (a market regulator's register) and ``taxpayers`` (a tax bureau's ledger).
Rows are made up, deterministically from the key, so every run fills the same values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

__all__ = ["SAMPLE_TABLES", "create_sample_db", "sample_row"]

_NAMES = ("Haitong Marine", "Ningbo Lighthouse Foods", "Yongjiang Tools", "Siming Textiles")
_STATUS = ("active", "active", "suspended", "deregistered")


def _tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    enterprises = sa.Table(
        "enterprises",
        metadata,
        sa.Column("subject", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("registered_capital", sa.Numeric(16, 2), nullable=False),
        sa.Column("legal_representative", sa.String(100), nullable=False),
        sa.Column("registered_on", sa.Date, nullable=False),
    )
    taxpayers = sa.Table(
        "taxpayers",
        metadata,
        sa.Column("subject", sa.String(80), primary_key=True),
        sa.Column("tax_status", sa.String(20), nullable=False),
        sa.Column("arrears", sa.Numeric(16, 2), nullable=False),
        sa.Column("credit_rating", sa.String(2), nullable=False),
        sa.Column("last_filing", sa.Date, nullable=False),
    )
    return {"enterprises": enterprises, "taxpayers": taxpayers}


SAMPLE_TABLES = ("enterprises", "taxpayers")


def sample_row(table: str, subject: str) -> dict[str, object]:
    """The made-up row of ``subject`` in ``table``."""
    n = int.from_bytes(hashlib.sha256(f"{table}/{subject}".encode()).digest()[:8], "big")
    if table == "enterprises":
        return {
            "subject": subject,
            "name": f"{_NAMES[n % len(_NAMES)]} Co. {n % 9973}",
            "status": _STATUS[n % len(_STATUS)],
            "registered_capital": Decimal(n % 10**9) / 100,
            "legal_representative": f"Representative {n % 7919}",
            "registered_on": date(2000 + n % 24, 1 + n % 12, 1 + n % 28),
        }
    return {
        "subject": subject,
        "tax_status": ("normal", "normal", "arrears")[n % 3],
        "arrears": Decimal(n % 10**7) / 100,
        "credit_rating": ("A", "B", "M", "C", "D")[n % 5],
        "last_filing": date(2024 + n % 2, 1 + n % 12, 1 + n % 28),
    }


def create_sample_db(url: str, table: str, subjects: Iterable[str]) -> int:
    """Create ``table`` in the database at ``url`` (if missing) and upsert the subjects' rows;
    how many rows were written."""
    engine = sa.create_engine(url)
    try:
        target = _tables(sa.MetaData())[table]
        target.create(engine, checkfirst=True)
        rows = [sample_row(table, s) for s in subjects]
        with engine.begin() as conn:
            for row in rows:
                conn.execute(sa.delete(target).where(target.c.subject == row["subject"]))
            if rows:
                conn.execute(sa.insert(target), rows)
        return len(rows)
    finally:
        engine.dispose()
