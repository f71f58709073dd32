"""The requesting side refuses answers that do not check out; who may act for whom; proven reads
cached only while current."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from gateway_fakes import (
    GRANT_ID,
    REQUESTER,
    RESOURCE,
    SUBJECT,
    World,
    grant,
    key,
    make_world,
    member,
    org,
)
from litestar.testing import TestClient
from litestar.testing import transport as litestar_transport

from govchain.client.gateway import GatewayClient, KeyHolder, get_acting_problem
from govchain.contracts.identity import KeyEntry
from govchain.contracts.sharing_records import grant_state_key
from govchain.crypto.hashing import sha256
from govchain.encoding import encode
from govchain.errors import GovchainError
from govchain.gateway.app import create_gateway_app
from govchain.gateway.chain import ChainView
from govchain.gateway.protocol import (
    ENVELOPE_VERSION,
    FETCH_PATH,
    EnvelopePayload,
    decode_receipt,
    encode_receipt,
    seal_envelope,
    sign_receipt,
)

URL = "http://gateway.test"


class Tampering(httpx.BaseTransport):
    """Forwards to the app; ``alter`` rewrites the fetch answer's JSON."""

    def __init__(self, http: TestClient[Any], alter: Any) -> None:
        self.inner = litestar_transport.TestClientTransport(http)
        self.alter = alter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != FETCH_PATH or response.status_code != 200:
            return response
        response.read()
        answer = self.alter(msgspec.json.decode(response.content))
        return httpx.Response(200, json=answer)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


@pytest.fixture
def http(world: World) -> Iterator[TestClient[Any]]:
    with TestClient(create_gateway_app(world.service, manage=False), base_url=URL) as client:
        yield client


def _fetch_code(http: TestClient[Any], world: World, alter: Any) -> str:
    transport = Tampering(http, alter)
    with (
        GatewayClient(URL, key=world.requester_key, transport=transport) as gw,
        pytest.raises(GovchainError) as err,
    ):
        gw.fetch(
            GRANT_ID, resource_id=RESOURCE, subject=SUBJECT, fields=["name"], requester=REQUESTER
        )
    return err.value.code


def _other_envelope(answer: dict[str, Any], world: World, **payload: Any) -> dict[str, Any]:
    receipt = decode_receipt(answer["receipt"])
    fields = {
        "v": ENVELOPE_VERSION,
        "grant_id": GRANT_ID,
        "request_hash": receipt.request_hash.hex(),
        "resource_id": RESOURCE,
        "subject": SUBJECT,
        "values": {"name": "x"},
        **payload,
    }
    envelope = seal_envelope(EnvelopePayload(**fields), world.requester_key.public_key)
    resigned = sign_receipt(
        msgspec.structs.replace(receipt, response_hash=sha256(envelope)), world.owner_key
    )
    return {"envelope": base64.b64encode(envelope).decode(), "receipt": encode_receipt(resigned)}


def test_an_honest_answer_passes(http: TestClient[Any], world: World) -> None:
    with GatewayClient(URL, key=world.requester_key, transport=Tampering(http, lambda a: a)) as gw:
        result = gw.fetch(
            GRANT_ID, resource_id=RESOURCE, subject=SUBJECT, fields=["name"], requester=REQUESTER
        )
    assert result.countersigned and list(result.values) == ["name"]


