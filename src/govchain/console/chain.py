"""Page models of the chain itself: the overview, blocks and transactions.

Everything is read through the node's :class:`~govchain.app.Application` (blocks, receipts, the
transaction index, contract views), as the JSON routes read it. What a page shows of a
transaction is its public metadata — contract, method, sender, signers, fate, events — never the
values of its arguments or of its result: the API shows those only to members and to the
transaction's signers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import msgspec

from govchain.app import Application
from govchain.console.extensions import FinalityStatus
from govchain.contracts.identity import Identity
from govchain.encoding import decode
from govchain.errors import GovchainError, NotFound
from govchain.types import BlockHeader, Receipt, SignedTx, TxBody, compute_block_hash

__all__ = [
    "BLOCKS_PER_PAGE",
    "TXS_PER_PAGE",
    "BlockDetail",
    "BlockPage",
    "BlockSummary",
    "NodeStatus",
    "Overview",
    "TxCounter",
    "TxDetail",
    "TxSummary",
    "get_block_detail",
    "get_block_page",
    "get_height_by_hash",
    "get_overview",
    "get_tx_detail",
    "get_tx_height",
]

BLOCKS_PER_PAGE = 20
RECENT_BLOCKS = 10  # on the overview
TXS_PER_PAGE = 100
PUBLIC_KINDS = ("org", "member", "node", "enterprise")  # citizens stay pseudonymous keys


@dataclass(frozen=True, slots=True)
class BlockSummary:
    height: int
    hash: str
    time_ms: int
    tx_count: int
    proposer: str


@dataclass(frozen=True, slots=True)
class BlockPage:
    blocks: list[BlockSummary]
    top: int  # the highest height on the page
    newer: int | None  # the ``top`` of the newer page, if any
    older: int | None  # the ``top`` of the older page, if any


@dataclass(frozen=True, slots=True)
class TxSummary:
    tx_id: str
    index: int
    contract: str
    method: str
    sender: str  # the sender's public id, or its key
    ok: bool
    code: str


@dataclass(frozen=True, slots=True)
class BlockDetail:
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
    txs: list[TxSummary]  # a page of the block's transactions
    latest: int
    first: int  # the position of the page's first transaction
    next_first: int | None  # where the next page starts, if any
    prev_first: int | None


@dataclass(frozen=True, slots=True)
class EventItem:
    contract: str
    name: str
    attributes: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class TxDetail:
    tx_id: str
    height: int
    index: int
    block_hash: str
    time_ms: int
    contract: str
    method: str
    sender: str
    sender_key: str
    nonce: str
    valid_until: int
    signers: list[str]
    arg_names: list[str]
    ok: bool
    code: str
    message: str
    hint: str
    events: list[EventItem]


@dataclass(frozen=True, slots=True)
class NodeStatus:
    node_id: str
    version: str
    mempool_txs: int
    uptime_s: int


@dataclass(frozen=True, slots=True)
class Overview:
    chain_id: str
    height: int
    time_ms: int  # the latest block's
    block_hash: str
    state_root: str
    genesis_hash: str
    txs: int | None  # transactions committed (None: the ledger pages are closed)
    orgs: int
    recent: list[BlockSummary]  # empty when the ledger pages are closed
    node: NodeStatus
    finality: FinalityStatus | None


class _BlockHead(msgspec.Struct, array_like=True):
    """A block's header alone: decoding skips the transactions (the trailing fields)."""

    header: BlockHeader


_decode_head = msgspec.msgpack.Decoder(_BlockHead).decode


class TxCounter:
    """The number of transactions committed, summed once over the chain and then kept up to date
    block by block (the store keeps no total)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._height = -1
        self._total = 0

    def get_total(self, app: Application) -> int:
        with self._lock:
            latest = app.info().height
            if latest > self._height:
                for _, raw in app.store.iter_blocks(self._height + 1, latest):
                    self._total += _decode_head(raw).header.tx_count
                self._height = latest
            return self._total


def _summary(header: BlockHeader) -> BlockSummary:
    return BlockSummary(
        header.height,
        compute_block_hash(header).hex(),
        header.time_ms,
        header.tx_count,
        header.proposer.hex(),
    )


def _read_header(app: Application, height: int) -> BlockHeader:
    """A block's header, without decoding its transactions."""
    found = list(app.store.iter_blocks(height, height))
    if not found:
        raise NotFound(f"no block at height {height}")
    return _decode_head(found[0][1]).header


def get_block_page(app: Application, top: int | None, size: int = BLOCKS_PER_PAGE) -> BlockPage:
    """Blocks from ``top`` (default the latest) down, newest first."""
    latest = app.info().height
    top = latest if top is None else top
    if not 0 <= top <= latest:
        raise NotFound(f"no block at height {top}; the chain is at {latest}")
    bottom = max(0, top - size + 1)
    blocks = [_summary(_decode_head(raw).header) for _, raw in app.store.iter_blocks(bottom, top)]
    blocks.reverse()
    newer = min(latest, top + size) if top < latest else None
    older = bottom - 1 if bottom > 0 else None
    return BlockPage(blocks, top, newer, older)


