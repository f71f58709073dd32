"""SD-JWT (RFC 9901): the RFC's own examples, round trips, and one rejection per failure code."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import OKPKey

from govchain.credentials.errors import CredentialError, DisclosureInvalid
from govchain.credentials.jose import keypair_public_jwk, sign_compact
from govchain.credentials.sdjwt import (
    ClaimPath,
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
    VerifiedClaims,
    compute_disclosure_digest,
    encode_disclosure,
    get_disclosable_paths,
    issue_sd_jwt,
    present,
    verify_presentation,
)
from govchain.credentials.sdjwt_derived import (
    compute_derived_claims,
    is_age_over,
    is_within_period,
    issue_with_derived_claims,
)
from govchain.crypto.signing import ED25519, KeyPair, get_scheme

ISSUER = get_scheme(ED25519).from_seed(b"\x11" * 32)
HOLDER = get_scheme(ED25519).from_seed(b"\x22" * 32)
OTHER = get_scheme(ED25519).from_seed(b"\x33" * 32)
ISS, KID = "https://licences.city.example", "licences-2025"
IAT, EXP = 1_760_000_000, 1_760_000_000 + 365 * 86_400
NOW = IAT + 3_600
NONCE, AUD = "n-0S6_WzA2Mj", "https://bank.example"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def counter_salt(label: bytes = b"salt") -> Callable[[], bytes]:
    counter = iter(range(1_000_000))
    return lambda: hashlib.sha256(label + next(counter).to_bytes(4, "big")).digest()[:16]


def fixed_salts(*salts: str) -> Callable[[], bytes]:
    """A salt source replaying the RFC's salt strings (16 bytes each, base64url)."""
    it: Iterator[str] = iter(salts)
    return lambda: unb64(next(it))


def resolver(key: KeyPair = ISSUER) -> Callable[[str | None, str | None], dict[str, str] | None]:
    return lambda iss, kid: keypair_public_jwk(key) if (iss, kid) == (ISS, KID) else None


def issue(claims: Mapping[str, Any], disclosable: Iterable[ClaimPath | str], **kw: Any) -> str:
    args: dict[str, Any] = {
        "issuer_key": ISSUER,
        "kid": KID,
        "holder_public_jwk": keypair_public_jwk(HOLDER),
        "salt": counter_salt(),
        "iat": IAT,
        "exp": EXP,
    }
    args.update(kw)
    return issue_sd_jwt({"iss": ISS, **claims}, disclosable=set(disclosable), **args)


def verify(text: str, **kw: Any) -> VerifiedClaims:
    args: dict[str, Any] = {
        "issuer_key_resolver": resolver(),
        "expected_nonce": NONCE,
        "expected_audience": AUD,
        "now": NOW,
    }
    args.update(kw)
    return verify_presentation(text, **args)


def show(sd_jwt: str, reveal: Iterable[ClaimPath | str], **kw: Any) -> str:
    args: dict[str, Any] = {"holder_key": HOLDER, "nonce": NONCE, "audience": AUD, "iat": NOW}
    args.update(kw)
    return present(sd_jwt, reveal=set(reveal), **args)


