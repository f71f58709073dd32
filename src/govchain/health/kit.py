"""The venue kit: what a venue downloads once to check health passes with no network.

A kit (``format`` ``govchain-venue-kit-v1``, JSON) carries:

* the trust anchor: the chain id, the genesis document (founding organisations and node keys)
  and the raw genesis block header, whose hash is the genesis hash and whose ``prev_hash`` is the
  genesis document's digest — so a venue that pins the genesis hash trusts nothing else;
* one block header at height ``h`` signed by a founding node;
* state proofs against that header's root of: the health commission's organisation record, the
  identity records of its members holding an issuing role (their keys and key windows), its
  accreditations for the pass types, its number of used status indexes, and every revocation
  and suspension flag it has set (``certs/flag/<org>/<purpose>/<index>``).

The revocation snapshot is therefore proven entry by entry: every listed revocation is real at
``h``. That the list is complete cannot be proven (a sparse Merkle tree cannot prove that no other
flag key exists), so a kit may carry an **attestation**: an Ed25519 signature, by one of the
commission's pass-signing keys proven in the kit, over the snapshot's digest (chain, organisation,
header hash, status count, revoked and suspended indexes). An unattested kit's completeness rests
on the node that built it. An attested kit may be **compact**: the per-flag proofs are replaced by
the two W3C Bitstring Status Lists (GZIP, base64url), which the attestation alone vouches for —
about 19 KB for 10,000 revocations among a million passes, instead of about 1 KB per revoked
pass.

Pure: encoding and decoding only; the checks live in :mod:`govchain.health.venue`.
"""

from __future__ import annotations

import msgspec

from govchain.credentials.bundle import BundleHeader, BundleState
from govchain.types import Genesis

__all__ = [
    "KIT_FORMAT",
    "CompactSnapshot",
    "KitAttestation",
    "VenueKit",
    "decode_kit",
    "encode_kit",
]

KIT_FORMAT = "govchain-venue-kit-v1"


class KitAttestation(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    signer: str  # "<member DID>#key-N": a pass-signing key of the commission proven in the kit
    signature: str  # hex Ed25519 signature over the snapshot digest (health.venue)


class CompactSnapshot(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    revocation: str  # encodedList of a Bitstring Status List
    suspension: str


class VenueKit(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    chain_id: str
    genesis_hash: str  # hex
    genesis: Genesis
    genesis_header: str  # hex of block 0's canonical header bytes
    org: str  # the health commission
    credential_types: list[str]
    header: BundleHeader  # the signed header at the kit's height
    org_record: BundleState
    members: list[BundleState]
    accreditations: list[BundleState]  # in the order of credential_types
    status_count: BundleState  # certs/next_index/<org>
    revoked: list[BundleState]
    suspended: list[BundleState]
    attestation: KitAttestation | None = None
    compact: CompactSnapshot | None = None  # instead of revoked/suspended proofs; attested only
    format: str = KIT_FORMAT


def encode_kit(kit: VenueKit) -> bytes:
    """The kit as JSON bytes."""
    return msgspec.json.encode(kit)


def decode_kit(data: bytes | str) -> VenueKit:
    """A kit from JSON; :class:`msgspec.ValidationError` or :class:`msgspec.DecodeError` when it
    is not one."""
    return msgspec.json.decode(data, type=VenueKit)
