"""Selective disclosure for JWTs (SD-JWT, RFC 9901) with key binding: issue, present, verify.

A department issues a JWT whose selectively disclosable claims are replaced by salted digests;
the clear values travel beside it as *Disclosures*, ``base64url(JSON [salt, name, value])`` for an
object member and ``base64url(JSON [salt, value])`` for an array element. The holder presents only
the Disclosures it chooses, followed by a Key Binding JWT (``typ: kb+jwt``) signed with the key
named in the credential's ``cnf.jwk`` over the verifier's nonce and audience and the ``sd_hash``
of exactly what is presented::

    <issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~<KB-JWT>

Claim paths name what is disclosable or revealed: ``("given_name",)`` (a plain string means the
same), ``("address", "locality")`` for a nested member, ``("nationalities", 1)`` for an array
element, indexed as in the issued credential. Revealing a path also reveals the Disclosures of its
ancestors that are themselves disclosable (RFC 9901 §4.2.6); it does not reveal its descendants.

Derived claims ("over 18", "licence valid") are claims of their own that the issuer adds and
makes disclosable alone; see :mod:`govchain.credentials.sdjwt_derived`. The errors, one stable
``SDJWT_*`` code per failure, are in :mod:`govchain.credentials.sdjwt_errors`.

Pure: no clock (``iat``/``now`` are arguments), no randomness of its own (the caller passes
``salt``, e.g. ``lambda: os.urandom(16)``), no I/O (the caller resolves issuer keys).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govchain.crypto.signing import KeyPair

from .jose import (
    DEFAULT_VERIFY_ALGORITHMS,
    JoseFailure,
    b64url_decode,
    b64url_encode,
    sign_compact,
    split_compact,
    verify_compact,
)
from .sdjwt_errors import (
    SdJwtBadSignature,
    SdJwtDisclosureDuplicate,
    SdJwtDisclosureInvalid,
    SdJwtDisclosureUnreferenced,
    SdJwtExpired,
    SdJwtInvalidInput,
    SdJwtKbAudience,
    SdJwtKbBadSignature,
    SdJwtKbMalformed,
    SdJwtKbMissing,
    SdJwtKbNonce,
    SdJwtKbSdHash,
    SdJwtKbStale,
    SdJwtMalformed,
    SdJwtNoHolderKey,
    SdJwtNotYetValid,
    SdJwtUnknownIssuerKey,
    SdJwtUnsupportedAlgorithm,
)

__all__ = [
    "DEFAULT_SD_JWT_TYP",
    "HASH_ALGORITHMS",
    "KB_JWT_TYP",
    "NEVER_DISCLOSABLE",
    "ClaimPath",
    "IssuerKeyResolver",
    "SdJwtBadSignature",
    "SdJwtDisclosureDuplicate",
    "SdJwtDisclosureInvalid",
    "SdJwtDisclosureUnreferenced",
    "SdJwtExpired",
    "SdJwtInvalidInput",
    "SdJwtKbAudience",
    "SdJwtKbBadSignature",
    "SdJwtKbMalformed",
    "SdJwtKbMissing",
    "SdJwtKbNonce",
    "SdJwtKbSdHash",
    "SdJwtKbStale",
    "SdJwtMalformed",
    "SdJwtNoHolderKey",
    "SdJwtNotYetValid",
    "SdJwtUnknownIssuerKey",
    "SdJwtUnsupportedAlgorithm",
    "VerifiedClaims",
    "compute_disclosure_digest",
    "encode_disclosure",
    "get_disclosable_paths",
    "issue_sd_jwt",
    "present",
    "verify_presentation",
]

ClaimPath = tuple[str | int, ...]
#: ``(iss, kid) -> public JWK``, or ``None`` when the issuer or key is unknown.
IssuerKeyResolver = Callable[[str | None, str | None], Mapping[str, Any] | None]

DEFAULT_SD_JWT_TYP = "dc+sd-jwt"
KB_JWT_TYP = "kb+jwt"
HASH_ALGORITHMS: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}
MIN_SALT_BYTES = 16  # 128 bits, RFC 9901 §9.3

_SD, _DOTS, _SD_ALG = "_sd", "...", "_sd_alg"
_RESERVED_NAMES = frozenset({_SD, _DOTS})
# Claims that control validity or binding are never selectively disclosable (RFC 9901 §9.7).
NEVER_DISCLOSABLE = frozenset({"iss", "iat", "exp", "nbf", "cnf", "status", "vct", _SD_ALG})
_SET_BY_ISSUER = frozenset({"iat", "exp", "cnf", _SD_ALG})


# --- disclosures --------------------------------------------------------------------------------


def encode_disclosure(salt: str, name: str | None, value: Any) -> str:
    """``base64url`` of the JSON array ``[salt, name, value]`` (``[salt, value]`` if no name).

    JSON is written as RFC 9901's examples write it (``", "`` separators, UTF-8 kept as is), so
    the examples' salts reproduce their Disclosures byte for byte.
    """
    content = [salt, value] if name is None else [salt, name, value]
    text = json.dumps(content, ensure_ascii=False, allow_nan=False)
    return b64url_encode(text.encode("utf-8"))


def compute_disclosure_digest(disclosure: str, hash_alg: str = "sha-256") -> str:
    """``base64url(hash(ASCII bytes of the Disclosure))``, the value placed in ``_sd``/``...``."""
    return b64url_encode(_hasher(hash_alg)(disclosure.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class _Disclosure:
    encoded: str
    digest: str
    name: str | None
    value: Any


def _parse_disclosure(encoded: str, hash_alg: str) -> _Disclosure:
    try:
        content = json.loads(b64url_decode(encoded).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise SdJwtDisclosureInvalid("a disclosure is not base64url-encoded JSON") from None
    if not isinstance(content, list) or len(content) not in (2, 3):
        raise SdJwtDisclosureInvalid("a disclosure must be a JSON array of 2 or 3 elements")
    if not isinstance(content[0], str):
        raise SdJwtDisclosureInvalid("a disclosure's salt must be a string")
    name = content[1] if len(content) == 3 else None
    if len(content) == 3 and (not isinstance(name, str) or name in _RESERVED_NAMES):
        raise SdJwtDisclosureInvalid(f"a disclosure's claim name is invalid: {name!r}")
    digest = compute_disclosure_digest(encoded, hash_alg)
    return _Disclosure(encoded, digest, name, content[-1])


# --- issuance -----------------------------------------------------------------------------------


def issue_sd_jwt(
    claims: Mapping[str, Any],
    *,
    disclosable: Iterable[ClaimPath | str],
    issuer_key: KeyPair,
    kid: str,
    holder_public_jwk: Mapping[str, Any],
    salt: Callable[[], bytes],
    iat: int,
    exp: int,
    hash_alg: str = "sha-256",
    decoys: int = 0,
    typ: str = DEFAULT_SD_JWT_TYP,
    alg: str = "Ed25519",
) -> str:
    """Issue ``<issuer-JWT>~<d1>~...~<dn>~`` with the claims at ``disclosable`` concealed.

    ``salt()`` must return at least 16 fresh random bytes per call; it also feeds ``decoys``
    decoy digests into each ``_sd`` array. ``iat``/``exp`` are NumericDates (seconds).
    """
    hasher = _hasher(hash_alg)
    paths = _normalise_paths(disclosable)
    _check_issuance(claims, paths, holder_public_jwk, iat, exp, decoys)
    concealer = _Concealer(paths, salt, hash_alg, hasher, decoys)
    body = concealer.conceal_object(claims, ())
    missing = paths - concealer.used
    if missing:
        raise SdJwtInvalidInput(f"disclosable paths not in the claims: {sorted(map(str, missing))}")
    payload = {
        **body,
        "iat": iat,
        "exp": exp,
        _SD_ALG: hash_alg,
        "cnf": {"jwk": dict(holder_public_jwk)},
    }
    header = {"alg": alg, "typ": typ, "kid": kid}
    issuer_jwt = sign_compact(header, _json_bytes(payload), issuer_key)
    return "~".join([issuer_jwt, *concealer.disclosures, ""])


def _check_issuance(
    claims: Mapping[str, Any],
    paths: frozenset[ClaimPath],
    holder_jwk: Mapping[str, Any],
    iat: int,
    exp: int,
    decoys: int,
) -> None:
    clash = _SET_BY_ISSUER & set(claims)
    if clash:
        raise SdJwtInvalidInput(f"claims must not contain {sorted(clash)}; they are set here")
    fixed = {p for p in paths if p and p[0] in NEVER_DISCLOSABLE and len(p) == 1}
    if fixed:
        raise SdJwtInvalidInput(f"validity claims cannot be disclosable: {sorted(map(str, fixed))}")
    if not isinstance(holder_jwk, Mapping) or "kty" not in holder_jwk or "d" in holder_jwk:
        raise SdJwtInvalidInput("holder_public_jwk must be a public JWK")
    if not (_is_int(iat) and _is_int(exp)) or exp <= iat:
        raise SdJwtInvalidInput("iat and exp must be integers with exp after iat")
    if not _is_int(decoys) or decoys < 0:
        raise SdJwtInvalidInput("decoys must be a non-negative integer")


class _Concealer:
    """Replaces the claims at the given paths by digests, children before parents (§4.2.6)."""

    def __init__(
        self,
        paths: frozenset[ClaimPath],
        salt: Callable[[], bytes],
        hash_alg: str,
        hasher: Callable[[bytes], Any],
        decoys: int,
    ) -> None:
        self.paths, self.salt, self.hash_alg = paths, salt, hash_alg
        self.hasher, self.decoys = hasher, decoys
        self.used: set[ClaimPath] = set()
        self.disclosures: list[str] = []

    def conceal(self, value: Any, path: ClaimPath) -> Any:
        if isinstance(value, Mapping):
            return self.conceal_object(value, path)
        if isinstance(value, list | tuple):
            return self.conceal_array(value, path)
        return value

    def conceal_object(self, obj: Mapping[str, Any], path: ClaimPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, value in obj.items():
            if not isinstance(name, str) or name in _RESERVED_NAMES:
                raise SdJwtInvalidInput(f"claim name {name!r} at {path} is not allowed")
            child = (*path, name)
            concealed = self.conceal(value, child)
            if child in self.paths:
                digests.append(self.disclose(name, concealed, child))
            else:
                out[name] = concealed
        if digests:
            digests.extend(self.decoy() for _ in range(self.decoys))
            out[_SD] = sorted(digests)  # hides the claims' original order
        return out

    def conceal_array(self, items: Sequence[Any], path: ClaimPath) -> list[Any]:
        out: list[Any] = []
        for index, value in enumerate(items):
            child = (*path, index)
            concealed = self.conceal(value, child)
            out.append(
                {_DOTS: self.disclose(None, concealed, child)} if child in self.paths else concealed
            )
        return out

    def disclose(self, name: str | None, value: Any, path: ClaimPath) -> str:
        try:
            encoded = encode_disclosure(b64url_encode(self._salt()), name, value)
        except (TypeError, ValueError) as exc:
            raise SdJwtInvalidInput(f"claim at {path} is not JSON: {exc}") from None
        self.used.add(path)
        self.disclosures.append(encoded)
        return compute_disclosure_digest(encoded, self.hash_alg)

    def decoy(self) -> str:
        return b64url_encode(self.hasher(self._salt()).digest())

    def _salt(self) -> bytes:
        value = self.salt()
        if not isinstance(value, bytes) or len(value) < MIN_SALT_BYTES:
            raise SdJwtInvalidInput(f"salt() must return at least {MIN_SALT_BYTES} bytes")
        return value


# --- processing (shared by holder and verifier) ---------------------------------------------------


class _Processor:
    """RFC 9901 §7.1 step 3: substitutes Disclosures for digests, recursively, with its checks."""

    def __init__(self, by_digest: Mapping[str, _Disclosure]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()
        self.used: dict[ClaimPath, _Disclosure] = {}
        self.paths: set[ClaimPath] = set()

    def value(self, value: Any, path: ClaimPath) -> Any:
        if isinstance(value, dict):
            return self.object(value, path)
        if isinstance(value, list):
            return self.array(value, path)
        return value

    def object(self, obj: dict[str, Any], path: ClaimPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in obj.items():
            if name != _SD:
                out[name] = self.value(value, (*path, name))
                self.paths.add((*path, name))
        digests = obj.get(_SD, [])
        if not isinstance(digests, list) or not all(isinstance(d, str) for d in digests):
            raise SdJwtMalformed(f"_sd at {path} must be an array of strings")
        for digest in digests:
            disclosure = self.lookup(digest)
            if disclosure is None:
                continue
            if disclosure.name is None:
                raise SdJwtDisclosureInvalid(
                    f"an array-element disclosure is used in _sd at {path}"
                )
            if disclosure.name in out:
                raise SdJwtDisclosureInvalid(
                    f"claim {disclosure.name!r} at {path} is disclosed twice"
                )
            child = (*path, disclosure.name)
            self.used[child] = disclosure
            out[disclosure.name] = self.value(disclosure.value, child)
            self.paths.add(child)
        return out

    def array(self, items: list[Any], path: ClaimPath) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(items):
            child = (*path, index)
            self.paths.add(child)
            if not (isinstance(item, dict) and len(item) == 1 and isinstance(item.get(_DOTS), str)):
                out.append(self.value(item, child))
                continue
            disclosure = self.lookup(item[_DOTS])
            if disclosure is None:
                continue  # an undisclosed element (or a decoy) disappears from the array
            if disclosure.name is not None:
                raise SdJwtDisclosureInvalid(f"an object-member disclosure is used at {child}")
            self.used[child] = disclosure
            out.append(self.value(disclosure.value, child))
        return out

    def lookup(self, digest: str) -> _Disclosure | None:
        if digest in self.seen:
            raise SdJwtDisclosureDuplicate("a digest appears more than once in the credential")
        self.seen.add(digest)
        return self.by_digest.get(digest)


def _process(
    payload: dict[str, Any], encoded: Sequence[str], hash_alg: str
) -> tuple[dict[str, Any], _Processor]:
    by_digest: dict[str, _Disclosure] = {}
    for item in encoded:
        disclosure = _parse_disclosure(item, hash_alg)
        if disclosure.digest in by_digest:
            raise SdJwtDisclosureDuplicate("the same disclosure is presented twice")
        by_digest[disclosure.digest] = disclosure
    processor = _Processor(by_digest)
    claims = processor.object(payload, ())
    unreferenced = set(by_digest) - {d.digest for d in processor.used.values()}
    if unreferenced:
        raise SdJwtDisclosureUnreferenced(
            f"{len(unreferenced)} disclosure(s) are not referenced by the issuer-signed JWT"
        )
    claims.pop(_SD_ALG, None)
    return claims, processor


# --- presentation -------------------------------------------------------------------------------


def get_disclosable_paths(sd_jwt: str) -> frozenset[ClaimPath]:
    """The claim paths of every Disclosure an issued SD-JWT carries (for a wallet's display)."""
    _, payload, disclosures = _split_issued(sd_jwt)
    _, processor = _process(payload, disclosures, _payload_hash_alg(payload))
    return frozenset(processor.used)


def present(
    sd_jwt: str,
    *,
    reveal: Iterable[ClaimPath | str],
    holder_key: KeyPair,
    nonce: str,
    audience: str,
    iat: int,
    alg: str = "Ed25519",
) -> str:
    """The holder's SD-JWT+KB revealing only ``reveal`` (and the ancestors they need)."""
    issuer_jwt, payload, disclosures = _split_issued(sd_jwt)
    hash_alg = _payload_hash_alg(payload)
    _, processor = _process(payload, disclosures, hash_alg)
    chosen: dict[str, None] = {}  # ordered set: ancestors first
    for path in sorted(_normalise_paths(reveal), key=len):
        if path not in processor.paths:
            raise SdJwtInvalidInput(f"no claim at path {path} in this credential")
        for depth in range(1, len(path) + 1):
            disclosure = processor.used.get(path[:depth])
            if disclosure is not None:
                chosen[disclosure.encoded] = None
    if not isinstance(nonce, str) or not isinstance(audience, str) or not _is_int(iat):
        raise SdJwtInvalidInput("nonce and audience must be strings and iat an integer")
    presented = "~".join([issuer_jwt, *chosen, ""])
    kb_payload = {
        "iat": iat,
        "aud": audience,
        "nonce": nonce,
        "sd_hash": _sd_hash(presented, hash_alg),
    }
    kb_jwt = sign_compact({"alg": alg, "typ": KB_JWT_TYP}, _json_bytes(kb_payload), holder_key)
    return presented + kb_jwt


def _split_issued(sd_jwt: str) -> tuple[str, dict[str, Any], list[str]]:
    parts = sd_jwt.split("~")
    if len(parts) < 2 or parts[-1] != "" or any(p == "" for p in parts[:-1]):
        raise SdJwtMalformed("an issued SD-JWT is <issuer-JWT>~<disclosure>~...~ (no KB-JWT)")
    try:
        _, payload = split_compact(parts[0])
    except JoseFailure as exc:
        raise SdJwtMalformed(str(exc)) from None
    return parts[0], payload, parts[1:-1]


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedClaims:
    """What a verifier may rely on after :func:`verify_presentation`.

    ``claims`` is the processed payload (disclosed claims in place, undisclosed ones absent,
    ``iss``/``iat``/``exp``/``cnf`` kept); ``disclosed`` lists the paths revealed by Disclosures,
    array indices as in the issued credential.
    """

    claims: dict[str, Any]
    disclosed: frozenset[ClaimPath]
    issuer: str | None
    kid: str | None
    holder_jwk: dict[str, Any]
    key_binding_iat: int


def verify_presentation(
    text: str,
    *,
    issuer_key_resolver: IssuerKeyResolver,
    expected_nonce: str,
    expected_audience: str,
    now: int,
    max_kb_age_s: int = 300,
    leeway_s: int = 0,
    algorithms: frozenset[str] = DEFAULT_VERIFY_ALGORITHMS,
    hash_algorithms: frozenset[str] = frozenset(HASH_ALGORITHMS),
) -> VerifiedClaims:
    """Verify an SD-JWT+KB (RFC 9901 §7.1 and §7.3, key binding required); raise on any failure."""
    parts = text.split("~") if isinstance(text, str) else []
    if len(parts) < 2 or any(p == "" for p in parts[:-1]):
        raise SdJwtMalformed("a presentation is <issuer-JWT>~<disclosure>~...~<KB-JWT>")
    issuer_jwt, disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1]
    header, payload = _checked_issuer_jwt(issuer_jwt, issuer_key_resolver, algorithms)
    hash_alg = _payload_hash_alg(payload, hash_algorithms)
    claims, processor = _process(payload, disclosures, hash_alg)
    _check_validity(payload, now, leeway_s)
    if kb_jwt == "":
        raise SdJwtKbMissing("the presentation has no key binding JWT")
    holder_jwk = _holder_jwk(payload)
    kb = _checked_kb_jwt(kb_jwt, holder_jwk, algorithms)
    if kb["nonce"] != expected_nonce:
        raise SdJwtKbNonce("the key binding nonce is not this verifier's nonce")
    if kb["aud"] != expected_audience:
        raise SdJwtKbAudience(f"the key binding JWT is for {kb['aud']!r}")
    if kb["iat"] > now + leeway_s or now - kb["iat"] > max_kb_age_s:
        raise SdJwtKbStale(f"the key binding JWT was made at {kb['iat']}, it is now {now}")
    if kb["sd_hash"] != _sd_hash(text[: len(text) - len(kb_jwt)], hash_alg):
        raise SdJwtKbSdHash("sd_hash does not match the presented SD-JWT and disclosures")
    issuer = payload.get("iss")
    kid = header.get("kid")
    return VerifiedClaims(
        claims=claims,
        disclosed=frozenset(processor.used),
        issuer=issuer if isinstance(issuer, str) else None,
        kid=kid if isinstance(kid, str) else None,
        holder_jwk=holder_jwk,
        key_binding_iat=kb["iat"],
    )


