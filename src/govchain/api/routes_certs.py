"""Certificate routes: verify a credential, read its anchor and status with proofs, status lists
and schemas. All public: verifying a certificate is a public service, and none of these answers
holds personal data (the chain holds hashes and metadata only).

    POST /v1/credentials/verify                          the named checks of a secured VC
    GET  /v1/credentials/{hash}                          anchor + status with state proofs
    GET  /v1/credentials/{hash}/bundle?member=           offline verification bundle (no VC)
    GET  /v1/credentials/status-lists/{org}[/{purpose}]  the issuer-signed list (else derived)
    GET  /v1/credentials/status-lists/{org}/{purpose}/derived   the unsigned derived list
    GET  /v1/credentials/status-lists/{org}/{purpose}/proofs?hash=&member=
                                                         state proofs to check a signed list
    POST /v1/credentials/status-lists/verify             the named checks of a signed list
    GET  /v1/credentials/schemas/{type}?version=         a credential type's schema version
    GET  /v1/credentials/issuers/trust?org=A&org=B       issuers' keys, proven (offline use)

A status list is answered as the issuer signed and anchored it (``publish_status_list``), with
its record; until the organisation publishes one, and always under ``.../derived``, the node
answers the list derived from the status records, unsigned (``"signed": false``), with the
height and state root it reflects: a verifier then checks the per-credential status record's
proof rather than trusting the node.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from govchain.api.auth import PUBLIC
from govchain.api.dto import StateView
from govchain.api.views import block_header_view, finality_view
from govchain.app.application import Application, StateProofResult
from govchain.app.credential_bundle import build_credential_bundle, build_issuer_trust
from govchain.app.verify_credential import verify_credential
from govchain.app.verify_status_list import verify_status_list
from govchain.contracts.certs_records import anchor_state_key, status_state_key
from govchain.contracts.certs_status_lists import (
    StatusListRecord,
    status_list_hash_state_key,
    status_list_state_key,
)
from govchain.contracts.identity import identity_state_key
from govchain.credentials.bundle import VerificationBundle
from govchain.encoding import decode, to_builtins
from govchain.errors import BadRequest, NotFoundInState
from govchain.merkle import smt
from govchain.node.runtime import Node
from govchain.types.finality import CertificateNotFound

__all__ = ["VerifyListRequest", "VerifyRequest", "cert_routes", "state_view"]

PURPOSES = ("revocation", "suspension")


class VerifyRequest(msgspec.Struct):
    credential: dict[str, Any]
    at_ms: int | None = None  # verify as of this time (default: the node's clock)


class VerifyListRequest(msgspec.Struct):
    credential: dict[str, Any]  # the signed BitstringStatusListCredential
    at_ms: int | None = None
    max_age_ms: int | None = None  # refuse lists published longer ago
    issuer: str | None = None  # the DID of the credential whose status is looked up


def state_view(app: Application, result: StateProofResult) -> StateView:
    """A state proof in the API's shape (as ``GET /v1/state/{key}`` answers it), with the
    block's finality certificate when the node has it."""
    block = app.get_block(result.height)
    return StateView(
        result.key.hex(),
        result.value.hex() if result.value is not None else None,
        result.value is not None,
        result.height,
        block_header_view(block),
        smt.encode_state_proof(result.proof).hex(),
        finality_view(app.store.get_finality_certificate(result.height)),
    )


