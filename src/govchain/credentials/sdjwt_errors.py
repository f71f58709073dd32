"""The SD-JWT rejections: one class, one stable ``SDJWT_*`` code per way a presentation fails.

They sit under :class:`~govchain.credentials.errors.DisclosureInvalid` (and, where one fits, also
under the general credential error of the same meaning, e.g. :class:`CredentialExpired`), so a
caller can catch every selective-disclosure failure at once or switch on ``code``.
:class:`SdJwtInvalidInput` is the issuer's or holder's own mistake (a wrong claim path, a short
salt), not a failed verification.
"""

from __future__ import annotations

from .errors import (
    BadCredentialProof,
    CredentialError,
    CredentialExpired,
    CredentialMalformed,
    CredentialNotYetValid,
    DisclosureInvalid,
    KeyResolutionFailed,
)

__all__ = [
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
]


class SdJwtMalformed(DisclosureInvalid, CredentialMalformed):
    code = "SDJWT_MALFORMED"
    status = 400
    title = "Malformed SD-JWT"
    default_hint = "Send <issuer-JWT>~<disclosure>~...~<KB-JWT> exactly as the wallet built it."


class SdJwtUnsupportedAlgorithm(DisclosureInvalid):
    code = "SDJWT_UNSUPPORTED_ALG"
    title = "Unsupported SD-JWT algorithm"
    default_hint = "Sign with Ed25519 (or EdDSA, ES256) and hash disclosures with sha-256."


class SdJwtUnknownIssuerKey(DisclosureInvalid, KeyResolutionFailed):
    code = "SDJWT_UNKNOWN_ISSUER_KEY"
    title = "SD-JWT issuer key unknown"
    default_hint = "The issuer or its key id is not trusted here; check the issuer registry."


class SdJwtBadSignature(DisclosureInvalid, BadCredentialProof):
    code = "SDJWT_BAD_SIGNATURE"
    title = "SD-JWT issuer signature does not verify"
    default_hint = "The credential was changed or signed with another key; do not accept it."


class SdJwtDisclosureInvalid(DisclosureInvalid):
    code = "SDJWT_DISCLOSURE_INVALID"
    title = "Invalid disclosure"
    default_hint = "A disclosure is not [salt, name, value] or [salt, value] where it is used."


class SdJwtDisclosureUnreferenced(DisclosureInvalid):
    code = "SDJWT_DISCLOSURE_UNREFERENCED"
    title = "Disclosure not referenced by the credential"
    default_hint = "A disclosure was changed or added; present the issuer's disclosures unchanged."


class SdJwtDisclosureDuplicate(DisclosureInvalid):
    code = "SDJWT_DISCLOSURE_DUPLICATE"
    title = "Disclosure or digest repeated"
    default_hint = "Present each disclosure once; a credential must not repeat a digest."


class SdJwtExpired(DisclosureInvalid, CredentialExpired):
    code = "SDJWT_EXPIRED"
    title = "SD-JWT expired"
    default_hint = "The credential's exp has passed; ask the issuer for a fresh one."


class SdJwtNotYetValid(DisclosureInvalid, CredentialNotYetValid):
    code = "SDJWT_NOT_YET_VALID"
    title = "SD-JWT not yet valid"
    default_hint = "The credential's nbf or iat is in the future; check the clocks and retry."


class SdJwtNoHolderKey(DisclosureInvalid):
    code = "SDJWT_NO_HOLDER_KEY"
    title = "SD-JWT has no holder key"
    default_hint = "Only credentials bound to a holder key (cnf.jwk) are accepted here."


class SdJwtKbMissing(DisclosureInvalid):
    code = "SDJWT_KB_MISSING"
    title = "Key binding JWT missing"
    default_hint = "Present with a key binding JWT over this verifier's nonce and audience."


class SdJwtKbMalformed(DisclosureInvalid):
    code = "SDJWT_KB_MALFORMED"
    title = "Malformed key binding JWT"
    default_hint = "The KB-JWT needs typ kb+jwt and the claims iat, aud, nonce and sd_hash."


class SdJwtKbBadSignature(DisclosureInvalid):
    code = "SDJWT_KB_BAD_SIGNATURE"
    title = "Key binding signature does not verify"
    default_hint = "Sign the KB-JWT with the holder key the credential was issued to."


class SdJwtKbNonce(DisclosureInvalid):
    code = "SDJWT_KB_NONCE"
    title = "Key binding nonce mismatch"
    default_hint = "Present again with the nonce this verifier just issued."


class SdJwtKbAudience(DisclosureInvalid):
    code = "SDJWT_KB_AUDIENCE"
    title = "Key binding audience mismatch"
    default_hint = "The presentation was made for another verifier; present again for this one."


class SdJwtKbSdHash(DisclosureInvalid):
    code = "SDJWT_KB_SD_HASH"
    title = "Key binding sd_hash mismatch"
    default_hint = "Disclosures were added or removed after the holder signed; present again."


class SdJwtKbStale(DisclosureInvalid):
    code = "SDJWT_KB_STALE"
    title = "Key binding JWT too old or in the future"
    default_hint = "Create the presentation just before sending it; check the wallet's clock."


class SdJwtInvalidInput(CredentialError):
    code = "SDJWT_INVALID_INPUT"
    status = 400
    title = "Invalid SD-JWT issuance or presentation request"
    default_hint = "Fix the named claim path or argument and try again."
