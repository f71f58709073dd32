"""The SDK's public ``Client.get`` and ``Client.post``: what they send, what they answer, how
they fail — against a mock transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from govchain.client import Client
from govchain.crypto.signing import get_scheme
from govchain.errors import AuthRequired, GovchainError

PROBLEM = "application/problem+json"


def _client(seen: list[httpx.Request], answer: httpx.Response, **kwargs: Any) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    return Client("http://node.test", transport=httpx.MockTransport(handler), **kwargs)


def test_get_sends_the_query_and_answers_the_decoded_json() -> None:
    seen: list[httpx.Request] = []
    client = _client(seen, httpx.Response(200, json=[{"id": "a"}]))
    assert client.get("/v1/catalog/resources", params={"org": "tax", "limit": 5}) == [{"id": "a"}]
    assert client.get("/v1/services") == [{"id": "a"}]
    first, second = seen
    assert first.method == "GET" and first.url.path == "/v1/catalog/resources"
    assert dict(first.url.params) == {"org": "tax", "limit": "5"}
    assert second.url.query == b"" and second.content == b""


def test_get_repeats_a_list_parameter() -> None:
    seen: list[httpx.Request] = []
    client = _client(seen, httpx.Response(200, json={}))
    client.get("/v1/credentials/issuers/trust", params={"org": ["tax", "health"]})
    assert seen[0].url.params.get_list("org") == ["tax", "health"]


def test_post_sends_a_json_body_and_the_query() -> None:
    seen: list[httpx.Request] = []
    client = _client(seen, httpx.Response(200, json={"valid": True}))
    body = {"document": "{}"}
    assert client.post("/v1/services/check", json=body, params={"dry": True}) == {"valid": True}
    assert client.post("/v1/services/check") == {"valid": True}
    sent, empty = seen
    assert sent.method == "POST" and json.loads(sent.content) == body
    assert sent.headers["content-type"] == "application/json"
    assert dict(sent.url.params) == {"dry": "true"}
    assert empty.content == b""


def test_an_error_answer_raises_its_typed_error() -> None:
    problem = {"code": "AUTH_REQUIRED", "detail": "reading this needs a signed request"}
    client = _client([], httpx.Response(401, json=problem, headers={"content-type": PROBLEM}))
    with pytest.raises(AuthRequired) as raised:
        client.get("/v1/audit/access", params={"org": "tax"})
    assert raised.value.details["status"] == 401
    assert "key" in (raised.value.hint or "")  # the keyless client says how to sign
    with pytest.raises(AuthRequired):
        client.post("/v1/services/check", json={})


def test_an_unreachable_node_raises_a_govchain_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = Client("http://node.test", transport=httpx.MockTransport(handler))
    with pytest.raises(GovchainError, match="cannot reach"):
        client.get("/v1/services")


def test_with_a_key_the_requests_are_signed() -> None:
    seen: list[httpx.Request] = []
    key = get_scheme("ed25519").generate()
    client = _client(seen, httpx.Response(200, json={}), key=key)
    client.get("/v1/sharing/requests")
    client.post("/v1/services/check", json={"document": "{}"})
    assert all(r.headers["authorization"].startswith("Govchain-Ed25519 ") for r in seen)
    assert all(f"key={key.public_key.hex()}" in r.headers["authorization"] for r in seen)
