"""Signature schemes. Ed25519 (libsodium through PyNaCl) today; SM2 can be added as a scheme.

A scheme is identified on the wire by its name. Verification returns a bool and never raises on
bad input, so that callers decide which typed error to raise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import nacl.exceptions
import nacl.signing

__all__ = [
    "ED25519",
    "Ed25519Scheme",
    "KeyPair",
    "SignatureScheme",
    "get_scheme",
    "verify_many",
]

ED25519 = "ed25519"


class SignatureScheme(Protocol):
    name: str
    public_key_size: int
    signature_size: int

    def generate(self) -> KeyPair: ...
    def from_seed(self, seed: bytes) -> KeyPair: ...
    def sign(self, seed: bytes, message: bytes) -> bytes: ...
    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class KeyPair:
    scheme: str
    seed: bytes
    public_key: bytes

    def sign(self, message: bytes) -> bytes:
        return get_scheme(self.scheme).sign(self.seed, message)


class Ed25519Scheme:
    name = ED25519
    public_key_size = 32
    signature_size = 64

    def generate(self) -> KeyPair:
        key = nacl.signing.SigningKey.generate()
        return KeyPair(self.name, bytes(key), bytes(key.verify_key))

    def from_seed(self, seed: bytes) -> KeyPair:
        key = nacl.signing.SigningKey(seed)
        return KeyPair(self.name, bytes(key), bytes(key.verify_key))

    def sign(self, seed: bytes, message: bytes) -> bytes:
        return nacl.signing.SigningKey(seed).sign(message).signature

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != 32 or len(signature) != 64:
            return False
        try:
            nacl.signing.VerifyKey(public_key).verify(message, signature)
        except (
            nacl.exceptions.BadSignatureError,
            nacl.exceptions.ValueError,
            ValueError,
            TypeError,
        ):
            return False
        return True


_SCHEMES: dict[str, SignatureScheme] = {ED25519: Ed25519Scheme()}


def get_scheme(name: str) -> SignatureScheme:
    try:
        return _SCHEMES[name]
    except KeyError:
        raise KeyError(f"unknown signature scheme {name!r}") from None


# libsodium releases the GIL while it verifies, so a small thread pool puts both cores to work.
_pool: ThreadPoolExecutor | None = None


def _verify_chunk(items: Sequence[tuple[str, bytes, bytes, bytes]]) -> list[bool]:
    out = []
    for scheme, public_key, message, signature in items:
        s = _SCHEMES.get(scheme)
        out.append(s is not None and s.verify(public_key, message, signature))
    return out


def verify_many(
    items: Iterable[tuple[str, bytes, bytes, bytes]], *, workers: int = 2, min_parallel: int = 64
) -> list[bool]:
    """Verify ``(scheme, public_key, message, signature)`` tuples, in parallel when many."""
    batch = list(items)
    if len(batch) < min_parallel or workers <= 1:
        return _verify_chunk(batch)
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify")
    size = (len(batch) + workers - 1) // workers
    chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
    results: list[bool] = []
    for part in _pool.map(_verify_chunk, chunks):
        results.extend(part)
    return results