def _hash(value: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise BadRequest("the hash must be 64 hex digits (SHA-256)")
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
    async def verify(data: JSONBody[VerifyRequest]) -> dict[str, Any]:
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
    async def show(
        credential_hash: FromPath[str], height: FromQuery[int | None] = None
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_show, _hash(credential_hash), height)

    @get(
        "/v1/credentials/{credential_hash:str}/bundle",
        summary="An offline verification bundle: signed header and state proofs",
        description="A `govchain-bundle-v3` bundle: the latest signed block header with state "
        "proofs of the anchor and the status (and, when the anchoring block is older, of that "
        "block's hash in the block-hash history); the anchoring block's header with state "
        "proofs of the signing member's identity record (`member`, default the anchor's "
        "submitter), the issuing organisation, its accreditation and the schema as they stood "
        "at issuance. The node holds no credential: the holder adds it (`credential` is null "
        "here). Each header carries its block's finality certificate (`finality`) when the node "
        "has it; `final=true` proves the status at the latest finalized height instead of the "
        "latest height. "
        "Errors: CERT_NOT_FOUND (404) when the hash is not anchored (at that height); "
        "FINALITY_NOT_FOUND (404) with `final=true` while no block is final.",
        opt=PUBLIC,
    )
    async def bundle(
        credential_hash: FromPath[str],
        member: FromQuery[str | None] = None,
        final: FromQuery[bool] = False,
    ) -> dict[str, Any]:
        built = await asyncio.to_thread(_bundle, _hash(credential_hash), member, final)
        return to_builtins(built)  # type: ignore[no-any-return]

    def _bundle(credential_hash: bytes, member: str | None, final: bool) -> VerificationBundle:
        height = None
        if final:
            height = node.store.get_finalized_height()
            if height < 0:
                raise CertificateNotFound("no block of this chain is final yet")
        return build_credential_bundle(
            app_,
            credential_hash,
            member=member,
            height=height,
            finality_for=node.store.get_finality_certificate,
        )

    def _published(org: str, purpose: str) -> dict[str, Any] | None:
        args = {"org": org, "purpose": purpose}
        try:
            found = app_.query("certs", "published_status_list", args)
        except NotFoundInState:
            return None
        record = found["record"]
        return {
            "credential": msgspec.json.decode(found["credential_json"]),
            "signed": True,
            "derived": False,
            "height": record.list_height,
            "record": to_builtins(record),
        }

    def _status_list(request: Request[Any, Any, Any], org: str, purpose: str) -> dict[str, Any]:
        if purpose not in PURPOSES:
            raise BadRequest(f"purpose must be one of {', '.join(PURPOSES)}")
        return _published(org, purpose) or _derived_list(request, org, purpose)

    def _derived_list(request: Request[Any, Any, Any], org: str, purpose: str) -> dict[str, Any]:
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
            "time_ms": header.time_ms,
            "signed": False,
            "derived": True,
        }

    @get(
        "/v1/credentials/status-lists/{org:str}/{purpose:str}",
        summary="An organisation's status list (revocation or suspension): the latest one the "
        "issuer signed and anchored, else the unsigned list derived from state",
        description="`signed` says which: a signed list comes with its chain record (hash, "
        "the height it reflects, where it was published); check it with "
        "`POST /v1/credentials/status-lists/verify`.",
        opt=PUBLIC,
    )
    async def status_list(
        request: Request[Any, Any, Any], org: FromPath[str], purpose: FromPath[str]
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_status_list, request, org, purpose)

    @get(
        "/v1/credentials/status-lists/{org:str}/{purpose:str}/derived",
        summary="An organisation's status list derived from state now: UNSIGNED, with the "
        "height and state root it reflects",
        opt=PUBLIC,
    )
    async def derived_list(
        request: Request[Any, Any, Any], org: FromPath[str], purpose: FromPath[str]
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_derived_list, request, org, purpose)

    def _list_proofs(org: str, purpose: str, list_hash: bytes, member: str) -> dict[str, Any]:
        height = app_.info().height
        by_hash = app_.prove_state(status_list_hash_state_key(list_hash), height)
        latest = app_.prove_state(status_list_state_key(org, purpose), height)
        signer_height = height
        if by_hash.value is not None:
            signer_height = decode(by_hash.value, StatusListRecord).height
        signer = app_.prove_state(identity_state_key(member), signer_height)
        return {
            name: to_builtins(state_view(app_, result))
            for name, result in (("record", by_hash), ("latest", latest), ("signer", signer))
        }

    @get(
        "/v1/credentials/status-lists/{org:str}/{purpose:str}/proofs",
        summary="State proofs to check a signed status list without trusting the node",
        description="`hash` (the list credential's SHA-256, hex) and `member` (the signing "
        "member's id): the list's record by hash and the organisation's latest record, proven "
        "at the latest height, and the member's identity record proven at the publishing "
        "height (the latest when the list is not anchored).",
        opt=PUBLIC,
    )
    async def list_proofs(
        org: FromPath[str], purpose: FromPath[str], hash: FromQuery[str], member: FromQuery[str]
    ) -> dict[str, Any]:
        if purpose not in PURPOSES:
            raise BadRequest(f"purpose must be one of {', '.join(PURPOSES)}")
        return await asyncio.to_thread(_list_proofs, org, purpose, _hash(hash), member)

    def _verify_list(data: VerifyListRequest) -> dict[str, Any]:
        now_ms = data.at_ms if data.at_ms is not None else int(time.time() * 1000)
        result = verify_status_list(
            app_, data.credential, now_ms, issuer=data.issuer, max_age_ms=data.max_age_ms
        )
        return {**result.to_json(), "at_ms": now_ms}

    @post(
        "/v1/credentials/status-lists/verify",
        status_code=200,
        summary="Verify a signed status list: every check named, with its outcome and reason",
        description="Body `{credential, at_ms?, max_age_ms?, issuer?}`. Checks: format, issuer "
        "(the credential's issuer when `issuer` is given), anchor (published on chain and not "
        "superseded), key (a member with issuer or admin role, key valid when published), "
        "signature, freshness, content (the bits are the state's at the height the list "
        "reflects).",
        opt=PUBLIC,
    )
    async def verify_list(data: JSONBody[VerifyListRequest]) -> dict[str, Any]:
        return await asyncio.to_thread(_verify_list, data)

    @get(
        "/v1/credentials/status-lists/{org:str}",
        summary="An organisation's revocation status list (signed if published)",
        opt=PUBLIC,
    )
    async def revocation_list(
        request: Request[Any, Any, Any], org: FromPath[str]
    ) -> dict[str, Any]:
        return await asyncio.to_thread(_status_list, request, org, "revocation")

    @get(
        "/v1/credentials/schemas/{credential_type:str}",
        summary="A credential type's JSON Schema (a version, or the latest)",
        opt=PUBLIC,
    )
    async def schema(
        credential_type: FromPath[str], version: FromQuery[str | None] = None
    ) -> dict[str, Any]:
        args = {"credential_type": credential_type, "version": version}
        record = await asyncio.to_thread(app_.query, "certs", "schema", args)
        return to_builtins(record)  # type: ignore[no-any-return]

    @get(
        "/v1/credentials/issuers/trust",
        summary="A trust file: issuing organisations' and members' identity records, proven",
        description="`org` (repeatable): a `govchain-issuer-trust-v1` document with the latest "
        "signed header and state proofs of each organisation's identity record and those of "
        "its members holding an issuing role; a verifier holding only the genesis resolves "
        "issuer keys from it offline (`govchain cert qr-verify --trust`).",
        opt=PUBLIC,
    )
    async def issuer_trust(org: FromQuery[list[str]]) -> dict[str, Any]:
        built = await asyncio.to_thread(
            build_issuer_trust, app_, org, finality_for=node.store.get_finality_certificate
        )
        return to_builtins(built)  # type: ignore[no-any-return]

    return [
        issuer_trust,
        verify,
        show,
        bundle,
        status_list,
        derived_list,
        list_proofs,
        verify_list,
        revocation_list,
        schema,
    ]
