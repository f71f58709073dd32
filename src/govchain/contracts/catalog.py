"""The data catalogue (the "directory chain"): departments' responsibilities and data resources.

A department registers its responsibilities (``add_responsibility``) and, under each, the data
resources it holds (``add_resource``, ``update_resource``): names in Chinese and English, the
fields with their types and sensitivity, classification level, update frequency, sharing class
(unconditional, conditional, none), legal basis and the department gateway that serves the data.
The data itself never comes on chain.

- Only an active ``admin`` or ``officer`` of the owning organisation writes its entries
  (``CATALOG_NOT_OWNER``); the organisation must exist and be active (``CATALOG_UNKNOWN_ORG``).
- Every entry is versioned: an update writes version n+1 and keeps every earlier version
  (view ``resource`` with ``version``, view ``history``).
- A resource with personal or enterprise fields cannot be shared unconditionally
  (``CATALOG_SHARING_CONFLICT``); a shareable resource names its legal basis.
- Views: ``resource``, ``history``, ``by_org``, ``by_responsibility``, ``responsibilities``,
  ``search`` (case-insensitive text over ids, names, descriptions and field names).
"""

from __future__ import annotations

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.catalog_records import (
    NAME,
    OrgArgs,
    Resource,
    ResourceArgs,
    ResourceRef,
    Responsibility,
    ResponsibilityArgs,
    ResponsibilityRef,
    SearchArgs,
    check_resource_args,
    check_responsibility_args,
)
from govchain.contracts.identity import get_org, resolve_signer
from govchain.errors import AlreadyExists, ContractError, NotFoundInState, Unauthorized

__all__ = ["WRITER_ROLES", "CatalogContract"]

WRITER_ROLES = ("admin", "officer")
MAX_RESULTS = 200


def _require_writer(ctx: Context, org: str) -> str:
    """The sender's identity id when it is an active admin or officer of ``org``."""
    identity = get_org(ctx, org)
    if identity is None or identity.status != "active":
        raise NotFoundInState(
            f"no active organisation {org!r}",
            code="CATALOG_UNKNOWN_ORG",
            hint="GET /v1/orgs lists the organisations.",
        )
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    if signer is None or signer.org != org or not signer.roles & set(WRITER_ROLES):
        raise Unauthorized(
            f"only an admin or officer of {org} writes its catalogue entries",
            code="CATALOG_NOT_OWNER",
            hint=f"Sign with the key of one of {org}'s admins or officers.",
        )
    return signer.identity


def _resource_record(ctx: Context, args: ResourceArgs, version: int, submitter: str) -> Resource:
    return Resource(
        **msgspec.structs.asdict(args),
        version=version,
        height=ctx.height,
        time_ms=ctx.time_ms,
        submitter=submitter,
    )


def _not_found(resource_id: str) -> NotFoundInState:
    return NotFoundInState(
        f"no resource {resource_id!r} in the catalogue",
        code="CATALOG_NOT_FOUND",
        hint="`govchain catalog search TEXT` finds resources.",
    )


def _matches(resource: Resource, text: str) -> bool:
    haystack = [resource.id, resource.name, resource.name_zh, resource.description]
    haystack += [f.name for f in resource.fields] + [f.description for f in resource.fields]
    return any(text in part.lower() for part in haystack)


