"""Every rejection a node can answer, over raw HTTP: the status, an RFC 7807 problem document and
its stable code. Nothing rejected is committed and nothing committed is corrupted."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import httpx
import msgspec
import pytest

from govchain.client import add_signature, build_tx, tx_id_of
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import decode, encode
from govchain.types import Signature, SignedTx, TxBody, tx_sign_bytes

from .conftest import NodeFactory
from .nodeproc import NodeProcess

TAX, HEALTH = "tax", "health-commission"
PROBLEM = "application/problem+json"


# --- helpers -------------------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def post_tx(node: NodeProcess, raw: bytes | str) -> httpx.Response:
    tx = raw if isinstance(raw, str) else b64(raw)
    return httpx.post(node.url + "/v1/txs", json={"tx": tx}, timeout=30)


def post_batch(node: NodeProcess, raws: list[bytes]) -> httpx.Response:
    return httpx.post(node.url + "/v1/txs/batch", json={"txs": [b64(r) for r in raws]}, timeout=30)


def get(node: NodeProcess, path: str, **params: Any) -> httpx.Response:
    """A read signed as a member (public routes ignore the signature)."""
    return httpx.get(node.url + path, params=params, timeout=30, auth=node.network.signer())


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is a problem document with this status and code, a message and a hint."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem = response.json()
    assert problem["code"] == code, problem
    assert problem["status"] == status
    assert problem["title"] and problem["detail"] and problem["hint"], problem
    return problem


def assert_item_rejected(item: dict[str, Any], code: str) -> None:
    assert item["status"] == "rejected", item
    assert item["error"]["code"] == code, item
    assert item["error"]["detail"] and item["error"]["hint"], item


def height(node: NodeProcess) -> int:
    return int(node.status()["height"])


def anchor(
    node: NodeProcess,
    key: KeyPair,
    *,
    owner: str = TAX,
    doc_hash: bytes | None = None,
    title: str = "a document",
    valid_until: int | None = None,
    chain_id: str | None = None,
    nonce: bytes | None = None,
    sign: bool = True,
) -> bytes:
    """A notary anchor transaction (a fresh document unless ``doc_hash`` is given)."""
    status = node.status()
    return build_tx(
        key,
        chain_id=chain_id or status["chain_id"],
        contract="notary",
        method="anchor",
        args=AnchorArgs(doc_hash or os.urandom(32), title, owner),
        valid_until=status["height"] + 100 if valid_until is None else valid_until,
        nonce=nonce,
        sign=sign,
    )


def call(node: NodeProcess, key: KeyPair, contract: str, method: str, args: Any) -> bytes:
    status = node.status()
    return build_tx(
        key,
        chain_id=status["chain_id"],
        contract=contract,
        method=method,
        args=args,
        valid_until=status["height"] + 100,
    )


def wait_tx(node: NodeProcess, tx_id: str) -> dict[str, Any]:
    """A transaction's answer once it is no longer pending."""
    for _ in range(20):
        response = get(node, f"/v1/txs/{tx_id}", wait_ms=10_000)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        if answer["status"] != "pending":
            return answer
    pytest.fail(f"transaction {tx_id} stayed pending")


def assert_unknown(node: NodeProcess, tx_id: str) -> None:
    assert_problem(get(node, f"/v1/txs/{tx_id}"), 404, "NOT_FOUND")


@pytest.fixture(scope="module")
def node(shared_node: NodeProcess) -> NodeProcess:
    return shared_node


@pytest.fixture(scope="module")
def tax(node: NodeProcess) -> KeyPair:
    return node.network.key(TAX)


# --- admission rejections ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\xff\x00 this is not a transaction", id="garbage-bytes"),
        pytest.param(b"", id="empty"),
        pytest.param(encode(SignedTx(b"\x93garbage body", [])), id="garbage-body"),
        pytest.param(encode([1, 2, 3]), id="wrong-shape"),
    ],
)
def test_malformed_bytes_are_tx_malformed(node: NodeProcess, payload: bytes) -> None:
    assert_problem(post_tx(node, payload), 400, "TX_MALFORMED")


