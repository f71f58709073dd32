"""Offline verification of a signed credential on one core: .venv/bin/python bench/vc_verify.py [N]

Signs one business-licence credential (W3C VC 2.0, eddsa-jcs-2022, with a status entry and
Chinese text) and verifies it N times: proof shape, cryptosuite, context, JCS, hashes, Ed25519,
validity window and the credential hash that the chain anchors. Single-threaded. The rate is given
per wall second and per CPU second of this process (the figure that holds on a shared machine).
"""

from __future__ import annotations

import hashlib
import sys
import time

from govchain.credentials.data_integrity import (
    create_proof,
    get_did_key_verification_method,
    resolve_did_key,
    verify_proof,
)
from govchain.credentials.vc import check_validity_window, compute_credential_hash
from govchain.crypto.signing import ED25519, get_scheme

NOW_MS = 1_795_000_000_000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    key = get_scheme(ED25519).from_seed(hashlib.sha256(b"bench-issuer").digest())
    method = get_did_key_verification_method(key.public_key)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:5f3c1a2e-0d4b-4a8e-9f61-1c2d3e4f5a6b",
        "type": ["VerifiableCredential", "BusinessLicence"],
        "issuer": "did:govchain:govchain-local:market-regulation",
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2031-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:govchain:govchain-local:ent:91350100M000100Y43",
            "name": "宁波港湾食品有限公司",
            "nameEn": "Ningbo Harbour Foods Ltd.",
            "creditCode": "91350100M000100Y43",
            "scope": "Food retail and catering",
            "registeredCapitalCny": 5000000,
        },
        "credentialStatus": {
            "id": "https://gov.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://gov.example/status/1",
        },
    }
    signed = create_proof(
        credential, signer=key, verification_method=method, created="2026-01-01T00:00:00Z"
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(n):
        verify_proof(signed, resolve_key=resolve_did_key).raise_for_failure()
        check_validity_window(signed, NOW_MS)
        compute_credential_hash(signed)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        f"{n / elapsed:,.0f} credentials verified per second on one core "
        f"({elapsed / n * 1e6:.0f} us each); {n / cpu:,.0f}/s per CPU second"
    )


if __name__ == "__main__":
    main()
