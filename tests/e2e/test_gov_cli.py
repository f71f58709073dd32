"""Governance end to end: `govchain gov` against a real node started with `govchain node start`.

The sample city has five founding organisations, so the default policy needs three: the
proposer's (implicit yes) and two votes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.nodeproc import Network, NodeProcess, free_port, run_cli


class Gov:
    def __init__(self, network: Network, node: NodeProcess) -> None:
        self.network = network
        self.node = node

    def run(self, *args: str, org: str = "tax") -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--node", self.node.url, "--dir", str(self.network.dir), "--org", org)

    def json(self, *args: str, org: str = "tax") -> Any:
        result = self.run(*args, "--json", org=org)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def gov(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gov]:
    base = tmp_path_factory.mktemp("gov")
    port = free_port()
    result = run_cli("init", "--dir", str(base / "city"), "--port", str(port), "--json")
    assert result.returncode == 0, result.stderr
    network = Network(base / "city", port)
    node = NodeProcess(network, base / "node.log")
    try:
        yield Gov(network, node.start())
    finally:
        node.stop()


def test_set_params_proposed_voted_and_enacted(gov: Gov, tmp_path: Path) -> None:
    before = gov.json("gov", "params")
    assert before["max_block_txs"] != 2000
    proposal = gov.json(
        "gov", "propose", "set-params", "--max-block-txs", "2000", "--title", "Bigger blocks"
    )
    assert proposal["status"] == "open" and proposal["policy"] == "governance"
    pid = str(proposal["id"])
    assert [v["org"] for v in proposal["votes"]] == ["tax"]

    voted = gov.json("gov", "vote", pid, "--yes", org="market-regulation")
    assert voted["status"] == "open"
    passed = gov.json("gov", "vote", pid, "--yes", org="health-commission")
    assert passed["status"] == "passed"
    enact_height = passed["enact_height"]

    late = gov.run("gov", "vote", pid, "--no", org="haishu-district")
    assert late.returncode == 1 and "[GOV_NOT_OPEN]" in late.stderr, late.stderr

    # blocks are cut when there are transactions: one more makes the enactment block
    document = tmp_path / "minutes.txt"
    document.write_bytes(b"minutes of the governance meeting")
    notarized = gov.run("notarize", str(document))
    assert notarized.returncode == 0, notarized.stderr

    shown = gov.json("gov", "show", pid)
    assert shown["status"] == "enacted", shown
    assert shown["enact_height"] == enact_height
    assert shown["outcome"] == "chain parameters set: max_block_txs=2000"
    assert gov.json("gov", "params")["max_block_txs"] == 2000
    status = gov.json("status")
    assert status["height"] >= enact_height

    table = gov.run("gov", "show", pid)
    assert table.returncode == 0 and "enacted" in table.stdout and "Bigger blocks" in table.stdout
    listed = gov.json("gov", "list", "--status", "enacted")
    assert [p["id"] for p in listed] == [proposal["id"]]
    assert "chain parameters changed" in gov.node.log()


def test_invalid_and_unauthorised_proposals(gov: Gov) -> None:
    bad = gov.run("gov", "propose", "set-params", "--max-tx-bytes", "999999999")
    assert bad.returncode == 1 and "[GOV_INVALID_ACTION]" in bad.stderr, bad.stderr
    unknown = gov.run("gov", "vote", "999", "--yes")
    assert unknown.returncode == 1 and "[GOV_UNKNOWN_PROPOSAL]" in unknown.stderr
    accredit = gov.json(
        "gov", "propose", "accredit", "--issuer", "health-commission", "--type", "real-name"
    )
    assert accredit["action"] == {
        "type": "accredit",
        "org": "health-commission",
        "credential_type": "real-name",
    }
    table = gov.run("gov", "list")
    assert table.returncode == 0 and "accredit" in table.stdout
