"""Health-pass claims: minimised, pseudonymous, typed on the way back, and each malformed pass
refused with PASS_BAD_CLAIMS."""

from __future__ import annotations

from typing import Any

import pytest
from certs_world import key_for

from govchain.client.certs import build_credential
from govchain.credentials.cose import CwtClaims
from govchain.health.passes import (
    HealthError,
    build_pass_claims,
    compute_holder_ref,
    encode_health_pass,
    parse_pass_claims,
)
from govchain.health.schemas import TEST_RESULT, VACCINATION

HOLDER = "did:govchain:c:cit:" + "cd" * 16
KEY = key_for("health-issuer")


def credential(kind: str = TEST_RESULT, **subject: Any) -> dict[str, Any]:
    base: dict[str, Any] = (
        {
            "id": HOLDER,
            "result": "negative",
            "testType": "RAT",
            "sampleTime": "2026-01-01T08:00:00Z",
        }
        if kind == TEST_RESULT
        else {"id": HOLDER, "product": "P", "doseNumber": 1, "totalDoses": 2, "date": "2026-01-01"}
    )
    base.update(subject)
    return build_credential(
        KEY,
        verification_method="did:govchain:c:health:issuer#key-1",
        issuer_did="did:govchain:c:health",
        credential_type=kind,
        subject=base,
        status_index=7,
        status_lists_url="https://node.example/lists/health",
        valid_from="2026-01-01T08:00:00Z",
        valid_until="2026-01-04T08:00:00Z",
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000007",
        created="2026-01-01T09:00:00Z",
    )


def test_claims_are_minimised_and_pseudonymous() -> None:
    vc = credential(name="Example Holder", centre="lab-3")
    claims = build_pass_claims(vc, iat=1)
    assert claims.sub == compute_holder_ref(HOLDER, claims.claims["hash"])  # type: ignore[index]
    assert (
        HOLDER not in repr(claims) and "Example" not in repr(claims) and "lab-3" not in repr(claims)
    )
    assert set(claims.claims or {}) == {"v", "type", "hash", "idx", "result", "tt", "sc"}
    assert (claims.nbf, claims.exp, claims.iat) == (1767254400, 1767513600, 1)
    named = build_pass_claims(vc, iat=1, include_name=True)
    assert (named.claims or {})["nam"] == "Example Holder"


def test_holder_references_differ_between_passes() -> None:
    assert compute_holder_ref(HOLDER, "a" * 64) != compute_holder_ref(HOLDER, "b" * 64)


def test_a_vaccination_round_trips() -> None:
    parsed = parse_pass_claims(build_pass_claims(credential(VACCINATION), iat=1))
    assert (parsed.credential_type, parsed.dose_number, parsed.total_doses) == (VACCINATION, 1, 2)
    assert (parsed.status_index, parsed.vaccination_date, parsed.product) == (7, "2026-01-01", "P")


def _code(fn: Any) -> str:
    with pytest.raises(HealthError) as caught:
        fn()
    return caught.value.code


def test_what_is_not_a_health_credential_is_refused() -> None:
    vc = credential()
    other = {**vc, "type": ["VerifiableCredential", "BusinessLicence"]}
    assert _code(lambda: build_pass_claims(other, iat=1)) == "PASS_BAD_CLAIMS"
    no_status = {k: v for k, v in vc.items() if k != "credentialStatus"}
    assert _code(lambda: build_pass_claims(no_status, iat=1)) == "PASS_BAD_CLAIMS"
    unsigned = {k: v for k, v in vc.items() if k != "proof"}
    assert _code(lambda: encode_health_pass(unsigned, KEY, iat=1)) == "PASS_BAD_CLAIMS"


@pytest.mark.parametrize(
    "changes",
    [
        {"v": 2},
        {"type": "Licence"},
        {"result": "maybe"},
        {"sc": "yesterday"},
        {"idx": True},
        {"hash": None},
    ],
)
def test_malformed_claims_are_refused(changes: dict[str, Any]) -> None:
    good = build_pass_claims(credential(), iat=1)
    bad = CwtClaims(iss=good.iss, sub=good.sub, claims={**(good.claims or {}), **changes})
    assert _code(lambda: parse_pass_claims(bad)) == "PASS_BAD_CLAIMS"


def test_a_pass_needs_issuer_and_holder_reference() -> None:
    good = build_pass_claims(credential(), iat=1)
    assert _code(lambda: parse_pass_claims(CwtClaims(sub=good.sub, claims=good.claims))) == (
        "PASS_BAD_CLAIMS"
    )
