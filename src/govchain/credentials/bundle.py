"""The offline verification bundle: everything a verifier needs to check a credential with no
network, holding only the chain's trust anchor (chain id, genesis hash, founding node keys).

A bundle (``format`` ``govchain-bundle-v3``, JSON) carries:

* the secured credential (W3C VC 2.0 with its ``eddsa-jcs-2022`` proof);
* the chain id and genesis hash it claims to be of (checked against the verifier's trust anchor);
* one signed block header at a recent height ``h`` with state proofs, against its state root, of
  the credential's anchor (``certs/anchor/<hash>``) and status (``certs/status/<hash>``): what
  the credential is and whether it is still good;
* an *issuance* part: the signed header of the anchoring block ``a`` (the state after it) with
  state proofs, against its root, of the signing member's identity record
  (``identity/id/<member>``), the issuing organisation's record (``identity/id/<org>``), the
  accreditation for the type (``governance/accreditation/<org>/<type>``) and the schema version
  (``certs/schema/<type>/<version>``): the facts "at the anchoring height", proven as they stood
  then, so offline verification answers exactly as online verification does (an accreditation
  revoked and granted again later changes nothing about a credential issued before);
* when the anchoring block is older than the recent one, a state proof against the recent root
  of the anchoring block's hash in the chain's block-hash history
  (:func:`~govchain.types.block.block_hash_state_key`): the recent header vouches for the
  anchoring header, which then needs no signature or certificate of its own — one signature
  check per bundle instead of two, and a finality certificate only for the recent block.
  A ``govchain-bundle-v2`` bundle (no history proof: the anchoring header signed) still verifies.

Every record travels as raw bytes, which the verifier decodes itself. Each header may carry a
finality certificate (hex of the encoded
:class:`~govchain.types.finality.FinalityCertificate`): a quorum of the founding peers'
signatures over the block hash and state root, the trust basis of a multi-node chain.

Pure: encoding and decoding only; the checks live in :mod:`govchain.client.offline`.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_FORMATS",
    "BundleHeader",
    "BundleIssuance",
    "BundleState",
    "ISSUER_TRUST_FORMAT",
    "IssuerTrust",
    "VerificationBundle",
    "decode_bundle",
    "decode_issuer_trust",
    "encode_bundle",
    "encode_issuer_trust",
]

BUNDLE_FORMAT = "govchain-bundle-v3"
BUNDLE_FORMATS = frozenset({"govchain-bundle-v2", BUNDLE_FORMAT})  # what verifiers accept
ISSUER_TRUST_FORMAT = "govchain-issuer-trust-v1"


class BundleHeader(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    header_raw: str  # hex of the canonical header bytes (the block hash is computed from them)
    proposer_signature: str  # hex Ed25519 signature over the block hash's sign bytes; "" for an
    # anchoring header whose hash the recent state proves (BundleIssuance.history)
    finality: str | None = None  # hex of the encoded FinalityCertificate, when there is one


class BundleState(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    key: str  # hex of the full state key
    value: str | None  # hex of the raw record bytes; None with a proof of absence
    proof: str  # hex of the encoded sparse-Merkle StateProof


class BundleIssuance(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The facts at the anchoring height: proven against the anchoring block's header, which
    is trusted through ``history`` when it is given, else on its own signature or certificate."""

    header: BundleHeader
    identity: BundleState  # the signing member
    org: BundleState  # the issuing organisation
    accreditation: BundleState  # of the organisation for the credential type
    schema: BundleState  # the anchored schema version
    history: BundleState | None = None  # the anchoring block's hash, proven at the recent header


class VerificationBundle(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    genesis_hash: str  # hex
    credential_hash: str  # hex SHA-256 of the JCS form of the secured credential
    header: BundleHeader
    anchor: BundleState  # proven at ``header``
    status: BundleState  # proven at ``header``
    issuance: BundleIssuance
    credential: dict[str, Any] | None = None  # a node builds bundles without it (hashes only)
    format: str = BUNDLE_FORMAT


def encode_bundle(bundle: VerificationBundle) -> bytes:
    """The bundle as JSON bytes."""
    return msgspec.json.encode(bundle)


def decode_bundle(data: bytes | str) -> VerificationBundle:
    """A bundle from JSON; :class:`msgspec.ValidationError` or :class:`msgspec.DecodeError`
    when it is not one."""
    return msgspec.json.decode(data, type=VerificationBundle)


class IssuerTrust(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A trust file exported from the chain: the identity records of issuing organisations and
    their issuing members, proven against one signed header, so that a verifier with only the
    genesis can resolve an issuer's key (``<member DID>#key-N``) offline — e.g. to check a QR
    pass. Keys open at the header's height are trusted; a key closed before it is not (verify
    such a pass with its bundle, or online)."""

    chain_id: str
    genesis_hash: str  # hex
    header: BundleHeader
    identities: list[BundleState]  # organisations and their issuing members
    format: str = ISSUER_TRUST_FORMAT


def encode_issuer_trust(trust: IssuerTrust) -> bytes:
    return msgspec.json.encode(trust)


def decode_issuer_trust(data: bytes | str) -> IssuerTrust:
    """A trust file from JSON; :class:`msgspec.ValidationError` or :class:`msgspec.DecodeError`
    when it is not one."""
    return msgspec.json.decode(data, type=IssuerTrust)
