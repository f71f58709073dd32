"""Catalogue records, their checks, and the helpers other contracts read.

State (under ``catalog/``)::

    resp/<org>/<responsibility id>              Responsibility (its latest version)
    respv/<org>/<responsibility id>/<version>   Responsibility (every version, kept)
    res/<resource id>                           Resource (its latest version)
    resv/<resource id>/<version, 8 digits>      Resource (every version, kept)
    org/<org>/<resource id>                     index: an organisation's resources
    byresp/<org>/<responsibility>/<resource>    index: a responsibility's resources

A resource describes data a department holds — never the data itself: its fields, their types
and sensitivity, the terms on which it is shared and the gateway that serves it.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from govchain.contracts.base import ReadContext
from govchain.errors import ContractError

__all__ = [
    "CLASSIFICATIONS",
    "FIELD_TYPES",
    "FREQUENCIES",
    "MAX_FIELDS",
    "NAME",
    "SENSITIVITIES",
    "SHARING_CLASSES",
    "SUBJECT_SENSITIVITIES",
    "DataField",
    "Gateway",
    "OrgArgs",
    "ResourceArgs",
    "ResourceRef",
    "Resource",
    "ResponsibilityArgs",
    "Responsibility",
    "ResponsibilityRef",
    "SearchArgs",
    "check_id",
    "check_resource_args",
    "check_responsibility_args",
    "get_resource",
    "resource_state_key",
    "resource_version_state_key",
    "subject_kinds",
]

NAME = "catalog"
FIELD_TYPES = ("string", "integer", "decimal", "boolean", "date", "datetime", "binary", "json")
SENSITIVITIES = ("public", "internal", "personal", "sensitive-personal", "enterprise")
# Fields whose values are about a citizen or an enterprise: sharing them needs its consent.
SUBJECT_SENSITIVITIES = ("personal", "sensitive-personal", "enterprise")
CLASSIFICATIONS = ("public", "internal", "restricted", "confidential")
FREQUENCIES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular")
SHARING_CLASSES = ("unconditional", "conditional", "none")
MAX_FIELDS = 200
MAX_TEXT = 2000
MAX_NAME = 200
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,95}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]{0,400}")

SharingClass = Literal["unconditional", "conditional", "none"]


class DataField(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    type: str  # one of FIELD_TYPES
    sensitivity: str  # one of SENSITIVITIES
    description: str = ""


class Gateway(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: str  # where the department's gateway answers data requests
    public_key: bytes  # the gateway's Ed25519 key (32 bytes)


class ResponsibilityArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    id: str
    name: str
    name_zh: str = ""
    description: str = ""


class Responsibility(msgspec.Struct, frozen=True):
    org: str
    id: str
    name: str
    name_zh: str
    description: str
    version: int
    height: int
    submitter: str


class ResourceArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    org: str
    responsibility: str
    name: str
    name_zh: str
    description: str
    fields: list[DataField]
    classification: str
    update_frequency: str
    sharing: str  # unconditional | conditional | none
    legal_basis: str
    gateway: Gateway


class Resource(msgspec.Struct, frozen=True):
    id: str
    org: str
    responsibility: str
    name: str
    name_zh: str
    description: str
    fields: list[DataField]
    classification: str
    update_frequency: str
    sharing: str
    legal_basis: str
    gateway: Gateway
    version: int
    height: int
    time_ms: int
    submitter: str  # the member who added or updated this version

    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}

    def subject_fields(self, names: list[str]) -> list[DataField]:
        """The fields among ``names`` whose values are about a citizen or an enterprise."""
        wanted = set(names)
        return [
            f for f in self.fields if f.name in wanted and f.sensitivity in SUBJECT_SENSITIVITIES
        ]


class ResourceRef(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    version: int | None = None


class OrgArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str


class ResponsibilityRef(msgspec.Struct, forbid_unknown_fields=True):
    org: str
    responsibility: str


class SearchArgs(msgspec.Struct, forbid_unknown_fields=True):
    text: str = ""
    org: str | None = None
    sharing: str | None = None
    limit: int = 50


def resource_state_key(resource_id: str) -> bytes:
    """The full state key of a resource's latest version (for state proofs)."""
    return f"{NAME}/res/{resource_id}".encode()


def resource_version_state_key(resource_id: str, version: int) -> bytes:
    return f"{NAME}/resv/{resource_id}/{version:08d}".encode()


def get_resource(ctx: ReadContext, resource_id: str) -> Resource | None:
    """A resource's latest version as of ``ctx``'s state, from any contract."""
    return ctx.other(NAME).get_as(f"res/{resource_id}", Resource)


