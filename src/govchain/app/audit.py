"""Audit a stored ledger from genesis: the hash chain, every signature, every Merkle root, the
recomputed state root of every block, the stored receipts, indexes and state values.

A block's header is trusted on its proposer's signature (by a registered node key) or, when it
is unsigned — a multi-node peer stores the blocks other peers proposed without a signature — on
a stored finality certificate of the genesis' founding peers: its own, or one at a later height
(each header commits to its predecessor's hash, so a certificate vouches for every block below
it). Every stored certificate is verified against its block's hash and state root.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from govchain.app.readers import StoreState
from govchain.contracts.registry import ContractRegistry
from govchain.encoding import decode, encode
from govchain.errors import GovchainError, InvalidBlock
from govchain.execution import (
    Execution,
    RecentTxIndex,
    SignatureCache,
    build_genesis,
    replay_block,
)
from govchain.merkle import smt
from govchain.storage.base import LedgerStore
from govchain.types import Block, Genesis, compute_block_hash
from govchain.types.finality import FinalityError, founding_peer_keys, verify_certificate

__all__ = ["AuditReport", "audit_ledger"]


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    height: int  # the last block checked and trusted
    blocks: int
    txs: int
    first_bad_height: int | None = None
    reason: str = ""
    message: str = ""
    by_signature: int = 0  # blocks after genesis trusted on their proposer's signature
    by_certificate: int = 0  # unsigned blocks trusted on a finality certificate
    finalized_height: int = -1  # the highest block with a verified finality certificate


class _Authority:
    """How the audited blocks are trusted: signatures, and certificates that cover unsigned
    blocks up to their height."""

    def __init__(self, store: LedgerStore, genesis: Genesis) -> None:
        self.store = store
        self.genesis = genesis
        self.peers: dict[str, bytes] | None = None  # read from the genesis when first needed
        self.certified_up_to = store.get_finalized_height()  # the highest stored certificate
        self.uncovered: list[int] = []  # unsigned blocks waiting for a certificate above them
        self.by_signature = self.by_certificate = 0
        self.finalized_height = -1
        self.certified = False  # whether the block being checked has a verified certificate

    def check(self, block: Block) -> bool:
        """Before replaying ``block``: verify its stored certificate, if any, and return
        whether its authority is established here (an unsigned block that a certificate
        covers; a signed one is checked by the replay)."""
        height = block.header.height
        self.certified = self._check_certificate(block)
        if block.proposer_signature:
            return False
        if height > self.certified_up_to:
            raise _fail(
                height,
                "NO_CERTIFICATE",
                "the block has no proposer signature and no finality certificate covers it "
                f"(the ledger's certificates reach height {self.certified_up_to}; a peer "
                "stopped before its last blocks became final can collect their certificates by "
                "running again)",
            )
        return True

    def accept(self, block: Block) -> None:
        """After ``block`` replayed: count how it is trusted."""
        if block.proposer_signature:
            self.by_signature += 1
        else:
            self.uncovered.append(block.header.height)
        if self.certified:
            self.by_certificate += len(self.uncovered)
            self.uncovered.clear()
            self.finalized_height = block.header.height

    def _check_certificate(self, block: Block) -> bool:
        height = block.header.height
        try:
            cert = self.store.get_finality_certificate(height)
        except GovchainError as exc:
            raise _fail(
                height, "FINALITY_MALFORMED", f"the stored certificate: {exc.message}"
            ) from exc
        if cert is None:
            return False
        try:
            if self.peers is None:
                self.peers = founding_peer_keys(self.genesis)
            verify_certificate(
                cert,
                self.genesis.chain_id,
                self.peers,
                height=height,
                block_hash=compute_block_hash(block.header),
                state_root=block.header.state_root,
            )
        except FinalityError as exc:
            raise _fail(
                height, exc.code, f"the stored finality certificate does not hold: {exc.message}"
            ) from exc
        return True

    def finish(self) -> None:
        if self.uncovered:
            height = self.uncovered[0]
            raise _fail(
                height,
                "NO_CERTIFICATE",
                "the block has no proposer signature and no finality certificate covers it",
            )

    def last_trusted(self, checked: int) -> int:
        """The last block trusted when the audit stopped after block ``checked``."""
        return min([checked, *(h - 1 for h in self.uncovered[:1])])


def audit_ledger(
    store: LedgerStore,
    genesis: Genesis,
    registry: ContractRegistry,
    progress: Callable[[int, int], None] | None = None,
) -> AuditReport:
    """Check every block; stop at the first inconsistency and name it."""
    meta = store.get_meta()
    if meta is None:
        return AuditReport(False, -1, 0, 0, 0, "EMPTY_LEDGER", "the ledger holds no block")
    checked_txs = 0
    authority = _Authority(store, genesis)
    try:
        prev = _check_genesis(store, genesis, registry)
        guard, cache = RecentTxIndex(), SignatureCache()
        for height in range(1, meta.height + 1):
            block = _load_block(store, height)
            trusted = authority.check(block)
            execution, _ = replay_block(
                StoreState(store, height - 1),
                store,
                registry,
                genesis.params,  # a fallback: each block's parameters are read from its state
                prev.header,
                block,
                guard,
                cache,
                authority_checked=trusted,
            )
            _check_stored_outcome(store, height, block, execution)
            authority.accept(block)
            guard.add((tx.tx_id, tx.body.valid_until) for tx in execution.included)
            guard.prune(height)
            checked_txs += len(block.txs)
            prev = block
            if progress is not None:
                progress(height, len(block.txs))
        authority.finish()
        _check_state_table(store, meta.height, prev.header.state_root)
    except InvalidBlock as exc:
        bad = exc.details.get("height", -1)
        good = authority.last_trusted(bad - 1)
        return AuditReport(
            False,
            good,
            max(good + 1, 0),
            checked_txs,
            bad,
            str(exc.details.get("reason", exc.code)),
            exc.message,
            authority.by_signature,
            authority.by_certificate,
            authority.finalized_height,
        )
    except GovchainError as exc:
        return AuditReport(False, -1, 0, checked_txs, None, exc.code, exc.message)
    return AuditReport(
        True,
        meta.height,
        meta.height + 1,
        checked_txs,
        by_signature=authority.by_signature,
        by_certificate=authority.by_certificate,
        finalized_height=authority.finalized_height,
    )


def _fail(height: int, reason: str, message: str) -> InvalidBlock:
    return InvalidBlock(f"block {height}: {message}", height=height, reason=reason)


def _load_block(store: LedgerStore, height: int) -> Block:
    raw = store.get_block(height)
    if raw is None:
        raise _fail(height, "BLOCK_MISSING", "the block is missing from the store")
    try:
        block = decode(raw, Block)
    except GovchainError as exc:
        raise _fail(
            height, "BLOCK_UNDECODABLE", f"the stored block cannot be decoded: {exc.message}"
        ) from exc
    if block.header.height != height:
        raise _fail(
            height, "HEIGHT_MISMATCH", f"the stored block says height {block.header.height}"
        )
    block_hash = compute_block_hash(block.header)
    if store.get_block_hash(height) != block_hash:
        raise _fail(
            height,
            "BLOCK_HASH_MISMATCH",
            "the block's hash differs from the hash index (the block was altered)",
        )
    if store.get_state_root(height) != block.header.state_root:
        raise _fail(
            height, "STATE_ROOT_INDEX_MISMATCH", "the stored state root differs from the header's"
        )
    return block


def _check_genesis(store: LedgerStore, genesis: Genesis, registry: ContractRegistry) -> Block:
    block = _load_block(store, 0)
    expected, _, _ = build_genesis(genesis, registry, store)
    if compute_block_hash(block.header) != compute_block_hash(expected.header):
        raise _fail(0, "GENESIS_MISMATCH", "the genesis block does not match genesis.json")
    return block


def _check_stored_outcome(
    store: LedgerStore, height: int, block: Block, execution: Execution
) -> None:
    receipts = store.get_receipts(height) or []
    expected = [encode(r) for r in execution.receipts]
    if receipts != expected:
        raise _fail(
            height, "RECEIPTS_MISMATCH", "the stored receipts differ from the recomputed ones"
        )
    for index, tx in enumerate(execution.included):
        loc = store.get_tx_location(tx.tx_id)
        if loc is None or (loc.height, loc.index) != (height, index):
            raise _fail(
                height,
                "TX_INDEX_MISMATCH",
                f"the index entry of transaction {index} is wrong or missing",
            )
    for key, value in execution.writes.items():
        if store.get_state(key, height) != value:
            raise _fail(
                height,
                "STATE_VALUE_MISMATCH",
                f"the stored value of state key {key!r} differs from the recomputed one",
            )


def _check_state_table(store: LedgerStore, height: int, state_root: bytes) -> None:
    """The stored latest state, rebuilt into a tree from scratch, must have the header's root:
    this catches state rows that no block wrote (inserted or deleted behind the node's back)."""
    live = dict(store.iter_state(b"", height))
    root, _ = smt.apply_updates(smt.MemoryNodeStore(), smt.EMPTY_ROOT, live)
    if root != state_root:
        raise _fail(
            height,
            "STATE_TABLE_MISMATCH",
            "the stored state differs from the state "
            "root (rows were added or removed outside the ledger)",
        )
