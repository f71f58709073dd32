"""Identity routes: DID resolution, identities, organisations and their members.

    GET /v1/dids/{did}?height=       DID Resolution result (W3C DID Resolution shape)
    GET /v1/orgs/{org}               an organisation's record (public)
    GET /v1/identities/{id}          an identity's record (members, or the identity itself)
    GET /v1/orgs/{org}/members       an organisation's members (members of organisations)

Organisations' DIDs and records are public. Other identities' DID documents and records are read
by members of organisations and by the identity itself (:func:`require_reader`).
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery

from govchain.api.auth import MEMBER, PUBLIC, SELF, SIGNED, require_member, require_reader
from govchain.contracts.did import InvalidDid, parse_did
from govchain.encoding import to_builtins
from govchain.node.runtime import Node

__all__ = ["identity_routes"]


def _iso(time_ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(time_ms / 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _authorize(request: Request[Any, Any, Any], identity_id: str) -> None:
    """Organisations (ids without ``:``) are public; anything else needs a reader, checked
    before the lookup so that an anonymous caller cannot even probe which identities exist."""
    if ":" in identity_id:
        require_reader(request, identity_id)


def identity_routes(node: Node) -> list[Any]:
    """The identity route handlers of ``node``'s API."""
    app_ = node.app

    def _query(view: str, args: dict[str, Any], height: int | None = None) -> Any:
        return app_.query("identity", view, args, height)

    def _resolve(identity_id: str, height: int | None) -> dict[str, Any]:
        result: dict[str, Any] = _query("did", {"id": identity_id}, height)
        meta = result["didDocumentMetadata"]
        meta["created"] = _iso(app_.get_header(meta["createdHeight"]).time_ms)
        meta["updated"] = _iso(app_.get_header(meta["updatedHeight"]).time_ms)
        return result

    @get(
        "/v1/dids/{did:str}",
        summary="Resolve a DID: its DID document and metadata, optionally as of a height",
        description="Organisations' DIDs are public; other DIDs are for members of "
        "organisations and for the identity itself. Errors: IDENTITY_BAD_DID (400), "
        "IDENTITY_NOT_FOUND (404).",
        opt=PUBLIC,
    )
    async def resolve_did(
        request: Request[Any, Any, Any], did: FromPath[str], height: FromQuery[int | None] = None
    ) -> dict[str, Any]:
        chain_id, identity_id = parse_did(did)
        if chain_id != node.genesis.chain_id:
            raise InvalidDid(
                f"the DID is of chain {chain_id!r}; this node serves {node.genesis.chain_id!r}",
                hint="Resolve it with a node of its own chain.",
            )
        _authorize(request, identity_id)
        result = await asyncio.to_thread(_resolve, identity_id, height)
        result["didResolutionMetadata"]["did"] = did
        return result

    @get("/v1/orgs/{org:str}", summary="An organisation's record", opt=PUBLIC)
    async def org(org: FromPath[str]) -> dict[str, Any]:
        return to_builtins(await asyncio.to_thread(_query, "org", {"id": org}))  # type: ignore[no-any-return]

    @get(
        "/v1/identities/{identity_id:str}",
        summary="An identity's record: kind, organisation, roles, status, keys with their history",
        description="For members of organisations and for the identity itself.",
        opt=SELF,
        security=SIGNED,
    )
    async def identity(
        request: Request[Any, Any, Any], identity_id: FromPath[str]
    ) -> dict[str, Any]:
        _authorize(request, identity_id)
        return to_builtins(await asyncio.to_thread(_query, "get", {"id": identity_id}))  # type: ignore[no-any-return]

    @get(
        "/v1/orgs/{org:str}/members",
        summary="An organisation's members and nodes with their roles and status",
        opt=MEMBER,
        security=SIGNED,
    )
    async def members(request: Request[Any, Any, Any], org: FromPath[str]) -> list[dict[str, Any]]:
        require_member(request)
        return to_builtins(await asyncio.to_thread(_query, "members", {"id": org}))  # type: ignore[no-any-return]

    return [resolve_did, org, identity, members]
