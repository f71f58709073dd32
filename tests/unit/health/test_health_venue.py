"""Offline venue checks: a venue kit built from a unit chain, passes issued through the real
transaction path, and every way a pass or a kit is refused, each with its specific code."""

from __future__ import annotations

import dataclasses
import zlib
from typing import Any

import base45  # type: ignore[import-untyped]
import msgspec
import pytest
from certs_world import key_for
from health_world import (
    HealthWorld,
    make_health_world,
    result_subject,
    vaccination_subject,
)

from govchain.contracts.governance_actions import Accredit
from govchain.credentials.cose import (
    CwtClaims,
    decode_cose_sign1,
    decode_cwt,
    encode_cose_sign1,
    encode_cwt,
)
from govchain.credentials.vc import compute_credential_hash
from govchain.health.kit import decode_kit, encode_kit
from govchain.health.kit_builder import build_venue_kit
from govchain.health.passes import HealthError, compute_holder_ref
from govchain.health.schemas import TEST_RESULT, VACCINATION
from govchain.health.venue import (
    VENUE_CHECKS,
    TrustedKit,
    VenueDecision,
    VenuePolicy,
    attest_kit,
    check_pass,
    load_kit,
)

HOUR_MS = 3_600_000


@pytest.fixture
def w(chain: Any) -> HealthWorld:
    return make_health_world(chain)


def now(w: HealthWorld) -> int:
    return w.chain.header.time_ms


def check(w: HealthWorld, text: str, kit: TrustedKit | None = None, **policy: Any) -> VenueDecision:
    return check_pass(text, kit or w.kit(), now(w), VenuePolicy(**policy))


def refused(decision: VenueDecision, check_name: str, code: str) -> None:
    failed = decision.failure
    assert decision.verdict == "REFUSE"
    assert failed is not None and (failed.check, failed.code) == (check_name, code), failed
    after = [
        c for c in decision.checks if VENUE_CHECKS.index(c.check) > VENUE_CHECKS.index(check_name)
    ]
    assert all(c.ok is None for c in after)


def test_a_negative_test_is_admitted_with_every_check_named(w: HealthWorld) -> None:
    vc, text = w.issue_pass()
    decision = check(w, text)
    assert decision.verdict == "ADMIT", decision.to_json()
    assert [c.check for c in decision.checks] == list(VENUE_CHECKS)
    assert all(c.ok and c.reason for c in decision.checks)
    shown = decision.to_json()["pass"]
    assert shown["result"] == "negative" and "name" not in shown
    assert shown["holder_ref"] == compute_holder_ref(
        vc["credentialSubject"]["id"], shown["credential_hash"]
    )
    assert shown["credential_hash"] == compute_credential_hash(vc).hex()


def test_a_full_vaccination_is_admitted_and_a_partial_one_refused(w: HealthWorld) -> None:
    _, full = w.issue_pass(VACCINATION)
    assert check(w, full).admit
    _, partial = w.issue_pass(VACCINATION, vaccination_subject(doseNumber=1))
    refused(check(w, partial), "policy", "PASS_INCOMPLETE_VACCINATION")
    assert check(w, partial, require_full_vaccination=False).admit


def test_the_name_goes_into_the_pass_only_if_the_holder_asks(w: HealthWorld) -> None:
    subject = result_subject(name="Example Holder")
    _, plain = w.issue_pass(subject=subject)
    _, named = w.issue_pass(subject=subject, include_name=True)
    assert "name" not in check(w, plain).to_json()["pass"]
    assert check(w, named).to_json()["pass"]["name"] == "Example Holder"


def test_a_test_older_than_the_venue_allows_is_refused(w: HealthWorld) -> None:
    _, text = w.issue_pass()  # sampled about 2 h 13 min before the chain's time
    refused(check(w, text, test_validity_hours=1), "policy", "PASS_TEST_TOO_OLD")
    assert check(w, text, test_validity_hours=3).admit


def test_a_pass_past_its_expiry_is_refused(w: HealthWorld) -> None:
    _, text = w.issue_pass()
    later = now(w) + 10 * 24 * HOUR_MS
    decision = check_pass(text, w.kit(), later, VenuePolicy(max_kit_age_hours=24 * 30))
    refused(decision, "validity", "QR_EXPIRED")


def test_a_positive_result_is_refused(w: HealthWorld) -> None:
    _, text = w.issue_pass(subject=result_subject(result="positive"))
    refused(check(w, text), "policy", "PASS_POSITIVE")


def test_revocation_follows_the_kits_snapshot(w: HealthWorld) -> None:
    vc, text = w.issue_pass()
    old_kit = w.kit()
    assert w.set_status(vc, "revoke") == "OK"
    assert check(w, text, old_kit).admit  # the old snapshot does not know yet
    refused(check(w, text), "revocation", "PASS_REVOKED")


def test_a_suspended_pass_is_refused(w: HealthWorld) -> None:
    vc, text = w.issue_pass()
    assert w.set_status(vc, "suspend") == "OK"
    refused(check(w, text), "revocation", "PASS_SUSPENDED")


