"""Anchoring access receipts (all or nothing) and the audit trail: every refusal with its code —
no grant, expired, revoked, fields outside the grant, uses over the limit, replayed, forged or
altered, wrong requester, wrong keys, not the owner's gateway."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sharing_world import DAY_MS, ENTERPRISE, SharingWorld, make_world, sign_receipt

from govchain.contracts.sharing_state import MAX_BATCH, AnchorReceiptsArgs, access_state_key
from govchain.merkle import verify_state_proof


@pytest.fixture
def w(accredit_founders: None, chain: Any) -> SharingWorld:
    return make_world(chain)


@pytest.fixture
def grant(w: SharingWorld) -> str:
    return w.granted()


def test_receipts_are_anchored_counted_and_audited(w: SharingWorld, grant: str) -> None:
    first, second = w.receipt(grant, 0), w.receipt(grant, 1)
    assert w.anchor(first, second) == "OK"
    assert w.query("sharing", "grant", id=grant).uses == 2
    record = w.query("sharing", "access", request_hash=first.request_hash)
    assert (record.grant_id, record.resource_id, record.owner, record.requester) == (
        grant,
        "tax.payer-status",
        "tax",
        "health",
    )
    assert (record.subject, record.fields, record.anchored_by) == (
        ENTERPRISE,
        ["credit_code", "status"],
        "tax:gateway",
    )
    for kind, ident in [
        ("org", "tax"),
        ("org", "health"),
        ("resource", "tax.payer-status"),
        ("grant", grant),
        ("subject", ENTERPRISE),
    ]:
        page = w.query("sharing", "audit", kind=kind, id=ident)
        assert [r.request_hash for r in page.records] == [first.request_hash, second.request_hash]
    key = access_state_key(first.request_hash)
    proved = w.chain.app.prove_state(key)
    assert proved.value is not None
    verify_state_proof(proved.header.state_root, key, proved.value, proved.proof)


def test_audit_pages(w: SharingWorld) -> None:
    grant = w.granted(max_uses=5)
    w.anchor(*[w.receipt(grant, n) for n in range(5)])
    first = w.query("sharing", "audit", kind="grant", id=grant, limit=2)
    assert len(first.records) == 2 and first.next == first.cursors[-1]
    rest = w.query("sharing", "audit", kind="grant", id=grant, after=first.next, limit=10)
    assert len(rest.records) == 3 and rest.next is None
    with pytest.raises(Exception) as info:
        w.query("sharing", "audit", kind="everyone", id="x")
    assert getattr(info.value, "code", "") == "SHARE_BAD_AUDIT_QUERY"


def test_a_bad_receipt_fails_the_whole_batch(w: SharingWorld, grant: str) -> None:
    good = w.receipt(grant, 0)
    bad = msgspec.structs.replace(w.receipt(grant, 1), fields=["credit_code", "arrears"])
    receipt = w.send(
        "tax-gateway", "sharing", "anchor_receipts", {"receipts": [good, sign_again(w, bad)]}
    )
    assert (receipt.ok, receipt.code) == (False, "SHARE_FIELDS_NOT_GRANTED")
    assert receipt.message.startswith("receipt 1:")
    assert w.query("sharing", "grant", id=grant).uses == 0
    assert w.query("sharing", "audit", kind="grant", id=grant).records == []
    assert w.anchor(good) == "OK"


def sign_again(w: SharingWorld, receipt: Any) -> Any:
    return sign_receipt(receipt, w.key("health-fetcher"), w.key("tax-gateway"))


def test_no_grant(w: SharingWorld) -> None:
    assert w.anchor(w.receipt("00" * 16)) == "SHARE_NO_GRANT"


def test_expired_grant(w: SharingWorld) -> None:
    grant = w.granted(duration_ms=1)
    late = w.receipt(grant, time_ms=w.query("sharing", "grant", id=grant).expires_ms + 1)
    assert w.anchor(late) == "SHARE_GRANT_EXPIRED"


def test_revoked_grant_refuses_later_exchanges_but_keeps_earlier_ones(
    w: SharingWorld, grant: str
) -> None:
    before = w.receipt(grant, 0)
    w.ok("tax-officer", "sharing", "revoke", {"grant_id": grant, "reason": "Ended"})
    assert w.anchor(w.receipt(grant, 1)) == "SHARE_GRANT_REVOKED"
    assert w.anchor(before) == "OK"


def test_fields_outside_the_grant(w: SharingWorld, grant: str) -> None:
    assert w.anchor(w.receipt(grant, fields=["arrears"])) == "SHARE_FIELDS_NOT_GRANTED"


def test_uses_over_the_limit(w: SharingWorld, grant: str) -> None:
    assert w.anchor(w.receipt(grant, 0), w.receipt(grant, 1)) == "OK"
    assert w.anchor(w.receipt(grant, 2)) == "SHARE_GRANT_EXHAUSTED"
    over = w.granted(max_uses=1)
    assert w.anchor(w.receipt(over, 0), w.receipt(over, 1)) == "SHARE_GRANT_EXHAUSTED"


def test_replayed_receipt(w: SharingWorld) -> None:
    grant = w.granted(max_uses=5)
    receipt = w.receipt(grant)
    assert w.anchor(receipt, receipt) == "SHARE_RECEIPT_REPLAYED"
    assert w.anchor(receipt) == "OK"
    assert w.anchor(receipt) == "SHARE_RECEIPT_REPLAYED"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"response_hash": b"\x00" * 32}, "SHARE_BAD_REQUESTER_SIGNATURE"),
        ({"time_ms": 1}, "SHARE_BAD_REQUESTER_SIGNATURE"),
        ({"requester_signature": b"\x00" * 64}, "SHARE_BAD_REQUESTER_SIGNATURE"),
        ({"owner_signature": b"\x01" * 64}, "SHARE_BAD_OWNER_SIGNATURE"),
        ({"request_hash": b"\x01" * 31}, "SHARE_BAD_RECEIPT"),
        ({"requester": "bureau"}, "SHARE_WRONG_REQUESTER"),
    ],
)
def test_altered_receipt(w: SharingWorld, grant: str, change: dict[str, Any], code: str) -> None:
    altered = msgspec.structs.replace(w.receipt(grant), **change)
    assert w.anchor(altered) == code


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        ({"requester_key": "stranger"}, "SHARE_REQUESTER_KEY_INVALID"),
        ({"requester_key": "tax-officer"}, "SHARE_REQUESTER_KEY_INVALID"),
        ({"owner_key": "health-fetcher"}, "SHARE_OWNER_KEY_INVALID"),
        ({"owner_key": "stranger"}, "SHARE_OWNER_KEY_INVALID"),
    ],
)
def test_forged_receipt(w: SharingWorld, grant: str, keys: dict[str, str], code: str) -> None:
    assert w.anchor(w.receipt(grant, **keys)) == code


def test_receipt_time_outside_the_grant(w: SharingWorld, grant: str) -> None:
    record = w.query("sharing", "grant", id=grant)
    assert w.anchor(w.receipt(grant, time_ms=record.granted_ms - 1)) == "SHARE_BAD_RECEIPT_TIME"
    future = w.chain.header.time_ms + DAY_MS
    assert w.anchor(w.receipt(grant, time_ms=future)) == "SHARE_BAD_RECEIPT_TIME"


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        ("tax-gateway", "OK"),
        ("tax-officer", "OK"),
        ("tax_admin", "SHARE_NOT_OWNER_GATEWAY"),
        ("tax-auditor", "SHARE_NOT_OWNER_GATEWAY"),
        ("health-fetcher", "SHARE_NOT_OWNER_GATEWAY"),
    ],
)
def test_only_the_owners_gateway_or_officer_anchors(
    w: SharingWorld, grant: str, actor: str, code: str
) -> None:
    assert w.anchor(w.receipt(grant), actor=actor) == code


def test_batch_size(w: SharingWorld, grant: str) -> None:
    assert w.anchor() == "SHARE_BAD_BATCH"
    many = [w.receipt(grant, n) for n in range(MAX_BATCH + 1)]
    args = AnchorReceiptsArgs(many)
    raw = w.chain.tx(w.key("tax-gateway"), args, contract="sharing", method="anchor_receipts")
    assert len(raw) > w.chain.params.max_tx_bytes  # admission refuses it before the contract


def test_a_hundred_receipts_fit_in_one_transaction(w: SharingWorld) -> None:
    grant = w.granted(max_uses=100)
    assert w.anchor(*[w.receipt(grant, n) for n in range(100)]) == "OK"
    assert w.query("sharing", "grant", id=grant).uses == 100


def _answered_entry(w: SharingWorld, request_hash: bytes) -> dict[str, Any]:
    """An audit entry as the API answers it: the record and its state proof."""
    from govchain.api.routes_certs import state_view
    from govchain.encoding import to_builtins

    record = w.query("sharing", "access", request_hash=request_hash)
    proof = w.chain.app.prove_state(access_state_key(request_hash))
    state = to_builtins(state_view(w.chain.app, proof))
    return {"record": to_builtins(record), "state": state}


def test_sdk_checks_each_audit_record_against_its_proof(w: SharingWorld, grant: str) -> None:
    from govchain.client import Client
    from govchain.client.audit import records_to_csv, verify_access_entry
    from govchain.errors import RootMismatch

    receipt = w.receipt(grant)
    assert w.anchor(receipt) == "OK"
    entry = _answered_entry(w, receipt.request_hash)
    client = Client("http://node.invalid")
    verify_access_entry(entry, client)
    altered = {**entry, "record": {**entry["record"], "requester": "bureau"}}
    with pytest.raises(RootMismatch):
        verify_access_entry(altered, client)
    other = w.receipt(grant, 1)
    assert w.anchor(other) == "OK"
    swapped = {**entry, "state": _answered_entry(w, other.request_hash)["state"]}
    with pytest.raises(RootMismatch):
        verify_access_entry(swapped, client)
    lines = records_to_csv([entry["record"]]).splitlines()
    assert lines[0].split(",")[:3] == ["time_ms", "owner", "resource_id"]
    assert "credit_code;status" in lines[1] and ENTERPRISE in lines[1]
