"""SD-JWT presentation verification throughput, one core: .venv/bin/python bench/sdjwt_verify.py [N]

Issues a 10-claim licence (every claim selectively disclosable), presents 3 of them with key
binding, and verifies that presentation N times (issuer signature, 3 disclosure digests, claim
reconstruction, expiry, KB-JWT signature, nonce, audience, freshness, sd_hash). Single-threaded.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time

from govchain.credentials.jose import keypair_public_jwk
from govchain.credentials.sdjwt import issue_sd_jwt, present, verify_presentation
from govchain.crypto.signing import ED25519, get_scheme

NOW = 1_767_225_600
CLAIMS = {
    "iss": "did:govchain:org:market-bureau",
    "sub": "did:govchain:citizen:7f3a",
    "given_name": "Mei",
    "family_name": "Lin",
    "birthdate": "1990-05-17",
    "age_over_18": True,
    "licence_no": "BL-2025-000123",
    "licence_type": "food-retail",
    "licence_valid": True,
    "address": "1 Harbour Rd, Nanshan",
    "nationality": "CN",
    "valid_until": "2030-12-31",
}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    issuer = get_scheme(ED25519).from_seed(hashlib.sha256(b"issuer").digest())
    holder = get_scheme(ED25519).from_seed(hashlib.sha256(b"holder").digest())
    disclosable = {(k,) for k in CLAIMS if k not in ("iss", "sub")}
    assert len(disclosable) == 10
    sd_jwt = issue_sd_jwt(
        CLAIMS,
        disclosable=disclosable,
        issuer_key=issuer,
        kid="k1",
        holder_public_jwk=keypair_public_jwk(holder),
        salt=lambda: os.urandom(16),
        iat=NOW,
        exp=NOW + 86_400,
    )
    text = present(
        sd_jwt,
        reveal={"age_over_18", "licence_valid", "licence_type"},
        holder_key=holder,
        nonce="n-123",
        audience="https://verifier.example",
        iat=NOW,
    )
    issuer_jwk = keypair_public_jwk(issuer)

    def run() -> None:
        verify_presentation(
            text,
            issuer_key_resolver=lambda iss, kid: issuer_jwk,
            expected_nonce="n-123",
            expected_audience="https://verifier.example",
            now=NOW + 1,
        )

    run()
    start = time.perf_counter()
    for _ in range(n):
        run()
    elapsed = time.perf_counter() - start
    print(f"SD-JWT+KB, 3 of 10 claims, {len(text)} chars: {n / elapsed:,.0f} verifications/s")


if __name__ == "__main__":
    main()
