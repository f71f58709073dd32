"""Signed API requests: the canonical string, the header, the nonce cache, the authenticator on a
real (in-memory) chain, and the access rules handlers apply to each kind of principal."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from govchain.api.auth import (
    UNREGISTERED,
    Authenticator,
    NonceCache,
    Principal,
    access_of,
    get_principal,
    require_member,
    require_reader,
)
from govchain.client import RequestSigner, sign_request
from govchain.crypto.request_signing import (
    RequestCredentials,
    compute_authorization,
    compute_canonical_target,
    compute_request_sign_bytes,
    format_authorization,
    is_request_signature_valid,
    parse_authorization,
)
from govchain.crypto.signing import ED25519, get_scheme
from govchain.errors import (
    AuthBadSignature,
    AuthExpired,
    AuthForbidden,
    AuthMalformed,
    AuthReplayed,
    AuthRequired,
    AuthThrottled,
    AuthUnknownKey,
    ConfigError,
    GovchainError,
    error_class_for_code,
)
from govchain.types import tx_sign_bytes

KEY = get_scheme(ED25519).from_seed(bytes(range(32)))
NONCE = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
EMPTY_SHA256 = hashlib.sha256(b"").digest()


# --- the canonical string ------------------------------------------------------------------------


def test_canonical_target_sorts_the_query_as_sent() -> None:
    assert compute_canonical_target("/v1/blocks/0") == "/v1/blocks/0"
    assert compute_canonical_target("/v1/blocks/0", "") == "/v1/blocks/0"
    assert compute_canonical_target("/v1/x", "b=2&a=1&a=0") == "/v1/x?a=0&a=1&b=2"
    assert compute_canonical_target("/v1/x", "q=a%20b&&p=") == "/v1/x?p=&q=a%20b"


def test_sign_bytes_golden() -> None:
    message = compute_request_sign_bytes(
        "get", "/v1/blocks/0?full=true", 1700000000000, NONCE, EMPTY_SHA256
    )
    assert message == (
        b"govchain-request-v1\nGET\n/v1/blocks/0?full=true\n1700000000000\n"
        b"000102030405060708090a0b0c0d0e0f\n"
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_request_signatures_are_domain_separated_from_transactions() -> None:
    message = compute_request_sign_bytes("POST", "/v1/txs", 1, NONCE, EMPTY_SHA256)
    assert message.startswith(b"govchain-request-v1\n")
    assert not message.startswith(tx_sign_bytes(b"")[:14])


def test_authorization_round_trip_and_verification() -> None:
    header = compute_authorization(KEY, "POST", "/v1/query/a/b", b'{"x":1}', 1234, NONCE)
    assert header.startswith("Govchain-Ed25519 key=" + KEY.public_key.hex() + ", ts=1234, ")
    creds = parse_authorization(header)
    assert (creds.public_key, creds.ts_ms, creds.nonce) == (KEY.public_key, 1234, NONCE)
    assert format_authorization(creds) == header
    body_hash = hashlib.sha256(b'{"x":1}').digest()
    assert is_request_signature_valid(creds, "POST", "/v1/query/a/b", body_hash)
    assert not is_request_signature_valid(creds, "POST", "/v1/query/a/c", body_hash)
    assert not is_request_signature_valid(creds, "GET", "/v1/query/a/b", body_hash)
    assert not is_request_signature_valid(creds, "POST", "/v1/query/a/b", EMPTY_SHA256)


def test_parse_accepts_quotes_spacing_and_any_case_of_the_scheme() -> None:
    sig = "ab" * 64
    header = (
        f'govchain-ed25519   key="{KEY.public_key.hex()}" ,ts=5,  NONCE={NONCE.hex()},sig={sig}'
    )
    assert parse_authorization(header) == RequestCredentials(
        KEY.public_key, 5, NONCE, bytes.fromhex(sig)
    )


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("Basic dXNlcjpwYXNz", "scheme"),
        ("Govchain-Ed25519", "unexpected"),
        (f"Govchain-Ed25519 key={'00' * 32}, ts=1, nonce={'00' * 16}", "lacks sig"),
        (f"Govchain-Ed25519 key={'00' * 31}, ts=1, nonce={'00' * 16}, sig={'00' * 64}", "key"),
        (f"Govchain-Ed25519 key={'zz' * 32}, ts=1, nonce={'00' * 16}, sig={'00' * 64}", "key"),
        (f"Govchain-Ed25519 key={'00' * 32}, ts=-1, nonce={'00' * 16}, sig={'00' * 64}", "ts"),
        (f"Govchain-Ed25519 key={'00' * 32}, ts=1.5, nonce={'00' * 16}, sig={'00' * 64}", "ts"),
        (f"Govchain-Ed25519 key={'00' * 32}, ts=1, nonce={'00' * 16}, sig={'00' * 63}", "sig"),
        (f"Govchain-Ed25519 ts=1, ts=2, key={'00' * 32}, nonce={'00' * 16}", "twice"),
        (f"Govchain-Ed25519 key={'00' * 32}, ts=1, nonce, sig={'00' * 64}", "unexpected"),
        ("Govchain-Ed25519 " + "a" * 600, "longer"),
    ],
)
def test_parse_errors_say_what_is_wrong(header: str, says: str) -> None:
    with pytest.raises(AuthMalformed) as info:
        parse_authorization(header)
    assert says in str(info.value)
    assert info.value.status == 401


def test_compute_authorization_refuses_a_short_nonce() -> None:
    with pytest.raises(ValueError, match="nonce"):
        compute_authorization(KEY, "GET", "/", b"", 1, b"short")


# --- the SDK's signer ----------------------------------------------------------------------------


def test_sdk_signs_what_httpx_sends() -> None:
    request = httpx.Request(
        "POST", "http://node:8700/v1/query/identity/orgs?b=2&a=1", json={"k": "v"}
    )
    sign_request(request, KEY, ts_ms=99, nonce=NONCE)
    creds = parse_authorization(request.headers["authorization"])
    target = "/v1/query/identity/orgs?a=1&b=2"
    assert is_request_signature_valid(
        creds, "POST", target, hashlib.sha256(request.content).digest()
    )

    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={}))
    with httpx.Client(transport=transport, auth=RequestSigner(KEY)) as client:
        client.get("http://node/v1/blocks/0", params={"full": True})
        client.get("http://node/v1/blocks/0", params={"full": True})
    first, second = (parse_authorization(r.headers["authorization"]) for r in seen)
    assert first.nonce != second.nonce  # a fresh nonce per request


def test_auth_errors_map_back_to_their_classes() -> None:
    for cls in (AuthRequired, AuthForbidden, AuthUnknownKey, AuthExpired, AuthThrottled):
        assert error_class_for_code(cls.code) is cls
    assert AuthForbidden.status == 403 and AuthRequired.status == 401


# --- the nonce cache -----------------------------------------------------------------------------


def test_nonces_are_remembered_for_two_windows_then_forgotten() -> None:
    cache = NonceCache(window_ms=1000, capacity=10)
    cache.add(b"a", 0)
    assert cache.is_seen(b"a", 0) and cache.is_seen(b"a", 2999)
    assert not cache.is_seen(b"b", 10)
    cache.add(b"b", 2100)  # a new generation; "a" moves to the previous one
    assert cache.is_seen(b"a", 3000) and cache.is_seen(b"b", 3000)
    assert not cache.is_seen(b"a", 4100)  # two generations on
    assert not cache.is_seen(b"b", 10_000)
    assert len(cache) == 0


def test_a_full_nonce_cache_refuses_rather_than_forgets() -> None:
    cache = NonceCache(window_ms=1000, capacity=2)
    cache.add(b"a", 0)
    cache.add(b"b", 0)
    with pytest.raises(AuthThrottled) as info:
        cache.add(b"c", 500)
    assert info.value.status == 503 and info.value.details["retry_after_s"] >= 1
    cache.add(b"c", 2500)  # the next generation has room


# --- the authenticator on a chain ----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _header(
    key: Any, clock: Clock, path: str = "/v1/blocks/0", body: bytes = b"", **kw: Any
) -> str:
    ts = kw.pop("ts_ms", int(clock.now * 1000))
    return compute_authorization(key, "GET", path, body, ts, kw.pop("nonce", NONCE))


def test_authenticator_resolves_a_member(chain: Any) -> None:
    clock = Clock()
    auth = Authenticator(chain.app, window_ms=30_000, clock=clock)
    admin = chain.admin("tax")
    principal = auth.authenticate(_header(admin, clock), "GET", "/v1/blocks/0", EMPTY_SHA256)
    assert principal.public_key == admin.public_key
    assert principal.org == "tax" and principal.kind == "member" and principal.is_org_member
    assert "admin" in principal.roles


def test_authenticator_failures(chain: Any) -> None:
    clock = Clock()
    auth = Authenticator(chain.app, window_ms=30_000, clock=clock)
    admin = chain.admin("tax")
    ok = _header(admin, clock)
    with pytest.raises(AuthBadSignature):
        auth.authenticate(ok, "GET", "/v1/blocks/1", EMPTY_SHA256)
    auth.authenticate(ok, "GET", "/v1/blocks/0", EMPTY_SHA256)
    with pytest.raises(AuthReplayed):
        auth.authenticate(ok, "GET", "/v1/blocks/0", EMPTY_SHA256)
    for skew in (-30_001, 30_001):
        old = _header(admin, clock, ts_ms=int(clock.now * 1000) + skew, nonce=b"\x01" * 16)
        with pytest.raises(AuthExpired):
            auth.authenticate(old, "GET", "/v1/blocks/0", EMPTY_SHA256)
    stranger = get_scheme(ED25519).generate()
    with pytest.raises(AuthUnknownKey):
        auth.authenticate(_header(stranger, clock), "GET", "/v1/blocks/0", EMPTY_SHA256)
    unregistered = auth.authenticate(
        _header(stranger, clock, nonce=b"\x02" * 16),
        "GET",
        "/v1/blocks/0",
        EMPTY_SHA256,
        allow_unregistered=True,
    )
    assert unregistered.kind == UNREGISTERED and not unregistered.is_registered


def test_authenticator_settings_must_be_positive(chain: Any) -> None:
    with pytest.raises(ConfigError):
        Authenticator(chain.app, window_ms=0)


# --- access rules for each kind of principal -----------------------------------------------------


def _request(principal: Principal | None = None, error: GovchainError | None = None) -> Any:
    state: dict[str, Any] = {}
    if principal is not None:
        state["principal"] = principal
    if error is not None:
        state["auth_error"] = error
    return SimpleNamespace(scope={"state": state})


def _principal(kind: str, identity: str, org: str = "") -> Principal:
    return Principal(b"\x01" * 32, identity, org, kind, frozenset())


MEMBER = _principal("member", "tax:alice", "tax")
NODE = _principal("node", "tax:node0", "tax")
ENTERPRISE = _principal("enterprise", "ent:91350100M000100Y43")
CITIZEN = _principal("citizen", "cit:00ff")
KEY_ONLY = _principal(UNREGISTERED, "")


def test_members_and_nodes_read_the_ledger() -> None:
    assert require_member(_request(MEMBER)) is MEMBER
    assert require_member(_request(NODE)) is NODE
    assert get_principal(_request()) is None


@pytest.mark.parametrize("principal", [ENTERPRISE, CITIZEN])
def test_enterprises_and_citizens_are_forbidden_the_ledger(principal: Principal) -> None:
    with pytest.raises(AuthForbidden) as info:
        require_member(_request(principal))
    assert principal.identity in str(info.value) and info.value.status == 403


def test_an_identity_reads_its_own_records_only() -> None:
    assert require_reader(_request(CITIZEN), CITIZEN.identity) is CITIZEN
    assert require_reader(_request(MEMBER), CITIZEN.identity) is MEMBER
    with pytest.raises(AuthForbidden):
        require_reader(_request(ENTERPRISE), CITIZEN.identity)
    with pytest.raises(AuthUnknownKey):
        require_reader(_request(KEY_ONLY), "")
    with pytest.raises(AuthUnknownKey):
        require_member(_request(KEY_ONLY))


def test_an_anonymous_caller_learns_why() -> None:
    with pytest.raises(AuthRequired):
        require_member(_request())
    with pytest.raises(AuthExpired):
        require_reader(_request(error=AuthExpired("late")), "cit:00ff")


def test_access_levels_of_routes() -> None:
    assert access_of(SimpleNamespace(opt={}), "/v1/blocks/0") == "member"
    assert access_of(None, "/schema/openapi.json") == "public"
    assert access_of(SimpleNamespace(opt={"access": "self"}), "/v1/txs/x") == "self"
    with pytest.raises(ConfigError):
        access_of(SimpleNamespace(opt={"access": "everyone"}), "/v1/x")
