"""Certificates: credential types' schemas, credential anchors and their status on chain.

The chain holds no personal data: a W3C Verifiable Credential stays with its holder; the chain
holds its SHA-256 (of the JCS form of the secured credential), its metadata and its status.

- **Schemas.** ``register_schema(type, version, schema_json)`` by an admin or issuer of an
  organisation that governance accredits for the type (the accredited issuer knows the type's
  data; governance already decided who that is, so no second vote is needed). A schema must be
  a valid JSON Schema draft 2020-12 (``CERT_SCHEMA_INVALID``) and is immutable once registered
  (``CERT_SCHEMA_EXISTS``): a change is a new version.
- **Anchors.** ``anchor(...)`` (one) and ``anchor_batch(...)`` (up to :data:`MAX_BATCH`, one
  transaction, all or nothing) by an issuer or officer of the issuing organisation
  (``CERT_NOT_ISSUER``; admins administer, they do not issue), which must be accredited for the
  type at this height (``CERT_NOT_ACCREDITED``), for a registered schema version
  (``CERT_UNKNOWN_SCHEMA``); a hash is anchored once (``CERT_ALREADY_ANCHORED``).
- **Status indexes.** The issuer chooses each credential's bit in its organisation's status lists
  *before* signing (it goes into ``credentialStatus``): the view ``next_status_index(org)`` says
  the first unused one, and the contract refuses an index already used by the organisation
  (``CERT_STATUS_INDEX_TAKEN``) or beyond :data:`MAX_STATUS_INDEX` (``CERT_BAD_STATUS_INDEX``).
  Refusing reuse rather than demanding exactly the next index lets batches be pipelined and
  several issuers of one organisation work at once; a collision is refused, never silently
  shared.
- **Signed status lists.** ``publish_status_list(org, purpose, list_height, credential_json)``
  by an issuer or admin of the organisation (``CERT_NOT_ISSUER``) anchors the organisation's
  signed Bitstring Status List credential (see :mod:`govchain.contracts.certs_status_lists`):
  the contract runs the verifiers' own checker on it with the sender's key
  (``CERT_STATUS_LIST_INVALID``), refuses a list reflecting an older height than the one
  published (``CERT_STATUS_LIST_STALE``), a list published before (``CERT_STATUS_LIST_EXISTS``)
  and one beyond :data:`~govchain.contracts.certs_status_lists.MAX_STATUS_LIST_JSON` bytes
  (``CERT_STATUS_LIST_TOO_LARGE``).
- **Status.** ``revoke``, ``suspend``, ``reinstate`` with a reason code from
  :data:`REASON_CODES` (``CERT_BAD_REASON``) by an issuer, officer or admin of the issuing
  organisation (``CERT_NOT_ISSUER``). Revocation is final (``CERT_REVOKED_FINAL``); suspending a
  suspended or reinstating an active credential is ``CERT_BAD_TRANSITION``. Every change is kept
  in the status record's history.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.certs_records import (
    ANCHOR_ROLES,
    ASSURANCE_LEVELS,
    MAX_BATCH,
    MAX_SCHEMA_BYTES,
    MAX_STATUS_INDEX,
    NAME,
    REASON_CODES,
    SCHEMA_ROLES,
    STATUS_ROLES,
    AnchorArgs,
    AnchorBatchArgs,
    BatchItem,
    CertAnchor,
    CertState,
    CertStatus,
    HashArgs,
    OrgArgs,
    RegisterSchemaArgs,
    SchemaArgs,
    SchemaRecord,
    StatusArgs,
    StatusChange,
    StatusListArgs,
    build_org_status_list,
    check_type_and_version,
    flag_key,
    get_anchor,
    get_next_status_index,
    get_schema,
    get_status,
    index_key,
    schema_key,
)
from govchain.contracts.certs_status_lists import (
    MAX_STATUS_LIST_JSON,
    PUBLISH_ROLES,
    PublishedListArgs,
    PublishStatusListArgs,
    StatusListHashArgs,
    StatusListRecord,
    check_signed_status_list,
    get_published_status_list,
    get_status_list_by_hash,
    get_status_list_document,
    get_status_list_shape,
)
from govchain.contracts.did import did_of
from govchain.contracts.governance_actions import is_accredited
from govchain.contracts.identity import get_chain_id, get_identity, get_org, resolve_signer
from govchain.contracts.policy import Signer
from govchain.credentials.errors import SchemaInvalid
from govchain.credentials.schema import SubjectSchema
from govchain.credentials.status_list import STATUS_PURPOSES
from govchain.credentials.vc import compute_credential_hash
from govchain.errors import (
    AlreadyExists,
    ContractError,
    GovchainError,
    NotFoundInState,
    Unauthorized,
)

__all__ = ["CertsContract"]


# --- authorisation ---------------------------------------------------------------------------


def _require_role(ctx: Context, org: str, roles: tuple[str, ...], action: str) -> Signer:
    """The sender as an active member of ``org`` holding one of ``roles``, or
    ``CERT_NOT_ISSUER``."""
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    if signer is None or signer.org != org or not (signer.roles & set(roles)):
        raise Unauthorized(
            f"{action} needs the key of a member of {org!r} with role {' or '.join(roles)}",
            code="CERT_NOT_ISSUER",
            hint=f"Sign with the key of one of {org}'s members holding that role.",
        )
    return signer


def _require_org(ctx: ReadContext, org: str) -> None:
    identity = get_org(ctx, org)
    if identity is None or identity.status != "active":
        raise NotFoundInState(
            f"no active organisation {org!r}",
            code="CERT_UNKNOWN_ORG",
            hint="GET /v1/orgs lists the organisations.",
        )


def _require_accredited(ctx: ReadContext, org: str, credential_type: str) -> None:
    if not is_accredited(ctx, org, credential_type):
        raise Unauthorized(
            f"{org!r} is not accredited to issue {credential_type!r}",
            code="CERT_NOT_ACCREDITED",
            hint="Governance accredits issuers: `govchain gov propose accredit --issuer ORG "
            "--type TYPE`.",
        )


# --- checks ----------------------------------------------------------------------------------


def _check_schema_json(text: str) -> str:
    if len(text.encode()) > MAX_SCHEMA_BYTES:
        raise ContractError(
            f"a schema has at most {MAX_SCHEMA_BYTES} bytes", code="CERT_SCHEMA_INVALID"
        )
    try:
        schema = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ContractError(f"the schema is not JSON: {exc}", code="CERT_SCHEMA_INVALID") from None
    try:
        SubjectSchema(schema)
    except SchemaInvalid as exc:
        raise ContractError(
            exc.message,
            code="CERT_SCHEMA_INVALID",
            hint="Write a JSON Schema draft 2020-12 object "
            '("$schema": "https://json-schema.org/draft/2020-12/schema").',
        ) from None
    return text


def _check_item(ctx: Context, org: str, item: BatchItem) -> None:
    bad = None
    if len(item.credential_hash) != 32:
        bad = "credential_hash must be a 32-byte SHA-256 digest"
    elif item.assurance_level not in ASSURANCE_LEVELS:
        bad = f"assurance_level must be one of {', '.join(ASSURANCE_LEVELS)}"
    elif item.valid_until_ms is not None and item.valid_until_ms <= item.valid_from_ms:
        bad = "valid_until_ms must be after valid_from_ms"
    elif item.valid_until_ms is not None and item.valid_until_ms <= ctx.time_ms:
        bad = "valid_until_ms is in the past"
    if bad is not None:
        raise ContractError(bad, code="CERT_BAD_ARGS")
    if not 0 <= item.status_index < MAX_STATUS_INDEX:
        raise ContractError(
            f"status_index must be 0..{MAX_STATUS_INDEX - 1}", code="CERT_BAD_STATUS_INDEX"
        )
    if ctx.get(b"anchor/" + item.credential_hash) is not None:
        raise AlreadyExists(
            f"credential {item.credential_hash.hex()} is already anchored",
            code="CERT_ALREADY_ANCHORED",
            hint="`govchain cert show HASH` shows the existing anchor.",
        )
    if ctx.get(index_key(org, item.status_index)) is not None:
        raise AlreadyExists(
            f"status index {item.status_index} of {org} is already used",
            code="CERT_STATUS_INDEX_TAKEN",
            hint="Ask `next_status_index` again, then rebuild and re-sign the credential.",
        )


def _put_anchor(ctx: Context, args: AnchorBatchArgs, item: BatchItem, submitter: str) -> CertAnchor:
    record = CertAnchor(
        item.credential_hash,
        args.credential_type,
        args.schema_version,
        args.issuer_org,
        submitter,
        item.valid_from_ms,
        item.valid_until_ms,
        item.assurance_level,
        item.status_index,
        ctx.height,
        ctx.time_ms,
        ctx.tx_id,
    )
    ctx.set(b"anchor/" + item.credential_hash, record)
    ctx.set(b"status/" + item.credential_hash, _initial_status(ctx, record))
    ctx.set(index_key(args.issuer_org, item.status_index), item.credential_hash)
    return record


def _initial_status(ctx: Context, record: CertAnchor) -> CertStatus:
    return CertStatus(
        record.credential_hash,
        record.issuer_org,
        record.status_index,
        "active",
        "",
        ctx.height,
    )


def _anchor_all(ctx: Context, args: AnchorBatchArgs) -> list[CertAnchor]:
    """Check and write every item; any failure raises, so the transaction changes nothing."""
    check_type_and_version(args.credential_type, args.schema_version)
    _require_org(ctx, args.issuer_org)
    signer = _require_role(ctx, args.issuer_org, ANCHOR_ROLES, f"issuing for {args.issuer_org}")
    _require_accredited(ctx, args.issuer_org, args.credential_type)
    get_schema(ctx, args.credential_type, args.schema_version)
    if not 1 <= len(args.items) <= MAX_BATCH:
        raise ContractError(
            f"a batch anchors 1..{MAX_BATCH} credentials, got {len(args.items)}",
            code="CERT_BATCH_TOO_LARGE",
            hint="Split the rows into batches (`bulk_issue` does).",
        )
    records = []
    highest = get_next_status_index(ctx, args.issuer_org) - 1
    for item in args.items:
        _check_item(ctx, args.issuer_org, item)  # sees the items written before it
        records.append(_put_anchor(ctx, args, item, signer.identity))
        highest = max(highest, item.status_index)
    ctx.set(f"next_index/{args.issuer_org}", msgspec.msgpack.encode(highest + 1))
    return records


# --- status ----------------------------------------------------------------------------------


_TRANSITIONS: dict[str, tuple[CertState, tuple[CertState, ...]]] = {
    "revoke": ("revoked", ("active", "suspended")),
    "suspend": ("suspended", ("active",)),
    "reinstate": ("active", ("suspended",)),
}


def _change_status(ctx: Context, args: StatusArgs, action: str) -> CertStatus:
    if args.reason_code not in REASON_CODES:
        raise ContractError(
            f"unknown reason code {args.reason_code[:40]!r}",
            code="CERT_BAD_REASON",
            hint=f"Use one of {', '.join(REASON_CODES)}.",
        )
    current = get_status(ctx, args.credential_hash)
    if current is None:
        raise NotFoundInState(
            f"credential {args.credential_hash.hex()} is not anchored", code="CERT_NOT_FOUND"
        )
    signer = _require_role(ctx, current.issuer_org, STATUS_ROLES, f"{action} a credential")
    target, allowed_from = _TRANSITIONS[action]
    if current.status == "revoked":
        raise ContractError(
            f"credential {args.credential_hash.hex()} is revoked; revocation is final",
            code="CERT_REVOKED_FINAL",
            hint="Issue a new credential instead.",
        )
    if current.status not in allowed_from:
        raise ContractError(
            f"cannot {action} a credential that is {current.status}", code="CERT_BAD_TRANSITION"
        )
    org, index = current.issuer_org, current.status_index
    ctx.delete(flag_key(org, "suspension", index))
    if target != "active":
        ctx.set(flag_key(org, "revocation" if target == "revoked" else "suspension", index), b"")
    change = StatusChange(
        target, args.reason_code, signer.identity, ctx.height, ctx.time_ms, ctx.tx_id
    )
    updated = msgspec.structs.replace(
        current,
        status=target,
        reason_code=args.reason_code,
        updated_height=ctx.height,
        history=[*current.history, change],
    )
    ctx.set(b"status/" + args.credential_hash, updated)
    ctx.emit(target if target != "active" else "reinstated", hash=args.credential_hash.hex())
    return updated


# --- signed status lists ---------------------------------------------------------------------


def _invalid_list(reason: str) -> ContractError:
    return ContractError(
        reason,
        code="CERT_STATUS_LIST_INVALID",
        hint="Build and sign the list with `govchain cert status-list publish`.",
    )


def _check_list_args(ctx: Context, args: PublishStatusListArgs) -> None:
    if args.purpose not in STATUS_PURPOSES:
        raise ContractError(
            f"status purpose {args.purpose[:40]!r} is not revocation or suspension",
            code="CERT_BAD_ARGS",
        )
    if len(args.credential_json.encode()) > MAX_STATUS_LIST_JSON:
        raise ContractError(
            f"a status list credential has at most {MAX_STATUS_LIST_JSON} bytes",
            code="CERT_STATUS_LIST_TOO_LARGE",
            hint="Verifiers check large lists per credential instead (`govchain cert verify`).",
        )
    if not 0 <= args.list_height <= ctx.height:
        raise ContractError(f"list_height must be 0..{ctx.height}", code="CERT_BAD_ARGS")
    latest = get_published_status_list(ctx, args.org, args.purpose)
    if latest is not None and args.list_height < latest.list_height:
        raise ContractError(
            f"the published list reflects height {latest.list_height}, this one {args.list_height}",
            code="CERT_STATUS_LIST_STALE",
            hint="Build the list from the latest state and publish again.",
        )


def _publish_list(ctx: Context, args: PublishStatusListArgs) -> StatusListRecord:
    _check_list_args(ctx, args)
    _require_org(ctx, args.org)
    signer = _require_role(ctx, args.org, PUBLISH_ROLES, f"publishing {args.org}'s status lists")
    try:
        document = msgspec.json.decode(args.credential_json)
        shape = get_status_list_shape(document)
    except (msgspec.DecodeError, ValueError, TypeError, GovchainError) as exc:
        raise _invalid_list(f"not a signed status list credential: {str(exc)[:200]}") from None
    issuer = did_of(get_chain_id(ctx), args.org)
    if (shape.org, shape.purpose) != (args.org, args.purpose):
        raise _invalid_list(f"the list is {shape.org}'s {shape.purpose} list")
    member = get_identity(ctx, signer.identity)
    position = shape.key_position
    if (
        member is None
        or shape.member != signer.identity
        or not (
            1 <= position <= len(member.keys) and member.keys[position - 1].public_key == ctx.sender
        )
    ):
        raise _invalid_list("the list must be signed with the key that sends the transaction")
    digest = compute_credential_hash(document)
    record = StatusListRecord(
        args.org,
        args.purpose,
        digest,
        str(document.get("id")),
        args.list_height,
        shape.valid_from_ms,
        shape.valid_until_ms,
        signer.identity,
        shape.verification_method,
        ctx.height,
        ctx.time_ms,
        ctx.tx_id,
    )
    checks = check_signed_status_list(
        document,
        chain_id=get_chain_id(ctx),
        record=record,
        latest=None,
        signer=member,
        signer_height=ctx.height,
        now_ms=ctx.time_ms,
        expected_issuer=issuer,
    )
    failed = next((c for c in checks if c.ok is not True), None)
    if failed is not None:
        raise _invalid_list(f"{failed.check}: {failed.code} {failed.reason}")
    if get_status_list_by_hash(ctx, digest) is not None:
        raise AlreadyExists(
            "this status list credential is already published", code="CERT_STATUS_LIST_EXISTS"
        )
    ctx.set(f"status_list/{args.org}/{args.purpose}", record)
    ctx.set(f"status_list_doc/{args.org}/{args.purpose}", args.credential_json.encode())
    ctx.set(b"status_list_hash/" + digest, record)
    ctx.emit("status_list_published", org=args.org, purpose=args.purpose, hash=digest.hex())
    return record


class CertsContract(Contract):
    name = NAME
    description = (
        "Credential types' JSON Schemas, credential anchors (hashes and metadata, no personal "
        "data) and their status (revoked, suspended) with Bitstring Status Lists."
    )

    # --- methods ---------------------------------------------------------------------------

    @method(RegisterSchemaArgs)
    def register_schema(self, ctx: Context, args: RegisterSchemaArgs) -> SchemaRecord:
        """Register a version of a credential type's JSON Schema (an admin or issuer of an
        organisation accredited for the type); versions are immutable."""
        check_type_and_version(args.credential_type, args.version)
        signer = resolve_signer(ctx, ctx.sender, ctx.height)
        org = "" if signer is None else signer.org
        if signer is None or not (signer.roles & set(SCHEMA_ROLES)):
            raise Unauthorized(
                "registering a schema needs an admin or issuer of an accredited organisation",
                code="CERT_NOT_ISSUER",
                hint="Sign with the key of an admin or issuer of an accredited organisation.",
            )
        _require_accredited(ctx, org, args.credential_type)
        if ctx.get(schema_key(args.credential_type, args.version)) is not None:
            raise AlreadyExists(
                f"schema {args.credential_type} version {args.version} exists",
                code="CERT_SCHEMA_EXISTS",
                hint="Schemas are immutable: register a new version.",
            )
        text = _check_schema_json(args.schema_json)
        record = SchemaRecord(
            args.credential_type,
            args.version,
            text,
            hashlib.sha256(text.encode()).digest(),
            org,
            signer.identity,
            ctx.height,
            ctx.tx_id,
        )
        ctx.set(schema_key(args.credential_type, args.version), record)
        ctx.emit("schema_registered", type=args.credential_type, version=args.version)
        return record

    @method(AnchorArgs)
    def anchor(self, ctx: Context, args: AnchorArgs) -> CertAnchor:
        """Anchor one credential's hash with its metadata (an issuer or officer of an
        accredited issuing organisation)."""
        item = BatchItem(
            args.credential_hash,
            args.valid_from_ms,
            args.status_index,
            args.valid_until_ms,
            args.assurance_level,
        )
        batch = AnchorBatchArgs(args.credential_type, args.schema_version, args.issuer_org, [item])
        (record,) = _anchor_all(ctx, batch)
        ctx.emit("anchored", hash=args.credential_hash.hex(), issuer_org=args.issuer_org)
        return record

    @method(AnchorBatchArgs)
    def anchor_batch(self, ctx: Context, args: AnchorBatchArgs) -> dict[str, Any]:
        """Anchor up to 500 credentials of one type and issuer at once, all or nothing."""
        records = _anchor_all(ctx, args)
        ctx.emit("anchored_batch", issuer_org=args.issuer_org, count=str(len(records)))
        return {
            "count": len(records),
            "first_status_index": min(r.status_index for r in records),
            "height": ctx.height,
        }

    @method(StatusArgs)
    def revoke(self, ctx: Context, args: StatusArgs) -> CertStatus:
        """Revoke a credential for good, with a reason code."""
        return _change_status(ctx, args, "revoke")

    @method(StatusArgs)
    def suspend(self, ctx: Context, args: StatusArgs) -> CertStatus:
        """Suspend an active credential, with a reason code."""
        return _change_status(ctx, args, "suspend")

    @method(StatusArgs)
    def reinstate(self, ctx: Context, args: StatusArgs) -> CertStatus:
        """Reinstate a suspended credential (never a revoked one)."""
        return _change_status(ctx, args, "reinstate")

    @method(PublishStatusListArgs)
    def publish_status_list(self, ctx: Context, args: PublishStatusListArgs) -> StatusListRecord:
        """Anchor the organisation's signed revocation or suspension list (an issuer or admin;
        the list is signed with the sending key and reflects the state at ``list_height``)."""
        return _publish_list(ctx, args)

    # --- views -----------------------------------------------------------------------------

    @view(SchemaArgs)
    def schema(self, ctx: ReadContext, args: SchemaArgs) -> SchemaRecord:
        """A credential type's schema version (the latest if no version is given)."""
        return get_schema(ctx, args.credential_type, args.version)

    @view(SchemaArgs)
    def schema_versions(self, ctx: ReadContext, args: SchemaArgs) -> list[SchemaRecord]:
        """Every registered version of a credential type's schema."""
        return [
            msgspec.msgpack.decode(raw, type=SchemaRecord)
            for _, raw in ctx.iter(f"schema/{args.credential_type}/")
        ]

    @view(HashArgs)
    def get(self, ctx: ReadContext, args: HashArgs) -> CertAnchor:
        """A credential's anchor."""
        record = get_anchor(ctx, args.credential_hash)
        if record is None:
            raise NotFoundInState(
                f"credential {args.credential_hash.hex()} is not anchored",
                code="CERT_NOT_FOUND",
            )
        return record

    @view(HashArgs)
    def status(self, ctx: ReadContext, args: HashArgs) -> CertStatus:
        """A credential's status with its history."""
        record = get_status(ctx, args.credential_hash)
        if record is None:
            raise NotFoundInState(
                f"credential {args.credential_hash.hex()} is not anchored",
                code="CERT_NOT_FOUND",
            )
        return record

    @view(OrgArgs)
    def next_status_index(self, ctx: ReadContext, args: OrgArgs) -> int:
        """The first status index the organisation has not used (put it in the credential's
        ``credentialStatus`` before signing)."""
        return get_next_status_index(ctx, args.org)

    @view(PublishedListArgs)
    def published_status_list(self, ctx: ReadContext, args: PublishedListArgs) -> dict[str, Any]:
        """The organisation's latest published signed list: its record and the credential."""
        record = get_published_status_list(ctx, args.org, args.purpose)
        document = get_status_list_document(ctx, args.org, args.purpose)
        if record is None or document is None:
            raise NotFoundInState(
                f"{args.org} has published no signed {args.purpose} list",
                code="CERT_NO_STATUS_LIST",
                hint="An issuer publishes one: `govchain cert status-list publish`.",
            )
        return {"record": record, "credential_json": document}

    @view(StatusListHashArgs)
    def status_list_record(self, ctx: ReadContext, args: StatusListHashArgs) -> StatusListRecord:
        """The record of a published signed list, by the list credential's hash."""
        record = get_status_list_by_hash(ctx, args.list_hash)
        if record is None:
            raise NotFoundInState(
                f"no published status list has hash {args.list_hash.hex()}",
                code="CERT_NO_STATUS_LIST",
            )
        return record

    @view(StatusListArgs)
    def status_list(self, ctx: ReadContext, args: StatusListArgs) -> dict[str, Any]:
        """An organisation's revocation or suspension list as an unsigned
        BitstringStatusListCredential."""
        return build_org_status_list(ctx, args.org, args.purpose, args.list_url)
