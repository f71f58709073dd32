"""The catalogue contract: responsibilities, resources with versions, views, and every refusal
with its code."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sharing_world import SharingWorld, field, make_world, resource_args

from govchain.contracts.catalog_records import Gateway, resource_state_key
from govchain.merkle import verify_state_proof


@pytest.fixture
def w(accredit_founders: None, chain: Any) -> SharingWorld:
    return make_world(chain)


def test_resource_is_recorded_with_version_and_proof(w: SharingWorld) -> None:
    record = w.query("catalog", "resource", id="tax.payer-status")
    assert (record.version, record.org, record.submitter) == (1, "tax", "tax:officer")
    assert [f.name for f in record.fields] == ["credit_code", "status", "arrears"]
    proved = w.chain.app.prove_state(resource_state_key("tax.payer-status"))
    assert proved.value is not None
    verify_state_proof(proved.header.state_root, proved.key, proved.value, proved.proof)


def test_update_makes_a_new_version_and_keeps_history(w: SharingWorld) -> None:
    changed = resource_args(update_frequency="weekly", name="Taxpayer status (v2)")
    assert w.ok("tax_admin", "catalog", "update_resource", changed)["version"] == 2
    assert w.query("catalog", "resource", id="tax.payer-status").update_frequency == "weekly"
    assert w.query("catalog", "resource", id="tax.payer-status", version=1).name == (
        "Taxpayer status"
    )
    assert [r.version for r in w.query("catalog", "history", id="tax.payer-status")] == [1, 2]


def test_browse_by_org_responsibility_and_search(w: SharingWorld) -> None:
    ids = [r.id for r in w.query("catalog", "by_org", org="tax")]
    assert ids == ["tax.case-files", "tax.income", "tax.offices", "tax.payer-status"]
    in_duty = w.query("catalog", "by_responsibility", org="tax", responsibility="tax-collection")
    assert len(in_duty) == 4
    assert [r.name for r in w.query("catalog", "responsibilities", org="tax")] == ["Tax collection"]
    assert [r.id for r in w.query("catalog", "search", text="CREDIT_CODE")] == ["tax.payer-status"]
    assert [r.id for r in w.query("catalog", "search", text="个人")] == ["tax.income"]
    assert [r.id for r in w.query("catalog", "search", sharing="none")] == ["tax.case-files"]
    assert w.query("catalog", "search", text="tax", org="health") == []


def test_resource_moves_between_responsibilities(w: SharingWorld) -> None:
    duty = {"org": "tax", "id": "tax-service", "name": "Taxpayer service"}
    w.ok("tax-officer", "catalog", "add_responsibility", duty)
    w.ok("tax-officer", "catalog", "update_resource", resource_args(responsibility="tax-service"))
    moved = w.query("catalog", "by_responsibility", org="tax", responsibility="tax-service")
    assert [r.id for r in moved] == ["tax.payer-status"]
    left = w.query("catalog", "by_responsibility", org="tax", responsibility="tax-collection")
    assert "tax.payer-status" not in [r.id for r in left]


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        ("tax-officer", "OK"),
        ("tax_admin", "OK"),
        ("tax-gateway", "CATALOG_NOT_OWNER"),
        ("tax-auditor", "CATALOG_NOT_OWNER"),
        ("health_admin", "CATALOG_NOT_OWNER"),
        ("enterprise", "CATALOG_NOT_OWNER"),
    ],
)
def test_only_admins_and_officers_of_the_owner_write(
    w: SharingWorld, actor: str, code: str
) -> None:
    assert w.code(actor, "catalog", "add_resource", resource_args("tax.new")) == code


def test_other_department_cannot_update_a_resource_it_does_not_own(w: SharingWorld) -> None:
    duty = {"org": "health", "id": "tax-collection", "name": "Borrowed name"}
    w.ok("health_admin", "catalog", "add_responsibility", duty)
    taken = resource_args(org="health")
    assert w.code("health_admin", "catalog", "update_resource", taken) == "CATALOG_NOT_OWNER"
    assert w.code("health_admin", "catalog", "add_resource", taken) == "CATALOG_EXISTS"


BAD: list[tuple[dict[str, Any], str]] = [
    ({"id": "Tax Payers"}, "CATALOG_BAD_ID"),
    ({"responsibility": "nope"}, "CATALOG_UNKNOWN_RESPONSIBILITY"),
    ({"org": "nowhere"}, "CATALOG_UNKNOWN_ORG"),
    ({"name": " "}, "CATALOG_BAD_TEXT"),
    ({"name_zh": ""}, "CATALOG_BAD_TEXT"),
    ({"fields": []}, "CATALOG_BAD_FIELDS"),
    ({"fields": [field("a"), field("a")]}, "CATALOG_BAD_FIELDS"),
    ({"fields": [field("bad name")]}, "CATALOG_BAD_FIELDS"),
    ({"fields": [field("a", type_="blob")]}, "CATALOG_BAD_FIELD_TYPE"),
    ({"fields": [field("a", "secret")]}, "CATALOG_BAD_SENSITIVITY"),
    ({"classification": "top"}, "CATALOG_BAD_CLASSIFICATION"),
    ({"update_frequency": "hourly"}, "CATALOG_BAD_FREQUENCY"),
    ({"sharing": "sometimes"}, "CATALOG_BAD_SHARING"),
    ({"legal_basis": ""}, "CATALOG_BAD_TEXT"),
    ({"sharing": "unconditional"}, "CATALOG_SHARING_CONFLICT"),
    ({"gateway": Gateway("ftp://x", b"\x01" * 32)}, "CATALOG_BAD_GATEWAY"),
    ({"gateway": Gateway("https://gw.example", b"\x01" * 31)}, "CATALOG_BAD_GATEWAY"),
]


@pytest.mark.parametrize(("changes", "code"), BAD, ids=[f"{c}-{i}" for i, (_, c) in enumerate(BAD)])
def test_invalid_resource_is_refused(w: SharingWorld, changes: dict[str, Any], code: str) -> None:
    args = resource_args("tax.other", **changes)
    assert w.code("tax-officer", "catalog", "add_resource", args) == code


def test_duplicate_and_missing_resources(w: SharingWorld) -> None:
    assert w.code("tax-officer", "catalog", "add_resource", resource_args()) == "CATALOG_EXISTS"
    missing = resource_args("tax.missing")
    assert w.code("tax-officer", "catalog", "update_resource", missing) == "CATALOG_NOT_FOUND"
    with pytest.raises(Exception, match="no resource") as info:
        w.query("catalog", "resource", id="tax.missing")
    assert getattr(info.value, "code", "") == "CATALOG_NOT_FOUND"


def test_bad_responsibility_and_search_limit(w: SharingWorld) -> None:
    bad = {"org": "tax", "id": "UPPER", "name": "x"}
    assert w.code("tax-officer", "catalog", "add_responsibility", bad) == "CATALOG_BAD_ID"
    with pytest.raises(Exception) as info:
        w.query("catalog", "search", text="x", limit=0)
    assert getattr(info.value, "code", "") == "CATALOG_BAD_LIMIT"


def test_catalogue_holds_no_values(w: SharingWorld) -> None:
    record = w.query("catalog", "resource", id="tax.income")
    assert set(msgspec.structs.asdict(record)) >= {"fields", "gateway", "legal_basis"}
    assert all(
        set(msgspec.structs.asdict(f)) == {"name", "type", "sensitivity", "description"}
        for f in record.fields
    )


def test_responsibility_versions_are_kept(w: SharingWorld) -> None:
    duty = {"org": "tax", "id": "tax-collection", "name": "Tax collection and refunds"}
    assert w.ok("tax-officer", "catalog", "add_responsibility", duty)["version"] == 2
    ref = {"org": "tax", "responsibility": "tax-collection"}
    history = w.query("catalog", "responsibility_history", **ref)
    assert [(r.version, r.name) for r in history] == [
        (1, "Tax collection"),
        (2, "Tax collection and refunds"),
    ]