def bind(prefix: str, *, key: KeyPair = HOLDER, typ: str = "kb+jwt", **claims: Any) -> str:
    """A KB-JWT over ``prefix`` built independently of the module (hashlib, not its helpers)."""
    sd_hash = b64(hashlib.sha256(prefix.encode()).digest())
    payload = {"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sd_hash, **claims}
    return prefix + sign_compact({"alg": "Ed25519", "typ": typ}, json.dumps(payload).encode(), key)


def signed_issuer_jwt(payload: Mapping[str, Any], key: KeyPair = ISSUER) -> str:
    header = {"alg": "Ed25519", "typ": "dc+sd-jwt", "kid": KID}
    return sign_compact(header, json.dumps(payload).encode(), key)


def parts(sd_jwt: str) -> tuple[str, list[str]]:
    pieces = sd_jwt.split("~")
    return pieces[0], pieces[1:-1]


def jwt_payload(jwt: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(unb64(jwt.split(".")[1]))
    return payload


# --- RFC 9901 examples -------------------------------------------------------------------------

RFC_HOLDER_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
    "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
}
RFC_ISSUER_JWK = {  # Appendix A.5
    "kty": "EC",
    "crv": "P-256",
    "x": "b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ",
    "y": "Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8",
}
RFC_CLAIMS = {  # §5.1, input JWT Claims Set
    "sub": "user_42",
    "given_name": "John",
    "family_name": "Doe",
    "email": "johndoe@example.com",
    "phone_number": "+1-202-555-0101",
    "phone_number_verified": True,
    "address": {
        "street_address": "123 Main St",
        "locality": "Anytown",
        "region": "Anystate",
        "country": "US",
    },
    "birthdate": "1940-01-01",
    "updated_at": 1570000000,
    "nationalities": ["US", "DE"],
}
RFC_SALTS = (
    "2GLC42sKQveCfGfryNRN9w",
    "eluV5Og3gSNII8EYnsxA_A",
    "6Ij7tM-a5iVPGboS5tmvVA",
    "eI8ZWm9QnKPpNPeNenHdhQ",
    "Qg_O64zqAxe412a108iroA",
    "AJx-095VPrpTtN4QMOqROA",
    "Pc33JM2LchcU_lHggv_ufQ",
    "G02NSrQfjFXQ7Io09syajA",
    "lklxF5jMYlGTPUovMNIvCA",
    "nPuoQnkRFq3BIeAm7AnXFA",
)
RFC_DISCLOSURES = (  # §5.1, in issuance order
    "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
    "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd",
    "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ",
    "WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ",
    "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd",
    "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWlu"
    "IFN0IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0",
    "WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0",
    "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ",
    "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0",
    "WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0",
)
RFC_PAYLOAD = {  # §5.1, the SD-JWT payload
    "_sd": [
        "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI",
        "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE",
        "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI",
        "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo",
        "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM",
        "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE",
        "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM",
        "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
    ],
    "iss": "https://issuer.example.com",
    "iat": 1683000000,
    "exp": 1883000000,
    "sub": "user_42",
    "nationalities": [
        {"...": "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"},
        {"...": "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0"},
    ],
    "_sd_alg": "sha-256",
    "cnf": {"jwk": RFC_HOLDER_JWK},
}
# §5.2: the SD-JWT+KB revealing family_name, address, given_name and nationalities[0] (ES256).
_RFC_5_2_WRAPPED = """
eyJhbGciOiAiRVMyNTYiLCAidHlwIjogImV4YW1wbGUrc2Qtand0In0.eyJfc2QiOiBb
IkNyUWU3UzVrcUJBSHQtbk1ZWGdjNmJkdDJTSDVhVFkxc1VfTS1QZ2tqUEkiLCAiSnpZ
akg0c3ZsaUgwUjNQeUVNZmVadTZKdDY5dTVxZWhabzdGN0VQWWxTRSIsICJQb3JGYnBL
dVZ1Nnh5bUphZ3ZrRnNGWEFiUm9jMkpHbEFVQTJCQTRvN2NJIiwgIlRHZjRvTGJnd2Q1
SlFhSHlLVlFaVTlVZEdFMHc1cnREc3JaemZVYW9tTG8iLCAiWFFfM2tQS3QxWHlYN0tB
TmtxVlI2eVoyVmE1TnJQSXZQWWJ5TXZSS0JNTSIsICJYekZyendzY002R242Q0pEYzZ2
Vks4QmtNbmZHOHZPU0tmcFBJWmRBZmRFIiwgImdiT3NJNEVkcTJ4Mkt3LXc1d1BFemFr
b2I5aFYxY1JEMEFUTjNvUUw5Sk0iLCAianN1OXlWdWx3UVFsaEZsTV8zSmx6TWFTRnpn
bGhRRzBEcGZheVF3TFVLNCJdLCAiaXNzIjogImh0dHBzOi8vaXNzdWVyLmV4YW1wbGUu
Y29tIiwgImlhdCI6IDE2ODMwMDAwMDAsICJleHAiOiAxODgzMDAwMDAwLCAic3ViIjog
InVzZXJfNDIiLCAibmF0aW9uYWxpdGllcyI6IFt7Ii4uLiI6ICJwRm5kamtaX1ZDem15
VGE2VWpsWm8zZGgta284YUlLUWM5RGxHemhhVllvIn0sIHsiLi4uIjogIjdDZjZKa1B1
ZHJ5M2xjYndIZ2VaOGtoQXYxVTFPU2xlclAwVmtCSnJXWjAifV0sICJfc2RfYWxnIjog
InNoYS0yNTYiLCAiY25mIjogeyJqd2siOiB7Imt0eSI6ICJFQyIsICJjcnYiOiAiUC0y
NTYiLCAieCI6ICJUQ0FFUjE5WnZ1M09IRjRqNFc0dmZTVm9ISVAxSUxpbERsczd2Q2VH
ZW1jIiwgInkiOiAiWnhqaVdXYlpNUUdIVldLVlE0aGJTSWlyc1ZmdWVjQ0U2dDRqVDlG
MkhaUSJ9fX0.ow2VRoOnXDjBhV-c2XUX9zWmHhbd5hao3xa39DfE4UX_wlsBlh5KBsmK
eDd59GgpIbWFIomQWRy3A4L-St_6aQ~WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgI
mZhbWlseV9uYW1lIiwgIkRvZSJd~WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFk
ZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0IiwgImxvY2FsaXR5
IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMi
fV0~WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd
~WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0~eyJhbGciOiAiRVMyNTYiLCA
idHlwIjogImtiK2p3dCJ9.eyJub25jZSI6ICIxMjM0NTY3ODkwIiwgImF1ZCI6ICJodH
RwczovL3ZlcmlmaWVyLmV4YW1wbGUub3JnIiwgImlhdCI6IDE3NDg1MzcyNDMsICJzZF
9oYXNoIjogIkczSTh6LWNGTUFUQUsyZXA4TVhXay12bmpJM1g2LWFhaFllVTlUdnp6M0
UifQ.PqD8kiTmgP5PDvnRB8PzuzHYU5hH8bEw88jFN9aT5a5CblBjVcFig044UoWeJU6
cUqBPAXVh0XAL8of4_Sp71g
"""
RFC_PRESENTATION = "".join(_RFC_5_2_WRAPPED.split())


@pytest.mark.parametrize(
    ("salt", "name", "value", "disclosure", "digest"),
    [
        (  # §5.1, claim given_name
            "2GLC42sKQveCfGfryNRN9w",
            "given_name",
            "John",
            "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
            "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
        ),
        (  # §4.2.1 and §4.2.3, a non-ASCII value kept as UTF-8
            "_26bc4LT-ac6q2KI6cBW5es",
            "family_name",
            "Möbius",
            "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
            "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0",
        ),
        (  # §4.2.2 and §4.2.4.2, an array element
            "lklxF5jMYlGTPUovMNIvCA",
            None,
            "FR",
            "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
            "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
        ),
    ],
)
def test_rfc_disclosures_and_digests(
    salt: str, name: str | None, value: Any, disclosure: str, digest: str
) -> None:
    assert encode_disclosure(salt, name, value) == disclosure
    assert compute_disclosure_digest(disclosure) == digest


def test_rfc_5_1_issuance_reproduces_payload_and_disclosures() -> None:
    disclosable: set[ClaimPath] = {(n,) for n in RFC_CLAIMS if n not in ("sub", "nationalities")}
    disclosable |= {("nationalities", 0), ("nationalities", 1)}
    sd_jwt = issue_sd_jwt(
        {"iss": "https://issuer.example.com", **RFC_CLAIMS},
        disclosable=disclosable,
        issuer_key=ISSUER,
        kid=KID,
        holder_public_jwk=RFC_HOLDER_JWK,
        salt=fixed_salts(*RFC_SALTS),
        iat=1683000000,
        exp=1883000000,
    )
    issuer_jwt, disclosures = parts(sd_jwt)
    assert tuple(disclosures) == RFC_DISCLOSURES
    assert jwt_payload(issuer_jwt) == RFC_PAYLOAD


def test_rfc_6_2_structured_and_6_3_recursive_digests() -> None:
    address = {
        "street_address": "Schulstr. 12",
        "locality": "Schulpforta",
        "region": "Sachsen-Anhalt",
        "country": "DE",
    }
    members = {("address", name) for name in address}
    kw: dict[str, Any] = {"holder_public_jwk": RFC_HOLDER_JWK}
    structured = issue({"address": address}, members, salt=fixed_salts(*RFC_SALTS[:4]), **kw)
    assert jwt_payload(parts(structured)[0])["address"] == {
        "_sd": [
            "6vh9bq-zS4GKM_7GpggVbYzzu6oOGXrmNVGPHP75Ud0",
            "9gjVuXtdFROCgRrtNcGUXmF65rdezi_6Er_j76kmYyM",
            "KURDPh4ZC19-3tiz-Df39V8eidy1oV3a3H1Da2N0g88",
            "WN9r9dCBJ8HTCsS2jKASxTjEyW5m5x65_Z_2ro2jfXM",
        ]
    }
    recursive = issue(
        {"address": address}, members | {("address",)}, salt=fixed_salts(*RFC_SALTS[:5]), **kw
    )
    issuer_jwt, disclosures = parts(recursive)
    assert jwt_payload(issuer_jwt)["_sd"] == ["HvrKX6fPV0v9K_yCVFBiLFHsMaxcD_114Em6VT8x1lg"]
    assert disclosures[-1] == (
        "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgImFkZHJlc3MiLCB7Il9zZCI6IFsiNnZoOWJxLXpTNEdLTV83R3Bn"
        "Z1ZiWXp6dTZvT0dYcm1OVkdQSFA3NVVkMCIsICI5Z2pWdVh0ZEZST0NnUnJ0TmNHVVhtRjY1cmRlemlfNkVyX2o3"
        "NmttWXlNIiwgIktVUkRQaDRaQzE5LTN0aXotRGYzOVY4ZWlkeTFvVjNhM0gxRGEyTjBnODgiLCAiV045cjlkQ0JK"
        "OEhUQ3NTMmpLQVN4VGpFeVc1bTV4NjVfWl8ycm8yamZYTSJdfV0"
    )


def test_rfc_5_2_presentation_verifies_with_es256() -> None:
    result = verify_presentation(
        RFC_PRESENTATION,
        issuer_key_resolver=lambda iss, kid: (
            RFC_ISSUER_JWK if iss == "https://issuer.example.com" else None
        ),
        expected_nonce="1234567890",
        expected_audience="https://verifier.example.org",
        now=1748537243 + 10,
    )
    assert result.claims == {
        "iss": "https://issuer.example.com",
        "iat": 1683000000,
        "exp": 1883000000,
        "sub": "user_42",
        "nationalities": ["US"],
        "cnf": {"jwk": RFC_HOLDER_JWK},
        "family_name": "Doe",
        "address": {
            "street_address": "123 Main St",
            "locality": "Anytown",
            "region": "Anystate",
            "country": "US",
        },
        "given_name": "John",
    }
    assert result.disclosed == {
        ("family_name",),
        ("address",),
        ("given_name",),
        ("nationalities", 0),
    }
    assert result.holder_jwk == RFC_HOLDER_JWK


def test_rfc_5_2_presentation_rejected_for_another_verifier() -> None:
    with pytest.raises(SdJwtKbAudience):
        verify_presentation(
            RFC_PRESENTATION,
            issuer_key_resolver=lambda iss, kid: RFC_ISSUER_JWK,
            expected_nonce="1234567890",
            expected_audience="https://bank.example",
            now=1748537243,
        )


def test_variant_json_encodings_of_a_disclosure_are_accepted() -> None:
    # §4.2.1: the digest covers the encoded string, so any JSON spelling the issuer chose works.
    compact = b64(
        json.dumps(
            ["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"],
            separators=(",", ":"),
            ensure_ascii=True,
        ).encode()
    )
    payload = {
        "iss": ISS,
        "exp": EXP,
        "_sd": [compute_disclosure_digest(compact)],
        "cnf": {"jwk": keypair_public_jwk(HOLDER)},
    }
    result = verify(bind(f"{signed_issuer_jwt(payload)}~{compact}~"))
    assert result.claims["family_name"] == "Möbius"


# --- round trips -------------------------------------------------------------------------------

LICENCE: dict[str, Any] = {
    "sub": "did:gov:citizen:7f3a",
    "given_name": "Mei",
    "family_name": "Lin",
    "birthdate": "1990-05-17",
    "licence_no": "BL-2025-000123",
    "categories": ["B", "C1", "D"],
    "address": {"street": "1 Harbour Rd", "district": "Nanshan", "postcode": "518000"},
    "issuing_authority": "City Market Supervision Bureau",
    "valid_from": "2025-01-01",
    "valid_until": "2030-12-31",
}
LICENCE_DISCLOSABLE: frozenset[ClaimPath] = frozenset(
    {(name,) for name in LICENCE if name not in ("sub", "categories", "address")}
    | {("categories", 0), ("categories", 1), ("categories", 2)}
    | {("address",), ("address", "street"), ("address", "district"), ("address", "postcode")}
)


@cache
def licence_sd_jwt() -> str:
    return issue(LICENCE, LICENCE_DISCLOSABLE)


def test_issued_sd_jwt_shape() -> None:
    issuer_jwt, disclosures = parts(licence_sd_jwt())
    header = json.loads(unb64(issuer_jwt.split(".")[0]))
    assert header == {"alg": "Ed25519", "typ": "dc+sd-jwt", "kid": KID}
    payload = jwt_payload(issuer_jwt)
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"] == {"jwk": keypair_public_jwk(HOLDER)}
    assert {"iss", "iat", "exp", "sub"} <= set(payload)
    assert "given_name" not in payload and "address" not in payload
    assert payload["_sd"] == sorted(payload["_sd"])
    assert len(disclosures) == len(LICENCE_DISCLOSABLE)
    assert licence_sd_jwt().endswith("~")
    assert get_disclosable_paths(licence_sd_jwt()) == LICENCE_DISCLOSABLE


def test_reveal_top_level_only() -> None:
    result = verify(show(licence_sd_jwt(), {"licence_no"}))
    assert result.claims == {
        "iss": ISS,
        "iat": IAT,
        "exp": EXP,
        "sub": LICENCE["sub"],
        "categories": [],
        "cnf": {"jwk": keypair_public_jwk(HOLDER)},
        "licence_no": "BL-2025-000123",
    }
    assert result.disclosed == {("licence_no",)}
    assert (result.issuer, result.kid, result.key_binding_iat) == (ISS, KID, NOW)


def test_reveal_nested_member_brings_its_parent_disclosure() -> None:
    result = verify(show(licence_sd_jwt(), {("address", "district")}))
    assert result.claims["address"] == {"district": "Nanshan"}
    assert result.disclosed == {("address",), ("address", "district")}


def test_reveal_array_elements() -> None:
    result = verify(show(licence_sd_jwt(), {("categories", 0), ("categories", 2)}))
    assert result.claims["categories"] == ["B", "D"]
    assert result.disclosed == {("categories", 0), ("categories", 2)}


def test_reveal_nothing_and_everything() -> None:
    assert verify(show(licence_sd_jwt(), set())).disclosed == frozenset()
    everything = verify(show(licence_sd_jwt(), LICENCE_DISCLOSABLE))
    assert {k: v for k, v in everything.claims.items() if k in LICENCE} == LICENCE


@pytest.mark.parametrize("hash_alg", ["sha-384", "sha-512"])
def test_other_hash_algorithms(hash_alg: str) -> None:
    sd_jwt = issue(LICENCE, LICENCE_DISCLOSABLE, hash_alg=hash_alg)
    assert jwt_payload(parts(sd_jwt)[0])["_sd_alg"] == hash_alg
    assert verify(show(sd_jwt, {"given_name"})).claims["given_name"] == "Mei"
    with pytest.raises(SdJwtUnsupportedAlgorithm):
        verify(show(sd_jwt, {"given_name"}), hash_algorithms=frozenset({"sha-256"}))


def test_decoys_pad_every_sd_array_and_are_ignored() -> None:
    sd_jwt = issue(LICENCE, LICENCE_DISCLOSABLE, decoys=3)
    issuer_jwt, disclosures = parts(sd_jwt)
    payload = jwt_payload(issuer_jwt)
    top_level = [p for p in LICENCE_DISCLOSABLE if len(p) == 1]
    assert len(payload["_sd"]) == len(top_level) + 3
    assert len(disclosures) == len(LICENCE_DISCLOSABLE)
    assert verify(show(sd_jwt, {("address", "street")})).claims["address"] == {
        "street": "1 Harbour Rd"
    }


def okp_key(key: KeyPair) -> OKPKey:
    jwk: dict[str, str | list[str]] = dict(keypair_public_jwk(key))
    return OKPKey.import_key(jwk)


def test_issuer_jwt_interoperates_with_joserfc() -> None:
    # govchain signs Ed25519 JWS itself (libsodium); an independent JOSE library must agree.
    issuer_jwt = parts(licence_sd_jwt())[0]
    key = okp_key(ISSUER)
    token = jws.deserialize_compact(issuer_jwt, key, algorithms=["Ed25519"])
    assert json.loads(token.payload) == jwt_payload(issuer_jwt)
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(issuer_jwt, okp_key(OTHER), algorithms=["Ed25519"])


def test_es256_presentation_with_the_wrong_issuer_key_is_rejected() -> None:
    with pytest.raises(SdJwtBadSignature):
        verify_presentation(
            RFC_PRESENTATION,
            issuer_key_resolver=lambda iss, kid: RFC_HOLDER_JWK,
            expected_nonce="1234567890",
            expected_audience="https://verifier.example.org",
            now=1748537243,
        )


@pytest.mark.parametrize(
    "jwk",
    [
        RFC_ISSUER_JWK,  # an EC key for an Ed25519 signature
        {"kty": "OKP", "crv": "Ed25519", "x": "not base64url!"},
        {"kty": "OKP", "crv": "Ed25519", "x": b64(b"short")},
    ],
)
def test_issuer_key_of_the_wrong_kind_is_rejected(jwk: dict[str, str]) -> None:
    with pytest.raises(SdJwtBadSignature):
        verify(presented(), issuer_key_resolver=lambda iss, kid: jwk)


def test_critical_header_parameters_are_rejected() -> None:
    payload = {"iss": ISS, "exp": EXP, "cnf": {"jwk": keypair_public_jwk(HOLDER)}}
    header = {"alg": "Ed25519", "typ": "dc+sd-jwt", "kid": KID, "crit": ["x-policy"]}
    issuer_jwt = sign_compact(header, json.dumps(payload).encode(), ISSUER)
    with pytest.raises(SdJwtBadSignature):
        verify(bind(f"{issuer_jwt}~"))


def test_legacy_eddsa_alg_is_accepted() -> None:
    sd_jwt = issue(LICENCE, LICENCE_DISCLOSABLE, alg="EdDSA")
    assert verify(show(sd_jwt, {"given_name"}, alg="EdDSA")).claims["given_name"] == "Mei"


# --- hypothesis: any subset reveals exactly itself ---------------------------------------------


def expected_view(value: Any, path: ClaimPath, revealed: frozenset[ClaimPath]) -> Any:
    """The processed value a verifier must see: hidden members and elements left out."""
    if isinstance(value, dict):
        return {
            k: expected_view(v, (*path, k), revealed)
            for k, v in value.items()
            if (*path, k) not in LICENCE_DISCLOSABLE or (*path, k) in revealed
        }
    if isinstance(value, list):
        return [
            expected_view(v, (*path, i), revealed)
            for i, v in enumerate(value)
            if (*path, i) not in LICENCE_DISCLOSABLE or (*path, i) in revealed
        ]
    return value


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(sorted(LICENCE_DISCLOSABLE, key=repr))))
def test_random_subsets_verify_and_reveal_exactly_the_chosen_claims(
    chosen: set[ClaimPath],
) -> None:
    result = verify(show(licence_sd_jwt(), chosen))
    closure = (
        frozenset(p[:depth] for p in chosen for depth in range(1, len(p) + 1)) & LICENCE_DISCLOSABLE
    )
    assert result.disclosed == closure
    view = {k: v for k, v in result.claims.items() if k in LICENCE}
    assert view == expected_view(LICENCE, (), closure)


