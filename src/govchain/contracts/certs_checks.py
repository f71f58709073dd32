"""The record-level checks of a credential against the chain's records: one pure checker shared
by online verification (:mod:`govchain.app.verify_credential`, records read from the node's
state) and offline verification (:mod:`govchain.client.offline`, records proven by a bundle), so
the two can never disagree.

Each check takes the records it judges (``None`` when the state holds none) and either returns
the sentence that says what held, or raises :class:`RecordProblem` with a *kind* from
:data:`PROBLEMS` and the reason. Each verifier names the kinds in its own vocabulary
(``CERT_*`` online, ``BUNDLE_*`` offline) with its own code table.

"At the anchoring height" means the state after the anchoring block: the signing member's
record, its key window and the accreditation are judged there; the status at the latest height
the verifier knows.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import msgspec

from govchain.contracts.certs_records import ANCHOR_ROLES, CertAnchor, CertStatus, SchemaRecord
from govchain.contracts.governance_actions import Accreditation
from govchain.contracts.identity import Identity, is_key_valid_at
from govchain.credentials.schema import SubjectSchema
from govchain.credentials.status_list import BitstringStatusListEntry
from govchain.credentials.vc import (
    check_validity_window,
    get_credential_types,
    parse_datetime_stamp,
)
from govchain.errors import GovchainError

__all__ = [
    "OFFLINE_CODES",
    "ONLINE_CODES",
    "PROBLEMS",
    "RecordProblem",
    "check_accreditation",
    "check_anchor_matches",
    "check_issuing_key",
    "check_schema",
    "check_status",
    "check_validity",
    "get_problem_code",
]

PROBLEMS = (
    "anchor_mismatch",  # the anchor is of another issuer, type or validity window
    "status_mismatch",  # the status record or credentialStatus names another index
    "not_member",  # the signer is not a member of the issuer
    "not_issuer",  # the signer held no issuing role (or was not active)
    "key_not_valid",  # the key was rotated or revoked before the anchoring height
    "not_accredited",  # the issuer was not accredited for the type
    "unknown_schema",  # no such schema version
    "schema_invalid",  # credentialSubject does not match the schema
    "expired",
    "not_yet_valid",
    "revoked",
    "suspended",
)


# "" means: the credential layer's own code (CRED_SCHEMA_INVALID, ...), carried by the problem
ONLINE_CODES = {
    "anchor_mismatch": "CERT_ANCHOR_MISMATCH",
    "status_mismatch": "CERT_STATUS_MISMATCH",
    "not_member": "CERT_KEY_NOT_ISSUER",
    "not_issuer": "CERT_KEY_NOT_ISSUER",
    "key_not_valid": "CERT_KEY_NOT_VALID",
    "not_accredited": "CERT_NOT_ACCREDITED",
    "unknown_schema": "CERT_UNKNOWN_SCHEMA",
    "schema_invalid": "",
    "expired": "CRED_EXPIRED",
    "not_yet_valid": "CRED_NOT_YET_VALID",
    "revoked": "CERT_REVOKED",
    "suspended": "CERT_SUSPENDED",
}
OFFLINE_CODES = {
    "anchor_mismatch": "BUNDLE_ANCHOR_MISMATCH",
    "status_mismatch": "BUNDLE_ANCHOR_MISMATCH",
    "not_member": "BUNDLE_KEY_NOT_VALID",
    "not_issuer": "BUNDLE_KEY_NOT_VALID",
    "key_not_valid": "BUNDLE_KEY_NOT_VALID",
    "not_accredited": "BUNDLE_NOT_ACCREDITED",
    "unknown_schema": "BUNDLE_UNKNOWN_SCHEMA",
    "schema_invalid": "",
    "expired": "BUNDLE_EXPIRED",
    "not_yet_valid": "CRED_NOT_YET_VALID",
    "revoked": "BUNDLE_REVOKED",
    "suspended": "BUNDLE_SUSPENDED",
}


class RecordProblem(Exception):
    """A record-level check failed: ``kind`` is one of :data:`PROBLEMS`; ``code`` carries the
    credential layer's own code where there is one (schema errors), else ""."""

    def __init__(self, kind: str, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.kind, self.reason, self.code = kind, reason, code


def get_problem_code(problem: RecordProblem, codes: Mapping[str, str]) -> str:
    """The stable code of ``problem`` in a verifier's vocabulary (:data:`ONLINE_CODES` or
    :data:`OFFLINE_CODES`)."""
    return codes[problem.kind] or problem.code


def _to_ms(value: Any, name: str) -> int | None:
    if value is None:
        return None
    return _stamp_ms(value, name) if isinstance(value, str) else _parse_ms(value, name)


@functools.lru_cache(maxsize=1024)
def _stamp_ms(value: str, name: str) -> int:
    return _parse_ms(value, name)  # a credential's stamps recur across its verifications


def _parse_ms(value: Any, name: str) -> int:
    return int(parse_datetime_stamp(value, field=name) * 1000)


def check_anchor_matches(vc: Mapping[str, Any], anchor: CertAnchor, issuer_org: str | None) -> str:
    """The anchor is of the credential's issuer, one of its types and its validity window."""
    if anchor.issuer_org != issuer_org:
        raise RecordProblem("anchor_mismatch", f"anchored for issuer {anchor.issuer_org!r}")
    if anchor.credential_type not in get_credential_types(vc):
        raise RecordProblem("anchor_mismatch", f"anchored as type {anchor.credential_type!r}")
    window = (_to_ms(vc.get("validFrom"), "validFrom"), _to_ms(vc.get("validUntil"), "validUntil"))
    if window != (anchor.valid_from_ms, anchor.valid_until_ms):
        raise RecordProblem("anchor_mismatch", "the validity window differs from the anchored one")
    return f"anchored at height {anchor.height} (assurance {anchor.assurance_level})"


def check_issuing_key(
    member: Identity | None,
    member_id: str,
    issuer_org: str | None,
    public_key: bytes,
    height: int,
    where: str,
) -> str:
    """``member`` (its record at ``height``, the anchoring height) was an active member of the
    issuer with an issuing role, and ``public_key`` was one of its keys valid at ``height``."""
    if member is None or member.id != member_id or member.kind != "member":
        raise RecordProblem("not_member", f"{member_id} is not a member of {issuer_org}")
    if member.org != issuer_org:
        raise RecordProblem("not_member", f"{member_id} is not a member of {issuer_org}")
    if member.status != "active" or not set(member.roles) & set(ANCHOR_ROLES):
        raise RecordProblem(
            "not_issuer",
            f"{member.id} was {member.status} with roles {', '.join(member.roles) or 'none'} "
            f"{where}; issuing needs {' or '.join(ANCHOR_ROLES)}",
        )
    if not is_key_valid_at(member, public_key, height):
        raise RecordProblem(
            "key_not_valid", f"the key of {member.id} was not valid {where} (rotated or revoked)"
        )
    return f"{member.id}, valid {where}"


def check_accreditation(
    accreditation: Accreditation | None,
    org: Identity | None,
    issuer_org: str,
    credential_type: str,
    where: str,
) -> str:
    """The issuer was accredited for the type, and active, at the height the records are of
    (the same rule as :func:`govchain.contracts.governance_actions.is_accredited`)."""
    held = (
        accreditation is not None
        and accreditation.status == "active"
        and accreditation.org == issuer_org
        and accreditation.credential_type == credential_type
        and org is not None
        and org.kind == "org"
        and org.id == issuer_org
        and org.status == "active"
    )
    if not held:
        raise RecordProblem(
            "not_accredited", f"{issuer_org} was not accredited for {credential_type} {where}"
        )
    return f"{issuer_org} accredited for {credential_type} {where}"


@functools.lru_cache(maxsize=64)
def _compile(schema_json: str) -> SubjectSchema:
    """A schema compiled once: its text is immutable on chain, and checking a schema costs far
    more than validating a subject with it."""
    return SubjectSchema(msgspec.json.decode(schema_json))


def check_schema(vc: Mapping[str, Any], anchor: CertAnchor, record: SchemaRecord | None) -> str:
    """``credentialSubject`` matches the schema version the anchor names."""
    if (
        record is None
        or record.credential_type != anchor.credential_type
        or record.version != anchor.schema_version
    ):
        raise RecordProblem(
            "unknown_schema",
            f"no schema {anchor.credential_type!r} version {anchor.schema_version} on this chain",
            "CERT_UNKNOWN_SCHEMA",
        )
    try:
        compiled = _compile(record.schema_json)
        subject = vc.get("credentialSubject")
        subjects = subject if isinstance(subject, list) else [subject]
        for position, item in enumerate(subjects):
            label = f"credentialSubject[{position}]" if isinstance(subject, list) else None
            compiled.validate(item, label=label or "credentialSubject")
    except GovchainError as exc:
        raise RecordProblem("schema_invalid", exc.message, exc.code) from None
    return f"{record.credential_type} schema {record.version}"


def check_validity(vc: Mapping[str, Any], now_ms: int) -> str:
    """validFrom <= now <= validUntil."""
    try:
        check_validity_window(vc, now_ms)
    except GovchainError as exc:
        kind = "expired" if exc.code == "CRED_EXPIRED" else "not_yet_valid"
        raise RecordProblem(kind, exc.message, exc.code) from None
    return f"valid from {vc.get('validFrom', '-')} until {vc.get('validUntil', '-')}"


def check_status(vc: Mapping[str, Any], anchor: CertAnchor, status: CertStatus) -> str:
    """The status record is the anchor's, the credential's ``credentialStatus`` entries name its
    index, and it is neither revoked nor suspended."""
    if status.credential_hash != anchor.credential_hash or (
        status.status_index != anchor.status_index
    ):
        raise RecordProblem("status_mismatch", "the status record is not the anchor's")
    entries = vc.get("credentialStatus")
    for raw in entries if isinstance(entries, list) else [] if entries is None else [entries]:
        entry = BitstringStatusListEntry.from_json(raw)
        if entry.status_list_index != status.status_index:
            raise RecordProblem(
                "status_mismatch",
                f"credentialStatus names index {entry.status_list_index}, anchored "
                f"{status.status_index}",
            )
    when = f"at height {status.updated_height}: {status.reason_code}"
    if status.status == "revoked":
        raise RecordProblem("revoked", f"revoked {when}")
    if status.status == "suspended":
        raise RecordProblem("suspended", f"suspended {when}")
    return "active"
