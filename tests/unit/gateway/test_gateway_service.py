"""The owner gateway over HTTP (Litestar test client) with the chain faked: the exchange, and
every refusal with its code."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from gateway_fakes import (
    GRANT_ID,
    OTHER_SUBJECT,
    OWNER,
    REQUESTER,
    RESOURCE,
    SUBJECT,
    World,
    grant,
    key,
    make_world,
)
from litestar.testing import TestClient
from litestar.testing import transport as litestar_transport

from govchain.client.auth import sign_request
from govchain.client.gateway import GatewayClient
from govchain.crypto.signing import KeyPair
from govchain.errors import GovchainError
from govchain.gateway.app import create_gateway_app
from govchain.gateway.errors import ChainUnavailable
from govchain.gateway.protocol import (
    FETCH_PATH,
    FetchRequest,
    countersign_receipt,
    decode_receipt,
)
from govchain.gateway.sample import sample_row

URL = "http://gateway.test"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


@pytest.fixture
def http(world: World) -> Iterator[TestClient[Any]]:
    with TestClient(create_gateway_app(world.service, manage=False), base_url=URL) as client:
        yield client


class AppTransport(httpx.BaseTransport):
    """Sends a GatewayClient's requests to the app under test."""

    def __init__(self, http: TestClient[Any]) -> None:
        self.inner = litestar_transport.TestClientTransport(http)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


def gateway(http: TestClient[Any], pair: KeyPair) -> GatewayClient:
    return GatewayClient(URL, key=pair, transport=AppTransport(http))


def fetch(http: TestClient[Any], world: World, **changes: Any) -> dict[str, Any]:
    args = {
        "resource_id": RESOURCE,
        "subject": SUBJECT,
        "fields": ["name", "status"],
        "requester": REQUESTER,
    }
    args.update(changes)
    pair = changes.pop("key", None) or world.requester_key
    args.pop("key", None)
    with gateway(http, pair) as gw:
        return gw.fetch(GRANT_ID, **args).values


def code_of(http: TestClient[Any], world: World, **changes: Any) -> str:
    with pytest.raises(GovchainError) as err:
        fetch(http, world, **changes)
    return err.value.code


# --- the exchange ---------------------------------------------------------------------------


def test_fetch_returns_only_the_granted_fields_and_journals_the_countersigned_receipt(
    http: TestClient[Any], world: World
) -> None:
    values = fetch(http, world)
    row = sample_row("enterprises", SUBJECT)
    assert values == {"name": row["name"], "status": row["status"]}
    assert world.journal.counts() == {
        "issued": 0,
        "countersigned": 1,
        "anchored": 0,
        "refused": 0,
    }


def test_values_never_reach_the_log(
    http: TestClient[Any], world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fetch(http, world)
    row = sample_row("enterprises", SUBJECT)
    assert str(row["name"]) not in caplog.text and SUBJECT not in caplog.text


def test_health(http: TestClient[Any], world: World) -> None:
    health = http.get("/v1/health").json()
    assert health["org"] == OWNER and health["resources"] == [RESOURCE]


# --- the grant --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant_changes", "code"),
    [
        ({"status": "revoked", "revoked_height": 7}, "GATEWAY_GRANT_REVOKED"),
        ({"expires_ms": 1}, "GATEWAY_GRANT_EXPIRED"),
        ({"uses": 3}, "GATEWAY_GRANT_EXHAUSTED"),
        ({"resource_id": "market.other"}, "GATEWAY_WRONG_RESOURCE"),
        ({"owner": "tax"}, "GATEWAY_WRONG_RESOURCE"),
        ({"requester": "health-commission"}, "GATEWAY_NOT_GRANTEE"),
    ],
)
def test_grant_refusals(
    http: TestClient[Any], world: World, grant_changes: dict[str, Any], code: str
) -> None:
    world.chain.grants[GRANT_ID] = grant(**grant_changes)
    assert code_of(http, world) == code


