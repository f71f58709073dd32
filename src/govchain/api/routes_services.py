"""Cross-department service routes: definitions, instances, the paperwork report.

    GET  /v1/services                       the services, their status and active version (public)
    GET  /v1/services/{id}                  a service's record and active definition (public)
    POST /v1/services/check                 check a definition document without publishing it
    GET  /v1/service-instances/{id}         an instance: for its applicant and the departments
                                            that act in it or issue its outputs (signed)
    GET  /v1/service-instances?applicant=|org=&service_id=&status=
                                            the caller's own instances, or its organisation's
    GET  /v1/reports/paperwork?service_id=  documents required and how they were met (public:
                                            counts only)

Instances hold no personal data (pseudonymous applicant ids, hashes, grant ids), but who applied
for what is still the applicant's business: an instance is answered only to its parties.
Writes are transactions (``POST /v1/txs``) built by the SDK and CLI.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from govchain.api.auth import PUBLIC, SELF, SIGNED, Principal, get_principal
from govchain.encoding import to_builtins
from govchain.errors import AuthForbidden, AuthRequired
from govchain.node.runtime import Node

__all__ = ["CheckRequest", "service_routes"]

NAME = "workflow"


class CheckRequest(msgspec.Struct):
    document: str  # the definition's JSON text


def _caller(request: Request[Any, Any, Any], need: str) -> Principal:
    principal = get_principal(request)
    if principal is None or not principal.is_registered:
        raise AuthRequired(f"{need} needs a signed request by a registered key")
    return principal


def _acts_for(principal: Principal, party: str) -> bool:
    """Whether the caller is ``party`` itself or a member of the organisation ``party``."""
    return principal.identity == party or (principal.is_org_member and principal.org == party)


def _parties(instance: dict[str, Any]) -> set[str]:
    orgs = {s["org"] for s in instance["steps"]} | {o["issuer"] for o in instance["outputs"]}
    return {instance["applicant"], *orgs}


def service_routes(node: Node) -> list[Any]:
    """The route handlers of ``node``'s API for this service."""
    app_ = node.app

    def _query(view: str, args: dict[str, Any]) -> Any:
        return to_builtins(app_.query(NAME, view, args))

    def _services() -> list[dict[str, Any]]:
        out = []
        for record in to_builtins(app_.query("governance", "services", {})):
            latest = record["versions"][-1]
            out.append(
                {
                    "id": record["id"],
                    "status": record["status"],
                    "title": latest["title"],
                    "version": latest["version"],
                    "definition_hash": latest["definition_hash"],
                    "versions": [v["version"] for v in record["versions"]],
                }
            )
        return out

    @get("/v1/services", summary="The services, their status and active version", opt=PUBLIC)
    async def services() -> list[dict[str, Any]]:
        return await asyncio.to_thread(_services)

    @get(
        "/v1/services/{service_id:str}",
        summary="A service's governance record and its active definition",
        description="Errors: WF_UNKNOWN_SERVICE (404).",
        opt=PUBLIC,
    )
    async def service(service_id: FromPath[str]) -> dict[str, Any]:
        return await asyncio.to_thread(_query, "service", {"service_id": service_id})

    @post(
        "/v1/services/check",
        status_code=200,
        summary="Check a service definition document without publishing it",
        description="Answers its hash and the parsed definition, or the first problem with its "
        "code (WF_DEF_NOT_JSON, WF_DEF_SCHEMA, WF_DEF_DUPLICATE_STEP, WF_DEF_UNKNOWN_STEP, "
        "WF_DEF_CYCLE, WF_DEF_DUPLICATE_NEED, WF_DEF_NEED_UNMEETABLE, WF_DEF_UNKNOWN_ORG, "
        "WF_DEF_TOO_LARGE).",
        opt=PUBLIC,
    )
    async def check(data: JSONBody[CheckRequest]) -> dict[str, Any]:
        return await asyncio.to_thread(_query, "check_definition", {"document": data.document})

    def _instance(principal: Principal, instance_id: str) -> dict[str, Any]:
        instance: dict[str, Any] = _query("instance", {"id": instance_id})
        if not any(_acts_for(principal, party) for party in _parties(instance)):
            raise AuthForbidden(
                f"{principal.identity} is not a party to instance {instance_id}",
                hint="An instance is read by its applicant and the departments acting in it.",
            )
        return instance

    @get(
        "/v1/service-instances/{instance_id:str}",
        summary="A service instance: steps, needs and how each was met, history, outputs",
        description="For its applicant and for members of the organisations that act in it or "
        "issue its outputs. Errors: WF_UNKNOWN_INSTANCE (404), AUTH_FORBIDDEN (403).",
        opt=SELF,
        security=SIGNED,
    )
    async def instance(
        request: Request[Any, Any, Any], instance_id: FromPath[str]
    ) -> dict[str, Any]:
        principal = _caller(request, "reading an instance")
        return await asyncio.to_thread(_instance, principal, instance_id)

    def _instances(principal: Principal, args: dict[str, Any]) -> list[dict[str, Any]]:
        party = args.get("applicant") or args.get("org")
        if party is None or not _acts_for(principal, party):
            raise AuthForbidden(
                f"{principal.identity} may list only its own instances or its organisation's",
                hint="Pass applicant=<your identity> or org=<your organisation>.",
            )
        found: list[dict[str, Any]] = _query("instances", args)
        return found

    @get(
        "/v1/service-instances",
        summary="Instances of an applicant (the caller) or in which an organisation (the "
        "caller's) acts",
        opt=SELF,
        security=SIGNED,
    )
    async def instances(
        request: Request[Any, Any, Any],
        applicant: FromQuery[str | None] = None,
        org: FromQuery[str | None] = None,
        service_id: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[dict[str, Any]]:
        principal = _caller(request, "listing instances")
        args = {"service_id": service_id, "status": status, "limit": limit}
        args.update({"applicant": applicant} if applicant else {"org": org})
        return await asyncio.to_thread(_instances, principal, args)

    @get(
        "/v1/reports/paperwork",
        summary="The paperwork figure: documents required by completed instances and how "
        "many were met by credentials, shared data and uploads, per service and overall",
        opt=PUBLIC,
    )
    async def paperwork(service_id: FromQuery[str | None] = None) -> dict[str, Any]:
        return await asyncio.to_thread(_query, "paperwork", {"service_id": service_id})

    return [services, service, check, instance, instances, paperwork]
