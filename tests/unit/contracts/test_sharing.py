"""The sharing contract: requests, consent, approval by sharing class, rejection, revocation;
every refusal with its code. Receipts and audit: ``test_sharing_receipts.py``."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sharing_world import DAY_MS, ENTERPRISE, SharingWorld, field, make_world, resource_args

from govchain.contracts.sharing_records import get_grant_problem, grant_state_key


@pytest.fixture
def w(accredit_founders: None, chain: Any) -> SharingWorld:
    return make_world(chain)


def _code(receipt: Any) -> str:
    return "OK" if receipt.ok else str(receipt.code)


def test_conditional_enterprise_data_needs_consent_then_approval(w: SharingWorld) -> None:
    request_id = w.request_id()
    request = w.query("sharing", "get_request", id=request_id)
    assert (request.status, request.requester, request.requested_by) == (
        "pending",
        "health",
        "health:admin",
    )
    assert request.needs_consent and request.subject == ENTERPRISE
    assert w.code("tax-officer", "sharing", "approve", {"id": request_id}) == (
        "SHARE_CONSENT_MISSING"
    )
    w.ok("enterprise", "sharing", "consent", {"id": request_id})
    approved = w.ok("tax-officer", "sharing", "approve", {"id": request_id})
    assert approved["status"] == "approved" and approved["grant_id"] == request_id
    grant = w.query("sharing", "grant", id=request_id)
    assert (grant.fields, grant.max_uses, grant.uses, grant.owner) == (
        ["credit_code", "status"],
        2,
        0,
        "tax",
    )
    assert grant.expires_ms == grant.granted_ms + 30 * DAY_MS
    assert get_grant_problem(grant, grant.granted_ms) is None
    assert w.chain.app.prove_state(grant_state_key(request_id)).value is not None


def test_personal_data_needs_the_citizens_own_consent(w: SharingWorld) -> None:
    request_id = w.request_id(resource_id="tax.income", fields=["income"], subject=w.citizen)
    assert w.code("enterprise", "sharing", "consent", {"id": request_id}) == "SHARE_NOT_SUBJECT"
    assert w.code("tax-officer", "sharing", "consent", {"id": request_id}) == "SHARE_NOT_SUBJECT"
    w.ok("citizen", "sharing", "consent", {"id": request_id})
    assert w.code("citizen", "sharing", "consent", {"id": request_id}) == (
        "SHARE_ALREADY_CONSENTED"
    )
    w.ok("citizen", "sharing", "withdraw_consent", {"id": request_id})
    assert w.code("tax-officer", "sharing", "approve", {"id": request_id}) == (
        "SHARE_CONSENT_MISSING"
    )


def test_subject_requesting_its_own_data_consents_by_requesting(w: SharingWorld) -> None:
    request_id = w.request_id(actor="enterprise", fields=["status"])
    request = w.query("sharing", "get_request", id=request_id)
    assert request.requester == ENTERPRISE and request.consent_height is not None
    w.ok("tax-officer", "sharing", "approve", {"id": request_id})


def test_unconditional_resource_is_granted_to_a_department_at_once(w: SharingWorld) -> None:
    receipt = w.request("tax.offices", ["office"], subject=None)
    result = msgspec.msgpack.decode(bytes(receipt.result))
    assert (result["status"], result["decided_by"]) == ("approved", "auto")
    assert w.query("sharing", "grant", id=result["id"]).status == "active"


def test_unconditional_resource_waits_for_the_owner_for_an_enterprise(w: SharingWorld) -> None:
    request_id = w.request_id(
        resource_id="tax.offices", fields=["office"], subject=None, actor="enterprise"
    )
    assert w.query("sharing", "get_request", id=request_id).status == "pending"
    w.ok("tax-officer", "sharing", "approve", {"id": request_id})


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        (
            {"resource_id": "tax.case-files", "fields": ["case"], "subject": None},
            "SHARE_NOT_SHAREABLE",
        ),
        ({"resource_id": "tax.nothing"}, "SHARE_UNKNOWN_RESOURCE"),
        ({"fields": ["credit_code", "home_address"]}, "SHARE_UNKNOWN_FIELDS"),
        ({"fields": ["status", "status"]}, "SHARE_UNKNOWN_FIELDS"),
        ({"subject": None}, "SHARE_SUBJECT_REQUIRED"),
        ({"subject": "cit:00"}, "SHARE_BAD_SUBJECT"),
        ({"resource_id": "tax.income", "fields": ["income"]}, "SHARE_BAD_SUBJECT"),
        ({"duration_ms": 0}, "SHARE_BAD_DURATION"),
        ({"max_uses": 0}, "SHARE_BAD_MAX_USES"),
        ({"actor": "tax-officer"}, "SHARE_OWN_RESOURCE"),
        ({"actor": "tax-gateway"}, "SHARE_NOT_REQUESTER"),
    ],
)
def test_request_refusals(w: SharingWorld, kw: dict[str, Any], code: str) -> None:
    assert _code(w.request(**kw)) == code


def test_empty_purpose_is_refused(w: SharingWorld) -> None:
    args = {"resource_id": "tax.offices", "fields": ["office"], "purpose": " ", "duration_ms": 1}
    assert w.code("health_admin", "sharing", "request", args) == "SHARE_BAD_PURPOSE"


@pytest.mark.parametrize("actor", ["health_admin", "tax-gateway", "tax-auditor", "enterprise"])
def test_wrong_organisation_or_role_cannot_decide(w: SharingWorld, actor: str) -> None:
    request_id = w.request_id()
    w.ok("enterprise", "sharing", "consent", {"id": request_id})
    assert w.code(actor, "sharing", "approve", {"id": request_id}) == "SHARE_NOT_OWNER"
    reject = {"id": request_id, "reason": "no"}
    assert w.code(actor, "sharing", "reject", reject) == "SHARE_NOT_OWNER"


def test_reject_with_a_reason_and_decide_once(w: SharingWorld) -> None:
    request_id = w.request_id()
    bad = {"id": request_id, "reason": ""}
    assert w.code("tax-officer", "sharing", "reject", bad) == "SHARE_BAD_REASON"
    rejected = w.ok("tax-officer", "sharing", "reject", {"id": request_id, "reason": "No basis"})
    assert (rejected["status"], rejected["reason"]) == ("rejected", "No basis")
    assert w.code("tax-officer", "sharing", "approve", {"id": request_id}) == "SHARE_NOT_PENDING"
    assert w.code("enterprise", "sharing", "consent", {"id": request_id}) == "SHARE_NOT_PENDING"
    assert w.code("tax-officer", "sharing", "approve", {"id": "00"}) == "SHARE_UNKNOWN_REQUEST"


def test_resource_made_unshareable_after_the_request_cannot_be_approved(
    w: SharingWorld,
) -> None:
    request_id = w.request_id()
    w.ok("enterprise", "sharing", "consent", {"id": request_id})
    closed = resource_args(sharing="none", legal_basis="")
    w.ok("tax-officer", "catalog", "update_resource", closed)
    assert w.code("tax-officer", "sharing", "approve", {"id": request_id}) == (
        "SHARE_NOT_SHAREABLE"
    )


def test_owner_or_subject_revokes_a_grant(w: SharingWorld) -> None:
    first, second = w.granted(), w.granted()
    revoke = {"grant_id": first, "reason": "Purpose fulfilled"}
    assert w.code("health_admin", "sharing", "revoke", revoke) == "SHARE_NOT_OWNER"
    grant = w.ok("tax-officer", "sharing", "revoke", revoke)
    assert (grant["status"], grant["revoked_by"]) == ("revoked", "tax:officer")
    assert w.code("tax-officer", "sharing", "revoke", revoke) == "SHARE_GRANT_REVOKED"
    withdrawn = w.ok("enterprise", "sharing", "revoke", {"grant_id": second, "reason": "Consent"})
    assert withdrawn["revoked_by"] == ENTERPRISE
    missing = {"grant_id": "ff", "reason": "x"}
    assert w.code("tax-officer", "sharing", "revoke", missing) == "SHARE_NO_GRANT"
    assert w.code("tax-officer", "sharing", "revoke", {"grant_id": second, "reason": ""}) == (
        "SHARE_GRANT_REVOKED"
    )


def test_requests_of_each_party(w: SharingWorld) -> None:
    granted = w.granted()
    pending = w.request_id()
    for party in ("tax", "health", ENTERPRISE):
        ids = [r.id for r in w.query("sharing", "requests_of", identity=party)]
        assert ids == [granted, pending]
    grants = w.query("sharing", "requests_of", identity="health", grants_only=True)
    assert [r.id for r in grants] == [granted]


def test_field_made_sensitive_after_the_request_needs_a_subject(w: SharingWorld) -> None:
    request_id = w.request_id(fields=["credit_code"], subject=None)
    fields = [field("credit_code", "enterprise"), field("status", "enterprise")]
    w.ok("tax-officer", "catalog", "update_resource", resource_args(fields=fields))
    assert w.code("tax-officer", "sharing", "approve", {"id": request_id}) == (
        "SHARE_SUBJECT_REQUIRED"
    )


def test_grant_records_the_catalogue_version_it_was_made_under(w: SharingWorld) -> None:
    request_id = w.request_id()
    w.ok("tax-officer", "catalog", "update_resource", resource_args(update_frequency="weekly"))
    w.ok("enterprise", "sharing", "consent", {"id": request_id})
    w.ok("tax-officer", "sharing", "approve", {"id": request_id})
    assert w.query("sharing", "get_request", id=request_id).resource_version == 1
    assert w.query("sharing", "grant", id=request_id).resource_version == 2
