"""Holder commands with no node: wallet, QR pass encode/verify, SD-JWT issue/present/verify."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from govchain.cli.main import cli
from govchain.client.certs import build_credential
from govchain.crypto.signing import Ed25519Scheme, KeyPair
from govchain.node.config import save_key

CHAIN = "city"
MEMBER_DID = f"did:govchain:{CHAIN}:tax:issuer-1"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _ok(*args: str) -> Any:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def issuer(tmp_path: Path) -> tuple[KeyPair, Path]:
    key = Ed25519Scheme().from_seed(bytes(range(32)))
    path = tmp_path / "issuer.key"
    save_key(path, key, org="tax", role="issuer")
    return key, path


@pytest.fixture
def holder(tmp_path: Path) -> Path:
    path = tmp_path / "holder.key"
    save_key(path, Ed25519Scheme().from_seed(bytes(range(1, 33))))
    return path


def _credential(key: KeyPair, subject_id: str, valid_until: str = "2099-01-01T00:00:00Z") -> Any:
    return build_credential(
        key,
        verification_method=f"{MEMBER_DID}#key-1",
        issuer_did=f"did:govchain:{CHAIN}:tax",
        credential_type="BusinessLicence",
        subject={"id": subject_id, "name": "Acme"},
        status_index=7,
        status_lists_url="http://127.0.0.1:8700/v1/credentials/status-lists/tax",
        valid_from="2025-01-01T00:00:00Z",
        valid_until=valid_until,
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000001",
        created="2025-01-01T00:00:00Z",
    )


def _write(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def test_wallet_add_list_show_remove(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    wallet = tmp_path / "wallet"
    vc = _write(tmp_path / "vc.json", _credential(issuer[0], "did:govchain:city:ent:acme"))
    added = _ok("cert", "wallet", "add", str(vc), "--wallet", str(wallet))
    digest = added["hash"]
    stored = wallet / f"{digest}.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600

    listed = _ok("cert", "wallet", "list", "--wallet", str(wallet))
    assert listed == [
        {
            "hash": digest,
            "format": "vc",
            "alias": None,
            "type": "BusinessLicence",
            "issuer": "did:govchain:city:tax",
            "subject_id": "did:govchain:city:ent:acme",
            "valid_from": "2025-01-01T00:00:00Z",
            "valid_until": "2099-01-01T00:00:00Z",
        }
    ]
    table = _run("cert", "wallet", "list", "--wallet", str(wallet))
    assert table.exit_code == 0 and "Business" in table.output and "1 credentials" in table.output

    shown = _ok("cert", "wallet", "show", digest[:12], "--wallet", str(wallet))
    assert shown == json.loads(vc.read_text())

    assert _ok("cert", "wallet", "remove", digest, "--wallet", str(wallet)) == {"removed": digest}
    assert _ok("cert", "wallet", "list", "--wallet", str(wallet)) == []
    missing = _run("cert", "wallet", "show", digest, "--wallet", str(wallet))
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output


def test_wallet_dir_from_env(
    tmp_path: Path, issuer: tuple[KeyPair, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVCHAIN_WALLET", str(tmp_path / "w"))
    vc = _write(tmp_path / "vc.json", _credential(issuer[0], "did:govchain:city:ent:acme"))
    digest = _ok("cert", "wallet", "add", str(vc))["hash"]
    assert (tmp_path / "w" / f"{digest}.json").is_file()


def test_qr_encode_then_verify(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    key, key_file = issuer
    vc = _write(tmp_path / "vc.json", _credential(key, "did:govchain:city:ent:acme"))
    png, svg = tmp_path / "qr.png", tmp_path / "qr.svg"
    encoded = _ok(
        "cert", "qr", str(vc), "--key", str(key_file), "--png", str(png), "--svg", str(svg)
    )
    assert encoded["qr"].startswith("HC1:") and encoded["kid"] == f"{MEMBER_DID}#key-1"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in svg.read_bytes()
    terminal = _run("cert", "qr", str(vc), "--key", str(key_file))
    assert terminal.exit_code == 0 and "\nHC1:" in terminal.output

    qr_file = tmp_path / "qr.txt"
    qr_file.write_text(encoded["qr"] + "\n", encoding="utf-8")
    genesis = _write(tmp_path / "genesis.json", {"chain_id": CHAIN})
    args = ("cert", "qr-verify", str(qr_file), "--issuer-key", key.public_key.hex())
    verified = _ok(*args, "--genesis", str(genesis))
    assert verified["valid"] is True
    assert [s["status"] for s in verified["steps"]] == ["passed"] * 9
    assert verified["steps"][0]["step"] == "issuer-key"
    assert verified["claims"]["hash"] == encoded["hash"]
    assert verified["claims"]["type"] == "BusinessLicence"
    assert verified["claims"]["exp"] == 4070908800
    table = _run(*args)
    assert table.exit_code == 0 and "VALID" in table.output

    other = _run(*args, "--genesis", str(_write(tmp_path / "g2.json", {"chain_id": "other"})))
    assert other.exit_code == 1 and "QR_WRONG_CHAIN" in other.output


def _truncate_whole_base45_groups(text: str) -> str:
    """Cut the Base45 body by whole 3-character groups, so it still decodes and the truncated
    zlib stream is what fails (the pass's length varies with its issue time)."""
    body = text[4:]
    keep = (len(body) // 2) // 3 * 3
    return text[:4] + body[:keep]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (_truncate_whole_base45_groups, "QR_BAD_COMPRESSION"),
        (lambda t: "HC2:" + t[4:], "QR_BAD_PREFIX"),
        (lambda t: t[:-1] + "a", "QR_BAD_BASE45"),
    ],
)
def test_qr_corrupted_fails_with_reason(
    tmp_path: Path, issuer: tuple[KeyPair, Path], mutate: Any, reason: str
) -> None:
    key, key_file = issuer
    vc = _write(tmp_path / "vc.json", _credential(key, "did:govchain:city:ent:acme"))
    text = _ok("cert", "qr", str(vc), "--key", str(key_file))["qr"]
    result = _run("cert", "qr-verify", mutate(text), "--issuer-key", key.public_key.hex(), "--json")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["valid"] is False and answer["reason"] == reason


