"""Issuer-signed status lists: records, state keys and the one pure checker of a signed list.

An issuer publishes its organisation's revocation or suspension list as a W3C Bitstring Status
List v1.0 credential secured with ``eddsa-jcs-2022`` (issuer = the organisation's DID,
``verificationMethod`` = ``<member DID>#key-N``) and anchors it with the certs contract's
``publish_status_list``: the chain records the organisation, purpose, the height whose state the
list reflects, the list credential's hash (SHA-256 of its JCS form) and keeps the document, so
the node can serve it. State (under ``certs/``)::

    status_list/<org>/<purpose>      StatusListRecord of the latest published list
    status_list_doc/<org>/<purpose>  the latest list credential's JSON text
    status_list_hash/<hash>          StatusListRecord of every list ever published

:func:`check_signed_status_list` names every check of a fetched list — ``format``, ``issuer``,
``anchor``, ``key``, ``signature``, ``freshness`` — over records the caller supplies (read from
the node's state online, or proven by state proofs on the client), so both answer alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from govchain.contracts.base import ReadContext
from govchain.contracts.certs_records import NAME
from govchain.contracts.did import did_of, parse_did
from govchain.contracts.identity import Identity, is_key_valid_at
from govchain.credentials.data_integrity import verify_proof
from govchain.credentials.status_list import (
    LIST_CREDENTIAL_TYPE,
    STATUS_PURPOSES,
    StatusList,
)
from govchain.credentials.vc import (
    check_credential,
    get_credential_types,
    get_issuer_id,
    parse_datetime_stamp,
)
from govchain.errors import GovchainError

__all__ = [
    "MAX_STATUS_LIST_JSON",
    "PUBLISH_ROLES",
    "STATUS_LIST_CHECKS",
    "ListCheck",
    "PublishStatusListArgs",
    "PublishedListArgs",
    "StatusListHashArgs",
    "StatusListRecord",
    "StatusListShape",
    "check_signed_status_list",
    "get_published_status_list",
    "get_status_list_by_hash",
    "get_status_list_document",
    "get_status_list_shape",
    "status_list_hash_state_key",
    "status_list_state_key",
]

PUBLISH_ROLES = ("issuer", "admin")  # who publishes an organisation's signed status lists
MAX_STATUS_LIST_JSON = 48 * 1024  # a transaction carries at most 64 KiB
STATUS_LIST_CHECKS = ("format", "issuer", "anchor", "key", "signature", "freshness")


class PublishStatusListArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    purpose: str
    list_height: int  # the height whose state the list reflects
    credential_json: str  # the signed BitstringStatusListCredential


class PublishedListArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    purpose: str = "revocation"


class StatusListHashArgs(msgspec.Struct, forbid_unknown_fields=True):
    list_hash: bytes


class StatusListRecord(msgspec.Struct, frozen=True):
    org: str
    purpose: str
    list_hash: bytes  # SHA-256 of the JCS form of the signed list credential
    list_id: str  # the list credential's id
    list_height: int  # the state the list reflects
    valid_from_ms: int | None
    valid_until_ms: int | None
    publisher: str  # identity id of the signing member
    verification_method: str
    height: int  # where it was published
    time_ms: int
    tx_id: bytes


def status_list_state_key(org: str, purpose: str) -> bytes:
    """The full state key of an organisation's latest published list record."""
    return f"{NAME}/status_list/{org}/{purpose}".encode()


def status_list_hash_state_key(list_hash: bytes) -> bytes:
    """The full state key of a published list's record by its hash."""
    return NAME.encode() + b"/status_list_hash/" + list_hash


def get_published_status_list(ctx: ReadContext, org: str, purpose: str) -> StatusListRecord | None:
    return ctx.other(NAME).get_as(f"status_list/{org}/{purpose}", StatusListRecord)


def get_status_list_by_hash(ctx: ReadContext, list_hash: bytes) -> StatusListRecord | None:
    return ctx.other(NAME).get_as(b"status_list_hash/" + list_hash, StatusListRecord)


def get_status_list_document(ctx: ReadContext, org: str, purpose: str) -> str | None:
    raw = ctx.other(NAME).get(f"status_list_doc/{org}/{purpose}")
    return None if raw is None else raw.decode()


