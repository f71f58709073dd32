"""W3C vc-di-eddsa conformance: signing the published credential with the published key and proof
configuration reproduces the published signed credential, through every intermediate value; and
the tampered forms each fail with their specific reason.

The vectors live in ``shared/vectors/vc-di-eddsa`` beside the project (W3C test data, read-only).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from govchain.credentials import data_integrity as di
from govchain.credentials.jcs import canonicalize
from govchain.credentials.vc import check_credential, compute_credential_id
from govchain.crypto.signing import ED25519, KeyPair, get_scheme


def _project_root() -> Path:
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "pyproject.toml").is_file())


VECTORS = _project_root().parent / "shared" / "vectors" / "vc-di-eddsa"
JCS = VECTORS / "eddsa-jcs-2022"

pytestmark = pytest.mark.skipif(
    not (JCS / "signedJCS.json").is_file(),
    reason=f"W3C vc-di-eddsa vectors not found at {VECTORS} (shared/vectors/vc-di-eddsa)",
)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(name: str) -> str:
    return (JCS / name).read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def key_pair() -> KeyPair:
    published = _json(VECTORS / "keyPair.json")
    seed = di.decode_secret_key_multibase(published["privateKeyMultibase"])
    pair = get_scheme(ED25519).from_seed(seed)
    assert di.encode_public_key_multibase(pair.public_key) == published["publicKeyMultibase"]
    assert di.decode_public_key_multibase(published["publicKeyMultibase"]) == pair.public_key
    return pair


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    data: dict[str, Any] = _json(JCS / "signedJCS.json")
    return data


@pytest.fixture(scope="module")
def unsigned(signed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in signed.items() if k != "proof"}


@pytest.fixture(scope="module")
def proof_config() -> dict[str, Any]:
    data: dict[str, Any] = _json(JCS / "proofConfigJCS.json")
    return data


def _sign(document: dict[str, Any], key_pair: KeyPair, config: dict[str, Any]) -> dict[str, Any]:
    return di.create_proof(
        document,
        signer=key_pair,
        verification_method=config["verificationMethod"],
        proof_purpose=config["proofPurpose"],
        created=config["created"],
    )


# --- reproduction, step by step ------------------------------------------------------------------


def test_canonical_document(unsigned: dict[str, Any]) -> None:
    assert canonicalize(unsigned).decode("utf-8") == _text("canonDocJCS.txt")


def test_canonical_proof_configuration(proof_config: dict[str, Any]) -> None:
    assert canonicalize(proof_config).decode("utf-8") == _text("proofCanonJCS.txt")


def test_hashes(unsigned: dict[str, Any], proof_config: dict[str, Any]) -> None:
    doc_hash = hashlib.sha256(canonicalize(unsigned)).hexdigest()
    proof_hash = hashlib.sha256(canonicalize(proof_config)).hexdigest()
    assert doc_hash == _text("docHashJCS.txt")
    assert proof_hash == _text("proofHashJCS.txt")
    combined = di.compute_hash_data(proof_config, unsigned).hex()
    assert combined == _text("combinedHashJCS.txt") == proof_hash + doc_hash


def test_signature(
    key_pair: KeyPair, unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    signature = key_pair.sign(di.compute_hash_data(proof_config, unsigned))
    assert signature.hex() == _text("sigHexJCS.txt")
    assert di.encode_proof_value(signature) == _text("sigBTC58JCS.txt")
    assert di.decode_proof_value(_text("sigBTC58JCS.txt")) == signature


def test_the_signed_credential_is_reproduced_exactly(
    key_pair: KeyPair,
    unsigned: dict[str, Any],
    signed: dict[str, Any],
    proof_config: dict[str, Any],
) -> None:
    produced = _sign(unsigned, key_pair, proof_config)
    assert produced == signed
    assert {k: v for k, v in produced["proof"].items() if k != "proofValue"} == proof_config
    # Same keys in the same order: written out like the published file, it is the same text.
    published = (JCS / "signedJCS.json").read_text(encoding="utf-8")
    assert json.dumps(produced, indent=2, ensure_ascii=False) == published.rstrip("\n")
    assert compute_credential_id(produced) == compute_credential_id(signed)


def test_the_published_credential_verifies(signed: dict[str, Any]) -> None:
    result = di.verify_proof(signed, resolve_key=di.resolve_did_key)
    assert result.verified, result.failure
    assert [c.name for c in result.checks] == list(di.CHECK_NAMES)
    check_credential(signed)


# --- tampering -----------------------------------------------------------------------------------


def _failed(document: dict[str, Any], **kwargs: Any) -> di.ProofCheck:
    kwargs.setdefault("resolve_key", di.resolve_did_key)
    result = di.verify_proof(document, **kwargs)
    assert not result.verified
    failure = result.failure
    assert failure is not None
    return failure


def test_a_changed_claim_is_rejected(signed: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    failure = _failed(tampered)
    assert (failure.name, failure.code) == ("signature", "CRED_BAD_PROOF")


def test_a_changed_validity_is_rejected(signed: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed)
    tampered["validFrom"] = "2020-01-01T00:00:00Z"
    assert _failed(tampered).name == "signature"


def test_a_wrong_key_is_rejected(signed: dict[str, Any]) -> None:
    other = get_scheme(ED25519).from_seed(b"\x01" * 32)
    failure = _failed(signed, resolve_key=lambda _method: other.public_key)
    assert (failure.name, failure.code) == ("signature", "CRED_BAD_PROOF")
    swapped = copy.deepcopy(signed)
    swapped["proof"]["verificationMethod"] = di.get_did_key_verification_method(other.public_key)
    assert _failed(swapped).name == "signature"


@pytest.mark.parametrize(
    "proof_value",
    [
        "z" + "1" * 87,
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVF",
        "garbage",
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor510X",
    ],
    ids=["zeros", "truncated", "not-multibase", "bad-alphabet"],
)
def test_a_garbage_proof_value_is_rejected(signed: dict[str, Any], proof_value: str) -> None:
    tampered = copy.deepcopy(signed)
    tampered["proof"]["proofValue"] = proof_value
    failure = _failed(tampered)
    assert (failure.name, failure.code) == ("proof", "CRED_MALFORMED")


def test_a_flipped_signature_bit_is_rejected(signed: dict[str, Any]) -> None:
    signature = bytearray(di.decode_proof_value(signed["proof"]["proofValue"]))
    signature[10] ^= 0x01
    tampered = copy.deepcopy(signed)
    tampered["proof"]["proofValue"] = di.encode_proof_value(bytes(signature))
    assert (_failed(tampered).name, _failed(tampered).code) == ("signature", "CRED_BAD_PROOF")


def test_another_cryptosuite_is_rejected(signed: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed)
    tampered["proof"]["cryptosuite"] = "eddsa-rdfc-2022"
    failure = _failed(tampered)
    assert (failure.name, failure.code) == ("cryptosuite", "CRED_UNSUPPORTED_CRYPTOSUITE")


def test_a_mismatched_context_is_rejected(signed: dict[str, Any]) -> None:
    tampered = copy.deepcopy(signed)
    tampered["@context"] = list(reversed(tampered["@context"]))
    failure = _failed(tampered)
    assert (failure.name, failure.code) == ("context", "CRED_BAD_PROOF")


# --- the employment authorisation credential ----------------------------------------------------


def test_the_employment_credential_signs_and_verifies(
    key_pair: KeyPair, proof_config: dict[str, Any]
) -> None:
    document = _json(VECTORS / "employmentAuth.json")
    check_credential(document)
    secured = _sign(document, key_pair, proof_config)
    assert secured["proof"]["@context"] == document["@context"]
    assert di.verify_proof(secured, resolve_key=di.resolve_did_key).verified
    assert _sign(document, key_pair, proof_config) == secured  # deterministic
    tampered = copy.deepcopy(secured)
    tampered["credentialSubject"]["employmentAuthorizationDocument"]["lprCategory"] = "C10"
    assert _failed(tampered).name == "signature"
