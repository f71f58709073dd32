"""Epidemic control end to end with the CLI: vaccination passes in SVG and text, venue checks of
QR text (valid, partial course, corrupted), holder check-ins kept in a local file, exposure
announcements matched on the holder's side, help texts with examples."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.health_setup import HealthCli, holder_did, set_up_commission
from integration.nodeproc import Network, NodeProcess, free_port, run_cli


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HealthCli]:
    base = tmp_path_factory.mktemp("health")
    port = free_port()
    assert run_cli("init", "--dir", str(base / "city"), "--port", str(port)).returncode == 0
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        yield set_up_commission(network, node.start(), base)
    finally:
        node.stop()


@pytest.fixture(scope="module")
def kit(cli: HealthCli) -> Path:
    """A kit the commission attests (signed with its issuer's key)."""
    out = cli.base / "kit.json"
    made = cli.issuer("health", "venue-kit", "--out", str(out), "--attest", "--json")
    assert made.returncode == 0, made.stdout + made.stderr
    assert json.loads(made.stdout)["attested_by"].endswith(":health-commission:issuer#key-1")
    return out


def _vaccination(cli: HealthCli, out: Path, dose: str) -> subprocess.CompletedProcess[str]:
    holder = holder_did(cli.network.genesis["chain_id"], "holder-v")
    return cli.issuer(
        "health", "issue-vaccination", "--subject", holder, "--product", "EU/1/20/1528",
        "--dose", dose, "--of", "2", "--date", time.strftime("%Y-%m-%d", time.gmtime()),
        "--holder-name", "Example Holder", "--out-qr", str(out),
    )  # fmt: skip


def _check(ref: str, kit: Path, *extra: str) -> tuple[int, dict[str, object]]:
    result = run_cli("health", "check", ref, "--kit", str(kit), "--json", *extra)
    return result.returncode, json.loads(result.stdout)


def test_vaccination_passes_are_checked_from_text_and_refused_when_partial(
    cli: HealthCli, kit: Path
) -> None:
    full, partial, svg = cli.base / "full.txt", cli.base / "partial.txt", cli.base / "p.svg"
    assert _vaccination(cli, full, "2").returncode == 0
    assert _vaccination(cli, partial, "1").returncode == 0
    made = _vaccination(cli, svg, "2")
    assert made.returncode == 0 and svg.read_text().lstrip().startswith("<?xml")
    text = full.read_text().strip()
    assert text.startswith("HC1:") and "Example" not in text
    code, decision = _check(text, kit, "--require-attested")  # the QR text itself
    assert (code, decision["verdict"]) == (0, "ADMIT"), decision
    assert "name" not in decision["pass"]  # type: ignore[operator]
    code, decision = _check(str(partial), kit)  # a file holding it
    assert (code, decision["code"]) == (1, "PASS_INCOMPLETE_VACCINATION")
    assert _check(str(partial), kit, "--allow-partial-vaccination")[0] == 0
    code, decision = _check(text[:-6], kit)
    assert code == 1 and decision["code"] in {"QR_BAD_BASE45", "QR_BAD_COMPRESSION"}


def test_a_human_sees_a_table_and_the_verdict(cli: HealthCli, kit: Path) -> None:
    result = run_cli("health", "check", "HC1:NOT-A-PASS", "--kit", str(kit))
    assert result.returncode == 1
    assert "REFUSE" in result.stdout and "QR_BAD_BASE45" in result.stdout


def test_a_compact_attested_kit_checks_passes_too(cli: HealthCli) -> None:
    out, qr = cli.base / "compact-kit.json", cli.base / "compact.txt"
    made = cli.issuer("health", "venue-kit", "--out", str(out), "--attest", "--compact", "--json")
    assert made.returncode == 0, made.stdout + made.stderr
    assert _vaccination(cli, qr, "2").returncode == 0
    assert _check(str(qr), out, "--require-attested")[1]["verdict"] == "ADMIT"
    bare = cli.run("health", "venue-kit", "--out", str(out), "--compact")
    assert bare.returncode == 1 and "--attest" in bare.stderr


def test_attesting_needs_a_commission_key(cli: HealthCli) -> None:
    out = str(cli.base / "other-kit.json")
    refused = cli.run("health", "venue-kit", "--out", out, "--attest", org="tax")
    assert refused.returncode == 1 and "KIT_BAD_ATTESTATION" in refused.stderr


def test_a_damaged_kit_says_what_to_do(cli: HealthCli) -> None:
    bad = cli.base / "bad-kit.json"
    bad.write_text("{}")
    result = run_cli("health", "check", "HC1:X", "--kit", str(bad))
    assert result.returncode == 1
    assert "KIT_MALFORMED" in result.stderr and "venue-kit" in result.stderr


def test_check_ins_stay_local_and_match_announced_exposures(cli: HealthCli) -> None:
    store = str(cli.base / "holder" / "checkins.jsonl")
    now = time.time()
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
    for venue in ("venue:market-42", "gym-7"):
        result = run_cli("health", "checkin", venue, "--at", at, "--store", store)
        assert result.returncode == 0, result.stderr
    listed = run_cli("health", "checkins", "--since", "1d", "--store", store, "--json")
    assert [c["venue_id"] for c in json.loads(listed.stdout)] == ["gym-7", "venue:market-42"]
    bad = run_cli("health", "checkin", "Not A Venue", "--store", store)
    assert bad.returncode == 1 and "CHECKIN_BAD_VENUE" in bad.stderr
    check = ("health", "exposure-check", "--store", store, "--node", cli.node.url, "--json")
    clean = run_cli(*check)
    assert (clean.returncode, json.loads(clean.stdout)["exposed"]) == (0, False), clean.stderr
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 2 * 3600))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 1800))
    announced = cli.issuer(
        "health", "announce-exposure", "--venue", "venue:market-42", "--start", start,
        "--end", end, "--json",
    )  # fmt: skip
    assert announced.returncode == 0, announced.stdout + announced.stderr
    listed = run_cli("health", "exposures", "--node", cli.node.url, "--json")
    assert [e["venue_id"] for e in json.loads(listed.stdout)] == ["venue:market-42"]
    exposed = run_cli(*check)
    assert exposed.returncode == 1
    (match,) = json.loads(exposed.stdout)["matches"]
    assert match["venue_id"] == "venue:market-42"


@pytest.mark.parametrize(
    "command",
    [
        ("issue-test",),
        ("issue-vaccination",),
        ("venue-kit",),
        ("check",),
        ("checkin",),
        ("aggregate", "publish"),
        ("announce-exposure",),
    ],
)
def test_help_has_an_example(command: tuple[str, ...]) -> None:
    result = run_cli("health", *command, "--help")
    assert result.returncode == 0 and "Example" in result.stdout
