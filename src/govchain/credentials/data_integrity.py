"""W3C Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (W3C vc-di-eddsa).

Creating a proof:

1. the proof options (``type`` ``DataIntegrityProof``, ``cryptosuite`` ``eddsa-jcs-2022``,
   ``created``, ``verificationMethod``, ``proofPurpose`` and optional fields) take the document's
   ``@context`` when it has one;
2. ``hashData = SHA-256(JCS(proof options)) || SHA-256(JCS(document without proof))``;
3. ``proofValue = "z" + base58btc(Ed25519 signature of hashData)``.

Verifying reverses it and names every check it ran (:data:`CHECK_NAMES`); the first failing check
stops the run and carries the code of the :class:`CredentialError` it stands for, so that callers
can show which check failed and why, or raise with :meth:`VerificationResult.raise_for_failure`.

Keys are resolved by the caller's ``resolve_key(verification_method) -> bytes`` (32-byte Ed25519
public key); :func:`resolve_did_key` resolves ``did:key`` Ed25519 methods without any network.
Multikey helpers encode and decode ``publicKeyMultibase`` (``z`` + base58btc of ``0xed 0x01`` and
the key) and ``secretKeyMultibase`` (``0x80 0x26`` and the 32-byte seed).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import base58
import msgspec
import nacl.bindings
import nacl.exceptions

from govchain.crypto.signing import ED25519, KeyPair
from govchain.errors import GovchainError

from .errors import (
    BadCredentialProof,
    CredentialError,
    CredentialMalformed,
    KeyResolutionFailed,
    NotCanonicalizable,
    UnsupportedCryptosuite,
)
from .jcs import canonicalize
from .vc import parse_datetime_stamp

__all__ = [
    "CHECK_NAMES",
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "ProofCheck",
    "VerificationResult",
    "compute_hash_data",
    "create_proof",
    "decode_proof_value",
    "decode_public_key_multibase",
    "decode_secret_key_multibase",
    "encode_proof_value",
    "encode_public_key_multibase",
    "encode_secret_key_multibase",
    "get_did_key_verification_method",
    "resolve_did_key",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"
CHECK_NAMES = ("proof", "cryptosuite", "purpose", "context", "canonical", "key", "signature")
_OPTIONAL_FIELDS = ("expires", "domain", "challenge", "nonce")

CheckStatus = Literal["passed", "failed", "skipped"]


# --- multibase and Multikey ----------------------------------------------------------------------


_B58_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUES = bytes.maketrans(_B58_ALPHABET, bytes(range(58)))  # each digit's value
_MULTIBASE_B58 = re.compile(r"z[1-9A-HJ-NP-Za-km-z]{1,200}", re.ASCII)


def _decode_base58btc(value: Any, what: str) -> bytes:
    """Strict multibase base58btc (``z`` prefix, no whitespace or foreign characters).

    Base58btc without whitespace is canonical (leading ``1``s are the leading zero bytes and the
    rest is a minimal base-58 number), so a proof value has exactly one spelling and a secured
    credential exactly one hash.
    """
    if not isinstance(value, str) or _MULTIBASE_B58.fullmatch(value) is None:
        raise CredentialMalformed(f"{what} is not a multibase base58btc string (z...)", field=what)
    digits = value[1:].encode("ascii")
    number = 0
    for digit in digits.translate(_B58_VALUES):
        number = number * 58 + digit
    zeros = len(digits) - len(digits.lstrip(b"1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def _encode_base58btc(raw: bytes) -> str:
    return "z" + base58.b58encode(raw).decode("ascii")


def encode_public_key_multibase(public_key: bytes) -> str:
    """``publicKeyMultibase`` of a 32-byte Ed25519 public key (starts ``z6Mk``)."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return _encode_base58btc(ED25519_PUB_PREFIX + public_key)


