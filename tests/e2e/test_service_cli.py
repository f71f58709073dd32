"""Services end to end with the CLI on the sample city: a definition checked, refused when it does
not validate, published and activated by a governance vote; an enterprise starts an instance;
departments act in order (the wrong department and an early step refused with their codes); the
applicant follows it; `report paperwork` counts it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.nodeproc import Network, NodeProcess, free_port, run_cli

CREDIT_CODE = "91350100M000100Y43"
DEFINITION = {
    "id": "market-stall",
    "version": "1.0",
    "title": "Open a market stall",
    "applicants": ["enterprise"],
    "steps": [
        {
            "id": "licence",
            "title": "Stall licence",
            "org": "market-regulation",
            "approval": {"n": 1, "roles": ["admin", "officer"]},
            "deadline": "2d",
            "needs": [{"id": "plan", "title": "Stall plan"}],
        },
        {
            "id": "hygiene",
            "title": "Hygiene check",
            "org": "health-commission",
            "after": ["licence"],
            "approval": {"n": 1, "roles": ["admin", "officer"]},
            "deadline": "3d",
        },
    ],
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

    def code(self, *args: str, **kw: Any) -> str:
        result = self.run(*args, "--json", **kw)
        assert result.returncode == 1, result.stdout + result.stderr
        return str(json.loads(result.stdout)["code"])


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    base = tmp_path_factory.mktemp("services-cli")
    port = free_port()
    assert run_cli("init", "--dir", str(base / "city"), "--port", str(port)).returncode == 0
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        yield Cli(network, node.start(), base)
    finally:
        node.stop()


def test_service_lifecycle_with_the_cli(cli: Cli) -> None:
    definition = cli.base / "stall.json"
    definition.write_text(json.dumps(DEFINITION, indent=2), encoding="utf-8")
    checked = cli.ok("service", "publish", str(definition), "--check-only")
    assert len(checked["hash"]) == 64

    bad = cli.base / "bad.json"
    bad.write_text(json.dumps({**DEFINITION, "steps": []}), encoding="utf-8")
    assert cli.code("service", "publish", str(bad)) == "WF_DEF_SCHEMA"

    published = cli.ok("service", "publish", str(definition), "--propose")
    proposal = published["proposal"]["id"]
    for org in ("market-regulation", "health-commission"):
        cli.ok("gov", "vote", str(proposal), "--yes", org=org)
    ent_key = str(cli.base / "ent.key")
    register = ["register", "enterprise", CREDIT_CODE, "--name", "Stall Ltd", "--key", ent_key]
    cli.ok(*register, org=None)  # its block enacts the registration
    (listed,) = cli.ok("service", "list")
    assert (listed["id"], listed["status"]) == ("market-stall", "active")
    shown = cli.run("service", "show", "market-stall")
    assert shown.returncode == 0 and "hygiene" in shown.stdout and "licence" in shown.stdout

    (cli.base / "plan.pdf").write_bytes(b"%PDF stall plan")
    instance = cli.ok(
        "service",
        "start",
        "market-stall",
        "--upload",
        f"licence/plan={cli.base / 'plan.pdf'}",
        "--key",
        ent_key,
        org=None,
    )
    iid = instance["id"]
    assert cli.code("service", "act", iid, "hygiene", "approve", org="health-commission") == (
        "WF_STEP_NOT_READY"
    )
    assert cli.code("service", "act", iid, "licence", "approve", org="health-commission") == (
        "WF_NOT_STEP_ORG"
    )
    cli.ok("service", "act", iid, "licence", "approve", org="market-regulation")
    done = cli.ok("service", "act", iid, "hygiene", "approve", org="health-commission")
    assert done["status"] == "completed"

    followed = cli.ok("service", "status", iid, "--key", ent_key, org=None)
    assert followed["status"] == "completed"
    table = cli.run("service", "status", iid, "--key", ent_key, org=None)
    assert table.returncode == 0 and "completed" in table.stdout
    mine = cli.ok("service", "status", "--applicant", "ent:" + CREDIT_CODE, "--key", ent_key)
    assert [i["id"] for i in mine] == [iid]

    report = cli.ok("report", "paperwork", "--service", "market-stall")
    assert report["total"] == {
        "service_id": "*",
        "instances": 1,
        "required": 1,
        "met_by_credential": 0,
        "met_by_shared_data": 0,
        "uploaded": 1,
        "reduction_percent": 0.0,
    }
    printed = cli.run("report", "paperwork")
    assert printed.returncode == 0 and "market-stall" in printed.stdout


def test_help_shows_examples() -> None:
    result = run_cli("service", "--help")
    assert result.returncode == 0 and "govchain service start" in result.stdout
    assert "reduction" in run_cli("report", "paperwork", "--help").stdout
