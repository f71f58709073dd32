"""W3C Bitstring Status List v1.0: bits, deterministic encoding, published examples, entries."""

from __future__ import annotations

import base64
import gzip
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.credentials import data_integrity as di
from govchain.credentials.errors import StatusListInvalid
from govchain.credentials.status_list import (
    MAX_LIST_BYTES,
    MIN_LIST_BITS,
    BitstringStatusListEntry,
    StatusList,
    build_status_list_credential,
    is_status_set,
)
from govchain.credentials.vc import check_credential
from govchain.crypto.signing import ED25519, get_scheme

# The example status list of the W3C Bitstring Status List v1.0 specification: 131,072 clear bits.
W3C_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
# A revocation list from a public interoperability fixture (another implementation's encoder):
# 131,072 bits, only bit 4000 set.
BIT_4000_EXAMPLE = "uH4sIAAAAAAAAA-3OMQEAAAgDoEU3ugEWwENIQMI3cx0AAAAAAAAAAAAAAAAAAACgLGiNcIEAQAAA"
LIST_URL = "https://city.example/status/revocation/1"


def _encode_raw(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_new_list_is_16_kib_of_clear_bits() -> None:
    status = StatusList()
    assert len(status) == MIN_LIST_BITS == 131_072
    assert status.to_bytes() == bytes(16_384)
    assert status.count_set() == 0
    assert not status.get(0) and not status.get(MIN_LIST_BITS - 1)


def test_set_get_clear_and_bit_order() -> None:
    status = StatusList()
    status.set(0)
    status.set(7)
    status.set(9)
    assert status.to_bytes()[:2] == bytes([0b1000_0001, 0b0100_0000])  # index 0 is the left-most
    assert status.get(0) and status.get(7) and status.get(9) and not status.get(8)
    status.clear(7)
    status.set(9, False)
    status.set(9, False)
    assert status.to_bytes()[:2] == bytes([0b1000_0000, 0])
    assert status.count_set() == 1
    assert "set=1" in repr(status)


@pytest.mark.parametrize("index", [-1, MIN_LIST_BITS, 2**64, True, "3", 1.0])
def test_indexes_outside_the_list_are_refused(index: Any) -> None:
    status = StatusList()
    with pytest.raises(StatusListInvalid):
        status.get(index)
    with pytest.raises(StatusListInvalid):
        status.set(index)


@pytest.mark.parametrize(
    "size", [0, 8, MIN_LIST_BITS - 8, MIN_LIST_BITS + 1, MAX_LIST_BYTES * 8 + 8]
)
def test_list_sizes_are_checked(size: int) -> None:
    with pytest.raises(StatusListInvalid):
        StatusList(size)


def test_larger_lists_are_allowed() -> None:
    status = StatusList(MIN_LIST_BITS * 4)
    status.set(MIN_LIST_BITS * 4 - 1)
    assert StatusList.decode(status.encode()) == status


def test_encoding_is_deterministic_gzip_with_time_zero() -> None:
    status = StatusList()
    status.set(94567)
    encoded = status.encode()
    assert encoded.startswith("uH4sI")
    assert encoded == status.encode() == StatusList.from_bytes(status.to_bytes()).encode()
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\x00\x00\x00\x00"  # magic, mtime 0
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert gzip.decompress(raw) == status.to_bytes()
    assert StatusList.decode(encoded) == status


def test_the_w3c_example_decodes_to_an_empty_list() -> None:
    status = StatusList.decode(W3C_EXAMPLE)
    assert len(status) == MIN_LIST_BITS
    assert status.count_set() == 0
    assert status == StatusList()


def test_another_implementations_list_decodes_with_the_same_bit_order() -> None:
    status = StatusList.decode(BIT_4000_EXAMPLE)
    assert status.get(4000)
    assert status.count_set() == 1
    expected = StatusList()
    expected.set(4000)
    assert status == expected
    assert StatusList.decode(expected.encode()) == status


@pytest.mark.parametrize(
    "encoded",
    [
        None,
        12,
        "",
        "u",
        W3C_EXAMPLE[1:],  # no multibase prefix
        "z" + W3C_EXAMPLE[1:],
        "u" + W3C_EXAMPLE[1:].replace("-", "+"),  # base64, not base64url
        "u" + W3C_EXAMPLE[1:] + "==",
        "uA",
        _encode_raw(b"not gzip at all"),
        _encode_raw(gzip.compress(bytes(16_384), mtime=0)[:-6]),  # truncated
        _encode_raw(gzip.compress(bytes(16_384), mtime=0) + b"junk"),
        _encode_raw(gzip.compress(bytes(100), mtime=0)),  # below the minimum size
        _encode_raw(gzip.compress(bytes(16_383), mtime=0)),
    ],
    ids=[
        "none",
        "number",
        "empty",
        "prefix-only",
        "no-prefix",
        "base58-prefix",
        "plain-base64",
        "padded",
        "one-char",
        "not-gzip",
        "truncated",
        "trailing-data",
        "too-small",
        "one-byte-short",
    ],
)
def test_bad_encoded_lists_are_refused(encoded: Any) -> None:
    with pytest.raises(StatusListInvalid) as caught:
        StatusList.decode(encoded)
    assert caught.value.code == "CRED_STATUS_LIST_INVALID"


def test_a_decompression_bomb_is_refused() -> None:
    bomb = gzip.compress(bytes(MAX_LIST_BYTES + 1024), compresslevel=9, mtime=0)
    assert len(bomb) < 100_000
    with pytest.raises(StatusListInvalid, match="beyond"):
        StatusList.decode(_encode_raw(bomb))


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_LIST_BITS - 1), max_size=50))
def test_encode_decode_round_trips(indexes: set[int]) -> None:
    status = StatusList()
    for index in indexes:
        status.set(index)
    decoded = StatusList.decode(status.encode())
    assert decoded == status
    assert {i for i in indexes if decoded.get(i)} == indexes
    assert decoded.count_set() == len(indexes)


