"""The command line end to end against a real node started with `govchain node start`."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from govchain.cli.main import cli
from govchain.contracts.notary import notary_state_key
from integration.nodeproc import (
    Network,
    NodeProcess,
    free_port,
    govchain_command,
    run_cli,
)

ORG, CO_SIGNER = "tax", "health-commission"


@dataclass
class City:
    network: Network
    node: NodeProcess

    @property
    def dir(self) -> str:
        return str(self.network.dir)

    @property
    def member(self) -> tuple[str, ...]:
        """The options that sign reads as a member (the API serves blocks, state, events and
        others' transactions only to members of organisations)."""
        return ("--dir", self.dir, "--org", ORG)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``govchain ARGS --node URL``."""
        return run_cli(*args, "--node", self.node.url)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    base = tmp_path_factory.mktemp("cli")
    port = free_port()
    result = run_cli("init", "--dir", str(base / "city"), "--port", str(port), "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["chain_id"] == "govchain-local"
    assert ORG in created["orgs"] and CO_SIGNER in created["orgs"]
    assert created["nodes"] == ["node0"]
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        yield City(network, node.start())
    finally:
        node.stop()


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "lease.pdf"
    path.write_bytes(b"%PDF lease " + os.urandom(16))
    return path


def assert_failed(result: subprocess.CompletedProcess[str], code: str) -> None:
    """A rejected command exits 1 and tells the code and what to do."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[{code}]" in result.stderr, result.stderr
    assert "hint:" in result.stderr, result.stderr


def assert_failed_json(result: subprocess.CompletedProcess[str], code: str) -> dict[str, Any]:
    """With --json a rejected command prints the problem document and exits 1."""
    assert result.returncode == 1, result.stdout + result.stderr
    problem: dict[str, Any] = json.loads(result.stdout)
    assert problem["code"] == code, problem
    assert problem["detail"] and problem["hint"] and problem["title"], problem
    return problem


# --- network and node ----------------------------------------------------------------------------


def test_init_writes_the_network_directory(city: City) -> None:
    d = city.network.dir
    genesis = json.loads((d / "genesis.json").read_text(encoding="utf-8"))
    assert [o["id"] for o in genesis["orgs"]][0] == "big-data-bureau"
    config = json.loads((d / "nodes" / "node0" / "config.json").read_text(encoding="utf-8"))
    assert config["port"] == city.network.port
    for key in (d / "orgs" / ORG / "admin.key", d / "nodes" / "node0" / "node.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_init_refuses_to_overwrite(city: City, tmp_path: Path) -> None:
    assert_failed(run_cli("init", "--dir", city.dir), "CONFIG_INVALID")
    assert_failed_json(run_cli("init", "--dir", city.dir, "--json"), "CONFIG_INVALID")
    other = tmp_path / "other"
    assert run_cli("init", "--dir", str(other)).returncode == 0
    before = (other / "genesis.json").read_text(encoding="utf-8")
    assert run_cli("init", "--dir", str(other), "--force", "--json").returncode == 0
    assert (other / "genesis.json").read_text(encoding="utf-8") != before


def test_status(city: City) -> None:
    status = city.json("status")
    assert status["chain_id"] == "govchain-local"
    assert status["node_id"] == "node0"
    assert status["height"] >= 0
    human = city.run("status")
    assert human.returncode == 0
    assert status["genesis_hash"] in human.stdout


# --- notary --------------------------------------------------------------------------------------


def test_notarize_a_file_and_show_it(city: City, document: Path) -> None:
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    outcome = city.json("notarize", str(document), "--dir", city.dir, "--org", ORG)
    assert outcome["status"] == "committed" and outcome["ok"] is True
    assert outcome["result"]["hash"] == digest
    assert outcome["result"]["owner_org"] == ORG

    human = city.run("notary", "show", str(document))
    assert human.returncode == 0, human.stderr
    assert digest in human.stdout
    assert document.name in human.stdout
    assert "verified" in human.stdout

    shown = city.json("notary", "show", digest)
    assert shown["record"]["hash"] == digest
    assert shown["record"]["title"] == document.name
    assert shown["record"]["tx_id"] == outcome["tx_id"]
    assert shown["state"]["exists"] is True


def test_notarize_twice_is_refused_with_code_and_hint(city: City, document: Path) -> None:
    args = ("notarize", str(document), "--dir", city.dir, "--org", ORG)
    assert city.run(*args).returncode == 0
    assert_failed(city.run(*args), "NOTARY_ALREADY_ANCHORED")
    problem = assert_failed_json(city.run(*args, "--json"), "NOTARY_ALREADY_ANCHORED")
    assert hashlib.sha256(document.read_bytes()).hexdigest() in problem["detail"]


def test_notary_show_of_an_unknown_document(city: City) -> None:
    assert_failed(city.run("notary", "show", "ab" * 32), "NOTARY_NOT_FOUND")
    assert_failed(city.run("notary", "show", "neither-a-file-nor-hex"), "BAD_REQUEST")


# --- transactions --------------------------------------------------------------------------------


def _anchor_args(title: str, owner: str = ORG) -> tuple[str, str]:
    doc_hash = os.urandom(32).hex()
    return doc_hash, json.dumps({"hash": doc_hash, "title": title, "owner_org": owner})


def test_tx_send_and_show(city: City) -> None:
    doc_hash, args = _anchor_args("sent from the CLI")
    outcome = city.json(
        "tx", "send", "notary", "anchor", "--args", args, "--dir", city.dir, "--org", ORG
    )
    assert outcome["status"] == "committed" and outcome["ok"] is True
    assert outcome["result"]["hash"] == doc_hash

    shown = city.json("tx", "show", outcome["tx_id"], *city.member)
    assert shown["status"] == "committed"
    assert shown["height"] == outcome["height"]
    assert shown["tx"]["contract"] == "notary" and shown["tx"]["method"] == "anchor"
    assert shown["receipt"]["ok"] is True
    human = city.run("tx", "show", outcome["tx_id"], *city.member)
    assert human.returncode == 0
    assert "committed" in human.stdout and "verified" in human.stdout

    no_wait = city.json(
        "tx",
        "send",
        "notary",
        "anchor",
        "--args",
        _anchor_args("no wait")[1],
        "--dir",
        city.dir,
        "--org",
        ORG,
        "--no-wait",
    )
    assert no_wait["status"] == "pending"


def test_tx_send_failures(city: City) -> None:
    _, args = _anchor_args("for someone else", owner=CO_SIGNER)
    send = ("tx", "send", "notary", "anchor", "--args", args, "--dir", city.dir, "--org", ORG)
    failed = city.run(*send)
    assert failed.returncode == 1
    assert "NOTARY_NOT_OWNER" in failed.stdout + failed.stderr
    _, args = _anchor_args("for someone else again", owner=CO_SIGNER)
    as_json = city.run(*send[:5], args, *send[6:], "--json")
    assert as_json.returncode == 1
    outcome = json.loads(as_json.stdout)
    assert outcome["ok"] is False and outcome["code"] == "NOTARY_NOT_OWNER"
    assert outcome["status"] == "committed" and outcome["message"]

    unknown = ("tx", "send", "notary", "erase", "--dir", city.dir, "--org", ORG)
    assert_failed(city.run(*unknown), "TX_UNKNOWN_METHOD")
    assert_failed_json(city.run(*unknown, "--json"), "TX_UNKNOWN_METHOD")
    bad_args = ("tx", "send", "notary", "anchor", "--args", "{not json", "--dir", city.dir)
    assert_failed(city.run(*bad_args), "BAD_REQUEST")
    assert_failed(city.run("tx", "show", "00" * 32, *city.member), "NOT_FOUND")
    assert_failed_json(city.run("tx", "show", "00" * 32, "--json", *city.member), "NOT_FOUND")


def test_multi_party_build_sign_submit(city: City, tmp_path: Path) -> None:
    _, args = _anchor_args("approved by two departments")
    tx_file = tmp_path / "joint.tx"
    built = city.run(
        "tx",
        "build",
        "notary",
        "anchor",
        "--args",
        args,
        "--dir",
        city.dir,
        "--org",
        ORG,
        "--out",
        str(tx_file),
    )
    assert built.returncode == 0, built.stderr
    single = tx_file.read_bytes()
    signed = run_cli("tx", "sign", str(tx_file), "--dir", city.dir, "--org", CO_SIGNER)
    assert signed.returncode == 0, signed.stderr
    assert len(tx_file.read_bytes()) > len(single)

    # The co-signer's key reads the receipt: it signed the transaction.
    co_signer_key = str(city.network.dir / "orgs" / CO_SIGNER / "admin.key")
    outcome = city.json("tx", "submit", str(tx_file), "--key", co_signer_key)
    assert outcome["status"] == "committed" and outcome["ok"] is True
    shown = city.json("tx", "show", outcome["tx_id"], *city.member)
    signers = {s["public_key"] for s in shown["tx"]["signatures"]}
    assert signers == {
        city.network.key(ORG).public_key.hex(),
        city.network.key(CO_SIGNER).public_key.hex(),
    }
    assert_failed_json(city.run("tx", "submit", str(tx_file), "--json"), "TX_REPLAYED")


# --- signed reads --------------------------------------------------------------------------------


def test_reads_need_a_key_and_take_it_from_options_or_env(city: City) -> None:
    assert_failed(city.run("block", "show"), "AUTH_REQUIRED")
    problem = assert_failed_json(city.run("state", "get", "x", "--json"), "AUTH_REQUIRED")
    assert "--key" in problem["hint"] and "--org" in problem["hint"]
    key_file = str(city.network.dir / "orgs" / ORG / "admin.key")
    assert city.json("block", "show", "--key", key_file)["header"]["height"] >= 0
    env = {**os.environ, "GOVCHAIN_KEY": key_file, "NO_COLOR": "1"}
    for name in ("GOVCHAIN_NODE", "GOVCHAIN_DIR"):
        env.pop(name, None)
    by_env = subprocess.run(
        [*govchain_command(), "block", "show", "--json", "--node", city.node.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert by_env.returncode == 0, by_env.stderr
    assert json.loads(by_env.stdout)["header"]["height"] >= 0
    # An organisation's name without the network directory is a usage error, not a silent
    # fallback to another key.
    assert_failed(city.run("block", "show", "--org", ORG), "CONFIG_INVALID")


# --- blocks and state ----------------------------------------------------------------------------


def test_block_show(city: City) -> None:
    member = city.member
    latest = city.json("block", "show", "latest", *member)
    height = latest["header"]["height"]
    assert height >= 1
    by_height = city.json("block", "show", str(height), *member)
    assert by_height == latest
    by_hash = city.json("block", "show", latest["header"]["hash"], *member)
    assert by_hash == latest
    full = city.json("block", "show", str(height), "--full", *member)
    assert len(full["txs"]) == full["header"]["tx_count"]
    human = city.run("block", "show", str(height), *member)
    assert human.returncode == 0
    assert f"block {height}" in human.stdout and latest["header"]["hash"] in human.stdout
    assert_failed(city.run("block", "show", str(height + 10_000), *member), "NOT_FOUND")


def test_state_get(city: City, document: Path) -> None:
    city.json("notarize", str(document), "--dir", city.dir, "--org", ORG)
    key = notary_state_key(hashlib.sha256(document.read_bytes()).digest()).hex()
    present = city.json("state", "get", key, "--hex", *city.member)
    assert present["exists"] is True and present["value"]
    human = city.run("state", "get", key, "--hex", *city.member)
    assert human.returncode == 0
    assert "True" in human.stdout and "verified" in human.stdout

    absent = city.json("state", "get", "notary/doc/nothing-here", *city.member)
    assert absent["exists"] is False and absent["value"] is None
    earlier = city.json("state", "get", key, "--hex", "--height", "0", *city.member)
    assert earlier["exists"] is False and earlier["height"] == 0


def test_events_follows_blocks(city: City) -> None:
    process = subprocess.Popen(
        [
            *govchain_command(),
            "events",
            "--from-height",
            "0",
            "--node",
            city.node.url,
            *city.member,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [json.loads(process.stdout.readline()) for _ in range(2)]
    finally:
        process.terminate()
        process.wait(15)
    assert [line["header"]["height"] for line in lines] == [0, 1]
    assert all(line["type"] == "block" for line in lines)


# --- bench ---------------------------------------------------------------------------------------


def test_bench_notarize(city: City) -> None:
    result = city.run(
        "bench",
        "notarize",
        "--txs",
        "300",
        "--batch",
        "100",
        "--json",
        "--dir",
        city.dir,
        "--org",
        ORG,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    for key in ("commits_per_s", "latency_ms", "rejected", "failed", "verify_per_s", "ratio"):
        assert key in report, key
    assert set(report["latency_ms"]) >= {"p50", "p95", "p99"}
    assert 0 <= report["latency_ms"]["p50"] <= report["latency_ms"]["p95"]
    assert report["latency_ms"]["p95"] <= report["latency_ms"]["p99"]
    assert report["failed"] == 0 and report["rejected"] == 0
    assert report["committed"] == 300
    assert report["commits_per_s"] > 0 and report["verify_per_s"] > 0 and report["ratio"] > 0


# --- errors without a node -----------------------------------------------------------------------


def test_unreachable_node(tmp_path: Path) -> None:
    result = run_cli("status", "--node", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "node start" in result.stderr  # the hint says what to do
    result = run_cli("status", "--json", "--node", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "node start" in json.loads(result.stdout)["hint"]
    assert_failed(run_cli("verify", "--dir", str(tmp_path / "none")), "CONFIG_INVALID")


# --- help ----------------------------------------------------------------------------------------


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, (*prefix, name)))
    return paths


COMMANDS = _command_paths(cli)


def test_every_command_is_covered_by_the_help_test() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {
        "init",
        "node start",
        "status",
        "notarize",
        "notary show",
        "tx send",
        "tx build",
        "tx sign",
        "tx submit",
        "tx show",
        "block show",
        "state get",
        "verify",
        "events",
        "bench notarize",
        "demo",
    } <= names


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "govchain")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="govchain")
    assert result.exit_code == 0, result.output
    assert "Usage: govchain" in result.output
    assert "--help" in result.output


def test_help_and_version_of_the_installed_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0 and "Usage: govchain" in result.stdout
    assert "notarize" in result.stdout
    version = run_cli("--version")
    assert version.returncode == 0 and "govchain" in version.stdout


# --- stop and audit ------------------------------------------------------------------------------


def test_ctrl_c_stops_the_node_and_the_ledger_verifies(city: City) -> None:
    height = city.json("status")["height"]
    process = city.node.process
    assert process is not None
    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    result = run_cli("verify", "--dir", city.dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "consistent" in result.stdout
    report = json.loads(run_cli("verify", "--dir", city.dir, "--json").stdout)
    assert report["ok"] is True and report["height"] == height
    city.node.start()  # it resumes where it stopped (and later tests, if any, have a node)
    assert city.json("status")["height"] == height