def subject_kinds(fields: list[DataField]) -> set[str]:
    """The identity kinds a data subject of these fields may be."""
    kinds: set[str] = set()
    for f in fields:
        kinds.add("enterprise" if f.sensitivity == "enterprise" else "citizen")
    return kinds


# --- checks ----------------------------------------------------------------------------------


def _bad(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


def check_id(value: str, what: str) -> None:
    if not _ID.fullmatch(value):
        raise _bad(
            "CATALOG_BAD_ID",
            f"{what} {value!r} is not allowed",
            "Use 1-96 lowercase letters, digits, '.', '_' and '-', e.g. tax.payer-registry.",
        )


def _check_text(value: str, what: str, limit: int, *, required: bool) -> None:
    if (required and not value.strip()) or len(value) > limit:
        raise _bad(
            "CATALOG_BAD_TEXT",
            f"{what} must be {'1' if required else '0'}..{limit} characters",
            f"Give the {what} (at most {limit} characters).",
        )


def check_responsibility_args(args: ResponsibilityArgs) -> None:
    check_id(args.id, "responsibility id")
    _check_text(args.name, "name", MAX_NAME, required=True)
    _check_text(args.name_zh, "Chinese name", MAX_NAME, required=False)
    _check_text(args.description, "description", MAX_TEXT, required=False)


def _check_fields(fields: list[DataField]) -> None:
    if not fields or len(fields) > MAX_FIELDS:
        raise _bad(
            "CATALOG_BAD_FIELDS",
            f"a resource lists 1..{MAX_FIELDS} fields",
            "Describe each field: name, type, sensitivity.",
        )
    names = [f.name for f in fields]
    if len(set(names)) != len(names) or not all(_FIELD.fullmatch(n) for n in names):
        raise _bad(
            "CATALOG_BAD_FIELDS",
            "field names must be unique identifiers (letters, digits, '_')",
            "Rename the duplicate or malformed fields.",
        )
    for f in fields:
        if f.type not in FIELD_TYPES:
            raise _bad(
                "CATALOG_BAD_FIELD_TYPE",
                f"field {f.name!r} has type {f.type!r}",
                f"Use one of {', '.join(FIELD_TYPES)}.",
            )
        if f.sensitivity not in SENSITIVITIES:
            raise _bad(
                "CATALOG_BAD_SENSITIVITY",
                f"field {f.name!r} has sensitivity {f.sensitivity!r}",
                f"Use one of {', '.join(SENSITIVITIES)}.",
            )
        _check_text(f.description, f"description of {f.name}", MAX_NAME, required=False)


def _check_choice(value: str, choices: tuple[str, ...], code: str, what: str) -> None:
    if value not in choices:
        raise _bad(code, f"{what} {value!r} is not known", f"Use one of {', '.join(choices)}.")


def _check_gateway(gateway: Gateway) -> None:
    if not _URL.fullmatch(gateway.url) or len(gateway.public_key) != 32:
        raise _bad(
            "CATALOG_BAD_GATEWAY",
            "the gateway needs an http(s) URL and a 32-byte Ed25519 public key",
            "Pass the department gateway's URL and its public key (64 hex digits).",
        )


def check_resource_args(args: ResourceArgs) -> None:
    """Every rule a resource's description must follow, each with its own code."""
    check_id(args.id, "resource id")
    check_id(args.responsibility, "responsibility id")
    _check_text(args.name, "name", MAX_NAME, required=True)
    _check_text(args.name_zh, "Chinese name", MAX_NAME, required=True)
    _check_text(args.description, "description", MAX_TEXT, required=False)
    _check_fields(args.fields)
    _check_choice(args.classification, CLASSIFICATIONS, "CATALOG_BAD_CLASSIFICATION", "level")
    _check_choice(args.update_frequency, FREQUENCIES, "CATALOG_BAD_FREQUENCY", "frequency")
    _check_choice(args.sharing, SHARING_CLASSES, "CATALOG_BAD_SHARING", "sharing class")
    _check_text(args.legal_basis, "legal basis", MAX_TEXT, required=args.sharing != "none")
    if args.sharing == "unconditional" and any(
        f.sensitivity in SUBJECT_SENSITIVITIES for f in args.fields
    ):
        raise _bad(
            "CATALOG_SHARING_CONFLICT",
            "a resource with personal or enterprise fields cannot be shared unconditionally",
            "Declare it conditional: the data subject's consent is then asked for.",
        )
    _check_gateway(args.gateway)
