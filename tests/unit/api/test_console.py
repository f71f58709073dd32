"""The web console's pages through Litestar's test client, on a node over an in-memory store:
what each page shows (and does not), escaping, the security headers, search and error pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from litestar.testing import TestClient

from govchain.api import create_app
from govchain.api.routes_console import CONTENT_SECURITY_POLICY
from govchain.client import build_tx
from govchain.console import chain
from govchain.execution import CheckedTx
from govchain.node import init_network, load_key
from govchain.node.runtime import Node
from govchain.storage import open_store

CHAIN_ID = "govchain-console"
SECRET_TITLE = "Lease agreement of Room 1203"
HOSTILE_TITLE = '<script>alert("x")</script>'


class Console:
    def __init__(self, node: Node, http: TestClient[Any], network_dir: Path) -> None:
        self.node = node
        self.http = http
        self.dir = network_dir

    def send(self, org: str, contract: str, method: str, *args: dict[str, Any]) -> CheckedTx:
        """Commit a block of transactions of ``org``'s admin, one per ``args``; the first."""
        key = load_key(self.dir / "orgs" / org / "admin.key")
        app = self.node.app
        height = app.info().height
        raws = [
            build_tx(
                key,
                chain_id=CHAIN_ID,
                contract=contract,
                method=method,
                args=a,
                valid_until=height + 50,
            )
            for a in args
        ]
        checked = app.check_txs(raws)
        assert all(isinstance(c, CheckedTx) for c in checked), checked
        txs = [c for c in checked if isinstance(c, CheckedTx)]
        header = app.get_header(height)
        committed = app.commit(app.finalize_block(txs, header.time_ms + 1000))
        assert all(r.ok for r in committed.receipts), committed.receipts
        return txs[0]

    def notarise(self, title: str, content: bytes, org: str = "tax") -> tuple[str, str]:
        """Anchor ``content``; the (tx id, document hash) in hex."""
        doc_hash = hashlib.sha256(content).digest()
        args = {"hash": doc_hash, "title": title, "owner_org": org}
        return self.send(org, "notary", "anchor", args).tx_id.hex(), doc_hash.hex()

    def get(self, path: str, **params: Any) -> Any:
        return self.http.get(path, params=params, follow_redirects=False)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    init_network(tmp_path, chain_id=CHAIN_ID)
    node = Node(tmp_path, store=open_store("memory:"))
    with TestClient(app=create_app(node)) as http:
        yield Console(node, http, tmp_path)
    node.store.close()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_overview_shows_the_chain_and_sends_a_strict_policy(console: Console) -> None:
    console.notarise("Vaccination campaign plan", b"plan")
    response = console.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY  # default-src 'none' forbids scripts
    assert response.headers["x-content-type-options"] == "nosniff"
    text = _text(response.text)
    assert CHAIN_ID in text
    assert re.search(r"Height 区块高度 1\b", text)
    assert "Transactions committed 交易 1" in text
    assert "<script" not in response.text
    assert "finality" not in response.text.lower()  # a single node reports none


def test_blocks_are_paginated_newest_first(console: Console) -> None:
    for i in range(3):
        console.notarise(f"doc {i}", f"doc {i}".encode())
    page = console.get("/console/blocks", top=2)
    assert page.status_code == 200
    heights = re.findall(r'<a href="/console/blocks/(\d+)">\1</a>', page.text)
    assert heights == ["2", "1", "0"]
    assert 'href="/console/blocks?top=3"' in page.text  # newer
    assert console.get("/console/blocks", top=99).status_code == 404


def test_block_and_transaction_pages_show_public_metadata_only(console: Console) -> None:
    tx_id, _ = console.notarise(SECRET_TITLE, b"lease")
    block = console.get("/console/blocks/1")
    assert block.status_code == 200
    assert f"/console/txs/{tx_id}" in block.text
    assert "notary" in block.text and "anchor" in block.text
    assert "tax:admin" in block.text or "tax" in _text(block.text)
    tx = console.get(f"/console/txs/{tx_id}")
    assert tx.status_code == 200
    text = _text(tx.text)
    assert "notary · anchor" in text
    assert "hash, owner_org, title" in text  # the argument names ...
    assert SECRET_TITLE not in tx.text  # ... never their values
    assert "anchored" in text  # the receipt's events


def test_a_blocks_transactions_are_paged(console: Console) -> None:
    docs = [hashlib.sha256(bytes([i])).digest() for i in range(5)]
    args = [{"hash": d, "title": "t", "owner_org": "tax"} for d in docs]
    console.send("tax", "notary", "anchor", *args)
    detail = chain.get_block_detail(console.node.app, 1, 2, size=2)
    assert [t.index for t in detail.txs] == [2, 3]
    assert (detail.prev_first, detail.next_first) == (0, 4)
    assert {t.sender for t in detail.txs} == {"tax:admin"}
    page = console.get("/console/blocks/1", first=4)
    assert "Transactions 4–4 of 5" in _text(page.text)
    assert console.get("/console/blocks/1", first=5).status_code == 404


def test_organisations_are_listed_in_both_languages(console: Console) -> None:
    page = console.get("/console/orgs")
    assert page.status_code == 200
    assert "Tax Bureau" in page.text and "税务局" in page.text
    assert "Haishu District" in page.text and "海曙区" in page.text
    org = console.get("/console/orgs/tax")
    assert org.status_code == 200
    assert "tax:admin" in org.text and "admin" in org.text
    assert f"did:govchain:{CHAIN_ID}:tax" in org.text


