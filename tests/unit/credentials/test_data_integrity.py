"""Data Integrity proofs (eddsa-jcs-2022): creation, every verification check, Multikey."""

from __future__ import annotations

import copy
import hashlib
import inspect
from typing import Any

import pytest
import rfc8785

from govchain.credentials import data_integrity as di
from govchain.credentials import errors
from govchain.credentials.errors import (
    BadCredentialProof,
    CredentialMalformed,
    KeyResolutionFailed,
    NotCanonicalizable,
    UnsupportedCryptosuite,
)
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import GovchainError, error_class_for_code

ISSUER = get_scheme(ED25519).from_seed(hashlib.sha256(b"issuer").digest())
OTHER = get_scheme(ED25519).from_seed(hashlib.sha256(b"other").digest())
METHOD = di.get_did_key_verification_method(ISSUER.public_key)
CREATED = "2025-03-01T08:00:00Z"
_SIG = "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"


def _credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0f5d3a4e-1c2b-4d5e-8f90-123456789abc",
        "type": ["VerifiableCredential", "BusinessLicence"],
        "issuer": "did:govchain:city:market",
        "validFrom": "2025-03-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:govchain:city:acme",
            "name": "艾克米有限公司",
            "staff": 12,
        },
    }


def _signed(**options: Any) -> dict[str, Any]:
    return di.create_proof(
        _credential(), signer=ISSUER, verification_method=METHOD, created=CREATED, **options
    )


def _failure(secured: Any, **kwargs: Any) -> di.ProofCheck:
    kwargs.setdefault("resolve_key", di.resolve_did_key)
    result = di.verify_proof(secured, **kwargs)
    assert not result.verified
    failed = result.failure
    assert failed is not None
    names = [c.name for c in result.checks]
    assert names == list(di.CHECK_NAMES)
    position = names.index(failed.name)
    assert all(c.status == "passed" for c in result.checks[:position])
    assert all(c.status == "skipped" for c in result.checks[position + 1 :])
    return failed


# --- creation and the happy path -----------------------------------------------------------------


def test_sign_then_verify() -> None:
    secured = _signed()
    result = di.verify_proof(secured, resolve_key=di.resolve_did_key)
    assert result.verified
    assert [c.status for c in result.checks] == ["passed"] * len(di.CHECK_NAMES)
    assert result.verification_method == METHOD
    assert result.failure is None and result.to_error() is None
    result.raise_for_failure()


def test_the_proof_has_the_expected_shape_and_order() -> None:
    proof = _signed()["proof"]
    assert list(proof) == [
        "type",
        "cryptosuite",
        "created",
        "verificationMethod",
        "proofPurpose",
        "@context",
        "proofValue",
    ]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["@context"] == _credential()["@context"]
    assert len(di.decode_proof_value(proof["proofValue"])) == 64


def test_signing_is_deterministic_and_leaves_the_input_alone() -> None:
    document = _credential()
    before = copy.deepcopy(document)
    one = di.create_proof(document, signer=ISSUER, verification_method=METHOD, created=CREATED)
    two = di.create_proof(document, signer=ISSUER, verification_method=METHOD, created=CREATED)
    assert one == two
    assert document == before


def test_optional_proof_fields_are_signed() -> None:
    secured = _signed(
        proof_id="urn:proof:1",
        domain="city.gov",
        challenge="c-1",
        nonce="n-1",
        expires="2026-01-01T00:00:00Z",
    )
    proof = secured["proof"]
    assert proof["id"] == "urn:proof:1" and list(proof)[0] == "id"
    assert (proof["domain"], proof["challenge"], proof["nonce"]) == ("city.gov", "c-1", "n-1")
    assert di.verify_proof(secured, resolve_key=di.resolve_did_key).verified
    secured["proof"]["challenge"] = "c-2"
    assert _failure(secured).name == "signature"


