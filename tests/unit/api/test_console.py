"""The web console's pages through Litestar's test client, on a node over an in-memory store:
what each page shows (and does not), escaping, the security headers, search and error pages —
with the ledger pages open (``console_ledger = "public"``) and, by default, closed."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from govchain.api import create_app
from govchain.api.routes_console import CONTENT_SECURITY_POLICY, console_routes
from govchain.client import build_tx
from govchain.console import chain
from govchain.execution import CheckedTx
from govchain.node import init_network, load_key
from govchain.node.config import NodeConfig, load_node_config
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


def _serve(network_dir: Path, config: NodeConfig | None = None) -> Iterator[Console]:
    node = Node(network_dir, config=config, store=open_store("memory:"))
    with TestClient(app=create_app(node)) as http:
        yield Console(node, http, network_dir)
    node.store.close()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """A node whose console opens its ledger pages to everyone (``console_ledger = "public"``)."""
    init_network(tmp_path, chain_id=CHAIN_ID)
    config = load_node_config(tmp_path, "node0")
    yield from _serve(tmp_path, msgspec.structs.replace(config, console_ledger="public"))


@pytest.fixture
def closed(tmp_path: Path) -> Iterator[Console]:
    """A node with the default configuration, as ``govchain init`` writes it."""
    init_network(tmp_path, chain_id=CHAIN_ID)
    yield from _serve(tmp_path)


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
    assert 'id="members"' in org.text and "tax:admin" in org.text
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


# --- the default: ledger pages closed --------------------------------------------------------

LEDGER_HINT = "govchain block show latest --dir DIR --org ORG"
OPEN_SETTING = '<code>"console_ledger": "public"</code>'


def test_the_ledger_pages_are_closed_by_default(tmp_path: Path) -> None:
    assert NodeConfig("node0").console_ledger == "off"
    init_network(tmp_path, chain_id=CHAIN_ID)
    path = tmp_path / "nodes" / "node0" / "config.json"
    written = json.loads(path.read_text(encoding="utf-8"))
    del written["console_ledger"]  # a config.json written before the setting existed
    path.write_text(json.dumps(written), encoding="utf-8")
    assert load_node_config(tmp_path, "node0").console_ledger == "off"


def test_closed_ledger_pages_answer_403_with_how_to_read_them(closed: Console) -> None:
    tx_id, _ = closed.notarise(SECRET_TITLE, b"lease")
    pages = {
        "/console/blocks": LEDGER_HINT,
        "/console/blocks/1": "govchain block show 1 --dir DIR --org ORG",
        "/console/blocks/99": "govchain block show 99",  # the same whether it exists or not
        f"/console/txs/{tx_id}": f"govchain tx show {tx_id} --dir DIR --org ORG",
        "/console/txs/" + "ab" * 32: "govchain tx show " + "ab" * 32,
    }
    for path, command in pages.items():
        response = closed.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "For members of organisations" in response.text
        assert command in response.text, path
        assert OPEN_SETTING in response.text
        assert "notary" not in _text(response.text).split("Open to everyone")[0], path
    assert closed.get("/console/txs/xyz").status_code == 400


PUBLIC_PAGES = (
    "/console",
    "/console/orgs",
    "/console/orgs/tax",
    f"/console/dids/did:govchain:{CHAIN_ID}:tax",
    "/console/verify",
    "/console/notary",
    "/console/catalog",
    "/console/services",
)


def test_closed_console_serves_what_public_routes_serve(closed: Console) -> None:
    tx_id, doc_hash = closed.notarise("doc", b"doc")
    for path in PUBLIC_PAGES:
        response = closed.get(path)
        assert response.status_code == 200, path
        assert "/console/blocks/" not in response.text, path  # no links to ledger pages
        assert 'href="/console/blocks"' not in response.text.split("</header>")[0], path
    status = closed.get("/v1/status").json()
    overview = _text(closed.get("/console").text)
    for field in ("chain_id", "height", "block_hash", "state_root", "genesis_hash", "node_id"):
        assert str(status[field]) in overview, field
    assert "Transactions committed" not in overview and "Recent blocks" not in overview
    org = closed.get("/console/orgs/tax").text
    assert "Tax Bureau" in org and "tax:admin" not in org  # members are a member-only read
    assert "govchain member list tax --dir DIR --org ORG" in org
    notary = closed.get("/console/notary", hash=doc_hash)
    assert tx_id in notary.text and f"/console/txs/{tx_id}" not in notary.text
    verdict = closed.http.post("/console/verify", data={"text": "{}"})
    assert verdict.status_code == 200 and "Not valid" in verdict.text


def test_closed_search_does_not_reveal_member_only_pages(closed: Console) -> None:
    tx_id, doc_hash = closed.notarise("doc", b"doc")
    block_hash = closed.node.app.info().block_hash.hex()
    answers = set()
    for query in ("1", "0", "99", block_hash, tx_id, "ab" * 32):
        response = closed.get("/console/search", q=query)
        assert response.status_code == 404, query
        assert "govchain block show HEIGHT --dir DIR --org ORG" in response.text
        assert "a block height" not in response.text
        detail = f'<p id="error-detail">nothing on this chain matches &#39;{query}&#39;</p>'
        assert detail in response.text, query
        answers.add(response.text.replace(detail, ""))
    assert len(answers) == 1  # what exists and what does not answer alike
    found = {
        doc_hash: f"/console/notary?hash={doc_hash}",
        "tax": "/console/orgs/tax",
        f"did:govchain:{CHAIN_ID}:tax": f"/console/dids/did:govchain:{CHAIN_ID}:tax",
    }
    for query, target in found.items():
        response = closed.get("/console/search", q=query)
        assert response.status_code == 303, query
        assert response.headers["location"] == target


def test_console_routes_use_no_deprecated_declarations(closed: Console) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Litestar(route_handlers=console_routes(closed.node))