# --- rejections, one per failure code ------------------------------------------------------------


def reissue_disclosures(sd_jwt: str, change: Callable[[list[str]], list[str]]) -> str:
    """Change the disclosures of a presentation and re-sign a *valid* KB-JWT over the result."""
    issuer_jwt, disclosures = parts(sd_jwt)
    return bind("~".join([issuer_jwt, *change(disclosures), ""]))


def presented(reveal: Iterable[ClaimPath | str] = ("given_name", "family_name")) -> str:
    return show(licence_sd_jwt(), reveal)


def test_changed_disclosure_is_unreferenced() -> None:
    def tamper(ds: list[str]) -> list[str]:
        salt, name, _ = json.loads(unb64(ds[0]))
        return [encode_disclosure(salt, name, "Mallory"), *ds[1:]]

    with pytest.raises(SdJwtDisclosureUnreferenced):
        verify(reissue_disclosures(presented(), tamper))


def test_added_disclosure_is_unreferenced() -> None:
    extra = encode_disclosure(b64(b"\x00" * 16), "licence_class", "all")
    with pytest.raises(SdJwtDisclosureUnreferenced):
        verify(reissue_disclosures(presented(), lambda ds: [*ds, extra]))


def test_duplicate_disclosure_is_rejected() -> None:
    with pytest.raises(SdJwtDisclosureDuplicate):
        verify(reissue_disclosures(presented(), lambda ds: [*ds, ds[0]]))


