"""The compact QR container: encode, render, decode step by step, and reject every tampering."""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import base45  # type: ignore[import-untyped]
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govchain.credentials.cose import (
    CoseSign1,
    CoseVerificationKey,
    CwtClaims,
    compute_sig_structure,
    decode_cose_sign1,
    encode_cose_sign1,
    sign_cose_sign1,
)
from govchain.credentials.errors import QrInvalid
from govchain.credentials.qr import (
    MAX_DECOMPRESSED_SIZE,
    QR_BAD_BASE45,
    QR_BAD_CBOR,
    QR_BAD_COMPRESSION,
    QR_BAD_COSE,
    QR_BAD_PREFIX,
    QR_BAD_SIGNATURE,
    QR_EXPIRED,
    QR_NOT_YET_VALID,
    QR_REASONS,
    QR_TOO_LARGE,
    QR_UNKNOWN_KID,
    QR_UNSUPPORTED_ALG,
    DecodedQr,
    QrStep,
    StepStatus,
    decode_qr_payload,
    encode_qr_payload,
)
from govchain.credentials.qr_render import (
    make_qr_code,
    render_qr_png,
    render_qr_svg,
    render_qr_terminal,
)
from govchain.crypto.signing import ED25519, KeyPair, get_scheme

ISSUED = 1_767_225_600  # 2026-01-01T00:00:00Z
VALID_FOR = 72 * 3600
BASE45_ALPHABET = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

ED_KEY: KeyPair = get_scheme(ED25519).from_seed(hashlib.sha256(b"health bureau").digest())
EC_KEY = ec.derive_private_key(
    int.from_bytes(hashlib.sha256(b"health bureau p256").digest(), "big") % 2**255,
    ec.SECP256R1(),
)
ED_KID, EC_KID = b"hb-ed-1", b"hb-ec-1"
TRUST: dict[bytes, CoseVerificationKey] = {ED_KID: ED_KEY.public_key, EC_KID: EC_KEY.public_key()}


def health_pass(**overrides: Any) -> CwtClaims:
    fields: dict[str, Any] = {
        "iss": "did:govchain:org:health-bureau",
        "iat": ISSUED,
        "exp": ISSUED + VALID_FOR,
        "claims": {
            "type": "HealthPass",
            "nameHash": hashlib.sha256(b"ZHANG San|1990-01-01").hexdigest(),
            "testResult": "negative",
            "testType": "PCR",
            "validUntil": "2026-01-04T00:00:00Z",
        },
    }
    fields.update(overrides)
    return CwtClaims(**fields)


def decode(text: Any, now: int | None = ISSUED + 60, **kwargs: Any) -> DecodedQr:
    return decode_qr_payload(text, key_or_cert_resolver=TRUST, now=now, **kwargs)


def statuses(result: DecodedQr) -> dict[str, str]:
    return {str(s.step): str(s.status) for s in result.steps}


def assert_fails(result: DecodedQr, reason: str, step: QrStep) -> None:
    assert not result.ok
    failure = result.failure
    assert failure is not None
    assert (failure.reason, failure.step) == (reason, step), failure
    assert failure.message
    order = list(QrStep)
    for later in order[order.index(step) + 1 :]:
        assert result.get_step(later).status is StepStatus.SKIPPED


def repack(cose: CoseSign1, prefix: str = "HC1:") -> str:
    packed: bytes = base45.b45encode(zlib.compress(encode_cose_sign1(cose)))
    return prefix + packed.decode()


def signed_payload(payload: bytes, header: dict[int, Any], key: KeyPair = ED_KEY) -> str:
    protected = cbor2.dumps(header)
    signature = key.sign(compute_sig_structure(protected, payload))
    return repack(CoseSign1(protected, header, {}, payload, signature))


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize(("signer", "kid"), [(ED_KEY, ED_KID), (EC_KEY, EC_KID)])
def test_round_trip_encode_render_decode_verify(signer: Any, kid: bytes) -> None:
    claims = health_pass()
    text = encode_qr_payload(claims, signer, kid)
    assert text.startswith("HC1:") and set(text[4:]) <= BASE45_ALPHABET
    assert encode_qr_payload(claims, signer, kid) == text  # deterministic, ES256 included
    assert make_qr_code(text).mode == "alphanumeric"
    assert render_qr_png(text).startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in render_qr_svg(text)
    assert render_qr_terminal(text).count("\n") > 10
    assert "\x1b[" in render_qr_terminal(text, compact=False)

    result = decode(text)
    assert result.ok and result.reason is None
    assert set(statuses(result).values()) == {"passed"}
    assert result.claims == claims
    assert result.kid == kid and result.prefix == "HC1:"
    assert result.require_valid() == claims