class CatalogContract(Contract):
    name = NAME
    description = "The data catalogue: departments' responsibilities and data resources."

    # --- methods ---------------------------------------------------------------------------

    @method(ResponsibilityArgs)
    def add_responsibility(self, ctx: Context, args: ResponsibilityArgs) -> Responsibility:
        """Register (or update, as a new version) a responsibility of the sender's department."""
        submitter = _require_writer(ctx, args.org)
        check_responsibility_args(args)
        key = f"resp/{args.org}/{args.id}"
        previous = ctx.get_as(key, Responsibility)
        record = Responsibility(
            args.org,
            args.id,
            args.name,
            args.name_zh,
            args.description,
            1 if previous is None else previous.version + 1,
            ctx.height,
            submitter,
        )
        ctx.set(key, record)
        ctx.set(f"respv/{args.org}/{args.id}/{record.version:08d}", record)
        ctx.emit("responsibility", org=args.org, id=args.id, version=str(record.version))
        return record

    @method(ResourceArgs)
    def add_resource(self, ctx: Context, args: ResourceArgs) -> Resource:
        """Add a data resource (version 1) under one of the department's responsibilities."""
        submitter = self._check_write(ctx, args)
        if ctx.get(f"res/{args.id}") is not None:
            raise AlreadyExists(
                f"resource {args.id!r} is already in the catalogue",
                code="CATALOG_EXISTS",
                hint="Change it with `govchain catalog update`, or choose another id.",
            )
        return self._save(ctx, _resource_record(ctx, args, 1, submitter))

    @method(ResourceArgs)
    def update_resource(self, ctx: Context, args: ResourceArgs) -> Resource:
        """Write a new version of a resource (earlier versions are kept)."""
        submitter = self._check_write(ctx, args)
        current = ctx.get_as(f"res/{args.id}", Resource)
        if current is None:
            raise _not_found(args.id)
        if current.org != args.org:
            raise Unauthorized(
                f"resource {args.id!r} belongs to {current.org}",
                code="CATALOG_NOT_OWNER",
                hint="Only the owning department updates a resource.",
            )
        if current.responsibility != args.responsibility:
            ctx.delete(f"byresp/{current.org}/{current.responsibility}/{args.id}")
        return self._save(ctx, _resource_record(ctx, args, current.version + 1, submitter))

    def _check_write(self, ctx: Context, args: ResourceArgs) -> str:
        submitter = _require_writer(ctx, args.org)
        check_resource_args(args)
        if ctx.get(f"resp/{args.org}/{args.responsibility}") is None:
            raise NotFoundInState(
                f"{args.org} has no responsibility {args.responsibility!r}",
                code="CATALOG_UNKNOWN_RESPONSIBILITY",
                hint="Register it first: `govchain catalog responsibility ORG ID --name NAME`.",
            )
        return submitter

    def _save(self, ctx: Context, record: Resource) -> Resource:
        ctx.set(f"res/{record.id}", record)
        ctx.set(f"resv/{record.id}/{record.version:08d}", record)
        ctx.set(f"org/{record.org}/{record.id}", b"\x01")
        ctx.set(f"byresp/{record.org}/{record.responsibility}/{record.id}", b"\x01")
        ctx.emit("resource", id=record.id, org=record.org, version=str(record.version))
        return record

    # --- views -----------------------------------------------------------------------------

    @view(ResourceRef)
    def resource(self, ctx: ReadContext, args: ResourceRef) -> Resource:
        """A resource: its latest version, or the version asked for."""
        key = f"res/{args.id}" if args.version is None else f"resv/{args.id}/{args.version:08d}"
        record = ctx.get_as(key, Resource)
        if record is None:
            raise _not_found(args.id if args.version is None else f"{args.id} v{args.version}")
        return record

    @view(ResourceRef)
    def history(self, ctx: ReadContext, args: ResourceRef) -> list[Resource]:
        """Every version of a resource, oldest first."""
        versions = [
            msgspec.msgpack.decode(v, type=Resource) for _, v in ctx.iter(f"resv/{args.id}/")
        ]
        if not versions:
            raise _not_found(args.id)
        return versions

    @view(OrgArgs)
    def by_org(self, ctx: ReadContext, args: OrgArgs) -> list[Resource]:
        """An organisation's resources (latest versions), by id."""
        return self._load(ctx, f"org/{args.org}/")

    @view(ResponsibilityRef)
    def by_responsibility(self, ctx: ReadContext, args: ResponsibilityRef) -> list[Resource]:
        """The resources listed under one of an organisation's responsibilities."""
        return self._load(ctx, f"byresp/{args.org}/{args.responsibility}/")

    @view(OrgArgs)
    def responsibilities(self, ctx: ReadContext, args: OrgArgs) -> list[Responsibility]:
        """An organisation's responsibilities."""
        return [
            msgspec.msgpack.decode(v, type=Responsibility) for _, v in ctx.iter(f"resp/{args.org}/")
        ]

    @view(ResponsibilityRef)
    def responsibility_history(
        self, ctx: ReadContext, args: ResponsibilityRef
    ) -> list[Responsibility]:
        """Every version of a responsibility, oldest first."""
        prefix = f"respv/{args.org}/{args.responsibility}/"
        return [msgspec.msgpack.decode(v, type=Responsibility) for _, v in ctx.iter(prefix)]

    @view(SearchArgs)
    def search(self, ctx: ReadContext, args: SearchArgs) -> list[Resource]:
        """Resources whose id, names, description or fields contain ``text`` (any case),
        optionally of one organisation or sharing class; at most ``limit``."""
        if not 1 <= args.limit <= MAX_RESULTS:
            raise ContractError(f"limit must be 1..{MAX_RESULTS}", code="CATALOG_BAD_LIMIT")
        text = args.text.strip().lower()
        found: list[Resource] = []
        for _, raw in ctx.iter("res/"):
            record = msgspec.msgpack.decode(raw, type=Resource)
            if args.org is not None and record.org != args.org:
                continue
            if args.sharing is not None and record.sharing != args.sharing:
                continue
            if _matches(record, text):
                found.append(record)
                if len(found) >= args.limit:
                    break
        return found

    def _load(self, ctx: ReadContext, prefix: str) -> list[Resource]:
        out: list[Resource] = []
        for key, _ in ctx.iter(prefix):
            resource_id = key.decode().rsplit("/", 1)[1]
            if (record := ctx.get_as(f"res/{resource_id}", Resource)) is not None:
                out.append(record)
        return out
