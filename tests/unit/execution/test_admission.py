"""Stateless admission checks (``decode_tx``) and batched signature verification."""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest

from govchain.client.tx import add_signature
from govchain.contracts.notary import AnchorArgs
from govchain.encoding import decode, encode
from govchain.errors import (
    BadSignature,
    InvalidArguments,
    InvalidTransaction,
    MalformedTransaction,
    MissingSignature,
    OversizedTransaction,
    UnknownContract,
    UnknownMethod,
    WrongChainId,
)
from govchain.execution import CheckedTx, SignatureCache, verify_tx_signatures
from govchain.execution.admission import MAX_SIGNATURES
from govchain.types import Signature, SignedTx, TxBody, compute_tx_id, tx_sign_bytes


def _resign(chain: Any, raw: bytes, **body_changes: Any) -> bytes:
    """``raw`` with its body changed and re-signed by the sender (so only the change is wrong)."""
    signed = decode(raw, SignedTx)
    body = msgspec.structs.replace(decode(signed.body, TxBody), **body_changes)
    return _sign_body(chain, encode(body), "tax")


def _sign_body(chain: Any, body_raw: bytes, org: str = "tax") -> bytes:
    key = chain.admin(org)
    sig = Signature(key.public_key, key.sign(tx_sign_bytes(body_raw)))
    return encode(SignedTx(body_raw, [sig]))


def _flip_signature(raw: bytes, index: int = 0) -> bytes:
    signed = decode(raw, SignedTx)
    sigs = list(signed.signatures)
    bad = sigs[index].signature
    sigs[index] = Signature(sigs[index].public_key, bytes([bad[0] ^ 1]) + bad[1:])
    return encode(SignedTx(signed.body, sigs))


def _reject(chain: Any, raw: bytes, cls: type[InvalidTransaction], code: str) -> InvalidTransaction:
    with pytest.raises(cls) as info:
        chain.check(raw)
    assert info.value.code == code
    assert isinstance(info.value, InvalidTransaction)
    return info.value


# --- decode_tx -----------------------------------------------------------------------------------


def test_valid_tx_is_decoded_once(chain: Any) -> None:
    args = chain.anchor_args("deed", metadata={"k": "v"})
    raw = chain.tx(args=args, valid_until=7)
    checked = chain.check(raw)
    signed = decode(raw, SignedTx)
    assert isinstance(checked, CheckedTx)
    assert checked.raw == raw
    assert checked.signed == signed
    assert checked.tx_id == compute_tx_id(signed.body)
    assert checked.body.sender == chain.admin("tax").public_key
    assert checked.body.valid_until == 7
    assert checked.method.name == "anchor"
    assert checked.args == args and isinstance(checked.args, AnchorArgs)
    assert checked.signers == frozenset({chain.admin("tax").public_key})


def test_oversized(chain: Any) -> None:
    limit = chain.params.max_tx_bytes
    err = _reject(chain, b"\x00" * (limit + 1), OversizedTransaction, "TX_TOO_LARGE")
    assert err.details == {"size": limit + 1, "limit": limit}
    assert err.status == 413
    big = chain.tx(args=chain.anchor_args(metadata={"k": "x" * (limit + 10)}))
    _reject(chain, big, OversizedTransaction, "TX_TOO_LARGE")


@pytest.mark.parametrize(
    "raw",
    [b"", b"garbage", b"\xc1", b"\x92\xc4\x01x", encode([b"body"]), encode({"body": b"", "s": []})],
)
def test_garbage(chain: Any, raw: bytes) -> None:
    _reject(chain, raw, MalformedTransaction, "TX_MALFORMED")


