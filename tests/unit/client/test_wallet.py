"""The holder's wallet keeps W3C and SD-JWT credentials, finds them by alias, hash or prefix."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from govchain.client.wallet import Wallet, compute_sd_jwt_id
from govchain.credentials.jose import keypair_public_jwk
from govchain.credentials.sdjwt import issue_sd_jwt
from govchain.crypto.signing import Ed25519Scheme
from govchain.errors import BadRequest, NotFound

VC = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential", "BusinessLicence"],
    "issuer": "did:govchain:city:tax",
    "credentialSubject": {"id": "did:example:acme", "name": "Acme"},
}


def sd_jwt() -> str:
    issuer = Ed25519Scheme().from_seed(bytes(32))
    holder = Ed25519Scheme().from_seed(bytes(range(32)))
    return issue_sd_jwt(
        {"iss": "did:govchain:city:civil-affairs", "vct": "IdentityCard", "name": "Ada"},
        disclosable=[("name",)],
        issuer_key=issuer,
        kid="k1",
        holder_public_jwk=keypair_public_jwk(holder),
        salt=lambda: b"0123456789abcdef",
        iat=1_700_000_000,
        exp=1_800_000_000,
    )


def test_both_kinds_with_aliases(tmp_path: Path) -> None:
    wallet = Wallet.open(tmp_path / "w")
    vc_hash = wallet.add(VC, alias="licence")
    text = sd_jwt()
    sd_hash = wallet.add(text, alias="id-card")
    assert sd_hash == compute_sd_jwt_id(text)
    assert stat.S_IMODE((tmp_path / "w" / f"{sd_hash}.sdjwt").stat().st_mode) == 0o600
    entries = {e.alias: e for e in wallet.list()}
    assert entries["licence"].format == "vc" and entries["licence"].hash == vc_hash
    card = entries["id-card"]
    assert (card.format, card.credential_type, card.issuer) == (
        "sd-jwt",
        "IdentityCard",
        "did:govchain:city:civil-affairs",
    )
    assert card.valid_until == "2027-01-15T08:00:00Z"
    assert wallet.get("licence") == VC
    assert wallet.get_sd_jwt("id-card") == text
    assert wallet.get_sd_jwt(sd_hash[:8]) == text


def test_wrong_kind_and_missing(tmp_path: Path) -> None:
    wallet = Wallet.open(tmp_path)
    wallet.add(VC, alias="licence")
    with pytest.raises(BadRequest):
        wallet.get_sd_jwt("licence")
    with pytest.raises(NotFound):
        wallet.get("nothing")
    with pytest.raises(BadRequest):
        wallet.add("not an sd-jwt")


def test_removing_drops_the_alias(tmp_path: Path) -> None:
    wallet = Wallet.open(tmp_path)
    digest = wallet.add(VC, alias="licence")
    assert wallet.remove("licence") == digest
    assert wallet.list() == []
    wallet.add(VC, alias="licence")  # the alias is free again
    assert wallet.set_alias("licence", "again") == digest