def _checked_issuer_jwt(
    token: str, resolver: IssuerKeyResolver, algorithms: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header, payload = split_compact(token)
    except JoseFailure as exc:
        raise SdJwtMalformed(str(exc)) from None
    if header.get("alg") not in algorithms:
        raise SdJwtUnsupportedAlgorithm(f"issuer JWT algorithm {header.get('alg')!r} not allowed")
    if header.get("typ") == KB_JWT_TYP:
        raise SdJwtMalformed("the issuer-signed JWT is typed as a key binding JWT")
    iss, kid = payload.get("iss"), header.get("kid")
    jwk = resolver(iss if isinstance(iss, str) else None, kid if isinstance(kid, str) else None)
    if jwk is None:
        raise SdJwtUnknownIssuerKey(f"no trusted key for issuer {iss!r} with kid {kid!r}")
    try:
        verify_compact(token, jwk, algorithms=algorithms, header=header)
    except JoseFailure as exc:
        raise SdJwtBadSignature(f"issuer signature: {exc}") from None
    return header, payload


def _check_validity(payload: Mapping[str, Any], now: int, leeway_s: int) -> None:
    exp, nbf, iat = payload.get("exp"), payload.get("nbf"), payload.get("iat")
    if (
        not isinstance(exp, int)
        or isinstance(exp, bool)
        or not all(_opt_int(v) for v in (nbf, iat))
    ):
        raise SdJwtMalformed("exp is required and exp, nbf, iat must be integers")
    if now >= exp + leeway_s:
        raise SdJwtExpired(f"the credential expired at {exp}; it is now {now}")
    for name, value in (("nbf", nbf), ("iat", iat)):
        if value is not None and value > now + leeway_s:
            raise SdJwtNotYetValid(f"the credential's {name} {value} is after now ({now})")


def _holder_jwk(payload: Mapping[str, Any]) -> dict[str, Any]:
    cnf = payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise SdJwtNoHolderKey("the credential names no holder key (cnf.jwk)")
    return jwk


def _checked_kb_jwt(
    token: str, holder_jwk: Mapping[str, Any], algorithms: frozenset[str]
) -> dict[str, Any]:
    try:
        header, payload = split_compact(token)
    except JoseFailure as exc:
        raise SdJwtKbMalformed(str(exc)) from None
    if header.get("typ") != KB_JWT_TYP:
        raise SdJwtKbMalformed(f"the key binding JWT has typ {header.get('typ')!r}")
    if header.get("alg") not in algorithms:
        raise SdJwtUnsupportedAlgorithm(f"key binding algorithm {header.get('alg')!r} not allowed")
    try:
        verify_compact(token, holder_jwk, algorithms=algorithms, header=header)
    except JoseFailure as exc:
        if exc.bad_signature:
            raise SdJwtKbBadSignature(
                "the key binding JWT is not signed by the holder key"
            ) from None
        raise SdJwtKbMalformed(f"key binding JWT: {exc}") from None
    if not _is_int(payload.get("iat")) or not all(
        isinstance(payload.get(k), str) for k in ("aud", "nonce", "sd_hash")
    ):
        raise SdJwtKbMalformed("the key binding JWT needs iat, aud, nonce and sd_hash")
    return payload


def _sd_hash(presented: str, hash_alg: str) -> str:
    try:
        data = presented.encode("ascii")
    except UnicodeEncodeError:
        raise SdJwtMalformed("an SD-JWT is ASCII only") from None
    return b64url_encode(_hasher(hash_alg)(data).digest())


def _payload_hash_alg(
    payload: Mapping[str, Any], accepted: frozenset[str] = frozenset(HASH_ALGORITHMS)
) -> str:
    hash_alg = payload.get(_SD_ALG, "sha-256")
    if hash_alg not in accepted or hash_alg not in HASH_ALGORITHMS:
        raise SdJwtUnsupportedAlgorithm(f"_sd_alg {hash_alg!r} is not supported")
    return str(hash_alg)


# --- helpers ------------------------------------------------------------------------------------


def _hasher(hash_alg: str) -> Callable[[bytes], Any]:
    try:
        return HASH_ALGORITHMS[hash_alg]
    except KeyError:
        raise SdJwtInvalidInput(f"unsupported hash algorithm {hash_alg!r}") from None


def _normalise_paths(paths: Iterable[ClaimPath | str]) -> frozenset[ClaimPath]:
    out: set[ClaimPath] = set()
    for path in [paths] if isinstance(paths, str) else paths:
        normal = (path,) if isinstance(path, str) else tuple(path)
        if not normal or not all(isinstance(p, str) or (_is_int(p) and p >= 0) for p in normal):
            raise SdJwtInvalidInput(f"invalid claim path {path!r}")
        out.add(normal)
    return frozenset(out)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_bytes(value: Any) -> bytes:
    try:
        return json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError) as exc:
        raise SdJwtInvalidInput(f"claims are not JSON: {exc}") from None


def _opt_int(value: object) -> bool:
    return value is None or _is_int(value)
