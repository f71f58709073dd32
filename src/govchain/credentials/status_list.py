"""W3C Bitstring Status List v1.0: revocation and suspension of many credentials in one list.

A status list is a bitstring of at least 131,072 bits (16 KiB, so that one credential's status
hides among many), GZIP-compressed and written as multibase base64url without padding (``u``
prefix) in the ``encodedList`` of a ``BitstringStatusListCredential``. Bit ``i`` is the status of
the credential whose ``BitstringStatusListEntry`` has ``statusListIndex`` ``i``; index 0 is the
left-most (most significant) bit of the first byte. A set bit means revoked (or suspended, for a
suspension list).

Encoding is deterministic (GZIP header time 0, compression level 9) so the same bits always give
the same ``encodedList`` and hence the same signed status list credential. Decoding refuses lists
that decompress beyond :data:`MAX_LIST_BYTES` (a zip bomb guard) or below the minimum size.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import StatusListInvalid
from .vc import VC_CONTEXT_V2, VERIFIABLE_CREDENTIAL

__all__ = [
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "MAX_LIST_BYTES",
    "MIN_LIST_BITS",
    "STATUS_PURPOSES",
    "BitstringStatusListEntry",
    "StatusList",
    "StatusPurpose",
    "build_status_list_credential",
    "is_status_set",
]

MIN_LIST_BITS = 131_072
MAX_LIST_BYTES = 16 * 1024 * 1024
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusList"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
StatusPurpose = Literal["revocation", "suspension"]
STATUS_PURPOSES: tuple[StatusPurpose, ...] = ("revocation", "suspension")
_BASE64URL = re.compile(r"u[A-Za-z0-9_-]+", re.ASCII)
_DIGITS = re.compile(r"0|[1-9][0-9]{0,17}", re.ASCII)


class StatusList:
    """A mutable bitstring of statuses, one bit per credential."""

    __slots__ = ("_bits",)

    def __init__(self, size_bits: int = MIN_LIST_BITS) -> None:
        if size_bits < MIN_LIST_BITS or size_bits % 8:
            raise StatusListInvalid(
                f"a status list has at least {MIN_LIST_BITS} bits, in whole bytes; got {size_bits}"
            )
        if size_bits > MAX_LIST_BYTES * 8:
            raise StatusListInvalid(f"a status list has at most {MAX_LIST_BYTES * 8} bits")
        self._bits = bytearray(size_bits // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> StatusList:
        """A list holding the raw (uncompressed) bitstring ``data``."""
        status_list = cls(len(data) * 8)
        status_list._bits[:] = data
        return status_list

    def __len__(self) -> int:
        return len(self._bits) * 8

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StatusList) and self._bits == other._bits

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(size_bits={len(self)}, set={self.count_set()})"

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self):
            raise StatusListInvalid(
                f"status list index {index!r} is outside the list (0..{len(self) - 1})",
                index=index,
            )
        return index >> 3, 0x80 >> (index & 7)

    def get(self, index: int) -> bool:
        position, mask = self._locate(index)
        return bool(self._bits[position] & mask)

    def set(self, index: int, value: bool = True) -> None:
        position, mask = self._locate(index)
        if value:
            self._bits[position] |= mask
        else:
            self._bits[position] &= ~mask & 0xFF

    def clear(self, index: int) -> None:
        self.set(index, False)

    def count_set(self) -> int:
        return sum(byte.bit_count() for byte in self._bits)

    def to_bytes(self) -> bytes:
        return bytes(self._bits)

    def encode(self) -> str:
        """The ``encodedList``: ``u`` + base64url (no padding) of GZIP(bits), header time 0."""
        compressed = gzip.compress(bytes(self._bits), compresslevel=9, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded_list: Any) -> StatusList:
        """The list of an ``encodedList``; :class:`StatusListInvalid` says what is wrong."""
        if not isinstance(encoded_list, str) or _BASE64URL.fullmatch(encoded_list) is None:
            raise StatusListInvalid("encodedList is not multibase base64url (u...)")
        text = encoded_list[1:]
        try:
            compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise StatusListInvalid("encodedList is not valid base64url") from None
        return cls.from_bytes(_gunzip(compressed))


def _gunzip(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(compressed, MAX_LIST_BYTES + 1)
    except zlib.error as exc:
        raise StatusListInvalid(f"encodedList is not GZIP data: {exc}") from None
    if len(data) > MAX_LIST_BYTES:
        raise StatusListInvalid(f"status list expands beyond {MAX_LIST_BYTES} bytes")
    if not inflater.eof or inflater.unused_data:
        raise StatusListInvalid("encodedList is truncated or has trailing data")
    if len(data) * 8 < MIN_LIST_BITS:
        raise StatusListInvalid(
            f"status list has {len(data) * 8} bits; at least {MIN_LIST_BITS} are required"
        )
    return data


def _parse_index(value: Any) -> int:
    """``statusListIndex``: a base-10 string per the spec (an int is accepted too)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    raise StatusListInvalid(f"statusListIndex must be a non-negative integer string: {value!r}")


