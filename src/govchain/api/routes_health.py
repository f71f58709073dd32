"""Epidemic-control routes. All public: aggregates are anonymised (small counts suppressed on
chain), exposure announcements name a venue and a time window only, and a venue kit holds keys,
accreditations and status flags — nothing personal.

    GET /v1/health/venue-kit/{org}                  a venue kit (signed header + state proofs)
    GET /v1/health/aggregates?district=&since=&until=&limit=
    GET /v1/health/aggregates/{district}/{day}      one district's counts of one day
    GET /v1/health/exposures?venue_id=&since_ms=&include_withdrawn=&limit=

A venue checks a kit itself (:func:`govchain.health.venue.load_kit`) against the chain's genesis
hash; the aggregate and exposure answers are the node's word at ``height`` (for a proven value,
read its state key with ``GET /v1/state/{key}``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import get
from litestar.params import FromPath, FromQuery

from govchain.api.auth import PUBLIC
from govchain.encoding import to_builtins
from govchain.health.kit_builder import build_venue_kit
from govchain.node.runtime import Node

__all__ = ["health_routes"]


def health_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    app_ = node.app

    def _query(view: str, args: dict[str, Any]) -> dict[str, Any]:
        height = app_.info().height
        found = app_.query("health", view, {k: v for k, v in args.items() if v is not None})
        return {"height": height, "items": to_builtins(found)}

    @get(
        "/v1/health/venue-kit/{org:str}",
        summary="A venue kit: trust anchor, the health commission's keys, accreditations and "
        "revocation snapshot, with state proofs against one signed header",
        description="Check it offline with `govchain health check --kit`. Errors: "
        "HEALTH_UNKNOWN_ORG (404).",
        opt=PUBLIC,
    )
    async def venue_kit(org: FromPath[str]) -> dict[str, Any]:
        kit = await asyncio.to_thread(build_venue_kit, app_, org)
        return to_builtins(kit)  # type: ignore[no-any-return]

    @get(
        "/v1/health/aggregates",
        summary="Anonymised counts per district per day (counts 1..k-1 are null, shown <k)",
        opt=PUBLIC,
    )
    async def aggregates(
        district: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        limit: FromQuery[int] = 1000,
    ) -> dict[str, Any]:
        args = {"district": district, "since": since, "until": until, "limit": limit}
        return await asyncio.to_thread(_query, "aggregates", args)

    @get(
        "/v1/health/aggregates/{district:str}/{day:str}",
        summary="One district's counts of one day",
        description="Errors: HEALTH_NOT_FOUND (404).",
        opt=PUBLIC,
    )
    async def aggregate(district: FromPath[str], day: FromPath[str]) -> dict[str, Any]:
        args = {"district": district, "day": day}
        found = await asyncio.to_thread(app_.query, "health", "aggregate", args)
        return to_builtins(found)  # type: ignore[no-any-return]

    @get(
        "/v1/health/exposures",
        summary="Exposure announcements: venue and time window, no personal data",
        opt=PUBLIC,
    )
    async def exposures(
        venue_id: FromQuery[str | None] = None,
        since_ms: FromQuery[int | None] = None,
        include_withdrawn: FromQuery[bool] = False,
        limit: FromQuery[int] = 1000,
    ) -> dict[str, Any]:
        args = {
            "venue_id": venue_id,
            "since_ms": since_ms,
            "include_withdrawn": include_withdrawn,
            "limit": limit,
        }
        return await asyncio.to_thread(_query, "exposures", args)

    return [venue_kit, aggregates, aggregate, exposures]
