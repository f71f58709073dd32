"""Authentication of API requests and the access rules of reads.

Clients sign requests with the key that signs their transactions (the scheme is in
:mod:`govchain.crypto.request_signing` and ``docs/adr/0004-signed-api-requests.md``). The
:class:`AuthMiddleware` checks the ``Authorization`` header — its form, the time window, the nonce,
the signature and the key's identity on the latest committed state — and enforces each route's
access level; handlers find the caller with :func:`get_principal` (None for an anonymous caller),
and :func:`require_member` and :func:`require_reader` raise 401/403 problems with a reason.

Route handlers declare their access level with ``opt={"access": ...}``:

``"public"``
    anyone. A signed request is authenticated all the same (a handler may serve more to some
    callers with :func:`require_reader`), but a failure never refuses a public route: the caller
    is anonymous, and the failure is what :func:`require_member`/:func:`require_reader` raise.
    So a citizen's client that signs with a key not yet on chain can still submit its
    registration.
``"member"`` (the default)
    an active member or node of an active organisation (any role).
``"self"``
    any authenticated caller, including a key bound to no identity (yet); the handler decides
    with :func:`require_reader` or its own rule (a transaction's signers read it).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from govchain.contracts.identity import get_identity_by_key, is_key_valid_at, resolve_signer
from govchain.crypto.request_signing import (
    AUTH_SCHEME,
    RequestCredentials,
    compute_canonical_target,
    is_request_signature_valid,
    parse_authorization,
)
from govchain.errors import (
    AuthBadSignature,
    AuthError,
    AuthExpired,
    AuthForbidden,
    AuthReplayed,
    AuthRequired,
    AuthThrottled,
    AuthUnknownKey,
    ConfigError,
)

__all__ = [
    "MEMBER",
    "PUBLIC",
    "SECURITY_SCHEME",
    "SELF",
    "SIGNED",
    "CHALLENGE",
    "AuthForbidden",
    "AuthMiddleware",
    "AuthRequired",
    "Authenticator",
    "NonceCache",
    "Principal",
    "access_of",
    "get_principal",
    "is_auth_challenge",
    "require_member",
    "require_reader",
]

Access = Literal["public", "member", "self"]
ACCESS_LEVELS = ("public", "member", "self")
UNREGISTERED = "unregistered"
# Route access levels (``opt=`` of a route handler) and the OpenAPI security requirement of
# routes that need a signed request.
PUBLIC: dict[str, Any] = {"access": "public"}
MEMBER: dict[str, Any] = {"access": "member"}
SELF: dict[str, Any] = {"access": "self"}
SECURITY_SCHEME = "GovchainEd25519"
SIGNED: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]

PUBLIC_PREFIXES = ("/schema",)  # the OpenAPI document and its viewers


@dataclass(frozen=True, slots=True)
class Principal:
    public_key: bytes
    identity: str
    org: str
    kind: str  # org | member | node | enterprise | citizen | unregistered (a key on no identity)
    roles: frozenset[str]

    @property
    def is_org_member(self) -> bool:
        return self.kind in ("member", "node") and bool(self.org)

    @property
    def is_registered(self) -> bool:
        return self.kind != UNREGISTERED


def get_principal(request: Request[Any, Any, Any]) -> Principal | None:
    principal = request.scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def _anonymous(request: Request[Any, Any, Any], need: str) -> AuthError:
    """Why the caller is anonymous: its request signature's failure, else no signature."""
    failure = request.scope.get("state", {}).get("auth_error")
    return failure if isinstance(failure, AuthError) else AuthRequired(need)


def _unknown_key(principal: Principal) -> AuthUnknownKey:
    return AuthUnknownKey(f"key {principal.public_key.hex()} is not bound to any identity")


def require_member(request: Request[Any, Any, Any]) -> Principal:
    principal = get_principal(request)
    if principal is None:
        raise _anonymous(request, "this read needs an authenticated member of an organisation")
    if not principal.is_registered:
        raise _unknown_key(principal)
    if not principal.is_org_member:
        raise AuthForbidden(
            f"{principal.identity} ({principal.kind}) is not a member of an organisation; "
            "blocks, state, events and queries are for members"
        )
    return principal