def decode_public_key_multibase(value: str) -> bytes:
    """The Ed25519 public key of a ``publicKeyMultibase``; :class:`CredentialMalformed` else."""
    raw = _decode_base58btc(value, "publicKeyMultibase")
    if len(raw) != 34 or raw[:2] != ED25519_PUB_PREFIX:
        raise CredentialMalformed(
            "publicKeyMultibase is not an Ed25519 Multikey (0xed01 + 32 bytes)",
            field="publicKeyMultibase",
        )
    return raw[2:]


def encode_secret_key_multibase(seed: bytes) -> str:
    """``secretKeyMultibase`` of a 32-byte Ed25519 seed (multicodec ``ed25519-priv``)."""
    if len(seed) != 32:
        raise ValueError("an Ed25519 seed has 32 bytes")
    return _encode_base58btc(ED25519_PRIV_PREFIX + seed)


def decode_secret_key_multibase(value: str) -> bytes:
    """The 32-byte Ed25519 seed of a ``secretKeyMultibase`` (W3C test vectors'
    ``privateKeyMultibase``)."""
    raw = _decode_base58btc(value, "secretKeyMultibase")
    if len(raw) != 34 or raw[:2] != ED25519_PRIV_PREFIX:
        raise CredentialMalformed(
            "secretKeyMultibase is not an Ed25519 secret key (0x8026 + 32 bytes)",
            field="secretKeyMultibase",
        )
    return raw[2:]


def get_did_key_verification_method(public_key: bytes) -> str:
    """``did:key:z6Mk...#z6Mk...``: the did:key verification method of an Ed25519 key."""
    multikey = encode_public_key_multibase(public_key)
    return f"did:key:{multikey}#{multikey}"


@lru_cache(maxsize=1024)
def resolve_did_key(verification_method: str) -> bytes:
    """The Ed25519 key of a ``did:key`` verification method (no network involved; cached)."""
    did, _, fragment = verification_method.partition("#")
    if not did.startswith("did:key:"):
        raise KeyResolutionFailed(f"not a did:key verification method: {did[:60]!r}")
    multikey = did[len("did:key:") :]
    if fragment and fragment != multikey:
        raise KeyResolutionFailed("did:key fragment does not name the DID's own key")
    try:
        return decode_public_key_multibase(multikey)
    except CredentialMalformed as exc:
        raise KeyResolutionFailed(f"did:key does not hold an Ed25519 key: {exc}") from None


def encode_proof_value(signature: bytes) -> str:
    return _encode_base58btc(signature)


def decode_proof_value(value: Any) -> bytes:
    """The 64-byte signature of a ``proofValue``; :class:`CredentialMalformed` otherwise."""
    raw = _decode_base58btc(value, "proofValue")
    if len(raw) != 64:
        raise CredentialMalformed(
            f"proofValue holds {len(raw)} bytes, not a 64-byte Ed25519 signature",
            field="proofValue",
        )
    return raw


# --- hashing and creation ------------------------------------------------------------------------


def compute_hash_data(proof_config: Mapping[str, Any], document: Mapping[str, Any]) -> bytes:
    """``SHA-256(JCS(proof_config)) || SHA-256(JCS(document))``: the 64 bytes that are signed."""
    config_hash = hashlib.sha256(canonicalize(proof_config)).digest()
    return config_hash + hashlib.sha256(canonicalize(document)).digest()


def _build_proof_options(
    document: Mapping[str, Any],
    verification_method: str,
    proof_purpose: str,
    created: str | None,
    proof_id: str | None,
    optional: dict[str, str | None],
) -> dict[str, Any]:
    options: dict[str, Any] = {} if proof_id is None else {"id": proof_id}
    options.update(type=PROOF_TYPE, cryptosuite=CRYPTOSUITE)
    if created is not None:
        parse_datetime_stamp(created, field="created")
        options["created"] = created
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    options.update({k: v for k, v in optional.items() if v is not None})
    if "expires" in options:
        parse_datetime_stamp(options["expires"], field="expires")
    if "@context" in document:
        options["@context"] = document["@context"]
    return options