# --- entries --------------------------------------------------------------------------------------


def test_an_entry_round_trips_through_json() -> None:
    entry = BitstringStatusListEntry("revocation", 94567, LIST_URL, id=f"{LIST_URL}#94567")
    document = entry.to_json()
    assert document == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert BitstringStatusListEntry.from_json(document) == entry
    without_id = BitstringStatusListEntry("suspension", 0, LIST_URL)
    assert "id" not in without_id.to_json()
    assert BitstringStatusListEntry.from_json(without_id.to_json()) == without_id


def test_an_integer_index_is_accepted_when_reading() -> None:
    document = {
        **BitstringStatusListEntry("revocation", 5, LIST_URL).to_json(),
        "statusListIndex": 5,
    }
    assert BitstringStatusListEntry.from_json(document).status_list_index == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "StatusList2021Entry"),
        ("statusPurpose", "refresh"),
        ("statusPurpose", None),
        ("statusListIndex", "-1"),
        ("statusListIndex", "007"),
        ("statusListIndex", "1e3"),
        ("statusListIndex", " 5"),
        ("statusListIndex", -1),
        ("statusListIndex", True),
        ("statusListIndex", None),
        ("statusListCredential", "not a url"),
        ("statusListCredential", None),
        ("id", 5),
    ],
)
def test_bad_entries_are_refused(field: str, value: Any) -> None:
    document = BitstringStatusListEntry("revocation", 5, LIST_URL).to_json()
    document[field] = value
    with pytest.raises(StatusListInvalid):
        BitstringStatusListEntry.from_json(document)


def test_an_entry_must_be_an_object() -> None:
    with pytest.raises(StatusListInvalid):
        BitstringStatusListEntry.from_json([LIST_URL])


# --- the status list credential ------------------------------------------------------------------


