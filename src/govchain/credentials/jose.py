"""Compact JWS for SD-JWT: Ed25519 through govchain's signature scheme, the rest through joserfc.

Only what SD-JWT needs: base64url without padding, the public JWK of an Ed25519 :class:`KeyPair`,
compact signing with ``Ed25519`` (the fully-specified name of RFC 9864, or the older ``EdDSA``),
and verification against a public JWK with an explicit allow-list of algorithms (``none`` and
MACs are never on it).

Ed25519 is signed and verified with the key's own scheme (libsodium, about twice as fast as the
OpenSSL path and the scheme every other govchain signature uses); other algorithms that wallets
use, such as ES256 in the RFC 9901 examples and in EU wallets, are verified by ``joserfc``.
Errors come out as :class:`JoseFailure` with a short reason, so callers map them to their own
stable codes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import import_key
from joserfc.jws import JWSRegistry

from govchain.crypto.signing import ED25519, KeyPair, get_scheme

__all__ = [
    "DEFAULT_VERIFY_ALGORITHMS",
    "JoseFailure",
    "b64url_decode",
    "b64url_encode",
    "ed25519_public_jwk",
    "keypair_public_jwk",
    "sign_compact",
    "split_compact",
    "verify_compact",
]

#: Asymmetric algorithms a verifier accepts by default: Ed25519 under both names, and ES256 (the
#: algorithm of the RFC 9901 examples and of most EU wallets).
DEFAULT_VERIFY_ALGORITHMS: frozenset[str] = frozenset({"Ed25519", "EdDSA", "ES256"})
_ED25519_ALGORITHMS = frozenset({"Ed25519", "EdDSA"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@functools.lru_cache(maxsize=32)
def _registry(algorithms: frozenset[str]) -> JWSRegistry:
    return JWSRegistry(algorithms=sorted(algorithms))


class JoseFailure(Exception):
    """A JWS could not be parsed, or its signature does not verify (``bad_signature``)."""

    def __init__(self, message: str, *, bad_signature: bool = False) -> None:
        super().__init__(message)
        self.bad_signature = bad_signature


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url: any character outside the alphabet is an error."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - the pattern above already rules it out
        raise ValueError("not unpadded base64url") from exc


def ed25519_public_jwk(public_key: bytes) -> dict[str, str]:
    """The RFC 8037 public JWK of a raw 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public_key)}


def keypair_public_jwk(key: KeyPair) -> dict[str, str]:
    _require_ed25519(key)
    return ed25519_public_jwk(key.public_key)


def sign_compact(header: Mapping[str, Any], payload: bytes, key: KeyPair) -> str:
    """Compact JWS over ``payload`` (already serialised) with ``header`` as protected header."""
    _require_ed25519(key)
    alg = header.get("alg")
    if alg not in _ED25519_ALGORITHMS:
        raise ValueError(f"govchain signs with Ed25519 or EdDSA, not {alg!r}")
    header_json = json.dumps(dict(header), separators=(",", ":"), ensure_ascii=False)
    signing_input = f"{b64url_encode(header_json.encode())}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"


def split_compact(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the JSON payload of a compact JWS, *without* checking the signature."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseFailure("a compact JWS has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JoseFailure(f"the JWS header or payload is not base64url JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JoseFailure("the JWS header and payload must be JSON objects")
    return header, payload


def verify_compact(
    token: str,
    public_jwk: Mapping[str, Any],
    *,
    algorithms: Collection[str] = DEFAULT_VERIFY_ALGORITHMS,
    header: Mapping[str, Any] | None = None,
) -> None:
    """Check the signature of a compact JWS with ``public_jwk``; raise :class:`JoseFailure`.

    ``header`` is the already-decoded protected header, when the caller has it.
    """
    if "none" in algorithms or any(a.startswith("HS") for a in algorithms):
        raise ValueError("only asymmetric signature algorithms may be allowed")
    if "d" in public_jwk:
        raise JoseFailure("the verification key must be a public JWK")
    if header is None:
        header, _ = split_compact(token)
    alg = header.get("alg")
    if alg not in algorithms:
        raise JoseFailure(f"algorithm {alg!r} is not allowed")
    if alg in _ED25519_ALGORITHMS:
        _verify_ed25519(token, header, public_jwk)
        return
    try:
        jws.deserialize_compact(
            token, import_key(dict(public_jwk)), registry=_registry(frozenset(algorithms))
        )
    except BadSignatureError:
        raise JoseFailure("the JWS signature does not verify", bad_signature=True) from None
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise JoseFailure(f"the JWS cannot be verified: {exc}") from None


def _verify_ed25519(token: str, header: Mapping[str, Any], public_jwk: Mapping[str, Any]) -> None:
    if "crit" in header:
        raise JoseFailure("critical header parameters are not supported")
    if public_jwk.get("kty") != "OKP" or public_jwk.get("crv") != "Ed25519":
        raise JoseFailure("an Ed25519 signature needs an OKP Ed25519 key")
    signing_input, _, signature = token.rpartition(".")
    try:
        public_key = b64url_decode(str(public_jwk.get("x", "")))
        raw_signature = b64url_decode(signature)
        message = signing_input.encode("ascii")
    except ValueError:  # UnicodeEncodeError is a ValueError
        raise JoseFailure("the key, the signature or the JWS is not base64url") from None
    if not get_scheme(ED25519).verify(public_key, message, raw_signature):
        raise JoseFailure("the JWS signature does not verify", bad_signature=True)


def _require_ed25519(key: KeyPair) -> None:
    if key.scheme != ED25519:
        raise ValueError(f"SD-JWT signing needs an Ed25519 key, not {key.scheme!r}")
