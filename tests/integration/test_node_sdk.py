"""A real node driven through the Python SDK: writes, reads, proofs, events, metrics, restart."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from govchain.client import (
    Client,
    TrustAnchor,
    add_signature,
    build_tx,
    tx_id_of,
    verify_state_answer,
    verify_tx_answer,
)
from govchain.contracts.notary import AnchorArgs, notary_state_key
from govchain.errors import GovchainError, ProofError

from .nodeproc import NodeProcess

TAX, HEALTH = "tax", "health-commission"


def _doc(label: str) -> bytes:
    """A unique document per call, so tests never collide on a shared node."""
    return f"{label} {os.urandom(8).hex()}".encode()


@pytest.fixture(scope="module")
def trust(shared_node: NodeProcess) -> TrustAnchor:
    return shared_node.trust_anchor()


@pytest.fixture
def client(shared_node: NodeProcess, trust: TrustAnchor) -> Iterator[Client]:
    with shared_node.client(trust=trust) as c:
        yield c


def test_status_describes_the_chain(shared_node: NodeProcess, client: Client) -> None:
    status = client.status()
    genesis = shared_node.network.genesis
    assert status["chain_id"] == genesis["chain_id"]
    assert status["node_id"] == "node0"
    assert status["height"] >= 0
    block0 = client.block(0)
    assert status["genesis_hash"] == block0["header"]["hash"]
    latest = client.block("latest")
    assert latest["header"]["height"] == status["height"]
    assert latest["header"]["hash"] == status["block_hash"]
    assert latest["header"]["state_root"] == status["state_root"]


def test_notarize_and_read_back_with_verified_proof(
    shared_node: NodeProcess, client: Client
) -> None:
    document = _doc("lease contract")
    outcome = client.notarize(
        shared_node.network.key(TAX),
        document,
        title="Lease",
        owner_org=TAX,
        metadata={"case": "42"},
    )
    assert outcome.status == "committed" and outcome.ok, outcome
    assert outcome.height is not None and outcome.height >= 1

    doc_hash = hashlib.sha256(document).digest()
    answer = client.notary(doc_hash)  # raises unless the state proof checks out
    record = answer["record"]
    assert record["hash"] == doc_hash.hex()
    assert record["title"] == "Lease"
    assert record["owner_org"] == TAX
    assert record["metadata"] == {"case": "42"}
    assert record["height"] == outcome.height
    assert record["tx_id"] == outcome.tx_id
    assert answer["state"]["exists"] is True
    assert bytes.fromhex(answer["state"]["key"]) == notary_state_key(doc_hash)


def test_tx_inclusion_proofs_verify_against_the_trust_anchor(
    shared_node: NodeProcess, client: Client, trust: TrustAnchor
) -> None:
    outcome = client.notarize(
        shared_node.network.key(TAX), _doc("permit"), title="Permit", owner_org=TAX
    )
    answer = client.tx(outcome.tx_id)  # verified with the trust anchor
    assert answer["status"] == "committed"
    assert answer["height"] == outcome.height
    assert answer["receipt"]["ok"] is True
    header = verify_tx_answer(answer, trust)
    assert header.height == outcome.height
    assert header.tx_root.hex() == answer["header"]["tx_root"]

    # The checks are real: a tampered proof, transaction or signature is refused.
    if answer["tx_proof"]["path"]:
        forged = copy.deepcopy(answer)
        forged["tx_proof"]["path"][0] = "00" * 32
        with pytest.raises(ProofError):
            verify_tx_answer(forged, trust)
    forged = copy.deepcopy(answer)
    forged["receipt_raw"] = forged["receipt_raw"][:-2] + (
        "00" if forged["receipt_raw"][-2:] != "00" else "01"
    )
    with pytest.raises(GovchainError):
        verify_tx_answer(forged, trust)
    stranger = TrustAnchor(trust.chain_id, trust.genesis_hash, [os.urandom(32)])
    with pytest.raises(ProofError):
        verify_tx_answer(answer, stranger)
    other_chain = TrustAnchor("another-chain", trust.genesis_hash, trust.node_keys)
    with pytest.raises(ProofError):
        verify_tx_answer(answer, other_chain)


def test_state_proofs_of_membership_and_absence_at_latest_and_historical_heights(
    shared_node: NodeProcess, client: Client, trust: TrustAnchor
) -> None:
    before = client.status()["height"]
    document = _doc("state proof")
    doc_hash = hashlib.sha256(document).digest()
    key = notary_state_key(doc_hash)
    outcome = client.notarize(shared_node.network.key(TAX), document, title="State", owner_org=TAX)
    anchored_at = outcome.height
    assert anchored_at is not None and anchored_at > before

    latest = client.state(key)  # verified membership
    assert latest["exists"] is True and latest["value"] is not None
    assert latest["height"] >= anchored_at
    header = verify_state_answer(latest, trust)
    assert header.state_root.hex() == latest["header"]["state_root"]

    absent = client.state(b"notary/doc/" + os.urandom(32))  # verified absence
    assert absent["exists"] is False and absent["value"] is None
    verify_state_answer(absent, trust)

    historical_absent = client.state(key, height=before)
    assert historical_absent["height"] == before
    assert historical_absent["exists"] is False
    verify_state_answer(historical_absent, trust)

    historical_present = client.state(key, height=anchored_at)
    assert historical_present["height"] == anchored_at
    assert historical_present["value"] == latest["value"]
    block = client.block(anchored_at)
    assert historical_present["header"]["state_root"] == block["header"]["state_root"]

    # A proof for one value does not prove another one.
    forged = copy.deepcopy(latest)
    forged["value"] = (b"x" + bytes.fromhex(latest["value"])).hex()
    with pytest.raises(ProofError):
        verify_state_answer(forged, trust)
    forged = copy.deepcopy(absent)
    forged["value"] = "00"
    with pytest.raises(ProofError):
        verify_state_answer(forged, trust)


def test_batch_of_300_transactions_all_commit(shared_node: NodeProcess, client: Client) -> None:
    key = shared_node.network.key(TAX)
    status = client.status()
    tag = os.urandom(8)
    raws = [
        build_tx(
            key,
            chain_id=status["chain_id"],
            contract="notary",
            method="anchor",
            args=AnchorArgs(hashlib.sha256(tag + i.to_bytes(4, "big")).digest(), f"doc {i}", TAX),
            valid_until=status["height"] + 100,
        )
        for i in range(300)
    ]
    answer = client.submit_batch(raws)
    assert answer["accepted"] == 300 and answer["rejected"] == 0
    ids = [item["tx_id"] for item in answer["results"]]
    assert ids == [tx_id_of(r).hex() for r in raws]
    assert all(item["status"] == "pending" for item in answer["results"])
    heights = set()
    for tx_id in ids:
        outcome = client.wait(tx_id, timeout=60)
        assert outcome.status == "committed" and outcome.ok, outcome
        heights.add(outcome.height)
    committed = sum(len(client.block(h)["tx_ids"]) for h in heights)
    assert committed >= 300


def test_blocks_by_height_and_by_hash(shared_node: NodeProcess, client: Client) -> None:
    outcome = client.notarize(
        shared_node.network.key(TAX), _doc("block read"), title="Blocks", owner_org=TAX
    )
    height = outcome.height
    assert height is not None
    by_height = client.block(height)
    header = by_height["header"]
    assert header["height"] == height
    assert outcome.tx_id in by_height["tx_ids"]
    assert header["tx_count"] == len(by_height["tx_ids"])
    by_hash = client.block_by_hash(header["hash"])
    assert by_hash == by_height
    previous = client.block(height - 1)
    assert header["prev_hash"] == previous["header"]["hash"]

    full = client.block(height, full=True)
    assert len(full["txs"]) == len(full["receipts"]) == header["tx_count"]
    index = full["tx_ids"].index(outcome.tx_id)
    assert full["txs"][index]["contract"] == "notary"
    assert full["receipts"][index]["ok"] is True
    assert client.block_by_hash(header["hash"], full=True) == full


def test_multi_party_transaction_is_accepted(shared_node: NodeProcess, client: Client) -> None:
    tax_key, health_key = shared_node.network.key(TAX), shared_node.network.key(HEALTH)
    document = _doc("joint decision")
    raw = client.build(
        tax_key,
        "notary",
        "anchor",
        {"hash": hashlib.sha256(document).hexdigest(), "title": "Joint", "owner_org": TAX},
    )
    cosigned = add_signature(raw, health_key)
    assert tx_id_of(cosigned) == tx_id_of(raw)  # co-signing does not make a new transaction
    assert add_signature(cosigned, health_key) == cosigned  # signing twice changes nothing

    tx_id = client.submit(cosigned)
    assert tx_id == tx_id_of(raw).hex()
    outcome = client.wait(tx_id)
    assert outcome.status == "committed" and outcome.ok, outcome
    answer = client.tx(tx_id)
    assert answer["receipt"]["ok"] is True and answer["receipt"]["code"] == ""
    signers = {s["public_key"] for s in answer["tx"]["signatures"]}
    assert signers == {tax_key.public_key.hex(), health_key.public_key.hex()}


def _heights(events: Any, count: int) -> list[int]:
    heights = []
    with contextlib.closing(events):
        for block in events:
            heights.append(block["header"]["height"])
            if len(heights) == count:
                break
    return heights


def test_events_stream_blocks_in_order_and_resume(shared_node: NodeProcess, client: Client) -> None:
    key = shared_node.network.key(TAX)
    client.notarize(key, _doc("event one"), title="E1", owner_org=TAX)
    client.notarize(key, _doc("event two"), title="E2", owner_org=TAX)
    height = client.status()["height"]
    assert height >= 2

    heights = _heights(client.events(from_height=0, timeout=30), height + 1)
    assert heights == list(range(0, height + 1))

    resume_at = height - 1
    assert _heights(client.events(from_height=resume_at, timeout=30), 2) == [resume_at, height]

    # A block committed after subscribing arrives too, with its transactions.
    stream = client.events(from_height=height + 1, timeout=30)
    outcome = client.notarize(key, _doc("event three"), title="E3", owner_org=TAX)
    with contextlib.closing(stream):
        for block in stream:
            assert block["header"]["height"] >= height + 1
            if outcome.tx_id in block["tx_ids"]:
                assert block["header"]["height"] == outcome.height
                break

    # Resuming by Last-Event-ID (what browsers' EventSource does) starts after that id.
    with (
        httpx.Client(
            base_url=shared_node.url, timeout=30, auth=shared_node.network.signer()
        ) as http,
        http.stream("GET", "/v1/events", headers={"Last-Event-ID": str(resume_at)}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first_id = next(
            line.split(":", 1)[1].strip()
            for line in response.iter_lines()
            if line.startswith("id:")
        )
    assert int(first_id) == resume_at + 1


def test_stream_of_transactions_and_contract_events(
    shared_node: NodeProcess, client: Client
) -> None:
    document = _doc("streamed")
    outcome = client.notarize(shared_node.network.key(TAX), document, title="S", owner_org=TAX)
    stream = client.stream(outcome.height, txs=True, events=True, contract="notary", timeout=30)
    seen: list[tuple[str, dict[str, Any]]] = []
    with contextlib.closing(stream):
        for kind, data in stream:
            seen.append((kind, data))
            if kind == "block":
                break
    kinds = [kind for kind, _ in seen]
    assert kinds[-1] == "block" and seen[-1][1]["header"]["height"] == outcome.height
    txs = [data for kind, data in seen if kind == "tx"]
    assert outcome.tx_id in [t["tx_id"] for t in txs]
    mine = next(t for t in txs if t["tx_id"] == outcome.tx_id)
    assert mine["ok"] is True and mine["contract"] == "notary" and mine["method"] == "anchor"
    events = [data for kind, data in seen if kind == "event" and data["tx_id"] == outcome.tx_id]
    assert [e["name"] for e in events] == ["anchored"]
    assert events[0]["attributes"]["hash"] == hashlib.sha256(document).hexdigest()


def _metric(text: str, name: str, labels: str = "") -> float:
    pattern = re.compile(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", re.MULTILINE)
    match = pattern.search(text)
    assert match, f"{name}{labels} not in /metrics"
    return float(match.group(1))


def test_metrics_expose_height_mempool_commits_and_latency(
    shared_node: NodeProcess, client: Client
) -> None:
    client.notarize(shared_node.network.key(TAX), _doc("metrics"), title="M", owner_org=TAX)
    response = httpx.get(shared_node.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "govchain_height",
        "govchain_mempool_txs",
        "govchain_txs_committed_total",
        "govchain_tx_commit_latency_seconds",
    ):
        assert re.search(rf"^{name}(_count|_bucket|_sum)?[ {{]", text, re.MULTILINE), name
    assert _metric(text, "govchain_height") == client.status()["height"]
    assert _metric(text, "govchain_mempool_txs") == 0
    assert _metric(text, "govchain_txs_committed_total", '{status="ok"}') >= 1
    assert _metric(text, "govchain_tx_commit_latency_seconds_count") >= 1


def _route_paths(node: NodeProcess) -> set[str]:
    """The /v1 routes the API application defines, read from the application itself."""
    from govchain.api import create_app
    from govchain.node import Node, load_node_config

    config = load_node_config(node.dir, "node0")
    config.storage = "memory:"
    app = create_app(Node(node.dir, config=config))
    paths = set()
    for route in app.routes:
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route.path)
        if path.startswith("/v1/"):
            paths.add(path)
    return paths


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the framework's, not ours
def test_openapi_lists_every_v1_route(shared_node: NodeProcess) -> None:
    response = httpx.get(shared_node.url + "/schema/openapi.json", timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    listed = set(document["paths"])
    expected = {
        "/v1/status",
        "/v1/txs",
        "/v1/txs/batch",
        "/v1/txs/{tx_id}",
        "/v1/blocks/latest",
        "/v1/blocks/{height}",
        "/v1/blocks/hash/{block_hash}",
        "/v1/state/{key}",
        "/v1/notary/{doc_hash}",
        "/v1/orgs",
        "/v1/contracts",
        "/v1/query/{contract}/{view}",
        "/v1/events",
    }
    defined = _route_paths(shared_node)
    assert expected <= defined
    assert defined <= listed, f"not in the OpenAPI document: {sorted(defined - listed)}"


def test_restart_resumes_at_the_same_height_and_state_root(node: NodeProcess) -> None:
    key = node.network.key(TAX)
    document = _doc("before restart")
    with node.client(trust=node.trust_anchor()) as c:
        first = c.notarize(key, document, title="Before", owner_org=TAX)
        before = c.status()
    assert before["height"] == first.height

    node.restart()

    with node.client(trust=node.trust_anchor()) as c:
        after = c.status()
        for field in ("height", "block_hash", "state_root", "genesis_hash", "chain_id"):
            assert after[field] == before[field], field
        assert c.tx(first.tx_id)["status"] == "committed"
        assert c.notary(hashlib.sha256(document).digest())["record"]["tx_id"] == first.tx_id
        # The replay window survived the restart: the same transaction is still refused.
        raw = bytes.fromhex(c.tx(first.tx_id)["tx_raw"])
        with pytest.raises(GovchainError) as info:
            c.submit(raw)
        assert info.value.code == "TX_REPLAYED"
        second = c.notarize(key, _doc("after restart"), title="After", owner_org=TAX)
        assert second.ok and second.height == before["height"] + 1
        assert c.block(second.height)["header"]["prev_hash"] == before["block_hash"]