def test_truncated(chain: Any) -> None:
    raw = chain.tx()
    for cut in (1, 10, len(raw) // 2, len(raw) - 1):
        _reject(chain, raw[:cut], MalformedTransaction, "TX_MALFORMED")


def test_body_is_not_a_tx_body(chain: Any) -> None:
    _reject(chain, _sign_body(chain, b"not a body"), MalformedTransaction, "TX_MALFORMED")
    _reject(chain, _sign_body(chain, encode(["a", "b"])), MalformedTransaction, "TX_MALFORMED")


def test_wrong_chain(chain: Any) -> None:
    err = _reject(chain, chain.tx(chain_id="elsewhere"), WrongChainId, "TX_WRONG_CHAIN")
    assert "elsewhere" in err.message


@pytest.mark.parametrize(
    ("size", "ok"), [(0, False), (7, False), (8, True), (32, True), (33, False)]
)
def test_nonce_length(chain: Any, size: int, ok: bool) -> None:
    raw = _resign(chain, chain.tx(), nonce=b"\x07" * size)
    if ok:
        assert chain.check(raw).body.nonce == b"\x07" * size
    else:
        _reject(chain, raw, MalformedTransaction, "TX_MALFORMED")


def test_no_signatures(chain: Any) -> None:
    _reject(chain, chain.tx(sign=False), MissingSignature, "TX_MISSING_SIGNATURE")


def test_sender_did_not_sign(chain: Any) -> None:
    raw = add_signature(chain.tx(sign=False), chain.admin("health"))
    err = _reject(chain, raw, MissingSignature, "TX_MISSING_SIGNATURE")
    assert "sender" in err.message


def test_duplicate_signer(chain: Any) -> None:
    signed = decode(chain.tx(), SignedTx)
    raw = encode(SignedTx(signed.body, [signed.signatures[0], signed.signatures[0]]))
    err = _reject(chain, raw, MalformedTransaction, "TX_MALFORMED")
    assert "twice" in err.message


def test_too_many_signatures(chain: Any) -> None:
    raw = chain.tx()
    for i in range(MAX_SIGNATURES - 1):
        raw = add_signature(raw, chain.key(f"co-signer-{i}"))
    assert len(chain.check(raw).signers) == MAX_SIGNATURES
    too_many = add_signature(raw, chain.key("one-too-many"))
    _reject(chain, too_many, MalformedTransaction, "TX_MALFORMED")


def test_unknown_contract(chain: Any) -> None:
    err = _reject(chain, chain.tx(contract="lottery"), UnknownContract, "TX_UNKNOWN_CONTRACT")
    assert err.details["known"] == sorted(c.name for c in chain.registry)
    assert "lottery" not in err.details["known"] and "notary" in err.details["known"]


def test_unknown_method(chain: Any) -> None:
    err = _reject(chain, chain.tx(method="burn"), UnknownMethod, "TX_UNKNOWN_METHOD")
    assert err.details["known"] == ["anchor"]
    # A view is not a transaction method.
    _reject(chain, chain.tx(method="get"), UnknownMethod, "TX_UNKNOWN_METHOD")


@pytest.mark.parametrize(
    "args",
    [
        {"hash": 12345, "title": "t", "owner_org": "tax"},  # int for bytes
        {"hash": b"\x00" * 32, "title": 7, "owner_org": "tax"},  # int for str
        {"hash": b"\x00" * 32, "owner_org": "tax"},  # missing required field
        {"hash": b"\x00" * 32, "title": "t", "owner_org": "tax", "colour": "red"},  # unknown
        {"hash": b"\x00" * 32, "title": "t", "owner_org": "tax", "metadata": {"k": 1}},
        {"hash": b"\x00" * 32, "title": "t", "owner_org": "tax", "expires_at_ms": "soon"},
        ["not", "a", "map"],
        "a string",
        0,
    ],
)
def test_args_of_the_wrong_type(chain: Any, args: Any) -> None:
    raw = chain.tx(args=args)
    err = _reject(chain, raw, InvalidArguments, "TX_INVALID_ARGS")
    assert err.message.startswith("anchor:")


def test_args_not_messagepack(chain: Any) -> None:
    body = decode(decode(chain.tx(), SignedTx).body, TxBody)
    for junk in (b"\xc1", b"\xd9\x10abc", b""):
        body_raw = encode(msgspec.structs.replace(body, args=msgspec.Raw(junk)))
        _reject(chain, _sign_body(chain, body_raw), MalformedTransaction, "TX_MALFORMED")
    with pytest.raises(MalformedTransaction, match="not MessagePack"):
        chain.registry.get_method("notary", "anchor").decode_args(b"\xc1")


# --- signatures ----------------------------------------------------------------------------------


def test_verify_valid_and_tampered(chain: Any) -> None:
    good = chain.check(chain.tx())
    bad_raw = _flip_signature(chain.tx())
    bad = chain.check(bad_raw)  # decoding does not look at signatures
    results = verify_tx_signatures([good, bad, good])
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], BadSignature)
    assert results[1].code == "TX_BAD_SIGNATURE"
    assert results[1].details["tx_id"] == bad.tx_id.hex()


