"""Client-side finality: a trust anchor from the genesis alone, certificates verified against
its founding peers, headers trusted on a certificate, and the SDK and CLI reading them from a
node's API (in process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from click.testing import CliRunner
from finality_world import CHAIN_ID, certify, make_network, make_node, produce
from litestar.testing import TestClient

from govchain.api.server import create_app
from govchain.api.views import block_header_view
from govchain.cli import finality_cmds
from govchain.cli.main import cli
from govchain.client import Client, TrustAnchor, verify_finality_certificate, verify_header
from govchain.encoding import encode
from govchain.errors import ProofError
from govchain.node.runtime import Node
from govchain.types.finality import CertificateNotFound, FinalityCertificate, FinalityError


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    make_network(tmp_path)
    node = make_node(tmp_path)
    produce(node, 3)
    yield node
    node.store.close()


@pytest.fixture
def trust(node: Node) -> TrustAnchor:
    return TrustAnchor.from_genesis(node.genesis)


@pytest.fixture
def cert(node: Node) -> FinalityCertificate:
    return certify(node, 2)


def header_dict(node: Node, height: int, *, unsigned: bool = False) -> dict[str, Any]:
    block = node.app.get_block(height)
    if unsigned:  # as a peer that did not propose the block stores it
        block = msgspec.structs.replace(block, proposer_signature=b"")
    view: dict[str, Any] = msgspec.to_builtins(block_header_view(block))
    return view


def test_trust_anchor_from_the_genesis_alone(node: Node, trust: TrustAnchor) -> None:
    assert trust.chain_id == CHAIN_ID
    assert trust.genesis_hash == node.app.genesis_hash
    assert sorted(trust.peers) == ["p0", "p1", "p2", "p3"]
    assert trust.node_keys == frozenset(trust.peers.values())
    assert not trust.require_finality


def test_certificate_verifies_in_every_form(
    node: Node, trust: TrustAnchor, cert: FinalityCertificate
) -> None:
    header = node.app.get_header(2)
    assert verify_finality_certificate(cert, trust, header=header) == cert
    assert verify_finality_certificate(encode(cert), trust) == cert


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: msgspec.structs.replace(c, chain_id="elsewhere"), "FINALITY_WRONG_CHAIN"),
        (lambda c: msgspec.structs.replace(c, signatures=c.signatures[:2]), "FINALITY_NO_QUORUM"),
        (lambda c: msgspec.structs.replace(c, state_root=b"\x01" * 32), "FINALITY_MISMATCH"),
        (lambda c: msgspec.structs.replace(c, height=1), "FINALITY_MISMATCH"),
    ],
    ids=["wrong-chain", "too-few", "altered-root", "other-height"],
)
def test_bad_certificates_name_their_fault(
    node: Node, trust: TrustAnchor, cert: FinalityCertificate, change: Any, code: str
) -> None:
    with pytest.raises(FinalityError) as caught:
        verify_finality_certificate(change(cert), trust, header=node.app.get_header(2))
    assert caught.value.code == code


def test_a_trust_anchor_without_peers_verifies_no_certificate(
    node: Node, cert: FinalityCertificate
) -> None:
    bare = TrustAnchor(CHAIN_ID, node.app.genesis_hash, [])
    with pytest.raises(FinalityError) as caught:
        verify_finality_certificate(cert, bare)
    assert caught.value.code == "FINALITY_NO_QUORUM"


def test_header_trusted_on_its_certificate(
    node: Node, trust: TrustAnchor, cert: FinalityCertificate
) -> None:
    unsigned = header_dict(node, 2, unsigned=True)
    with pytest.raises(ProofError):
        verify_header(unsigned, trust)  # no signature, no certificate
    assert verify_header(unsigned, trust, cert) == node.app.get_header(2)
    with pytest.raises(FinalityError) as caught:
        verify_header(header_dict(node, 1, unsigned=True), trust, cert)
    assert caught.value.code == "FINALITY_MISMATCH"


def test_require_finality_refuses_a_signature_alone(node: Node, cert: FinalityCertificate) -> None:
    strict = TrustAnchor.from_genesis(node.genesis, require_finality=True)
    signed = header_dict(node, 2)
    with pytest.raises(FinalityError) as caught:
        verify_header(signed, strict)
    assert caught.value.code == "FINALITY_MISSING"
    assert "final=true" in caught.value.hint
    assert verify_header(signed, strict, cert).height == 2
    assert verify_header(header_dict(node, 0), strict).height == 0  # the genesis is the anchor


# --- the SDK and the CLI against the API ---------------------------------------------------------


@pytest.fixture
def transport(node: Node) -> Iterator[httpx.MockTransport]:
    with TestClient(app=create_app(node)) as http:

        def forward(request: httpx.Request) -> httpx.Response:
            response = http.get(request.url.raw_path.decode())
            return httpx.Response(response.status_code, content=response.content)

        yield httpx.MockTransport(forward)


def test_sdk_reads_and_verifies_certificates(
    trust: TrustAnchor, cert: FinalityCertificate, transport: httpx.MockTransport
) -> None:
    with Client("http://node", trust=trust, transport=transport) as client:
        assert client.get_finality(2) == cert
        status = client.get_finality_status()
        assert status["finalized_height"] == 2 and status["latest"]["height"] == 2
        with pytest.raises(CertificateNotFound):
            client.get_finality(3)
    with Client("http://node", transport=transport) as unverified:
        assert unverified.get_finality(2) == cert


def test_sdk_refuses_a_tampered_answer(
    trust: TrustAnchor, cert: FinalityCertificate, transport: httpx.MockTransport
) -> None:
    def tamper(request: httpx.Request) -> httpx.Response:
        answer = transport.handle_request(request).json()
        answer["state_root"] = "00" * 32
        return httpx.Response(200, json=answer)

    client = Client("http://node", trust=trust, transport=httpx.MockTransport(tamper))
    with client, pytest.raises(FinalityError) as caught:
        client.get_finality(2)
    assert caught.value.code == "FINALITY_MALFORMED"


def test_cli_prints_and_verifies_against_the_genesis(
    tmp_path: Path,
    cert: FinalityCertificate,
    transport: httpx.MockTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def client(node_url: str) -> Client:
        return Client(node_url, transport=transport)

    monkeypatch.setattr(finality_cmds, "client_from_options", client)
    runner = CliRunner()
    genesis = str(tmp_path / "genesis.json")
    shown = runner.invoke(cli, ["block", "finality", "2", "--genesis", genesis, "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"verified": true' in shown.output and cert.block_hash.hex() in shown.output
    plain = runner.invoke(cli, ["block", "finality", "2"])
    assert plain.exit_code == 0 and "not verified" in plain.output
    missing = runner.invoke(cli, ["block", "finality", "3", "--json"])
    assert missing.exit_code == 1 and "FINALITY_NOT_FOUND" in missing.output
