"""A gateway's configuration: which catalogue resources it serves from which tables or queries.

Given on the command line (``--resource RESOURCE_ID=TABLE[:KEY_COLUMN]``) or as a JSON file::

    {
      "db": "postgresql+psycopg://gw@db.internal/market",
      "node": "http://node0.internal:8700",
      "key": "/etc/govchain/gateway.key",
      "journal": "/var/lib/govchain/gateway-journal.db",
      "resources": [
        {"resource_id": "business-licences", "table": "licences", "key_column": "holder"},
        {"resource_id": "licence-counts", "key_column": "district",
         "query": "SELECT district, count(*) AS licences FROM licences WHERE district = :key"}
      ]
    }

A ``query`` takes the record key as the bound parameter ``:key``; its result columns are the
fields. ``columns`` (optional) lists the only columns a mapping may ever serve.
"""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from govchain.contracts.sharing_state import MAX_BATCH
from govchain.errors import ConfigError

__all__ = ["GatewayConfig", "ResourceMapping", "load_gateway_config", "parse_resource_spec"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class ResourceMapping(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    resource_id: str
    table: str | None = None
    key_column: str = "id"
    query: str | None = None  # SQL with the bound parameter :key
    columns: list[str] | None = None  # the only columns this mapping may serve (default: all)

    def check(self) -> None:
        if (self.table is None) == (self.query is None):
            raise ConfigError(f"resource {self.resource_id}: give either a table or a query")
        for name in (self.table, self.key_column, *(self.columns or ())):
            if name is not None and not _IDENT.fullmatch(name):
                raise ConfigError(f"resource {self.resource_id}: {name!r} is not a SQL name")
        if self.query is not None and ":key" not in self.query:
            raise ConfigError(f"resource {self.resource_id}: the query must use :key")


class GatewayConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    db: str  # an SQLAlchemy URL
    node: str  # the node's API URL
    key: str  # the gateway's key file (a member key of the owning organisation)
    resources: list[ResourceMapping]
    journal: str = "gateway-journal.db"
    host: str = "127.0.0.1"
    port: int = 8800
    batch_size: int = 100  # anchor when this many receipts are ready (at most 500) ...
    flush_ms: int = 1000  # ... or when the oldest ready receipt has waited this long
    max_outstanding: int = 100  # receipts a requester's key may leave without counter-signing
    auth_window_ms: int = 30_000  # accepted clock skew of signed requests
    cache_ms: int = 1000  # longest a proven grant or key is reused (and never past a new block)

    def check(self) -> None:
        if not self.resources:
            raise ConfigError("a gateway serves at least one resource")
        ids = [r.resource_id for r in self.resources]
        if len(set(ids)) != len(ids):
            raise ConfigError("a resource is mapped twice")
        for mapping in self.resources:
            mapping.check()
        for name in ("batch_size", "flush_ms", "max_outstanding", "auth_window_ms"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive")
        if self.batch_size > MAX_BATCH:
            raise ConfigError(f"batch_size is at most {MAX_BATCH} (one anchoring transaction)")

    def mapping(self, resource_id: str) -> ResourceMapping | None:
        return next((r for r in self.resources if r.resource_id == resource_id), None)


def parse_resource_spec(spec: str) -> ResourceMapping:
    """``RESOURCE_ID=TABLE[:KEY_COLUMN]`` (key column ``id`` when not given)."""
    resource_id, sep, target = spec.partition("=")
    table, _, key_column = target.partition(":")
    if not sep or not resource_id or not table:
        raise ConfigError(
            f"--resource {spec!r} is not RESOURCE_ID=TABLE[:KEY_COLUMN]",
            hint="For example --resource business-licences=licences:holder.",
        )
    mapping = ResourceMapping(resource_id, table=table, key_column=key_column or "id")
    mapping.check()
    return mapping


def load_gateway_config(path: Path) -> GatewayConfig:
    try:
        config = msgspec.json.decode(path.read_bytes(), type=GatewayConfig)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"cannot read gateway config {path}: {exc}") from exc
    config.check()
    return config
