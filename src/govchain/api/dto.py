"""The API's JSON shapes. Bytes travel as lowercase hex. Every proof-carrying answer also carries
the raw canonical encodings (``*_raw``) so that a client re-derives hashes itself instead of
trusting the node's decoded view."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "BatchSubmitRequest",
    "BatchSubmitResponse",
    "BlockView",
    "ContractInfo",
    "HeaderView",
    "InclusionProofView",
    "NotaryView",
    "ReceiptView",
    "StateView",
    "StatusView",
    "SubmitItem",
    "SubmitRequest",
    "TxView",
]


class SubmitRequest(msgspec.Struct, forbid_unknown_fields=True):
    tx: str  # base64 of the encoded SignedTx


class BatchSubmitRequest(msgspec.Struct, forbid_unknown_fields=True):
    txs: list[str]


class SubmitItem(msgspec.Struct, omit_defaults=True):
    tx_id: str | None
    status: str  # pending | rejected
    error: dict[str, Any] | None = None


class BatchSubmitResponse(msgspec.Struct):
    accepted: int
    rejected: int
    results: list[SubmitItem]


class HeaderView(msgspec.Struct):
    chain_id: str
    height: int
    hash: str
    prev_hash: str
    time_ms: int
    tx_count: int
    tx_root: str
    receipts_root: str
    state_root: str
    proposer: str
    proposer_signature: str
    header_raw: str


class EventView(msgspec.Struct):
    contract: str
    name: str
    attributes: dict[str, str]


class ReceiptView(msgspec.Struct):
    tx_id: str
    ok: bool
    code: str
    message: str
    hint: str
    events: list[EventView]
    result: Any


class BlockView(msgspec.Struct, omit_defaults=True):
    header: HeaderView
    tx_ids: list[str]
    failed_tx_ids: list[str] = []
    txs: list[dict[str, Any]] | None = None
    receipts: list[ReceiptView] | None = None


class InclusionProofView(msgspec.Struct):
    index: int
    size: int
    path: list[str]


class TxView(msgspec.Struct, omit_defaults=True):
    tx_id: str
    status: str  # pending | committed | rejected
    height: int | None = None
    index: int | None = None
    tx: dict[str, Any] | None = None
    receipt: ReceiptView | None = None
    error: dict[str, Any] | None = None
    header: HeaderView | None = None
    tx_raw: str | None = None
    receipt_raw: str | None = None
    tx_proof: InclusionProofView | None = None
    receipt_proof: InclusionProofView | None = None
    finality: str | None = None  # hex of the header's block's finality certificate, if final


class StateView(msgspec.Struct):
    key: str
    value: str | None
    exists: bool
    height: int
    header: HeaderView
    proof: str  # hex of the canonical StateProof encoding
    # hex of the canonical encoding of the block's finality certificate, when the node has it
    finality: str | None = None


class NotaryView(msgspec.Struct):
    record: dict[str, Any]
    state: StateView


class StatusView(msgspec.Struct):
    chain_id: str
    node_id: str
    version: str
    height: int
    block_hash: str
    state_root: str
    genesis_hash: str
    time_ms: int
    mempool_txs: int
    mempool_bytes: int
    uptime_s: int


class MethodInfo(msgspec.Struct):
    name: str
    doc: str
    args_schema: dict[str, Any]


class ContractInfo(msgspec.Struct):
    name: str
    description: str
    methods: list[MethodInfo]
    views: list[MethodInfo]
