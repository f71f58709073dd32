"""Offline verification against a real node: issue, fetch the bundle with the CLI, stop the
node, verify the bundle with the CLI and only the network's genesis.json."""

from __future__ import annotations

import json
from pathlib import Path

from govchain.client import add_signature
from govchain.client.certs import issue_credential
from govchain.contracts.governance import ProposeArgs, VoteArgs
from govchain.contracts.governance_actions import Accredit
from govchain.credentials.schema import DRAFT_2020_12
from govchain.credentials.vc import compute_credential_id
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.node.config import save_key

from .nodeproc import NodeProcess, run_cli

TYPE = "BusinessLicence"
SCHEMA = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}


def test_issue_bundle_stop_the_node_verify_offline(node: NodeProcess, tmp_path: Path) -> None:
    net = node.network
    admin = net.key("tax")
    client = node.client()
    proposed = client.send(admin, "governance", "propose", ProposeArgs(Accredit("tax", TYPE)))
    for org in ("market-regulation", "health-commission"):
        client.send(net.key(org), "governance", "vote", VoteArgs(proposed.result["id"], True))
    issuer = get_scheme(ED25519).generate()
    enrol = {"org": "tax", "name": "issuer", "public_key": issuer.public_key, "roles": ["issuer"]}
    assert client.wait(
        client.submit(add_signature(client.build(admin, "identity", "enrol_member", enrol), issuer))
    ).ok
    issuer_client = node.client(key=issuer)
    schema = {"credential_type": TYPE, "version": "1.0", "schema_json": json.dumps(SCHEMA)}
    issuer_client.send(issuer, "certs", "register_schema", schema)
    vc = issue_credential(
        issuer_client,
        issuer,
        issuer_org="tax",
        credential_type=TYPE,
        schema_version="1.0",
        subject={"id": "did:example:acme", "name": "Acme"},
        valid_from="2024-01-01T00:00:00Z",
        valid_until="2099-01-01T00:00:00Z",
    )
    vc_file, bundle_file = tmp_path / "vc.json", tmp_path / "bundle.json"
    vc_file.write_text(json.dumps(vc), encoding="utf-8")
    fetched = run_cli("cert", "bundle", str(vc_file), "--out", str(bundle_file), "--node", node.url)
    assert fetched.returncode == 0, fetched.stderr + fetched.stdout
    qr_text = _qr_checked_online(node, issuer, vc_file, tmp_path)
    node.stop()
    assert not node.running
    genesis = str(net.dir / "genesis.json")
    result = run_cli("cert", "verify-offline", str(bundle_file), "--genesis", genesis, "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    answer = json.loads(result.stdout)
    assert answer["valid"] and answer["credential_hash"] == compute_credential_id(vc)
    assert {c["check"] for c in answer["checks"] if c["ok"]} >= {"header", "proofs", "signature"}
    # a changed claim fails offline too, with its code
    changed = {**vc, "credentialSubject": {"id": "did:example:acme", "name": "Evil"}}
    changed_file = tmp_path / "changed.json"
    changed_file.write_text(json.dumps(changed), encoding="utf-8")
    args = ("--genesis", genesis, "--credential", str(changed_file), "--json")
    refused = run_cli("cert", "verify-offline", str(bundle_file), *args)
    assert refused.returncode == 1
    codes = {c["code"] for c in json.loads(refused.stdout)["checks"] if c["ok"] is False}
    assert "BUNDLE_ANCHOR_MISMATCH" in codes
    _qr_checked_offline(qr_text, bundle_file, tmp_path / "trust.json", genesis)


def _qr_checked_online(node: NodeProcess, issuer: KeyPair, vc_file: Path, tmp_path: Path) -> str:
    """A QR pass of the credential, its issuer key resolved from the chain; a trust file saved."""
    key_file = tmp_path / "issuer.key"
    save_key(key_file, issuer, org="tax", role="issuer")
    made = run_cli("cert", "qr", str(vc_file), "--key", str(key_file), "--json")
    assert made.returncode == 0, made.stderr + made.stdout
    text = str(json.loads(made.stdout)["qr"])
    online = run_cli("cert", "qr-verify", text, "--node", node.url, "--json")
    assert online.returncode == 0, online.stdout + online.stderr
    assert "from the chain" in json.loads(online.stdout)["steps"][0]["message"]
    trust = tmp_path / "trust.json"
    exported = run_cli("cert", "trust-export", "--issuer", "tax", "--out", str(trust),
                       "--node", node.url)  # fmt: skip
    assert exported.returncode == 0, exported.stderr + exported.stdout
    vc = json.loads(vc_file.read_text(encoding="utf-8"))
    presentation = _sd_presented(vc, key_file, tmp_path)
    answer = _sd_verify(presentation, "--node", node.url)
    assert answer["kid"] == vc["proof"]["verificationMethod"]
    return text


def _sd_presented(vc: dict[str, object], key_file: Path, tmp_path: Path) -> Path:
    """An SD-JWT of the issuing member (kid: its DID key, iss: its organisation), presented."""
    subject, holder = tmp_path / "subject.json", tmp_path / "holder.key"
    subject.write_text(json.dumps({"name": "Acme", "licence": "A-1"}), encoding="utf-8")
    save_key(holder, get_scheme(ED25519).generate())
    proof = vc["proof"]
    assert isinstance(proof, dict)
    token, presentation = tmp_path / "licence.sdjwt", tmp_path / "presentation.txt"
    keys = ("--holder-key", str(holder), "--key", str(key_file), "--out", str(token))
    issued = run_cli("cert", "sd-issue", "--subject", str(subject), "--disclosable", "name",
                     "--issuer", str(vc["issuer"]), "--kid", str(proof["verificationMethod"]),
                     *keys)  # fmt: skip
    assert issued.returncode == 0, issued.stderr + issued.stdout
    shown = run_cli("cert", "present", str(token), "--reveal", "name", "--holder-key", str(holder),
                    "--nonce", "n-1", "--audience", "bank", "--out", str(presentation))  # fmt: skip
    assert shown.returncode == 0, shown.stderr + shown.stdout
    return presentation


def _sd_verify(presentation: Path, *source: str, ok: bool = True) -> dict[str, object]:
    args = ("--nonce", "n-1", "--audience", "bank", "--json")
    result = run_cli("cert", "sd-verify", str(presentation), *source, *args)
    assert (result.returncode == 0) is ok, result.stdout + result.stderr
    return dict(json.loads(result.stdout)) if ok else {"output": result.stdout + result.stderr}


def _qr_checked_offline(text: str, bundle: Path, trust: Path, genesis: str) -> None:
    """The pass verified with no node: its issuer key from the bundle, then the trust file."""
    for source in (("--bundle", str(bundle)), ("--trust", str(trust))):
        result = run_cli("cert", "qr-verify", text, *source, "--genesis", genesis, "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["valid"] is True
    presentation = trust.parent / "presentation.txt"
    assert _sd_verify(presentation, "--trust", str(trust), "--genesis", genesis)["valid"] is True
    forged = json.loads(trust.read_text(encoding="utf-8"))
    entry = forged["identities"][-1]
    entry["value"] = entry["value"][:-2] + ("00" if entry["value"][-2:] != "00" else "01")
    trust.write_text(json.dumps(forged), encoding="utf-8")
    refused = run_cli("cert", "qr-verify", text, "--trust", str(trust), "--genesis", genesis,
                      "--json")  # fmt: skip
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["steps"][0]["reason"] == "ISSUER_KEY_UNTRUSTED"
    untrusted = _sd_verify(presentation, "--trust", str(trust), "--genesis", genesis, ok=False)
    assert "ISSUER_KEY_UNTRUSTED" in str(untrusted["output"])
