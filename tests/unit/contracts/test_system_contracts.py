"""Identity and notary through the application: genesis records, views, anchoring end to end.
(The notary's rules are pinned case by case in tests/vectors/contracts/notary.json.)"""

from __future__ import annotations

from typing import Any

import pytest

from govchain.app.readers import StoreState
from govchain.contracts.base import ReadContext
from govchain.contracts.identity import get_identity_by_key, get_org
from govchain.contracts.notary import MAX_META, MAX_TITLE, NotaryRecord, notary_state_key
from govchain.encoding import decode
from govchain.errors import BadRequest, NotFoundInState, UnknownContract, UnknownView
from govchain.state.overlay import MemoryState


def test_identity_views(chain: Any) -> None:
    tax = chain.app.query("identity", "org", {"id": "tax"})
    assert (tax.id, tax.kind, tax.name, tax.name_zh, tax.org_kind, tax.founding, tax.status) == (
        "tax",
        "org",
        "Tax Department",
        "tax局",
        "department",
        True,
        "active",
    )
    assert [o.id for o in chain.app.query("identity", "orgs", {})] == ["bureau", "health", "tax"]
    key = chain.admin("tax", 1).public_key
    admin = chain.app.query("identity", "key", {"public_key": key})
    assert (admin.id, admin.org, admin.roles) == ("tax:admin", "tax", ["admin"])
    assert key in [k.public_key for k in admin.keys]
    node = chain.app.query("identity", "key", {"public_key": chain.node_key.public_key})
    assert (node.org, node.kind, node.roles) == ("bureau", "node", ["node"])


def test_identity_not_found(chain: Any) -> None:
    with pytest.raises(NotFoundInState) as info:
        chain.app.query("identity", "org", {"id": "nowhere"})
    assert info.value.code == "IDENTITY_NOT_FOUND"
    with pytest.raises(NotFoundInState):
        chain.app.query("identity", "key", {"public_key": chain.key("outsider").public_key})


def test_identity_helpers_read_across_contracts(chain: Any) -> None:
    ctx = ReadContext("notary", StoreState(chain.store), 0)
    assert get_org(ctx, "health") is not None and get_org(ctx, "x") is None
    health = get_identity_by_key(ctx, chain.admin("health").public_key)
    assert health is not None and health.org == "health"
    assert get_identity_by_key(ReadContext("notary", MemoryState(), 0), b"k") is None


def test_query_errors(chain: Any) -> None:
    with pytest.raises(UnknownContract):
        chain.app.query("lottery", "draw", {})
    with pytest.raises(UnknownView, match="no view"):
        chain.app.query("notary", "anchor", {})  # a method is not a view
    with pytest.raises(BadRequest):
        chain.app.query("identity", "org", {"id": 5, "extra": True})


def test_anchor_then_get(chain: Any) -> None:
    args = chain.anchor_args("deed", metadata={"kind": "lease"}, expires_at_ms=2**53)
    raw = chain.tx(args=args)
    committed = chain.commit([raw])
    (receipt,) = committed.receipts
    assert receipt.ok
    record = chain.app.query("notary", "get", {"hash": args.hash})
    assert record == NotaryRecord(
        args.hash,
        args.title,
        "tax",
        chain.admin("tax").public_key,
        1,
        committed.block.header.time_ms,
        committed.tx_ids[0],
        2**53,
        {"kind": "lease"},
    )
    assert decode(bytes(receipt.result), NotaryRecord) == record
    assert chain.store.get_state(notary_state_key(args.hash)) is not None
    # Before block 1 the document was not anchored.
    with pytest.raises(NotFoundInState) as info:
        chain.app.query("notary", "get", {"hash": args.hash}, height=0)
    assert info.value.code == "NOTARY_NOT_FOUND"


def test_any_key_of_the_owner_org_may_anchor(chain: Any) -> None:
    one, two = chain.anchor_args(), chain.anchor_args()
    committed = chain.commit([chain.tx(args=one), chain.tx(chain.admin("tax", 1), args=two)])
    assert [r.ok for r in committed.receipts] == [True, True]
    second = chain.app.query("notary", "get", {"hash": two.hash})
    assert second.submitter == chain.admin("tax", 1).public_key


def test_limits_are_what_the_vectors_assume() -> None:
    assert MAX_TITLE == 200
    assert MAX_META == 16


def test_state_key() -> None:
    assert notary_state_key(b"\x01" * 32) == b"notary/doc/" + b"\x01" * 32