def test_valid_envelope_with_malformed_parts_is_tx_malformed(
    node: NodeProcess, tax: KeyPair
) -> None:
    short_nonce = anchor(node, tax, nonce=b"1234")
    assert_problem(post_tx(node, short_nonce), 400, "TX_MALFORMED")

    signed = decode(anchor(node, tax), SignedTx)
    twice = encode(SignedTx(signed.body, [*signed.signatures, *signed.signatures]))
    assert_problem(post_tx(node, twice), 400, "TX_MALFORMED")


def test_not_base64_is_bad_request(node: NodeProcess) -> None:
    assert_problem(post_tx(node, "*** not base64 ***"), 400, "BAD_REQUEST")
    response = httpx.post(node.url + "/v1/txs/batch", json={"txs": ["%%%"]}, timeout=30)
    assert_problem(response, 400, "BAD_REQUEST")


def test_empty_batch_is_bad_request(node: NodeProcess) -> None:
    response = httpx.post(node.url + "/v1/txs/batch", json={"txs": []}, timeout=30)
    assert_problem(response, 400, "BAD_REQUEST")


def test_too_big_a_batch_is_bad_request(node: NodeProcess) -> None:
    response = httpx.post(node.url + "/v1/txs/batch", json={"txs": ["AA=="] * 10_001}, timeout=30)
    assert_problem(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b'{"transaction": "AA=="}', "unknown field"),
        (b'{"tx": 5}', "wrong type"),
        (b"{not json", "not JSON"),
    ],
)
def test_requests_of_the_wrong_shape_are_problem_documents(
    node: NodeProcess, content: bytes, what: str
) -> None:
    response = httpx.post(
        node.url + "/v1/txs",
        content=content,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, what
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 400 and problem["code"] and problem["hint"], problem


def test_malformed_lookups_are_bad_request(node: NodeProcess) -> None:
    assert_problem(get(node, "/v1/txs/not-hex"), 400, "BAD_REQUEST")
    assert_problem(get(node, "/v1/txs/abcd"), 400, "BAD_REQUEST")  # hex, but not 32 bytes
    assert_problem(get(node, "/v1/blocks/hash/zz"), 400, "BAD_REQUEST")


def test_oversized_transaction_is_413(node: NodeProcess, tax: KeyPair) -> None:
    limit = node.network.genesis["params"]["max_tx_bytes"]
    raw = anchor(node, tax, title="x" * (limit + 1))
    assert len(raw) > limit
    problem = assert_problem(post_tx(node, raw), 413, "TX_TOO_LARGE")
    assert problem["details"]["limit"] == limit
    assert_unknown(node, tx_id_of(raw).hex())


def test_wrong_chain_is_rejected(node: NodeProcess, tax: KeyPair) -> None:
    raw = anchor(node, tax, chain_id="some-other-chain")
    assert_problem(post_tx(node, raw), 400, "TX_WRONG_CHAIN")
    assert_unknown(node, tx_id_of(raw).hex())


def test_flipped_signature_byte_is_bad_signature(node: NodeProcess, tax: KeyPair) -> None:
    signed = decode(anchor(node, tax), SignedTx)
    sig = signed.signatures[0]
    flipped = bytes([sig.signature[0] ^ 0x01]) + sig.signature[1:]
    raw = encode(SignedTx(signed.body, [Signature(sig.public_key, flipped, sig.scheme)]))
    assert_problem(post_tx(node, raw), 401, "TX_BAD_SIGNATURE")
    assert_unknown(node, tx_id_of(raw).hex())


def test_a_bad_cosignature_is_bad_signature(node: NodeProcess, tax: KeyPair) -> None:
    health = node.network.key(HEALTH)
    signed = decode(add_signature(anchor(node, tax), health), SignedTx)
    good, co = signed.signatures
    forged = Signature(co.public_key, bytes(64), co.scheme)
    raw = encode(SignedTx(signed.body, [good, forged]))
    assert_problem(post_tx(node, raw), 401, "TX_BAD_SIGNATURE")


def test_sender_must_sign(node: NodeProcess, tax: KeyPair) -> None:
    health = node.network.key(HEALTH)
    signed_by_other = add_signature(anchor(node, tax, sign=False), health)
    assert_problem(post_tx(node, signed_by_other), 401, "TX_MISSING_SIGNATURE")
    unsigned = anchor(node, tax, sign=False)
    assert_problem(post_tx(node, unsigned), 401, "TX_MISSING_SIGNATURE")


def test_unregistered_key_is_unknown_sender(node: NodeProcess) -> None:
    stranger = get_scheme(ED25519).generate()
    raw = anchor(node, stranger)
    assert_problem(post_tx(node, raw), 403, "TX_UNKNOWN_SENDER")
    assert_unknown(node, tx_id_of(raw).hex())


def test_committed_transaction_cannot_be_replayed(node: NodeProcess, tax: KeyPair) -> None:
    raw = anchor(node, tax)
    response = post_tx(node, raw)
    assert response.status_code == 202, response.text
    tx_id = response.json()["tx_id"]
    assert wait_tx(node, tx_id)["status"] == "committed"
    assert_problem(post_tx(node, raw), 409, "TX_REPLAYED")
    # Extra signatures do not make it a new transaction.
    cosigned = add_signature(raw, node.network.key(HEALTH))
    assert_problem(post_tx(node, cosigned), 409, "TX_REPLAYED")
    batch = post_batch(node, [raw]).json()
    assert batch["accepted"] == 0 and batch["rejected"] == 1
    assert_item_rejected(batch["results"][0], "TX_REPLAYED")


def test_expired_and_too_distant_transactions(node: NodeProcess, tax: KeyPair) -> None:
    h = height(node)
    expired = anchor(node, tax, valid_until=h)  # the next block is h + 1
    problem = assert_problem(post_tx(node, expired), 400, "TX_EXPIRED")
    assert problem["details"]["valid_until"] == h
    lifetime = node.network.genesis["params"]["max_tx_lifetime"]
    distant = anchor(node, tax, valid_until=h + lifetime + 10)
    assert_problem(post_tx(node, distant), 400, "TX_EXPIRED")
    at_the_limit = anchor(node, tax, valid_until=h + lifetime)
    response = post_tx(node, at_the_limit)
    assert response.status_code == 202, response.text
    assert wait_tx(node, response.json()["tx_id"])["status"] == "committed"


def test_unknown_contract_and_method(node: NodeProcess, tax: KeyPair) -> None:
    raw = call(node, tax, "lottery", "draw", {})
    problem = assert_problem(post_tx(node, raw), 404, "TX_UNKNOWN_CONTRACT")
    assert "notary" in problem["details"]["known"]
    raw = call(node, tax, "notary", "erase", {"hash": os.urandom(32)})
    problem = assert_problem(post_tx(node, raw), 404, "TX_UNKNOWN_METHOD")
    assert "anchor" in problem["details"]["known"]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({"hash": 5, "title": "t", "owner_org": TAX}, id="wrong-type"),
        pytest.param({"title": "t", "owner_org": TAX}, id="missing-field"),
        pytest.param(
            {"hash": b"\x01" * 32, "title": "t", "owner_org": TAX, "colour": "red"},
            id="unknown-field",
        ),
        pytest.param([1, 2], id="not-a-map"),
    ],
)
def test_invalid_arguments(node: NodeProcess, tax: KeyPair, args: Any) -> None:
    raw = call(node, tax, "notary", "anchor", args)
    assert_problem(post_tx(node, raw), 400, "TX_INVALID_ARGS")


