"""The credential error family: every rejection of a credential, proof, status list or QR code.

Each class carries a stable ``code`` that clients switch on and a ``hint`` that says what to do.
Shared by every module of :mod:`govchain.credentials` (Data Integrity, VC checks, status lists,
schemas, the QR container and SD-JWT presentations).

    GovchainError
    └── CredentialError                 CRED_INVALID
        ├── CredentialMalformed         CRED_MALFORMED
        ├── NotCanonicalizable          CRED_NOT_CANONICALIZABLE
        ├── BadCredentialProof          CRED_BAD_PROOF
        ├── UnsupportedCryptosuite      CRED_UNSUPPORTED_CRYPTOSUITE
        ├── KeyResolutionFailed         CRED_KEY_UNRESOLVED
        ├── SchemaInvalid               CRED_SCHEMA_INVALID
        ├── CredentialExpired           CRED_EXPIRED
        ├── CredentialNotYetValid       CRED_NOT_YET_VALID
        ├── StatusListInvalid           CRED_STATUS_LIST_INVALID
        ├── QrInvalid                   CRED_QR_INVALID
        └── DisclosureInvalid           CRED_DISCLOSURE_INVALID
"""

from __future__ import annotations

from govchain.errors import GovchainError

__all__ = [
    "BadCredentialProof",
    "CredentialError",
    "CredentialExpired",
    "CredentialMalformed",
    "CredentialNotYetValid",
    "DisclosureInvalid",
    "KeyResolutionFailed",
    "NotCanonicalizable",
    "QrInvalid",
    "SchemaInvalid",
    "StatusListInvalid",
    "UnsupportedCryptosuite",
]


class CredentialError(GovchainError):
    """A credential, proof, status list, QR code or presentation does not check out."""

    code = "CRED_INVALID"
    status = 422
    title = "Invalid credential"
    default_hint = "Do not accept this credential; ask the holder for a fresh copy from the issuer."


class CredentialMalformed(CredentialError):
    code = "CRED_MALFORMED"
    status = 400
    title = "Malformed credential"
    default_hint = (
        "Send a W3C Verifiable Credential 2.0 JSON document; the named field is missing or has "
        "the wrong type."
    )


class NotCanonicalizable(CredentialError):
    code = "CRED_NOT_CANONICALIZABLE"
    status = 400
    title = "Value cannot be canonicalised"
    default_hint = (
        "Signed data may hold only JSON strings, integers, booleans, null, arrays and objects "
        "with string keys; write decimal numbers as strings."
    )


class BadCredentialProof(CredentialError):
    code = "CRED_BAD_PROOF"
    title = "Credential proof does not verify"
    default_hint = (
        "The credential was changed after signing or was signed with another key; do not accept it."
    )


class UnsupportedCryptosuite(CredentialError):
    code = "CRED_UNSUPPORTED_CRYPTOSUITE"
    title = "Unsupported proof type or cryptosuite"
    default_hint = "govchain verifies DataIntegrityProof proofs with cryptosuite eddsa-jcs-2022."


class KeyResolutionFailed(CredentialError):
    code = "CRED_KEY_UNRESOLVED"
    title = "Verification method cannot be resolved"
    default_hint = (
        "Check that the proof's verificationMethod names a key the issuer has registered "
        "on this chain."
    )


class SchemaInvalid(CredentialError):
    code = "CRED_SCHEMA_INVALID"
    title = "Credential subject does not match its schema"
    default_hint = "Fix the field at the named path so it matches the credential type's schema."


class CredentialExpired(CredentialError):
    code = "CRED_EXPIRED"
    title = "Credential expired"
    default_hint = "The credential's validUntil has passed; ask the issuer for a renewed one."


class CredentialNotYetValid(CredentialError):
    code = "CRED_NOT_YET_VALID"
    title = "Credential not yet valid"
    default_hint = "The credential's validFrom is in the future; present it again from that time."


class StatusListInvalid(CredentialError):
    code = "CRED_STATUS_LIST_INVALID"
    title = "Invalid status list"
    default_hint = (
        "The status list or status entry is malformed; fetch the issuer's status list "
        "credential again."
    )


class QrInvalid(CredentialError):
    code = "CRED_QR_INVALID"
    status = 400
    title = "Invalid QR code"
    default_hint = "Scan the code again; if it still fails, ask the holder for a fresh code."


class DisclosureInvalid(CredentialError):
    code = "CRED_DISCLOSURE_INVALID"
    title = "Invalid selective-disclosure presentation"
    default_hint = (
        "Ask the holder to present again with this verifier's nonce and audience; the "
        "presentation does not check out."
    )
