"""Data sharing end to end with the CLI: publish a catalogue entry, request enterprise data,
consent with the enterprise's key, approve, anchor the gateways' receipts, audit the subject's
trail (table, JSON, CSV; proofs verified), revoke."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govchain.client import Client
from govchain.client.sharing import SharingClient, sign_receipt
from govchain.contracts.sharing_records import AccessReceipt
from govchain.node.config import load_key
from integration.nodeproc import Network, NodeProcess, free_port, run_cli

CREDIT_CODE = "91350100M000100Y43"
ENTERPRISE = f"ent:{CREDIT_CODE}"
RESOURCE = {
    "id": "tax.payer-status",
    "responsibility": "tax-collection",
    "name": "Taxpayer status",
    "name_zh": "纳税人状态",
    "description": "Registration and arrears status of taxpayers",
    "fields": [
        {"name": "credit_code", "type": "string", "sensitivity": "public"},
        {"name": "status", "type": "string", "sensitivity": "enterprise"},
    ],
    "classification": "internal",
    "update_frequency": "daily",
    "sharing": "conditional",
    "legal_basis": "Tax Collection Administration Law, art. 6",
    "gateway": {"url": "https://gw.tax.example/v1", "public_key": "22" * 32},
}


class Cli:
    def __init__(self, network: Network, node: NodeProcess, base: Path) -> None:
        self.network, self.node, self.base = network, node, base

    def run(self, *args: str, org: str | None = None, key: str | None = None) -> Any:
        signer = ["--key", key] if key else ["--dir", str(self.network.dir), "--org", org or "tax"]
        return run_cli(*args, "--node", self.node.url, *signer)

    def ok(self, *args: str, **kw: Any) -> Any:
        result = self.run(*args, "--json", **kw)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    base = tmp_path_factory.mktemp("share")
    port = free_port()
    assert run_cli("init", "--dir", str(base / "city"), "--port", str(port)).returncode == 0
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        yield Cli(network, node.start(), base)
    finally:
        node.stop()


def _anchor(cli: Cli, grant_id: str, gateway_key: Path) -> None:
    """What the owner's gateway does after an exchange (the gateway itself is tested apart)."""
    requester = cli.network.key("health-commission")
    gateway = load_key(gateway_key)
    unsigned = AccessReceipt(
        grant_id,
        hashlib.sha256(b"request 1").digest(),
        hashlib.sha256(b"response 1").digest(),
        ["credit_code", "status"],
        int(time.time() * 1000),
        "health-commission",
        b"",
        b"",
        b"",
        b"",
    )
    receipt = sign_receipt(sign_receipt(unsigned, requester, "requester"), gateway, "owner")
    with Client(cli.node.url, key=gateway) as client:
        assert SharingClient(client).anchor_receipts(gateway, [receipt]).ok


def test_catalogue_request_consent_approve_audit(cli: Cli) -> None:
    base = cli.base
    cli.ok("catalog", "responsibility", "tax", "tax-collection", "--name", "Tax collection")
    (base / "resource.json").write_text(json.dumps(RESOURCE), encoding="utf-8")
    assert cli.ok("catalog", "add", str(base / "resource.json"))["version"] == 1
    updated = cli.ok("catalog", "update", "--id", "tax.payer-status", "--frequency", "weekly")
    assert (updated["version"], updated["update_frequency"]) == (2, "weekly")
    shown = cli.ok("catalog", "show", "tax.payer-status", "--version", "1")
    assert shown["update_frequency"] == "daily"
    assert [r["id"] for r in cli.ok("catalog", "search", "arrears")] == ["tax.payer-status"]
    listing = cli.run("catalog", "list", "--owner-org", "tax")
    assert listing.returncode == 0 and "tax.payer-status" in listing.stdout

    ent_key = str(base / "enterprise.key")
    registered = run_cli(
        "register", "enterprise", CREDIT_CODE, "--name", "Acme", "--key", ent_key,
        "--node", cli.node.url,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr

    request = cli.ok(
        "share", "request", "tax.payer-status", "--fields", "credit_code,status",
        "--purpose", "Subsidy eligibility check", "--subject", ENTERPRISE, "--max-uses", "2",
        org="health-commission",
    )  # fmt: skip
    assert request["status"] == "pending" and request["needs_consent"]
    refused = cli.run("share", "approve", request["id"])
    assert refused.returncode == 1 and "SHARE_CONSENT_MISSING" in refused.stderr
    assert "consents first" in refused.stderr
    cli.ok("share", "consent", request["id"], key=ent_key)
    grant_id = cli.ok("share", "approve", request["id"])["grant_id"]

    gateway_key = base / "gateway.key"
    cli.ok(
        "member", "enrol", "tax", "gateway", "--role", "gateway", "--member-key", str(gateway_key)
    )
    _anchor(cli, grant_id, gateway_key)

    trail = cli.ok("audit", "access", "--subject", ENTERPRISE, "--format", "json", key=ent_key)
    assert trail["verified"] and len(trail["records"]) == 1
    assert trail["records"][0]["requester"] == "health-commission"
    as_csv = cli.run("audit", "access", "--subject", ENTERPRISE, "--format", "csv", key=ent_key)
    assert as_csv.returncode == 0 and as_csv.stdout.count("\n") == 2
    table = cli.run("audit", "access", "--grant", grant_id, key=ent_key)
    assert table.returncode == 0 and "1 records, each verified" in table.stdout

    outsider = str(cli.network.dir / "orgs" / "market-regulation" / "admin.key")
    hidden = cli.ok("audit", "access", "--subject", ENTERPRISE, "--format", "json", key=outsider)
    assert hidden["records"] == []

    grants = cli.ok("share", "grants", key=ent_key)
    assert [g["id"] for g in grants] == [grant_id]
    shown_request = cli.run("share", "show", request["id"], key=ent_key)
    assert "used 1 of 2" in shown_request.stdout
    revoked = cli.ok("share", "revoke", grant_id, "--reason", "Consent withdrawn", key=ent_key)
    assert revoked["status"] == "revoked" and revoked["revoked_by"] == ENTERPRISE


def test_refusals_say_what_to_do(cli: Cli) -> None:
    missing = cli.run("share", "request", "tax.nothing", "--fields", "a", "--purpose", "x")
    assert missing.returncode == 1 and "SHARE_UNKNOWN_RESOURCE" in missing.stderr
    assert "catalog search" in missing.stderr
    outsider = str(cli.network.dir / "orgs" / "market-regulation" / "admin.key")
    both = cli.run("audit", "access", "--org", "tax", "--subject", ENTERPRISE, key=outsider)
    assert both.returncode != 0 and "exactly one" in both.stderr
    unknown = cli.run("catalog", "show", "tax.nothing")
    assert unknown.returncode == 1 and "CATALOG_NOT_FOUND" in unknown.stderr
