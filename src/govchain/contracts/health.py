"""Epidemic control: anonymised aggregates and exposure announcements on chain.

Health passes themselves are credentials of the ``certs`` contract (types ``TestResult`` and
``Vaccination``); this contract holds what the public may read about the epidemic, and nothing
about any person.

- **Who may publish.** An active member with role ``issuer`` or ``officer`` of the organisation
  named in the arguments (``HEALTH_NOT_AUTHORISED``), which governance accredits for
  ``HealthAggregate`` (aggregates) or ``ExposureNotice`` (announcements) at this height
  (``HEALTH_NOT_ACCREDITED``). Accreditation is the same governance vote that names trusted
  issuers of credentials; admins administer, they do not publish.
- **Aggregates** ``publish_aggregate(org, district, day, tests, positives, vaccinations)``: one
  record per district and day; counts are whole numbers ``>= 0`` (``HEALTH_BAD_COUNT``),
  positives never exceed tests when both are published (``HEALTH_BAD_COUNT``). **k-anonymity**:
  a count from 1 to k-1 (k = :data:`K_ANONYMITY`) is refused (``HEALTH_BELOW_K``): the SDK sends
  it as ``None``, shown as "<k". Publishing the same district and day again is a correction
  (``revision`` + 1) and only the organisation that published it may correct it
  (``HEALTH_OTHER_ORG``). A day must be a real date (``HEALTH_BAD_DAY``) that has begun by the
  block's time (``HEALTH_FUTURE_DAY``); a district is a lower-case slug
  (``HEALTH_BAD_DISTRICT``).
- **Exposure announcements** ``announce_exposure(org, venue_id, start_ms, end_ms)``: a venue and
  a time window, no personal data. ``start < end`` (``HEALTH_BAD_WINDOW``), at most 14 days long
  (``HEALTH_BAD_WINDOW``), starting by the block's time (``HEALTH_FUTURE_WINDOW``). Holders
  match them against their own check-ins on their own devices. ``withdraw_exposure`` marks an
  announcement withdrawn (same organisation; ``HEALTH_NOT_FOUND``, ``HEALTH_OTHER_ORG``,
  ``HEALTH_ALREADY_WITHDRAWN``).
"""

from __future__ import annotations

from itertools import islice

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.governance_actions import is_accredited
from govchain.contracts.health_records import (
    AGGREGATE_KIND,
    AGGREGATE_ROLES,
    EXPOSURE_KIND,
    K_ANONYMITY,
    MAX_EXPOSURE_WINDOW_MS,
    MAX_LIST,
    NAME,
    AggregateArgs,
    AggregateQuery,
    AggregateRecord,
    DayArgs,
    ExposureArgs,
    ExposureIdArgs,
    ExposureQuery,
    ExposureRecord,
    WithdrawExposureArgs,
    aggregate_key,
    exposure_key,
    is_district,
    is_venue_id,
    parse_day,
)
from govchain.contracts.identity import resolve_signer
from govchain.contracts.policy import Signer
from govchain.errors import AlreadyExists, ContractError, NotFoundInState, Unauthorized

__all__ = ["HealthContract"]


def _require_publisher(ctx: Context, org: str, kind: str) -> Signer:
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    if signer is None or signer.org != org or not signer.roles & set(AGGREGATE_ROLES):
        raise Unauthorized(
            f"publishing for {org!r} needs the key of its member with role issuer or officer",
            code="HEALTH_NOT_AUTHORISED",
            hint=f"Sign with the key of one of {org}'s issuers or officers.",
        )
    if not is_accredited(ctx, org, kind):
        raise Unauthorized(
            f"{org!r} is not accredited for {kind!r}",
            code="HEALTH_NOT_ACCREDITED",
            hint=f"Governance accredits it: `govchain gov propose accredit --issuer {org} "
            f"--type {kind}`.",
        )
    return signer


def _check_day(ctx: Context, day: str) -> None:
    start = parse_day(day)
    if start is None:
        raise ContractError(
            f"day {day[:20]!r} is not a date", code="HEALTH_BAD_DAY", hint="Use YYYY-MM-DD (UTC)."
        )
    if start > ctx.time_ms:
        raise ContractError(
            f"day {day} has not begun", code="HEALTH_FUTURE_DAY", hint="Publish days that began."
        )


def _check_counts(args: AggregateArgs) -> None:
    counts = {"tests": args.tests, "positives": args.positives, "vaccinations": args.vaccinations}
    for name, value in counts.items():
        if value is not None and value < 0:
            raise ContractError(f"{name} must be >= 0", code="HEALTH_BAD_COUNT")
        if value is not None and 0 < value < K_ANONYMITY:
            raise ContractError(
                f"{name} is below k = {K_ANONYMITY}: publish it suppressed (null, shown <k)",
                code="HEALTH_BELOW_K",
                hint="The SDK's publish_aggregate suppresses small counts itself.",
            )
    if args.tests is not None and args.positives is not None and args.positives > args.tests:
        raise ContractError("positives exceed tests", code="HEALTH_BAD_COUNT")


def _check_window(ctx: Context, args: ExposureArgs) -> None:
    if not is_venue_id(args.venue_id):
        raise ContractError(
            f"venue id {args.venue_id[:70]!r} is not a venue id",
            code="HEALTH_BAD_VENUE",
            hint="Use 1-64 lower-case letters, digits and : . _ - (as on the venue's poster).",
        )
    length = args.end_ms - args.start_ms
    if args.start_ms < 0 or not 0 < length <= MAX_EXPOSURE_WINDOW_MS:
        raise ContractError(
            "the window must start before it ends and last at most 14 days",
            code="HEALTH_BAD_WINDOW",
        )
    if args.start_ms > ctx.time_ms:
        raise ContractError("the window starts in the future", code="HEALTH_FUTURE_WINDOW")