def test_arguments_that_are_not_messagepack_are_malformed(node: NodeProcess, tax: KeyPair) -> None:
    status = node.status()
    body = encode(
        TxBody(
            status["chain_id"],
            tax.public_key,
            os.urandom(16),
            status["height"] + 100,
            "notary",
            "anchor",
            msgspec.Raw(b"\xc1"),  # a byte MessagePack never uses
            tax.scheme,
        )
    )
    signature = Signature(tax.public_key, tax.sign(tx_sign_bytes(body)), tax.scheme)
    assert_problem(post_tx(node, encode(SignedTx(body, [signature]))), 400, "TX_MALFORMED")


# --- contract failures: committed with a failed receipt ------------------------------------------


def _committed_failure(node: NodeProcess, raw: bytes, code: str) -> dict[str, Any]:
    response = post_tx(node, raw)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    answer = wait_tx(node, response.json()["tx_id"])
    assert answer["status"] == "committed", answer
    receipt = answer["receipt"]
    assert receipt["ok"] is False
    assert receipt["code"] == code
    assert receipt["message"] and receipt["hint"]
    block = get(node, f"/v1/blocks/{answer['height']}").json()
    assert answer["tx_id"] in block["tx_ids"]
    assert answer["tx_id"] in block["failed_tx_ids"]
    return answer


