"""Set-up shared by the health integration and CLI tests: a network whose health commission is
accredited by governance votes for the pass types, aggregates and exposure
notices, with an issuer member whose key is a file, and the pass schemas registered."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from govchain.client import add_signature
from govchain.contracts.did import did_of
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.contracts.health_records import AGGREGATE_KIND, EXPOSURE_KIND
from govchain.crypto.signing import ED25519, get_scheme
from govchain.health.schemas import HEALTH_SCHEMAS, SCHEMA_VERSION
from govchain.node.config import save_key

from .nodeproc import Network, NodeProcess, run_cli

COMMISSION = "health-commission"
KINDS = (*HEALTH_SCHEMAS, AGGREGATE_KIND, EXPOSURE_KIND)


class HealthCli:
    """Runs ``govchain`` against one node, signing as an organisation's admin or with a key."""

    def __init__(self, network: Network, node: NodeProcess, base: Path) -> None:
        self.network, self.node, self.base = network, node, base
        self.issuer_key = base / "issuer.key"

    def run(self, *args: str, org: str | None = None, key: Path | None = None) -> Any:
        signing = ["--key", str(key)] if key else ["--dir", str(self.network.dir)]
        if org and not key:
            signing += ["--org", org]
        return run_cli(*args, "--node", self.node.url, *signing)

    def ok(self, *args: str, **kw: Any) -> Any:
        result = self.run(*args, "--json", **kw)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def issuer(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(*args, key=self.issuer_key)  # type: ignore[no-any-return]


def holder_did(chain_id: str, label: str) -> str:
    """A citizen's DID (``cit:`` + 16 bytes of a made-up key's hash)."""
    return did_of(chain_id, "cit:" + hashlib.sha256(label.encode()).digest()[:16].hex())


def set_up_commission(network: Network, node: NodeProcess, base: Path) -> HealthCli:
    """Accredit (SDK: proposals and votes), enrol the issuer (its key saved as a file) and
    register the schemas; the tests themselves drive the CLI."""
    cli = HealthCli(network, node, base)
    admin, client = network.key(COMMISSION), node.client()
    for kind in KINDS:
        proposal = client.send(
            admin, "governance", "propose", ProposeArgs(Accredit(COMMISSION, kind))
        )
        for org in ("tax", "market-regulation"):
            client.send(
                network.key(org), "governance", "vote", VoteArgs(proposal.result["id"], True)
            )
    issuer = get_scheme(ED25519).generate()
    save_key(cli.issuer_key, issuer, org=COMMISSION, role="issuer")
    enrol = {
        "org": COMMISSION,
        "name": "issuer",
        "public_key": issuer.public_key,
        "roles": ["issuer"],
    }
    raw = add_signature(client.build(admin, "identity", "enrol_member", enrol), issuer)
    assert client.wait(client.submit(raw)).ok
    issuer_client = node.client(key=issuer)
    for kind, schema in HEALTH_SCHEMAS.items():
        args = {
            "credential_type": kind,
            "version": SCHEMA_VERSION,
            "schema_json": json.dumps(schema),
        }
        issuer_client.send(issuer, "certs", "register_schema", args)
    return cli