# --- the shape of a list credential ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusListShape:
    """What a well-formed signed list credential says of itself."""

    chain_id: str
    org: str
    purpose: str
    member: str  # the signing member's identity id
    key_position: int
    verification_method: str
    valid_from_ms: int | None
    valid_until_ms: int | None
    bits: StatusList


def _ms(document: Mapping[str, Any], name: str) -> int | None:
    value = document.get(name)
    return None if value is None else int(parse_datetime_stamp(value, field=name) * 1000)


def get_status_list_shape(document: Any) -> StatusListShape:
    """The shape of a signed ``BitstringStatusListCredential`` of a govchain organisation; raises
    :class:`ValueError` (or a credential error) saying what is wrong."""
    check_credential(document)
    if LIST_CREDENTIAL_TYPE not in get_credential_types(document):
        raise ValueError(f"the credential is not a {LIST_CREDENTIAL_TYPE}")
    subject = document.get("credentialSubject")
    purpose = subject.get("statusPurpose") if isinstance(subject, Mapping) else None
    if purpose not in STATUS_PURPOSES or not isinstance(subject, Mapping):
        raise ValueError("credentialSubject.statusPurpose is not revocation or suspension")
    bits = StatusList.decode(subject.get("encodedList"))
    chain_id, org = parse_did(get_issuer_id(document))
    proof = document.get("proof")
    method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
    did, _, fragment = method.partition("#") if isinstance(method, str) else ("", "", "")
    if not fragment.startswith("key-") or not fragment[4:].isdigit():
        raise ValueError("the proof names no <member DID>#key-N verification method")
    key_chain, member = parse_did(did)
    if key_chain != chain_id:
        raise ValueError("the signing key's DID is of another chain than the issuer's")
    valid_from, valid_until = _ms(document, "validFrom"), _ms(document, "validUntil")
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise ValueError("validUntil is not after validFrom")
    return StatusListShape(
        chain_id,
        org,
        purpose,
        member,
        int(fragment[4:]),
        str(method),
        valid_from,
        valid_until,
        bits,
    )


# --- the checker -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListCheck:
    """One named check of a signed list: ``ok`` is None when it could not run."""

    check: str
    ok: bool | None
    code: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "code": self.code, "reason": self.reason}


