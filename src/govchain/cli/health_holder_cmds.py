"""`govchain health` commands of the holder: check-ins kept on the device, exposure matching.

    govchain health checkin venue:market-42
    govchain health checkins --since 7d
    govchain health exposure-check          exit 1 when a check-in matches an announcement

Also the time helpers the health commands share.
"""

from __future__ import annotations

import datetime
import re
import time
from pathlib import Path
from typing import Any

import click

from govchain.cli.common import client_from_options, json_option, node_option
from govchain.cli.output import console, print_json, print_table
from govchain.errors import BadRequest, GovchainError

__all__ = ["HOLDER_COMMANDS", "format_stamp", "format_window", "parse_since", "parse_stamp_ms"]


def parse_stamp_ms(stamp: str, what: str) -> int:
    from govchain.credentials.vc import parse_datetime_stamp

    try:
        return int(parse_datetime_stamp(stamp, field=what) * 1000)
    except (GovchainError, ValueError, TypeError):
        raise BadRequest(
            f"{what} {stamp[:40]!r} is not a time", hint="Use e.g. 2026-11-29T08:00:00Z."
        ) from None


def parse_since(value: str | None, now_ms: int) -> int | None:
    """A time stamp, or a duration back from now (``7d``, ``12h``, ``30m``)."""
    if value is None:
        return None
    match = re.fullmatch(r"([0-9]+)([dhm])", value)
    if match is None:
        return parse_stamp_ms(value, "--since")
    unit = {"d": 86_400_000, "h": 3_600_000, "m": 60_000}[match.group(2)]
    return now_ms - int(match.group(1)) * unit


def format_stamp(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_window(start_ms: int, end_ms: int) -> str:
    return f"{format_stamp(start_ms)} – {format_stamp(end_ms)}"


def _store_option(f: Any) -> Any:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The check-in file (default: beside the wallet; env GOVCHAIN_CHECKINS).",
    )(f)


@click.command("checkin")
@click.argument("venue_id")
@click.option("--at", "at", default=None, help="When (default: now).")
@_store_option
@json_option
def checkin(venue_id: str, at: str | None, store_path: Path | None, as_json: bool) -> None:
    """Record a check-in at VENUE_ID on this device only (never sent, never on chain).

    Example: govchain health checkin venue:market-42"""
    from govchain.client.checkins import CheckinStore

    store = CheckinStore.open(store_path)
    when = parse_stamp_ms(at, "--at") if at else int(time.time() * 1000)
    entry = store.add(venue_id, when)
    if as_json:
        print_json({"venue_id": entry.venue_id, "time_ms": entry.time_ms, "store": store.path})
        return
    console.print(
        f"checked in at {entry.venue_id}, {format_stamp(entry.time_ms)} (kept in {store.path})"
    )


@click.command("checkins")
@click.option("--since", default=None, help="A time, or a duration back: 7d, 12h, 30m.")
@_store_option
@json_option
def checkins(since: str | None, store_path: Path | None, as_json: bool) -> None:
    """List this device's check-ins."""
    from govchain.client.checkins import CheckinStore

    entries = CheckinStore.open(store_path).list(parse_since(since, int(time.time() * 1000)))
    if as_json:
        print_json([{"venue_id": e.venue_id, "time_ms": e.time_ms} for e in entries])
        return
    print_table(
        "check-ins", ["venue", "time"], [(e.venue_id, format_stamp(e.time_ms)) for e in entries]
    )


@click.command("exposure-check")
@_store_option
@node_option
@json_option
def exposure_check(store_path: Path | None, node_url: str, as_json: bool) -> None:
    """Match this device's check-ins against the announced exposure windows, locally (the
    node is only asked for the public announcements; exit 1 on a match)."""
    from govchain.client.checkins import RETENTION_DAYS, CheckinStore, match_exposures
    from govchain.client.health import get_exposures

    since = int(time.time() * 1000) - RETENTION_DAYS * 86_400_000
    exposures = get_exposures(client_from_options(node_url), since_ms=since)
    matches = match_exposures(CheckinStore.open(store_path).list(), exposures)
    if as_json:
        print_json({"exposed": bool(matches), "matches": [m.to_json() for m in matches]})
    elif matches:
        print_table(
            "possible exposures",
            ["venue", "your check-in", "window"],
            [
                (
                    m.checkin.venue_id,
                    format_stamp(m.checkin.time_ms),
                    format_window(m.start_ms, m.end_ms),
                )
                for m in matches
            ],
        )
        console.print("[bold yellow]Follow the health commission's advice for exposures.[/]")
    else:
        console.print(f"[green]no match[/] against {len(exposures)} announcements")
    if matches:
        raise SystemExit(1)


HOLDER_COMMANDS = (checkin, checkins, exposure_check)