def _exposure(ctx: ReadContext, exposure_id: int) -> ExposureRecord:
    record = ctx.get_as(exposure_key(exposure_id), ExposureRecord)
    if record is None:
        raise NotFoundInState(f"no exposure announcement {exposure_id}", code="HEALTH_NOT_FOUND")
    return record


def _limit(value: int) -> int:
    if not 1 <= value <= MAX_LIST:
        raise ContractError(f"limit must be 1..{MAX_LIST}", code="HEALTH_BAD_ARGS")
    return value


class HealthContract(Contract):
    name = NAME
    description = "Epidemic control: anonymised aggregates and exposure announcements."

    @method(AggregateArgs)
    def publish_aggregate(self, ctx: Context, args: AggregateArgs) -> AggregateRecord:
        """Publish (or correct) one district's counts of one day, small counts suppressed."""
        if not is_district(args.district):
            raise ContractError(
                f"district {args.district[:60]!r} is not a district id",
                code="HEALTH_BAD_DISTRICT",
                hint="Use 1-48 lower-case letters, digits and hyphens.",
            )
        _check_day(ctx, args.day)
        _check_counts(args)
        signer = _require_publisher(ctx, args.org, AGGREGATE_KIND)
        key = aggregate_key(args.district, args.day)
        previous = ctx.get_as(key, AggregateRecord)
        if previous is not None and previous.org != args.org:
            raise Unauthorized(
                f"{args.district} {args.day} was published by {previous.org!r}",
                code="HEALTH_OTHER_ORG",
                hint="Only the organisation that published a day corrects it.",
            )
        record = AggregateRecord(
            args.district,
            args.day,
            args.tests,
            args.positives,
            args.vaccinations,
            K_ANONYMITY,
            args.org,
            signer.identity,
            ctx.height,
            ctx.time_ms,
            1 if previous is None else previous.revision + 1,
        )
        ctx.set(key, record)
        ctx.emit("aggregate", district=args.district, day=args.day, revision=str(record.revision))
        return record

    @method(ExposureArgs)
    def announce_exposure(self, ctx: Context, args: ExposureArgs) -> ExposureRecord:
        """Announce that a venue was an exposure site during a time window."""
        _check_window(ctx, args)
        signer = _require_publisher(ctx, args.org, EXPOSURE_KIND)
        raw = ctx.get("next_exposure")
        exposure_id = 1 if raw is None else msgspec.msgpack.decode(raw, type=int)
        record = ExposureRecord(
            exposure_id,
            args.venue_id,
            args.start_ms,
            args.end_ms,
            args.org,
            signer.identity,
            ctx.height,
            ctx.time_ms,
        )
        ctx.set(exposure_key(exposure_id), record)
        ctx.set("next_exposure", msgspec.msgpack.encode(exposure_id + 1))
        ctx.emit("exposure", id=str(exposure_id), venue_id=args.venue_id)
        return record

    @method(WithdrawExposureArgs)
    def withdraw_exposure(self, ctx: Context, args: WithdrawExposureArgs) -> ExposureRecord:
        """Withdraw an announcement made in error (it stays on chain, marked withdrawn)."""
        record = _exposure(ctx, args.id)
        _require_publisher(ctx, args.org, EXPOSURE_KIND)
        if record.org != args.org:
            raise Unauthorized(
                f"announcement {args.id} was made by {record.org!r}", code="HEALTH_OTHER_ORG"
            )
        if record.withdrawn_height is not None:
            raise AlreadyExists(
                f"announcement {args.id} is already withdrawn", code="HEALTH_ALREADY_WITHDRAWN"
            )
        updated = msgspec.structs.replace(record, withdrawn_height=ctx.height)
        ctx.set(exposure_key(args.id), updated)
        ctx.emit("exposure_withdrawn", id=str(args.id))
        return updated

    @view(DayArgs)
    def aggregate(self, ctx: ReadContext, args: DayArgs) -> AggregateRecord:
        """One district's counts of one day."""
        record = ctx.get_as(aggregate_key(args.district, args.day), AggregateRecord)
        if record is None:
            raise NotFoundInState(
                f"nothing published for {args.district[:60]} on {args.day[:20]}",
                code="HEALTH_NOT_FOUND",
            )
        return record

    @view(AggregateQuery)
    def aggregates(self, ctx: ReadContext, args: AggregateQuery) -> list[AggregateRecord]:
        """Published counts, by district then day, optionally one district and a day range."""
        limit = _limit(args.limit)
        prefix = "aggregate/" if args.district is None else f"aggregate/{args.district}/"
        records = (msgspec.msgpack.decode(v, type=AggregateRecord) for _, v in ctx.iter(prefix))
        chosen = (
            r
            for r in records
            if (args.since is None or r.day >= args.since)
            and (args.until is None or r.day <= args.until)
        )
        return list(islice(chosen, limit))

    @view(ExposureIdArgs)
    def exposure(self, ctx: ReadContext, args: ExposureIdArgs) -> ExposureRecord:
        """One exposure announcement."""
        return _exposure(ctx, args.id)

    @view(ExposureQuery)
    def exposures(self, ctx: ReadContext, args: ExposureQuery) -> list[ExposureRecord]:
        """Exposure announcements in order, optionally of one venue and ending after a time."""
        limit = _limit(args.limit)
        records = (msgspec.msgpack.decode(v, type=ExposureRecord) for _, v in ctx.iter("exposure/"))
        chosen = (
            r
            for r in records
            if (args.venue_id is None or r.venue_id == args.venue_id)
            and (args.since_ms is None or r.end_ms >= args.since_ms)
            and (args.include_withdrawn or r.withdrawn_height is None)
        )
        return list(islice(chosen, limit))
