"""DIDs of govchain identities and their W3C DID Core documents (pure functions).

Every identity has the DID ``did:govchain:<chain-id>:<id>``, e.g. ``did:govchain:city:tax`` or
``did:govchain:city:tax:alice``. Its DID document lists the keys valid at the height of
resolution as ``Multikey`` verification methods (``publicKeyMultibase`` = ``z`` + base58btc of
the multicodec prefix ``0xed 0x01`` and the 32-byte Ed25519 key), in ``authentication`` and
``assertionMethod`` while the identity is active, and its services. A verification method's id is
``<did>#key-<n>``, ``n`` the key's position in the identity's key history (stable: the history only
grows). The document metadata tells the heights of creation and last update, whether the DID is
deactivated (the identity was removed) and the whole key history with each key's window of
validity ``[addedHeight, untilHeight)``, so a signature can be checked "as of height h".
"""

from __future__ import annotations

import re
from typing import Any

import base58

from govchain.contracts.identity import Identity, is_key_valid_at
from govchain.errors import ContractError

__all__ = [
    "DID_CONTEXT",
    "DID_METHOD",
    "ED25519_MULTICODEC",
    "InvalidDid",
    "build_did_document",
    "build_did_metadata",
    "build_resolution",
    "decode_multikey",
    "did_of",
    "encode_multikey",
    "parse_did",
]

DID_METHOD = "govchain"
DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
ED25519_MULTICODEC = b"\xed\x01"
_ID_PART = r"[A-Za-z0-9._-]+"
_DID = re.compile(rf"did:{DID_METHOD}:({_ID_PART}):({_ID_PART}(?::{_ID_PART})*)")
MAX_DID = 256


class InvalidDid(ContractError):
    code = "IDENTITY_BAD_DID"
    status = 400
    title = "Invalid DID"
    default_hint = (
        "A govchain DID reads did:govchain:<chain-id>:<id>, e.g. did:govchain:govchain-local:tax "
        "(no path, query or fragment)."
    )


def did_of(chain_id: str, identity_id: str) -> str:
    return f"did:{DID_METHOD}:{chain_id}:{identity_id}"


def parse_did(did: str) -> tuple[str, str]:
    """``(chain_id, identity_id)`` of a govchain DID; :class:`ContractError`
    ``IDENTITY_BAD_DID`` for anything else (DID URLs with a path, query or fragment included)."""
    match = _DID.fullmatch(did) if len(did) <= MAX_DID else None
    if match is None:
        raise InvalidDid(f"{did[:80]!r} is not a govchain DID")
    return match.group(1), match.group(2)


def encode_multikey(public_key: bytes) -> str:
    """The ``publicKeyMultibase`` of an Ed25519 public key."""
    return "z" + base58.b58encode(ED25519_MULTICODEC + public_key).decode("ascii")


def decode_multikey(value: str) -> bytes:
    """The Ed25519 public key of a ``publicKeyMultibase`` (inverse of :func:`encode_multikey`)."""
    try:
        raw = base58.b58decode(value[1:]) if value.startswith("z") else b""
    except ValueError:
        raw = b""
    if len(raw) != 34 or raw[:2] != ED25519_MULTICODEC:
        raise ContractError(
            "not a base58btc Ed25519 Multikey",
            code="IDENTITY_BAD_KEY",
            hint="publicKeyMultibase starts with z6Mk for Ed25519 keys.",
        )
    return raw[2:]


def _controller(chain_id: str, ident: Identity) -> str:
    if ident.kind in ("member", "node") and ident.org:
        return did_of(chain_id, ident.org)
    return did_of(chain_id, ident.id)


def build_did_document(chain_id: str, ident: Identity, height: int) -> dict[str, Any]:
    """The DID document of ``ident`` as of ``height``."""
    did = did_of(chain_id, ident.id)
    methods = [
        {
            "id": f"{did}#key-{n}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": encode_multikey(k.public_key),
        }
        for n, k in enumerate(ident.keys, start=1)
        if is_key_valid_at(ident, k.public_key, height)
    ]
    usable = [m["id"] for m in methods] if ident.status == "active" else []
    return {
        "@context": list(DID_CONTEXT),
        "id": did,
        "controller": _controller(chain_id, ident),
        "verificationMethod": methods,
        "authentication": usable,
        "assertionMethod": list(usable),
        "service": [
            {"id": f"{did}#{s.id}", "type": s.type, "serviceEndpoint": s.endpoint}
            for s in ident.services
        ],
    }


def build_did_metadata(chain_id: str, ident: Identity) -> dict[str, Any]:
    """DID document metadata: heights, status, deactivation and the key history."""
    did = did_of(chain_id, ident.id)
    meta: dict[str, Any] = {
        "createdHeight": ident.created_height,
        "updatedHeight": ident.updated_height,
        "versionId": str(ident.updated_height),
        "deactivated": ident.status == "removed",
        "status": ident.status,
        "kind": ident.kind,
        "keyHistory": [
            {
                "id": f"{did}#key-{n}",
                "publicKeyMultibase": encode_multikey(k.public_key),
                "addedHeight": k.added_height,
                "untilHeight": k.until_height,
                "status": k.status,
                "reason": k.reason,
            }
            for n, k in enumerate(ident.keys, start=1)
        ],
    }
    if ident.kind == "org":
        meta["name"], meta["nameZh"], meta["orgKind"] = ident.name, ident.name_zh, ident.org_kind
    if ident.attestation is not None:
        meta["attestation"] = {
            "issuer": did_of(chain_id, ident.attestation.issuer),
            "kind": ident.attestation.kind,
            "evidenceHash": ident.attestation.evidence_hash.hex(),
        }
    return meta


def build_resolution(chain_id: str, ident: Identity, height: int) -> dict[str, Any]:
    """A DID Resolution result: ``didDocument``, ``didDocumentMetadata``,
    ``didResolutionMetadata``."""
    return {
        "didDocument": build_did_document(chain_id, ident, height),
        "didDocumentMetadata": build_did_metadata(chain_id, ident),
        "didResolutionMetadata": {"contentType": "application/did+ld+json", "height": height},
    }
