"""API authentication against a real node: public routes, signed reads, and every way a request
signature can fail (missing, malformed, expired, replayed, forged, unknown key), each with its
status, code and ``WWW-Authenticate`` challenge; access levels for members, non-members and a
transaction's own sender."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from typing import Any

import httpx
import pytest

from govchain.client import Client, sign_request
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import AuthForbidden, AuthRequired, AuthUnknownKey

from .nodeproc import MEMBER_ORG, NodeProcess

PROBLEM = "application/problem+json"
SCHEME = "Govchain-Ed25519"


@pytest.fixture(scope="module")
def node(shared_node: NodeProcess) -> NodeProcess:
    return shared_node


@pytest.fixture(scope="module")
def member(node: NodeProcess) -> KeyPair:
    return node.network.key(MEMBER_ORG)


@pytest.fixture(scope="module")
def http(node: NodeProcess) -> Any:
    with httpx.Client(base_url=node.url, timeout=30) as client:
        yield client


def send(
    http: httpx.Client,
    method: str,
    path: str,
    key: KeyPair | None = None,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
    ts_ms: int | None = None,
    nonce: bytes | None = None,
    authorization: str | None = None,
) -> httpx.Response:
    """One request, signed by ``key`` (with a chosen time or nonce), or with a literal header."""
    request = http.build_request(method, path, json=json, params=params)
    if key is not None:
        sign_request(request, key, ts_ms=ts_ms, nonce=nonce)
    if authorization is not None:
        request.headers["Authorization"] = authorization
    return http.send(request)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code, problem
    assert problem["detail"] and problem["hint"] and problem["title"], problem
    if status == 401:
        assert response.headers["www-authenticate"].startswith(SCHEME), response.headers
    else:
        assert "www-authenticate" not in response.headers
    return problem


def now_ms() -> int:
    return int(time.time() * 1000)


# --- public and member routes --------------------------------------------------------------------

PUBLIC_GETS = ["/v1/status", "/v1/orgs", "/v1/contracts", "/schema/openapi.json", "/metrics"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the framework's, not ours
@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_public_routes_answer_anyone(http: httpx.Client, path: str) -> None:
    assert http.get(path).status_code == 200


def test_public_lookups_and_writes_need_no_key(http: httpx.Client) -> None:
    # A notary look-up is public: an unknown document is a 404, not a 401.
    assert_problem(http.get(f"/v1/notary/{os.urandom(32).hex()}"), 404, "NOTARY_NOT_FOUND")
    # Writes are authenticated by the transaction's own signatures.
    assert_problem(http.post("/v1/txs", json={"tx": "AAAA"}), 400, "TX_MALFORMED")
    response = http.post("/v1/txs/batch", json={"txs": ["AAAA"]})
    assert response.status_code == 200 and response.json()["rejected"] == 1


def test_a_bad_signature_does_not_refuse_a_public_route(http: httpx.Client) -> None:
    header = f"{SCHEME} key={'00' * 32}, ts=1, nonce={'00' * 16}, sig={'00' * 64}"
    assert send(http, "GET", "/v1/status", authorization=header).status_code == 200


MEMBER_ROUTES = [
    ("GET", "/v1/blocks/latest"),
    ("GET", "/v1/blocks/0"),
    ("GET", "/v1/blocks/hash/" + "ab" * 32),
    ("GET", "/v1/state/abcd"),
    ("POST", "/v1/query/identity/orgs"),
    ("GET", "/v1/events"),
    ("GET", "/v1/txs/" + "cd" * 32),  # "self": its sender may read it too, but not anonymously
]


@pytest.mark.parametrize(("method", "path"), MEMBER_ROUTES)
def test_member_routes_without_a_signature(http: httpx.Client, method: str, path: str) -> None:
    response = send(http, method, path, json={} if method == "POST" else None)
    problem = assert_problem(response, 401, "AUTH_REQUIRED")
    assert "--dir DIR --org ORG" in problem["hint"]


@pytest.mark.parametrize(("method", "path"), MEMBER_ROUTES[:5])
def test_member_routes_with_a_members_signature(
    http: httpx.Client, member: KeyPair, method: str, path: str
) -> None:
    response = send(http, method, path, member, json={} if method == "POST" else None)
    assert response.status_code in (200, 404), response.text  # 404: the made-up block hash


# --- what can go wrong with a signature ----------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        SCHEME,
        f"{SCHEME} key=zz, ts=1, nonce={'00' * 16}, sig={'00' * 64}",
        f"{SCHEME} key={'00' * 32}, ts=soon, nonce={'00' * 16}, sig={'00' * 64}",
        f"{SCHEME} key={'00' * 32}, ts=1, nonce={'00' * 8}, sig={'00' * 64}",
        f"{SCHEME} key={'00' * 32}, ts=1, nonce={'00' * 16}",
        f"{SCHEME} key={'00' * 32}, key={'00' * 32}, ts=1, nonce={'00' * 16}, sig={'00' * 64}",
        f"{SCHEME} key={'00' * 32}, ts=1, nonce={'00' * 16}, sig={'00' * 64}, extra=1",
        f"{SCHEME} " + "x" * 600,
    ],
)
def test_malformed_headers(http: httpx.Client, header: str) -> None:
    assert_problem(send(http, "GET", "/v1/blocks/0", authorization=header), 401, "AUTH_MALFORMED")


@pytest.mark.parametrize("skew_ms", [-120_000, -31_000, 31_000, 3_600_000])
def test_requests_outside_the_time_window(
    http: httpx.Client, member: KeyPair, skew_ms: int
) -> None:
    response = send(http, "GET", "/v1/blocks/0", member, ts_ms=now_ms() + skew_ms)
    problem = assert_problem(response, 401, "AUTH_EXPIRED")
    assert ("future" in problem["detail"]) == (skew_ms > 0)
    assert abs(problem["details"]["node_time_ms"] - now_ms()) < 10_000


def test_a_request_inside_the_window_is_accepted(http: httpx.Client, member: KeyPair) -> None:
    assert send(http, "GET", "/v1/blocks/0", member, ts_ms=now_ms() - 20_000).status_code == 200


def test_a_replayed_request_is_refused(http: httpx.Client, member: KeyPair) -> None:
    first = http.build_request("GET", "/v1/blocks/0")
    sign_request(first, member)
    assert http.send(first).status_code == 200
    again = http.build_request("GET", "/v1/blocks/0", headers=dict(first.headers))
    assert_problem(http.send(again), 401, "AUTH_REPLAYED")
    # The same nonce with a new timestamp and signature is still a replay.
    nonce = bytes.fromhex(first.headers["authorization"].split("nonce=")[1][:32])
    response = send(http, "GET", "/v1/blocks/0", member, nonce=nonce, ts_ms=now_ms() + 1)
    assert_problem(response, 401, "AUTH_REPLAYED")


def _signed_header(http: httpx.Client, key: KeyPair, method: str, path: str, **kw: Any) -> str:
    request = http.build_request(method, path, **kw)
    return str(sign_request(request, key).headers["authorization"])


def test_forged_signatures(http: httpx.Client, member: KeyPair) -> None:
    header = _signed_header(http, member, "GET", "/v1/blocks/0")
    flipped = header[:-2] + ("00" if not header.endswith("00") else "11")
    assert_problem(
        send(http, "GET", "/v1/blocks/0", authorization=flipped), 401, "AUTH_BAD_SIGNATURE"
    )
    # Signed for another path, another query, another method, another body.
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/blocks/1", {}),
        ("GET", "/v1/blocks/0", {"params": {"full": "true"}}),
        ("POST", "/v1/blocks/0", {}),
    ]
    for method, path, kw in cases:
        header = _signed_header(http, member, "GET", "/v1/blocks/0")
        response = send(http, method, path, authorization=header, **kw)
        if method == "POST":
            assert response.status_code in (401, 405), response.text
            continue
        assert_problem(response, 401, "AUTH_BAD_SIGNATURE")
    header = _signed_header(http, member, "POST", "/v1/query/identity/orgs", json={})
    response = send(http, "POST", "/v1/query/identity/orgs", json={"x": 1}, authorization=header)
    assert_problem(response, 401, "AUTH_BAD_SIGNATURE")
    # Someone else's key in the header with this key's signature.
    other = get_scheme(ED25519).generate()
    header = _signed_header(http, member, "GET", "/v1/blocks/0")
    swapped = header.replace(member.public_key.hex(), other.public_key.hex())
    assert_problem(
        send(http, "GET", "/v1/blocks/0", authorization=swapped), 401, "AUTH_BAD_SIGNATURE"
    )


def test_query_order_does_not_matter(http: httpx.Client, member: KeyPair) -> None:
    header = _signed_header(http, member, "GET", "/v1/blocks/0?full=true&x=1")
    response = send(http, "GET", "/v1/blocks/0?x=1&full=true", authorization=header)
    assert response.status_code == 200, response.text
    assert response.json()["txs"] is not None


def test_an_unknown_key(http: httpx.Client) -> None:
    stranger = get_scheme(ED25519).generate()
    problem = assert_problem(send(http, "GET", "/v1/blocks/0", stranger), 401, "AUTH_UNKNOWN_KEY")
    assert stranger.public_key.hex() in problem["detail"]


# --- the SDK -------------------------------------------------------------------------------------


def test_sdk_without_a_key_reads_public_routes_only(node: NodeProcess) -> None:
    with node.client(anonymous=True) as client:
        assert client.status()["height"] >= 0
        assert client.orgs()
        with pytest.raises(AuthRequired) as info:
            client.block(0)
        assert "key" in info.value.hint
        with pytest.raises(AuthRequired):
            next(iter(client.events(0, timeout=10)))


def test_sdk_signs_reads_and_the_event_stream(node: NodeProcess) -> None:
    with node.client() as client:
        assert client.block(0)["header"]["height"] == 0
        first = next(iter(client.events(0, timeout=30)))
        assert first["header"]["height"] == 0
    with (
        Client(node.url, key=get_scheme(ED25519).generate()) as stranger,
        pytest.raises(AuthUnknownKey),
    ):
        stranger.block(0)


# --- who may read what ---------------------------------------------------------------------------


def _credit_code() -> str:
    """A random, valid unified social credit code (GB 32100-2015 check character)."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + "".join(secrets.choice(chars) for _ in range(15))
    total = sum(chars.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + chars[(31 - total % 31) % 31]


def test_an_enterprise_follows_its_own_transactions_but_not_the_ledger(
    node: NodeProcess, member: KeyPair
) -> None:
    enterprise = get_scheme(ED25519).generate()
    with Client(node.url, key=enterprise) as client, node.client() as officer:
        # Its key is on no identity yet: it still submits and follows its registration.
        args = {"credit_code": _credit_code(), "name": "Harbour Foods Ltd."}
        outcome = client.send(enterprise, "identity", "register_enterprise", args)
        assert outcome.ok, outcome
        assert client.tx(outcome.tx_id)["status"] == "committed"
        # Registered, it is not a member of an organisation: blocks, state, events are closed.
        for read in (lambda: client.block(0), lambda: client.state(b"x")):
            with pytest.raises(AuthForbidden) as info:
                read()
            assert "not a member" in str(info.value) or "may not read" in str(info.value)
        # Someone else's transaction is closed too; a member reads both.
        other = officer.notarize(
            member, hashlib.sha256(os.urandom(8)).digest(), title="x", owner_org=MEMBER_ORG
        )
        with pytest.raises(AuthForbidden):
            client.tx(other.tx_id)
        assert officer.tx(outcome.tx_id)["status"] == "committed"