def test_anchoring_twice_commits_a_failed_receipt(node: NodeProcess, tax: KeyPair) -> None:
    doc_hash = os.urandom(32)
    first = post_tx(node, anchor(node, tax, doc_hash=doc_hash, title="first"))
    assert wait_tx(node, first.json()["tx_id"])["receipt"]["ok"] is True
    answer = _committed_failure(
        node, anchor(node, tax, doc_hash=doc_hash, title="second"), "NOTARY_ALREADY_ANCHORED"
    )
    assert doc_hash.hex() in answer["receipt"]["message"]
    record = get(node, f"/v1/notary/{doc_hash.hex()}").json()["record"]
    assert record["title"] == "first"  # the failed transaction changed nothing


def test_anchoring_for_another_org_commits_a_failed_receipt(
    node: NodeProcess, tax: KeyPair
) -> None:
    doc_hash = os.urandom(32)
    _committed_failure(node, anchor(node, tax, owner=HEALTH, doc_hash=doc_hash), "NOTARY_NOT_OWNER")
    assert_problem(get(node, f"/v1/notary/{doc_hash.hex()}"), 404, "NOTARY_NOT_FOUND")


# --- lookups -------------------------------------------------------------------------------------


def test_unknown_ids_heights_and_hashes_are_not_found(node: NodeProcess) -> None:
    assert_problem(get(node, f"/v1/txs/{os.urandom(32).hex()}"), 404, "NOT_FOUND")
    assert_problem(get(node, f"/v1/blocks/{height(node) + 1000}"), 404, "NOT_FOUND")
    assert_problem(get(node, f"/v1/blocks/hash/{os.urandom(32).hex()}"), 404, "NOT_FOUND")
    assert_problem(get(node, "/v1/state/abcd", height=height(node) + 1000), 404, "NOT_FOUND")
    assert_problem(get(node, f"/v1/notary/{os.urandom(32).hex()}"), 404, "NOTARY_NOT_FOUND")


# --- batches -------------------------------------------------------------------------------------


def test_batch_mixing_good_and_bad_transactions(node: NodeProcess, tax: KeyPair) -> None:
    h = height(node)
    signed = decode(anchor(node, tax), SignedTx)
    sig = signed.signatures[0]
    bad_signature = encode(
        SignedTx(signed.body, [Signature(sig.public_key, sig.signature[::-1], sig.scheme)])
    )
    good = [anchor(node, tax) for _ in range(3)]
    already = anchor(node, tax)
    assert wait_tx(node, post_tx(node, already).json()["tx_id"])["status"] == "committed"
    cases: list[tuple[bytes, str | None]] = [
        (good[0], None),
        (anchor(node, tax, chain_id="elsewhere"), "TX_WRONG_CHAIN"),
        (b"\xc1garbage", "TX_MALFORMED"),
        (good[1], None),
        (bad_signature, "TX_BAD_SIGNATURE"),
        (anchor(node, get_scheme(ED25519).generate()), "TX_UNKNOWN_SENDER"),
        (anchor(node, tax, valid_until=h), "TX_EXPIRED"),
        (call(node, tax, "nope", "nothing", {}), "TX_UNKNOWN_CONTRACT"),
        (call(node, tax, "notary", "anchor", {"hash": 1}), "TX_INVALID_ARGS"),
        (already, "TX_REPLAYED"),
        (good[2], None),
        (good[2], "TX_REPLAYED"),  # twice in one batch: the second copy is refused
    ]
    response = post_batch(node, [raw for raw, _ in cases])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 3
    assert body["rejected"] == len(cases) - 3
    assert len(body["results"]) == len(cases)
    for (raw, code), item in zip(cases, body["results"], strict=True):
        if code is None:
            assert item["status"] == "pending", item
            assert item["tx_id"] == tx_id_of(raw).hex()
        else:
            assert_item_rejected(item, code)
    for raw in good:
        answer = wait_tx(node, tx_id_of(raw).hex())
        assert answer["status"] == "committed" and answer["receipt"]["ok"] is True
    for raw, code in cases:
        if code in ("TX_WRONG_CHAIN", "TX_BAD_SIGNATURE", "TX_UNKNOWN_SENDER", "TX_EXPIRED"):
            assert_unknown(node, tx_id_of(raw).hex())


