"""The certificates contract's records, arguments, state keys and read helpers.

State (under ``certs/``)::

    schema/<type>/<version>          SchemaRecord (immutable once registered)
    anchor/<hash>                    CertAnchor: hash and metadata, never the claims
    status/<hash>                    CertStatus: active | suspended | revoked, with its history
    index/<org>/<index:010d>         the hash holding that bit of the org's status lists
    next_index/<org>                 one more than the highest status index the org has used
    flag/<org>/<purpose>/<index>     present while the bit is set (revocation or suspension list)

``anchor/<hash>`` and ``status/<hash>`` are separate records so that an offline bundle can carry
a state proof of each (the anchor never changes; the status does).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

from govchain.contracts.base import ReadContext
from govchain.contracts.did import did_of
from govchain.contracts.identity import get_chain_id
from govchain.credentials.status_list import MIN_LIST_BITS, StatusList, build_status_list_credential
from govchain.errors import ContractError, NotFoundInState

__all__ = [
    "ANCHOR_ROLES",
    "ASSURANCE_LEVELS",
    "MAX_BATCH",
    "MAX_STATUS_INDEX",
    "NAME",
    "REASON_CODES",
    "SCHEMA_ROLES",
    "STATUS_ROLES",
    "AnchorArgs",
    "AnchorBatchArgs",
    "BatchItem",
    "CertAnchor",
    "CertStatus",
    "HashArgs",
    "OrgArgs",
    "RegisterSchemaArgs",
    "SchemaArgs",
    "SchemaRecord",
    "StatusArgs",
    "StatusChange",
    "StatusListArgs",
    "anchor_state_key",
    "build_org_status_list",
    "get_anchor",
    "get_next_status_index",
    "get_schema",
    "get_status",
    "schema_key",
    "schema_state_key",
    "status_state_key",
]

NAME = "certs"
ASSURANCE_LEVELS = ("A", "B", "C", "D")  # the national evidence grades, A the strongest
REASON_CODES = (
    "superseded",
    "cessation",
    "compromise",
    "affiliation_changed",
    "privilege_withdrawn",
    "holder_request",
    "administrative",
)
ANCHOR_ROLES = ("issuer", "officer")  # who anchors (issues) for an organisation
STATUS_ROLES = ("issuer", "officer", "admin")  # who revokes, suspends, reinstates
SCHEMA_ROLES = ("issuer", "admin")  # who registers a schema (of an accredited organisation)
MAX_BATCH = 500  # anchors per anchor_batch transaction
MAX_STATUS_INDEX = 1 << 24  # 16,777,216 bits: a 2 MiB status list at most
MAX_SCHEMA_BYTES = 32 * 1024
_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,31}")

CertState = Literal["active", "suspended", "revoked"]
Purpose = Literal["revocation", "suspension"]


# --- arguments -------------------------------------------------------------------------------


class RegisterSchemaArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_type: str
    version: str
    schema_json: str  # a JSON Schema draft 2020-12 document for credentialSubject


class AnchorArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_hash: bytes  # SHA-256 of the JCS form of the secured credential
    credential_type: str
    schema_version: str
    issuer_org: str
    valid_from_ms: int
    status_index: int
    valid_until_ms: int | None = None
    assurance_level: str = "C"


class BatchItem(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """One credential of a batch (array-encoded: a batch of 500 stays well below a block's
    transaction size)."""

    credential_hash: bytes
    valid_from_ms: int
    status_index: int
    valid_until_ms: int | None = None
    assurance_level: str = "C"


class AnchorBatchArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_type: str
    schema_version: str
    issuer_org: str
    items: list[BatchItem]


class StatusArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_hash: bytes
    reason_code: str


class HashArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_hash: bytes


class SchemaArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_type: str
    version: str | None = None  # default: the latest registered


class OrgArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str


class StatusListArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    purpose: str = "revocation"
    list_url: str = "urn:govchain:status-list"  # the status list credential's id


# --- records ---------------------------------------------------------------------------------


class SchemaRecord(msgspec.Struct, frozen=True):
    credential_type: str
    version: str
    schema_json: str
    schema_hash: bytes  # SHA-256 of schema_json as stored
    org: str  # the registering organisation
    registrant: str  # identity id of the registering member
    height: int
    tx_id: bytes

    def schema(self) -> dict[str, Any]:
        value: dict[str, Any] = msgspec.json.decode(self.schema_json)
        return value


class CertAnchor(msgspec.Struct, frozen=True):
    credential_hash: bytes
    credential_type: str
    schema_version: str
    issuer_org: str
    submitter: str  # identity id of the member who anchored it
    valid_from_ms: int
    valid_until_ms: int | None
    assurance_level: str
    status_index: int
    height: int
    time_ms: int
    tx_id: bytes


class StatusChange(msgspec.Struct, frozen=True):
    status: CertState
    reason_code: str
    by: str  # identity id
    height: int
    time_ms: int
    tx_id: bytes


class CertStatus(msgspec.Struct, frozen=True):
    credential_hash: bytes
    issuer_org: str
    status_index: int
    status: CertState = "active"
    reason_code: str = ""
    updated_height: int = 0
    history: list[StatusChange] = msgspec.field(default_factory=list)


# --- keys and reads --------------------------------------------------------------------------


def anchor_state_key(credential_hash: bytes) -> bytes:
    """The full state key of a credential's anchor (for state proofs)."""
    return NAME.encode() + b"/anchor/" + credential_hash