def test_no_grant(http: TestClient[Any], world: World) -> None:
    world.chain.grants.clear()
    assert code_of(http, world) == "GATEWAY_GRANT_NOT_FOUND"


def test_uses_pending_anchoring_count(http: TestClient[Any], world: World) -> None:
    world.chain.grants[GRANT_ID] = grant(max_uses=2, uses=1)
    fetch(http, world)
    assert code_of(http, world) == "GATEWAY_GRANT_EXHAUSTED"


def test_anchored_receipts_stop_counting_once_the_grant_counts_them(
    http: TestClient[Any], world: World
) -> None:
    world.chain.grants[GRANT_ID] = grant(max_uses=2)
    fetch(http, world)
    [receipt] = world.journal.list_ready(10)
    world.journal.set_anchored([receipt.request_hash], world.chain.height + 1)
    world.chain.height += 1  # the grant is now read after the anchoring: uses=1 on chain
    world.chain.grants[GRANT_ID] = grant(max_uses=2, uses=1)
    fetch(http, world)
    assert code_of(http, world) == "GATEWAY_GRANT_EXHAUSTED"


def test_chain_unavailable(http: TestClient[Any], world: World, monkeypatch: Any) -> None:
    def down(grant_id: str) -> Any:
        raise ChainUnavailable("cannot read the chain: connection refused")

    monkeypatch.setattr(world.chain, "grant", down)
    assert code_of(http, world) == "GATEWAY_CHAIN_UNAVAILABLE"


# --- the scope ----------------------------------------------------------------------------------


def test_fields_outside_the_grant(http: TestClient[Any], world: World) -> None:
    assert code_of(http, world, fields=["name", "legal_representative"]) == (
        "GATEWAY_FIELDS_NOT_GRANTED"
    )


def test_another_subject(http: TestClient[Any], world: World) -> None:
    assert code_of(http, world, subject=OTHER_SUBJECT) == "GATEWAY_WRONG_SUBJECT"


def test_a_grant_without_subject_serves_any_record(http: TestClient[Any], world: World) -> None:
    world.chain.grants[GRANT_ID] = grant(subject=None)
    assert fetch(http, world, subject=OTHER_SUBJECT)["name"]
    assert code_of(http, world, subject="ent:none") == "GATEWAY_RECORD_NOT_FOUND"


def test_another_resource(http: TestClient[Any], world: World) -> None:
    assert code_of(http, world, resource_id="tax.taxpayers") == "GATEWAY_UNKNOWN_RESOURCE"


@pytest.mark.parametrize("fields", [[], ["name", "name"]])
def test_bad_field_lists(http: TestClient[Any], world: World, fields: list[str]) -> None:
    assert code_of(http, world, fields=fields) == "GATEWAY_BAD_REQUEST"


def test_a_granted_field_the_table_lacks(http: TestClient[Any], world: World) -> None:
    world.chain.grants[GRANT_ID] = grant(fields=["name", "no_such_column"])
    assert code_of(http, world, fields=["no_such_column"]) == "GATEWAY_FIELDS_NOT_GRANTED"


# --- who asks -----------------------------------------------------------------------------------


def test_requester_named_in_the_body_must_be_the_grantee(
    http: TestClient[Any], world: World
) -> None:
    assert code_of(http, world, requester="health-commission") == "GATEWAY_NOT_GRANTEE"


def test_a_key_of_another_organisation(http: TestClient[Any], world: World) -> None:
    intruder = key("health-admin")
    world.chain.add_member("health-commission", "admin", intruder)
    assert code_of(http, world, key=intruder) == "GATEWAY_NOT_GRANTEE"


def test_an_unregistered_key(http: TestClient[Any], world: World) -> None:
    assert code_of(http, world, key=key("nobody")) == "GATEWAY_NOT_GRANTEE"