def require_reader(request: Request[Any, Any, Any], identity_id: str) -> Principal:
    """Members of organisations, or the identity itself, may read an identity's records."""
    principal = get_principal(request)
    if principal is None:
        raise _anonymous(request, f"reading {identity_id} needs authentication")
    if principal.is_org_member or (principal.is_registered and principal.identity == identity_id):
        return principal
    if not principal.is_registered:
        raise _unknown_key(principal)
    raise AuthForbidden(f"{principal.identity} may not read {identity_id}")


def access_of(route_handler: Any, path: str) -> Access:
    """A route's declared access level (``opt["access"]``, default ``"member"``)."""
    opt = getattr(route_handler, "opt", None) or {}
    access = opt.get("access")
    if access is None:
        return "public" if path.startswith(PUBLIC_PREFIXES) else "member"
    if access not in ACCESS_LEVELS:
        raise ConfigError(f"route {path} declares unknown access level {access!r}")
    return access  # type: ignore[no-any-return]


class NonceCache:
    """Remembers (key, nonce) pairs long enough to refuse every replay within the time window.

    A request is accepted while ``|now - ts| <= window``, so a nonce must be remembered for up to
    two windows after it is first seen: two generations of ``2 * window`` each, checked together;
    the older is dropped when the newer is full of age. A generation holds at most ``capacity``
    entries; past that, requests are refused (:class:`AuthThrottled`) rather than remembered
    less, which would let replays through."""

    def __init__(self, window_ms: int, capacity: int) -> None:
        self.span_ms = 2 * window_ms
        self.capacity = capacity
        self._current: set[bytes] = set()
        self._previous: set[bytes] = set()
        self._started_ms: int | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def _rotate(self, now_ms: int) -> None:
        if self._started_ms is None:
            self._started_ms = now_ms
        elif now_ms - self._started_ms >= 2 * self.span_ms:
            self._current, self._previous = set(), set()
            self._started_ms = now_ms
        elif now_ms - self._started_ms >= self.span_ms:
            self._current, self._previous = set(), self._current
            self._started_ms += self.span_ms

    def is_seen(self, entry: bytes, now_ms: int) -> bool:
        with self._lock:
            self._rotate(now_ms)
            return entry in self._current or entry in self._previous

    def add(self, entry: bytes, now_ms: int) -> None:
        with self._lock:
            self._rotate(now_ms)
            if len(self._current) >= self.capacity:
                left_ms = self.span_ms - (now_ms - (self._started_ms or now_ms))
                raise AuthThrottled(
                    "this node has seen too many signed requests in the current time window",
                    retry_after_s=max(1, left_ms // 1000),
                )
            self._current.add(entry)


class Authenticator:
    """Checks a signed request and tells who sent it (reads the latest committed state)."""

    def __init__(
        self,
        app: Any,  # govchain.app.Application (anything with latest_context)
        *,
        window_ms: int = 30_000,
        nonce_capacity: int = 200_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if window_ms <= 0 or nonce_capacity <= 0:
            raise ConfigError(
                "auth_window_ms and auth_nonce_capacity must be positive",
                hint="Fix them in the node's config.json (defaults: 30000 and 200000).",
            )
        self.app = app
        self.window_ms = window_ms
        self.nonces = NonceCache(window_ms, nonce_capacity)
        self.clock = clock

    def authenticate(
        self,
        header: str,
        method: str,
        target: str,
        body_sha256: bytes,
        *,
        allow_unregistered: bool = False,
    ) -> Principal:
        """The principal who signed this request; raises an :class:`AuthError` subclass."""
        credentials = parse_authorization(header)
        now_ms = int(self.clock() * 1000)
        self._check_time(credentials, now_ms)
        if not is_request_signature_valid(credentials, method, target, body_sha256):
            raise AuthBadSignature(
                f"the signature does not match key {credentials.public_key.hex()} and "
                f"{method.upper()} {target}"
            )
        entry = credentials.public_key + credentials.nonce
        if self.nonces.is_seen(entry, now_ms):
            raise AuthReplayed(f"nonce {credentials.nonce.hex()} was already used")
        principal = self.resolve(credentials.public_key)
        if not principal.is_registered and not allow_unregistered:
            raise _unknown_key(principal)
        self.nonces.add(entry, now_ms)
        return principal

    def _check_time(self, credentials: RequestCredentials, now_ms: int) -> None:
        skew = credentials.ts_ms - now_ms
        if abs(skew) > self.window_ms:
            when = "in the future" if skew > 0 else "old"
            raise AuthExpired(
                f"the request was signed {abs(skew) / 1000:.1f} s {when}; this node accepts "
                f"±{self.window_ms / 1000:g} s",
                node_time_ms=now_ms,
            )

    def resolve(self, public_key: bytes) -> Principal:
        """The key's active identity at the next height; raises :class:`AuthUnknownKey` for a
        key that is bound but inactive (rotated, revoked, suspended, removed)."""
        ctx = self.app.latest_context("identity")
        height = ctx.height + 1  # as the next transaction from this key would be checked
        identity = get_identity_by_key(ctx, public_key)
        if identity is None:
            return Principal(public_key, "", "", UNREGISTERED, frozenset())
        if resolve_signer(ctx, public_key, height) is None:
            why = (
                "no longer valid (rotated or revoked)"
                if not is_key_valid_at(identity, public_key, height)
                else f"bound to {identity.id}, which is not active"
            )
            raise AuthUnknownKey(f"key {public_key.hex()} is {why}", identity=identity.id)
        return Principal(
            public_key, identity.id, identity.org, identity.kind, frozenset(identity.roles)
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _target(scope: Scope) -> str:
    raw_path = scope.get("raw_path")
    path = bytes(raw_path).decode("latin-1") if raw_path else str(scope["path"])
    return compute_canonical_target(path, bytes(scope.get("query_string", b"")).decode("latin-1"))


class AuthMiddleware:
    """ASGI middleware (wired in ``create_app``): enforces each route's access level and puts the
    authenticated :class:`Principal` in ``scope["state"]["principal"]``."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator, max_body: int) -> None:
        self.app = app
        self.authenticator = authenticator
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        access = access_of(scope.get("route_handler"), path)
        header = _header(scope, b"authorization")
        if header is None:
            if access != "public":
                raise AuthRequired(
                    f"{scope.get('method', 'GET')} {path} is for "
                    + ("members of organisations" if access == "member" else "signed requests")
                )
            await self.app(scope, receive, send)
            return
        body, receive = await _buffer_body(receive, self.max_body)
        state = scope.setdefault("state", {})
        try:
            principal = self.authenticator.authenticate(
                header,
                str(scope.get("method", "GET")),
                _target(scope),
                hashlib.sha256(body).digest(),
                allow_unregistered=access != "member",
            )
        except AuthError as exc:
            if access != "public":
                raise
            state["auth_error"] = exc  # anonymous on a public route; handlers may tell why
            await self.app(scope, receive, send)
            return
        if access == "member" and not principal.is_org_member:
            raise AuthForbidden(
                f"{principal.identity} ({principal.kind}) may not read {path}: blocks, state, "
                "events and queries are for members of organisations",
                identity=principal.identity,
            )
        state["principal"] = principal
        await self.app(scope, receive, send)


async def _buffer_body(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """Read the whole request body (to check its hash) and a ``receive`` that replays it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                status_code=413, detail=f"the request body is larger than {limit} bytes"
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> ReceiveMessage:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def is_auth_challenge(exc: Exception) -> bool:
    """Whether an error's response carries ``WWW-Authenticate`` (every 401 of this module)."""
    return isinstance(exc, AuthError) and exc.status == 401


CHALLENGE = f'{AUTH_SCHEME} realm="govchain"'
