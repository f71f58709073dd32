"""Data sharing: requests, consents, grants and access receipts.

Data flows directly between the departments' gateways, off chain; the chain holds who asked for
which fields of which resource, for what purpose, who agreed, and every access.

- **Request** (``request``): a department (one of its ``admin``, ``officer`` or ``client``
  members; the requester is then the department), an enterprise or a citizen asks for fields of
  a catalogue resource, for a purpose, a duration and a number of uses, optionally naming the
  data subject (``cit:…``/``ent:…``). Refused: unknown resource (``SHARE_UNKNOWN_RESOURCE``),
  not shareable (``SHARE_NOT_SHAREABLE``), fields outside the resource
  (``SHARE_UNKNOWN_FIELDS``), its own resource (``SHARE_OWN_RESOURCE``), personal or enterprise
  fields without a subject (``SHARE_SUBJECT_REQUIRED``) or with a subject of the wrong kind
  (``SHARE_BAD_SUBJECT``), bad purpose/duration/uses.
- **Approval** follows the sharing class. *Unconditional* (no personal or enterprise fields, a
  catalogue rule): a department's request is granted at once (``decided_by = "auto"``); an
  enterprise's or citizen's waits for the owner. *Conditional*: an ``admin`` or ``officer`` of
  the owning department approves (``SHARE_NOT_OWNER``), and when a requested field is personal
  or enterprise data the subject must have consented first with its own key (``consent``;
  ``SHARE_CONSENT_MISSING``). A subject requesting its own data consents by requesting.
  *None*: refused at request and at approval.
- **Grant** (id = request id): fields, purpose, expiry (approval time + duration), maximum uses.
  The owner's admin/officer or the subject (withdrawing consent) revokes it (``revoke``).
- **Receipts** (``anchor_receipts``): the owner's gateway anchors a batch of receipts both
  gateways signed. **All or nothing**: if one receipt fails a check the transaction fails with
  that receipt's code and index, and nothing of the batch is anchored, so a batch never leaves a
  partial trace to reconcile; the gateway drops the named receipt and resubmits the rest. The
  checks are in :mod:`govchain.contracts.sharing_receipts`.
- **Audit**: every anchored access is an :class:`AccessRecord` indexed per organisation (owner
  and requester), resource, grant and data subject (view ``audit``).
"""

from __future__ import annotations

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.catalog_records import Resource, get_resource, subject_kinds
from govchain.contracts.identity import get_identity, resolve_signer
from govchain.contracts.sharing_receipts import check_receipt
from govchain.contracts.sharing_records import AccessReceipt, Grant
from govchain.contracts.sharing_state import (
    AUDIT_KINDS,
    MAX_AUDIT_PAGE,
    MAX_BATCH,
    MAX_DURATION_MS,
    MAX_FIELDS,
    MAX_PURPOSE,
    MAX_REASON,
    MAX_USES,
    NAME,
    AccessRecord,
    AnchorReceiptsArgs,
    AuditArgs,
    IdArgs,
    PartyArgs,
    RejectArgs,
    RequestArgs,
    RequestHashArgs,
    RevokeArgs,
    ShareRequest,
    audit_key,
)
from govchain.errors import AlreadyExists, ContractError, NotFoundInState, Unauthorized

__all__ = ["DECIDER_ROLES", "REQUESTER_ROLES", "AuditPage", "SharingContract"]

REQUESTER_ROLES = ("admin", "officer", "client")
DECIDER_ROLES = ("admin", "officer")


class AuditPage(msgspec.Struct, frozen=True):
    records: list[AccessRecord]
    cursors: list[str]  # each record's position, for ``after``
    next: str | None  # the cursor to continue from, None at the end