def test_a_document_without_context_is_signed_without_proof_context() -> None:
    secured = di.create_proof(
        {"title": "plain JSON"}, signer=ISSUER, verification_method=METHOD, created=None
    )
    assert "@context" not in secured["proof"] and "created" not in secured["proof"]
    assert di.verify_proof(secured, resolve_key=di.resolve_did_key).verified


def test_hash_data_is_two_sha256_hashes() -> None:
    secured = _signed()
    options = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    expected = (
        hashlib.sha256(rfc8785.dumps(options)).digest()
        + hashlib.sha256(rfc8785.dumps(_credential())).digest()
    )
    assert di.compute_hash_data(options, _credential()) == expected
    signature = di.decode_proof_value(secured["proof"]["proofValue"])
    assert get_scheme(ED25519).verify(ISSUER.public_key, expected, signature)


@pytest.mark.parametrize(
    ("document", "kwargs", "error"),
    [
        ({**_credential(), "proof": {}}, {}, CredentialMalformed),
        (["not", "an", "object"], {}, CredentialMalformed),
        ({**_credential(), "amount": 1.5}, {}, NotCanonicalizable),
        (_credential(), {"created": "yesterday"}, CredentialMalformed),
        (_credential(), {"expires": "2026-01-01"}, CredentialMalformed),
        (_credential(), {"signer": KeyPair("sm2", b"s" * 32, b"p" * 32)}, UnsupportedCryptosuite),
    ],
    ids=["has-proof", "not-object", "float", "bad-created", "bad-expires", "other-scheme"],
)
def test_create_refuses(document: Any, kwargs: dict[str, Any], error: type[Exception]) -> None:
    options: dict[str, Any] = {"signer": ISSUER, "verification_method": METHOD, "created": CREATED}
    options.update(kwargs)
    with pytest.raises(error):
        di.create_proof(document, **options)


# --- each verification failure ------------------------------------------------------------------


def test_a_changed_claim_fails_the_signature_check() -> None:
    secured = _signed()
    secured["credentialSubject"]["staff"] = 13
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("signature", "CRED_BAD_PROOF")
    assert "does not match" in failed.reason


def test_a_changed_proof_option_fails_the_signature_check() -> None:
    secured = _signed()
    secured["proof"]["created"] = "2025-03-02T08:00:00Z"
    assert _failure(secured).name == "signature"


def test_the_wrong_key_fails_the_signature_check() -> None:
    failed = _failure(_signed(), resolve_key=lambda _method: OTHER.public_key)
    assert (failed.name, failed.code) == ("signature", "CRED_BAD_PROOF")


def test_a_key_that_is_not_a_curve_point_is_named() -> None:
    failed = _failure(_signed(), resolve_key=lambda _method: b"\x02" + b"\x00" * 31)
    assert failed.name == "signature"


def test_a_signature_by_another_key_under_the_issuers_method_fails() -> None:
    forged = di.create_proof(
        _credential(), signer=OTHER, verification_method=METHOD, created=CREATED
    )
    assert _failure(forged).name == "signature"


@pytest.mark.parametrize(
    "proof_value",
    [
        None,
        42,
        "",
        "z",
        "not-multibase",
        "u" + "A" * 86,
        "z0OIl" + "1" * 80,
        "z" + "2" * 10,
        _SIG + " ",
        _SIG + "X",
        "z" + "é" * 86,
    ],
    ids=[
        "missing",
        "number",
        "empty",
        "prefix-only",
        "text",
        "base64url",
        "bad-alphabet",
        "too-short",
        "trailing-space",
        "too-long",
        "non-ascii",
    ],
)
def test_a_garbage_proof_value_fails_the_proof_check(proof_value: Any) -> None:
    secured = _signed()
    if proof_value is None:
        del secured["proof"]["proofValue"]
    else:
        secured["proof"]["proofValue"] = proof_value
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("proof", "CRED_MALFORMED")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("proof"),
        lambda d: d.update(proof=[d["proof"], d["proof"]]),
        lambda d: d.update(proof="z123"),
        lambda d: d["proof"].pop("verificationMethod"),
        lambda d: d["proof"].update(proofPurpose=7),
        lambda d: d["proof"].pop("type"),
        lambda d: d["proof"].update(created="2025-02-30T00:00:00Z"),
        lambda d: d["proof"].update(expires="soon"),
    ],
    ids=[
        "no-proof",
        "proof-set",
        "proof-string",
        "no-method",
        "purpose-number",
        "no-type",
        "bad-created",
        "bad-expires",
    ],
)
def test_malformed_proofs_fail_the_proof_check(mutate: Any) -> None:
    secured = _signed()
    mutate(secured)
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("proof", "CRED_MALFORMED")