def test_resolver_may_be_a_callable_or_a_certificate_source() -> None:
    text = encode_qr_payload(health_pass(), ED_KEY, ED_KID)
    seen: list[bytes] = []

    def resolver(kid: bytes) -> CoseVerificationKey | None:
        seen.append(kid)
        return TRUST.get(kid)

    assert decode_qr_payload(text, key_or_cert_resolver=resolver).ok
    assert seen == [ED_KID]


def test_dcc_hcert_claims_round_trip() -> None:
    claims = CwtClaims(iss="CN", iat=ISSUED, exp=ISSUED + 10, hcert={"ver": "1.3.0", "t": []})
    assert decode(encode_qr_payload(claims, EC_KEY, EC_KID)).claims == claims


def test_other_prefixes() -> None:
    text = encode_qr_payload(health_pass(), ED_KEY, ED_KID, prefix="GC1:")
    assert decode(text, prefixes=("GC1:",)).ok
    assert_fails(decode(text), QR_BAD_PREFIX, QrStep.UNPREFIX)


def test_without_a_clock_the_expiry_step_is_skipped() -> None:
    text = encode_qr_payload(health_pass(exp=1), ED_KEY, ED_KID)
    result = decode(text, now=None)
    assert result.ok
    assert result.get_step(QrStep.EXPIRY).status is StepStatus.SKIPPED


# --- every tampering has its reason -------------------------------------------------------------


def test_expired_and_not_yet_valid() -> None:
    text = encode_qr_payload(health_pass(), ED_KEY, ED_KID)
    assert_fails(decode(text, now=ISSUED + VALID_FOR), QR_EXPIRED, QrStep.EXPIRY)
    assert_fails(decode(text, now=ISSUED - 1), QR_NOT_YET_VALID, QrStep.EXPIRY)
    assert decode(text, now=ISSUED - 30, leeway=60).ok
    assert decode(text, now=ISSUED + VALID_FOR - 1).ok
    nbf = encode_qr_payload(health_pass(nbf=ISSUED + 100), ED_KEY, ED_KID)
    assert_fails(decode(nbf, now=ISSUED + 50), QR_NOT_YET_VALID, QrStep.EXPIRY)
    with pytest.raises(QrInvalid) as info:
        decode(text, now=ISSUED + VALID_FOR).require_valid()
    assert info.value.details == {"reason": QR_EXPIRED, "step": "expiry"}
    assert info.value.code == "CRED_QR_INVALID"


def test_wrong_key_and_unknown_kid() -> None:
    text = encode_qr_payload(health_pass(), ED_KEY, ED_KID)
    other = get_scheme(ED25519).from_seed(b"\x07" * 32)
    wrong = decode_qr_payload(text, key_or_cert_resolver={ED_KID: other.public_key})
    assert_fails(wrong, QR_BAD_SIGNATURE, QrStep.VERIFY)
    es256_key_for_eddsa = decode_qr_payload(text, key_or_cert_resolver={ED_KID: TRUST[EC_KID]})
    assert_fails(es256_key_for_eddsa, QR_BAD_SIGNATURE, QrStep.VERIFY)
    assert_fails(decode_qr_payload(text, key_or_cert_resolver={}), QR_UNKNOWN_KID, QrStep.VERIFY)
    unknown = encode_qr_payload(health_pass(), ED_KEY, b"rotated-out")
    assert_fails(decode(unknown), QR_UNKNOWN_KID, QrStep.VERIFY)