def _fail(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


# --- who acts --------------------------------------------------------------------------------


def _requester(ctx: Context) -> tuple[str, str]:
    """(the requesting identity, the identity that sent the request)."""
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    identity = None if signer is None else get_identity(ctx, signer.identity)
    if identity is not None and identity.kind in ("enterprise", "citizen"):
        return identity.id, identity.id
    if (
        identity is not None
        and identity.kind == "member"
        and set(identity.roles) & set(REQUESTER_ROLES)
    ):
        return identity.org, identity.id
    raise Unauthorized(
        "data is requested by a department's admin, officer or client, an enterprise or a citizen",
        code="SHARE_NOT_REQUESTER",
        hint="Sign with such a key.",
    )


def _require_decider(ctx: Context, owner: str) -> str:
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    if signer is None or signer.org != owner or not signer.roles & set(DECIDER_ROLES):
        raise Unauthorized(
            f"only an admin or officer of {owner} decides on its data",
            code="SHARE_NOT_OWNER",
            hint=f"Sign with the key of one of {owner}'s admins or officers.",
        )
    return signer.identity


def _sender_identity(ctx: Context) -> str:
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    return "" if signer is None else signer.identity


# --- checks ----------------------------------------------------------------------------------


def _check_request_args(args: RequestArgs) -> None:
    if not args.purpose.strip() or len(args.purpose) > MAX_PURPOSE:
        raise _fail(
            "SHARE_BAD_PURPOSE",
            f"the purpose must be 1..{MAX_PURPOSE} characters",
            "State the purpose (never personal data: it is public on chain).",
        )
    if not 1 <= args.duration_ms <= MAX_DURATION_MS:
        raise _fail(
            "SHARE_BAD_DURATION",
            f"duration_ms must be 1..{MAX_DURATION_MS}",
            "Ask for the time you need, e.g. 30 days.",
        )
    if not 1 <= args.max_uses <= MAX_USES:
        raise _fail("SHARE_BAD_MAX_USES", f"max_uses must be 1..{MAX_USES}", "Ask for >= 1 use.")
    if (
        not args.fields
        or len(args.fields) > MAX_FIELDS
        or len(set(args.fields)) != len(args.fields)
    ):
        raise _fail(
            "SHARE_UNKNOWN_FIELDS",
            f"request 1..{MAX_FIELDS} distinct fields",
            "`govchain catalog show RESOURCE` lists its fields.",
        )


def _shareable_resource(ctx: ReadContext, resource_id: str, fields: list[str]) -> Resource:
    resource = get_resource(ctx, resource_id)
    if resource is None:
        raise NotFoundInState(
            f"no resource {resource_id!r} in the catalogue",
            code="SHARE_UNKNOWN_RESOURCE",
            hint="`govchain catalog search TEXT` finds resources.",
        )
    if resource.sharing == "none":
        raise _fail(
            "SHARE_NOT_SHAREABLE",
            f"{resource.org} does not share {resource_id}",
            "The catalogue entry's sharing class is 'none'.",
        )
    outside = sorted(set(fields) - resource.field_names())
    if outside:
        raise _fail(
            "SHARE_UNKNOWN_FIELDS",
            f"{resource_id} has no field {', '.join(outside)}",
            "`govchain catalog show RESOURCE` lists its fields.",
        )
    return resource


def _check_subject(ctx: ReadContext, resource: Resource, args: RequestArgs) -> bool:
    """Whether the subject must consent (and that the named subject fits the fields)."""
    sensitive = resource.subject_fields(args.fields)
    if args.subject is None:
        if sensitive:
            raise _fail(
                "SHARE_SUBJECT_REQUIRED",
                f"fields {', '.join(f.name for f in sensitive)} are personal or enterprise data",
                "Name the data subject (--subject cit:... or ent:...); it must consent.",
            )
        return False
    identity = get_identity(ctx, args.subject)
    kinds = subject_kinds(sensitive) if sensitive else {"citizen", "enterprise"}
    if identity is None or identity.status != "active" or identity.kind not in kinds:
        raise _fail(
            "SHARE_BAD_SUBJECT",
            f"{args.subject!r} is not an active {' or '.join(sorted(kinds))}",
            "Name the registered citizen (cit:...) or enterprise (ent:...) the data is about.",
        )
    return bool(sensitive)


def _get_request(ctx: ReadContext, request_id: str) -> ShareRequest:
    request = ctx.get_as(f"req/{request_id}", ShareRequest)
    if request is None:
        raise NotFoundInState(
            f"no sharing request {request_id!r}",
            code="SHARE_UNKNOWN_REQUEST",
            hint="`govchain share grants` lists requests and grants.",
        )
    return request


def _require_pending(request: ShareRequest) -> None:
    if request.status != "pending":
        raise _fail(
            "SHARE_NOT_PENDING",
            f"request {request.id} is {request.status}",
            "Only a pending request is decided on.",
        )


def _require_consent(request: ShareRequest, resource: Resource) -> None:
    """Consent judged against the resource as it is now: a field that became personal or
    enterprise data since the request needs the subject's consent too."""
    sensitive = bool(resource.subject_fields(request.fields))
    if sensitive and request.subject is None:
        raise _fail(
            "SHARE_SUBJECT_REQUIRED",
            f"{request.resource_id} now holds personal or enterprise data among the fields",
            "Reject this request; the requester asks again naming the data subject.",
        )
    if (request.needs_consent or sensitive) and request.consent_height is None:
        raise _fail(
            "SHARE_CONSENT_MISSING",
            f"{request.subject} has not consented to request {request.id}",
            "The data subject consents first: `govchain share consent ID` with its key.",
        )


def _check_reason(reason: str) -> None:
    if not reason.strip() or len(reason) > MAX_REASON:
        raise _fail(
            "SHARE_BAD_REASON",
            f"give a reason of 1..{MAX_REASON} characters",
            "Say why (never personal data).",
        )


# --- the contract ----------------------------------------------------------------------------


class SharingContract(Contract):
    name = NAME
    description = "Data sharing: requests, consents, grants and access receipts."

    @method(RequestArgs)
    def request(self, ctx: Context, args: RequestArgs) -> ShareRequest:
        """Ask for fields of a catalogue resource for a purpose and a duration."""
        requester, sender = _requester(ctx)
        _check_request_args(args)
        resource = _shareable_resource(ctx, args.resource_id, args.fields)
        if requester == resource.org:
            raise _fail(
                "SHARE_OWN_RESOURCE",
                f"{requester} owns {resource.id}",
                "A department reads its own data through its own systems.",
            )
        needs_consent = _check_subject(ctx, resource, args)
        request = ShareRequest(
            ctx.tx_id[:16].hex(),
            resource.id,
            resource.version,
            resource.org,
            requester,
            sender,
            list(args.fields),
            args.purpose,
            args.duration_ms,
            args.max_uses,
            args.subject,
            needs_consent,
            ctx.height,
            ctx.time_ms,
            consent_height=ctx.height if args.subject == requester else None,
        )
        self._index(ctx, request)
        ctx.emit("requested", id=request.id, resource=resource.id, requester=requester)
        if resource.sharing == "unconditional" and requester == _org_of(ctx, sender):
            request = self._grant(ctx, request, "auto", resource.version)
        ctx.set(f"req/{request.id}", request)
        return request

    @method(IdArgs)
    def consent(self, ctx: Context, args: IdArgs) -> ShareRequest:
        """The data subject agrees to a pending request (signed with its own key)."""
        request = _get_request(ctx, args.id)
        self._require_subject(ctx, request)
        _require_pending(request)
        if request.consent_height is not None:
            raise AlreadyExists(
                f"consent to {request.id} is already given",
                code="SHARE_ALREADY_CONSENTED",
                hint="Nothing to do; `govchain share consent ID --withdraw` withdraws it.",
            )
        request = msgspec.structs.replace(request, consent_height=ctx.height)
        ctx.set(f"req/{request.id}", request)
        ctx.emit("consented", id=request.id, subject=str(request.subject))
        return request

    @method(IdArgs)
    def withdraw_consent(self, ctx: Context, args: IdArgs) -> ShareRequest:
        """The data subject withdraws its consent to a request not yet decided."""
        request = _get_request(ctx, args.id)
        self._require_subject(ctx, request)
        _require_pending(request)
        request = msgspec.structs.replace(request, consent_height=None)
        ctx.set(f"req/{request.id}", request)
        ctx.emit("consent_withdrawn", id=request.id)
        return request

    @method(IdArgs)
    def approve(self, ctx: Context, args: IdArgs) -> ShareRequest:
        """The owning department approves a pending request: a grant is created."""
        request = _get_request(ctx, args.id)
        decider = _require_decider(ctx, request.owner)
        _require_pending(request)
        resource = _shareable_resource(ctx, request.resource_id, request.fields)
        _require_consent(request, resource)
        request = self._grant(ctx, request, decider, resource.version)
        ctx.set(f"req/{request.id}", request)
        return request

    @method(RejectArgs)
    def reject(self, ctx: Context, args: RejectArgs) -> ShareRequest:
        """The owning department rejects a pending request, saying why."""
        request = _get_request(ctx, args.id)
        decider = _require_decider(ctx, request.owner)
        _require_pending(request)
        _check_reason(args.reason)
        request = msgspec.structs.replace(
            request,
            status="rejected",
            decided_by=decider,
            decided_height=ctx.height,
            reason=args.reason,
        )
        ctx.set(f"req/{request.id}", request)
        ctx.emit("rejected", id=request.id)
        return request

    @method(RevokeArgs)
    def revoke(self, ctx: Context, args: RevokeArgs) -> Grant:
        """Revoke a grant: the owner's admin or officer, or the data subject (withdrawing
        consent). Receipts of exchanges made before the revocation are still anchored."""
        grant = ctx.get_as(f"grant/{args.grant_id}", Grant)
        if grant is None:
            raise NotFoundInState(
                f"no grant {args.grant_id!r}", code="SHARE_NO_GRANT", hint="Check the id."
            )
        who = _sender_identity(ctx)
        is_subject = grant.subject is not None and who == grant.subject
        if not is_subject:
            who = _require_decider(ctx, grant.owner)
        if grant.status != "active":
            raise _fail("SHARE_GRANT_REVOKED", f"grant {grant.id} is already revoked", "None.")
        _check_reason(args.reason)
        grant = msgspec.structs.replace(
            grant,
            status="revoked",
            revoked_height=ctx.height,
            revoked_ms=ctx.time_ms,
            revoked_by=who,
            revoke_reason=args.reason,
        )
        ctx.set(f"grant/{grant.id}", grant)
        ctx.emit("revoked", id=grant.id, by=who)
        return grant

    @method(AnchorReceiptsArgs)
    def anchor_receipts(self, ctx: Context, args: AnchorReceiptsArgs) -> list[str]:
        """Anchor a batch of access receipts (all or nothing); returns their request hashes."""
        if not 1 <= len(args.receipts) <= MAX_BATCH:
            raise _fail("SHARE_BAD_BATCH", f"anchor 1..{MAX_BATCH} receipts", "Split the batch.")
        anchorer = resolve_signer(ctx, ctx.sender, ctx.height)
        grants: dict[str, Grant] = {}
        seen: set[bytes] = set()
        for index, receipt in enumerate(args.receipts):
            grant = grants.get(receipt.grant_id) or ctx.get_as(f"grant/{receipt.grant_id}", Grant)
            duplicate = (
                receipt.request_hash in seen
                or ctx.get(f"access/{receipt.request_hash.hex()}") is not None
            )
            try:
                grant = check_receipt(
                    ctx,
                    receipt,
                    grant,
                    anchorer=anchorer,
                    uses=0 if grant is None else grant.uses,
                    block_ms=ctx.time_ms,
                    seen=duplicate,
                )
            except ContractError as exc:
                raise type(exc)(
                    f"receipt {index}: {exc.message}", code=exc.code, hint=exc.hint
                ) from None
            grants[grant.id] = msgspec.structs.replace(grant, uses=grant.uses + 1)
            seen.add(receipt.request_hash)
            self._record(ctx, receipt, grant, anchorer.identity if anchorer else "")
        for grant in grants.values():
            ctx.set(f"grant/{grant.id}", grant)
        ctx.emit("anchored", receipts=str(len(args.receipts)))
        return [r.request_hash.hex() for r in args.receipts]

    # --- helpers ---------------------------------------------------------------------------

    def _require_subject(self, ctx: Context, request: ShareRequest) -> None:
        if request.subject is None or _sender_identity(ctx) != request.subject:
            raise Unauthorized(
                "only the data subject consents, with its own key",
                code="SHARE_NOT_SUBJECT",
                hint="The citizen or enterprise named as subject signs the consent.",
            )

    def _grant(
        self, ctx: Context, request: ShareRequest, decider: str, version: int
    ) -> ShareRequest:
        grant = Grant(
            request.id,
            request.id,
            request.resource_id,
            request.owner,
            request.requester,
            list(request.fields),
            request.purpose,
            ctx.height,
            ctx.time_ms + request.duration_ms,
            request.max_uses,
            subject=request.subject,
            granted_ms=ctx.time_ms,
            resource_version=version,
        )
        ctx.set(f"grant/{grant.id}", grant)
        ctx.emit("granted", id=grant.id, requester=grant.requester, by=decider)
        return msgspec.structs.replace(
            request,
            status="approved",
            decided_by=decider,
            decided_height=ctx.height,
            grant_id=grant.id,
        )

    def _index(self, ctx: Context, request: ShareRequest) -> None:
        for party in {request.owner, request.requester, request.subject}:
            if party:
                ctx.set(f"party/{party}/{request.id}", b"\x01")

    def _record(self, ctx: Context, receipt: AccessReceipt, grant: Grant, by: str) -> None:
        record = AccessRecord(
            receipt.request_hash,
            receipt.response_hash,
            grant.id,
            grant.resource_id,
            grant.owner,
            grant.requester,
            grant.subject,
            list(receipt.fields),
            receipt.time_ms,
            receipt.requester_key,
            receipt.owner_key,
            by,
            ctx.height,
            ctx.tx_id,
        )
        ctx.set(f"access/{receipt.request_hash.hex()}", record)
        entries = [
            ("org", grant.owner),
            ("org", grant.requester),
            ("resource", grant.resource_id),
            ("grant", grant.id),
        ]
        if grant.subject:
            entries.append(("subject", grant.subject))
        for kind, identity in entries:
            ctx.set(audit_key(kind, identity, ctx.height, receipt.request_hash), b"\x01")

    # --- views -----------------------------------------------------------------------------

    @view(IdArgs)
    def get_request(self, ctx: ReadContext, args: IdArgs) -> ShareRequest:
        """A sharing request."""
        return _get_request(ctx, args.id)

    @view(IdArgs)
    def grant(self, ctx: ReadContext, args: IdArgs) -> Grant:
        """A grant (its id is the request's)."""
        grant = ctx.get_as(f"grant/{args.id}", Grant)
        if grant is None:
            raise NotFoundInState(f"no grant {args.id!r}", code="SHARE_NO_GRANT")
        return grant

    @view(PartyArgs)
    def requests_of(self, ctx: ReadContext, args: PartyArgs) -> list[ShareRequest]:
        """The requests an identity owns, made or is the subject of (only granted ones with
        ``grants_only``), oldest first."""
        out = []
        for key, _ in ctx.iter(f"party/{args.identity}/"):
            request = _get_request(ctx, key.decode().rsplit("/", 1)[1])
            if not args.grants_only or request.grant_id is not None:
                out.append(request)
        return sorted(out, key=lambda r: (r.created_height, r.id))

    @view(RequestHashArgs)
    def access(self, ctx: ReadContext, args: RequestHashArgs) -> AccessRecord:
        """The access record of one anchored receipt."""
        record = ctx.get_as(f"access/{args.request_hash.hex()}", AccessRecord)
        if record is None:
            raise NotFoundInState("no such access record", code="SHARE_NO_ACCESS")
        return record

    @view(AuditArgs)
    def audit(self, ctx: ReadContext, args: AuditArgs) -> AuditPage:
        """Anchored accesses per org (owner or requester), resource, grant or subject, in
        anchoring order, a page at a time."""
        if args.kind not in AUDIT_KINDS or not 1 <= args.limit <= MAX_AUDIT_PAGE:
            raise _fail(
                "SHARE_BAD_AUDIT_QUERY",
                f"kind is one of {', '.join(AUDIT_KINDS)}; limit 1..{MAX_AUDIT_PAGE}",
                "Fix the query.",
            )
        prefix = f"aud/{args.kind}/{args.id}/"
        records: list[AccessRecord] = []
        cursors: list[str] = []
        for key, _ in ctx.iter(prefix):
            cursor = key.decode()[len(prefix) :]
            if cursor <= args.after:
                continue
            if len(records) == args.limit:
                return AuditPage(records, cursors, cursors[-1])
            hash_hex = cursor.rsplit("/", 1)[1]
            record = ctx.get_as(f"access/{hash_hex}", AccessRecord)
            if record is not None:
                records.append(record)
                cursors.append(cursor)
        return AuditPage(records, cursors, None)


def _org_of(ctx: ReadContext, identity_id: str) -> str:
    """The organisation a member belongs to ("" for enterprises and citizens)."""
    identity = get_identity(ctx, identity_id)
    return identity.org if identity is not None and identity.kind == "member" else ""