def test_qr_wrong_issuer_key_fails(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    key, key_file = issuer
    vc = _write(tmp_path / "vc.json", _credential(key, "did:govchain:city:ent:acme"))
    text = _ok("cert", "qr", str(vc), "--key", str(key_file))["qr"]
    other = Ed25519Scheme().from_seed(bytes(32)).public_key.hex()
    result = _run("cert", "qr-verify", text, "--issuer-key", other, "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["reason"] == "QR_BAD_SIGNATURE"


def test_qr_refuses_a_key_that_did_not_sign(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    vc = _write(tmp_path / "vc.json", _credential(issuer[0], "did:govchain:city:ent:acme"))
    other = tmp_path / "other.key"
    save_key(other, Ed25519Scheme().from_seed(bytes(32)))
    result = _run("cert", "qr", str(vc), "--key", str(other))
    assert result.exit_code == 1 and "did not sign" in " ".join(result.output.split())


def _sd_issue_and_present(
    tmp_path: Path, issuer: tuple[KeyPair, Path], holder: Path, nonce: str
) -> Path:
    subject = _write(
        tmp_path / "subject.json",
        {"given_name": "Ada", "family_name": "Lovelace", "birthDate": "1990-12-10"},
    )
    cred = tmp_path / "cred.sdjwt"
    issued = _run(
        "cert",
        "sd-issue",
        "--subject",
        str(subject),
        "--disclosable",
        "given_name,family_name,birthDate",
        "--age-over",
        "18",
        "--issuer",
        "did:govchain:city:civil-affairs",
        "--holder-key",
        str(holder),
        "--key",
        str(issuer[1]),
        "--out",
        str(cred),
    )
    assert issued.exit_code == 0, issued.output
    assert stat.S_IMODE(cred.stat().st_mode) == 0o600
    presentation = tmp_path / "presentation.txt"
    presented = _run(
        "cert",
        "present",
        str(cred),
        "--reveal",
        "age_over_18",
        "--holder-key",
        str(holder),
        "--nonce",
        nonce,
        "--audience",
        "https://bank.example",
        "--out",
        str(presentation),
    )
    assert presented.exit_code == 0, presented.output
    return presentation


def test_sd_issue_present_verify_reveals_one_claim(
    tmp_path: Path, issuer: tuple[KeyPair, Path], holder: Path
) -> None:
    presentation = _sd_issue_and_present(tmp_path, issuer, holder, "n-123")
    args = ("cert", "sd-verify", str(presentation), "--issuer-key", issuer[0].public_key.hex())
    answer = _ok(*args, "--nonce", "n-123", "--audience", "https://bank.example")
    assert answer["revealed"] == [{"claim": "age_over_18", "value": True}]
    assert answer["issuer"] == "did:govchain:city:civil-affairs"
    text = presentation.read_text()
    assert "Lovelace" not in text and "1990" not in text
    table = _run(*args, "--nonce", "n-123", "--audience", "https://bank.example")
    assert table.exit_code == 0 and "age_over_18" in table.output


def test_sd_verify_wrong_nonce_fails(
    tmp_path: Path, issuer: tuple[KeyPair, Path], holder: Path
) -> None:
    presentation = _sd_issue_and_present(tmp_path, issuer, holder, "n-123")
    args = ("cert", "sd-verify", str(presentation), "--issuer-key", issuer[0].public_key.hex())
    result = _run(*args, "--nonce", "n-999", "--audience", "https://bank.example")
    assert result.exit_code == 1 and "SDJWT_KB_NONCE" in result.output
    wrong_aud = _run(*args, "--nonce", "n-123", "--audience", "https://other.example")
    assert wrong_aud.exit_code == 1 and "SDJWT_KB_AUDIENCE" in wrong_aud.output
    other = Ed25519Scheme().from_seed(bytes(32)).public_key.hex()
    bad_key = _run("cert", "sd-verify", str(presentation), "--issuer-key", other,
                   "--nonce", "n-123", "--audience", "https://bank.example")  # fmt: skip
    assert bad_key.exit_code == 1 and "SDJWT_BAD_SIGNATURE" in bad_key.output
    no_source = _run("cert", "sd-verify", str(presentation), "--nonce", "n-123",
                     "--audience", "https://bank.example")  # fmt: skip
    assert no_source.exit_code == 1 and "--trust FILE" in " ".join(no_source.output.split())


def test_wallet_keeps_sd_jwt_credentials_and_presents_from_it(
    tmp_path: Path, issuer: tuple[KeyPair, Path], holder: Path
) -> None:
    wallet = str(tmp_path / "wallet")
    _sd_issue_and_present(tmp_path, issuer, holder, "n-1")
    cred = tmp_path / "cred.sdjwt"
    added = _ok("cert", "wallet", "add", str(cred), "--alias", "id-card", "--wallet", wallet)
    assert added["format"] == "sd-jwt" and added["alias"] == "id-card"
    assert (tmp_path / "wallet" / f"{added['hash']}.sdjwt").is_file()
    vc = _write(tmp_path / "vc.json", _credential(issuer[0], "did:govchain:city:ent:acme"))
    _ok("cert", "wallet", "add", str(vc), "--alias", "licence", "--wallet", wallet)

    listed = {e["alias"]: e for e in _ok("cert", "wallet", "list", "--wallet", wallet)}
    assert listed["id-card"]["format"] == "sd-jwt"
    assert listed["id-card"]["issuer"] == "did:govchain:city:civil-affairs"
    assert listed["licence"]["format"] == "vc"
    shown = _ok("cert", "wallet", "show", "id-card", "--wallet", wallet)
    assert "age_over_18" in shown["disclosable"] and "Lovelace" not in json.dumps(shown)
    table = _run("cert", "wallet", "show", "id-card", "--wallet", wallet)
    assert table.exit_code == 0 and "SD-JWT" in table.output

    out = tmp_path / "from-wallet.txt"
    presented = _run(
        "cert", "present", "id-card", "--reveal", "age_over_18", "--holder-key", str(holder),
        "--nonce", "n-2", "--audience", "https://bank.example", "--out", str(out),
        "--wallet", wallet,
    )  # fmt: skip
    assert presented.exit_code == 0, presented.output
    args = ("cert", "sd-verify", str(out), "--issuer-key", issuer[0].public_key.hex())
    answer = _ok(*args, "--nonce", "n-2", "--audience", "https://bank.example")
    assert answer["revealed"] == [{"claim": "age_over_18", "value": True}]

    wrong_kind = _run("cert", "present", "licence", "--reveal", "x", "--holder-key", str(holder),
                      "--nonce", "n", "--audience", "a", "--wallet", wallet)  # fmt: skip
    assert wrong_kind.exit_code == 1 and "W3C credential" in " ".join(wrong_kind.output.split())


def test_qr_from_the_wallet(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    key, key_file = issuer
    wallet = str(tmp_path / "wallet")
    vc = _write(tmp_path / "vc.json", _credential(key, "did:govchain:city:ent:acme"))
    digest = _ok("cert", "wallet", "add", str(vc), "--alias", "licence", "--wallet", wallet)["hash"]
    by_alias = _ok("cert", "qr", "licence", "--key", str(key_file), "--wallet", wallet)
    by_prefix = _ok("cert", "qr", digest[:10], "--key", str(key_file), "--wallet", wallet)
    assert by_alias["hash"] == by_prefix["hash"] == digest
    missing = _run("cert", "qr", "nothing", "--key", str(key_file), "--wallet", wallet)
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.output


def test_wallet_alias_rules(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    wallet = str(tmp_path / "wallet")
    first = _write(tmp_path / "a.json", _credential(issuer[0], "did:govchain:city:ent:a"))
    second = _write(tmp_path / "b.json", _credential(issuer[0], "did:govchain:city:ent:b"))
    _ok("cert", "wallet", "add", str(first), "--alias", "mine", "--wallet", wallet)
    clash = _run("cert", "wallet", "add", str(second), "--alias", "mine", "--wallet", wallet)
    assert clash.exit_code == 1 and "already names" in clash.output
    bad = _run("cert", "wallet", "add", str(second), "--alias", "../x", "--wallet", wallet)
    assert bad.exit_code == 1 and "not allowed" in bad.output
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello", encoding="utf-8")
    refused = _run("cert", "wallet", "add", str(garbage), "--wallet", wallet)
    assert refused.exit_code == 1 and "SD-JWT" in refused.output
    removed = _ok("cert", "wallet", "remove", "mine", "--wallet", wallet)
    assert _ok("cert", "wallet", "list", "--wallet", wallet) == []
    assert len(removed["removed"]) == 64


def test_qr_verify_needs_a_key_source(tmp_path: Path, issuer: tuple[KeyPair, Path]) -> None:
    key, key_file = issuer
    vc = _write(tmp_path / "vc.json", _credential(key, "did:govchain:city:ent:acme"))
    text = _ok("cert", "qr", str(vc), "--key", str(key_file))["qr"]
    result = _run("cert", "qr-verify", text, "--json")
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["reason"] == "BAD_REQUEST" and answer["steps"][0]["status"] == "failed"