def test_a_pass_newer_than_the_kit_is_admitted_as_not_revoked_then(w: HealthWorld) -> None:
    kit = w.kit()
    _, text = w.issue_pass()
    decision = check(w, text, kit)
    assert decision.admit and "after the kit's snapshot" in decision.checks[-1].reason


def test_a_pass_of_another_issuer_is_refused(w: HealthWorld) -> None:
    w.govern(Accredit("tax", TEST_RESULT))
    w.enrol("tax", "issuer", key_for("tax-issuer"), ["issuer"])
    other = HealthWorld(w.chain, issuer=key_for("tax-issuer"), officer=key_for("tax-officer"))
    _, text = other.issue_pass(org="tax")
    refused(check(w, text), "issuer", "PASS_UNKNOWN_ISSUER")


def test_a_pass_of_another_chain_is_refused(
    w: HealthWorld, make_chain: Any, genesis_factory: Any
) -> None:
    elsewhere = make_health_world(make_chain(genesis_factory("govchain-elsewhere")))
    _, text = elsewhere.issue_pass()
    refused(check(w, text), "issuer", "PASS_WRONG_CHAIN")


def test_a_revoked_accreditation_refuses_the_type(w: HealthWorld) -> None:
    _, text = w.issue_pass()
    w.revoke_accreditation("health", TEST_RESULT)
    refused(check(w, text), "accreditation", "PASS_NOT_ACCREDITED")