def test_a_secured_document_that_is_not_an_object() -> None:
    assert _failure("{}").name == "proof"


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "Ed25519Signature2020"), ("cryptosuite", "eddsa-rdfc-2022"), ("cryptosuite", None)],
)
def test_another_cryptosuite_is_unsupported(field: str, value: Any) -> None:
    secured = _signed()
    if value is None:
        del secured["proof"][field]
    else:
        secured["proof"][field] = value
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("cryptosuite", "CRED_UNSUPPORTED_CRYPTOSUITE")
    result = di.verify_proof(secured, resolve_key=di.resolve_did_key)
    with pytest.raises(UnsupportedCryptosuite):
        result.raise_for_failure()


def test_the_proof_purpose_must_be_the_expected_one() -> None:
    secured = _signed(proof_purpose="authentication")
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("purpose", "CRED_BAD_PROOF")
    assert di.verify_proof(secured, resolve_key=di.resolve_did_key, expected_purpose=None).verified
    assert di.verify_proof(
        secured, resolve_key=di.resolve_did_key, expected_purpose="authentication"
    ).verified


def test_a_mismatched_context_fails_the_context_check() -> None:
    secured = _signed()
    secured["@context"] = ["https://www.w3.org/ns/credentials/v2-evil"]
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("context", "CRED_BAD_PROOF")
    secured = _signed()
    secured["proof"]["@context"] = [*secured["@context"], "https://example.org/extra"]
    assert _failure(secured).name == "context"


def test_contexts_appended_after_the_proofs_are_outside_the_signature() -> None:
    # As the cryptosuite specifies: the document's @context must start with the proof's, and the
    # proof's is what is verified. (The anchored credential hash still changes.)
    secured = _signed()
    secured["@context"] = [*secured["@context"], "https://example.org/extra"]
    assert di.verify_proof(secured, resolve_key=di.resolve_did_key).verified


def test_floats_fail_the_canonical_check_unless_allowed() -> None:
    document = {**_credential(), "fee": 12.5}
    options = {
        "type": di.PROOF_TYPE,
        "cryptosuite": di.CRYPTOSUITE,
        "verificationMethod": METHOD,
        "proofPurpose": "assertionMethod",
        "@context": document["@context"],
    }
    hash_data = (
        hashlib.sha256(rfc8785.dumps(options)).digest()
        + hashlib.sha256(rfc8785.dumps(document)).digest()
    )
    secured = {
        **document,
        "proof": {**options, "proofValue": di.encode_proof_value(ISSUER.sign(hash_data))},
    }
    failed = _failure(secured)
    assert (failed.name, failed.code) == ("canonical", "CRED_NOT_CANONICALIZABLE")
    assert "$.fee" in failed.reason
    allowed = di.verify_proof(secured, resolve_key=di.resolve_did_key, allow_floats=True)
    assert allowed.verified


@pytest.mark.parametrize(
    "resolver",
    [
        lambda _m: (_ for _ in ()).throw(KeyError("unknown")),
        lambda _m: (_ for _ in ()).throw(KeyResolutionFailed("revoked key")),
        lambda _m: b"short",
        lambda _m: "not bytes",
    ],
    ids=["key-error", "typed-error", "short-key", "not-bytes"],
)
def test_an_unresolvable_key_fails_the_key_check(resolver: Any) -> None:
    failed = _failure(_signed(), resolve_key=resolver)
    assert (failed.name, failed.code) == ("key", "CRED_KEY_UNRESOLVED")