def get_overview(
    app: Application,
    counter: TxCounter | None,
    node: NodeStatus,
    finality: FinalityStatus | None,
) -> Overview:
    """The chain at a glance. Without a ``counter`` (the ledger pages are closed) it holds only
    what ``GET /v1/status``, ``/v1/orgs`` and ``/v1/finality`` answer anyone: no transaction
    total and no recent blocks, which are read from block headers (member-only reads)."""
    meta = app.info()
    recent = [] if counter is None else get_block_page(app, meta.height, RECENT_BLOCKS).blocks
    return Overview(
        app.chain_id,
        meta.height,
        _read_header(app, meta.height).time_ms,
        meta.block_hash.hex(),
        meta.state_root.hex(),
        app.genesis_hash.hex(),
        None if counter is None else counter.get_total(app),
        len(app.query("identity", "orgs", {})),
        recent,
        node,
        finality,
    )


def _public_sender(app: Application, public_key: bytes, height: int) -> str:
    """The sender's public id (organisations, their members and nodes, enterprises); a
    citizen, or a key bound to nothing, is shown as its key."""
    try:
        identity: Identity = app.query("identity", "key", {"public_key": public_key}, height)
    except GovchainError:
        return public_key.hex()
    return identity.id if identity.kind in PUBLIC_KINDS else public_key.hex()


def _receipts(app: Application, height: int) -> list[Receipt]:
    return [decode(r, Receipt) for r in app.store.get_receipts(height) or []]


def get_block_detail(
    app: Application, height: int, first: int = 0, size: int = TXS_PER_PAGE
) -> BlockDetail:
    """A block's header and its transactions ``first`` to ``first + size``."""
    block = app.get_block(height)
    header = block.header
    if not 0 <= first < max(1, header.tx_count):
        raise NotFound(f"block {height} holds {header.tx_count} transactions")
    receipts = _receipts(app, height)
    senders: dict[bytes, str] = {}
    txs = []
    for index in range(first, min(first + size, header.tx_count)):
        body = decode(decode(block.txs[index], SignedTx).body, TxBody)
        if body.sender not in senders:
            senders[body.sender] = _public_sender(app, body.sender, height)
        r = receipts[index]
        txs.append(
            TxSummary(
                r.tx_hash.hex(),
                index,
                body.contract,
                body.method,
                senders[body.sender],
                r.ok,
                r.code,
            )
        )
    return BlockDetail(
        header.chain_id,
        header.height,
        compute_block_hash(header).hex(),
        header.prev_hash.hex(),
        header.time_ms,
        header.tx_count,
        header.tx_root.hex(),
        header.receipts_root.hex(),
        header.state_root.hex(),
        header.proposer.hex(),
        block.proposer_signature.hex(),
        txs,
        app.info().height,
        first,
        first + size if first + size < header.tx_count else None,
        max(0, first - size) if first > 0 else None,
    )


def _arg_names(raw_args: bytes) -> list[str]:
    """The names of a transaction's arguments, without their values."""
    try:
        args = msgspec.msgpack.decode(raw_args)
    except msgspec.DecodeError:
        return []
    return sorted(str(k) for k in args) if isinstance(args, dict) else []


def get_tx_height(app: Application, tx_id: bytes) -> int | None:
    loc = app.store.get_tx_location(tx_id)
    return None if loc is None else loc.height


def get_tx_detail(app: Application, tx_id: bytes) -> TxDetail:
    loc = app.store.get_tx_location(tx_id)
    if loc is None:
        raise NotFound(f"no committed transaction {tx_id.hex()}")
    block = app.get_block(loc.height)
    receipt = _receipts(app, loc.height)[loc.index]
    signed = decode(block.txs[loc.index], SignedTx)
    body = decode(signed.body, TxBody)
    events = [EventItem(e.contract, e.name, sorted(e.attributes.items())) for e in receipt.events]
    return TxDetail(
        tx_id.hex(),
        loc.height,
        loc.index,
        compute_block_hash(block.header).hex(),
        block.header.time_ms,
        body.contract,
        body.method,
        _public_sender(app, body.sender, loc.height),
        body.sender.hex(),
        body.nonce.hex(),
        body.valid_until,
        [s.public_key.hex() for s in signed.signatures],
        _arg_names(bytes(body.args)),
        receipt.ok,
        receipt.code,
        receipt.message,
        receipt.hint,
        events,
    )


def get_height_by_hash(app: Application, block_hash: bytes) -> int | None:
    return app.store.get_height_by_hash(block_hash)