def test_digest_repeated_in_the_payload_is_rejected() -> None:
    disclosure = encode_disclosure(b64(b"\x01" * 16), "given_name", "Mei")
    digest = compute_disclosure_digest(disclosure)
    payload = {
        "iss": ISS,
        "exp": EXP,
        "_sd": [digest],
        "cnf": {"jwk": keypair_public_jwk(HOLDER)},
        "address": {"_sd": [digest]},
    }
    with pytest.raises(SdJwtDisclosureDuplicate):
        verify(bind(f"{signed_issuer_jwt(payload)}~{disclosure}~"))


def test_array_disclosure_in_sd_is_invalid() -> None:
    disclosure = encode_disclosure(b64(b"\x02" * 16), None, "B")
    payload = {
        "iss": ISS,
        "exp": EXP,
        "_sd": [compute_disclosure_digest(disclosure)],
        "cnf": {"jwk": keypair_public_jwk(HOLDER)},
    }
    with pytest.raises(SdJwtDisclosureInvalid):
        verify(bind(f"{signed_issuer_jwt(payload)}~{disclosure}~"))


@pytest.mark.parametrize(
    "content", [["salt", "_sd", 1], ["salt", "...", 1], ["salt"], "text", [1, "name", 2]]
)
def test_ill_formed_disclosures_are_invalid(content: Any) -> None:
    disclosure = b64(json.dumps(content).encode())
    with pytest.raises(SdJwtDisclosureInvalid):
        verify(reissue_disclosures(presented(), lambda ds: [*ds, disclosure]))


