"""Golden vectors for the canonical encoding (tests/vectors/encoding/canonical.json): exact bytes
of plain values and of every hashed type, the hashes derived from them, and inputs that must be
refused. Any implementation that signs or hashes govchain data must reproduce these bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from govchain.encoding import decode, encode, ensure_no_floats
from govchain.errors import GovchainError
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
    compute_tx_id,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "encoding" / "canonical.json").read_text(encoding="utf-8")
)
TYPES: dict[str, type[msgspec.Struct]] = {
    t.__name__: t
    for t in (
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
    )
}


def from_json(value: Any) -> Any:
    """Undo the vector file's JSON notation for bytes, raw fields and nested structs."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$hex"}:
            return bytes.fromhex(value["$hex"])
        if set(value) == {"$msgpack"}:
            return msgspec.Raw(encode(from_json(value["$msgpack"])))
        if set(value) == {"$struct", "fields"}:
            return TYPES[value["$struct"]](**from_json(value["fields"]))
        return {k: from_json(v) for k, v in value.items()}
    return value


def _ids(key: str) -> Any:
    return lambda case: case[key]


@pytest.mark.parametrize("case", VECTORS["values"], ids=_ids("description"))
def test_value_encoding(case: dict[str, Any]) -> None:
    value = from_json(case["value"])
    expected = bytes.fromhex(case["encoding"])
    assert encode(value) == expected
    assert decode(expected, Any) == value  # type: ignore[arg-type]


@pytest.mark.parametrize("case", VECTORS["structs"], ids=_ids("name"))
def test_struct_encoding(case: dict[str, Any]) -> None:
    type_ = TYPES[case["type"]]
    value = type_(**from_json(case["fields"]))
    expected = bytes.fromhex(case["encoding"])
    assert encode(value).hex() == case["encoding"]
    assert encode(decode(expected, type_)) == expected
    for name, digest in case.get("hashes", {}).items():
        if name == "tx_id":
            body = value.body if isinstance(value, SignedTx) else encode(value)
            assert compute_tx_id(body).hex() == digest
        elif name == "block_hash":
            header = value.header if isinstance(value, Block) else value
            assert compute_block_hash(header).hex() == digest
        elif name == "receipt_leaf":
            assert compute_receipt_leaf(expected).hex() == digest
        elif name == "genesis_digest":
            assert compute_genesis_digest(value).hex() == digest
        else:
            pytest.fail(f"unknown hash kind {name}")


def test_signed_tx_body_is_the_tx_body_vector() -> None:
    structs = {c["name"]: c for c in VECTORS["structs"]}
    signed = decode(bytes.fromhex(structs["signed tx with two signatures"]["encoding"]), SignedTx)
    assert signed.body.hex() == structs["tx body"]["encoding"]
    block = decode(bytes.fromhex(structs["block"]["encoding"]), Block)
    assert encode(block.header).hex() == structs["block header"]["encoding"]


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=_ids("description"))
def test_invalid_encoding(case: dict[str, Any]) -> None:
    with pytest.raises(GovchainError) as info:
        decode(bytes.fromhex(case["data"]), TYPES[case["type"]])
    assert info.value.code == case["error"]


@pytest.mark.parametrize("case", VECTORS["floats"], ids=_ids("description"))
def test_floats_refused(case: dict[str, Any]) -> None:
    value = case["value"]
    with pytest.raises(GovchainError) as info:
        ensure_no_floats(value)
    assert info.value.code == "TX_MALFORMED"
    assert case["path"] in info.value.message
