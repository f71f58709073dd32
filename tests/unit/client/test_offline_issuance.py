"""Offline bundles prove the facts of issuance at the anchoring height, check the schema, and
may carry finality certificates; online and offline verification run one checker and agree."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from certs_world import VALID_UNTIL, CertWorld, key_for, make_world, ms

from govchain.app.credential_bundle import FinalityLookup, build_credential_bundle
from govchain.client.offline import (
    BundleVerification,
    UntrustedHeader,
    verify_bundle,
    verify_issuance_header,
)
from govchain.client.verify import TrustAnchor
from govchain.contracts.certs_checks import OFFLINE_CODES, ONLINE_CODES, PROBLEMS
from govchain.contracts.governance_actions import accreditation_state_key
from govchain.credentials.bundle import (
    BundleHeader,
    BundleState,
    VerificationBundle,
    decode_bundle,
    encode_bundle,
)
from govchain.credentials.vc import compute_credential_hash
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, encode
from govchain.merkle import smt
from govchain.types import BlockHeader, GenesisNode, block_hash_state_key, compute_block_hash
from govchain.types.finality import (
    FinalityCertificate,
    attestation_sign_bytes,
    founding_peer_keys,
)

SHARED = ("anchor", "key", "accreditation", "schema", "validity", "status")
PEERS = ("node0", "node1", "node2", "node3")


@pytest.fixture
def w(chain: Any) -> CertWorld:
    return make_world(chain)


def trust_of(w: CertWorld) -> TrustAnchor:
    return TrustAnchor(w.chain.chain_id, w.chain.app.genesis_hash, [w.chain.node_key.public_key])


def bundle_of(
    w: CertWorld, vc: dict[str, Any], finality_for: FinalityLookup | None = None
) -> VerificationBundle:
    return build_credential_bundle(
        w.chain.app, compute_credential_hash(vc), credential=vc, finality_for=finality_for
    )


def check(w: CertWorld, bundle: VerificationBundle, **kw: Any) -> BundleVerification:
    data = encode_bundle(bundle)
    return verify_bundle(decode_bundle(data), trust_of(w), w.chain.header.time_ms, **kw)


def agree(w: CertWorld, vc: dict[str, Any], now_ms: int | None = None) -> dict[str, bool | None]:
    """The outcome of the shared checks, asserted equal online and offline."""
    now = w.chain.header.time_ms if now_ms is None else now_ms
    online = {c.check: c.ok for c in w.verify(vc, now).checks if c.check in SHARED}
    bundle = decode_bundle(encode_bundle(bundle_of(w, vc)))
    result = verify_bundle(bundle, trust_of(w), now)
    offline = {c.check: c.ok for c in result.checks if c.check in SHARED}
    assert online == offline
    return online


def test_every_problem_has_a_code_in_both_vocabularies() -> None:
    assert set(ONLINE_CODES) == set(OFFLINE_CODES) == set(PROBLEMS)


def test_a_bundle_built_later_carries_the_anchoring_header_too(w: CertWorld) -> None:
    vc = w.issue()
    anchored_at = w.chain.height
    w.chain.commit([])
    w.chain.commit([])
    bundle = bundle_of(w, vc)
    assert bundle.issuance.header != bundle.header
    result = check(w, bundle)
    assert result.valid, result.failed
    assert result.height == anchored_at + 2
    assert f"blocks {anchored_at} " in {c.check: c.reason for c in result.checks}["header"]


def later_bundle(w: CertWorld) -> tuple[VerificationBundle, int]:
    vc = w.issue()
    anchored_at = w.chain.height
    w.chain.commit([])
    w.chain.commit([])
    return bundle_of(w, vc), anchored_at


def test_the_recent_state_vouches_for_the_anchoring_header(w: CertWorld) -> None:
    bundle, anchored_at = later_bundle(w)
    assert bundle.format == "govchain-bundle-v3"
    history = bundle.issuance.history
    assert history is not None and bundle.issuance.header.proposer_signature == ""
    assert bytes.fromhex(history.key) == block_hash_state_key(anchored_at)
    result = check(w, bundle)
    assert result.valid, result.failed
    assert "its hash in the history" in {c.check: c.reason for c in result.checks}["header"]


def test_an_altered_anchoring_header_is_refused(w: CertWorld) -> None:
    bundle, _ = later_bundle(w)
    header = decode(bytes.fromhex(bundle.issuance.header.header_raw), BlockHeader)
    altered = msgspec.structs.replace(header, time_ms=header.time_ms + 1)
    entry = msgspec.structs.replace(bundle.issuance.header, header_raw=encode(altered).hex())
    issuance = msgspec.structs.replace(bundle.issuance, header=entry)
    result = check(w, msgspec.structs.replace(bundle, issuance=issuance))
    assert result.code == "BUNDLE_UNTRUSTED_HEADER"
    assert "whose hash the state" in {c.check: c.reason for c in result.failed}["header"]


def test_a_history_proof_of_another_block_is_refused(w: CertWorld) -> None:
    bundle, anchored_at = later_bundle(w)
    assert bundle.issuance.history is not None
    other = w.chain.app.prove_state(block_hash_state_key(anchored_at + 1), w.chain.height)
    wrong = BundleState(
        other.key.hex(), other.value.hex(), smt.encode_state_proof(other.proof).hex()
    )
    issuance = msgspec.structs.replace(bundle.issuance, history=wrong)
    result = check(w, msgspec.structs.replace(bundle, issuance=issuance))
    assert result.code == "BUNDLE_BAD_PROOF"  # proven for another key than the header's height
    forged = msgspec.structs.replace(bundle.issuance.history, value=other.value.hex())
    issuance = msgspec.structs.replace(bundle.issuance, history=forged)
    result = check(w, msgspec.structs.replace(bundle, issuance=issuance))
    assert result.code == "BUNDLE_BAD_PROOF"  # the value is not the one proven


def test_the_anchoring_header_on_its_own(w: CertWorld) -> None:
    bundle, anchored_at = later_bundle(w)
    assert verify_issuance_header(bundle, trust_of(w)).height == anchored_at
    forged = msgspec.structs.replace(bundle.issuance.header, header_raw=bundle.header.header_raw)
    issuance = msgspec.structs.replace(bundle.issuance, header=forged)
    with pytest.raises(UntrustedHeader) as raised:
        verify_issuance_header(msgspec.structs.replace(bundle, issuance=issuance), trust_of(w))
    assert raised.value.details["reason_code"] == "BUNDLE_UNTRUSTED_HEADER"


def test_an_unsigned_anchoring_header_without_history_is_refused(w: CertWorld) -> None:
    bundle, _ = later_bundle(w)
    issuance = msgspec.structs.replace(bundle.issuance, history=None)
    result = check(w, msgspec.structs.replace(bundle, issuance=issuance))
    assert result.code == "BUNDLE_UNTRUSTED_HEADER"


def test_a_v2_bundle_with_two_signed_headers_still_verifies(w: CertWorld) -> None:
    bundle, anchored_at = later_bundle(w)
    block = w.chain.app.get_block(anchored_at)
    signed = BundleHeader(encode(block.header).hex(), block.proposer_signature.hex())
    issuance = msgspec.structs.replace(bundle.issuance, header=signed, history=None)
    v2 = msgspec.structs.replace(bundle, issuance=issuance, format="govchain-bundle-v2")
    result = check(w, v2)
    assert result.valid, result.failed
    assert "signed by a trusted node" in {c.check: c.reason for c in result.checks}["header"]
    assert check(w, msgspec.structs.replace(v2, format="govchain-bundle-v9")).code == (
        "BUNDLE_MALFORMED"
    )


def test_issuance_part_of_another_height_is_refused(w: CertWorld) -> None:
    first, second = w.issue(), w.issue()
    bundle = bundle_of(w, first)
    other = bundle_of(w, second)
    forged = msgspec.structs.replace(bundle, issuance=other.issuance)
    result = check(w, forged)
    assert result.code == "BUNDLE_BAD_PROOF"
    assert "issuance header" in {c.check: c.reason for c in result.failed}["proofs"]


def test_an_issuance_record_proven_at_another_root_is_refused(w: CertWorld) -> None:
    vc = w.issue()
    w.revoke_accreditation("tax")
    bundle = bundle_of(w, vc)
    # the (revoked) accreditation record with its genuine proof at the recent root
    recent = w.chain.app.prove_state(accreditation_state_key("tax", "BusinessLicence"))
    entry = BundleState(
        recent.key.hex(), (recent.value or b"").hex(), smt.encode_state_proof(recent.proof).hex()
    )
    issuance = msgspec.structs.replace(bundle.issuance, accreditation=entry)
    result = check(w, msgspec.structs.replace(bundle, issuance=issuance))
    assert result.code == "BUNDLE_BAD_PROOF"


def test_role_removed_and_key_revoked_after_issuance(w: CertWorld) -> None:
    vc = w.issue()
    w.ok(
        w.chain.admin("tax"),
        "set_roles",
        {"id": "tax:issuer", "roles": ["auditor"]},
        contract="identity",
    )
    assert agree(w, vc) == dict.fromkeys(SHARED, True)
    new = key_for("tax-issuer-2")
    rotate = {
        "id": "tax:issuer",
        "old_public_key": w.issuer.public_key,
        "new_public_key": new.public_key,
    }
    w.ok(w.chain.admin("tax"), "rotate_key", rotate, contract="identity", cosign=(new,))
    assert check(w, bundle_of(w, vc)).valid


def test_a_member_without_an_issuing_role_at_issuance(w: CertWorld) -> None:
    auditor = key_for("tax-auditor")
    w.enrol("tax", "auditor", auditor, ["auditor"])
    vc = w.vc(key=auditor, method=w.method_of("tax:auditor"))
    assert w.anchor(vc) == "OK"  # anchored by the issuer, signed by an auditor
    assert agree(w, vc)["key"] is False
    result = check(w, bundle_of(w, vc))
    assert {c.check: c.code for c in result.failed} == {"key": "BUNDLE_KEY_NOT_VALID"}


def test_subject_not_matching_the_schema(w: CertWorld) -> None:
    vc = w.vc({"id": "did:example:holder", "name": "Acme", "licenceNo": "12"})
    assert w.anchor(vc) == "OK"  # the contract holds no claims; the SDK validates them
    assert agree(w, vc)["schema"] is False
    result = check(w, bundle_of(w, vc))
    assert {c.check: c.code for c in result.failed} == {"schema": "CRED_SCHEMA_INVALID"}
    online = {c.check: c.code for c in w.verify(vc).checks if c.ok is False}
    assert online == {"schema": "CRED_SCHEMA_INVALID"}


def test_schema_proof_replaced_by_absence_is_refused(w: CertWorld) -> None:
    vc = w.issue()
    bundle = bundle_of(w, vc)
    absent = msgspec.structs.replace(bundle.issuance.schema, value=None)
    issuance = msgspec.structs.replace(bundle.issuance, schema=absent)
    result = check(w, msgspec.structs.replace(bundle, issuance=issuance))
    assert result.code == "BUNDLE_BAD_PROOF"


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_online_and_offline_agree_on_status_and_validity(w: CertWorld, action: str) -> None:
    vc = w.issue()
    assert agree(w, vc) == dict.fromkeys(SHARED, True)
    assert agree(w, vc, now_ms=(ms(VALID_UNTIL) or 0) + 1)["validity"] is False
    assert w.set_status(vc, action) == "OK"
    assert agree(w, vc)["status"] is False


# --- finality certificates ------------------------------------------------------------------


def peer_key(node_id: str) -> KeyPair:
    return key_for(node_id)


@pytest.fixture
def multi(make_chain: Any, genesis_factory: Any) -> CertWorld:
    """A chain founded with four peers (node0 proposes)."""
    genesis = genesis_factory()
    nodes = [GenesisNode(n, "bureau", peer_key(n).public_key.hex()) for n in PEERS]
    return make_world(make_chain(msgspec.structs.replace(genesis, nodes=nodes)))


def certify(w: CertWorld, signers: tuple[str, ...], *, root: bytes | None = None) -> FinalityLookup:
    def finality_for(height: int) -> FinalityCertificate:
        header = w.chain.app.get_header(height)
        block_hash, state_root = compute_block_hash(header), root or header.state_root
        message = attestation_sign_bytes(w.chain.chain_id, height, block_hash, state_root)
        sigs = [(n, peer_key(n).public_key, peer_key(n).sign(message)) for n in sorted(signers)]
        return FinalityCertificate(w.chain.chain_id, height, block_hash, state_root, sigs)

    return finality_for


def check_final(w: CertWorld, bundle: VerificationBundle, **kw: Any) -> BundleVerification:
    peers = founding_peer_keys(w.chain.genesis)
    return check(w, bundle, peers=peers, **kw)


def test_a_quorum_of_founding_peers_finalises_the_headers(multi: CertWorld) -> None:
    vc = multi.issue()
    multi.chain.commit([])
    bundle = bundle_of(multi, vc, certify(multi, ("node1", "node2", "node3")))
    result = check_final(multi, bundle, require_finality=True)
    assert result.valid, result.failed
    assert "quorum" in {c.check: c.reason for c in result.checks}["header"]


def test_a_final_recent_header_vouches_for_the_anchoring_one(multi: CertWorld) -> None:
    vc = multi.issue()
    anchored_at = multi.chain.height
    multi.chain.commit([])
    bundle = bundle_of(multi, vc, certify(multi, PEERS))
    assert bundle.issuance.header.finality is None  # needs none: the recent state vouches
    result = check_final(multi, bundle, require_finality=True)
    assert result.valid, result.failed
    assert (
        f"blocks {anchored_at} (its hash in the history"
        in {c.check: c.reason for c in result.checks}["header"]
    )


def test_finality_stands_in_for_the_proposer_signature(multi: CertWorld) -> None:
    vc = multi.issue()
    bundle = bundle_of(multi, vc, certify(multi, ("node0", "node1", "node2")))
    unsigned = msgspec.structs.replace(bundle.header, proposer_signature="00" * 64)
    same = msgspec.structs.replace(bundle.issuance, header=unsigned)
    forged = msgspec.structs.replace(bundle, header=unsigned, issuance=same)
    assert check_final(multi, forged).valid
    assert check(multi, forged).code == "BUNDLE_UNTRUSTED_HEADER"  # no peers: proposer rule


def test_too_few_signatures(multi: CertWorld) -> None:
    vc = multi.issue()
    bundle = bundle_of(multi, vc, certify(multi, ("node1", "node2")))
    result = check_final(multi, bundle)
    assert result.code == "BUNDLE_UNTRUSTED_HEADER"
    assert "quorum is 3" in {c.check: c.reason for c in result.failed}["header"]


def test_a_certificate_of_another_state_root(multi: CertWorld) -> None:
    vc = multi.issue()
    bundle = bundle_of(multi, vc, certify(multi, PEERS, root=bytes(32)))
    assert check_final(multi, bundle).code == "BUNDLE_UNTRUSTED_HEADER"


def test_a_certificate_signed_by_non_founding_keys(multi: CertWorld) -> None:
    vc = multi.issue()
    lookup = certify(multi, PEERS)

    def rogue(height: int) -> FinalityCertificate:
        cert = lookup(height)
        stranger = key_for("stranger")
        message = attestation_sign_bytes(cert.chain_id, height, cert.block_hash, cert.state_root)
        sigs = [(n, stranger.public_key, stranger.sign(message)) for n in PEERS]
        return msgspec.structs.replace(cert, signatures=sigs)

    assert check_final(multi, bundle_of(multi, vc, rogue)).code == "BUNDLE_UNTRUSTED_HEADER"


def test_garbage_certificate(multi: CertWorld) -> None:
    vc = multi.issue()
    bundle = bundle_of(multi, vc)
    header = msgspec.structs.replace(bundle.header, finality="c0ffee")
    issuance = msgspec.structs.replace(bundle.issuance, header=header)
    forged = msgspec.structs.replace(bundle, header=header, issuance=issuance)
    assert check_final(multi, forged).code == "BUNDLE_UNTRUSTED_HEADER"


def test_finality_required_but_absent(multi: CertWorld) -> None:
    vc = multi.issue()
    result = check_final(multi, bundle_of(multi, vc), require_finality=True)
    assert result.code == "BUNDLE_NO_FINALITY"