def test_wrong_issuer_key_is_a_bad_signature() -> None:
    with pytest.raises(SdJwtBadSignature):
        verify(presented(), issuer_key_resolver=resolver(OTHER))


def test_unknown_issuer_is_rejected() -> None:
    with pytest.raises(SdJwtUnknownIssuerKey):
        verify(presented(), issuer_key_resolver=lambda iss, kid: None)


def test_expired_credential_is_rejected() -> None:
    with pytest.raises(SdJwtExpired):
        verify(show(licence_sd_jwt(), {"given_name"}, iat=EXP), now=EXP)


def test_credential_from_the_future_is_rejected() -> None:
    with pytest.raises(SdJwtNotYetValid):
        verify(show(licence_sd_jwt(), {"given_name"}, iat=IAT - 100), now=IAT - 100)


def test_missing_kb_jwt_is_rejected() -> None:
    issuer_jwt, disclosures = parts(presented())
    with pytest.raises(SdJwtKbMissing):
        verify("~".join([issuer_jwt, *disclosures, ""]))


def test_kb_jwt_signed_by_another_key_is_rejected() -> None:
    with pytest.raises(SdJwtKbBadSignature):
        verify(show(licence_sd_jwt(), {"given_name"}, holder_key=OTHER))


def test_wrong_nonce_is_rejected() -> None:
    with pytest.raises(SdJwtKbNonce):
        verify(show(licence_sd_jwt(), {"given_name"}, nonce="an-old-nonce"))


