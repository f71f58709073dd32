"""The offline verification bundle: everything a verifier needs to check a credential with no
network, holding only the chain's trust anchor (chain id, genesis hash, node keys).

A bundle (``format`` ``govchain-bundle-v1``, JSON) carries:

* the secured credential (W3C VC 2.0 with its ``eddsa-jcs-2022`` proof);
* the chain id and genesis hash it claims to be of (checked against the verifier's trust anchor);
* one signed block header at height ``h`` (the raw header bytes and the proposer's signature);
* four state proofs against that header's state root, each with the raw record bytes, which the
  verifier decodes itself: the credential's anchor (``certs/anchor/<hash>``), its status
  (``certs/status/<hash>``), the signing member's identity record (``identity/id/<member>``)
  and the issuer's accreditation for the type (``governance/accreditation/<org>/<type>``).

Everything is proven at the single height ``h``. What must hold *at the anchoring height* is
derived from records as they stand at ``h``: a key's history only grows (each key keeps its
window ``[added_height, until_height)``), and an accreditation record keeps the height it was
granted and, once revoked, the height of revocation. The limitation: an accreditation revoked
and granted again after the anchoring overwrites the earlier window, so such a credential is
refused (``BUNDLE_NOT_ACCREDITED``) although it was issued under accreditation; verify it online.

Pure: encoding and decoding only; the checks live in :mod:`govchain.client.offline`.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "BUNDLE_FORMAT",
    "BundleHeader",
    "BundleState",
    "VerificationBundle",
    "decode_bundle",
    "encode_bundle",
]

BUNDLE_FORMAT = "govchain-bundle-v1"


class BundleHeader(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    header_raw: str  # hex of the canonical header bytes (the block hash is computed from them)
    proposer_signature: str  # hex Ed25519 signature over the block hash's sign bytes


class BundleState(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    key: str  # hex of the full state key
    value: str | None  # hex of the raw record bytes; None with a proof of absence
    proof: str  # hex of the encoded sparse-Merkle StateProof


class VerificationBundle(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    genesis_hash: str  # hex
    credential_hash: str  # hex SHA-256 of the JCS form of the secured credential
    header: BundleHeader
    anchor: BundleState
    status: BundleState
    identity: BundleState
    accreditation: BundleState
    credential: dict[str, Any] | None = None  # a node builds bundles without it (hashes only)
    format: str = BUNDLE_FORMAT


def encode_bundle(bundle: VerificationBundle) -> bytes:
    """The bundle as JSON bytes."""
    return msgspec.json.encode(bundle)


def decode_bundle(data: bytes | str) -> VerificationBundle:
    """A bundle from JSON; :class:`msgspec.ValidationError` or :class:`msgspec.DecodeError`
    when it is not one."""
    return msgspec.json.decode(data, type=VerificationBundle)