def _list_credential(purpose: Any = "revocation", *revoked: int) -> dict[str, Any]:
    status = StatusList()
    for index in revoked:
        status.set(index)
    return build_status_list_credential(
        id=LIST_URL,
        issuer="did:govchain:city:market",
        status_purpose=purpose,
        status_list=status,
        valid_from="2025-01-01T00:00:00Z",
        valid_until="2025-01-02T00:00:00Z",
    )


def test_the_status_list_credential_is_a_valid_vc() -> None:
    document = _list_credential("revocation", 3)
    check_credential(document)
    assert document["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert document["credentialSubject"]["type"] == "BitstringStatusList"
    assert document["credentialSubject"]["id"] == f"{LIST_URL}#list"
    assert StatusList.decode(document["credentialSubject"]["encodedList"]).get(3)
    minimal = build_status_list_credential(
        id=LIST_URL,
        issuer="did:govchain:city:market",
        status_purpose="suspension",
        status_list=StatusList(),
    )
    assert "validFrom" not in minimal and "validUntil" not in minimal
    check_credential(minimal)


def test_the_status_list_credential_can_be_signed_and_verified() -> None:
    issuer = get_scheme(ED25519).from_seed(hashlib.sha256(b"market").digest())
    secured = di.create_proof(
        _list_credential("revocation", 3),
        signer=issuer,
        verification_method=di.get_did_key_verification_method(issuer.public_key),
        created="2025-01-01T00:00:00Z",
    )
    assert di.verify_proof(secured, resolve_key=di.resolve_did_key).verified
    assert is_status_set(BitstringStatusListEntry("revocation", 3, LIST_URL), secured)


def test_is_status_set() -> None:
    document = _list_credential("revocation", 3, 131_071)
    assert is_status_set(BitstringStatusListEntry("revocation", 3, LIST_URL), document)
    assert is_status_set(BitstringStatusListEntry("revocation", 131_071, LIST_URL), document)
    assert not is_status_set(BitstringStatusListEntry("revocation", 4, LIST_URL), document)
    listed = {
        **document,
        "credentialSubject": {
            **document["credentialSubject"],
            "statusPurpose": ["revocation", "suspension"],
        },
    }
    assert is_status_set(BitstringStatusListEntry("suspension", 3, LIST_URL), listed)


@pytest.mark.parametrize(
    ("entry", "mutate"),
    [
        (BitstringStatusListEntry("suspension", 3, LIST_URL), None),
        (BitstringStatusListEntry("revocation", 3, LIST_URL + "/other"), None),
        (BitstringStatusListEntry("revocation", MIN_LIST_BITS, LIST_URL), None),
        (
            BitstringStatusListEntry("revocation", 3, LIST_URL),
            lambda d: d.update(type=["VerifiableCredential"]),
        ),
        (
            BitstringStatusListEntry("revocation", 3, LIST_URL),
            lambda d: d.update(credentialSubject="x"),
        ),
        (
            BitstringStatusListEntry("revocation", 3, LIST_URL),
            lambda d: d["credentialSubject"].update(type="StatusList2021"),
        ),
        (
            BitstringStatusListEntry("revocation", 3, LIST_URL),
            lambda d: d["credentialSubject"].update(encodedList="u"),
        ),
    ],
    ids=[
        "wrong-purpose",
        "wrong-list",
        "index-beyond",
        "not-a-list-vc",
        "no-subject",
        "subject-type",
        "garbage-list",
    ],
)
def test_status_checks_refuse_mismatches(entry: BitstringStatusListEntry, mutate: Any) -> None:
    document = _list_credential("revocation", 3)
    if mutate is not None:
        mutate(document)
    with pytest.raises(StatusListInvalid):
        is_status_set(entry, document)
    with pytest.raises(StatusListInvalid):
        is_status_set(entry, "not a credential")


def test_build_refuses_an_unknown_purpose() -> None:
    with pytest.raises(StatusListInvalid):
        _list_credential("message")