def test_tampered_body_fails_signature(chain: Any) -> None:
    signed = decode(chain.tx(), SignedTx)
    body = decode(signed.body, TxBody)
    forged = encode(msgspec.structs.replace(body, valid_until=body.valid_until + 1))
    checked = chain.check(encode(SignedTx(forged, signed.signatures)))
    assert isinstance(verify_tx_signatures([checked])[0], BadSignature)


def test_bad_co_signature_is_flagged(chain: Any) -> None:
    raw = add_signature(chain.tx(), chain.admin("tax", 1))
    assert verify_tx_signatures([chain.check(raw)]) == [None]
    for index in (0, 1):
        result = verify_tx_signatures([chain.check(_flip_signature(raw, index))])
        assert isinstance(result[0], BadSignature)


def test_unknown_signature_scheme_is_a_bad_signature(chain: Any) -> None:
    signed = decode(chain.tx(), SignedTx)
    sig = signed.signatures[0]
    raw = encode(SignedTx(signed.body, [Signature(sig.public_key, sig.signature, "sm2")]))
    assert isinstance(verify_tx_signatures([chain.check(raw)])[0], BadSignature)


def test_many_txs_in_parallel(chain: Any) -> None:
    raws = [chain.tx() for _ in range(80)]
    bad = {5, 40, 79}
    txs = [chain.check(_flip_signature(r) if i in bad else r) for i, r in enumerate(raws)]
    results = verify_tx_signatures(txs)
    assert [r is not None for r in results] == [i in bad for i in range(80)]


def test_cache_remembers_only_good_txs(chain: Any) -> None:
    cache = SignatureCache()
    good = chain.check(chain.tx())
    bad = chain.check(_flip_signature(chain.tx()))
    verify_tx_signatures([good, bad], cache)
    assert good.raw in cache
    assert bad.raw not in cache
    # A second look still flags the bad one.
    assert isinstance(verify_tx_signatures([bad], cache)[0], BadSignature)


def test_cache_skips_verified_txs(chain: Any) -> None:
    cache = SignatureCache()
    good = chain.check(chain.tx())
    assert verify_tx_signatures([good], cache) == [None]
    # Same raw bytes, but claim different (wrong) signatures: the cache answers without
    # verifying again; without the cache the lie is caught.
    bad_signed = decode(_flip_signature(good.raw), SignedTx)
    impostor = dataclasses.replace(good, signed=bad_signed)
    assert verify_tx_signatures([impostor], cache) == [None]
    assert isinstance(verify_tx_signatures([impostor])[0], BadSignature)


def test_cache_is_bounded() -> None:
    cache = SignatureCache(capacity=8)
    raws = [b"tx-%d" % i for i in range(20)]
    for raw in raws:
        cache.add(raw)
    assert raws[-1] in cache
    assert raws[0] not in cache
    assert sum(raw in cache for raw in raws) <= 9