# --- a node with a small mempool and a long block interval ---------------------------------------


@pytest.fixture(scope="module")
def slow_node(module_node_factory: NodeFactory) -> NodeProcess:
    """Blocks are cut only after ten minutes, so admitted transactions stay pending."""
    return module_node_factory(
        genesis={"block_interval_ms": 600_000}, config={"mempool_max_txs": 5}
    )


def test_replays_while_pending(slow_node: NodeProcess) -> None:
    key = slow_node.network.key(TAX)
    raw = anchor(slow_node, key)
    body = post_batch(slow_node, [raw, raw]).json()
    assert body["accepted"] == 1
    assert body["results"][0]["status"] == "pending"
    assert_item_rejected(body["results"][1], "TX_REPLAYED")
    assert_problem(post_tx(slow_node, raw), 409, "TX_REPLAYED")
    answer = get(slow_node, f"/v1/txs/{tx_id_of(raw).hex()}").json()
    assert answer["status"] == "pending"


def test_mempool_full_admits_nothing_of_the_batch(slow_node: NodeProcess) -> None:
    key = slow_node.network.key(TAX)
    room = 5 - slow_node.status()["mempool_txs"]
    assert room >= 2
    fill = [anchor(slow_node, key) for _ in range(room - 2)]
    if fill:
        assert post_batch(slow_node, fill).json()["accepted"] == len(fill)
    assert slow_node.status()["mempool_txs"] == 3

    too_many = [anchor(slow_node, key) for _ in range(3)]
    response = post_batch(slow_node, too_many)
    problem = assert_problem(response, 503, "MEMPOOL_FULL")
    assert int(response.headers["Retry-After"]) >= 1
    assert problem["details"]["limit"] == 5
    assert slow_node.status()["mempool_txs"] == 3
    for raw in too_many:
        assert_unknown(slow_node, tx_id_of(raw).hex())

    # What fits is admitted; then the single-transaction route is refused the same way.
    assert post_batch(slow_node, too_many[:2]).json()["accepted"] == 2
    assert slow_node.status()["mempool_txs"] == 5
    response = post_tx(slow_node, too_many[2])
    assert_problem(response, 503, "MEMPOOL_FULL")
    assert "Retry-After" in response.headers
    assert_unknown(slow_node, tx_id_of(too_many[2]).hex())
    metrics = httpx.get(slow_node.url + "/metrics", timeout=10).text
    assert "govchain_mempool_txs 5.0" in metrics


# --- nothing committed was corrupted -------------------------------------------------------------


def test_ledger_verifies_after_all_rejections(node: NodeProcess, slow_node: NodeProcess) -> None:
    """Last in this module: every rejection above left the stored ledger intact. The nodes are
    started again afterwards, so the test does not depend on running last."""
    for proc in (node, slow_node):
        proc.stop()
        result = proc.network.verify("--json")
        assert result.returncode == 0, result.stdout + result.stderr
        report = json.loads(result.stdout)
        assert report["ok"] is True and report["first_bad_height"] is None, report
        proc.start()
