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

from govchain.app.readers import StoreReplayGuard, StoreState
from govchain.contracts.base import ReadContext
from govchain.contracts.registry import ContractRegistry
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, encode
from govchain.errors import (
    BadRequest,
    ConfigError,
    GovchainError,
    InvalidTransaction,
    NotFound,
    StorageError,
    UnknownContract,
)
from govchain.execution import (
    BlockEnv,
    CheckedTx,
    Execution,
    SignatureCache,
    build_genesis,
    check_stateful,
    decode_tx,
    execute_txs,
    seal_block,
    verify_tx_signatures,
)
from govchain.merkle import smt
from govchain.storage.base import ChainMeta, CommitBatch, LedgerStore
from govchain.types import (
    Block,
    BlockHeader,
    Genesis,
    compute_block_hash,
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


@dataclass(frozen=True, slots=True)
class StateProofResult:
    key: bytes
    value: bytes | None
    height: int
    header: BlockHeader
    proof: smt.StateProof


class Application:
    def __init__(self, store: LedgerStore, genesis: Genesis, registry: ContractRegistry,
                 node_key: KeyPair | None = None) -> None:
        self.store = store
        self.genesis = genesis
        self.registry = registry
        self.node_key = node_key
        self.sig_cache = SignatureCache()
        self._guard = StoreReplayGuard(store)
        self._lock = threading.Lock()  # finalize/commit are sequential
        self._ensure_genesis()
        self._last_header = self.get_header(self.info().height)

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
            self.store.commit(CommitBatch(0, block_hash, encode(block), [], [],
                                          block.header.state_root, execution.writes, nodes))
        elif stored != block_hash:
            raise ConfigError("the ledger on disk was created from a different genesis file",
                              hint="Point the node at the network directory it was created with.")

    # --- check_tx --------------------------------------------------------------------------

    def check_txs(self, raws: Sequence[bytes],
                  pending: Mapping[bytes, object] | None = None) -> list[CheckedTx | GovchainError]:
        """Admission checks for a batch; each item is the checked tx or the reason it fails."""
        out: list[CheckedTx | GovchainError] = []
        for raw in raws:
            try:
                out.append(decode_tx(raw, self.chain_id, self.genesis.params, self.registry))
            except InvalidTransaction as exc:
                out.append(exc)
        checked = [c for c in out if isinstance(c, CheckedTx)]
        errors = iter(verify_tx_signatures(checked, self.sig_cache))
        state, height = StoreState(self.store), self.info().height + 1
        for i, item in enumerate(out):
            if not isinstance(item, CheckedTx):
                continue
            if (err := next(errors)) is not None:
                out[i] = err
                continue
            try:
                check_stateful(item, state, height, self.genesis.params, self._guard, pending)
            except InvalidTransaction as exc:
                out[i] = exc
        return out

    # --- finalize and commit ---------------------------------------------------------------

    def finalize_block(self, txs: Sequence[CheckedTx], time_ms: int) -> PendingBlock:
        """Execute and seal the next block from ordered transactions; persist nothing."""
        if self.node_key is None:
            raise ConfigError("this node has no block-signing key")
        prev = self._last_header
        env = BlockEnv(self.chain_id, prev.height + 1, max(time_ms, prev.time_ms),
                       self.node_key.public_key, self.genesis.params)
        verify_tx_signatures(txs, self.sig_cache)  # cached for admitted txs: nearly free
        execution = execute_txs(StoreState(self.store), self.registry, env, txs, self._guard)
        header, nodes = seal_block(env, compute_block_hash(prev), prev.state_root, execution,
                                   self.store)
        block_hash = compute_block_hash(header)
        signature = self.node_key.sign(header_sign_bytes(block_hash))
        block = Block(header, signature, [tx.raw for tx in execution.included])
        return PendingBlock(block, block_hash, execution, nodes)

    def commit(self, pending: PendingBlock) -> CommittedBlock:
        """Persist a finalized block atomically."""
        ex = pending.execution
        tx_ids = [tx.tx_id for tx in ex.included]
        with self._lock:
            self.store.commit(CommitBatch(
                height=pending.block.header.height, block_hash=pending.block_hash,
                block=encode(pending.block), tx_ids=tx_ids,
                receipts=[encode(r) for r in ex.receipts],
                state_root=pending.block.header.state_root, state_writes=ex.writes,
                nodes=pending.nodes))
            self._last_header = pending.block.header
        return CommittedBlock(pending.block, pending.block_hash, tx_ids, ex.receipts, ex.dropped)

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

    def query(self, contract: str, view: str, args: Mapping[str, Any],
              height: int | None = None) -> Any:
        """Run a contract's read-only view against the state after ``height``."""
        h = self._resolve_height(height)
        c = self.registry.get(contract)
        v = c.views.get(view)
        if v is None:
            raise UnknownContract(f"contract {contract!r} has no view {view!r}",
                                  known=sorted(c.views))
        try:
            parsed = msgspec.convert(dict(args), type=v.args_type, strict=False)
        except msgspec.ValidationError as exc:
            raise BadRequest(f"{contract}.{view}: {exc}") from exc
        return v.handler(ReadContext(contract, StoreState(self.store, h), h), parsed)

    def prove_state(self, key: bytes, height: int | None = None) -> StateProofResult:
        """A key's value (or absence) after ``height`` with a proof against that block's root."""
        h = self._resolve_height(height)
        header = self.get_header(h)
        value = self.store.get_state(key, h)
        proof = smt.build_proof(self.store, header.state_root, key)
        return StateProofResult(key, value, h, header, proof)
