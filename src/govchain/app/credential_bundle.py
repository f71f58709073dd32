"""Building a credential's offline verification bundle from the node's store.

:func:`build_credential_bundle` proves, against one block's state root (the latest by default),
the credential's anchor and status records, and, against the anchoring block's state root, the
signing member's identity record, the issuing organisation's record, its accreditation for the
type and the schema version; it adds the recent block's signed header (with its finality
certificate when the node has one, ``finality_for(height)``) and the anchoring block's header,
whose hash the recent state proves from the block-hash history. The node holds only the credential's
hash: the credential itself is added by whoever holds it (the SDK does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from govchain.app.application import Application, StateProofResult
from govchain.contracts.certs_records import (
    ANCHOR_ROLES,
    CertAnchor,
    anchor_state_key,
    schema_state_key,
    status_state_key,
)
from govchain.contracts.did import parse_did
from govchain.contracts.governance_actions import accreditation_state_key
from govchain.contracts.identity import Identity, identity_state_key
from govchain.credentials.bundle import (
    BundleHeader,
    BundleIssuance,
    BundleState,
    IssuerTrust,
    VerificationBundle,
)
from govchain.encoding import decode, encode
from govchain.errors import BadRequest, NotFoundInState
from govchain.merkle import smt
from govchain.types.block import block_hash_state_key
from govchain.types.finality import FinalityCertificate

__all__ = ["FinalityLookup", "build_credential_bundle", "build_issuer_trust", "get_signing_member"]

FinalityLookup = Callable[[int], FinalityCertificate | None]  # height -> its certificate


def _state(result: StateProofResult) -> BundleState:
    return BundleState(
        result.key.hex(),
        None if result.value is None else result.value.hex(),
        smt.encode_state_proof(result.proof).hex(),
    )


def _header(app: Application, height: int, finality_for: FinalityLookup | None) -> BundleHeader:
    block = app.get_block(height)
    certificate = None if finality_for is None else finality_for(height)
    return BundleHeader(
        encode(block.header).hex(),
        block.proposer_signature.hex(),
        None if certificate is None else encode(certificate).hex(),
    )


def get_signing_member(credential: Mapping[str, Any]) -> str:
    """The identity id of a credential's ``<member DID>#key-N`` verification method."""
    proof = credential.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str):
        raise ValueError("the credential's proof names no verification method")
    return parse_did(method.partition("#")[0])[1]


def _issuance(
    app: Application,
    anchor: CertAnchor,
    member: str,
    recent: int,
    finality_for: FinalityLookup | None,
) -> BundleIssuance:
    """The facts at the anchoring height, proven against the anchoring block's root; that
    block's header vouched for by the block-hash history at ``recent`` when the chain has it
    there (blocks committed before the history existed keep their own signature)."""
    h = anchor.height
    org, credential_type = anchor.issuer_org, anchor.credential_type
    history = app.prove_state(block_hash_state_key(h), recent) if recent > h else None
    if history is not None and history.value is not None:
        header = BundleHeader(encode(app.get_block(h).header).hex(), "")
    else:
        history, header = None, _header(app, h, finality_for)
    return BundleIssuance(
        header=header,
        identity=_state(app.prove_state(identity_state_key(member), h)),
        org=_state(app.prove_state(identity_state_key(org), h)),
        accreditation=_state(app.prove_state(accreditation_state_key(org, credential_type), h)),
        schema=_state(app.prove_state(schema_state_key(credential_type, anchor.schema_version), h)),
        history=None if history is None else _state(history),
    )


def build_credential_bundle(
    app: Application,
    credential_hash: bytes,
    *,
    member: str | None = None,
    credential: Mapping[str, Any] | None = None,
    height: int | None = None,
    finality_for: FinalityLookup | None = None,
) -> VerificationBundle:
    """The bundle of an anchored credential, its status proven at ``height`` (default: the
    latest). The identity proven is ``member``'s, else the credential's signing member's, else
    the anchor's submitter. ``finality_for`` supplies a block's finality certificate when the
    node has one. Raises :class:`NotFoundInState` (``CERT_NOT_FOUND``) when the hash is not
    anchored."""
    h = app.info().height if height is None else height
    anchor_proof = app.prove_state(anchor_state_key(credential_hash), h)
    if anchor_proof.value is None:
        raise NotFoundInState(
            f"credential {credential_hash.hex()} is not anchored", code="CERT_NOT_FOUND"
        )
    anchor = decode(anchor_proof.value, CertAnchor)
    if member is None:
        member = anchor.submitter if credential is None else get_signing_member(credential)
    return VerificationBundle(
        chain_id=app.chain_id,
        genesis_hash=app.genesis_hash.hex(),
        credential_hash=credential_hash.hex(),
        header=_header(app, h, finality_for),
        anchor=_state(anchor_proof),
        status=_state(app.prove_state(status_state_key(credential_hash), h)),
        issuance=_issuance(app, anchor, member, h, finality_for),
        credential=None if credential is None else dict(credential),
    )


MAX_TRUST_ORGS = 20


def build_issuer_trust(
    app: Application, orgs: list[str], *, finality_for: FinalityLookup | None = None
) -> IssuerTrust:
    """A trust file of ``orgs``: each organisation's identity record and those of its members
    holding an issuing role, proven at the latest height. Raises the identity contract's
    not-found error for an organisation that does not exist."""
    if not 1 <= len(orgs) <= MAX_TRUST_ORGS:
        raise BadRequest(f"name 1..{MAX_TRUST_ORGS} organisations")
    h = app.info().height
    ids: list[str] = []
    for org in dict.fromkeys(orgs):
        members: list[Identity] = app.query("identity", "members", {"id": org}, h)
        ids.append(org)
        ids += [m.id for m in members if m.kind == "member" and set(m.roles) & set(ANCHOR_ROLES)]
    return IssuerTrust(
        chain_id=app.chain_id,
        genesis_hash=app.genesis_hash.hex(),
        header=_header(app, h, finality_for),
        identities=[_state(app.prove_state(identity_state_key(i), h)) for i in ids],
    )
