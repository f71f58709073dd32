"""``GET /v1/credentials/{hash}/bundle`` puts the node's finality certificates in the bundle's
headers, so that a verifier holding only the genesis trusts them offline on the founding peers'
quorum; ``final=true`` proves the status at the latest finalized height. The credential answers
carry the certificate of their header's block as well."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from certs_world import CertWorld, key_for, make_world
from litestar import Litestar, Request, Response
from litestar.testing import TestClient

from govchain.api.routes_certs import cert_routes
from govchain.client.offline import verify_bundle
from govchain.client.verify import TrustAnchor, verify_state_answer
from govchain.credentials.bundle import VerificationBundle, decode_bundle, encode_bundle
from govchain.credentials.vc import compute_credential_hash
from govchain.errors import GovchainError
from govchain.types import GenesisNode, compute_block_hash
from govchain.types.finality import (
    FinalityCertificate,
    attestation_sign_bytes,
    founding_peer_keys,
)

PEERS = ("node0", "node1", "node2", "node3")


@pytest.fixture
def multi(make_chain: Any, genesis_factory: Any) -> CertWorld:
    """A chain founded with four peers."""
    genesis = genesis_factory()
    nodes = [GenesisNode(n, "bureau", key_for(n).public_key.hex()) for n in PEERS]
    return make_world(make_chain(msgspec.structs.replace(genesis, nodes=nodes)))


def certify(w: CertWorld, height: int) -> None:
    """Save block ``height``'s certificate, signed by three of the four peers."""
    header = w.chain.app.get_header(height)
    block_hash = compute_block_hash(header)
    message = attestation_sign_bytes(w.chain.chain_id, height, block_hash, header.state_root)
    sigs = [(n, key_for(n).public_key, key_for(n).sign(message)) for n in PEERS[:3]]
    cert = FinalityCertificate(w.chain.chain_id, height, block_hash, header.state_root, sigs)
    w.chain.store.save_finality_certificate(cert)


def _problem(request: Request[Any, Any, Any], exc: GovchainError) -> Response[Any]:
    return Response({"code": exc.code}, status_code=exc.status)


def api(w: CertWorld) -> TestClient[Any]:
    """The certificate routes over the chain's application and store."""
    node = SimpleNamespace(app=w.chain.app, store=w.chain.store)
    app = Litestar(
        route_handlers=cert_routes(node),  # type: ignore[arg-type]
        exception_handlers={GovchainError: _problem},
    )
    return TestClient(app=app)


def check(w: CertWorld, answer: dict[str, Any], vc: dict[str, Any]) -> Any:
    sent = msgspec.convert({**answer, "credential": vc}, type=VerificationBundle)
    bundle = decode_bundle(encode_bundle(sent))
    trust = TrustAnchor.from_genesis(w.chain.genesis, registry=w.chain.registry)
    peers = founding_peer_keys(w.chain.genesis)
    return verify_bundle(bundle, trust, w.chain.header.time_ms, peers=peers, require_finality=True)


def test_bundles_carry_the_nodes_certificates(multi: CertWorld) -> None:
    vc = multi.issue()
    digest = compute_credential_hash(vc).hex()
    anchored = multi.chain.height
    multi.chain.commit([])  # the latest block, not final
    certify(multi, anchored)
    with api(multi) as http:
        latest = http.get(f"/v1/credentials/{digest}/bundle").json()
        # the anchoring block is final, but the latest state vouches for it: no certificate
        assert latest["issuance"]["history"] and latest["issuance"]["header"]["finality"] is None
        assert latest["header"]["finality"] is None  # the latest is not yet
        assert check(multi, latest, vc).code == "BUNDLE_NO_FINALITY"
        final = http.get(f"/v1/credentials/{digest}/bundle", params={"final": "true"}).json()
        assert final["header"]["finality"] == final["issuance"]["header"]["finality"]
        result = check(multi, final, vc)
        assert result.valid, result.failed
        shown = http.get(f"/v1/credentials/{digest}", params={"height": anchored}).json()
    trust = TrustAnchor.from_genesis(multi.chain.genesis, require_finality=True)
    for name in ("anchor_state", "status_state"):
        assert shown[name]["finality"]
        assert verify_state_answer(shown[name], trust).height == anchored


def test_final_bundles_before_any_block_is_final(multi: CertWorld) -> None:
    vc = multi.issue()
    with api(multi) as http:
        answer = http.get(
            f"/v1/credentials/{compute_credential_hash(vc).hex()}/bundle", params={"final": "true"}
        )
    assert (answer.status_code, answer.json()["code"]) == (404, "FINALITY_NOT_FOUND")