@pytest.mark.parametrize(
    ("mangle", "check_name", "code"),
    [
        (lambda t: t[: 4 + ((len(t) - 4) // 3 - 10) * 3], "decompress", "QR_BAD_COMPRESSION"),
        (lambda t: t[:-1], "base45", "QR_BAD_BASE45"),
        (lambda t: "HC2:" + t[4:], "prefix", "QR_BAD_PREFIX"),
        (lambda t: t[:4] + "a" + t[5:], "base45", "QR_BAD_BASE45"),
        (lambda t: "", "prefix", "QR_BAD_PREFIX"),
        (
            lambda t: "HC1:" + base45.b45encode(zlib.compress(b"not cose")).decode(),
            "cose",
            "QR_BAD_COSE",
        ),
    ],
)
def test_truncated_or_corrupted_qr_is_refused(
    w: HealthWorld, mangle: Any, check_name: str, code: str
) -> None:
    _, text = w.issue_pass()
    refused(check(w, mangle(text)), check_name, code)


def _alter(text: str, **changes: Any) -> str:
    message = decode_cose_sign1(zlib.decompress(base45.b45decode(text[4:])))
    claims = decode_cwt(message.payload)
    altered = dataclasses.replace(claims, claims={**(claims.claims or {}), **changes})
    forged = dataclasses.replace(message, payload=encode_cwt(altered))
    return "HC1:" + base45.b45encode(zlib.compress(encode_cose_sign1(forged))).decode()


def test_altered_claims_break_the_signature(w: HealthWorld) -> None:
    _, text = w.issue_pass(subject=result_subject(result="positive"))
    refused(check(w, _alter(text, result="negative")), "signature", "QR_BAD_SIGNATURE")
    refused(check(w, _alter(text, idx=999)), "signature", "QR_BAD_SIGNATURE")


def test_a_signed_payload_that_is_no_health_pass_is_refused(w: HealthWorld) -> None:
    from govchain.credentials.qr import encode_qr_payload

    kid = f"did:govchain:{w.chain.chain_id}:health:issuer#key-1".encode()
    claims = CwtClaims(iss=f"did:govchain:{w.chain.chain_id}:health", sub="x", claims={"v": 2})
    refused(check(w, encode_qr_payload(claims, w.issuer, kid)), "claims", "PASS_BAD_CLAIMS")


def test_a_stale_kit_is_refused(w: HealthWorld) -> None:
    _, text = w.issue_pass()
    decision = check_pass(
        text, w.kit(), now(w) + 49 * HOUR_MS, VenuePolicy(test_validity_hours=999)
    )
    refused(decision, "kit", "KIT_STALE")


# --- the kit ---------------------------------------------------------------------------------


def test_a_kit_round_trips_and_holds_the_issuing_keys(w: HealthWorld) -> None:
    kit = build_venue_kit(w.chain.app, "health")
    trusted = load_kit(decode_kit(encode_kit(kit)), genesis_hash=w.chain.app.genesis_hash)
    assert set(trusted.keys) == {
        f"did:govchain:{w.chain.chain_id}:health:{m}#key-1" for m in ("issuer", "officer")
    }
    assert trusted.accredited == {TEST_RESULT, VACCINATION}
    assert (trusted.height, trusted.status_count) == (w.chain.height, 0)


def _kit_code(kit: Any, **kw: Any) -> str:
    with pytest.raises(HealthError) as caught:
        load_kit(kit, **kw)
    return caught.value.code


def test_a_tampered_kit_is_refused(w: HealthWorld) -> None:
    vc, _ = w.issue_pass()
    w.set_status(vc, "revoke")
    kit = build_venue_kit(w.chain.app, "health")
    replace = msgspec.structs.replace
    assert _kit_code(kit, genesis_hash=b"\x00" * 32) == "KIT_WRONG_CHAIN"
    assert _kit_code(replace(kit, chain_id="other")) == "KIT_WRONG_CHAIN"
    assert _kit_code(replace(kit, format="x")) == "KIT_MALFORMED"
    header = replace(kit.header, proposer_signature="00" * 64)
    assert _kit_code(replace(kit, header=header)) == "KIT_UNTRUSTED_HEADER"
    forged = replace(kit.members[0], value=kit.org_record.value)
    assert _kit_code(replace(kit, members=[forged])) == "KIT_BAD_PROOF"
    swapped = replace(kit, revoked=list(kit.suspended) + [replace(kit.revoked[0], key="00")])
    assert _kit_code(swapped) == "KIT_BAD_PROOF"
    assert _kit_code(replace(kit, accreditations=kit.accreditations[:1])) == "KIT_MALFORMED"


def test_an_unknown_org_has_no_kit(w: HealthWorld) -> None:
    with pytest.raises(Exception, match="no organisation") as caught:
        build_venue_kit(w.chain.app, "nobody")
    assert getattr(caught.value, "code", "") == "HEALTH_UNKNOWN_ORG"


# --- attested snapshots ----------------------------------------------------------------------


def test_an_attested_kit_vouches_for_its_snapshot(w: HealthWorld) -> None:
    vc, text = w.issue_pass()
    w.set_status(vc, "revoke")
    attested = attest_kit(build_venue_kit(w.chain.app, "health"), w.officer)
    trusted = load_kit(decode_kit(encode_kit(attested)))
    assert trusted.attested_by == f"did:govchain:{w.chain.chain_id}:health:officer#key-1"
    decision = check(w, text, trusted, require_attested=True)
    refused(decision, "revocation", "PASS_REVOKED")
    _, fresh = w.issue_pass()
    assert "attested by" in check(w, fresh, trusted, require_attested=True).checks[-1].reason


def test_an_unattested_kit_is_refused_when_the_venue_requires_one(w: HealthWorld) -> None:
    _, text = w.issue_pass()
    refused(check(w, text, require_attested=True), "kit", "KIT_NOT_ATTESTED")


def test_a_forged_or_foreign_attestation_is_refused(w: HealthWorld) -> None:
    kit = build_venue_kit(w.chain.app, "health")
    with pytest.raises(HealthError) as caught:
        attest_kit(kit, key_for("stranger"))
    assert caught.value.code == "KIT_BAD_ATTESTATION"
    attested = attest_kit(kit, w.issuer)
    assert attested.attestation is not None
    replace = msgspec.structs.replace
    forged = replace(attested.attestation, signature="00" * 64)
    assert _kit_code(replace(attested, attestation=forged)) == "KIT_BAD_ATTESTATION"
    vc, _ = w.issue_pass()
    w.set_status(vc, "revoke")
    newer = build_venue_kit(w.chain.app, "health")  # the old signature does not cover it
    assert _kit_code(replace(newer, attestation=attested.attestation)) == "KIT_BAD_ATTESTATION"


def test_a_compact_kit_carries_the_bitstrings_under_the_attestation(w: HealthWorld) -> None:
    revoked_vc, revoked_text = w.issue_pass()
    suspended_vc, suspended_text = w.issue_pass()
    _, good = w.issue_pass()
    w.set_status(revoked_vc, "revoke")
    w.set_status(suspended_vc, "suspend")
    full = build_venue_kit(w.chain.app, "health")
    compact = attest_kit(full, w.officer, compact=True)
    assert compact.revoked == [] and compact.compact is not None
    trusted = load_kit(decode_kit(encode_kit(compact)))
    assert (trusted.revoked, trusted.suspended) == (frozenset({0}), frozenset({1}))
    assert trusted.revoked == load_kit(full).revoked
    refused(check(w, revoked_text, trusted), "revocation", "PASS_REVOKED")
    refused(check(w, suspended_text, trusted), "revocation", "PASS_SUSPENDED")
    assert check(w, good, trusted, require_attested=True).admit


def test_a_compact_kit_without_attestation_or_with_a_changed_list_is_refused(
    w: HealthWorld,
) -> None:
    vc, _ = w.issue_pass()
    w.set_status(vc, "revoke")
    compact = attest_kit(build_venue_kit(w.chain.app, "health"), w.officer, compact=True)
    replace = msgspec.structs.replace
    assert _kit_code(replace(compact, attestation=None)) == "KIT_MALFORMED"
    assert compact.compact is not None
    emptied = replace(compact.compact, revocation=compact.compact.suspension)
    assert _kit_code(replace(compact, compact=emptied)) == "KIT_BAD_ATTESTATION"
    garbage = replace(compact.compact, revocation="not a list")
    assert _kit_code(replace(compact, compact=garbage)) == "KIT_MALFORMED"
