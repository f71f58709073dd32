"""Building a venue kit (:mod:`govchain.health.kit`) from a node's store, at its latest height."""

from __future__ import annotations

from collections.abc import Sequence

from govchain.app.application import Application, StateProofResult
from govchain.app.readers import StoreState
from govchain.contracts.base import ReadContext
from govchain.contracts.certs_records import NAME as CERTS
from govchain.contracts.governance_actions import accreditation_state_key
from govchain.contracts.health_records import AGGREGATE_ROLES
from govchain.contracts.identity import identity_state_key
from govchain.credentials.bundle import BundleHeader, BundleState
from govchain.encoding import encode
from govchain.errors import NotFoundInState
from govchain.health.kit import VenueKit
from govchain.health.schemas import HEALTH_PASS_TYPES
from govchain.merkle import smt

__all__ = ["build_venue_kit"]


def _state(result: StateProofResult) -> BundleState:
    return BundleState(
        result.key.hex(),
        None if result.value is None else result.value.hex(),
        smt.encode_state_proof(result.proof).hex(),
    )


def _flags(app: Application, org: str, purpose: str, height: int) -> list[BundleState]:
    prefix = f"flag/{org}/{purpose}/"
    ctx = ReadContext(CERTS, StoreState(app.store, height), height)
    keys = [CERTS.encode() + b"/" + key for key, _ in ctx.iter(prefix)]
    return [_state(app.prove_state(key, height)) for key in keys]


def build_venue_kit(
    app: Application, org: str, credential_types: Sequence[str] = HEALTH_PASS_TYPES
) -> VenueKit:
    """The kit of the health commission ``org`` at the latest height. Raises
    :class:`NotFoundInState` (``HEALTH_UNKNOWN_ORG``) when there is no such organisation."""
    height = app.info().height
    org_record = app.prove_state(identity_state_key(org), height)
    if org_record.value is None:
        raise NotFoundInState(f"no organisation {org!r}", code="HEALTH_UNKNOWN_ORG")
    members = app.query("identity", "members", {"id": org}, height)
    issuing = [m.id for m in members if m.kind == "member" and set(m.roles) & set(AGGREGATE_ROLES)]
    block, genesis_block = app.get_block(height), app.get_block(0)
    return VenueKit(
        chain_id=app.chain_id,
        genesis_hash=app.genesis_hash.hex(),
        genesis=app.genesis,
        genesis_header=encode(genesis_block.header).hex(),
        org=org,
        credential_types=list(credential_types),
        header=BundleHeader(encode(block.header).hex(), block.proposer_signature.hex()),
        org_record=_state(org_record),
        members=[_state(app.prove_state(identity_state_key(m), height)) for m in issuing],
        accreditations=[
            _state(app.prove_state(accreditation_state_key(org, t), height))
            for t in credential_types
        ],
        status_count=_state(app.prove_state(f"{CERTS}/next_index/{org}".encode(), height)),
        revoked=_flags(app, org, "revocation", height),
        suspended=_flags(app, org, "suspension", height),
    )
