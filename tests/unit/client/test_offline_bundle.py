"""Offline verification bundles, built from a real in-memory chain and verified with no network:
a good bundle passes every named check; each tampering fails with its specific code."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import msgspec
import pytest
from certs_world import VALID_UNTIL, CertWorld, key_for, make_world, ms

from govchain.app.credential_bundle import build_credential_bundle
from govchain.client.offline import BUNDLE_CHECKS, BundleVerification, verify_bundle
from govchain.client.verify import TrustAnchor
from govchain.credentials.bundle import (
    BundleHeader,
    VerificationBundle,
    decode_bundle,
    encode_bundle,
)
from govchain.credentials.vc import compute_credential_hash
from govchain.encoding import decode, encode
from govchain.errors import NotFoundInState
from govchain.merkle import smt
from govchain.types import BlockHeader, compute_block_hash, header_sign_bytes


@pytest.fixture
def w(chain: Any) -> CertWorld:
    return make_world(chain)


def trust_of(w: CertWorld) -> TrustAnchor:
    return TrustAnchor(w.chain.chain_id, w.chain.app.genesis_hash, [w.chain.node_key.public_key])


def bundle_of(w: CertWorld, vc: dict[str, Any]) -> VerificationBundle:
    return build_credential_bundle(w.chain.app, compute_credential_hash(vc), credential=vc)


def check(
    w: CertWorld,
    bundle: VerificationBundle,
    now_ms: int | None = None,
    max_age_ms: int | None = None,
) -> BundleVerification:
    now = w.chain.header.time_ms if now_ms is None else now_ms
    # every bundle goes through its JSON form, as it would on its way to a verifier
    return verify_bundle(decode_bundle(encode_bundle(bundle)), trust_of(w), now, max_age_ms)


def code_of(w: CertWorld, bundle: VerificationBundle, **kw: Any) -> str:
    result = check(w, bundle, **kw)
    assert not result.valid
    return result.code


def test_a_good_bundle_passes_every_named_check(w: CertWorld) -> None:
    vc = w.issue()
    result = check(w, bundle_of(w, vc))
    assert [c.check for c in result.checks] == list(BUNDLE_CHECKS)
    assert result.valid, result.failed
    assert result.height == w.chain.height


def test_the_node_builds_it_without_the_credential_which_the_holder_adds(w: CertWorld) -> None:
    vc = w.issue()
    bare = build_credential_bundle(w.chain.app, compute_credential_hash(vc))
    assert code_of(w, bare) == "BUNDLE_MALFORMED"
    assert check(w, msgspec.structs.replace(bare, credential=vc)).valid


def test_garbage_and_unknown_formats_are_malformed(w: CertWorld) -> None:
    bundle = bundle_of(w, w.issue())
    assert code_of(w, msgspec.structs.replace(bundle, format="govchain-bundle-v9")) == (
        "BUNDLE_MALFORMED"
    )
    with pytest.raises(msgspec.ValidationError):
        decode_bundle(b'{"format": "govchain-bundle-v1"}')


def test_changed_claim(w: CertWorld) -> None:
    vc = w.issue()
    bundle = bundle_of(w, vc)
    changed = copy.deepcopy(vc)
    changed["credentialSubject"]["name"] = "Someone Else Ltd"
    result = check(w, msgspec.structs.replace(bundle, credential=changed))
    assert result.code == "BUNDLE_ANCHOR_MISMATCH"
    assert {c.check: c.code for c in result.failed}["signature"] == "CRED_BAD_PROOF"


def test_header_signed_by_an_untrusted_key(w: CertWorld) -> None:
    bundle = bundle_of(w, w.issue())
    header = decode(bytes.fromhex(bundle.header.header_raw), BlockHeader)
    rogue = key_for("rogue-node")
    forged = msgspec.structs.replace(header, proposer=rogue.public_key)
    signature = rogue.sign(header_sign_bytes(compute_block_hash(forged)))
    fake = BundleHeader(encode(forged).hex(), signature.hex())
    assert code_of(w, msgspec.structs.replace(bundle, header=fake)) == "BUNDLE_UNTRUSTED_HEADER"
    # the trusted node's signature over another header does not carry over
    stolen = BundleHeader(encode(forged).hex(), bundle.header.proposer_signature)
    assert code_of(w, msgspec.structs.replace(bundle, header=stolen)) == "BUNDLE_UNTRUSTED_HEADER"


def test_forged_status_value(w: CertWorld) -> None:
    vc = w.issue()
    active = bundle_of(w, vc)
    assert w.set_status(vc, "revoke", "compromise") == "OK"
    revoked = bundle_of(w, vc)
    # the earlier "active" record and its proof, under the later header: the root differs
    forged = msgspec.structs.replace(revoked, status=active.status)
    assert code_of(w, forged) == "BUNDLE_BAD_PROOF"
    # an altered value with the right proof
    raw = bytearray(bytes.fromhex(revoked.status.value or ""))
    raw[-1] ^= 1
    altered = msgspec.structs.replace(revoked.status, value=raw.hex())
    assert code_of(w, msgspec.structs.replace(revoked, status=altered)) == "BUNDLE_BAD_PROOF"


def test_forged_status_proof(w: CertWorld) -> None:
    bundle = bundle_of(w, w.issue())
    proof = smt.decode_state_proof(bytes.fromhex(bundle.status.proof))
    assert proof.siblings, "the test chain's proof has siblings to alter"
    bad = [bytes(32) if isinstance(s, bytes) else s for s in proof.siblings]
    forged_proof = msgspec.structs.replace(proof, siblings=bad)
    status = msgspec.structs.replace(
        bundle.status, proof=smt.encode_state_proof(forged_proof).hex()
    )
    assert code_of(w, msgspec.structs.replace(bundle, status=status)) == "BUNDLE_BAD_PROOF"
    # a genuine proof of another key does not stand in for the status record
    other = msgspec.structs.replace(bundle, status=bundle.anchor)
    assert code_of(w, other) == "BUNDLE_BAD_PROOF"


def test_revoked(w: CertWorld) -> None:
    vc = w.issue()
    assert w.set_status(vc, "revoke", "privilege_withdrawn") == "OK"
    result = check(w, bundle_of(w, vc))
    assert result.code == "BUNDLE_REVOKED"
    assert "privilege_withdrawn" in {c.check: c.reason for c in result.failed}["status"]


def test_suspended(w: CertWorld) -> None:
    vc = w.issue()
    assert w.set_status(vc, "suspend") == "OK"
    assert code_of(w, bundle_of(w, vc)) == "BUNDLE_SUSPENDED"
    assert w.set_status(vc, "reinstate") == "OK"
    assert check(w, bundle_of(w, vc)).valid


def test_expired(w: CertWorld) -> None:
    vc = w.issue()
    later = (ms(VALID_UNTIL) or 0) + 1
    assert code_of(w, bundle_of(w, vc), now_ms=later) == "BUNDLE_EXPIRED"


def test_another_chain(w: CertWorld) -> None:
    bundle = bundle_of(w, w.issue())
    other = TrustAnchor("other-city", w.chain.app.genesis_hash, [w.chain.node_key.public_key])
    result = verify_bundle(bundle, other, w.chain.header.time_ms)
    assert result.code == "BUNDLE_WRONG_CHAIN"
    elsewhere = TrustAnchor(w.chain.chain_id, hashlib.sha256(b"x").digest(), other.node_keys)
    assert verify_bundle(bundle, elsewhere, w.chain.header.time_ms).code == "BUNDLE_WRONG_CHAIN"


def test_key_rotated_before_issuance(w: CertWorld) -> None:
    new = key_for("tax-issuer-2")
    rotate = {
        "id": "tax:issuer",
        "old_public_key": w.issuer.public_key,
        "new_public_key": new.public_key,
    }
    w.ok(w.issuer, "rotate_key", rotate, contract="identity", cosign=(new,))
    late = w.vc()  # signed with the rotated key-1, anchored with the new key afterwards
    assert w.anchor(late, key=new) == "OK"
    assert code_of(w, bundle_of(w, late)) == "BUNDLE_KEY_NOT_VALID"
    good = w.vc(key=new, method=w.method_of(n=2))
    assert w.anchor(good, key=new) == "OK"
    assert check(w, bundle_of(w, good)).valid


def test_signature_by_another_key_than_the_proven_one(w: CertWorld) -> None:
    forged = w.vc(key=key_for("someone"))
    assert w.anchor(forged) == "OK"  # anchored by the issuer, signed by nobody it knows
    result = check(w, bundle_of(w, forged))
    assert {c.check: c.code for c in result.failed} == {"signature": "CRED_BAD_PROOF"}


def test_accreditation_is_judged_at_the_anchoring_height(w: CertWorld) -> None:
    vc = w.issue()
    w.revoke_accreditation("tax")
    assert check(w, bundle_of(w, vc)).valid  # revoked after issuance: still good


def test_accreditation_revoked_and_granted_again_after_issuance(w: CertWorld) -> None:
    vc = w.issue()
    w.revoke_accreditation("tax")
    w.accredit("tax")  # the record now starts after the anchoring height
    assert check(w, bundle_of(w, vc)).valid  # proven as it stood at the anchoring height
    assert w.verify(vc).valid  # the same answer online


def test_issued_while_not_accredited(w: CertWorld) -> None:
    vc = w.vc()
    anchored_when_accredited = w.issue()
    w.revoke_accreditation("tax")
    assert w.anchor(vc) == "CERT_NOT_ACCREDITED"  # the contract refuses it ...
    w.accredit("tax")
    assert check(w, bundle_of(w, anchored_when_accredited)).valid


def test_an_unanchored_hash_has_no_bundle(w: CertWorld) -> None:
    with pytest.raises(NotFoundInState) as caught:
        build_credential_bundle(w.chain.app, bytes(32))
    assert caught.value.code == "CERT_NOT_FOUND"


def test_stale_header(w: CertWorld) -> None:
    bundle = bundle_of(w, w.issue())
    now = w.chain.header.time_ms + 10 * 60_000
    assert check(w, bundle, now_ms=now, max_age_ms=60 * 60_000).valid
    assert code_of(w, bundle, now_ms=now, max_age_ms=60_000) == "BUNDLE_STALE"
