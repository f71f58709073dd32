"""QR decode + verify throughput on one core: .venv/bin/python bench/qr_decode.py [N]

Decodes one EdDSA-signed and one ES256-signed health pass N times each (unprefix, Base45, zlib,
COSE, signature, CBOR claims, expiry) and prints decodes per second. Single-threaded.
"""

from __future__ import annotations

import hashlib
import sys
import time

from cryptography.hazmat.primitives.asymmetric import ec

from govchain.credentials.cose import CoseSigningKey, CoseVerificationKey, CwtClaims
from govchain.credentials.qr import decode_qr_payload, encode_qr_payload
from govchain.crypto.signing import ED25519, get_scheme

NOW = 1_767_225_600


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    ed = get_scheme(ED25519).from_seed(hashlib.sha256(b"bench").digest())
    p256 = ec.derive_private_key(12345, ec.SECP256R1())
    claims = CwtClaims(
        iss="did:govchain:org:health-bureau",
        iat=NOW,
        exp=NOW + 72 * 3600,
        claims={
            "type": "HealthPass",
            "nameHash": hashlib.sha256(b"holder").hexdigest(),
            "testResult": "negative",
            "testType": "PCR",
        },
    )
    cases: list[tuple[str, CoseSigningKey, CoseVerificationKey]] = [
        ("EdDSA", ed, ed.public_key),
        ("ES256", p256, p256.public_key()),
    ]
    for name, signer, public in cases:
        text = encode_qr_payload(claims, signer, b"k1")
        trust = {b"k1": public}
        assert decode_qr_payload(text, key_or_cert_resolver=trust, now=NOW + 1).ok
        start = time.perf_counter()
        for _ in range(n):
            decode_qr_payload(text, key_or_cert_resolver=trust, now=NOW + 1)
        elapsed = time.perf_counter() - start
        print(f"{name}: {len(text)} chars, {n / elapsed:,.0f} decode+verify/s (one core)")


if __name__ == "__main__":
    main()
