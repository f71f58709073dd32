"""Page models of the public directory: organisations, their DIDs, notarised documents and
credential anchors — what the public API routes answer, read through contract views."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from govchain.app import Application
from govchain.contracts.certs_records import CertAnchor, CertStatus
from govchain.contracts.did import InvalidDid, did_of, parse_did
from govchain.contracts.identity import Identity
from govchain.contracts.notary import NotaryRecord
from govchain.encoding import to_builtins
from govchain.errors import GovchainError, NotFound

__all__ = [
    "CredentialRecord",
    "DidPage",
    "MemberRow",
    "OrgDetail",
    "OrgRow",
    "get_credential_record",
    "get_did_page",
    "get_notary_record",
    "get_org_detail",
    "list_members",
    "list_orgs",
]


@dataclass(frozen=True, slots=True)
class OrgRow:
    id: str
    name: str
    name_zh: str
    kind: str
    status: str
    founding: bool
    did: str


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member's or node's public id and roles (nothing else of it is shown)."""

    id: str
    kind: str
    roles: list[str]
    status: str


@dataclass(frozen=True, slots=True)
class OrgDetail:
    org: OrgRow
    created_height: int
    updated_height: int
    keys: int
    services: list[tuple[str, str, str]]  # id, type, endpoint
    members: list[MemberRow] | None  # None: not shown (a member-only read)


@dataclass(frozen=True, slots=True)
class DidPage:
    did: str
    identity_id: str
    height: int
    methods: list[tuple[str, str]]  # verification method id, publicKeyMultibase
    document_json: str
    metadata_json: str


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    anchor: CertAnchor
    status: CertStatus | None


def _org_row(chain_id: str, org: Identity) -> OrgRow:
    return OrgRow(
        org.id,
        org.name,
        org.name_zh,
        org.org_kind,
        org.status,
        org.founding,
        did_of(chain_id, org.id),
    )


def list_orgs(app: Application) -> list[OrgRow]:
    orgs: list[Identity] = app.query("identity", "orgs", {})
    return sorted((_org_row(app.chain_id, o) for o in orgs), key=lambda r: r.id)


def list_members(app: Application, org_id: str) -> list[MemberRow]:
    """An organisation's members' and nodes' ids, roles and status — what the member-only
    ``GET /v1/orgs/{org}/members`` answers."""
    members: list[Identity] = app.query("identity", "members", {"id": org_id})
    return [MemberRow(m.id, m.kind, list(m.roles), m.status) for m in members]


def get_org_detail(app: Application, org_id: str, *, with_members: bool) -> OrgDetail:
    """An organisation's public record (``GET /v1/orgs/{org}``), with its members when asked."""
    org: Identity = app.query("identity", "org", {"id": org_id})
    return OrgDetail(
        _org_row(app.chain_id, org),
        org.created_height,
        org.updated_height,
        len(org.keys),
        [(s.id, s.type, s.endpoint) for s in org.services],
        list_members(app, org_id) if with_members else None,
    )


def is_public_did(identity_id: str) -> bool:
    """Organisations' DIDs are public (their ids have no ``:``); others are not."""
    return ":" not in identity_id


def get_did_page(app: Application, did: str) -> DidPage:
    """An organisation's DID resolved at the latest height. Raises :class:`InvalidDid` for a DID
    of another chain and :class:`NotFound` for one that is not an organisation's."""
    chain_id, identity_id = parse_did(did)
    if chain_id != app.chain_id:
        raise InvalidDid(
            f"the DID is of chain {chain_id!r}; this node serves {app.chain_id!r}",
            hint="Resolve it with a node of its own chain.",
        )
    if not is_public_did(identity_id):
        raise NotFound(
            f"{did} is not an organisation's DID",
            hint="Only organisations' DIDs are public; members and the identity itself read "
            "others through the API with a signed request.",
        )
    result: dict[str, Any] = app.query("identity", "did", {"id": identity_id})
    document = result["didDocument"]
    methods = [
        (str(m.get("id", "")), str(m.get("publicKeyMultibase", "")))
        for m in document.get("verificationMethod", [])
    ]
    return DidPage(
        did,
        identity_id,
        int(result["didResolutionMetadata"].get("height", app.info().height)),
        methods,
        json.dumps(to_builtins(document), indent=2, ensure_ascii=False),
        json.dumps(to_builtins(result["didDocumentMetadata"]), indent=2, ensure_ascii=False),
    )


def get_notary_record(app: Application, doc_hash: bytes) -> NotaryRecord | None:
    try:
        record: NotaryRecord = app.query("notary", "get", {"hash": doc_hash})
    except GovchainError as exc:
        if exc.status == 404:
            return None
        raise
    return record


def get_credential_record(app: Application, credential_hash: bytes) -> CredentialRecord | None:
    """A credential's anchor and status, as ``GET /v1/credentials/{hash}`` answers them."""
    args = {"credential_hash": credential_hash}
    try:
        anchor: CertAnchor = app.query("certs", "get", args)
    except GovchainError as exc:
        if exc.status == 404:
            return None
        raise
    try:
        status: CertStatus | None = app.query("certs", "status", args)
    except GovchainError as exc:
        if exc.status != 404:
            raise
        status = None
    return CredentialRecord(anchor, status)