def status_state_key(credential_hash: bytes) -> bytes:
    """The full state key of a credential's status (for state proofs)."""
    return NAME.encode() + b"/status/" + credential_hash


def schema_key(credential_type: str, version: str) -> str:
    return f"schema/{credential_type}/{version}"


def schema_state_key(credential_type: str, version: str) -> bytes:
    """The full state key of a schema version's record (for state proofs)."""
    return f"{NAME}/{schema_key(credential_type, version)}".encode()


def index_key(org: str, index: int) -> str:
    return f"index/{org}/{index:010d}"


def flag_key(org: str, purpose: str, index: int) -> str:
    return f"flag/{org}/{purpose}/{index:010d}"


def get_anchor(ctx: ReadContext, credential_hash: bytes) -> CertAnchor | None:
    return ctx.other(NAME).get_as(b"anchor/" + credential_hash, CertAnchor)


def get_status(ctx: ReadContext, credential_hash: bytes) -> CertStatus | None:
    return ctx.other(NAME).get_as(b"status/" + credential_hash, CertStatus)


def get_next_status_index(ctx: ReadContext, org: str) -> int:
    raw = ctx.other(NAME).get(f"next_index/{org}")
    return 0 if raw is None else msgspec.msgpack.decode(raw, type=int)


def get_schema(ctx: ReadContext, credential_type: str, version: str | None) -> SchemaRecord:
    """A schema version (the latest registered when ``version`` is None), or
    ``CERT_UNKNOWN_SCHEMA``."""
    reader = ctx.other(NAME)
    record: SchemaRecord | None = None
    if version is not None:
        record = reader.get_as(schema_key(credential_type, version), SchemaRecord)
    else:
        found = [
            msgspec.msgpack.decode(raw, type=SchemaRecord)
            for _, raw in reader.iter(f"schema/{credential_type}/")
        ]
        record = max(found, key=lambda r: (r.height, r.version), default=None)
    if record is None:
        raise NotFoundInState(
            f"no schema {credential_type!r} version {version or '(any)'} on this chain",
            code="CERT_UNKNOWN_SCHEMA",
            hint="`govchain cert schema show TYPE` lists the registered versions; "
            "`govchain cert schema register` adds one.",
        )
    return record


def check_type_and_version(credential_type: str, version: str) -> None:
    if not _TYPE.fullmatch(credential_type):
        raise ContractError(
            f"credential type {credential_type[:40]!r} is not allowed",
            code="CERT_BAD_ARGS",
            hint="Use 1-100 letters, digits and . _ : - (e.g. BusinessLicence).",
        )
    if not _VERSION.fullmatch(version):
        raise ContractError(
            f"schema version {version[:40]!r} is not allowed",
            code="CERT_BAD_ARGS",
            hint="Use 1-32 letters, digits and . + - (e.g. 1.0).",
        )


def build_org_status_list(
    ctx: ReadContext, org: str, purpose: str, list_url: str
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` of an organisation's revocation or
    suspension list as of ``ctx``'s height (the node or the issuer signs it if it wants to; the
    API answers it with the state root it reflects)."""
    if purpose not in ("revocation", "suspension"):
        raise ContractError(
            f"status purpose {purpose[:40]!r} is not revocation or suspension",
            code="CERT_BAD_ARGS",
        )
    reader = ctx.other(NAME)
    used = get_next_status_index(ctx, org)
    size = max(MIN_LIST_BITS, -(-used // MIN_LIST_BITS) * MIN_LIST_BITS)
    bits = StatusList(size)
    for key, _ in reader.iter(f"flag/{org}/{purpose}/"):
        bits.set(int(key.rsplit(b"/", 1)[1]))
    return build_status_list_credential(
        id=list_url,
        issuer=did_of(get_chain_id(ctx), org),
        status_purpose=purpose,  # type: ignore[arg-type]  # checked above
        status_list=bits,
    )
