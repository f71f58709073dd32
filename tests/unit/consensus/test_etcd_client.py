"""The etcd JSON-gateway client without a server: key ranges and failover (httpx mock
transport); the real gateway is exercised by tests/integration/multinode."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest

from govchain.consensus.etcd_client import EtcdClient, EtcdCompacted, EtcdUnavailable, prefix_end


def test_prefix_end() -> None:
    assert prefix_end(b"/a/") == b"/a0"
    assert prefix_end(b"a\xff") == b"b"
    assert prefix_end(b"\xff\xff") == b"\x00"


def _client(
    handler: httpx.MockTransport, endpoints: list[str], retry_for: float = 0.2
) -> EtcdClient:
    client = EtcdClient(endpoints, retry_for=retry_for)
    client._http = httpx.AsyncClient(transport=handler)
    return client


def test_requests_fail_over_to_the_next_member() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == "m1":
            raise httpx.ConnectError("refused")
        body = json.loads(request.content)
        assert base64.b64decode(body["key"]) == b"k"
        value = base64.b64encode(b"v").decode()
        kv = {"key": body["key"], "value": value, "create_revision": "3", "mod_revision": "4"}
        return httpx.Response(200, json={"header": {"revision": "9"}, "kvs": [kv]})

    async def run() -> None:
        client = _client(httpx.MockTransport(handle), ["http://m1:2379", "http://m2:2379"])
        revision, kvs, more = await client.range(b"k")
        await client.aclose()
        assert (revision, kvs[0].value, kvs[0].create_revision, more) == (9, b"v", 3, False)

    asyncio.run(run())
    assert seen == ["m1", "m2"]


def test_no_member_answering_is_a_typed_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async def run() -> None:
        client = _client(httpx.MockTransport(handle), ["http://m1:2379"])
        try:
            await client.put(b"k", b"v")
        finally:
            await client.aclose()

    with pytest.raises(EtcdUnavailable) as info:
        asyncio.run(run())
    assert info.value.code == "ETCD_UNAVAILABLE"
    assert info.value.status == 503


def test_a_transaction_reports_whether_its_comparisons_held() -> None:
    answers = iter([{"header": {}, "succeeded": True}, {"header": {}}])

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v3/kv/txn"
        return httpx.Response(200, json=next(answers))

    async def run() -> tuple[bool, bool]:
        client = _client(httpx.MockTransport(handle), ["http://m1:2379"])
        first, second = await client.create(b"k", b"v"), await client.create(b"k", b"v")
        await client.aclose()
        return first, second

    assert asyncio.run(run()) == (True, False)


def test_a_watch_on_compacted_history_is_a_typed_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v3/watch"
        lines = [
            {"result": {"header": {"revision": "50"}, "created": True}},
            {"result": {"header": {"revision": "50"}, "canceled": True, "compact_revision": "40"}},
        ]
        return httpx.Response(200, content="\n".join(json.dumps(x) for x in lines).encode())

    async def run() -> None:
        client = _client(httpx.MockTransport(handle), ["http://m1:2379"])
        try:
            async for _ in client.watch(b"/p/", b"/p0", 3):
                pass
        finally:
            await client.aclose()

    with pytest.raises(EtcdCompacted) as info:
        asyncio.run(run())
    assert info.value.code == "ETCD_COMPACTED"


def test_a_watch_delivers_events_in_order() -> None:
    def kv(key: bytes, rev: int) -> dict[str, object]:
        return {"key": base64.b64encode(key).decode(), "value": "", "mod_revision": str(rev)}

    def handle(request: httpx.Request) -> httpx.Response:
        lines = [
            {"result": {"header": {"revision": "5"}, "created": True}},
            {"result": {"header": {}, "events": [{"kv": kv(b"/p/1", 6)}, {"kv": kv(b"/p/2", 7)}]}},
            {"result": {"header": {}, "events": [{"type": "DELETE", "kv": kv(b"/p/1", 8)}]}},
        ]
        return httpx.Response(200, content="\n".join(json.dumps(x) for x in lines).encode())

    async def run() -> list[tuple[str, bytes]]:
        client = _client(httpx.MockTransport(handle), ["http://m1:2379"])
        out = []
        async for events in client.watch(b"/p/", b"/p0", 6):
            out += [(e.type, e.kv.key) for e in events]
        await client.aclose()
        return out

    assert asyncio.run(run()) == [("PUT", b"/p/1"), ("PUT", b"/p/2"), ("DELETE", b"/p/1")]
