"""COSE_Sign1 (RFC 9052) and CWT claims (RFC 8392)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from govchain.credentials.cose import (
    ALG_EDDSA,
    ALG_ES256,
    ALG_PS256,
    CLAIM_GOVCHAIN,
    CLAIM_HCERT,
    CoseSign1,
    CwtClaims,
    compute_certificate_kid,
    compute_sig_structure,
    decode_cose_sign1,
    decode_cwt,
    encode_cose_sign1,
    encode_cwt,
    get_algorithm_for_key,
    load_certificate,
    sign_cose_sign1,
    verify_cose_sign1,
)
from govchain.credentials.errors import CredentialMalformed
from govchain.crypto.signing import ED25519, KeyPair, get_scheme

# RFC 9052 Appendix C.2.1: a single ECDSA (ES256) signature by key "11".
RFC_C21_MESSAGE = bytes.fromhex(
    "d28443a10126a10442313154546869732069732074686520636f6e74656e742e5840"
    "8eb33e4ca31d1c465ab05aac34cc6b23d58fef5c083106c4d25a91aef0b0117e"
    "2af9a291aa32e14ab834dc56ed2a223444547e01f11d3b0916e5a4c345cacb36"
)
RFC_C21_TO_BE_SIGNED = bytes.fromhex(
    "846a5369676e61747572653143a101264054546869732069732074686520636f6e74656e742e"
)
RFC_KEY_11 = ec.EllipticCurvePublicNumbers(
    int("bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff", 16),
    int("20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e", 16),
    ec.SECP256R1(),
).public_key()


def _ed25519(label: str) -> KeyPair:
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


def _p256(label: str) -> ec.EllipticCurvePrivateKey:
    secret = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (2**255)
    return ec.derive_private_key(secret, ec.SECP256R1())


def _self_signed(private: Any, public: Any, algorithm: hashes.SHA256 | None) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govchain test signer")])
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(private, algorithm)
    )
    return cert.public_bytes(Encoding.DER)


# --- the RFC example ----------------------------------------------------------------------------


def test_rfc9052_c21_decodes_and_verifies() -> None:
    msg = decode_cose_sign1(RFC_C21_MESSAGE)
    assert msg.alg == ALG_ES256
    assert msg.kid == b"11"
    assert msg.payload == b"This is the content."
    assert msg.to_be_signed() == RFC_C21_TO_BE_SIGNED
    assert verify_cose_sign1(msg, RFC_KEY_11)
    assert encode_cose_sign1(msg) == RFC_C21_MESSAGE


def test_rfc9052_c21_rejects_other_key_and_changed_payload() -> None:
    msg = decode_cose_sign1(RFC_C21_MESSAGE)
    assert not verify_cose_sign1(msg, _p256("other").public_key())
    changed = CoseSign1(
        msg.protected, msg.protected_header, msg.unprotected_header, b"This is the content!",
        msg.signature,
    )  # fmt: skip
    assert not verify_cose_sign1(changed, RFC_KEY_11)


def test_sig_structure_is_the_rfc_array() -> None:
    assert compute_sig_structure(b"\xa1\x01\x26", b"payload") == cbor2.dumps(
        ["Signature1", b"\xa1\x01\x26", b"", b"payload"]
    )


# --- signing and verifying ----------------------------------------------------------------------


def test_eddsa_round_trip_with_raw_key_cryptography_key_and_certificate() -> None:
    pair = _ed25519("issuer")
    msg = sign_cose_sign1(b"hello", pair, kid=b"k1")
    assert msg.alg == ALG_EDDSA and msg.kid == b"k1"
    decoded = decode_cose_sign1(encode_cose_sign1(msg))
    assert decoded == CoseSign1(msg.protected, {1: -8, 4: b"k1"}, {}, b"hello", msg.signature)
    assert verify_cose_sign1(decoded, pair.public_key)
    crypto_public = ed25519.Ed25519PublicKey.from_public_bytes(pair.public_key)
    assert verify_cose_sign1(decoded, crypto_public)
    crypto_private = ed25519.Ed25519PrivateKey.from_private_bytes(pair.seed)
    cert = load_certificate(_self_signed(crypto_private, crypto_public, None))
    assert verify_cose_sign1(decoded, cert)
    assert not verify_cose_sign1(decoded, _ed25519("someone else").public_key)


def test_es256_round_trip_is_deterministic_and_raw_r_s() -> None:
    key = _p256("issuer")
    first = sign_cose_sign1(b"hello", key, kid=b"k2")
    assert first == sign_cose_sign1(b"hello", key, kid=b"k2")  # RFC 6979 nonces
    assert first.alg == ALG_ES256 and len(first.signature) == 64
    assert verify_cose_sign1(decode_cose_sign1(encode_cose_sign1(first)), key.public_key())
    cert = load_certificate(_self_signed(key, key.public_key(), hashes.SHA256()))
    assert verify_cose_sign1(first, cert)
    assert not verify_cose_sign1(first, _p256("other").public_key())


def test_ps256_verifies_rsa_pss_signatures() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    protected = cbor2.dumps({1: ALG_PS256, 4: b"rsa"})
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    signature = key.sign(compute_sig_structure(protected, b"data"), pss, hashes.SHA256())
    msg = decode_cose_sign1(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"data", signature])))
    assert msg.alg == ALG_PS256
    assert verify_cose_sign1(msg, key.public_key())
    assert not verify_cose_sign1(msg, _p256("x").public_key())


def test_key_type_must_match_the_algorithm() -> None:
    pair, ec_key = _ed25519("a"), _p256("a")
    eddsa = sign_cose_sign1(b"x", pair, kid=b"k")
    es256 = sign_cose_sign1(b"x", ec_key, kid=b"k")
    assert not verify_cose_sign1(eddsa, ec_key.public_key())
    assert not verify_cose_sign1(es256, pair.public_key)
    p384 = ec.derive_private_key(7, ec.SECP384R1())
    assert not verify_cose_sign1(es256, p384.public_key())
    with pytest.raises(ValueError, match="P-256"):
        get_algorithm_for_key(p384)


def test_malformed_signatures_return_false() -> None:
    es256 = sign_cose_sign1(b"x", _p256("a"), kid=b"k")
    for signature in (b"", b"\x00" * 63, b"\xff" * 64, es256.signature + b"\x00"):
        bad = CoseSign1(es256.protected, es256.protected_header, {}, b"x", signature)
        assert not verify_cose_sign1(bad, _p256("a").public_key())
    eddsa = sign_cose_sign1(b"x", _ed25519("a"), kid=b"k")
    short = CoseSign1(eddsa.protected, eddsa.protected_header, {}, b"x", eddsa.signature[:10])
    assert not verify_cose_sign1(short, _ed25519("a").public_key)
    assert not verify_cose_sign1(eddsa, b"\x01\x02")  # not a 32-byte key


def test_unknown_or_missing_algorithm_does_not_verify() -> None:
    pair = _ed25519("a")
    for header in ({1: -35, 4: b"k"}, {4: b"k"}, {1: "EdDSA", 4: b"k"}):
        protected = cbor2.dumps(header)
        signature = pair.sign(compute_sig_structure(protected, b"x"))
        msg = decode_cose_sign1(cbor2.dumps([protected, {}, b"x", signature]))
        assert not verify_cose_sign1(msg, pair.public_key)


def test_protected_header_wins_over_unprotected() -> None:
    protected = cbor2.dumps({1: -8, 4: b"protected"})
    msg = decode_cose_sign1(cbor2.dumps([protected, {4: b"unprotected", 1: -7}, b"", b""]))
    assert msg.kid == b"protected" and msg.alg == ALG_EDDSA
    only_unprotected = decode_cose_sign1(cbor2.dumps([b"", {4: b"u", 1: -7}, b"", b""]))
    assert only_unprotected.kid == b"u" and only_unprotected.alg == ALG_ES256


# --- decoding -----------------------------------------------------------------------------------


def test_decode_accepts_untagged_tag18_and_cwt_tag61() -> None:
    msg = sign_cose_sign1(b"p", _ed25519("a"), kid=b"k")
    body = [msg.protected, {}, msg.payload, msg.signature]
    for wire in (
        cbor2.dumps(body),
        cbor2.dumps(cbor2.CBORTag(18, body)),
        cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, body))),
        encode_cose_sign1(msg, tagged=False),
    ):
        assert decode_cose_sign1(wire) == msg


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"\xff",
        cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""])),  # COSE_Sign, not COSE_Sign1
        cbor2.dumps([b"", {}, b""]),
        cbor2.dumps({"a": 1}),
        cbor2.dumps(["", {}, b"", b""]),
        cbor2.dumps([b"", [], b"", b""]),
        cbor2.dumps([b"", {}, None, b""]),  # detached payload
        cbor2.dumps([b"", {}, b"", "sig"]),
        cbor2.dumps([b"\xff", {}, b"", b""]),
        cbor2.dumps([cbor2.dumps([1]), {}, b"", b""]),
        cbor2.dumps([cbor2.dumps({4: "text kid"}), {}, b"", b""]),
        cbor2.dumps([b"", {1: True}, b"", b""]),
        cbor2.dumps([b"", {}, b"", b""]) + b"\x00",  # trailing bytes
        bytes.fromhex("8440a2040104024040"),  # duplicate key in a map
        bytes.fromhex("d81c84") + b"\x40\xa0\x40\xd8\x1d\x00",  # value sharing
    ],
)
def test_decode_rejects_malformed_messages(wire: bytes) -> None:
    with pytest.raises(CredentialMalformed) as info:
        decode_cose_sign1(wire)
    assert info.value.details == {"reason": "COSE_MALFORMED"}


def test_load_certificate_rejects_garbage() -> None:
    with pytest.raises(CredentialMalformed) as info:
        load_certificate(b"not a certificate")
    assert info.value.details == {"reason": "CERTIFICATE_MALFORMED"}


def test_certificate_kid_is_sha256_prefix() -> None:
    key = _p256("a")
    der = _self_signed(key, key.public_key(), hashes.SHA256())
    assert compute_certificate_kid(der) == hashlib.sha256(der).digest()[:8]
    assert compute_certificate_kid(load_certificate(der)) == compute_certificate_kid(der)


# --- CWT claims ---------------------------------------------------------------------------------


def test_cwt_round_trip_with_hcert_and_govchain_claims() -> None:
    claims = CwtClaims(
        iss="CN",
        sub="holder",
        iat=1_700_000_000,
        nbf=1_700_000_000,
        exp=1_700_086_400,
        hcert={"ver": "1.3.0", "nam": {"fn": "X"}},
        claims={"type": "HealthPass", "result": "negative"},
        extra={7: b"cti", "custom": 1},
    )
    wire = encode_cwt(claims)
    raw = cbor2.loads(wire)
    assert raw[1] == "CN" and raw[4] == 1_700_086_400 and raw[6] == 1_700_000_000
    assert raw[CLAIM_HCERT] == {1: {"ver": "1.3.0", "nam": {"fn": "X"}}}
    assert raw[CLAIM_GOVCHAIN] == {"type": "HealthPass", "result": "negative"}
    assert decode_cwt(wire) == claims
    assert encode_cwt(claims) == wire  # deterministic


def test_cwt_float_times_are_truncated() -> None:
    assert decode_cwt(cbor2.dumps({4: 1700000000.75})).exp == 1_700_000_000


@pytest.mark.parametrize(
    "raw",
    [
        [1, 2],
        "text",
        {1: 5},  # iss not text
        {2: b"sub"},
        {4: "tomorrow"},
        {6: True},
        {5: float("nan")},
        {4: float("inf")},
        {CLAIM_HCERT: "x"},
        {CLAIM_HCERT: {2: {}}},
        {CLAIM_HCERT: {1: [1]}},
        {CLAIM_GOVCHAIN: [1]},
        {CLAIM_GOVCHAIN: {1: "int key"}},
    ],
)
def test_cwt_rejects_malformed_claims(raw: Any) -> None:
    with pytest.raises(CredentialMalformed) as info:
        decode_cwt(cbor2.dumps(raw))
    assert info.value.details == {"reason": "CWT_MALFORMED"}


def test_cwt_rejects_invalid_cbor() -> None:
    for wire in (b"", b"\xa1\x01", cbor2.dumps({}) + b"\x00", b"\xc1\x1b" + b"\xff" * 8):
        with pytest.raises(CredentialMalformed):
            decode_cwt(wire)
