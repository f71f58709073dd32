"""The ledger's data types: identities and hashes, and strict decoding."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest

from govchain.crypto.hashing import tagged_hash
from govchain.encoding import decode, encode
from govchain.errors import MalformedTransaction
from govchain.types import (
    Block,
    BlockHeader,
    ChainParams,
    Event,
    Genesis,
    GenesisNode,
    GenesisOrg,
    Receipt,
    Signature,
    SignedTx,
    TxBody,
    compute_block_hash,
    compute_genesis_digest,
    compute_receipt_leaf,
    compute_tx_hash,
    compute_tx_id,
    header_sign_bytes,
    tx_sign_bytes,
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


def _header(**changes: Any) -> BlockHeader:
    fields: dict[str, Any] = {
        "chain_id": "c",
        "height": 3,
        "prev_hash": b"\x01" * 32,
        "time_ms": 1_700_000_000_000,
        "tx_count": 2,
        "tx_root": b"\x02" * 32,
        "receipts_root": b"\x03" * 32,
        "state_root": b"\x04" * 32,
        "proposer": b"\x05" * 32,
    }
    fields.update(changes)
    return BlockHeader(**fields)


# --- transactions --------------------------------------------------------------------------------


def test_tx_id_is_tagged_hash_of_body() -> None:
    body = encode(_body())
    assert compute_tx_id(body) == hashlib.sha256(b"govchain/tx/v1\x00" + body).digest()
    assert compute_tx_hash(body) == compute_tx_id(body)
    assert tx_sign_bytes(body) == b"govchain/tx/v1\x00" + body


def test_tx_id_independent_of_signatures() -> None:
    body = encode(_body())
    one = SignedTx(body, [Signature(b"a" * 32, b"s" * 64)])
    two = SignedTx(body, [Signature(b"b" * 32, b"t" * 64), Signature(b"a" * 32, b"s" * 64)])
    none = SignedTx(body, [])
    assert encode(one) != encode(two) != encode(none)
    ids = {compute_tx_id(decode(encode(s), SignedTx).body) for s in (one, two, none)}
    assert ids == {compute_tx_id(body)}


@pytest.mark.parametrize(
    "change",
    [
        {"chain_id": "d"},
        {"sender": b"\x09" * 32},
        {"nonce": b"\x03" * 16},
        {"valid_until": 11},
        {"contract": "identity"},
        {"method": "other"},
        {"args": msgspec.Raw(encode({"title": "y"}))},
        {"scheme": "sm2"},
    ],
)
def test_tx_id_changes_with_every_body_field(change: dict[str, Any]) -> None:
    assert compute_tx_id(encode(_body(**change))) != compute_tx_id(encode(_body()))


# --- blocks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"chain_id": "d"},
        {"height": 4},
        {"prev_hash": b"\x11" * 32},
        {"time_ms": 1_700_000_000_001},
        {"tx_count": 3},
        {"tx_root": b"\x12" * 32},
        {"receipts_root": b"\x13" * 32},
        {"state_root": b"\x14" * 32},
        {"proposer": b"\x15" * 32},
    ],
    ids=lambda c: next(iter(c)),
)
def test_block_hash_changes_with_any_header_field(change: dict[str, Any]) -> None:
    assert compute_block_hash(_header(**change)) != compute_block_hash(_header())


def test_every_header_field_is_covered() -> None:
    assert set(BlockHeader.__struct_fields__) == {
        "chain_id",
        "height",
        "prev_hash",
        "time_ms",
        "tx_count",
        "tx_root",
        "receipts_root",
        "state_root",
        "proposer",
    }


def test_block_hash_and_sign_bytes() -> None:
    header = _header()
    block_hash = compute_block_hash(header)
    assert block_hash == tagged_hash(b"govchain/header/v1", encode(header))
    assert header_sign_bytes(block_hash) == b"govchain/header/v1\x00sign\x00" + block_hash
    # A header signature can never be mistaken for a transaction signature.
    assert header_sign_bytes(block_hash) != tx_sign_bytes(block_hash)


def test_block_hash_ignores_signature_and_txs() -> None:
    header = _header()
    one = Block(header, b"sig-1", [b"tx"])
    two = Block(header, b"sig-2", [])
    assert compute_block_hash(decode(encode(one), Block).header) == compute_block_hash(two.header)


# --- receipts and genesis ------------------------------------------------------------------------


def test_receipt_defaults_and_leaf() -> None:
    receipt = Receipt(b"\x01" * 32, True)
    assert receipt.code == receipt.message == ""
    assert receipt.events == []
    assert bytes(receipt.result) == b"\xc0"  # MessagePack nil
    raw = encode(receipt)
    assert decode(raw, Receipt) == receipt
    assert compute_receipt_leaf(raw) == tagged_hash(b"govchain/receipt/v1", raw)
    failed = Receipt(b"\x01" * 32, False, "X", "m", events=[Event("c", "e", {"k": "v"})])
    assert compute_receipt_leaf(encode(failed)) != compute_receipt_leaf(raw)


def _genesis(**changes: Any) -> Genesis:
    fields: dict[str, Any] = {
        "chain_id": "c",
        "genesis_time_ms": 1,
        "orgs": [GenesisOrg("tax", "Tax", "税务局", "department", ["aa" * 32])],
        "nodes": [GenesisNode("node0", "tax", "bb" * 32)],
    }
    fields.update(changes)
    return Genesis(**fields)


def test_genesis_digest_commits_to_everything() -> None:
    base = compute_genesis_digest(_genesis())
    assert base == compute_genesis_digest(_genesis())
    variants = [
        _genesis(chain_id="d"),
        _genesis(genesis_time_ms=2),
        _genesis(orgs=[GenesisOrg("tax", "Tax", "税务局", "department", ["cc" * 32])]),
        _genesis(nodes=[GenesisNode("node1", "tax", "bb" * 32)]),
        _genesis(params=ChainParams(max_tx_lifetime=5)),
    ]
    digests = {compute_genesis_digest(g) for g in variants}
    assert len(digests) == len(variants) and base not in digests


def test_chain_params_defaults() -> None:
    params = ChainParams()
    assert params.max_block_txs > 0 and params.max_tx_bytes < params.max_block_bytes
    assert params.max_tx_lifetime > 0 and params.block_interval_ms > 0


# --- strict decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        (TxBody, _body()),
        (Signature, Signature(b"k", b"s")),
        (SignedTx, SignedTx(b"body", [])),
        (BlockHeader, _header()),
        (Block, Block(_header(), b"sig", [])),
        (Receipt, Receipt(b"h", True)),
        (Event, Event("c", "n", {})),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_extra_array_element_rejected(type_: type, value: Any) -> None:
    fields = msgspec.msgpack.decode(encode(value))
    assert isinstance(fields, list)
    assert decode(encode(fields), type_) == value
    with pytest.raises(MalformedTransaction, match="at most length"):
        decode(encode([*fields, "extra"]), type_)


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        (Genesis, _genesis()),
        (GenesisOrg, GenesisOrg("tax", "Tax", "税务局", "department", [])),
        (GenesisNode, GenesisNode("n", "o", "00")),
        (ChainParams, ChainParams()),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_unknown_fields_rejected(type_: type, value: Any) -> None:
    fields = msgspec.msgpack.decode(encode(value))
    assert isinstance(fields, dict)
    assert decode(encode(fields), type_) == value
    with pytest.raises(MalformedTransaction, match="unknown field"):
        decode(encode({**fields, "surprise": 1}), type_)


def test_missing_field_and_wrong_type_rejected() -> None:
    fields = msgspec.msgpack.decode(encode(_header()))
    with pytest.raises(MalformedTransaction):
        decode(encode(fields[:-1]), BlockHeader)
    with pytest.raises(MalformedTransaction):
        decode(encode([fields[0], "three", *fields[2:]]), BlockHeader)


def test_types_are_frozen() -> None:
    header = _header()
    with pytest.raises(AttributeError):
        header.height = 4  # type: ignore[misc]
