"""Signed API requests: the canonical string and the ``Authorization`` header (pure).

A client authenticates a request to the node's API with the same key that signs its
transactions. It sends::

    Authorization: Govchain-Ed25519 key=<hex public key>, ts=<unix ms>, nonce=<32 hex>, sig=<hex>

where ``sig`` is the key's Ed25519 signature over the UTF-8 bytes of the canonical string::

    govchain-request-v1 \\n METHOD \\n path-with-sorted-query \\n ts \\n nonce \\n hex(sha256(body))

The first line separates these signatures from transaction and block signatures (whose signed
bytes start with ``govchain/tx/v1`` and ``govchain/header/v1``). The path is the request's path
exactly as sent (percent-encoded); the query's ``name=value`` pairs, as sent, are sorted
bytewise and joined with ``&`` (no ``?`` when there is no query). The node checks the time
window, the nonce and the key (``govchain.api.auth``); this module only encodes and parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from govchain.crypto.hashing import sha256
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import AuthMalformed

__all__ = [
    "AUTH_SCHEME",
    "NONCE_SIZE",
    "REQUEST_DOMAIN",
    "RequestCredentials",
    "compute_authorization",
    "compute_canonical_target",
    "compute_request_sign_bytes",
    "format_authorization",
    "is_request_signature_valid",
    "parse_authorization",
]

AUTH_SCHEME = "Govchain-Ed25519"
REQUEST_DOMAIN = "govchain-request-v1"
NONCE_SIZE = 16
_MAX_HEADER = 512
_PARAMS = ("key", "ts", "nonce", "sig")
_SIZES = {"key": 32, "nonce": NONCE_SIZE, "sig": 64}
_HEX = re.compile(r"[0-9a-fA-F]*")


@dataclass(frozen=True, slots=True)
class RequestCredentials:
    """What an ``Authorization: Govchain-Ed25519 ...`` header carries."""

    public_key: bytes
    ts_ms: int
    nonce: bytes
    signature: bytes


def compute_canonical_target(path: str, query: str = "") -> str:
    """The path as sent, then ``?`` and the query's pairs sorted (nothing when no query)."""
    pairs = sorted(p for p in query.split("&") if p)
    return path + ("?" + "&".join(pairs) if pairs else "")


def compute_request_sign_bytes(
    method: str, target: str, ts_ms: int, nonce: bytes, body_sha256: bytes
) -> bytes:
    """The bytes a client signs for a request (``target`` from
    :func:`compute_canonical_target`)."""
    lines = (REQUEST_DOMAIN, method.upper(), target, str(ts_ms), nonce.hex(), body_sha256.hex())
    return "\n".join(lines).encode()


def format_authorization(credentials: RequestCredentials) -> str:
    c = credentials
    return (
        f"{AUTH_SCHEME} key={c.public_key.hex()}, ts={c.ts_ms}, "
        f"nonce={c.nonce.hex()}, sig={c.signature.hex()}"
    )


def compute_authorization(
    key: KeyPair, method: str, target: str, body: bytes, ts_ms: int, nonce: bytes
) -> str:
    """The ``Authorization`` header value for a request (the caller picks ``ts_ms`` and a
    random ``nonce``)."""
    if key.scheme != ED25519:
        raise ValueError(f"requests are signed with Ed25519 keys, not {key.scheme}")
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"the nonce must be {NONCE_SIZE} bytes")
    message = compute_request_sign_bytes(method, target, ts_ms, nonce, sha256(body))
    return format_authorization(RequestCredentials(key.public_key, ts_ms, nonce, key.sign(message)))


def is_request_signature_valid(
    credentials: RequestCredentials, method: str, target: str, body_sha256: bytes
) -> bool:
    c = credentials
    message = compute_request_sign_bytes(method, target, c.ts_ms, c.nonce, body_sha256)
    return get_scheme(ED25519).verify(c.public_key, message, c.signature)


def _split_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        name, value = name.strip().lower(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if not sep or name not in _PARAMS:
            raise AuthMalformed(f"unexpected parameter {part.strip()[:40]!r} in Authorization")
        if name in params:
            raise AuthMalformed(f"parameter {name!r} appears twice in Authorization")
        params[name] = value
    missing = [p for p in _PARAMS if p not in params]
    if missing:
        raise AuthMalformed(f"Authorization lacks {', '.join(missing)}")
    return params


def _unhex(params: dict[str, str], name: str) -> bytes:
    value, size = params[name], _SIZES[name]
    if len(value) != 2 * size or not _HEX.fullmatch(value):
        raise AuthMalformed(f"{name} must be {2 * size} hex digits ({size} bytes)")
    return bytes.fromhex(value)


def parse_authorization(value: str) -> RequestCredentials:
    """Parse a header value; raises :class:`AuthMalformed` with what is wrong."""
    if len(value) > _MAX_HEADER:
        raise AuthMalformed(f"the Authorization header is longer than {_MAX_HEADER} characters")
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != AUTH_SCHEME.lower():
        raise AuthMalformed(
            f"unsupported authorization scheme {scheme[:40]!r}; this node accepts {AUTH_SCHEME}"
        )
    params = _split_params(rest)
    ts = params["ts"]
    if not ts.isascii() or not ts.isdigit() or len(ts) > 15:
        raise AuthMalformed("ts must be the request time in Unix milliseconds")
    return RequestCredentials(
        _unhex(params, "key"), int(ts), _unhex(params, "nonce"), _unhex(params, "sig")
    )
