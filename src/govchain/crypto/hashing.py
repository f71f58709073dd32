"""SHA-256 (hardware-accelerated through OpenSSL) with domain separation."""

from __future__ import annotations

import hashlib

__all__ = ["ZERO_HASH", "sha256", "tagged_hash"]

ZERO_HASH = b"\x00" * 32


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def tagged_hash(tag: bytes, data: bytes) -> bytes:
    """SHA-256 of ``tag || 0x00 || data``: hashes of different kinds of object never collide."""
    return hashlib.sha256(tag + b"\x00" + data).digest()