def test_changed_claim_breaks_the_signature() -> None:
    text = encode_qr_payload(health_pass(), ED_KEY, ED_KID)
    cose = decode(text).cose
    assert cose is not None
    forged = cbor2.loads(cose.payload)
    forged[-65537]["testResult"] = "positive"
    changed = CoseSign1(
        cose.protected, cose.protected_header, {}, cbor2.dumps(forged), cose.signature
    )
    assert_fails(decode(repack(changed)), QR_BAD_SIGNATURE, QrStep.VERIFY)
    # A kid swapped in the unprotected header does not override the protected one.
    moved = CoseSign1(
        cose.protected, cose.protected_header, {4: b"x"}, cose.payload, cose.signature
    )
    assert decode(repack(moved)).ok


def test_every_flipped_character_is_rejected() -> None:
    text = encode_qr_payload(health_pass(), ED_KEY, ED_KID)
    reasons = set()
    for i, char in enumerate(text):
        flipped = "B" if char != "B" else "C"
        result = decode(text[:i] + flipped + text[i + 1 :])
        assert not result.ok, i
        reasons.add(result.reason)
    # zlib's Adler-32 catches what Base45 does not; the prefix catches the first four.
    assert reasons <= {QR_BAD_PREFIX, QR_BAD_BASE45, QR_BAD_COMPRESSION}
    assert {QR_BAD_PREFIX, QR_BAD_COMPRESSION} <= reasons


def test_every_truncation_is_rejected() -> None:
    text = encode_qr_payload(health_pass(), EC_KEY, EC_KID)
    for length in range(len(text)):
        result = decode(text[:length])
        assert not result.ok, length
        assert result.reason in {QR_BAD_PREFIX, QR_BAD_BASE45, QR_BAD_COMPRESSION}
    assert_fails(decode(text[:-30]), QR_BAD_COMPRESSION, QrStep.DECOMPRESS)
    assert_fails(decode(text[:-1]), QR_BAD_BASE45, QrStep.BASE45)  # a lone Base45 character


def test_base45_errors() -> None:
    assert_fails(decode("HC1:"), QR_BAD_BASE45, QrStep.BASE45)
    assert_fails(decode("HC1:abc"), QR_BAD_BASE45, QrStep.BASE45)  # lower case
    assert_fails(decode("HC1:GGW"), QR_BAD_BASE45, QrStep.BASE45)  # 3-char group > 0xFFFF
    assert_fails(decode("HC1:ABC\n"), QR_BAD_BASE45, QrStep.BASE45)


def test_prefix_and_size_errors() -> None:
    assert_fails(decode(b"HC1:ABC"), QR_BAD_PREFIX, QrStep.UNPREFIX)
    assert_fails(decode(None), QR_BAD_PREFIX, QrStep.UNPREFIX)
    assert_fails(decode("hc1:ABC"), QR_BAD_PREFIX, QrStep.UNPREFIX)
    assert_fails(decode("HC1:" + "0" * 9000), QR_TOO_LARGE, QrStep.UNPREFIX)


def test_compression_errors() -> None:
    cose = decode(encode_qr_payload(health_pass(), ED_KEY, ED_KID)).cose_bytes
    assert cose is not None
    packed = zlib.compress(cose)
    for data in (cose, packed + b"\x00", packed[:-2], zlib.compress(b"\x00" * 10**6)):
        result = decode("HC1:" + base45.b45encode(data).decode())
        assert_fails(result, QR_BAD_COMPRESSION, QrStep.DECOMPRESS)
    assert MAX_DECOMPRESSED_SIZE < 10**6


def test_cose_errors() -> None:
    for body in (cbor2.dumps([1, 2]), cbor2.dumps(cbor2.CBORTag(98, [])), b"\xff"):
        result = decode("HC1:" + base45.b45encode(zlib.compress(body)).decode())
        assert_fails(result, QR_BAD_COSE, QrStep.COSE)


def test_algorithm_and_kid_errors() -> None:
    unsupported = signed_payload(cbor2.dumps({}), {1: -35, 4: ED_KID})
    assert_fails(decode(unsupported), QR_UNSUPPORTED_ALG, QrStep.VERIFY)
    no_alg = signed_payload(cbor2.dumps({}), {4: ED_KID})
    assert_fails(decode(no_alg), QR_UNSUPPORTED_ALG, QrStep.VERIFY)
    no_kid = signed_payload(cbor2.dumps({}), {1: -8})
    assert_fails(decode(no_kid), QR_UNKNOWN_KID, QrStep.VERIFY)


