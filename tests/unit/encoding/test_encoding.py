"""The canonical encoding: deterministic bytes, no floats, typed decoding errors."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.encoding import decode, encode, ensure_no_floats, to_builtins
from govchain.errors import MalformedTransaction
from govchain.types import BlockHeader, Signature, SignedTx, TxBody

# Plain data without floats: what may go into a signed payload.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.text(max_size=20)
    | st.binary(max_size=40)
)
plain = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def _body(**changes: Any) -> TxBody:
    fields: dict[str, Any] = {
        "chain_id": "c",
        "sender": b"\x01" * 32,
        "nonce": b"\x02" * 16,
        "valid_until": 10,
        "contract": "notary",
        "method": "anchor",
        "args": msgspec.Raw(encode({"title": "x"})),
    }
    fields.update(changes)
    return TxBody(**fields)


# --- determinism ---------------------------------------------------------------------------------


def test_map_keys_are_sorted() -> None:
    assert encode({"b": 1, "a": 2}) == bytes.fromhex("82a16102a16201")
    assert encode({"a": 2, "b": 1}) == encode({"b": 1, "a": 2})


def test_nested_maps_are_sorted_at_every_depth() -> None:
    one = {"z": {"y": 1, "x": [{"q": 1, "p": 2}]}, "a": None}
    two = {"a": None, "z": {"x": [{"p": 2, "q": 1}], "y": 1}}
    assert encode(one) == encode(two)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6), plain, max_size=6), st.randoms())
def test_key_order_never_matters(value: dict[str, Any], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert encode(dict(items)) == encode(value)


def test_struct_fields_in_declaration_order() -> None:
    header = BlockHeader("c", 1, b"p", 2, 0, b"t", b"r", b"s", b"k")
    assert msgspec.msgpack.decode(encode(header)) == ["c", 1, b"p", 2, 0, b"t", b"r", b"s", b"k"]


def test_same_value_same_bytes_every_time() -> None:
    body = _body()
    assert encode(body) == encode(_body()) == encode(decode(encode(body), TxBody))


# --- round trips ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(plain)
def test_plain_data_round_trips(value: Any) -> None:
    data = encode(value)
    assert decode(data, Any) == value  # type: ignore[arg-type]
    assert encode(decode(data, Any)) == data  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    chain_id=st.text(max_size=20),
    sender=st.binary(max_size=40),
    nonce=st.binary(max_size=40),
    valid_until=st.integers(min_value=0, max_value=2**63 - 1),
    args=st.dictionaries(st.text(max_size=5), scalars, max_size=4),
)
def test_tx_round_trips(
    chain_id: str, sender: bytes, nonce: bytes, valid_until: int, args: dict[str, Any]
) -> None:
    body = _body(
        chain_id=chain_id,
        sender=sender,
        nonce=nonce,
        valid_until=valid_until,
        args=msgspec.Raw(encode(args)),
    )
    body_raw = encode(body)
    decoded = decode(body_raw, TxBody)
    assert encode(decoded) == body_raw
    assert decode(bytes(decoded.args), dict) == args
    signed = SignedTx(body_raw, [Signature(sender, b"\x00" * 64)])
    assert decode(encode(signed), SignedTx) == signed


# --- floats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (1.5, "$"),
        ({"a": 0.0}, "$.a"),
        ([1, 2, 3.25], "$[2]"),
        ({"a": [{"b": (1, float("nan"))}]}, "$.a[0].b[1]"),
        ({"outer": {"inner": {"deep": [[[-2.0]]]}}}, "$.outer.inner.deep[0][0][0]"),
    ],
)
def test_floats_refused_at_any_depth(value: Any, path: str) -> None:
    with pytest.raises(MalformedTransaction) as info:
        ensure_no_floats(value)
    assert info.value.code == "TX_MALFORMED"
    assert path in info.value.message


def test_float_map_keys_refused() -> None:
    with pytest.raises(MalformedTransaction):
        ensure_no_floats({1.5: "x"})
    with pytest.raises(MalformedTransaction):
        ensure_no_floats({"a": {2.0: 1}})


@settings(max_examples=100, deadline=None)
@given(plain)
def test_plain_data_without_floats_passes(value: Any) -> None:
    ensure_no_floats(value)


def test_ints_bools_strings_pass() -> None:
    ensure_no_floats({"n": 1, "b": True, "s": "1.5", "x": b"\x00", "l": [None, (1, 2)]})


# --- decoding errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never used in MessagePack
        b"\xff\xff\xff",
        b"\x92\x01",  # array of 2 with one element: truncated
        b"\xdb\x00\x00\x00\x10abc",  # str32 claiming 16 bytes, 3 given
        encode(_body()) + b"\x00",  # trailing bytes
        encode(_body())[:-3],  # truncated
        encode(["only", "two"]),  # too few fields
        encode([*msgspec.msgpack.decode(encode(_body())), "extra"]),  # too many fields
        encode({"chain_id": "c"}),  # a map for an array-like struct
        encode("a string"),
        encode(msgspec.msgpack.decode(encode(_body()))[:3] + [1.5] + [1, 2, 3]),  # float field
    ],
)
def test_decode_raises_malformed_on_bad_bytes(data: bytes) -> None:
    with pytest.raises(MalformedTransaction) as info:
        decode(data, TxBody)
    assert info.value.code == "TX_MALFORMED"
    assert "TxBody" in info.value.message
    assert isinstance(info.value.__cause__, msgspec.MsgspecError)


@pytest.mark.parametrize(
    ("data", "type_"),
    [(encode("x"), int), (encode(1), str), (encode(b"x"), list), (encode(1.5), int)],
)
def test_decode_wrong_type(data: bytes, type_: type) -> None:
    with pytest.raises(MalformedTransaction):
        decode(data, type_)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_decode_garbage_never_raises_anything_else(data: bytes) -> None:
    with contextlib.suppress(MalformedTransaction):
        decode(data, SignedTx)


# --- JSON-friendly builtins ----------------------------------------------------------------------


def test_to_builtins_hexes_bytes_everywhere() -> None:
    sig = Signature(b"\xab\xcd", b"\x01")
    assert to_builtins(sig) == ["abcd", "01", "ed25519"]
    assert to_builtins({"k": [b"\x00\xff", {"n": b""}], "i": 3}) == {
        "i": 3,
        "k": ["00ff", {"n": ""}],
    }
