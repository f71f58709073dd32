"""Hashing and signatures behind a scheme interface."""

from govchain.crypto.hashing import ZERO_HASH, sha256, tagged_hash
from govchain.crypto.signing import (
    ED25519,
    Ed25519Scheme,
    KeyPair,
    SignatureScheme,
    get_scheme,
    verify_many,
)

__all__ = [
    "ED25519",
    "ZERO_HASH",
    "Ed25519Scheme",
    "KeyPair",
    "SignatureScheme",
    "get_scheme",
    "sha256",
    "tagged_hash",
    "verify_many",
]