def create_proof(
    document: Mapping[str, Any],
    *,
    signer: KeyPair,
    verification_method: str,
    created: str | None,
    proof_purpose: str = "assertionMethod",
    proof_id: str | None = None,
    expires: str | None = None,
    domain: str | None = None,
    challenge: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """A copy of ``document`` secured with an ``eddsa-jcs-2022`` proof signed by ``signer``.

    ``created`` (an XML dateTimeStamp) is passed in: this module never reads a clock. Floats
    anywhere in the document are refused (:class:`NotCanonicalizable`).
    """
    if not isinstance(document, Mapping) or "proof" in document:
        raise CredentialMalformed(
            "the document must be a JSON object without a proof", field="proof"
        )
    if signer.scheme != ED25519:
        raise UnsupportedCryptosuite(f"{CRYPTOSUITE} signs with Ed25519, not {signer.scheme}")
    optional = {"expires": expires, "domain": domain, "challenge": challenge, "nonce": nonce}
    options = _build_proof_options(
        document, verification_method, proof_purpose, created, proof_id, optional
    )
    signature = signer.sign(compute_hash_data(options, document))
    secured = dict(document)
    secured["proof"] = {**options, "proofValue": encode_proof_value(signature)}
    return secured


# --- verification --------------------------------------------------------------------------------


class ProofCheck(msgspec.Struct, frozen=True):
    """One named step of proof verification."""

    name: str
    status: CheckStatus
    reason: str = ""
    code: str = ""  # the CredentialError code of a failed check


_ERRORS: dict[str, type[CredentialError]] = {
    cls.code: cls
    for cls in (
        CredentialMalformed,
        UnsupportedCryptosuite,
        BadCredentialProof,
        NotCanonicalizable,
        KeyResolutionFailed,
    )
}


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of :func:`verify_proof`: every check in :data:`CHECK_NAMES` order."""

    checks: tuple[ProofCheck, ...]
    verification_method: str | None = None

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.status == "passed" for c in self.checks)

    @property
    def failure(self) -> ProofCheck | None:
        return next((c for c in self.checks if c.status == "failed"), None)

    def to_error(self) -> CredentialError | None:
        """The typed error of the failed check, or ``None`` when the proof verified."""
        failed = self.failure
        if failed is None:
            return None
        cls = _ERRORS.get(failed.code, BadCredentialProof)
        return cls(f"{failed.name} check failed: {failed.reason}", check=failed.name)

    def raise_for_failure(self) -> None:
        error = self.to_error()
        if error is not None:
            raise error


class _CheckFailed(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _fail(cls: type[CredentialError], reason: str) -> _CheckFailed:
    return _CheckFailed(cls.code, reason)


def _check_proof_shape(secured: Any) -> tuple[dict[str, Any], bytes]:
    if not isinstance(secured, Mapping):
        raise _fail(CredentialMalformed, "the secured document is not a JSON object")
    proof = secured.get("proof")
    if isinstance(proof, list):
        raise _fail(CredentialMalformed, "proof sets (several proofs) are not supported")
    if not isinstance(proof, dict):
        raise _fail(CredentialMalformed, "the document has no proof object")
    for name in ("type", "verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(name), str) or not proof[name]:
            raise _fail(CredentialMalformed, f"proof.{name} is missing or not a string")
    try:
        for name in ("created", "expires"):
            if name in proof:
                parse_datetime_stamp(proof[name], field=f"proof.{name}")
        signature = decode_proof_value(proof.get("proofValue"))
    except CredentialMalformed as exc:
        raise _fail(CredentialMalformed, exc.message) from None
    return proof, signature


def _check_cryptosuite(proof: Mapping[str, Any]) -> None:
    if proof["type"] != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        found = f"{proof['type']}/{proof.get('cryptosuite')}"
        raise _fail(UnsupportedCryptosuite, f"{found} is not {PROOF_TYPE}/{CRYPTOSUITE}")


def _check_purpose(proof: Mapping[str, Any], expected: str | None) -> None:
    if expected is not None and proof["proofPurpose"] != expected:
        raise _fail(
            BadCredentialProof, f"proofPurpose is {proof['proofPurpose']!r}, expected {expected!r}"
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_context(secured: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The unsecured document, ``@context`` taken from the proof when it has one."""
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    if "@context" in options:
        proof_context = _as_list(options["@context"])
        doc_context = _as_list(secured.get("@context", []))
        if doc_context[: len(proof_context)] != proof_context:
            raise _fail(
                BadCredentialProof, "the document's @context does not start with the proof's"
            )
        unsecured["@context"] = options["@context"]
    return unsecured


def _check_canonical(
    options: Mapping[str, Any], unsecured: Mapping[str, Any], allow_floats: bool
) -> bytes:
    try:
        config_bytes = canonicalize(options, allow_floats=allow_floats)
        doc_bytes = canonicalize(unsecured, allow_floats=allow_floats)
    except NotCanonicalizable as exc:
        raise _fail(NotCanonicalizable, exc.message) from None
    return hashlib.sha256(config_bytes).digest() + hashlib.sha256(doc_bytes).digest()


def _check_key(resolve_key: Callable[[str], bytes], method: str) -> bytes:
    try:
        key = resolve_key(method)
    except (GovchainError, LookupError, ValueError) as exc:
        raise _fail(KeyResolutionFailed, f"cannot resolve {method[:80]!r}: {exc}") from None
    if not isinstance(key, bytes) or len(key) != 32:
        raise _fail(KeyResolutionFailed, f"{method[:80]!r} did not resolve to an Ed25519 key")
    return key


@lru_cache(maxsize=4096)
def _is_valid_point(public_key: bytes) -> bool:
    try:
        nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public_key)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def _check_signature(public_key: bytes, hash_data: bytes, signature: bytes) -> None:
    try:
        nacl.bindings.crypto_sign_open(signature + hash_data, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        reason = "the signature does not match the document and proof options"
        if not _is_valid_point(public_key):
            reason = "the resolved key is not a valid Ed25519 public key"
        raise _fail(BadCredentialProof, reason) from None


def verify_proof(
    secured_document: Any,
    *,
    resolve_key: Callable[[str], bytes],
    expected_purpose: str | None = "assertionMethod",
    allow_floats: bool = False,
) -> VerificationResult:
    """Verify an ``eddsa-jcs-2022`` proof; never raises for bad input — read the result.

    ``resolve_key`` maps the proof's ``verificationMethod`` to a 32-byte Ed25519 public key (it may
    raise a :class:`GovchainError`, ``LookupError`` or ``ValueError``). ``expected_purpose=None``
    accepts any proof purpose. Floats are refused unless ``allow_floats`` (third parties' data).
    """
    done: list[ProofCheck] = []
    method: str | None = None
    try:
        proof, signature = _check_proof_shape(secured_document)
        method = proof["verificationMethod"]
        done.append(ProofCheck("proof", "passed"))
        _check_cryptosuite(proof)
        done.append(ProofCheck("cryptosuite", "passed"))
        _check_purpose(proof, expected_purpose)
        done.append(ProofCheck("purpose", "passed"))
        options = {k: v for k, v in proof.items() if k != "proofValue"}
        unsecured = _check_context(secured_document, options)
        done.append(ProofCheck("context", "passed"))
        hash_data = _check_canonical(options, unsecured, allow_floats)
        done.append(ProofCheck("canonical", "passed"))
        public_key = _check_key(resolve_key, proof["verificationMethod"])
        done.append(ProofCheck("key", "passed"))
        _check_signature(public_key, hash_data, signature)
        done.append(ProofCheck("signature", "passed"))
    except _CheckFailed as failed:
        done.append(ProofCheck(CHECK_NAMES[len(done)], "failed", failed.reason, failed.code))
        done.extend(ProofCheck(name, "skipped") for name in CHECK_NAMES[len(done) :])
    return VerificationResult(tuple(done), method)
