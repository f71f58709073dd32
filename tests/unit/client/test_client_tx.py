"""Building and signing transactions in the SDK, including multi-party signing."""

from __future__ import annotations

from typing import Any

import pytest

from govchain.client import add_signature, build_tx, coerce_args, tx_id_of
from govchain.contracts.identity import KeyArgs
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import get_scheme
from govchain.encoding import decode, encode
from govchain.errors import BadRequest, InvalidTransaction, MalformedTransaction
from govchain.execution import verify_tx_signatures
from govchain.types import SignedTx, TxBody, compute_tx_id, tx_sign_bytes


def _build(chain: Any, key: Any = None, **kw: Any) -> bytes:
    kw.setdefault("args", chain.anchor_args("deed"))
    return build_tx(
        key or chain.admin("tax"),
        chain_id=chain.chain_id,
        contract="notary",
        method="anchor",
        valid_until=kw.pop("valid_until", 10),
        **kw,
    )


# --- build_tx ------------------------------------------------------------------------------------


def test_build_tx(chain: Any) -> None:
    key = chain.admin("tax")
    args = chain.anchor_args("deed", metadata={"a": "b"})
    raw = _build(chain, args=args, nonce=b"n" * 12)
    signed = decode(raw, SignedTx)
    body = decode(signed.body, TxBody)
    assert body == TxBody(
        chain.chain_id, key.public_key, b"n" * 12, 10, "notary", "anchor", body.args, "ed25519"
    )
    assert decode(bytes(body.args), AnchorArgs) == args
    assert bytes(body.args) == encode(args)  # fields in declaration order
    (sig,) = signed.signatures
    assert sig.public_key == key.public_key and sig.scheme == "ed25519"
    assert get_scheme("ed25519").verify(key.public_key, tx_sign_bytes(signed.body), sig.signature)
    assert tx_id_of(raw) == compute_tx_id(signed.body)
    # The chain admits it as it is.
    assert verify_tx_signatures([chain.check(raw)]) == [None]


def test_build_tx_fresh_nonce_each_time(chain: Any) -> None:
    one, two = _build(chain), _build(chain)
    assert tx_id_of(one) != tx_id_of(two)
    nonce = decode(decode(one, SignedTx).body, TxBody).nonce
    assert 8 <= len(nonce) <= 32


def test_build_tx_same_nonce_same_id(chain: Any) -> None:
    assert tx_id_of(_build(chain, nonce=b"x" * 16)) == tx_id_of(_build(chain, nonce=b"x" * 16))


def test_build_unsigned(chain: Any) -> None:
    raw = _build(chain, sign=False)
    assert decode(raw, SignedTx).signatures == []


@pytest.mark.parametrize(
    "args", [{"amount": 1.5}, {"nested": [{"x": 0.1}]}, {"title": "x", "meta": {"v": 2.0}}]
)
def test_build_tx_refuses_floats(chain: Any, args: Any) -> None:
    with pytest.raises(MalformedTransaction):
        _build(chain, args=args)


# --- add_signature -------------------------------------------------------------------------------


def test_two_party_signing(chain: Any) -> None:
    first, second = chain.admin("tax"), chain.admin("tax", 1)
    raw = _build(chain, first)
    cosigned = add_signature(raw, second)
    signed = decode(cosigned, SignedTx)
    assert [s.public_key for s in signed.signatures] == [first.public_key, second.public_key]
    assert signed.body == decode(raw, SignedTx).body
    assert tx_id_of(cosigned) == tx_id_of(raw)  # signatures do not change the id
    checked = chain.check(cosigned)
    assert checked.signers == frozenset({first.public_key, second.public_key})
    assert verify_tx_signatures([checked]) == [None]


def test_re_signing_is_idempotent(chain: Any) -> None:
    raw = add_signature(_build(chain), chain.admin("health"))
    assert add_signature(raw, chain.admin("health")) == raw
    assert add_signature(raw, chain.admin("tax")) == raw  # the sender already signed


def test_sign_an_unsigned_tx_offline(chain: Any) -> None:
    """Build unsigned, pass it around, each party adds its signature; order is kept."""
    sender = chain.admin("tax")
    raw = _build(chain, sender, sign=False)
    for key in (chain.admin("health"), sender, chain.admin("bureau")):
        raw = add_signature(raw, key)
    signed = decode(raw, SignedTx)
    assert [s.public_key for s in signed.signatures] == [
        chain.admin("health").public_key,
        sender.public_key,
        chain.admin("bureau").public_key,
    ]
    assert verify_tx_signatures([chain.check(raw)]) == [None]


def test_add_signature_to_garbage(chain: Any) -> None:
    with pytest.raises(MalformedTransaction):
        add_signature(b"garbage", chain.admin("tax"))


def test_tx_id_of_bad_input() -> None:
    with pytest.raises(MalformedTransaction):
        tx_id_of(b"\x00\x01")
    with pytest.raises(InvalidTransaction):
        tx_id_of(encode(SignedTx(b"", [])))


# --- coerce_args ---------------------------------------------------------------------------------


def test_coerce_args_hex_to_bytes() -> None:
    digest = bytes(range(32))
    args = coerce_args(
        AnchorArgs,
        {"hash": digest.hex(), "title": "Lease", "owner_org": "tax", "metadata": {"k": "v"}},
    )
    assert args == AnchorArgs(digest, "Lease", "tax", None, {"k": "v"})
    assert coerce_args(AnchorArgs, {"hash": digest, "title": "t", "owner_org": "o"}).hash == digest
    assert coerce_args(KeyArgs, {"public_key": "ABCD"}) == KeyArgs(b"\xab\xcd")


def test_coerce_args_passes_structs_and_untyped_through() -> None:
    struct = AnchorArgs(b"h", "t", "o")
    assert coerce_args(AnchorArgs, struct) is struct
    assert coerce_args(None, {"anything": 1}) == {"anything": 1}


@pytest.mark.parametrize(
    "args",
    [
        {"hash": "not hex", "title": "t", "owner_org": "o"},
        {"hash": "abc", "title": "t", "owner_org": "o"},  # odd length
        {"hash": "00", "title": 5, "owner_org": "o"},
        {"hash": "00", "owner_org": "o"},
        {"hash": "00", "title": "t", "owner_org": "o", "unknown": 1},
        {"hash": "00", "title": "t", "owner_org": "o", "expires_at_ms": 1.5},
    ],
)
def test_coerce_args_errors(args: dict[str, Any]) -> None:
    with pytest.raises(BadRequest) as info:
        coerce_args(AnchorArgs, args)
    assert info.value.code == "BAD_REQUEST"
