"""Reading a department's own database (any SQLAlchemy URL: SQLite, PostgreSQL via psycopg 3).

The gateway only ever reads: one record by its key, only the columns asked for. Column names are
checked against the reflected table (or the query's result), never interpolated from a request.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from govchain.errors import ConfigError
from govchain.gateway.config import ResourceMapping
from govchain.gateway.errors import DataSourceError, FieldsNotGranted, UnknownResource

__all__ = ["DataSource"]

log = logging.getLogger("govchain.gateway")


class DataSource:
    """The resources a gateway serves, read from one database."""

    def __init__(self, url: str, mappings: list[ResourceMapping]) -> None:
        try:
            # a server database may restart under the gateway: check pooled connections first
            self.engine = sa.create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        except (SQLAlchemyError, ValueError) as exc:
            raise ConfigError(f"cannot use database URL: {exc}") from exc
        self.mappings = {m.resource_id: m for m in mappings}
        self._tables: dict[str, sa.Table] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.engine.dispose()

    def check(self) -> None:
        """Reflect every mapped table now, so a wrong mapping stops the gateway at start."""
        for mapping in self.mappings.values():
            if mapping.table is not None:
                self._table(mapping)

    def _table(self, mapping: ResourceMapping) -> sa.Table:
        assert mapping.table is not None
        with self._lock:
            table = self._tables.get(mapping.resource_id)
            if table is None:
                schema, _, name = mapping.table.rpartition(".")
                try:
                    table = sa.Table(
                        name, sa.MetaData(), autoload_with=self.engine, schema=schema or None
                    )
                except NoSuchTableError:
                    raise ConfigError(
                        f"resource {mapping.resource_id}: no table {mapping.table!r}"
                    ) from None
                except SQLAlchemyError as exc:
                    raise ConfigError(f"cannot reach the database: {exc}") from exc
                if mapping.key_column not in table.c:
                    raise ConfigError(
                        f"resource {mapping.resource_id}: table {mapping.table} has no column "
                        f"{mapping.key_column!r}"
                    )
                self._tables[mapping.resource_id] = table
            return table

    def get_record(self, resource_id: str, key: str, fields: list[str]) -> dict[str, Any] | None:
        """The ``fields`` of the record whose key is ``key``, or None when there is none."""
        mapping = self.mappings.get(resource_id)
        if mapping is None:
            raise UnknownResource(f"this gateway does not serve resource {resource_id!r}")
        unserved = [f for f in fields if mapping.columns is not None and f not in mapping.columns]
        if unserved:
            raise FieldsNotGranted(f"this gateway does not serve {', '.join(unserved)}")
        try:
            if mapping.table is not None:
                return self._from_table(mapping, key, fields)
            return self._from_query(mapping, key, fields)
        except SQLAlchemyError as exc:
            log.error("database error on resource %s: %s", resource_id, type(exc).__name__)
            raise DataSourceError(f"the database failed to answer for {resource_id}") from exc

    def _from_table(
        self, mapping: ResourceMapping, key: str, fields: list[str]
    ) -> dict[str, Any] | None:
        table = self._table(mapping)
        missing = [f for f in fields if f not in table.c]
        if missing:
            raise FieldsNotGranted(
                f"resource {mapping.resource_id} has no field {', '.join(missing)}"
            )
        key_col = table.c[mapping.key_column]
        query = sa.select(*(table.c[f] for f in fields)).where(key_col == key).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return None if row is None else {f: row[f] for f in fields}

    def _from_query(
        self, mapping: ResourceMapping, key: str, fields: list[str]
    ) -> dict[str, Any] | None:
        assert mapping.query is not None
        with self.engine.connect() as conn:
            row = conn.execute(sa.text(mapping.query), {"key": key}).mappings().first()
        if row is None:
            return None
        missing = [f for f in fields if f not in row]
        if missing:
            raise FieldsNotGranted(
                f"resource {mapping.resource_id} has no field {', '.join(missing)}"
            )
        return {f: row[f] for f in fields}