@pytest.mark.parametrize(
    "alter",
    [
        # the envelope swapped: the receipt's response hash no longer matches
        lambda a, w: {**a, "envelope": base64.b64encode(b"x" * 80).decode()},
        # the owner's signature broken
        lambda a, w: {
            **a,
            "receipt": encode_receipt(
                msgspec.structs.replace(decode_receipt(a["receipt"]), owner_signature=b"\0" * 64)
            ),
        },
        # a receipt for other fields, properly signed by the owner
        lambda a, w: {
            **a,
            "receipt": encode_receipt(
                sign_receipt(
                    msgspec.structs.replace(decode_receipt(a["receipt"]), fields=["status"]),
                    w.owner_key,
                )
            ),
        },
        # an envelope answering another request
        lambda a, w: _other_envelope(a, w, request_hash="00" * 32),
        # an envelope with fields not asked for
        lambda a, w: _other_envelope(a, w, values={"name": "x", "status": "y"}),
        # not base64
        lambda a, w: {**a, "envelope": "***"},
        # not an answer at all
        lambda a, w: {"nothing": 1},
    ],
    ids=["envelope", "owner-signature", "fields", "request", "extra-field", "base64", "shape"],
)
def test_answers_that_do_not_check_out(http: TestClient[Any], world: World, alter: Any) -> None:
    assert _fetch_code(http, world, lambda a: alter(a, world)) == "GATEWAY_RESPONSE_INVALID"


# --- who may act for whom -----------------------------------------------------------------------


def _holder(identity: Any, parent: Any = None, height: int = 10) -> KeyHolder:
    return KeyHolder(identity.keys[0].public_key, identity, parent, height)


def test_acting_for() -> None:
    pair = key("a")
    admin = member("tax", "admin", pair)
    assert get_acting_problem(_holder(admin, org("tax")), pair.public_key, "tax") is None
    assert get_acting_problem(_holder(admin, org("tax")), pair.public_key, "tax:admin") is None
    assert "does not act" in str(
        get_acting_problem(_holder(admin, org("tax")), pair.public_key, "x")
    )
    assert "not registered" in str(get_acting_problem(None, pair.public_key, "tax"))
    inactive_org = msgspec.structs.replace(org("tax"), status="suspended")
    assert "not active" in str(
        get_acting_problem(_holder(admin, inactive_org), pair.public_key, "tax")
    )
    rotated = msgspec.structs.replace(admin, keys=[KeyEntry(pair.public_key, 1, until_height=5)])
    assert "no longer valid" in str(
        get_acting_problem(_holder(rotated, org("tax")), pair.public_key, "tax")
    )
    suspended = msgspec.structs.replace(admin, status="suspended")
    assert "suspended" in str(
        get_acting_problem(_holder(suspended, org("tax")), pair.public_key, "tax")
    )


# --- proven reads, cached while current ----------------------------------------------------------


class FakeNode:
    def __init__(self) -> None:
        self.height = 10
        self.reads = 0
        self.value = encode(grant())

    def state(self, key: bytes, *, height: int | None = None) -> dict[str, Any]:
        self.reads += 1
        assert key == grant_state_key(GRANT_ID)
        return {"value": self.value.hex(), "height": self.height}


def test_grant_reads_are_cached_only_while_no_block_came(tmp_path: Path) -> None:
    node = FakeNode()
    now = [0.0]
    view = ChainView(node, cache_ms=1000, clock=lambda: now[0])  # type: ignore[arg-type]
    view.grant(GRANT_ID)
    view.grant(GRANT_ID)
    assert node.reads == 2  # not following the chain: nothing is cached
    view._set_head(10)
    view.grant(GRANT_ID)
    proven = view.grant(GRANT_ID)
    assert node.reads == 3 and encode(proven.grant) == node.value
    node.height = 11
    view.note_height(11)  # a new block: the cached grant may be stale
    view.grant(GRANT_ID)
    assert node.reads == 4
    now[0] = 2.0  # older than cache_ms
    view.grant(GRANT_ID)
    assert node.reads == 5
    view.stop()
    view.grant(GRANT_ID)
    assert node.reads == 6


def test_an_unreachable_node_is_chain_unavailable() -> None:
    class Down:
        def state(self, key: bytes, *, height: int | None = None) -> Any:
            raise GovchainError("cannot reach http://node")

    with pytest.raises(GovchainError) as err:
        ChainView(Down()).grant(GRANT_ID)  # type: ignore[arg-type]
    assert err.value.code == "GATEWAY_CHAIN_UNAVAILABLE"