def test_a_suspended_member(http: TestClient[Any], world: World) -> None:
    world.chain.add_member(REQUESTER, "admin", world.requester_key, status="suspended")
    assert code_of(http, world) == "GATEWAY_NOT_GRANTEE"


# --- authentication -----------------------------------------------------------------------------


def _signed(world: World, *, ts_ms: int | None = None) -> httpx.Request:
    body = msgspec.json.encode(FetchRequest(GRANT_ID, RESOURCE, SUBJECT, ["name"], REQUESTER))
    request = httpx.Request("POST", URL + FETCH_PATH, content=body)
    return sign_request(request, world.requester_key, ts_ms=ts_ms)


def _post(http: TestClient[Any], request: httpx.Request, **headers: str) -> httpx.Response:
    sent = {"Authorization": request.headers["Authorization"], **headers}
    return http.post(FETCH_PATH, content=request.content, headers=sent)


def test_unsigned(http: TestClient[Any]) -> None:
    answer = http.post(FETCH_PATH, content=b"{}")
    assert (answer.status_code, answer.json()["code"]) == (401, "AUTH_REQUIRED")
    assert answer.headers["WWW-Authenticate"].startswith("Govchain-Ed25519")


def test_malformed_authorization(http: TestClient[Any]) -> None:
    answer = http.post(FETCH_PATH, content=b"{}", headers={"Authorization": "Basic eA=="})
    assert answer.json()["code"] == "AUTH_MALFORMED"


def test_replayed(http: TestClient[Any], world: World) -> None:
    request = _signed(world)
    assert _post(http, request).status_code == 200
    assert _post(http, request).json()["code"] == "AUTH_REPLAYED"


def test_replayed_after_a_restart_is_still_refused(
    http: TestClient[Any], world: World, tmp_path: Path
) -> None:
    request = _signed(world)
    assert _post(http, request).status_code == 200
    world.service.nonces = type(world.service.nonces)(30_000, 1000)  # a fresh process forgets
    assert _post(http, request).json()["code"] == "AUTH_REPLAYED"


def test_old_timestamp(http: TestClient[Any], world: World) -> None:
    request = _signed(world, ts_ms=world.clock_ms[0] - 120_000)
    assert _post(http, request).json()["code"] == "AUTH_EXPIRED"


def test_altered_body(http: TestClient[Any], world: World) -> None:
    request = _signed(world)
    altered = request.content.replace(b'"name"', b'"status"')
    answer = http.post(
        FETCH_PATH, content=altered, headers={"Authorization": request.headers["Authorization"]}
    )
    assert answer.json()["code"] == "AUTH_BAD_SIGNATURE"


def test_body_not_a_fetch_request(http: TestClient[Any], world: World) -> None:
    request = sign_request(
        httpx.Request("POST", URL + FETCH_PATH, content=b'{"grant": 1}'), world.requester_key
    )
    assert _post(http, request).json()["code"] == "GATEWAY_BAD_REQUEST"


def test_outstanding_countersignatures(tmp_path: Path) -> None:
    world = make_world(tmp_path, max_outstanding=1)
    app = create_gateway_app(world.service, manage=False)
    with TestClient(app, base_url=URL) as http, gateway(http, world.requester_key) as gw:
        request = FetchRequest(GRANT_ID, RESOURCE, SUBJECT, ["name"], REQUESTER)
        gw.fetch_raw(request)  # never counter-signed
        with pytest.raises(GovchainError) as err:
            gw.fetch_raw(request)
        assert err.value.code == "GATEWAY_RECEIPTS_OUTSTANDING"


# --- counter-signatures -------------------------------------------------------------------------


def _issued(http: TestClient[Any], world: World) -> Any:
    with gateway(http, world.requester_key) as gw:
        answer, _ = gw.fetch_raw(FetchRequest(GRANT_ID, RESOURCE, SUBJECT, ["name"], REQUESTER))
    return decode_receipt(answer.receipt)


