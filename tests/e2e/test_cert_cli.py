"""Certificates end to end with the CLI: accredit by governance votes, enrol an issuer, register a
schema, `cert issue` → `cert verify` → `cert revoke` → `cert verify` fails (exit 1)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.nodeproc import Network, NodeProcess, free_port, run_cli

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}


class Cli:
    def __init__(self, network: Network, node: NodeProcess, base: Path) -> None:
        self.network, self.node, self.base = network, node, base

    def run(self, *args: str, org: str | None = "tax") -> subprocess.CompletedProcess[str]:
        keys = ["--dir", str(self.network.dir)] + (["--org", org] if org else [])
        return run_cli(*args, "--node", self.node.url, *keys)

    def ok(self, *args: str, **kw: Any) -> Any:
        result = self.run(*args, "--json", **kw)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    base = tmp_path_factory.mktemp("certs")
    port = free_port()
    assert run_cli("init", "--dir", str(base / "city"), "--port", str(port)).returncode == 0
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        c = Cli(network, node.start(), base)
        proposal = c.ok("gov", "propose", "accredit", "--issuer", "tax", "--type", "Licence")
        for org in ("market-regulation", "health-commission"):
            c.ok("gov", "vote", str(proposal["id"]), "--yes", org=org)
        issuer_key = str(base / "issuer.key")
        c.ok("member", "enrol", "tax", "issuer", "--role", "issuer", "--member-key", issuer_key)
        assert c.ok("gov", "show", str(proposal["id"]))["status"] == "enacted"
        (base / "schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
        result = run_cli(
            "cert",
            "schema",
            "register",
            "Licence",
            "1.0",
            str(base / "schema.json"),
            "--key",
            issuer_key,
            "--node",
            c.node.url,
        )
        assert result.returncode == 0, result.stderr
        yield c
    finally:
        node.stop()


def test_issue_verify_revoke_verify(cli: Cli) -> None:
    base, key = cli.base, str(cli.base / "issuer.key")
    (base / "subject.json").write_text(
        json.dumps({"id": "did:example:shop", "name": "Corner Shop"}), encoding="utf-8"
    )
    vc_file = str(base / "vc.json")
    issued = run_cli(
        "cert",
        "issue",
        "--type",
        "Licence",
        "--schema-version",
        "1.0",
        "--subject",
        str(base / "subject.json"),
        "--valid-until",
        "2099-01-01T00:00:00Z",
        "--out",
        vc_file,
        "--key",
        key,
        "--node",
        cli.node.url,
        "--json",
    )
    assert issued.returncode == 0, issued.stderr
    digest = json.loads(issued.stdout)["hash"]

    verified = run_cli("cert", "verify", vc_file, "--node", cli.node.url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VALID" in verified.stdout and "accreditation" in verified.stdout

    shown = run_cli("cert", "show", digest, "--node", cli.node.url, "--json")
    assert json.loads(shown.stdout)["status"]["status"] == "active"

    revoked = run_cli(
        "cert", "revoke", vc_file, "--reason", "superseded", "--key", key, "--node", cli.node.url
    )
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr

    again = run_cli("cert", "verify", vc_file, "--node", cli.node.url)
    assert again.returncode == 1 and "INVALID" in again.stdout
    assert "CERT_REVOKED" in again.stdout
    as_json = run_cli("cert", "verify", vc_file, "--node", cli.node.url, "--json")
    assert as_json.returncode == 1
    failed = {c["check"] for c in json.loads(as_json.stdout)["checks"] if c["ok"] is False}
    assert failed == {"status"}

    late = run_cli(
        "cert",
        "reinstate",
        digest,
        "--reason",
        "administrative",
        "--key",
        key,
        "--node",
        cli.node.url,
    )
    assert late.returncode == 1 and "[CERT_REVOKED_FINAL]" in late.stderr


def test_bulk_issue_from_csv(cli: Cli) -> None:
    csv_file = cli.base / "shops.csv"
    rows = ["id,name,district"] + [f"did:example:s{i},Shop {i},haishu" for i in range(30)]
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = cli.base / "shops.jsonl"
    result = run_cli(
        "cert",
        "bulk-issue",
        str(csv_file),
        "--type",
        "Licence",
        "--schema-version",
        "1.0",
        "--columns",
        "id,name",
        "--batch",
        "10",
        "--out",
        str(out),
        "--key",
        str(cli.base / "issuer.key"),
        "--node",
        cli.node.url,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["issued"] == 30
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 30 and "district" not in lines[0]
    first = cli.base / "first.json"
    first.write_text(lines[0], encoding="utf-8")
    assert run_cli("cert", "verify", str(first), "--node", cli.node.url).returncode == 0


def test_status_list_publish_show_verify(cli: Cli) -> None:
    base, key = cli.base, str(cli.base / "issuer.key")
    (base / "listed.json").write_text(
        json.dumps({"id": "did:example:listed", "name": "Listed Shop"}), encoding="utf-8"
    )
    vc_file, list_file = base / "listed-vc.json", base / "list.json"
    issue = ("cert", "issue", "--type", "Licence", "--schema-version", "1.0")
    issued = run_cli(
        *issue,
        "--subject",
        str(base / "listed.json"),
        "--out",
        str(vc_file),
        "--key",
        key,
        "--node",
        cli.node.url,
    )
    assert issued.returncode == 0, issued.stderr
    published = cli.ok("cert", "status-list", "publish", "--purpose", "suspension", "--key", key)
    assert published["org"] == "tax" and len(published["list_hash"]) == 64

    shown = cli.ok(
        "cert", "status-list", "show", "tax", "--purpose", "suspension", "--out", str(list_file)
    )
    assert shown["signed"] is True and shown["record"]["list_hash"] == published["list_hash"]
    derived = cli.ok("cert", "status-list", "show", "tax", "--purpose", "suspension", "--derived")
    assert derived["signed"] is False

    verify = ("cert", "status-list", "verify", str(list_file), "--credential", str(vc_file))
    answer = cli.ok(*verify, "--purpose", "suspension")
    assert answer["valid"] and answer["credential_bit_set"] is False
    table = cli.run(*verify)
    assert table.returncode == 0 and "VALID" in table.stdout

    document = json.loads(list_file.read_text(encoding="utf-8"))
    document["validUntil"] = "2099-01-01T00:00:00Z"
    list_file.write_text(json.dumps(document), encoding="utf-8")
    refused = cli.run("cert", "status-list", "verify", str(list_file), "--json")
    assert refused.returncode == 1
    codes = {
        c["check"]: c["code"] for c in json.loads(refused.stdout)["checks"] if c["ok"] is False
    }
    assert codes == {"anchor": "STATUS_LIST_NOT_ANCHORED", "signature": "STATUS_LIST_BAD_SIGNATURE"}

    missing = cli.run("cert", "status-list", "verify")
    assert missing.returncode != 0 and "--fetch" in missing.stdout + missing.stderr


def test_status_list_publish_needs_an_issuer_or_admin(cli: Cli) -> None:
    stranger = str(cli.network.dir / "orgs" / "market-regulation" / "admin.key")
    refused = cli.run("cert", "status-list", "publish", "--key", stranger, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["code"] == "CERT_NOT_ISSUER"
