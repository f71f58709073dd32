"""`govchain health`: Epidemic control: health passes, venue checks, anonymised aggregates.

The health commission (an issuer or officer key of the organisation accredited for ``TestResult``,
``Vaccination``, ``HealthAggregate`` and ``ExposureNotice``):

    govchain health issue-test --subject did:govchain:city:cit:3f... --result negative \\
        --test-type PCR --out-qr pass.png --key officer.key
    govchain health issue-vaccination --subject DID --product EU/1/20/1528 --dose 2 --of 2 \\
        --date 2026-10-01 --out-qr pass.svg --key officer.key
    govchain health aggregate publish --district east-lake --day 2026-11-28 --tests 1200 \\
        --positives 3 --vaccinations 450 --key officer.key        (3 is published as <5)
    govchain health announce-exposure --venue venue:market-42 \\
        --start 2026-11-28T10:00:00Z --end 2026-11-28T14:00:00Z --key officer.key

A venue (once a day, then offline) and anyone:

    govchain health venue-kit --out kit.json      (the commission: --attest --key officer.key)
    govchain health check pass.png --kit kit.json [--test-hours 48] [--json]   exit 1 on REFUSE
    govchain health aggregate show --district east-lake
    govchain health exposures

A holder (check-ins stay in a file on the holder's device):

    govchain health checkin venue:market-42
    govchain health checkins --since 7d
    govchain health exposure-check
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from govchain.cli.common import (
    client_from_options,
    json_option,
    key_options,
    load_signing_key,
    node_option,
    reading_key,
)
from govchain.cli.health_holder_cmds import (
    HOLDER_COMMANDS,
    format_stamp,
    format_window,
    parse_stamp_ms,
)
from govchain.cli.output import console, print_json, print_kv, print_table
from govchain.errors import BadRequest, ConfigError

__all__ = ["health"]

_COMMISSION = "health-commission"


@click.group()
def health() -> None:
    """Epidemic control: health passes, venue checks, anonymised aggregates.

    Passes are W3C credentials anchored on chain, carried as QR codes; venues check them with
    no network against a venue kit; check-ins never leave the holder's device; only anonymised
    counts and exposure windows (venue + time) go on chain."""


# --- helpers ---------------------------------------------------------------------------------


def _commission(value: str | None) -> str:
    return value or _COMMISSION


def _write_qr(text: str, out: Path) -> None:
    from govchain.credentials.qr_render import render_qr_png, render_qr_svg

    suffix = out.suffix.lower()
    if suffix == ".png":
        out.write_bytes(render_qr_png(text))
    elif suffix == ".svg":
        out.write_bytes(render_qr_svg(text))
    else:
        out.write_text(text + "\n", encoding="utf-8")


def _issuer_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option("--subject", "holder", required=True, help="The holder's DID (cit:)."),
            click.option(
                "--issuer-org", default=None, help=f"The health commission (default {_COMMISSION})."
            ),
            click.option("--holder-name", default=None, help="The holder's name (kept in the VC)."),
            click.option(
                "--name-in-pass", is_flag=True, help="Name in the QR too (holder chooses)."
            ),
            click.option(
                "--out-qr",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write the pass: .png, .svg, or text for any other name.",
            ),
            click.option(
                "--out-vc",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="Write the signed credential (JSON) for the holder's wallet.",
            ),
        ]
    ):
        f = option(f)
    return json_option(node_option(key_options(f)))


def _show_issued(issued: Any, opts: dict[str, Any]) -> None:
    if opts["out_qr"] is not None:
        _write_qr(issued.qr, opts["out_qr"])
    if opts["out_vc"] is not None:
        text = json.dumps(issued.credential, indent=2, ensure_ascii=False) + "\n"
        opts["out_vc"].write_text(text, encoding="utf-8")
    if opts["as_json"]:
        print_json({"hash": issued.hash, "qr": issued.qr, "credential": issued.credential})
        return
    if opts["out_qr"] is None:
        from govchain.credentials.qr_render import render_qr_terminal

        click.echo(render_qr_terminal(issued.qr))
    console.print(f"[green]issued[/] {issued.hash} ({len(issued.qr)} characters in the QR)")


# --- issuing ---------------------------------------------------------------------------------


@health.command("issue-test")
@click.option("--result", type=click.Choice(["negative", "positive"]), required=True)
@click.option("--test-type", type=click.Choice(["PCR", "RAT"]), required=True)
@click.option("--sample-time", default=None, help="When the sample was taken (default: now).")
@click.option("--valid-hours", type=click.IntRange(1, 720), default=72, show_default=True)
@_issuer_options
def issue_test(**opts: Any) -> None:
    """Issue a test-result pass to a citizen: the VC is anchored, the QR is signed.

    Example: govchain health issue-test --subject did:govchain:city:cit:3f...
    --result negative --test-type PCR --out-qr pass.png --key officer.key"""
    from govchain.client.health import issue_test_result

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    client = client_from_options(opts["node_url"], key=key)
    issued = issue_test_result(
        client,
        key,
        org=_commission(opts["issuer_org"]),
        holder=opts["holder"],
        result=opts["result"],
        test_type=opts["test_type"],
        sample_time=opts["sample_time"] or format_stamp(int(time.time() * 1000)),
        valid_hours=opts["valid_hours"],
        name=opts["holder_name"],
        include_name=opts["name_in_pass"],
    )
    _show_issued(issued, opts)


@health.command("issue-vaccination")
@click.option("--product", required=True, help="The vaccine product code.")
@click.option("--dose", type=click.IntRange(1, 9), required=True)
@click.option("--of", "of", type=click.IntRange(1, 9), required=True, help="Doses in the course.")
@click.option("--date", "date", required=True, help="YYYY-MM-DD of the dose.")
@click.option("--valid-days", type=click.IntRange(1, 3650), default=365, show_default=True)
@_issuer_options
def issue_vaccination_cmd(**opts: Any) -> None:
    """Issue a vaccination pass to a citizen.

    Example: govchain health issue-vaccination --subject DID --product EU/1/20/1528
    --dose 2 --of 2 --date 2026-10-01 --out-qr pass.svg --key officer.key"""
    from govchain.client.health import issue_vaccination

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    client = client_from_options(opts["node_url"], key=key)
    issued = issue_vaccination(
        client,
        key,
        org=_commission(opts["issuer_org"]),
        holder=opts["holder"],
        product=opts["product"],
        dose=opts["dose"],
        of=opts["of"],
        date=opts["date"],
        valid_days=opts["valid_days"],
        name=opts["holder_name"],
        include_name=opts["name_in_pass"],
    )
    _show_issued(issued, opts)


# --- venues ----------------------------------------------------------------------------------


@health.command("venue-kit")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--commission", default=_COMMISSION, show_default=True, help="The issuing org.")
@click.option(
    "--attest",
    is_flag=True,
    help="Sign the revocation snapshot as complete (a commission issuer's or officer's --key).",
)
@click.option("--compact", is_flag=True, help="With --attest: status bitstrings, not proofs.")
@node_option
@json_option
def venue_kit(
    out: Path, commission: str, attest: bool, compact: bool, node_url: str, as_json: bool
) -> None:
    """Download the venue kit (trust anchor, the commission's keys, revocation snapshot, with
    proofs), check it, and save it for offline checks. The commission publishes attested kits
    with --attest --key officer.key.

    Example: govchain health venue-kit --out kit.json --node http://city-node:8700"""
    from govchain.client.health import fetch_venue_kit
    from govchain.health.kit import encode_kit
    from govchain.health.venue import attest_kit, load_kit

    kit = fetch_venue_kit(client_from_options(node_url), commission)
    if attest:
        key = reading_key()
        if key is None:
            raise ConfigError("--attest needs a key", hint="Pass --key with an officer's key.")
        kit = attest_kit(kit, key, compact=compact)
    elif compact:
        raise BadRequest("--compact needs --attest", hint="Add --attest --key officer.key.")
    trusted = load_kit(kit)
    data = encode_kit(kit)
    out.write_bytes(data)
    summary = _kit_summary(trusted, kit.genesis_hash, len(data))
    if as_json:
        print_json({**summary, "file": str(out)})
        return
    print_kv(f"venue kit → {out}", list(summary.items()))
    console.print("Pin the genesis hash with `health check --genesis-hash` to trust only it.")


