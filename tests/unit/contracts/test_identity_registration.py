"""Self-registration of enterprises (unified social credit code) and citizens (attested)."""

from __future__ import annotations

import hashlib

import pytest
from identity_world import CREDIT_CODE, OTHER_CREDIT_CODE, World, attestation

from govchain.contracts import identity_methods
from govchain.contracts.identity import Attestation
from govchain.contracts.identity_methods import citizen_id, is_valid_credit_code

VALID_CODES = [
    "91350100M000100Y43",  # the example of GB 32100-2015's guidance
    "91110000600037341L",
    "9144030071526726XG",
    "91110108551385082Q",
    "91310000775785552L",
]
INVALID_CODES = [
    "91350100M000100Y44",  # wrong check character
    "91350100M0001TGQXM",  # a real pilot-period code that fails the check (issued before the rule)
    "91110000600037341",  # 17 characters
    "91110000600037341LL",  # 19
    "91110000600037341l",  # lower case (the contract upper-cases; the checker does not)
    "9111000060003734IL",  # I is not in the alphabet
    "9111000060003734OL",
    "91110000600037S41L",
    "",
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_credit_codes(code: str) -> None:
    assert is_valid_credit_code(code)


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_credit_codes(code: str) -> None:
    assert not is_valid_credit_code(code)


def test_every_single_character_change_is_caught() -> None:
    chars = identity_methods.CREDIT_CODE_CHARS
    code = VALID_CODES[1]
    for i in range(18):
        for c in chars:
            if c != code[i]:
                assert not is_valid_credit_code(code[:i] + c + code[i + 1 :]), (i, c)


def test_register_enterprise(world: World) -> None:
    ent = world.get("ent:" + CREDIT_CODE)
    assert (ent.kind, ent.org, ent.name, ent.attestation) == ("enterprise", "", "Acme", None)
    assert [k.public_key for k in ent.keys] == [world.key("enterprise").public_key]
    assert world.admitted("enterprise") == "OK"  # the enterprise's key now sends
    args = {"credit_code": OTHER_CREDIT_CODE.lower(), "name": "Lower Co."}
    world.ok("ent-2", "register_enterprise", args)
    assert world.get("ent:" + OTHER_CREDIT_CODE).name == "Lower Co."


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"credit_code": "91350100M000100Y44", "name": "X"}, "IDENTITY_BAD_CREDIT_CODE"),
        ({"credit_code": "12345", "name": "X"}, "IDENTITY_BAD_CREDIT_CODE"),
        ({"credit_code": CREDIT_CODE, "name": "Squatter"}, "IDENTITY_EXISTS"),
        ({"credit_code": OTHER_CREDIT_CODE, "name": " "}, "IDENTITY_BAD_TEXT"),
        ({"credit_code": OTHER_CREDIT_CODE, "name": "x" * 201}, "IDENTITY_BAD_TEXT"),
    ],
)
def test_register_enterprise_rejections(world: World, args: dict[str, str], code: str) -> None:
    assert world.run("ent-2", "register_enterprise", args) == code


def test_enterprise_with_attestation(world: World) -> None:
    args = {
        "credit_code": OTHER_CREDIT_CODE,
        "name": "Attested Co.",
        "name_zh": "认证公司",
        "attestation": attestation(),
    }
    assert world.run("ent-2", "register_enterprise", args) == "IDENTITY_ATTESTATION_UNSIGNED"
    world.ok("ent-2", "register_enterprise", args, cosign=["bureau_officer"])
    ent = world.get("ent:" + OTHER_CREDIT_CODE)
    assert ent.attestation == attestation() and ent.name_zh == "认证公司"


def test_register_citizen(world: World) -> None:
    key = world.key("citizen").public_key
    cid = "cit:" + hashlib.sha256(key).digest()[:16].hex()
    assert citizen_id(key) == cid and len(cid) == 36
    citizen = world.get(cid)
    assert (citizen.kind, citizen.org, citizen.name, citizen.name_zh) == ("citizen", "", "", "")
    # only the issuer and a hash are on chain
    assert citizen.attestation == attestation()
    assert world.admitted("citizen") == "OK"


@pytest.mark.parametrize(
    ("att", "cosign", "code"),
    [
        (attestation(), ["bureau_officer"], "OK"),
        (attestation(), [], "IDENTITY_ATTESTATION_UNSIGNED"),
        (attestation(), ["auditor"], "IDENTITY_ATTESTATION_UNSIGNED"),  # tax auditor
        (attestation(), ["officer"], "IDENTITY_ATTESTATION_UNSIGNED"),  # officer of another org
        (attestation(), ["bureau_admin"], "IDENTITY_ATTESTATION_UNSIGNED"),  # admin, not officer
        (attestation("tax"), ["officer"], "OK"),
        (attestation("tax"), ["issuer"], "OK"),
        (attestation("bureau", "degree"), ["bureau_officer"], "IDENTITY_NOT_ACCREDITED"),
        (attestation("nowhere"), ["bureau_officer"], "IDENTITY_ATTESTATION_INVALID"),
        (
            Attestation("bureau", b"short", "real-name"),
            ["bureau_officer"],
            "IDENTITY_ATTESTATION_INVALID",
        ),
        (
            Attestation("bureau", b"\x00" * 32, ""),
            ["bureau_officer"],
            "IDENTITY_ATTESTATION_INVALID",
        ),
    ],
)
def test_citizen_attestation_rules(
    world: World, att: Attestation, cosign: list[str], code: str
) -> None:
    keys = [world.chain.admin("bureau") if c == "bureau_admin" else c for c in cosign]
    assert world.run("citizen-2", "register_citizen", {"attestation": att}, cosign=keys) == code


def test_a_citizen_registers_once(world: World) -> None:
    again = {"attestation": attestation()}
    assert world.run("citizen", "register_citizen", again, ["bureau_officer"]) == (
        "IDENTITY_EXISTS"
    )


def test_accreditation_comes_from_governance(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    def only_tax(ctx: object, org: str, kind: str) -> bool:
        asked.append((org, kind))
        return org == "tax"

    monkeypatch.setattr(identity_methods, "_governance_accreditation", lambda: only_tax)
    args = {"attestation": attestation()}
    assert world.run("c3", "register_citizen", args, ["bureau_officer"]) == (
        "IDENTITY_NOT_ACCREDITED"
    )
    assert asked == [("bureau", "real-name")]
    world.ok("c3", "register_citizen", {"attestation": attestation("tax", "degree")}, ["officer"])


def test_without_governance_founders_attest_real_names(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_methods, "_governance_accreditation", lambda: None)
    world.ok("c3", "register_citizen", {"attestation": attestation()}, ["bureau_officer"])
    other = {"attestation": attestation("bureau", "degree")}
    assert world.run("c4", "register_citizen", other, ["bureau_officer"]) == (
        "IDENTITY_NOT_ACCREDITED"
    )


def test_registration_is_open_but_only_there(world: World) -> None:
    methods = world.chain.registry.get("identity").methods
    assert {n for n, m in methods.items() if m.open} == {"register_enterprise", "register_citizen"}