def test_wrong_audience_is_rejected() -> None:
    with pytest.raises(SdJwtKbAudience):
        verify(show(licence_sd_jwt(), {"given_name"}, audience="https://evil.example"))


@pytest.mark.parametrize("kb_iat", [NOW - 301, NOW + 1])
def test_stale_or_future_kb_jwt_is_rejected(kb_iat: int) -> None:
    with pytest.raises(SdJwtKbStale):
        verify(show(licence_sd_jwt(), {"given_name"}, iat=kb_iat))


def test_kb_age_limit_is_inclusive_and_configurable() -> None:
    text = show(licence_sd_jwt(), {"given_name"}, iat=NOW - 300)
    assert verify(text).key_binding_iat == NOW - 300
    with pytest.raises(SdJwtKbStale):
        verify(text, max_kb_age_s=60)


def test_disclosure_removed_after_kb_signing_breaks_sd_hash() -> None:
    text = presented()
    issuer_jwt, rest = text.split("~", 1)
    pieces = rest.split("~")
    stripped = "~".join([issuer_jwt, *pieces[1:]])  # drop the first disclosure, keep the KB-JWT
    with pytest.raises(SdJwtKbSdHash):
        verify(stripped)


def test_kb_jwt_moved_to_another_presentation_breaks_sd_hash() -> None:
    kb_jwt = presented(["given_name"]).rsplit("~", 1)[1]
    other = presented(["family_name"]).rsplit("~", 1)[0]
    with pytest.raises(SdJwtKbSdHash):
        verify(f"{other}~{kb_jwt}")


