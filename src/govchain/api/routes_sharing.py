"""Catalogue, sharing and data-access audit routes.

The catalogue is the city's public directory of what data each department holds and on what
terms (metadata only, never values), so its routes are public. Sharing requests, grants and
access records name who asked for whose data: they need a signed request (``SELF``) and answer
only the parties — a member of the owning or requesting organisation, the requesting enterprise
or citizen, the data subject — and auditors (members with the ``auditor`` role). Audit answers
are filtered record by record to what the caller may read; each record carries a state proof.

    GET /v1/catalog/resources?org=&responsibility=&q=&sharing=&limit=   browse and search
    GET /v1/catalog/resources/{id}?version=                             a resource, with proof
    GET /v1/catalog/resources/{id}/history                              every version
    GET /v1/catalog/orgs/{org}/responsibilities                         a department's duties
    GET /v1/sharing/requests?identity=&grants_only=                     a party's requests
    GET /v1/sharing/requests/{id}                                       request + grant, proofs
    GET /v1/audit/access?org=|resource=|grant=|subject=&after=&limit=   access records, proofs
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery

from govchain.api.auth import PUBLIC, SELF, SIGNED, Principal, get_principal
from govchain.api.routes_certs import state_view
from govchain.app.application import Application
from govchain.contracts.catalog_records import resource_state_key, resource_version_state_key
from govchain.contracts.sharing_records import grant_state_key
from govchain.contracts.sharing_state import (
    AccessRecord,
    ShareRequest,
    access_state_key,
    request_state_key,
)
from govchain.encoding import to_builtins
from govchain.errors import AuthForbidden, AuthRequired, AuthUnknownKey, BadRequest
from govchain.node.runtime import Node

__all__ = ["AUDITOR_ROLE", "may_read", "sharing_routes"]

AUDITOR_ROLE = "auditor"
AUDIT_FILTERS = ("org", "resource", "grant", "subject")


def _acts_for(principal: Principal, identity: str) -> bool:
    return principal.identity == identity or (principal.is_org_member and principal.org == identity)


def may_read(principal: Principal, parties: Iterable[str | None]) -> bool:
    """Whether the caller is one of the parties (or acts for one) or an auditor."""
    if principal.is_org_member and AUDITOR_ROLE in principal.roles:
        return True
    return any(p is not None and _acts_for(principal, p) for p in parties)


def _caller(request: Request[Any, Any, Any]) -> Principal:
    principal = get_principal(request)
    if principal is None:
        raise AuthRequired("sharing records are read with a signed request")
    if not principal.is_registered:
        raise AuthUnknownKey(f"key {principal.public_key.hex()} is not bound to any identity")
    return principal


def _parties(record: ShareRequest | AccessRecord) -> list[str | None]:
    return [record.owner, record.requester, record.subject]


def _catalog_routes(app_: Application) -> list[Any]:
    @get(
        "/v1/catalog/resources",
        summary="Browse or search the data catalogue",
        description="Filters: `org`, `responsibility` (with `org`), `q` (text in ids, names, "
        "descriptions, field names), `sharing` (unconditional | conditional | none).",
        opt=PUBLIC,
    )
    async def resources(
        org: FromQuery[str | None] = None,
        responsibility: FromQuery[str | None] = None,
        q: FromQuery[str] = "",
        sharing: FromQuery[str | None] = None,
        limit: FromQuery[int] = 50,
    ) -> list[dict[str, Any]]:
        args: dict[str, Any]
        if responsibility is not None:
            if org is None:
                raise BadRequest("responsibility needs org")
            view, args = "by_responsibility", {"org": org, "responsibility": responsibility}
        elif org is not None and not q and sharing is None:
            view, args = "by_org", {"org": org}
        else:
            view = "search"
            args = {"text": q, "org": org, "sharing": sharing, "limit": limit}
        found = await asyncio.to_thread(app_.query, "catalog", view, args)
        return to_builtins(found)  # type: ignore[no-any-return]

    def _resource(resource_id: str, version: int | None) -> dict[str, Any]:
        height = app_.info().height
        args = {"id": resource_id, "version": version}
        record = app_.query("catalog", "resource", args, height)
        key = (
            resource_state_key(resource_id)
            if version is None
            else resource_version_state_key(resource_id, version)
        )
        proof = app_.prove_state(key, height)
        return {"resource": to_builtins(record), "state": to_builtins(state_view(app_, proof))}

    @get(
        "/v1/catalog/resources/{resource_id:str}",
        summary="A catalogue resource (latest or a version) with its state proof",
        description="Errors: CATALOG_NOT_FOUND (404).",
        opt=PUBLIC,
    )
    async def resource(
        resource_id: FromPath[str], version: FromQuery[int | None] = None
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_resource, resource_id, version)

    @get(
        "/v1/catalog/resources/{resource_id:str}/history",
        summary="Every version of a catalogue resource, oldest first",
        opt=PUBLIC,
    )
    async def history(resource_id: FromPath[str]) -> list[dict[str, Any]]:
        found = await asyncio.to_thread(app_.query, "catalog", "history", {"id": resource_id})
        return to_builtins(found)  # type: ignore[no-any-return]

    @get(
        "/v1/catalog/orgs/{org:str}/responsibilities",
        summary="A department's responsibilities",
        opt=PUBLIC,
    )
    async def responsibilities(org: FromPath[str]) -> list[dict[str, Any]]:
        found = await asyncio.to_thread(app_.query, "catalog", "responsibilities", {"org": org})
        return to_builtins(found)  # type: ignore[no-any-return]

    return [resources, resource, history, responsibilities]


def _sharing_routes(app_: Application) -> list[Any]:
    def _show(principal: Principal, request_id: str) -> dict[str, Any]:
        height = app_.info().height
        record = app_.query("sharing", "get_request", {"id": request_id}, height)
        if not may_read(principal, _parties(record)):
            raise AuthForbidden(f"{principal.identity} is not a party to request {request_id}")
        answer: dict[str, Any] = {
            "request": to_builtins(record),
            "request_state": to_builtins(
                state_view(app_, app_.prove_state(request_state_key(request_id), height))
            ),
            "grant": None,
            "grant_state": None,
        }
        if record.grant_id is not None:
            grant = app_.query("sharing", "grant", {"id": record.grant_id}, height)
            proof = app_.prove_state(grant_state_key(record.grant_id), height)
            answer["grant"] = to_builtins(grant)
            answer["grant_state"] = to_builtins(state_view(app_, proof))
        return answer

    @get(
        "/v1/sharing/requests/{request_id:str}",
        summary="A sharing request and its grant, each with a state proof",
        description="For the parties (owner, requester, subject) and auditors. "
        "Errors: SHARE_UNKNOWN_REQUEST (404), AUTH_FORBIDDEN (403).",
        opt=SELF,
        security=SIGNED,
    )
    async def show(request: Request[Any, Any, Any], request_id: FromPath[str]) -> dict[str, Any]:
        return await asyncio.to_thread(_show, _caller(request), request_id)

    @get(
        "/v1/sharing/requests",
        summary="The requests (or grants) of a party: owner, requester or subject",
        description="`identity` defaults to the caller's organisation (a member) or itself.",
        opt=SELF,
        security=SIGNED,
    )
    async def requests(
        request: Request[Any, Any, Any],
        identity: FromQuery[str | None] = None,
        grants_only: FromQuery[bool] = False,
    ) -> list[dict[str, Any]]:
        principal = _caller(request)
        party = identity or (principal.org if principal.is_org_member else principal.identity)
        if not may_read(principal, [party]):
            raise AuthForbidden(f"{principal.identity} may not list the requests of {party}")
        args = {"identity": party, "grants_only": grants_only}
        found = await asyncio.to_thread(app_.query, "sharing", "requests_of", args)
        return to_builtins(found)  # type: ignore[no-any-return]

    return [show, requests]


def _audit_route(app_: Application) -> Any:
    def _audit(
        principal: Principal, kind: str, ident: str, after: str, limit: int
    ) -> dict[str, Any]:
        height = app_.info().height
        args = {"kind": kind, "id": ident, "after": after, "limit": limit}
        page = app_.query("sharing", "audit", args, height)
        entries = []
        for record, cursor in zip(page.records, page.cursors, strict=True):
            if not may_read(principal, _parties(record)):
                continue
            proof = app_.prove_state(access_state_key(record.request_hash), height)
            entries.append(
                {
                    "record": to_builtins(record),
                    "cursor": cursor,
                    "state": to_builtins(state_view(app_, proof)),
                }
            )
        return {"kind": kind, "id": ident, "height": height, "records": entries, "next": page.next}

    @get(
        "/v1/audit/access",
        summary="Who accessed which resource, which fields, under which grant, when",
        description="Exactly one of `org` (owner or requester), `resource`, `grant`, `subject`; "
        "`after` (a record's cursor) and `limit` page through. Only the records the caller may "
        "read are answered (parties and auditors), each with a state proof at `height`.",
        opt=SELF,
        security=SIGNED,
    )
    async def access(
        request: Request[Any, Any, Any],
        org: FromQuery[str | None] = None,
        resource: FromQuery[str | None] = None,
        grant: FromQuery[str | None] = None,
        subject: FromQuery[str | None] = None,
        after: FromQuery[str] = "",
        limit: FromQuery[int] = 100,
    ) -> dict[str, Any]:
        principal = _caller(request)
        given = {"org": org, "resource": resource, "grant": grant, "subject": subject}
        chosen = [(k, v) for k, v in given.items() if v is not None]
        if len(chosen) != 1:
            raise BadRequest(f"give exactly one of {', '.join(AUDIT_FILTERS)}")
        ((kind, ident),) = chosen
        return await asyncio.to_thread(_audit, principal, kind, ident, after, limit)

    return access


def sharing_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    app_ = node.app
    return [*_catalog_routes(app_), *_sharing_routes(app_), _audit_route(app_)]