def test_errors_map_to_their_classes() -> None:
    secured = _signed()
    secured["credentialSubject"]["name"] = "someone else"
    result = di.verify_proof(secured, resolve_key=di.resolve_did_key)
    error = result.to_error()
    assert isinstance(error, BadCredentialProof)
    assert error.details == {"check": "signature"}
    with pytest.raises(BadCredentialProof, match="signature check failed"):
        result.raise_for_failure()
    result = di.verify_proof({"no": "proof"}, resolve_key=di.resolve_did_key)
    with pytest.raises(CredentialMalformed):
        result.raise_for_failure()
    assert result.verification_method is None


# --- Multikey and did:key -------------------------------------------------------------------------


def test_multikey_round_trips() -> None:
    encoded = di.encode_public_key_multibase(ISSUER.public_key)
    assert encoded.startswith("z6Mk")
    assert di.decode_public_key_multibase(encoded) == ISSUER.public_key
    secret = di.encode_secret_key_multibase(ISSUER.seed)
    assert secret.startswith("z3u2")
    assert di.decode_secret_key_multibase(secret) == ISSUER.seed


@pytest.mark.parametrize(
    "value",
    [
        "",
        "6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",  # a secret key, not a public one
        "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ",
        "zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76",  # a P-256 key
    ],
)
def test_bad_public_multikeys_are_refused(value: str) -> None:
    with pytest.raises(CredentialMalformed):
        di.decode_public_key_multibase(value)


def test_bad_secret_multikeys_are_refused() -> None:
    with pytest.raises(CredentialMalformed):
        di.decode_secret_key_multibase(di.encode_public_key_multibase(ISSUER.public_key))
    with pytest.raises(ValueError):
        di.encode_secret_key_multibase(b"short")
    with pytest.raises(ValueError):
        di.encode_public_key_multibase(b"short")


def test_did_key_resolution() -> None:
    multikey = di.encode_public_key_multibase(ISSUER.public_key)
    assert f"did:key:{multikey}#{multikey}" == METHOD
    assert di.resolve_did_key(METHOD) == ISSUER.public_key
    assert di.resolve_did_key(f"did:key:{multikey}") == ISSUER.public_key
    other = di.encode_public_key_multibase(OTHER.public_key)
    for bad in (f"did:key:{multikey}#{other}", "did:web:example.org#key-1", "did:key:zQ3abc"):
        with pytest.raises(KeyResolutionFailed):
            di.resolve_did_key(bad)


def test_proof_values_round_trip_with_leading_zero_bytes() -> None:
    for raw in (b"\x00" * 64, b"\x00\x00" + b"\xff" * 62, bytes(range(64))):
        assert di.decode_proof_value(di.encode_proof_value(raw)) == raw


# --- the error family ----------------------------------------------------------------------------


def test_the_credential_error_family() -> None:
    classes = [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.CredentialError) and obj.__module__ == errors.__name__
    ]
    assert len(classes) >= 12
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes)
    for cls in classes:
        assert issubclass(cls, GovchainError)
        assert cls.__name__ in errors.__all__ and cls.__name__ in (errors.__doc__ or "")
        assert cls.code.startswith("CRED_") and cls.code in (errors.__doc__ or "")
        assert 400 <= cls.status < 500
        assert cls.title[0].isupper() and cls.default_hint.endswith(".")
        assert error_class_for_code(cls.code) is cls
    for code in (
        "CRED_MALFORMED",
        "CRED_BAD_PROOF",
        "CRED_UNSUPPORTED_CRYPTOSUITE",
        "CRED_SCHEMA_INVALID",
        "CRED_EXPIRED",
        "CRED_NOT_YET_VALID",
        "CRED_STATUS_LIST_INVALID",
    ):
        assert code in codes