def test_kb_jwt_with_wrong_typ_or_claims_is_malformed() -> None:
    prefix = presented().rsplit("~", 1)[0] + "~"
    with pytest.raises(SdJwtKbMalformed):
        verify(bind(prefix, typ="jwt"))
    with pytest.raises(SdJwtKbMalformed):
        verify(bind(prefix, iat="yesterday"))


def test_credential_without_cnf_is_rejected() -> None:
    payload = {"iss": ISS, "exp": EXP}
    with pytest.raises(SdJwtNoHolderKey):
        verify(bind(f"{signed_issuer_jwt(payload)}~"))


def test_unsupported_sd_alg_is_rejected() -> None:
    payload = {"iss": ISS, "exp": EXP, "_sd_alg": "md5", "cnf": {"jwk": keypair_public_jwk(HOLDER)}}
    with pytest.raises(SdJwtUnsupportedAlgorithm):
        verify(bind(f"{signed_issuer_jwt(payload)}~"))


def test_alg_none_is_rejected() -> None:
    issuer_jwt = presented().split("~", 1)[0]
    payload_b64 = issuer_jwt.split(".")[1]
    unsigned = b64(json.dumps({"alg": "none", "typ": "dc+sd-jwt", "kid": KID}).encode())
    with pytest.raises(SdJwtUnsupportedAlgorithm):
        verify(bind(f"{unsigned}.{payload_b64}.~"))


@pytest.mark.parametrize(
    "text",
    ["", "~", "abc", "a.b.c~", "~~", "eyJ9.e30.~x", f"{'e30.' * 2}~~x", "é.é.é~x"],
)
def test_garbage_is_malformed(text: str) -> None:
    with pytest.raises(SdJwtMalformed):
        verify(text)


def test_codes_are_distinct_and_in_the_credential_family() -> None:
    classes = [
        SdJwtMalformed,
        SdJwtUnsupportedAlgorithm,
        SdJwtUnknownIssuerKey,
        SdJwtBadSignature,
        SdJwtDisclosureInvalid,
        SdJwtDisclosureUnreferenced,
        SdJwtDisclosureDuplicate,
        SdJwtExpired,
        SdJwtNotYetValid,
        SdJwtNoHolderKey,
        SdJwtKbMissing,
        SdJwtKbMalformed,
        SdJwtKbBadSignature,
        SdJwtKbNonce,
        SdJwtKbAudience,
        SdJwtKbSdHash,
        SdJwtKbStale,
    ]
    codes = [cls.code for cls in classes] + [SdJwtInvalidInput.code]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("SDJWT_") for code in codes)
    assert all(issubclass(cls, DisclosureInvalid) for cls in classes)
    assert issubclass(SdJwtInvalidInput, CredentialError)
    for cls in classes:
        assert 400 <= cls.status < 500 and cls.default_hint.endswith(".")