class _Fail(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class _Skip(Exception):
    pass


@dataclass
class _ListFacts:
    document: Any
    chain_id: str
    expected_issuer: str | None
    record: StatusListRecord | None
    latest: StatusListRecord | None
    signer: Identity | None
    signer_height: int
    shape: StatusListShape | None = None
    public_key: bytes | None = None


def _format(f: _ListFacts) -> str:
    try:
        f.shape = get_status_list_shape(f.document)
    except (ValueError, TypeError, GovchainError) as exc:
        message = exc.message if isinstance(exc, GovchainError) else str(exc)
        raise _Fail("STATUS_LIST_MALFORMED", message[:200]) from None
    return f"{f.shape.purpose} list of {len(f.shape.bits)} bits"


def _issuer(f: _ListFacts) -> str:
    if f.shape is None:
        raise _Skip("the list is malformed")
    issuer = did_of(f.shape.chain_id, f.shape.org)
    if f.shape.chain_id != f.chain_id:
        raise _Fail("STATUS_LIST_WRONG_ISSUER", f"the issuer is of chain {f.shape.chain_id!r}")
    if f.expected_issuer is not None and issuer != f.expected_issuer:
        raise _Fail(
            "STATUS_LIST_WRONG_ISSUER",
            f"the list is issued by {issuer}, the credential by {f.expected_issuer}",
        )
    return issuer


def _anchor(f: _ListFacts) -> str:
    if f.shape is None:
        raise _Skip("the list is malformed")
    record, shape = f.record, f.shape
    if record is None:
        raise _Fail(
            "STATUS_LIST_NOT_ANCHORED", "no published list has this hash: altered or never anchored"
        )
    if (record.org, record.purpose) != (shape.org, shape.purpose):
        raise _Fail("STATUS_LIST_NOT_ANCHORED", "anchored for another organisation or purpose")
    if f.latest is not None and f.latest.list_hash != record.list_hash:
        raise _Fail(
            "STATUS_LIST_SUPERSEDED",
            f"a newer list was published at height {f.latest.height}; fetch it",
        )
    return f"anchored at height {record.height}, reflecting height {record.list_height}"


def _key(f: _ListFacts) -> str:
    shape, signer = f.shape, f.signer
    if shape is None:
        raise _Skip("the list is malformed")
    where = (
        f"at the publishing height {f.signer_height}"
        if f.record is not None
        else f"at height {f.signer_height} (the list is not anchored)"
    )
    if signer is None or signer.id != shape.member or signer.org != shape.org:
        raise _Fail("STATUS_LIST_KEY_NOT_VALID", f"{shape.member} is not a member of {shape.org}")
    if signer.status != "active" or not set(signer.roles) & set(PUBLISH_ROLES):
        raise _Fail("STATUS_LIST_KEY_NOT_VALID", f"{signer.id} held no publishing role {where}")
    if not 1 <= shape.key_position <= len(signer.keys):
        raise _Fail("STATUS_LIST_KEY_NOT_VALID", f"{signer.id} has no key-{shape.key_position}")
    f.public_key = signer.keys[shape.key_position - 1].public_key
    if not is_key_valid_at(signer, f.public_key, f.signer_height):
        raise _Fail("STATUS_LIST_KEY_NOT_VALID", f"the key was not valid {where}")
    return f"{signer.id} key-{shape.key_position}, valid {where}"


def _signature(f: _ListFacts) -> str:
    if f.public_key is None:
        raise _Skip("the key is not established")
    key = f.public_key
    result = verify_proof(f.document, resolve_key=lambda _method: key)
    if result.failure is not None:
        raise _Fail("STATUS_LIST_BAD_SIGNATURE", f"{result.failure.name}: {result.failure.reason}")
    return "eddsa-jcs-2022 signature verifies"


def _freshness(f: _ListFacts, now_ms: int, max_age_ms: int | None) -> str:
    if f.shape is None:
        raise _Skip("the list is malformed")
    shape = f.shape
    if shape.valid_from_ms is not None and now_ms < shape.valid_from_ms:
        raise _Fail("STATUS_LIST_NOT_YET_VALID", "the list's validFrom is in the future")
    if shape.valid_until_ms is not None and now_ms > shape.valid_until_ms:
        raise _Fail("STATUS_LIST_STALE", "the list's validUntil has passed; fetch a fresh list")
    if max_age_ms is not None and f.record is not None:
        age = now_ms - f.record.time_ms
        if age > max_age_ms:
            raise _Fail(
                "STATUS_LIST_STALE", f"published {age} ms ago; at most {max_age_ms} allowed"
            )
    return "within its validity period"


def check_signed_status_list(
    document: Any,
    *,
    chain_id: str,
    record: StatusListRecord | None,
    latest: StatusListRecord | None,
    signer: Identity | None,
    signer_height: int,
    now_ms: int,
    expected_issuer: str | None = None,
    max_age_ms: int | None = None,
) -> list[ListCheck]:
    """Every check of :data:`STATUS_LIST_CHECKS` on a signed list credential. ``record`` is the
    chain's record of the list's hash (None if none), ``latest`` the organisation's latest
    published list for the purpose, ``signer`` the signing member's identity record at
    ``signer_height`` (the publishing height; the latest when the list is not anchored);
    ``expected_issuer`` the DID of the credential whose status is looked up."""
    f = _ListFacts(document, chain_id, expected_issuer, record, latest, signer, signer_height)
    steps: tuple[tuple[str, Callable[[], str]], ...] = (
        ("format", lambda: _format(f)),
        ("issuer", lambda: _issuer(f)),
        ("anchor", lambda: _anchor(f)),
        ("key", lambda: _key(f)),
        ("signature", lambda: _signature(f)),
        ("freshness", lambda: _freshness(f, now_ms, max_age_ms)),
    )
    checks = []
    for name, fn in steps:
        try:
            checks.append(ListCheck(name, True, "", fn()))
        except _Fail as failed:
            checks.append(ListCheck(name, False, failed.code, failed.reason))
        except _Skip as skipped:
            checks.append(ListCheck(name, None, "", f"not checked: {skipped}"))
    return checks