def _kit_summary(trusted: Any, genesis_hash: str, size: int) -> dict[str, Any]:
    return {
        "chain_id": trusted.chain_id,
        "genesis_hash": genesis_hash,
        "commission": trusted.org,
        "height": trusted.height,
        "time": format_stamp(trusted.time_ms),
        "signing_keys": len(trusted.keys),
        "accredited": ", ".join(sorted(trusted.accredited)),
        "revoked": len(trusted.revoked),
        "suspended": len(trusted.suspended),
        "attested_by": trusted.attested_by,
        "bytes": size,
    }


def _read_pass(ref: str) -> str:
    path = Path(ref)
    if not path.is_file():
        return ref.strip()
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".bmp"):
        return _scan_image(path)
    return path.read_text(encoding="utf-8").strip()


def _scan_image(path: Path) -> str:
    try:
        import zxingcpp  # type: ignore[import-not-found,unused-ignore]
        from PIL import Image  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise BadRequest(
            f"cannot read the QR image {path}: no QR decoder installed",
            hint="pip install zxing-cpp pillow, or pass the QR text (or a .txt file).",
        ) from None
    with Image.open(path) as image:
        found = zxingcpp.read_barcodes(image)
    if not found:
        raise BadRequest(f"no QR code found in {path}", hint="Scan again, or pass the QR text.")
    return str(found[0].text)


