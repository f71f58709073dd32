"""`govchain org|member|did|key` end to end against a real node."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.nodeproc import Network, NodeProcess, free_port, run_cli

ORG = "tax"


class City:
    def __init__(self, network: Network, node: NodeProcess) -> None:
        self.network, self.node = network, node
        self.dir = str(network.dir)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--node", self.node.url)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    base = tmp_path_factory.mktemp("identity-cli")
    port = free_port()
    result = run_cli("init", "--dir", str(base / "city"), "--port", str(port), "--json")
    assert result.returncode == 0, result.stderr
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        yield City(network, node.start())
    finally:
        node.stop()


def test_org_list_and_show(city: City) -> None:
    orgs = city.json("org", "list")
    assert ORG in [o["id"] for o in orgs]
    table = city.run("org", "list")
    assert table.returncode == 0 and "税务局" in table.stdout
    assert city.json("org", "show", ORG)["name"] == "Tax Bureau"


def test_enrol_then_the_member_notarises(city: City, tmp_path: Path) -> None:
    key_file = tmp_path / "clerk.key"
    enrolled = city.json(
        "member", "enrol", ORG, "clerk", "--role", "officer", "--member-key", str(key_file),
        "--dir", city.dir, "--org", ORG,
    )  # fmt: skip
    assert enrolled["result"]["id"] == f"{ORG}:clerk" and key_file.exists()
    document = tmp_path / "permit.txt"
    document.write_text("permit")
    anchored = city.json("notarize", str(document), "--key", str(key_file))
    assert anchored["ok"] and anchored["result"]["owner_org"] == ORG
    members = city.json("member", "list", ORG, "--dir", city.dir, "--org", ORG)
    assert {m["id"]: m["roles"] for m in members}[f"{ORG}:clerk"] == ["officer"]
    listing = city.run("member", "list", ORG, "--dir", city.dir, "--org", ORG)
    assert listing.returncode == 0 and f"{ORG}:clerk" in listing.stdout


def test_enrol_refusals_tell_the_code(city: City, tmp_path: Path) -> None:
    result = city.run(
        "member", "enrol", "health-commission", "intruder", "--role", "client",
        "--member-key", str(tmp_path / "x.key"), "--dir", city.dir, "--org", ORG,
    )  # fmt: skip
    assert result.returncode == 1 and "[IDENTITY_NOT_ADMIN]" in result.stderr
    assert "hint" in result.stderr


def test_did_resolve(city: City) -> None:
    answer = city.json("did", "resolve", ORG)
    did = answer["didDocument"]["id"]
    assert did.startswith("did:govchain:govchain-local:") and did.endswith(":" + ORG)
    assert city.json("did", "resolve", did, "--height", "0")["didResolutionMetadata"]["height"] == 0
    table = city.run("did", "resolve", did)
    assert table.returncode == 0 and did in table.stdout
    bad = city.run("did", "resolve", "did:govchain:elsewhere:tax")
    assert bad.returncode == 1 and "[IDENTITY_BAD_DID]" in bad.stderr


def test_key_new_and_rotate(city: City, tmp_path: Path) -> None:
    old, new = tmp_path / "old.key", tmp_path / "new.key"
    made = run_cli("key", "new", str(old), "--org", ORG, "--json")
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    city.json(
        "member", "enrol", ORG, "rotator", "--role", "client", "--member-key", str(old),
        "--dir", city.dir, "--org", ORG,
    )  # fmt: skip
    rotated = city.json(
        "key", "rotate", f"{ORG}:rotator", "--old", created["public_key"], "--new-key", str(new),
        "--key", str(old),
    )  # fmt: skip
    keys = rotated["result"]["keys"]
    assert [k["status"] for k in keys] == ["rotated", "active"]
    again = run_cli("key", "new", str(old))
    assert again.returncode == 1 and "exists" in again.stderr
