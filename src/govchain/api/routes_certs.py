"""Certificate routes: verify a credential, read its anchor and status with proofs, status lists
and schemas. All public: verifying a certificate is a public service, and none of these answers
holds personal data (the chain holds hashes and metadata only).

    POST /v1/credentials/verify                          the named checks of a secured VC
    GET  /v1/credentials/{hash}                          anchor + status with state proofs
    GET  /v1/credentials/{hash}/bundle?member=           offline verification bundle (no VC)
    GET  /v1/credentials/status-lists/{org}[/{purpose}]  unsigned BitstringStatusListCredential
    GET  /v1/credentials/schemas/{type}?version=         a credential type's schema version

A status list is answered unsigned, with the height and state root it reflects: it is derived
from the status records, which the state root commits to, so a verifier checks the per-credential
status record's proof rather than trusting a list the node signed (an issuer that wants a signed
list secures it with ``create_proof`` and publishes it itself).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from litestar import Request, get, post

from govchain.api.auth import PUBLIC
from govchain.api.dto import StateView
from govchain.api.views import block_header_view
from govchain.app.application import Application, StateProofResult
from govchain.app.credential_bundle import build_credential_bundle
from govchain.app.verify_credential import verify_credential
from govchain.contracts.certs_records import anchor_state_key, status_state_key
from govchain.encoding import to_builtins
from govchain.errors import BadRequest
from govchain.merkle import smt
from govchain.node.runtime import Node

__all__ = ["VerifyRequest", "cert_routes", "state_view"]

PURPOSES = ("revocation", "suspension")


class VerifyRequest(msgspec.Struct):
    credential: dict[str, Any]
    at_ms: int | None = None  # verify as of this time (default: the node's clock)


def state_view(app: Application, result: StateProofResult) -> StateView:
    """A state proof in the API's shape (as ``GET /v1/state/{key}`` answers it)."""
    block = app.get_block(result.height)
    return StateView(
        result.key.hex(),
        result.value.hex() if result.value is not None else None,
        result.value is not None,
        result.height,
        block_header_view(block),
        smt.encode_state_proof(result.proof).hex(),
    )


def _hash(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest("the credential hash must be 64 hex digits (SHA-256)")
    return raw


def cert_routes(node: Node) -> list[Any]:
    """The certificate route handlers of ``node``'s API."""
    app_ = node.app

    def _verify(data: VerifyRequest) -> dict[str, Any]:
        now_ms = data.at_ms if data.at_ms is not None else int(time.time() * 1000)
        result = verify_credential(app_, data.credential, now_ms)
        return {
            "valid": result.valid,
            "credential_hash": result.credential_hash.hex() if result.credential_hash else None,
            "height": result.height,
            "at_ms": now_ms,
            "checks": [c.to_json() for c in result.checks],
            "anchor": to_builtins(result.anchor),
            "status": to_builtins(result.status),
            "anchor_state": None
            if result.anchor_proof is None
            else to_builtins(state_view(app_, result.anchor_proof)),
            "status_state": None
            if result.status_proof is None
            else to_builtins(state_view(app_, result.status_proof)),
        }

    @post(
        "/v1/credentials/verify",
        status_code=200,
        summary="Verify a secured credential: every check named, with its outcome and reason",
        description="Body `{credential, at_ms?}`. Checks: format, proof, chain, issuer, anchor, "
        "key, signature, accreditation, schema, validity, status. The anchor and status records "
        "come with state proofs against the latest block's root.",
        opt=PUBLIC,
    )
    async def verify(data: VerifyRequest) -> dict[str, Any]:
        return await asyncio.to_thread(_verify, data)

    def _show(credential_hash: bytes, height: int | None) -> dict[str, Any]:
        anchor = app_.query("certs", "get", {"credential_hash": credential_hash}, height)
        status = app_.query("certs", "status", {"credential_hash": credential_hash}, height)
        anchor_proof = app_.prove_state(anchor_state_key(credential_hash), height)
        status_proof = app_.prove_state(status_state_key(credential_hash), height)
        return {
            "anchor": to_builtins(anchor),
            "status": to_builtins(status),
            "anchor_state": to_builtins(state_view(app_, anchor_proof)),
            "status_state": to_builtins(state_view(app_, status_proof)),
        }

    @get(
        "/v1/credentials/{credential_hash:str}",
        summary="A credential's anchor and status, each with a state proof",
        description="Errors: CERT_NOT_FOUND (404) when the hash is not anchored.",
        opt=PUBLIC,
    )
    async def show(credential_hash: str, height: int | None = None) -> dict[str, Any]:
        return await asyncio.to_thread(_show, _hash(credential_hash), height)

    @get(
        "/v1/credentials/{credential_hash:str}/bundle",
        summary="An offline verification bundle: signed header and state proofs",
        description="A `govchain-bundle-v1` bundle at the latest height: the signed block header "
        "and state proofs of the anchor, the status, the signing member's identity record "
        "(`member`, default the anchor's submitter) and the issuer's accreditation. The node "
        "holds no credential: the holder adds it (`credential` is null here). "
        "Errors: CERT_NOT_FOUND (404) when the hash is not anchored.",
        opt=PUBLIC,
    )
    async def bundle(credential_hash: str, member: str | None = None) -> dict[str, Any]:
        built = await asyncio.to_thread(
            build_credential_bundle, app_, _hash(credential_hash), member=member
        )
        return to_builtins(built)  # type: ignore[no-any-return]

    def _status_list(request: Request[Any, Any, Any], org: str, purpose: str) -> dict[str, Any]:
        if purpose not in PURPOSES:
            raise BadRequest(f"purpose must be one of {', '.join(PURPOSES)}")
        height = app_.info().height
        url = str(request.base_url).rstrip("/") + f"/v1/credentials/status-lists/{org}/{purpose}"
        args = {"org": org, "purpose": purpose, "list_url": url}
        credential = app_.query("certs", "status_list", args, height)
        header = app_.get_header(height)
        return {
            "credential": credential,
            "height": height,
            "state_root": header.state_root.hex(),
            "signed": False,
        }

    @get(
        "/v1/credentials/status-lists/{org:str}/{purpose:str}",
        summary="An organisation's status list (revocation or suspension), unsigned, "
        "with the height and state root it reflects",
        opt=PUBLIC,
    )
    async def status_list(
        request: Request[Any, Any, Any], org: str, purpose: str
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_status_list, request, org, purpose)

    @get(
        "/v1/credentials/status-lists/{org:str}",
        summary="An organisation's revocation status list (unsigned)",
        opt=PUBLIC,
    )
    async def revocation_list(request: Request[Any, Any, Any], org: str) -> dict[str, Any]:
        return await asyncio.to_thread(_status_list, request, org, "revocation")

    @get(
        "/v1/credentials/schemas/{credential_type:str}",
        summary="A credential type's JSON Schema (a version, or the latest)",
        opt=PUBLIC,
    )
    async def schema(credential_type: str, version: str | None = None) -> dict[str, Any]:
        args = {"credential_type": credential_type, "version": version}
        record = await asyncio.to_thread(app_.query, "certs", "schema", args)
        return to_builtins(record)  # type: ignore[no-any-return]

    return [verify, show, bundle, status_list, revocation_list, schema]
