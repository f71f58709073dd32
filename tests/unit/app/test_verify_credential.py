"""Online verification of credentials: every check named; one rejection per tampering, each with
its specific check and code."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from certs_world import TYPE, CertWorld, key_for, make_world, ms, outcome

from govchain.app.verify_credential import CHECKS
from govchain.client.certs import build_credential
from govchain.contracts.did import did_of
from govchain.credentials.data_integrity import get_did_key_verification_method
from govchain.merkle import verify_state_proof


@pytest.fixture
def w(chain: Any) -> CertWorld:
    return make_world(chain)


def failed(w: CertWorld, vc: Any, now_ms: int | None = None) -> dict[str, str]:
    """``{check: code}`` of the checks that failed."""
    result = w.verify(vc, now_ms)
    assert not result.valid
    return {c.check: c.code for c in result.checks if c.ok is False}


def test_a_valid_credential_passes_every_named_check_with_proofs(w: CertWorld) -> None:
    vc = w.issue()
    result = w.verify(vc)
    assert [c.check for c in result.checks] == list(CHECKS)
    assert result.valid, result.checks
    assert result.anchor is not None and result.status is not None
    assert result.status.status == "active"
    for proved in (result.anchor_proof, result.status_proof):
        assert proved is not None and proved.value is not None
        verify_state_proof(proved.header.state_root, proved.key, proved.value, proved.proof)


def test_changed_claim(w: CertWorld) -> None:
    vc = w.issue()
    vc["credentialSubject"]["name"] = "Someone Else Ltd"
    assert failed(w, vc) == {"signature": "CRED_BAD_PROOF", "anchor": "CERT_NOT_ANCHORED"}


def test_wrong_key(w: CertWorld) -> None:
    vc = w.vc(key=w.officer)  # signed by the officer, claims the issuer's key
    assert w.anchor(vc) == "OK"
    assert failed(w, vc) == {"signature": "CRED_BAD_PROOF"}


def test_key_of_nobody_on_this_chain(w: CertWorld) -> None:
    stranger = key_for("stranger")
    vc = w.vc(key=stranger, method=get_did_key_verification_method(stranger.public_key))
    assert w.anchor(vc) == "OK"
    assert failed(w, vc) == {"key": "CERT_KEY_UNKNOWN"}


def test_key_of_a_member_without_an_issuing_role(w: CertWorld) -> None:
    auditor = key_for("tax-auditor")
    w.enrol("tax", "auditor", auditor, ["auditor"])
    vc = w.vc(key=auditor, method=w.method_of("tax:auditor"))
    assert w.anchor(vc) == "OK"
    assert failed(w, vc) == {"key": "CERT_KEY_NOT_ISSUER"}


def test_rotated_key_signed_after_rotation(w: CertWorld) -> None:
    before = w.issue()  # signed and anchored while key-1 was valid
    new = key_for("tax-issuer-2")
    rotate = {
        "id": "tax:issuer",
        "old_public_key": w.issuer.public_key,
        "new_public_key": new.public_key,
    }
    w.ok(w.issuer, "rotate_key", rotate, contract="identity", cosign=(new,))
    assert w.verify(before).valid  # a signature made before the rotation stays good
    after = w.vc()  # signed with the old key after the rotation, anchored with the new one
    assert w.anchor(after, key=new) == "OK"
    assert failed(w, after) == {"key": "CERT_KEY_NOT_VALID"}
    good = w.vc(key=new, method=w.method_of(n=2))
    assert w.anchor(good, key=new) == "OK"
    assert w.verify(good).valid


def test_revoked(w: CertWorld) -> None:
    vc = w.issue()
    assert w.set_status(vc, "revoke", "privilege_withdrawn") == "OK"
    result = w.verify(vc)
    assert outcome(result)["status"] == (False, "CERT_REVOKED")
    assert "privilege_withdrawn" in result.checks[-1].reason
    assert result.status is not None and result.status.status == "revoked"


def test_suspended_then_reinstated(w: CertWorld) -> None:
    vc = w.issue()
    assert w.set_status(vc, "suspend") == "OK"
    assert failed(w, vc) == {"status": "CERT_SUSPENDED"}
    assert w.set_status(vc, "reinstate") == "OK"
    assert w.verify(vc).valid


def test_expired_and_not_yet_valid(w: CertWorld) -> None:
    vc = w.issue()
    until, start = ms(vc["validUntil"]), ms(vc["validFrom"])
    assert until is not None and start is not None
    assert failed(w, vc, until + 1) == {"validity": "CRED_EXPIRED"}
    assert failed(w, vc, start - 1) == {"validity": "CRED_NOT_YET_VALID"}


def test_issuer_not_accredited_for_the_type(w: CertWorld) -> None:
    health = key_for("health-issuer")
    w.enrol("health", "issuer", health, ["issuer"])
    vc = w.vc(
        key=health,
        method=w.method_of("health:issuer"),
        issuer_did=did_of(w.chain.chain_id, "health"),
    )
    assert w.anchor(vc, key=health, issuer_org="health") == "CERT_NOT_ACCREDITED"
    codes = failed(w, vc)
    assert codes["accreditation"] == "CERT_NOT_ACCREDITED"
    assert codes["anchor"] == "CERT_NOT_ANCHORED"


def test_accreditation_is_judged_at_the_anchoring_height(w: CertWorld) -> None:
    vc = w.issue()
    w.revoke_accreditation("tax")
    assert w.verify(vc).valid
    late = w.vc()
    assert w.anchor(late) == "CERT_NOT_ACCREDITED"


def test_credential_from_another_chain(w: CertWorld) -> None:
    vc = w.vc(issuer_did="did:govchain:other-city:tax", method=w.method_of())
    codes = failed(w, vc)
    assert codes["chain"] == "CERT_WRONG_CHAIN"
    foreign_key = w.vc(method="did:govchain:other-city:tax:issuer#key-1")
    assert failed(w, foreign_key)["chain"] == "CERT_WRONG_CHAIN"


def test_schema_violation(w: CertWorld) -> None:
    vc = w.vc({"id": "did:example:holder", "name": "Acme", "licenceNo": "12"})
    assert w.anchor(vc) == "OK"  # the chain never sees the claims
    assert failed(w, vc) == {"schema": "CRED_SCHEMA_INVALID"}


def test_unknown_schema_version(w: CertWorld) -> None:
    vc = w.vc()
    assert w.anchor(vc, schema_version="7.0") == "CERT_UNKNOWN_SCHEMA"
    result = w.verify(vc)
    assert outcome(result)["schema"] == (None, "")  # no anchor names a schema version


def test_anchor_missing(w: CertWorld) -> None:
    vc = w.vc()
    result = w.verify(vc)
    assert {c.check: c.code for c in result.checks if c.ok is False} == {
        "anchor": "CERT_NOT_ANCHORED"
    }
    assert outcome(result)["status"][0] is None
    assert result.anchor_proof is not None and result.anchor_proof.value is None
    proved = result.anchor_proof
    verify_state_proof(proved.header.state_root, proved.key, None, proved.proof)


def test_anchor_for_another_window_or_type(w: CertWorld) -> None:
    vc = w.vc()
    assert w.anchor(vc, valid_until_ms=ms("2031-01-01T00:00:00Z")) == "OK"
    assert failed(w, vc) == {"anchor": "CERT_ANCHOR_MISMATCH"}


def test_status_entry_must_name_the_anchored_index(w: CertWorld) -> None:
    vc = w.vc(index=5)
    assert w.anchor(vc, status_index=6) == "OK"
    assert failed(w, vc) == {"status": "CERT_STATUS_MISMATCH"}


@pytest.mark.parametrize(
    ("mutate", "check", "code"),
    [
        (lambda vc: vc.pop("proof"), "proof", "CRED_MALFORMED"),
        (lambda vc: vc["proof"].update(cryptosuite="ecdsa-rdfc-2019"), "proof", None),
        (lambda vc: vc.pop("credentialSubject"), "format", "CRED_MALFORMED"),
    ],
)
def test_malformed(w: CertWorld, mutate: Any, check: str, code: str | None) -> None:
    vc = copy.deepcopy(w.issue())
    mutate(vc)
    codes = failed(w, vc)
    assert check in codes
    if code is not None:
        assert codes[check] == code


def test_not_an_object(w: CertWorld) -> None:
    result = w.verify(["not", "a", "credential"])
    assert not result.valid and result.checks[0].code == "CRED_MALFORMED"


def test_builder_puts_both_status_entries(w: CertWorld) -> None:
    vc = build_credential(
        w.issuer,
        verification_method=w.method_of(),
        issuer_did=did_of(w.chain.chain_id, "tax"),
        credential_type=TYPE,
        subject={"id": "x:y", "name": "n"},
        status_index=42,
        status_lists_url="https://n/l",
        valid_from="2024-01-01T00:00:00Z",
        valid_until=None,
        credential_id="urn:uuid:1",
        created="2024-01-01T00:00:00Z",
    )
    assert [e["statusPurpose"] for e in vc["credentialStatus"]] == ["revocation", "suspension"]
    assert {e["statusListIndex"] for e in vc["credentialStatus"]} == {"42"}
    assert "validUntil" not in vc and vc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
