"""Health passes against a real node: governance accredits the health commission, its issuer
issues a test-result pass as a QR image with the CLI, a venue downloads a kit, the node is
stopped and the venue checks the pass with no network (ADMIT); the pass is revoked, a new kit is
downloaded and the same pass is refused (PASS_REVOKED) — again with the node stopped."""

from __future__ import annotations

import datetime
import importlib.util
import json
from pathlib import Path

import pytest

from govchain.contracts.health_records import K_ANONYMITY

from .health_setup import COMMISSION, HealthCli, holder_did, set_up_commission
from .nodeproc import Network, NodeProcess, run_cli


def _now_stamp(hours_ago: int = 0) -> str:
    moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=hours_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check(kit: Path, qr: Path, *extra: str) -> tuple[int, dict[str, object]]:
    result = run_cli("health", "check", str(qr), "--kit", str(kit), "--json", *extra)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def _kit(cli: HealthCli, out: Path) -> dict[str, object]:
    return cli.ok("health", "venue-kit", "--out", str(out))  # type: ignore[no-any-return]


@pytest.fixture
def cli(network: Network, node: NodeProcess, tmp_path: Path) -> HealthCli:
    return set_up_commission(network, node, tmp_path)


def test_issue_kit_offline_check_revoke_refused(cli: HealthCli, tmp_path: Path) -> None:
    holder = holder_did(cli.network.genesis["chain_id"], "holder-1")
    png, vc_file = tmp_path / "pass.png", tmp_path / "vc.json"
    issued = cli.issuer(
        "health", "issue-test", "--subject", holder, "--result", "negative",
        "--test-type", "PCR", "--sample-time", _now_stamp(hours_ago=2),
        "--out-qr", str(png), "--out-vc", str(vc_file), "--json",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stdout + issued.stderr
    answer = json.loads(issued.stdout)
    assert png.read_bytes().startswith(b"\x89PNG") and answer["qr"].startswith("HC1:")
    qr = tmp_path / "pass.txt"  # what a venue's scanner reads from the image
    qr.write_text(answer["qr"], encoding="utf-8")
    kit1 = tmp_path / "kit1.json"
    summary = _kit(cli, kit1)
    assert summary["accredited"] == "TestResult, Vaccination" and summary["signing_keys"] == 1
    genesis_hash = str(summary["genesis_hash"])

    cli.node.stop()
    assert not cli.node.running
    code, decision = _check(kit1, qr, "--genesis-hash", genesis_hash)
    assert (code, decision["verdict"]) == (0, "ADMIT"), decision
    if importlib.util.find_spec("zxingcpp") and importlib.util.find_spec("PIL"):
        assert _check(kit1, png)[1]["verdict"] == "ADMIT"  # the image itself
    code, decision = _check(kit1, qr, "--test-hours", "1")
    assert (code, decision["code"]) == (1, "PASS_TEST_TOO_OLD")

    cli.node.start()
    revoked = cli.issuer("cert", "revoke", str(vc_file), "--reason", "superseded")
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    kit2 = tmp_path / "kit2.json"
    assert _kit(cli, kit2)["revoked"] == 1
    cli.node.stop()
    code, decision = _check(kit2, qr, "--genesis-hash", genesis_hash)
    assert (code, decision["verdict"], decision["code"]) == (1, "REFUSE", "PASS_REVOKED")
    failed = [c for c in decision["checks"] if c["ok"] is False]  # type: ignore[union-attr]
    assert [c["check"] for c in failed] == ["revocation"]
    code, _ = _check(kit1, qr)  # the old snapshot predates the revocation
    assert code == 0
    code, decision = _check(kit2, qr, "--genesis-hash", "00" * 32)
    assert (code, decision["code"]) == (1, "KIT_WRONG_CHAIN")


def test_aggregates_and_exposures_over_the_api(cli: HealthCli) -> None:
    day = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    published = cli.issuer(
        "health", "aggregate", "publish", "--district", "haishu", "--day", day,
        "--tests", "120", "--positives", str(K_ANONYMITY - 2), "--vaccinations", "0", "--json",
    )  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr
    assert json.loads(published.stdout)["positives"] is None
    shown = run_cli(
        "health", "aggregate", "show", "--district", "haishu", "--json", "--node", cli.node.url
    )  # public: no key
    assert shown.returncode == 0, shown.stderr
    (record,) = json.loads(shown.stdout)
    assert (record["tests"], record["positives"], record["k"]) == (120, None, K_ANONYMITY)
    refused = cli.run(
        "health", "aggregate", "publish", "--district", "haishu", "--day", day, "--tests", "9",
        "--positives", "0", "--vaccinations", "0", "--json", org=COMMISSION,
    )  # fmt: skip
    assert refused.returncode != 0 and "HEALTH_NOT_AUTHORISED" in refused.stdout + refused.stderr
