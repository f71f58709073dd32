"""Bulk issuance throughput: .venv/bin/python bench/bulk_issue.py [N] [BATCH]

Starts a fresh single node on loopback (``govchain init`` + ``govchain node start``, durable
commits), accredits ``tax`` for a type through governance votes, enrols an issuer, registers the
type's schema, then issues N credentials with :func:`govchain.client.certs.bulk_issue` (build,
validate against the schema, sign eddsa-jcs-2022, anchor BATCH per ``anchor_batch`` transaction)
and prints credentials committed per second, end to end (signing included).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from govchain.client import Client, add_signature
from govchain.client.certs import bulk_issue
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.node.config import load_key

BIN = Path(sys.executable).parent
TYPE = "BusinessLicence"
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "name", "licenceNo"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "maxLength": 200},
        "licenceNo": {"type": "string", "pattern": "^[0-9]{8}$"},
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    subprocess.run(
        [BIN / "govchain", "init", "--dir", str(directory), "--port", str(port), "--json"],
        check=True,
        capture_output=True,
    )
    log = (directory / "node.log").open("wb")
    node = subprocess.Popen(
        [BIN / "govchain", "node", "start", "--dir", str(directory)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/v1/status", timeout=1).raise_for_status()
            return node, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the node did not start")


def _prepare(directory: Path, url: str) -> tuple[Client, KeyPair]:
    admin = load_key(directory / "orgs" / "tax" / "admin.key")
    client = Client(url, key=admin)
    proposal = client.send(admin, "governance", "propose", ProposeArgs(Accredit("tax", TYPE)))
    for org in ("market-regulation", "health-commission"):
        voter = load_key(directory / "orgs" / org / "admin.key")
        client.send(voter, "governance", "vote", VoteArgs(proposal.result["id"], True))
    issuer = get_scheme(ED25519).generate()
    enrol = {"org": "tax", "name": "issuer", "public_key": issuer.public_key, "roles": ["issuer"]}
    raw = add_signature(client.build(admin, "identity", "enrol_member", enrol), issuer)
    client.wait(client.submit(raw))
    issuer_client = Client(url, key=issuer)
    schema = {"credential_type": TYPE, "version": "1.0", "schema_json": json.dumps(SCHEMA)}
    issuer_client.send(issuer, "certs", "register_schema", schema)
    return issuer_client, issuer


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    directory = Path(tempfile.mkdtemp(prefix="govchain-bulk-"))
    node, url = _start(directory)
    try:
        client, issuer = _prepare(directory, url)
        rows = [
            {"id": f"did:example:shop-{i}", "name": f"Shop {i}", "licenceNo": f"{i:08d}"}
            for i in range(n)
        ]
        result = bulk_issue(
            client,
            issuer,
            rows,
            issuer_org="tax",
            credential_type=TYPE,
            schema_version="1.0",
            valid_from="2026-01-01T00:00:00Z",
            valid_until="2031-01-01T00:00:00Z",
            batch=batch,
        )
        print(
            json.dumps(
                {
                    "credentials": len(result.credentials),
                    "batch": batch,
                    "seconds": round(result.seconds, 2),
                    "committed_per_second": round(result.per_second, 1),
                    "cores": os.cpu_count(),
                }
            )
        )
    finally:
        node.terminate()
        node.wait(30)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
