"""The application: the ledger core behind an ABCI-shaped boundary.

``check_txs`` admits transactions (stateless checks, signatures, stateful checks against the
committed state); ``finalize_block`` executes an ordered batch and seals a block without
persisting anything; ``commit`` writes the block, receipts, indexes and state in one atomic step;
``query`` and ``prove_state`` serve reads; ``info`` tells where the chain is. The ordering layer
(solo or etcd) decides *which* transactions go into a block; this class decides *what they do*.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from govchain.app.readers import LatestStateCache, StoreState
from govchain.contracts.base import ReadContext
from govchain.contracts.governance import PARAMS_KEY, get_lifetime_ceiling, get_params
from govchain.contracts.identity import is_active_node_key
from govchain.contracts.registry import ContractRegistry
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, encode
from govchain.errors import (
    BadRequest,
    ConfigError,
    GovchainError,
    InvalidTransaction,
    NodeNotActive,
    NotFound,
    StorageError,
    UnknownView,
)
from govchain.execution import (
    BlockEnv,
    BlockStart,
    CheckedTx,
    Execution,
    RecentTxIndex,
    ReplayGuard,
    SignatureCache,
    build_genesis,
    check_stateful,
    decode_tx,
    execute_txs,
    seal_block,
    start_block,
    verify_tx_signatures,
)
from govchain.merkle import smt
from govchain.state.overlay import Overlay, StateReader
from govchain.storage.base import ChainMeta, CommitBatch, LedgerStore
from govchain.types import (
    Block,
    BlockHeader,
    ChainParams,
    Genesis,
    SignedTx,
    TxBody,
    compute_block_hash,
    compute_tx_id,
    header_sign_bytes,
)

__all__ = ["Application", "CommittedBlock", "PendingBlock", "StateProofResult"]


@dataclass(frozen=True, slots=True)
class PendingBlock:
    """A block executed and sealed but not yet committed."""

    block: Block
    block_hash: bytes
    execution: Execution
    nodes: dict[bytes, bytes]

    @property
    def dropped(self) -> list[tuple[CheckedTx, InvalidTransaction]]:
        return self.execution.dropped


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    block: Block
    block_hash: bytes
    tx_ids: list[bytes]
    receipts: list[Any]  # list[Receipt]
    dropped: list[tuple[CheckedTx, InvalidTransaction]]
    params_changed: ChainParams | None = None  # the new parameters, if this block changed them


@dataclass(frozen=True, slots=True)
class StateProofResult:
    key: bytes
    value: bytes | None
    height: int
    header: BlockHeader
    proof: smt.StateProof


class Application:
    def __init__(
        self,
        store: LedgerStore,
        genesis: Genesis,
        registry: ContractRegistry,
        node_key: KeyPair | None = None,
    ) -> None:
        self.store = store
        self.genesis = genesis
        self.registry = registry
        self.node_key = node_key
        self.sig_cache = SignatureCache()
        self._lock = threading.Lock()  # finalize/commit are sequential
        self._uncommitted: list[PendingBlock] = []  # finalized, commit under way (pipelining)
        self._ensure_genesis()
        self._last_header = self.get_header(self.info().height)
        self._state = LatestStateCache(store)
        self._recent = RecentTxIndex()
        self._next_start: tuple[int, BlockStart] | None = None
        self._load_recent_txs()

    # --- info ------------------------------------------------------------------------------

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    def info(self) -> ChainMeta:
        meta = self.store.get_meta()
        if meta is None:
            raise StorageError("the store holds no genesis block")
        return meta

    @property
    def genesis_hash(self) -> bytes:
        block_hash = self.store.get_block_hash(0)
        assert block_hash is not None
        return block_hash

    def _ensure_genesis(self) -> None:
        block, execution, nodes = build_genesis(self.genesis, self.registry, self.store)
        block_hash = compute_block_hash(block.header)
        stored = self.store.get_block_hash(0)
        if stored is None:
            self.store.commit(
                CommitBatch(
                    0,
                    block_hash,
                    encode(block),
                    [],
                    [],
                    block.header.state_root,
                    execution.writes,
                    nodes,
                )
            )
        elif stored != block_hash:
            raise ConfigError(
                "the ledger on disk was created from a different genesis file",
                hint="Point the node at the network directory it was created with.",
            )

    def _load_recent_txs(self) -> None:
        """Rebuild the replay-protection window from the last blocks."""
        height = self._last_header.height
        # Governance may have changed the lifetime: look back as far as it ever reached.
        lifetime = max(self.genesis.params.max_tx_lifetime, get_lifetime_ceiling(self._state))
        start = max(1, height - lifetime)
        for _, raw in self.store.iter_blocks(start, height):
            block = decode(raw, Block)
            bodies = (decode(decode(t, SignedTx).body, TxBody) for t in block.txs)
            txs = (decode(t, SignedTx) for t in block.txs)
            self._recent.add(
                (compute_tx_id(s.body), b.valid_until) for s, b in zip(txs, bodies, strict=True)
            )
        self._recent.prune(height + 1, every=0)

    # --- chain parameters ------------------------------------------------------------------

    @property
    def params(self) -> ChainParams:
        """The chain parameters in force at the last committed block."""
        return get_params(self._state, self.genesis.params)

    def next_block_params(self) -> ChainParams:
        """The chain parameters in force for the next block: the committed ones, with any change
        governance enacts at the start of that block."""
        return self._next_block_start().env.params

    def _next_block_start(self) -> BlockStart:
        """The committed state with the next block's start hooks applied (on a throwaway
        overlay), so admission judges a transaction as that block will: e.g. an organisation
        added at that height may send, a lowered size limit applies. Cached per height."""
        header = self._last_header
        cached = self._next_start
        if cached is not None and cached[0] == header.height:
            return cached[1]
        env = BlockEnv(
            self.chain_id,
            header.height + 1,
            header.time_ms,
            b"",
            compute_block_hash(header),
            self.genesis.params,
        )
        start = start_block(self._state, self.registry, env)
        self._next_start = (header.height, start)
        return start

    # --- check_tx --------------------------------------------------------------------------

    def check_txs(
        self, raws: Sequence[bytes], pending: Mapping[bytes, object] | None = None
    ) -> list[CheckedTx | GovchainError]:
        """Admission checks for a batch; each item is the checked tx or the reason it fails."""
        out: list[CheckedTx | GovchainError] = []
        start = self._next_block_start()
        state, height, params = start.overlay, start.env.height, start.env.params
        if self.node_key is not None:  # a node that may not order refuses to admit
            problem = get_author_problem(self._state, self.node_key.public_key, height)
            if problem is not None:
                return [_not_ordering(self.node_key.public_key) for _ in raws]
        for raw in raws:
            try:
                out.append(decode_tx(raw, self.chain_id, params, self.registry))
            except InvalidTransaction as exc:
                out.append(exc)
        checked = [c for c in out if isinstance(c, CheckedTx)]
        errors = iter(verify_tx_signatures(checked, self.sig_cache))
        for i, item in enumerate(out):
            if not isinstance(item, CheckedTx):
                continue
            if (err := next(errors)) is not None:
                out[i] = err
                continue
            try:
                check_stateful(item, state, height, params, self._recent, pending)
            except InvalidTransaction as exc:
                out[i] = exc
        return out

    # --- finalize and commit ---------------------------------------------------------------

    def finalize_block(
        self, txs: Sequence[CheckedTx], time_ms: int, proposer: bytes | None = None
    ) -> PendingBlock:
        """Execute and seal the next block from ordered transactions; persist nothing.
        ``proposer`` is the node key of the batch's author (multi-node); this node signs the
        header only when it is the proposer, otherwise the signature is left empty. A batch
        whose author is not an active node (:func:`get_author_problem`) makes a block without
        its transactions: they are dropped with ``NODE_NOT_ACTIVE``."""
        if self.node_key is None:
            raise ConfigError("this node has no block-signing key")
        state, nodes_reader, recent, prev = self._speculative_tip()
        height = prev.height + 1
        skipped = None if proposer is None else get_author_problem(state, proposer, height)
        own = (proposer is None or proposer == self.node_key.public_key) and skipped is None
        env = BlockEnv(
            self.chain_id,
            height,
            max(time_ms, prev.time_ms),
            self.node_key.public_key if proposer is None else proposer,
            compute_block_hash(prev),
            self.genesis.params,
        )
        not_run: list[CheckedTx] = []
        if skipped is not None:  # the block holds none of its transactions, on every peer
            not_run, txs = list(txs), []
        # Admitted transactions are in the signature cache, so this is nearly free; anything
        # that fails here is dropped with its reason rather than sealed into a block.
        bad = verify_tx_signatures(txs, self.sig_cache)
        good = [tx for tx, err in zip(txs, bad, strict=True) if err is None]
        execution = execute_txs(state, self.registry, env, good, recent)
        execution.dropped.extend(
            (tx, err) for tx, err in zip(txs, bad, strict=True) if err is not None
        )
        if skipped is not None:
            execution.dropped.extend((tx, skipped) for tx in not_run)
        header, nodes = seal_block(
            env, compute_block_hash(prev), prev.state_root, execution, nodes_reader
        )
        block_hash = compute_block_hash(header)
        signature = self.node_key.sign(header_sign_bytes(block_hash)) if own else b""
        block = Block(header, signature, [tx.raw for tx in execution.included])
        pending = PendingBlock(block, block_hash, execution, nodes)
        self._uncommitted.append(pending)
        return pending

    def _speculative_tip(self) -> tuple[StateReader, smt.NodeReader, ReplayGuard, BlockHeader]:
        """The state after the last *finalized* block: committed state with the writes, nodes and
        transaction ids of blocks still being committed layered on top. This lets block N+1
        execute while block N is being written to disk."""
        if not self._uncommitted:
            return self._state, self.store, self._recent, self._last_header
        state: StateReader = self._state
        nodes: smt.NodeReader = self.store
        ids: set[bytes] = set()
        for p in list(self._uncommitted):
            overlay = Overlay(state)
            overlay.writes = dict(p.execution.writes)
            state = overlay
            nodes = smt.OverlayNodeReader(nodes, p.nodes)
            ids.update(tx.tx_id for tx in p.execution.included)
        return state, nodes, _PendingGuard(ids, self._recent), self._uncommitted[-1].block.header

    def commit(self, pending: PendingBlock) -> CommittedBlock:
        """Persist a finalized block atomically."""
        ex = pending.execution
        tx_ids = [tx.tx_id for tx in ex.included]
        with self._lock:
            self.store.commit(
                CommitBatch(
                    height=pending.block.header.height,
                    block_hash=pending.block_hash,
                    block=encode(pending.block),
                    tx_ids=tx_ids,
                    receipts=[encode(r) for r in ex.receipts],
                    state_root=pending.block.header.state_root,
                    state_writes=ex.writes,
                    nodes=pending.nodes,
                )
            )
            self._state.apply_commit(ex.writes)
            self._recent.add((tx.tx_id, tx.body.valid_until) for tx in ex.included)
            self._recent.prune(pending.block.header.height + 1)
            self._last_header = pending.block.header
            if self._uncommitted and self._uncommitted[0] is pending:
                self._uncommitted.pop(0)
        changed = ex.params if PARAMS_KEY in ex.writes else None
        return CommittedBlock(
            pending.block, pending.block_hash, tx_ids, ex.receipts, ex.dropped, changed
        )

    # --- reads -----------------------------------------------------------------------------

    def get_block(self, height: int) -> Block:
        raw = self.store.get_block(height)
        if raw is None:
            raise NotFound(f"no block at height {height}", height=height)
        return decode(raw, Block)

    def get_header(self, height: int) -> BlockHeader:
        return self.get_block(height).header

    def _resolve_height(self, height: int | None) -> int:
        latest = self.info().height
        if height is None:
            return latest
        if not 0 <= height <= latest:
            raise NotFound(f"no block at height {height}; the chain is at {latest}")
        return height

    def query(
        self, contract: str, view: str, args: Mapping[str, Any], height: int | None = None
    ) -> Any:
        """Run a contract's read-only view against the state after ``height``."""
        h = self._resolve_height(height)
        c = self.registry.get(contract)
        v = c.views.get(view)
        if v is None:
            raise UnknownView(f"contract {contract!r} has no view {view!r}", known=sorted(c.views))
        try:
            parsed = msgspec.convert(dict(args), type=v.args_type, strict=False)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"{contract}.{view}: {exc}") from exc
        return v.handler(ReadContext(contract, StoreState(self.store, h), h), parsed)

    def latest_context(self, contract: str) -> ReadContext:
        """Read-only access to ``contract``'s latest committed state (cached; ``height`` is the
        last committed block's)."""
        return ReadContext(contract, self._state, self._last_header.height)

    def prove_state(self, key: bytes, height: int | None = None) -> StateProofResult:
        """A key's value (or absence) after ``height`` with a proof against that block's root."""
        h = self._resolve_height(height)
        header = self.get_header(h)
        value = self.store.get_state(key, h)
        proof = smt.build_proof(self.store, header.state_root, key)
        return StateProofResult(key, value, h, header, proof)


class _PendingGuard:
    """Replay guard over committed ids plus the ids of blocks still being committed."""

    def __init__(self, pending: set[bytes], committed: ReplayGuard) -> None:
        self._pending = pending
        self._committed = committed

    def is_committed(self, tx_id: bytes) -> bool:
        return tx_id in self._pending or self._committed.is_committed(tx_id)


def get_author_problem(state: StateReader, proposer: bytes, height: int) -> NodeNotActive | None:
    """Why the batch of node key ``proposer`` may not fill block ``height`` (None when it may):
    its author must be an active node at that height, judged on the state before the block, so
    every peer decides alike. Such a batch still makes a block, without its transactions."""
    if is_active_node_key(ReadContext("", state, height), proposer, height):
        return None
    return NodeNotActive(
        f"block {height}: the batch's author (node key {proposer.hex()[:16]}…) is not an active "
        "node, so its transactions were not executed",
        height=height,
    )


def _not_ordering(node_key: bytes) -> NodeNotActive:
    return NodeNotActive(
        "this peer's node is not an active node of the chain, so it takes no transactions",
        node_key=node_key.hex(),
    )
