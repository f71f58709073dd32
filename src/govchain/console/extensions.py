"""Page models of services that not every node or chain has: the data catalogue, registered
service definitions and multi-node finality. Each reader looks for what it needs (a contract's
view, a node attribute) and answers an empty state when it is not there, so the console adapts to
the contracts and runtime a node actually runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govchain.app import Application
from govchain.encoding import to_builtins
from govchain.types.finality import compute_quorum

__all__ = [
    "CATALOG_VIEW",
    "CatalogTable",
    "FinalityStatus",
    "ServiceRow",
    "get_catalog",
    "get_finality",
    "list_services",
]

# The catalogue contract's search view (text filter, limit) and the columns shown of its
# records, in this order, when the records have them.
CATALOG_VIEW = "search"
CATALOG_LIMIT = 200
CATALOG_COLUMNS = (
    "id",
    "name",
    "name_zh",
    "org",
    "responsibility",
    "sharing",
    "classification",
    "update_frequency",
    "version",
)


@dataclass(frozen=True, slots=True)
class CatalogTable:
    available: bool  # the chain runs a catalogue contract with a listing view
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    id: str
    status: str
    version: str
    title: str
    definition_hash: str
    registered_height: int
    versions: int


@dataclass(frozen=True, slots=True)
class FinalityStatus:
    finalized_height: int
    peers: int  # the founding organisations' peers, whose quorum certifies blocks
    quorum: int
    diverged_at: int | None = None  # the height where this peer disagrees with the quorum


def _has_view(app: Application, contract: str, view: str) -> bool:
    return any(c.name == contract and view in c.views for c in app.registry)


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return "" if value is None else str(value)


def get_catalog(app: Application, text: str = "") -> CatalogTable:
    """The data catalogue's resources (metadata only) whose text matches, if the chain has a
    catalogue."""
    if not _has_view(app, "catalog", CATALOG_VIEW):
        return CatalogTable(False, [], [])
    args = {"text": text, "limit": CATALOG_LIMIT}
    records = to_builtins(app.query("catalog", CATALOG_VIEW, args))
    items = [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
    columns = [c for c in CATALOG_COLUMNS if any(c in r for r in items)]
    rows = [[_cell(r.get(c)) for c in columns] for r in items]
    return CatalogTable(True, columns, rows)


def list_services(app: Application) -> list[ServiceRow]:
    """The service definitions governance registered, with their latest version."""
    if not _has_view(app, "governance", "services"):
        return []
    rows = []
    for record in app.query("governance", "services", {}):
        latest = record.versions[-1] if record.versions else None
        rows.append(
            ServiceRow(
                record.id,
                record.status,
                latest.version if latest else "",
                latest.title if latest else "",
                latest.definition_hash.hex() if latest else "",
                latest.registered_height if latest else 0,
                len(record.versions),
            )
        )
    return sorted(rows, key=lambda r: r.id)


def get_finality(node: Any) -> FinalityStatus | None:
    """The node's finality, when its runtime tracks it (a multi-node peer: ``node.peer`` with a
    ``finalized_height``); None for a single node, whose committed blocks are final."""
    peer = getattr(node, "peer", None)
    height = getattr(peer, "finalized_height", None)
    if not isinstance(height, int):
        return None
    divergence = getattr(peer, "divergence", None)
    diverged_at = getattr(divergence, "height", None)
    peers = len(node.genesis.nodes)
    return FinalityStatus(
        height,
        peers,
        compute_quorum(peers) if peers else 0,
        diverged_at if isinstance(diverged_at, int) else None,
    )
