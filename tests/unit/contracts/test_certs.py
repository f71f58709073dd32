"""The certificates contract: schemas, anchors (one and in batches), status changes, status
lists; every rejection with its code. Authorisation by role is in the authorisation matrix."""

from __future__ import annotations

from typing import Any

import pytest
from certs_world import TYPE, VERSION, CertWorld, key_for, make_world

from govchain.contracts.certs_records import (
    MAX_BATCH,
    AnchorBatchArgs,
    BatchItem,
    anchor_state_key,
    status_state_key,
)
from govchain.credentials.status_list import StatusList
from govchain.credentials.vc import compute_credential_hash
from govchain.merkle import verify_state_proof


@pytest.fixture
def w(chain: Any) -> CertWorld:
    return make_world(chain)


def q(w: CertWorld, view: str, **args: Any) -> Any:
    return w.chain.app.query("certs", view, args)


# --- schemas ---------------------------------------------------------------------------------


def test_schema_registered_immutable_and_versioned(w: CertWorld) -> None:
    record = q(w, "schema", credential_type=TYPE)
    assert (record.version, record.org, record.registrant) == (VERSION, "tax", "tax:issuer")
    assert w.register_schema() == "CERT_SCHEMA_EXISTS"
    assert w.register_schema(w.chain.admin("tax"), version="2.0") == "OK"
    assert q(w, "schema", credential_type=TYPE).version == "2.0"
    assert [r.version for r in q(w, "schema_versions", credential_type=TYPE)] == ["1.0", "2.0"]


@pytest.mark.parametrize(
    "schema",
    [{"type": 5}, {"$schema": "http://json-schema.org/draft-07/schema#"}, [1, 2]],
)
def test_invalid_schema_is_refused(w: CertWorld, schema: Any) -> None:
    assert w.register_schema(version="3.0", schema=schema) == "CERT_SCHEMA_INVALID"


def test_schema_of_a_type_the_org_is_not_accredited_for(w: CertWorld) -> None:
    assert w.register_schema(w.chain.admin("health")) == "CERT_NOT_ACCREDITED"
    bad = {"credential_type": "bad type!", "version": "1", "schema_json": "{}"}
    assert w.code(w.issuer, "register_schema", bad) == "CERT_BAD_ARGS"


# --- anchors ---------------------------------------------------------------------------------


def test_anchor_records_only_hash_and_metadata(w: CertWorld) -> None:
    vc = w.issue()
    digest = compute_credential_hash(vc)
    record = q(w, "get", credential_hash=digest)
    assert record.issuer_org == "tax" and record.submitter == "tax:issuer"
    assert record.status_index == 0 and record.assurance_level == "B"
    assert "Acme" not in repr(record)
    status = q(w, "status", credential_hash=digest)
    assert (status.status, status.history) == ("active", [])
    assert q(w, "next_status_index", org="tax") == 1
    for key in (anchor_state_key(digest), status_state_key(digest)):
        proved = w.chain.app.prove_state(key)
        assert proved.value is not None
        verify_state_proof(proved.header.state_root, key, proved.value, proved.proof)


def test_anchor_rejections(w: CertWorld) -> None:
    vc = w.issue()
    assert w.anchor(vc) == "CERT_ALREADY_ANCHORED"
    fresh = w.vc()
    assert w.anchor(fresh, schema_version="9.9") == "CERT_UNKNOWN_SCHEMA"
    assert w.anchor(fresh, credential_type="Diploma") == "CERT_NOT_ACCREDITED"
    assert w.anchor(fresh, issuer_org="nowhere") == "CERT_UNKNOWN_ORG"
    assert w.anchor(fresh, status_index=0) == "CERT_STATUS_INDEX_TAKEN"
    assert w.anchor(fresh, status_index=1 << 24) == "CERT_BAD_STATUS_INDEX"
    assert w.anchor(fresh, assurance_level="E") == "CERT_BAD_ARGS"
    assert w.anchor(fresh, credential_hash=b"short") == "CERT_BAD_ARGS"
    assert w.anchor(fresh, valid_until_ms=1) == "CERT_BAD_ARGS"
    assert w.anchor(fresh, key=w.chain.admin("tax")) == "CERT_NOT_ISSUER"
    assert w.anchor(fresh, key=w.officer) == "OK"


def test_anchor_refused_once_accreditation_is_revoked(w: CertWorld) -> None:
    w.revoke_accreditation("tax")
    assert w.anchor(w.vc()) == "CERT_NOT_ACCREDITED"


def _batch(w: CertWorld, vcs: list[dict[str, Any]]) -> AnchorBatchArgs:
    items = []
    for vc in vcs:
        a = w.anchor_args(vc)
        items.append(
            BatchItem(a.credential_hash, a.valid_from_ms, a.status_index, a.valid_until_ms, "C")
        )
    return AnchorBatchArgs(TYPE, VERSION, "tax", items)