def test_an_organisations_did_resolves_and_other_dids_are_not_public(console: Console) -> None:
    page = console.get(f"/console/dids/did:govchain:{CHAIN_ID}:tax")
    assert page.status_code == 200
    assert "verificationMethod" in page.text and "Tax Bureau" in page.text
    member = console.get(f"/console/dids/did:govchain:{CHAIN_ID}:tax:admin")
    assert member.status_code == 404
    assert "Only organisations" in member.text
    other = console.get("/console/dids/did:govchain:elsewhere:tax")
    assert other.status_code == 400


def test_notary_lookup_escapes_what_it_shows(console: Console) -> None:
    _, doc_hash = console.notarise(HOSTILE_TITLE, b"hostile")
    page = console.get("/console/notary", hash=doc_hash)
    assert page.status_code == 200
    assert HOSTILE_TITLE not in page.text
    assert "&lt;script&gt;" in page.text
    missing = console.get("/console/notary", hash="00" * 32)
    assert "No document with this hash" in missing.text
    bad = console.get("/console/notary", hash="xyz")
    assert bad.status_code == 400 and "64 hex digits" in bad.text


@pytest.mark.parametrize(
    ("text", "status", "expected"),
    [
        ("not json", 400, "neither JSON nor a QR pass"),
        ("[" * 60_000, 400, "neither JSON nor a QR pass"),
        ("[1, 2]", 400, "a credential is a JSON object"),
        ("{}", 200, "Not valid"),
        ("HC1:not base45 ~", 200, "QR_BAD_BASE45"),
    ],
)
def test_verify_names_the_failing_check(
    console: Console, text: str, status: int, expected: str
) -> None:
    response = console.http.post("/console/verify", data={"text": text})
    assert response.status_code == status
    assert expected in response.text
    assert "<script" not in response.text


def test_verify_form_of_an_empty_credential_fails_on_format(console: Console) -> None:
    response = console.http.post("/console/verify", data={"text": "{}"})
    row = re.search(r'data-check="format">(.*?)</tr>', response.text, re.S)
    assert row is not None and "failed" in row.group(1)


def test_search_redirects_to_what_the_query_names(console: Console) -> None:
    tx_id, doc_hash = console.notarise("doc", b"doc")
    block_hash = console.node.app.info().block_hash.hex()
    cases = {
        "1": "/console/blocks/1",
        block_hash: "/console/blocks/1",
        "0x" + block_hash.upper(): "/console/blocks/1",
        tx_id: f"/console/txs/{tx_id}",
        doc_hash: f"/console/notary?hash={doc_hash}",
        "tax": "/console/orgs/tax",
        f"did:govchain:{CHAIN_ID}:tax": f"/console/dids/did:govchain:{CHAIN_ID}:tax",
    }
    for query, target in cases.items():
        response = console.get("/console/search", q=query)
        assert response.status_code == 303, query
        assert response.headers["location"] == target


def test_unknown_things_answer_pages_that_say_what_to_try(console: Console) -> None:
    for path, params in (
        ("/console/search", {"q": "nothing-here"}),
        ("/console/blocks/42", {}),
        ("/console/txs/" + "ab" * 32, {}),
        ("/console/orgs/nobody", {}),
        ("/console/no/such/page", {}),
    ):
        response = console.get(path, **params)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "What to try" in response.text


def test_catalogue_lists_resources_and_filters_them(console: Console) -> None:
    assert "No data resources are published yet" in console.get("/console/catalog").text
    console.send(
        "tax", "catalog", "add_responsibility", {"org": "tax", "id": "reg", "name": "Registration"}
    )
    resource = {
        "id": "tax.registrations",
        "org": "tax",
        "responsibility": "reg",
        "name": "Tax registrations",
        "name_zh": "税务登记",
        "description": "Registered taxpayers",
        "fields": [{"name": "credit_code", "type": "string", "sensitivity": "enterprise"}],
        "classification": "internal",
        "update_frequency": "daily",
        "sharing": "conditional",
        "legal_basis": "Tax Collection Law",
        "gateway": {"url": "https://gw.tax.example/data", "public_key": bytes(range(32))},
    }
    console.send("tax", "catalog", "add_resource", resource)
    page = console.get("/console/catalog")
    assert "tax.registrations" in page.text and "税务登记" in page.text
    assert "conditional" in page.text
    assert "tax.registrations" not in console.get("/console/catalog", q="vaccination").text


def test_services_show_an_empty_state(console: Console) -> None:
    services = console.get("/console/services")
    assert services.status_code == 200
    assert "No service definitions are registered yet" in services.text


def test_the_stylesheet_is_served_and_nothing_else(console: Console) -> None:
    css = console.get("/console/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert console.get("/console/static/..%2Fchain.py").status_code == 404
    assert console.get("/console/static/other.css").status_code == 404


def test_console_pages_are_public_routes(console: Console) -> None:
    """No page asks for a signed request (the API's member routes do)."""
    assert console.get("/v1/blocks/0").status_code == 401
    for path in ("/console", "/console/blocks/0", "/console/orgs", "/console/verify"):
        assert console.get(path).status_code == 200, path
    paths = console.get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]  # pages are not API


def test_a_peers_finality_is_shown_when_the_node_tracks_it(console: Console) -> None:
    console.node.peer = SimpleNamespace(finalized_height=0, divergence=None)  # type: ignore[assignment]
    text = _text(console.get("/console").text)
    assert "Finality 最终性 final up to height 0 (quorum 1 of 1 founding peers)" in text
    assert "diverged" not in text
    console.node.peer = SimpleNamespace(  # type: ignore[assignment]
        finalized_height=0, divergence=SimpleNamespace(height=1)
    )
    assert "diverged at height 1" in _text(console.get("/console").text)


def test_an_oversized_form_is_refused_with_a_page(console: Console) -> None:
    response = console.http.post("/console/verify", data={"text": "x" * (300 * 1024)})
    assert response.status_code == 413
    assert "What to try" in response.text
