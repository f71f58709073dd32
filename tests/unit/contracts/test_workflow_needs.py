"""Meeting a need with data shared under a grant: the grant must be usable now, requested by the
step's organisation, about the applicant, on the need's resource, and cover its fields."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from govchain.contracts.base import ReadContext
from govchain.contracts.sharing_records import Grant, grant_state_key
from govchain.contracts.workflow_definitions import DataWay, Need
from govchain.contracts.workflow_needs import check_provision, compute_holder_commitment
from govchain.contracts.workflow_records import Provision
from govchain.errors import ContractError
from govchain.state.overlay import MemoryState

APPLICANT = "ent:91350100M000100Y43"
NOW = 1_700_000_000_000
NEED = Need("record", "Tax record", data=DataWay("tax", "tax.records", ["a", "b"]))
GRANT = Grant(
    id="g-1",
    request_id="r-1",
    resource_id="tax.records",
    owner="tax",
    requester="health",
    fields=["a", "b", "c"],
    purpose="service permit",
    granted_height=1,
    expires_ms=NOW + 1000,
    max_uses=3,
    subject=APPLICANT,
)


def _check(grant: Grant, need: Need = NEED, now: int = NOW) -> tuple[str, str]:
    state = MemoryState({grant_state_key(grant.id): msgspec.msgpack.encode(grant)})
    ctx = ReadContext("workflow", state, 5)
    provision = Provision("check", need.id, grant_id=grant.id)
    return check_provision(ctx, need, "health", APPLICANT, provision, now)


def test_a_usable_grant_meets_the_need() -> None:
    assert _check(GRANT) == ("data", "g-1")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"requester": "bureau"}, "is for bureau"),
        ({"subject": "ent:91110000600037341L"}, "another subject"),
        ({"subject": None}, "another subject"),
        ({"resource_id": "tax.other"}, "not tax.records"),
        ({"fields": ["a"]}, "field(s) b"),
        ({"status": "revoked"}, "revoked"),
        ({"expires_ms": NOW - 1}, "expired"),
        ({"uses": 3}, "used 3 of 3"),
    ],
)
def test_an_unusable_grant_is_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(ContractError) as exc:
        _check(msgspec.structs.replace(GRANT, **change))
    assert exc.value.code == "WF_GRANT_UNUSABLE"
    assert reason in exc.value.message


def test_an_upload_is_refused_where_the_need_forbids_it() -> None:
    need = msgspec.structs.replace(NEED, upload=False)
    ctx = ReadContext("workflow", MemoryState(), 5)
    provision = Provision("check", "record", upload_hash=b"\x01" * 32)
    with pytest.raises(ContractError) as exc:
        check_provision(ctx, need, "health", APPLICANT, provision, NOW)
    assert exc.value.code == "WF_UPLOAD_NOT_ACCEPTED"


def test_holder_commitment_binds_credential_holder_and_salt() -> None:
    base = compute_holder_commitment(b"\x01" * 32, APPLICANT, b"s" * 16)
    assert base != compute_holder_commitment(b"\x02" * 32, APPLICANT, b"s" * 16)
    assert base != compute_holder_commitment(b"\x01" * 32, "ent:other", b"s" * 16)
    assert base != compute_holder_commitment(b"\x01" * 32, APPLICANT, b"t" * 16)