def _load_kit(kit_file: Path, genesis_hash: str | None) -> Any:
    import msgspec

    from govchain.health.kit import decode_kit
    from govchain.health.passes import HealthError
    from govchain.health.venue import load_kit

    try:
        kit = decode_kit(kit_file.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise HealthError(
            f"{kit_file} is not a venue kit: {exc}",
            code="KIT_MALFORMED",
            hint="Download one: `govchain health venue-kit --out kit.json`.",
        ) from None
    try:
        pinned = None if genesis_hash is None else bytes.fromhex(genesis_hash)
    except ValueError:
        raise BadRequest("--genesis-hash must be hex", hint="Copy it from `venue-kit`.") from None
    return load_kit(kit, genesis_hash=pinned)


@health.command("check")
@click.argument("ref", metavar="QR_TEXT_OR_IMAGE_FILE")
@click.option(
    "--kit",
    "kit_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The venue kit from `health venue-kit`.",
)
@click.option("--genesis-hash", default=None, help="Hex; refuse kits of any other chain.")
@click.option(
    "--test-hours",
    type=click.IntRange(1, 720),
    default=72,
    show_default=True,
    help="Admit tests sampled at most this many hours ago.",
)
@click.option("--allow-partial-vaccination", is_flag=True, help="Admit an unfinished course.")
@click.option(
    "--max-kit-age",
    type=click.IntRange(1, 720),
    default=48,
    show_default=True,
    help="Hours; refuse with an older kit.",
)
@click.option("--require-attested", is_flag=True, help="Refuse kits the commission did not sign.")
@click.option("--at-ms", type=int, default=None, help="Check as of this time (default: now).")
@json_option
def check(
    ref: str,
    kit_file: Path,
    genesis_hash: str | None,
    test_hours: int,
    allow_partial_vaccination: bool,
    max_kit_age: int,
    require_attested: bool,
    at_ms: int | None,
    as_json: bool,
) -> None:
    """Check a health pass with no network: ADMIT or REFUSE, every check named (exit 1 on
    REFUSE). The pass is the QR text, a file holding it, or a PNG/JPEG of the code.

    Example: govchain health check pass.png --kit kit.json --test-hours 48"""
    from govchain.health.venue import VenuePolicy, check_pass

    trusted = _load_kit(kit_file, genesis_hash)
    policy = VenuePolicy(
        test_validity_hours=test_hours,
        require_full_vaccination=not allow_partial_vaccination,
        max_kit_age_hours=max_kit_age,
        require_attested=require_attested,
    )
    now_ms = at_ms if at_ms is not None else int(time.time() * 1000)
    decision = check_pass(_read_pass(ref), trusted, now_ms, policy)
    if as_json:
        print_json(decision.to_json())
    else:
        mark = {True: "[green]ok[/]", False: "[red]FAILED[/]", None: "[yellow]-[/]"}
        print_table(
            "health pass",
            ["check", "result", "code", "reason"],
            [(c.check, mark[c.ok], c.code, c.reason) for c in decision.checks],
        )
        if decision.admit:
            console.print("[bold green]ADMIT[/]")
        else:
            console.print(f"[bold red]REFUSE[/] {decision.code}")
    if not decision.admit:
        raise SystemExit(1)


# --- aggregates and announcements ------------------------------------------------------------


@health.group("aggregate")
def aggregate() -> None:
    """Anonymised counts per district per day (counts under k = 5 published as <5)."""


@aggregate.command("publish")
@click.option("--district", required=True)
@click.option("--day", required=True, help="YYYY-MM-DD (UTC).")
@click.option("--tests", type=click.IntRange(0), required=True)
@click.option("--positives", type=click.IntRange(0), required=True)
@click.option("--vaccinations", type=click.IntRange(0), required=True)
@click.option("--commission", default=_COMMISSION, show_default=True)
@key_options
@node_option
@json_option
def aggregate_publish(**opts: Any) -> None:
    """Publish (or correct) one district's counts of one day; small counts are suppressed
    before signing.

    Example: govchain health aggregate publish --district east-lake --day 2026-11-28
    --tests 1200 --positives 3 --vaccinations 450 --key officer.key"""
    from govchain.client.health import publish_aggregate

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    record = publish_aggregate(
        client_from_options(opts["node_url"], key=key),
        key,
        org=opts["commission"],
        district=opts["district"],
        day=opts["day"],
        tests=opts["tests"],
        positives=opts["positives"],
        vaccinations=opts["vaccinations"],
    )
    if opts["as_json"]:
        print_json(record)
        return
    console.print(
        f"[green]published[/] {record['district']} {record['day']} (revision {record['revision']})"
    )


def _count(value: int | None, k: int) -> str:
    return f"<{k}" if value is None else str(value)


@aggregate.command("show")
@click.option("--district", default=None)
@click.option("--since", default=None, help="First day, YYYY-MM-DD.")
@click.option("--until", default=None, help="Last day, YYYY-MM-DD.")
@node_option
@json_option
def aggregate_show(
    district: str | None, since: str | None, until: str | None, node_url: str, as_json: bool
) -> None:
    """Show published aggregates (public)."""
    from govchain.client.health import get_aggregates

    items = get_aggregates(
        client_from_options(node_url), district=district, since=since, until=until
    )
    if as_json:
        print_json(items)
        return
    print_table(
        "anonymised aggregates",
        ["district", "day", "tests", "positives", "vaccinations", "revision"],
        [
            (
                r["district"],
                r["day"],
                _count(r["tests"], r["k"]),
                _count(r["positives"], r["k"]),
                _count(r["vaccinations"], r["k"]),
                r["revision"],
            )
            for r in items
        ],
    )


@health.command("announce-exposure")
@click.option("--venue", "venue_id", required=True, help="The venue id (as on its poster).")
@click.option("--start", required=True, help="Start of the window, e.g. 2026-11-28T10:00:00Z.")
@click.option("--end", required=True, help="End of the window.")
@click.option("--commission", default=_COMMISSION, show_default=True)
@key_options
@node_option
@json_option
def announce(**opts: Any) -> None:
    """Announce an exposure window at a venue (no personal data).

    Example: govchain health announce-exposure --venue venue:market-42
    --start 2026-11-28T10:00:00Z --end 2026-11-28T14:00:00Z --key officer.key"""
    from govchain.client.health import announce_exposure

    key = load_signing_key(opts["key_file"], opts["network_dir"], opts["org"])
    record = announce_exposure(
        client_from_options(opts["node_url"], key=key),
        key,
        org=opts["commission"],
        venue_id=opts["venue_id"],
        start_ms=parse_stamp_ms(opts["start"], "--start"),
        end_ms=parse_stamp_ms(opts["end"], "--end"),
    )
    if opts["as_json"]:
        print_json(record)
        return
    console.print(f"[green]announced[/] exposure {record['id']} at {record['venue_id']}")


@health.command("exposures")
@click.option("--venue", "venue_id", default=None)
@node_option
@json_option
def exposures(venue_id: str | None, node_url: str, as_json: bool) -> None:
    """List exposure announcements in force (public)."""
    from govchain.client.health import get_exposures

    items = get_exposures(client_from_options(node_url), venue_id=venue_id)
    if as_json:
        print_json(items)
        return
    print_table(
        "exposure announcements",
        ["id", "venue", "window", "by"],
        [
            (e["id"], e["venue_id"], format_window(e["start_ms"], e["end_ms"]), e["org"])
            for e in items
        ],
    )


for _command in HOLDER_COMMANDS:
    health.add_command(_command)
