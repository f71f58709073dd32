"""The service routes over a unit chain: public definitions, checks and the paperwork figure; an
instance read only by its parties. The caller is put in the request scope as the authentication
middleware would (``X-Test-Identity: <identity>|<org>|<kind>``), so these tests are about the
routes' rules, not about request signatures (tests/unit/api/test_auth.py)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from workflow_world import DEFINITION, WorkflowWorld, make_workflow_world, text, uploaded

from govchain.api.auth import Principal
from govchain.api.routes_services import service_routes
from govchain.api.server import _problem


def _caller_from_header(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ()))
        if raw := headers.get(b"x-test-identity"):
            identity, org, kind = raw.decode().split("|")
            principal = Principal(b"\x00" * 32, identity, org, kind, frozenset({"officer"}))
            scope.setdefault("state", {})["principal"] = principal
        await app(scope, receive, send)

    return middleware


@pytest.fixture
def w(chain: Any) -> WorkflowWorld:
    world = make_workflow_world(chain)
    world.register()
    return world


@pytest.fixture
def http(w: WorkflowWorld) -> Iterator[TestClient[Any]]:
    node: Any = SimpleNamespace(app=w.chain.app)
    app = Litestar(
        route_handlers=service_routes(node),
        middleware=[_caller_from_header],
        exception_handlers={Exception: _problem},
    )
    with TestClient(app=app) as client:
        yield client


def _as(identity: str, org: str = "", kind: str = "enterprise") -> dict[str, str]:
    return {"X-Test-Identity": f"{identity}|{org}|{kind}"}


def test_services_and_definitions_are_public(http: TestClient[Any]) -> None:
    (listed,) = http.get("/v1/services").json()
    assert (listed["id"], listed["status"], listed["versions"]) == ("permit", "active", ["1.0"])
    shown = http.get("/v1/services/permit").json()
    assert [s["id"] for s in shown["definition"]["steps"]] == ["intake", "check", "seal"]
    missing = http.get("/v1/services/nothing")
    assert (missing.status_code, missing.json()["code"]) == (404, "WF_UNKNOWN_SERVICE")


def test_check_a_definition(http: TestClient[Any]) -> None:
    ok = http.post("/v1/services/check", json={"document": text(DEFINITION)})
    assert ok.status_code == 200 and len(ok.json()["hash"]) == 64
    bad = http.post("/v1/services/check", json={"document": "[]"})
    assert bad.json()["code"] == "WF_DEF_SCHEMA"


def test_an_instance_is_read_by_its_parties_only(w: WorkflowWorld, http: TestClient[Any]) -> None:
    instance_id = w.start_ok([uploaded("intake", "form")])
    path = f"/v1/service-instances/{instance_id}"
    assert http.get(path, headers=_as(w.ent_id)).json()["id"] == instance_id
    assert http.get(path, headers=_as("health:officer", "health", "member")).status_code == 200
    stranger = http.get(path, headers=_as("ent:91110000600037341L"))
    assert (stranger.status_code, stranger.json()["code"]) == (403, "AUTH_FORBIDDEN")
    anonymous = http.get(path)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "AUTH_REQUIRED")
    missing = http.get("/v1/service-instances/nothing", headers=_as(w.ent_id))
    assert missing.json()["code"] == "WF_UNKNOWN_INSTANCE"


def test_listing_is_for_ones_own_instances_or_departments(
    w: WorkflowWorld, http: TestClient[Any]
) -> None:
    instance_id = w.start_ok()
    own = http.get("/v1/service-instances", params={"applicant": w.ent_id}, headers=_as(w.ent_id))
    assert [i["id"] for i in own.json()] == [instance_id]
    department = http.get(
        "/v1/service-instances", params={"org": "tax"}, headers=_as("tax:officer", "tax", "member")
    )
    assert [i["id"] for i in department.json()] == [instance_id]
    other = http.get("/v1/service-instances", params={"applicant": w.ent_id}, headers=_as("ent:x"))
    assert other.status_code == 403


def test_paperwork_is_public(http: TestClient[Any]) -> None:
    answer = http.get("/v1/reports/paperwork").json()
    assert answer == {
        "services": [],
        "total": {
            "service_id": "*",
            "instances": 0,
            "required": 0,
            "credential": 0,
            "data": 0,
            "upload": 0,
        },
    }