def _countersign_code(http: TestClient[Any], pair: KeyPair, receipt: Any) -> str:
    with gateway(http, pair) as gw, pytest.raises(GovchainError) as err:
        gw.countersign(receipt)
    return err.value.code


def test_altered_receipt(http: TestClient[Any], world: World) -> None:
    receipt = _issued(http, world)
    altered = msgspec.structs.replace(receipt, fields=["name", "status"])
    signed = countersign_receipt(altered, world.requester_key)
    assert _countersign_code(http, world.requester_key, signed) == "GATEWAY_RECEIPT_MISMATCH"


def test_forged_requester_signature(http: TestClient[Any], world: World) -> None:
    receipt = msgspec.structs.replace(_issued(http, world), requester_signature=os.urandom(64))
    code = _countersign_code(http, world.requester_key, receipt)
    assert code == "GATEWAY_RECEIPT_BAD_SIGNATURE"


def test_receipt_counter_signed_by_another_key(http: TestClient[Any], world: World) -> None:
    receipt = countersign_receipt(_issued(http, world), world.requester_key)
    assert _countersign_code(http, key("someone"), receipt) == "GATEWAY_RECEIPT_MISMATCH"


def test_unknown_receipt(http: TestClient[Any], world: World) -> None:
    receipt = msgspec.structs.replace(_issued(http, world), request_hash=os.urandom(32))
    signed = countersign_receipt(receipt, world.requester_key)
    assert _countersign_code(http, world.requester_key, signed) == "GATEWAY_RECEIPT_UNKNOWN"


def test_countersigning_twice_is_harmless(http: TestClient[Any], world: World) -> None:
    signed = countersign_receipt(_issued(http, world), world.requester_key)
    with gateway(http, world.requester_key) as gw:
        assert gw.countersign(signed) and gw.countersign(signed)
    assert world.journal.counts()["countersigned"] == 1


def test_receipts_returned_in_a_batch_each_with_its_fate(
    http: TestClient[Any], world: World
) -> None:
    good = countersign_receipt(_issued(http, world), world.requester_key)
    altered = countersign_receipt(
        msgspec.structs.replace(_issued(http, world), fields=["status"]), world.requester_key
    )
    with gateway(http, world.requester_key) as gw:
        results = gw.countersign_many([good, altered])
    assert [r.code for r in results] == [None, "GATEWAY_RECEIPT_MISMATCH"]
    assert results[0].request_hash == good.request_hash.hex()
    assert world.journal.counts()["countersigned"] == 1


def test_batched_countersignatures_go_when_the_batch_is_full_or_on_close(
    http: TestClient[Any], world: World
) -> None:
    world.chain.grants[GRANT_ID] = grant(max_uses=10)
    transport = AppTransport(http)
    with GatewayClient(
        URL, key=world.requester_key, countersign_batch=2, transport=transport
    ) as gw:
        args = {"resource_id": RESOURCE, "subject": SUBJECT, "fields": ["name"]}
        first = gw.fetch(GRANT_ID, requester=REQUESTER, **args)
        assert not first.countersigned and world.journal.counts()["countersigned"] == 0
        gw.fetch(GRANT_ID, requester=REQUESTER, **args)
        assert world.journal.counts()["countersigned"] == 2
        gw.fetch(GRANT_ID, requester=REQUESTER, **args)
    assert world.journal.counts()["countersigned"] == 3


@pytest.mark.parametrize("count", [0, 501])
def test_receipt_batches_of_a_bad_size(http: TestClient[Any], world: World, count: int) -> None:
    body = msgspec.json.encode({"receipts": ["x"] * count})
    request = sign_request(
        httpx.Request("POST", URL + "/v1/receipts", content=body), world.requester_key
    )
    answer = http.post(
        "/v1/receipts", content=body, headers={"Authorization": request.headers["Authorization"]}
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "GATEWAY_BAD_REQUEST")