@dataclass(frozen=True, slots=True)
class BitstringStatusListEntry:
    """A credential's ``credentialStatus`` entry pointing at one bit of one status list."""

    status_purpose: StatusPurpose
    status_list_index: int
    status_list_credential: str
    id: str | None = None

    def __post_init__(self) -> None:
        if self.status_purpose not in STATUS_PURPOSES:
            raise StatusListInvalid(f"statusPurpose must be one of {', '.join(STATUS_PURPOSES)}")
        _parse_index(self.status_list_index)
        if not isinstance(self.status_list_credential, str) or ":" not in (
            self.status_list_credential
        ):
            raise StatusListInvalid("statusListCredential must be a URL")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out.update(
            type=ENTRY_TYPE,
            statusPurpose=self.status_purpose,
            statusListIndex=str(self.status_list_index),
            statusListCredential=self.status_list_credential,
        )
        return out

    @classmethod
    def from_json(cls, value: Any) -> BitstringStatusListEntry:
        if not isinstance(value, Mapping) or value.get("type") != ENTRY_TYPE:
            raise StatusListInvalid(f"credentialStatus is not a {ENTRY_TYPE}")
        entry_id = value.get("id")
        if entry_id is not None and not isinstance(entry_id, str):
            raise StatusListInvalid("credentialStatus.id must be a string")
        return cls(
            status_purpose=value.get("statusPurpose"),  # type: ignore[arg-type]  # checked
            status_list_index=_parse_index(value.get("statusListIndex")),
            status_list_credential=value.get("statusListCredential"),  # type: ignore[arg-type]
            id=entry_id,
        )


def build_status_list_credential(
    *,
    id: str,
    issuer: str,
    status_purpose: StatusPurpose,
    status_list: StatusList,
    valid_from: str | None = None,
    valid_until: str | None = None,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` publishing ``status_list``; the issuer
    secures it with :func:`govchain.credentials.data_integrity.create_proof`."""
    if status_purpose not in STATUS_PURPOSES:
        raise StatusListInvalid(f"statusPurpose must be one of {', '.join(STATUS_PURPOSES)}")
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "id": id,
        "type": [VERIFIABLE_CREDENTIAL, LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
    }
    if valid_from is not None:
        document["validFrom"] = valid_from
    if valid_until is not None:
        document["validUntil"] = valid_until
    document["credentialSubject"] = {
        "id": f"{id}#list",
        "type": LIST_TYPE,
        "statusPurpose": status_purpose,
        "encodedList": status_list.encode(),
    }
    return document


def is_status_set(entry: BitstringStatusListEntry, status_list_credential: Any) -> bool:
    """Whether ``entry``'s bit is set in the (already verified) status list credential.

    Checks that the credential is the one the entry names, is a status list of the same purpose,
    and that the index lies inside the list; :class:`StatusListInvalid` otherwise.
    """
    if not isinstance(status_list_credential, Mapping):
        raise StatusListInvalid("the status list credential is not a JSON object")
    if status_list_credential.get("id") != entry.status_list_credential:
        raise StatusListInvalid("the status list credential is not the one the entry names")
    types = status_list_credential.get("type")
    if not isinstance(types, list) or LIST_CREDENTIAL_TYPE not in types:
        raise StatusListInvalid(f"the credential is not a {LIST_CREDENTIAL_TYPE}")
    subject = status_list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != LIST_TYPE:
        raise StatusListInvalid(f"credentialSubject is not a {LIST_TYPE}")
    purposes = subject.get("statusPurpose")
    if entry.status_purpose not in (purposes if isinstance(purposes, list) else [purposes]):
        raise StatusListInvalid(
            f"the list's statusPurpose {subject.get('statusPurpose')!r} is not the entry's "
            f"{entry.status_purpose!r}"
        )
    return StatusList.decode(subject.get("encodedList")).get(entry.status_list_index)