def test_anchor_batch_all_or_nothing(w: CertWorld) -> None:
    vcs = [w.vc() for _ in range(3)]
    result = w.ok(w.issuer, "anchor_batch", _batch(w, vcs))
    assert result["count"] == 3 and result["first_status_index"] == 0
    assert q(w, "next_status_index", org="tax") == 3
    more = [w.vc(), vcs[1]]  # the second is anchored already
    assert w.code(w.issuer, "anchor_batch", _batch(w, more)) == "CERT_ALREADY_ANCHORED"
    first = anchor_state_key(compute_credential_hash(more[0]))
    assert w.chain.app.prove_state(first).value is None
    other = {"id": "did:example:other", "name": "Other Ltd"}
    same_index = [w.vc(index=10), w.vc(other, index=10)]
    assert w.code(w.issuer, "anchor_batch", _batch(w, same_index)) == "CERT_STATUS_INDEX_TAKEN"


def test_anchor_batch_is_bounded(w: CertWorld) -> None:
    items = [BatchItem(bytes([i % 256, i // 256]) * 16, 0, i) for i in range(MAX_BATCH + 1)]
    args = AnchorBatchArgs(TYPE, VERSION, "tax", items)
    assert w.code(w.issuer, "anchor_batch", args) == "CERT_BATCH_TOO_LARGE"
    empty = AnchorBatchArgs(TYPE, VERSION, "tax", [])
    assert w.code(w.issuer, "anchor_batch", empty) == "CERT_BATCH_TOO_LARGE"


# --- status ----------------------------------------------------------------------------------


def test_suspend_reinstate_revoke_with_history(w: CertWorld) -> None:
    vc = w.issue()
    digest = compute_credential_hash(vc)
    assert w.set_status(vc, "reinstate") == "CERT_BAD_TRANSITION"
    assert w.set_status(vc, "suspend", "holder_request") == "OK"
    assert w.set_status(vc, "suspend") == "CERT_BAD_TRANSITION"
    assert w.set_status(vc, "reinstate") == "OK"
    assert w.set_status(vc, "revoke", "compromise") == "OK"
    assert w.set_status(vc, "reinstate") == "CERT_REVOKED_FINAL"
    assert w.set_status(vc, "suspend") == "CERT_REVOKED_FINAL"
    status = q(w, "status", credential_hash=digest)
    assert (status.status, status.reason_code) == ("revoked", "compromise")
    assert [(c.status, c.reason_code, c.by) for c in status.history] == [
        ("suspended", "holder_request", "tax:officer"),
        ("active", "administrative", "tax:officer"),
        ("revoked", "compromise", "tax:officer"),
    ]


def test_status_rejections(w: CertWorld) -> None:
    vc = w.issue()
    assert w.set_status(vc, "revoke", "because") == "CERT_BAD_REASON"
    unknown = {"credential_hash": b"\x01" * 32, "reason_code": "superseded"}
    assert w.code(w.officer, "revoke", unknown) == "CERT_NOT_FOUND"
    args = {"credential_hash": compute_credential_hash(vc), "reason_code": "superseded"}
    assert w.code(w.chain.admin("health"), "revoke", args) == "CERT_NOT_ISSUER"
    w.enrol("tax", "auditor", key_for("tax-auditor"), ["auditor"])
    assert w.code(key_for("tax-auditor"), "revoke", args) == "CERT_NOT_ISSUER"
    assert w.code(w.chain.admin("tax"), "revoke", args) == "OK"


def _bits(w: CertWorld, purpose: str) -> StatusList:
    credential = q(w, "status_list", org="tax", purpose=purpose, list_url="https://x/l")
    assert credential["issuer"] == f"did:govchain:{w.chain.chain_id}:tax"
    return StatusList.decode(credential["credentialSubject"]["encodedList"])


def test_status_lists_follow_the_records(w: CertWorld) -> None:
    a, b, c = w.issue(), w.issue(), w.issue()
    assert w.set_status(a, "revoke") == "OK"
    assert w.set_status(b, "suspend") == "OK"
    assert w.set_status(c, "suspend") == "OK"
    assert w.set_status(c, "revoke") == "OK"
    revoked, suspended = _bits(w, "revocation"), _bits(w, "suspension")
    assert [revoked.get(i) for i in range(4)] == [True, False, True, False]
    assert [suspended.get(i) for i in range(4)] == [False, True, False, False]
    assert w.set_status(b, "reinstate") == "OK"
    assert _bits(w, "suspension").count_set() == 0
    assert len(_bits(w, "revocation")) == 131_072
