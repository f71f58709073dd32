"""The one record checker that online and offline verification share: every problem kind, and
its code in both vocabularies."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from govchain.contracts.certs_checks import (
    OFFLINE_CODES,
    ONLINE_CODES,
    RecordProblem,
    check_accreditation,
    check_anchor_matches,
    check_issuing_key,
    check_schema,
    check_status,
    check_validity,
    get_problem_code,
)
from govchain.contracts.certs_records import CertAnchor, CertStatus, SchemaRecord
from govchain.contracts.governance_actions import Accreditation
from govchain.contracts.identity import Identity, KeyEntry

KEY = b"\x01" * 32
HASH = b"\x02" * 32
VC: dict[str, Any] = {
    "type": ["VerifiableCredential", "BusinessLicence"],
    "issuer": "did:govchain:city:tax",
    "validFrom": "2024-01-01T00:00:00Z",
    "validUntil": "2030-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:acme", "name": "Acme"},
    "credentialStatus": [
        {
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "7",
            "statusListCredential": "https://node.example/lists/tax/revocation",
        }
    ],
}
ANCHOR = CertAnchor(
    HASH, "BusinessLicence", "1.0", "tax", "tax:issuer", 1_704_067_200_000,
    1_893_456_000_000, "B", 7, 10, 0, b"",
)  # fmt: skip
MEMBER = Identity("tax:issuer", "member", "tax", roles=["issuer"], keys=[KeyEntry(KEY, 5)])
ORG = Identity("tax", "org", "tax")
SCHEMA = SchemaRecord(
    "BusinessLicence", "1.0",
    '{"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}}',
    b"", "tax", "tax:issuer", 3, b"",
)  # fmt: skip


def problem(fn: Any, *args: Any) -> tuple[str, str, str]:
    with pytest.raises(RecordProblem) as caught:
        fn(*args)
    p = caught.value
    return p.kind, get_problem_code(p, ONLINE_CODES), get_problem_code(p, OFFLINE_CODES)


def test_anchor_mismatches() -> None:
    assert check_anchor_matches(VC, ANCHOR, "tax").startswith("anchored at height 10")
    expected = ("anchor_mismatch", "CERT_ANCHOR_MISMATCH", "BUNDLE_ANCHOR_MISMATCH")
    assert problem(check_anchor_matches, VC, ANCHOR, "health") == expected
    other_type = msgspec.structs.replace(ANCHOR, credential_type="Permit")
    assert problem(check_anchor_matches, VC, other_type, "tax") == expected
    longer = {**VC, "validUntil": "2031-01-01T00:00:00Z"}
    assert problem(check_anchor_matches, longer, ANCHOR, "tax") == expected


def test_issuing_key() -> None:
    where = "at the anchoring height 10"
    assert check_issuing_key(MEMBER, "tax:issuer", "tax", KEY, 10, where)
    not_member = ("not_member", "CERT_KEY_NOT_ISSUER", "BUNDLE_KEY_NOT_VALID")
    assert problem(check_issuing_key, None, "tax:issuer", "tax", KEY, 10, where) == not_member
    assert problem(check_issuing_key, MEMBER, "tax:issuer", "health", KEY, 10, where) == (
        not_member
    )
    auditor = msgspec.structs.replace(MEMBER, roles=["auditor"])
    assert problem(check_issuing_key, auditor, "tax:issuer", "tax", KEY, 10, where) == (
        "not_issuer", "CERT_KEY_NOT_ISSUER", "BUNDLE_KEY_NOT_VALID"
    )  # fmt: skip
    assert problem(check_issuing_key, MEMBER, "tax:issuer", "tax", KEY, 4, where) == (
        "key_not_valid", "CERT_KEY_NOT_VALID", "BUNDLE_KEY_NOT_VALID"
    )  # fmt: skip


def test_accreditation() -> None:
    held = Accreditation("tax", "BusinessLicence", "active", 2, 1)
    assert check_accreditation(held, ORG, "tax", "BusinessLicence", "at height 10")
    expected = ("not_accredited", "CERT_NOT_ACCREDITED", "BUNDLE_NOT_ACCREDITED")
    revoked = msgspec.structs.replace(held, status="revoked", revoked_height=9)
    assert problem(check_accreditation, revoked, ORG, "tax", "BusinessLicence", "") == expected
    assert problem(check_accreditation, None, ORG, "tax", "BusinessLicence", "") == expected
    removed = msgspec.structs.replace(ORG, status="removed")
    assert problem(check_accreditation, held, removed, "tax", "BusinessLicence", "") == expected
    assert problem(check_accreditation, held, ORG, "tax", "Permit", "") == expected


def test_schema() -> None:
    short = {**VC, "credentialSubject": {"name": "Ac"}}
    assert check_schema(short, ANCHOR, SCHEMA) == "BusinessLicence schema 1.0"
    assert problem(check_schema, VC, ANCHOR, SCHEMA) == (
        "schema_invalid", "CRED_SCHEMA_INVALID", "CRED_SCHEMA_INVALID"
    )  # fmt: skip
    assert problem(check_schema, VC, ANCHOR, None) == (
        "unknown_schema", "CERT_UNKNOWN_SCHEMA", "BUNDLE_UNKNOWN_SCHEMA"
    )  # fmt: skip


def test_validity() -> None:
    assert check_validity(VC, 1_800_000_000_000)
    assert problem(check_validity, VC, 1_900_000_000_000) == (
        "expired", "CRED_EXPIRED", "BUNDLE_EXPIRED"
    )  # fmt: skip
    assert problem(check_validity, VC, 1_600_000_000_000) == (
        "not_yet_valid", "CRED_NOT_YET_VALID", "CRED_NOT_YET_VALID"
    )  # fmt: skip


def test_status() -> None:
    active = CertStatus(HASH, "tax", 7)
    assert check_status(VC, ANCHOR, active) == "active"
    mismatch = ("status_mismatch", "CERT_STATUS_MISMATCH", "BUNDLE_ANCHOR_MISMATCH")
    assert problem(check_status, VC, ANCHOR, msgspec.structs.replace(active, status_index=8)) == (
        mismatch
    )
    elsewhere = msgspec.structs.replace(ANCHOR, status_index=8)
    other_index = msgspec.structs.replace(active, status_index=8)
    assert problem(check_status, VC, elsewhere, other_index) == mismatch
    revoked = msgspec.structs.replace(active, status="revoked", reason_code="superseded")
    assert problem(check_status, VC, ANCHOR, revoked) == (
        "revoked", "CERT_REVOKED", "BUNDLE_REVOKED"
    )  # fmt: skip
    suspended = msgspec.structs.replace(active, status="suspended")
    assert problem(check_status, VC, ANCHOR, suspended) == (
        "suspended", "CERT_SUSPENDED", "BUNDLE_SUSPENDED"
    )  # fmt: skip