# --- issuer and holder input errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "disclosable", "kw"),
    [
        ({"a": 1}, {"b"}, {}),  # path not in the claims
        ({"a": [1]}, {("a", 3)}, {}),  # index out of range
        ({"exp": 1}, set(), {}),  # set by the issuer
        ({"a": 1}, {"iss"}, {}),  # validity claims stay visible
        ({"_sd": 1}, set(), {}),  # reserved name
        ({"a": 1}, {"a"}, {"salt": lambda: b"short"}),  # salt below 128 bits
        ({"a": 1}, {"a"}, {"hash_alg": "md5"}),
        ({"a": 1}, {"a"}, {"decoys": -1}),
        ({"a": 1}, {"a"}, {"exp": IAT}),
        ({"a": float("nan")}, {"a"}, {}),
        ({"a": 1}, {"a"}, {"holder_public_jwk": {"kty": "OKP", "d": "secret"}}),
        ({"a": 1}, {()}, {}),
    ],
)
def test_issuance_input_errors(
    claims: dict[str, Any], disclosable: set[Any], kw: dict[str, Any]
) -> None:
    with pytest.raises(SdJwtInvalidInput):
        issue(claims, disclosable, **kw)


def test_present_rejects_unknown_paths_and_presentations() -> None:
    with pytest.raises(SdJwtInvalidInput):
        show(licence_sd_jwt(), {"no_such_claim"})
    with pytest.raises(SdJwtMalformed):
        show(presented(), {"given_name"})  # a holder never re-presents an SD-JWT+KB


def test_revealing_an_always_visible_claim_is_a_no_op() -> None:
    assert verify(show(licence_sd_jwt(), {"sub"})).disclosed == frozenset()


# --- derived claims ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birthdate", "on", "expected"),
    [
        ("2007-05-17", "2025-05-17", True),
        ("2007-05-17", "2025-05-16", False),
        ("2008-02-29", "2026-02-28", False),
        ("2008-02-29", "2026-03-01", True),
        ("1940-01-01", "2025-01-01", True),
    ],
)
def test_is_age_over(birthdate: str, on: str, expected: bool) -> None:
    assert is_age_over(birthdate, 18, on=on) is expected


def test_is_within_period_and_bad_dates() -> None:
    assert is_within_period("2025-01-01", "2030-12-31", on="2030-12-31")
    assert not is_within_period("2025-01-01", "2030-12-31", on="2031-01-01")
    assert not is_within_period("2025-01-01", None, on="2024-12-31")
    for bad in ("2025-02-30", "2025-13-01", "25-01-01", "2025-1-1"):
        with pytest.raises(SdJwtInvalidInput):
            is_within_period(None, None, on=bad)


def test_compute_derived_claims() -> None:
    derived = compute_derived_claims(
        LICENCE,
        on="2025-06-01",
        age_thresholds=(18, 65),
        licence_period=(LICENCE["valid_from"], LICENCE["valid_until"]),
    )
    assert derived == {"age_over_18": True, "age_over_65": False, "licence_valid": True}


def test_reveal_only_age_over_18_and_licence_valid() -> None:
    sd_jwt = issue_with_derived_claims(
        {"iss": ISS, **LICENCE},
        on="2025-06-01",
        issuer_key=ISSUER,
        kid=KID,
        holder_public_jwk=keypair_public_jwk(HOLDER),
        salt=counter_salt(b"derived"),
        iat=IAT,
        exp=IAT + 86_400,
        licence_period=(LICENCE["valid_from"], LICENCE["valid_until"]),
    )
    assert {("age_over_18",), ("licence_valid",), ("birthdate",), ("sub",)} <= (
        get_disclosable_paths(sd_jwt)
    )
    result = verify(show(sd_jwt, {"age_over_18", "licence_valid"}))
    assert result.claims == {
        "iss": ISS,
        "iat": IAT,
        "exp": IAT + 86_400,
        "cnf": {"jwk": keypair_public_jwk(HOLDER)},
        "age_over_18": True,
        "licence_valid": True,
    }
    with pytest.raises(SdJwtInvalidInput):
        issue_with_derived_claims(
            {**LICENCE, "age_over_18": True},
            on="2025-06-01",
            issuer_key=ISSUER,
            kid=KID,
            holder_public_jwk=keypair_public_jwk(HOLDER),
            salt=counter_salt(),
            iat=IAT,
            exp=EXP,
        )
