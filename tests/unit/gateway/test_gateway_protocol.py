"""The wire format: sealed envelopes, receipts signed by both sides, request hashes."""

from __future__ import annotations

import os

import msgspec
import pytest
from gateway_fakes import key

from govchain.contracts.sharing_records import AccessReceipt
from govchain.crypto.request_signing import RequestCredentials
from govchain.gateway.errors import BadGatewayRequest, ResponseInvalid
from govchain.gateway.protocol import (
    ENVELOPE_VERSION,
    EnvelopePayload,
    compute_request_hash,
    countersign_receipt,
    decode_receipt,
    encode_receipt,
    is_owner_signature_valid,
    is_requester_signature_valid,
    is_same_receipt,
    open_envelope,
    seal_envelope,
    sign_receipt,
)

OWNER, REQUESTER = key("owner"), key("requester")
PAYLOAD = EnvelopePayload(
    ENVELOPE_VERSION, "g1", "ab" * 32, "market.enterprises", "ent:1", {"name": "Acme", "n": 3}
)


def receipt() -> AccessReceipt:
    unsigned = AccessReceipt(
        "g1",
        b"\x01" * 32,
        b"\x02" * 32,
        ["name"],
        1_800_000_000_000,
        "tax",
        REQUESTER.public_key,
        b"",
        b"",
        b"",
    )
    return sign_receipt(unsigned, OWNER)


def test_envelope_opens_only_with_the_requesters_key() -> None:
    sealed = seal_envelope(PAYLOAD, REQUESTER.public_key)
    assert b"Acme" not in sealed
    assert open_envelope(sealed, REQUESTER) == PAYLOAD
    with pytest.raises(ResponseInvalid):
        open_envelope(sealed, OWNER)


def test_every_envelope_is_fresh() -> None:
    assert seal_envelope(PAYLOAD, REQUESTER.public_key) != seal_envelope(
        PAYLOAD, REQUESTER.public_key
    )


def test_tampered_envelope() -> None:
    sealed = bytearray(seal_envelope(PAYLOAD, REQUESTER.public_key))
    sealed[-1] ^= 1
    with pytest.raises(ResponseInvalid) as err:
        open_envelope(bytes(sealed), REQUESTER)
    assert err.value.code == "GATEWAY_RESPONSE_INVALID"


def test_unknown_envelope_version() -> None:
    sealed = seal_envelope(msgspec.structs.replace(PAYLOAD, v=99), REQUESTER.public_key)
    with pytest.raises(ResponseInvalid):
        open_envelope(sealed, REQUESTER)


def test_sealing_to_a_non_key() -> None:
    with pytest.raises(BadGatewayRequest):
        seal_envelope(PAYLOAD, b"\x00" * 31)


def test_both_sides_sign_the_same_bytes() -> None:
    issued = receipt()
    assert is_owner_signature_valid(issued) and not is_requester_signature_valid(issued)
    signed = countersign_receipt(issued, REQUESTER)
    assert is_owner_signature_valid(signed) and is_requester_signature_valid(signed)
    assert is_same_receipt(issued, signed)
    assert not is_same_receipt(issued, msgspec.structs.replace(signed, fields=["name", "x"]))


def test_altered_receipt_breaks_both_signatures() -> None:
    signed = countersign_receipt(receipt(), REQUESTER)
    altered = msgspec.structs.replace(signed, time_ms=signed.time_ms + 1)
    assert not is_owner_signature_valid(altered) and not is_requester_signature_valid(altered)


def test_only_the_named_requester_key_countersigns() -> None:
    with pytest.raises(ValueError):
        countersign_receipt(receipt(), OWNER)


def test_receipt_encoding_round_trips_and_rejects_garbage() -> None:
    issued = receipt()
    assert decode_receipt(encode_receipt(issued)) == issued
    for garbage in ("not base64!", "AAAA"):
        with pytest.raises(BadGatewayRequest) as err:
            decode_receipt(garbage)
        assert err.value.code == "GATEWAY_BAD_REQUEST"


def test_request_hash_names_one_request() -> None:
    body = os.urandom(32)
    a = RequestCredentials(REQUESTER.public_key, 1, b"\x00" * 16, b"\x00" * 64)
    b = RequestCredentials(REQUESTER.public_key, 1, b"\x01" * 16, b"\x00" * 64)
    assert compute_request_hash(a, "POST", "/v1/fetch", body) != compute_request_hash(
        b, "POST", "/v1/fetch", body
    )
    assert len(compute_request_hash(a, "POST", "/v1/fetch", body)) == 32