def test_signed_but_malformed_claims() -> None:
    for payload in (b"\xff", cbor2.dumps([1]), cbor2.dumps({4: "soon"})):
        result = decode(signed_payload(payload, {1: -8, 4: ED_KID}))
        assert_fails(result, QR_BAD_CBOR, QrStep.CLAIMS)
        assert result.get_step(QrStep.VERIFY).status is StepStatus.PASSED


def test_es256_signature_checked_too() -> None:
    text = encode_qr_payload(health_pass(), EC_KEY, EC_KID)
    cose = decode(text).cose
    assert cose is not None
    bad = bytes([cose.signature[0] ^ 1]) + cose.signature[1:]
    tampered = CoseSign1(cose.protected, cose.protected_header, {}, cose.payload, bad)
    assert_fails(decode(repack(tampered)), QR_BAD_SIGNATURE, QrStep.VERIFY)
    assert decode_cose_sign1(encode_cose_sign1(sign_cose_sign1(b"", EC_KEY, kid=b"k"))).alg == -7


# --- never an unhandled exception ---------------------------------------------------------------

VALID_TEXTS = [
    encode_qr_payload(health_pass(), ED_KEY, ED_KID),
    encode_qr_payload(health_pass(), EC_KEY, EC_KID),
]


def _check_well_formed(result: DecodedQr) -> None:
    assert [s.step for s in result.steps] == list(QrStep)
    failed = [s for s in result.steps if s.status is StepStatus.FAILED]
    assert len(failed) <= 1
    if failed:
        assert result.reason in QR_REASONS
        index = result.steps.index(failed[0])
        assert all(s.status is StepStatus.SKIPPED for s in result.steps[index + 1 :])
        assert all(s.status is StepStatus.PASSED for s in result.steps[:index])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=600))
def test_fuzz_random_text(text: str) -> None:
    _check_well_formed(decode(text))
    _check_well_formed(decode("HC1:" + text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="".join(sorted(BASE45_ALPHABET)), max_size=600))
def test_fuzz_base45_text(text: str) -> None:
    _check_well_formed(decode("HC1:" + text))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_fuzz_random_bytes_behind_each_layer(data: bytes, compress: bool) -> None:
    body = zlib.compress(data) if compress else data
    _check_well_formed(decode("HC1:" + base45.b45encode(body).decode()))
    inner = encode_cose_sign1(CoseSign1(b"\xa2\x01\x27\x04\x47" + ED_KID, {}, {}, data, b""))
    _check_well_formed(decode("HC1:" + base45.b45encode(zlib.compress(inner)).decode()))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(VALID_TEXTS),
    st.lists(st.tuples(st.integers(0, 10_000), st.characters(max_codepoint=0x2FF)), max_size=4),
    st.integers(0, 10_000),
)
def test_fuzz_corrupted_and_truncated(text: str, edits: list[tuple[int, str]], cut: int) -> None:
    chars = list(text)
    for position, char in edits:
        chars[position % len(chars)] = char
    corrupted = "".join(chars)[: len(chars) - cut % len(chars)]
    result = decode(corrupted)
    _check_well_formed(result)
    if corrupted != text:
        assert not result.ok


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.integers(), inner),
                    max_leaves=20))  # fmt: skip
def test_fuzz_signed_arbitrary_cbor_claims(value: Any) -> None:
    result = decode(signed_payload(cbor2.dumps(value), {1: -8, 4: ED_KID}))
    _check_well_formed(result)
    assert result.ok or result.reason in {QR_BAD_CBOR, QR_EXPIRED, QR_NOT_YET_VALID}


def test_reason_set_is_complete() -> None:
    assert {
        QR_BAD_PREFIX, QR_TOO_LARGE, QR_BAD_BASE45, QR_BAD_COMPRESSION, QR_BAD_COSE,
        QR_UNSUPPORTED_ALG, QR_UNKNOWN_KID, QR_BAD_SIGNATURE, QR_BAD_CBOR, QR_EXPIRED,
        QR_NOT_YET_VALID,
    } == QR_REASONS  # fmt: skip
