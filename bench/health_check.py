"""Venue checks of health passes per second on one core: .venv/bin/python bench/health_check.py [N]

Signs a test-result and a vaccination credential and their QR passes (as the health commission's
SDK does), then runs the full offline venue check (:func:`govchain.health.venue.check_pass`: kit
age, prefix, Base45, zlib, COSE, issuer key, EdDSA signature, claims, accreditation, validity,
venue policy, revocation snapshot) N times each against a kit whose snapshot holds 100,000
revoked passes, single-threaded, and prints checks per second and the pass sizes.
"""

from __future__ import annotations

import hashlib
import sys
import time

from govchain.client.certs import build_credential
from govchain.crypto.signing import ED25519, get_scheme
from govchain.health.passes import encode_health_pass
from govchain.health.schemas import TEST_RESULT, VACCINATION
from govchain.health.venue import TrustedKit, VenuePolicy, check_pass

CHAIN = "govchain-bench"
NOW_MS = 1_767_225_600_000
ORG_DID = f"did:govchain:{CHAIN}:health-commission"
METHOD = f"did:govchain:{CHAIN}:health-commission:issuer#key-1"
HOLDER = f"did:govchain:{CHAIN}:cit:" + "ab" * 16
SUBJECTS = {
    TEST_RESULT: {
        "id": HOLDER,
        "result": "negative",
        "testType": "PCR",
        "sampleTime": "2025-12-31T20:00:00Z",
    },
    VACCINATION: {
        "id": HOLDER,
        "product": "EU/1/20/1528",
        "doseNumber": 2,
        "totalDoses": 2,
        "date": "2025-10-01",
    },
}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    key = get_scheme(ED25519).from_seed(hashlib.sha256(b"bench health").digest())
    kit = TrustedKit(
        chain_id=CHAIN,
        org="health-commission",
        height=1_000,
        time_ms=NOW_MS - 3_600_000,
        keys={METHOD: key.public_key},
        accredited=frozenset(SUBJECTS),
        status_count=200_000,
        revoked=frozenset(range(0, 200_000, 2)),
        suspended=frozenset(),
    )
    policy = VenuePolicy()
    for kind, subject in SUBJECTS.items():
        vc = build_credential(
            key,
            verification_method=METHOD,
            issuer_did=ORG_DID,
            credential_type=kind,
            subject=subject,
            status_index=150_001,
            status_lists_url="https://node.example/v1/credentials/status-lists/health-commission",
            valid_from="2025-12-31T20:00:00Z",
            valid_until="2026-01-03T20:00:00Z",
            credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
            created="2025-12-31T20:00:00Z",
        )
        text = encode_health_pass(vc, key, iat=NOW_MS // 1000)
        assert check_pass(text, kit, NOW_MS, policy).admit
        start = time.perf_counter()
        for _ in range(n):
            check_pass(text, kit, NOW_MS, policy)
        elapsed = time.perf_counter() - start
        print(f"{kind}: {len(text)} chars, {n / elapsed:,.0f} venue checks/s (one core)")


if __name__ == "__main__":
    main()
