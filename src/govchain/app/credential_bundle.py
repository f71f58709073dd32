"""Building a credential's offline verification bundle from the node's store.

:func:`build_credential_bundle` proves, against one block's state root (the latest by default),
the credential's anchor and status records, the signing member's identity record and the
issuer's accreditation for the type, and adds that block's signed header. The node holds only the
credential's hash: the credential itself is added by whoever holds it (the SDK does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govchain.app.application import Application, StateProofResult
from govchain.contracts.certs_records import CertAnchor, anchor_state_key, status_state_key
from govchain.contracts.did import parse_did
from govchain.contracts.governance_actions import accreditation_state_key
from govchain.contracts.identity import identity_state_key
from govchain.credentials.bundle import BundleHeader, BundleState, VerificationBundle
from govchain.encoding import decode, encode
from govchain.errors import NotFoundInState
from govchain.merkle import smt

__all__ = ["build_credential_bundle", "get_signing_member"]


def _state(result: StateProofResult) -> BundleState:
    return BundleState(
        result.key.hex(),
        None if result.value is None else result.value.hex(),
        smt.encode_state_proof(result.proof).hex(),
    )


def get_signing_member(credential: Mapping[str, Any]) -> str:
    """The identity id of a credential's ``<member DID>#key-N`` verification method."""
    proof = credential.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    if not isinstance(method, str):
        raise ValueError("the credential's proof names no verification method")
    return parse_did(method.partition("#")[0])[1]


def build_credential_bundle(
    app: Application,
    credential_hash: bytes,
    *,
    member: str | None = None,
    credential: Mapping[str, Any] | None = None,
    height: int | None = None,
) -> VerificationBundle:
    """The bundle of an anchored credential at ``height`` (default: the latest). The identity
    proven is ``member``'s, else the credential's signing member's, else the anchor's submitter.
    Raises :class:`NotFoundInState` (``CERT_NOT_FOUND``) when the hash is not anchored."""
    h = app.info().height if height is None else height
    anchor_proof = app.prove_state(anchor_state_key(credential_hash), h)
    if anchor_proof.value is None:
        raise NotFoundInState(
            f"credential {credential_hash.hex()} is not anchored", code="CERT_NOT_FOUND"
        )
    anchor = decode(anchor_proof.value, CertAnchor)
    if member is None:
        member = anchor.submitter if credential is None else get_signing_member(credential)
    block = app.get_block(h)
    return VerificationBundle(
        chain_id=app.chain_id,
        genesis_hash=app.genesis_hash.hex(),
        credential_hash=credential_hash.hex(),
        header=BundleHeader(encode(block.header).hex(), block.proposer_signature.hex()),
        anchor=_state(anchor_proof),
        status=_state(app.prove_state(status_state_key(credential_hash), h)),
        identity=_state(app.prove_state(identity_state_key(member), h)),
        accreditation=_state(
            app.prove_state(accreditation_state_key(anchor.issuer_org, anchor.credential_type), h)
        ),
        credential=None if credential is None else dict(credential),
    )
