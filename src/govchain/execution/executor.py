"""The pure state transition.

``execute_txs`` runs transactions on an overlay over committed state and returns receipts and
writes; ``seal_block`` turns that outcome into a header with its Merkle roots; ``replay_block``
re-checks a block someone else built (or one read back from disk) and raises
:class:`InvalidBlock` naming what differs. Nothing here touches a database, a clock or the
network: committed state, the sparse-Merkle node reader and the replay guard are explicit inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import msgspec

from govchain.contracts.base import Context, ReadContext
from govchain.contracts.governance import get_params
from govchain.contracts.identity import get_identity_by_key, is_active_sender, is_key_valid_at
from govchain.contracts.registry import ContractRegistry
from govchain.crypto.hashing import ZERO_HASH
from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import encode
from govchain.errors import (
    ExpiredTransaction,
    GovchainError,
    InvalidBlock,
    InvalidTransaction,
    OversizedTransaction,
    ReplayedTransaction,
    UnknownSender,
)
from govchain.execution.admission import (
    CheckedTx,
    SignatureCache,
    decode_tx,
    verify_tx_signatures,
)
from govchain.merkle import rfc6962, smt
from govchain.state.overlay import Overlay, StateReader
from govchain.types import (
    Block,
    BlockHeader,
    ChainParams,
    Genesis,
    Receipt,
    block_hash_state_key,
    compute_block_hash,
    compute_genesis_digest,
    header_sign_bytes,
)

__all__ = [
    "BlockEnv",
    "BlockStart",
    "Execution",
    "ReplayGuard",
    "apply_tx",
    "build_genesis",
    "check_stateful",
    "execute_txs",
    "replay_block",
    "run_txs",
    "seal_block",
    "start_block",
]


CONTRACT_FAILURE = "CONTRACT_FAILURE"


class ReplayGuard(Protocol):
    def is_committed(self, tx_id: bytes) -> bool:
        """Whether a transaction with this id is already on chain."""


@dataclass(frozen=True, slots=True)
class BlockEnv:
    chain_id: str
    height: int
    time_ms: int
    proposer: bytes
    prev_hash: bytes  # the previous block's hash, committed to state by start_block
    params: ChainParams  # given: a fallback; from start_block: the parameters in force


@dataclass(frozen=True, slots=True)
class BlockStart:
    """A block after its start-of-block hooks: the overlay they wrote to, and the environment
    with the chain parameters in force at this height (a parameter change enacted by this
    block's hooks applies to this block's transactions)."""

    overlay: Overlay
    env: BlockEnv


@dataclass(slots=True)
class Execution:
    """The outcome of executing transactions: nothing is persisted yet."""

    included: list[CheckedTx] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    dropped: list[tuple[CheckedTx, InvalidTransaction]] = field(default_factory=list)
    writes: dict[bytes, bytes | None] = field(default_factory=dict)
    params: ChainParams | None = None  # the chain parameters in force for the block


def check_stateful(
    tx: CheckedTx,
    state: StateReader,
    height: int,
    params: ChainParams,
    seen: ReplayGuard,
    in_block: Mapping[bytes, object] | None = None,
) -> None:
    """Checks that depend on the chain: size and lifetime under the parameters in force at
    ``height``, replay, and that the sender is known."""
    body = tx.body
    if len(tx.raw) > params.max_tx_bytes:
        raise OversizedTransaction(
            f"transaction is {len(tx.raw)} bytes; the limit at height {height} is "
            f"{params.max_tx_bytes}",
            size=len(tx.raw),
            limit=params.max_tx_bytes,
        )
    if body.valid_until < height:
        raise ExpiredTransaction(
            f"transaction expired at height {body.valid_until}; the chain is at {height}",
            valid_until=body.valid_until,
            height=height,
        )
    if body.valid_until > height + params.max_tx_lifetime:
        raise ExpiredTransaction(
            f"valid_until {body.valid_until} is more than "
            f"{params.max_tx_lifetime} blocks ahead of height {height}"
        )
    if (in_block is not None and tx.tx_id in in_block) or seen.is_committed(tx.tx_id):
        raise ReplayedTransaction(
            f"transaction {tx.tx_id.hex()} is already on chain", tx_id=tx.tx_id.hex()
        )
    if not tx.method.open and not is_active_sender(
        ReadContext("", state, height), body.sender, height
    ):
        raise UnknownSender(
            f"key {body.sender.hex()} is not an active key of an active identity on this chain"
        )


def apply_tx(overlay: Overlay, registry: ContractRegistry, env: BlockEnv, tx: CheckedTx) -> Receipt:
    """Run one transaction's method; its writes reach ``overlay`` only if it succeeds."""
    child = overlay.child()
    ctx = Context(
        tx.body.contract,
        child,
        chain_id=env.chain_id,
        height=env.height,
        time_ms=env.time_ms,
        tx_id=tx.tx_id,
        sender=tx.body.sender,
        signers=tx.signers,
    )
    try:
        result = tx.method.handler(ctx, tx.args)
    except GovchainError as exc:  # ContractError and anything typed a contract lets through
        return Receipt(tx.tx_id, False, exc.code, exc.message, exc.hint)
    except Exception as exc:  # a contract bug: recorded, deterministic, never a halted chain
        return Receipt(
            tx.tx_id,
            False,
            CONTRACT_FAILURE,
            f"the contract failed: {type(exc).__name__}",
            "Report this to the platform operator.",
        )
    child.merge_into_parent(overlay)
    return Receipt(tx.tx_id, True, events=ctx.events, result=msgspec.Raw(encode(result)))


def execute_txs(
    state: StateReader,
    registry: ContractRegistry,
    env: BlockEnv,
    txs: Sequence[CheckedTx],
    seen: ReplayGuard,
) -> Execution:
    """Run the block's start hooks, then its transactions in order. Those that fail a stateful
    check are dropped (a block builder reports them to their senders; a block validator rejects
    the block)."""
    return run_txs(start_block(state, registry, env), registry, txs, seen)


def start_block(state: StateReader, registry: ContractRegistry, env: BlockEnv) -> BlockStart:
    """Record the previous block's hash in the state (the block-hash history, see
    :func:`~govchain.types.block.block_hash_state_key`), run each contract's start-of-block hook
    on a new overlay over ``state`` and read the chain parameters in force from the result
    (``env.params`` when none are in state)."""
    overlay = Overlay(state)
    if env.height > 0:
        overlay.set(block_hash_state_key(env.height - 1), env.prev_hash)
    _run_block_hooks(overlay, registry, env)
    params = get_params(overlay, env.params)
    return BlockStart(overlay, replace(env, params=params))


def run_txs(
    start: BlockStart, registry: ContractRegistry, txs: Sequence[CheckedTx], seen: ReplayGuard
) -> Execution:
    """Execute transactions on a started block (see :func:`execute_txs`)."""
    overlay, env = start.overlay, start.env
    out = Execution(params=env.params)
    in_block: dict[bytes, None] = {}
    for tx in txs:
        try:
            check_stateful(tx, overlay, env.height, env.params, seen, in_block)
        except InvalidTransaction as exc:
            out.dropped.append((tx, exc))
            continue
        in_block[tx.tx_id] = None
        out.included.append(tx)
        out.receipts.append(apply_tx(overlay, registry, env, tx))
    out.writes = overlay.writes
    return out


def _run_block_hooks(overlay: Overlay, registry: ContractRegistry, env: BlockEnv) -> None:
    """Each contract's start-of-block step, in registry order (e.g. enacting proposals)."""
    for contract in registry:
        ctx = Context(
            contract.name,
            overlay,
            chain_id=env.chain_id,
            height=env.height,
            time_ms=env.time_ms,
            tx_id=ZERO_HASH,
            sender=b"",
            signers=frozenset(),
        )
        contract.on_block(ctx)


def seal_block(
    env: BlockEnv,
    prev_hash: bytes,
    prev_state_root: bytes,
    execution: Execution,
    nodes: smt.NodeReader,
) -> tuple[BlockHeader, dict[bytes, bytes]]:
    """Compute the roots over an execution and return the header and the new state nodes."""
    state_root, new_nodes = smt.apply_updates(nodes, prev_state_root, execution.writes)
    header = BlockHeader(
        chain_id=env.chain_id,
        height=env.height,
        prev_hash=prev_hash,
        time_ms=env.time_ms,
        tx_count=len(execution.included),
        tx_root=rfc6962.compute_root([tx.raw for tx in execution.included]),
        receipts_root=rfc6962.compute_root([encode(r) for r in execution.receipts]),
        state_root=state_root,
        proposer=env.proposer,
    )
    return header, new_nodes


def build_genesis(
    genesis: Genesis, registry: ContractRegistry, nodes: smt.NodeReader
) -> tuple[Block, Execution, dict[bytes, bytes]]:
    """Block 0: the contracts' initial state; ``prev_hash`` is the genesis document's digest."""
    overlay = Overlay(_EmptyState())
    for contract in registry:
        ctx = Context(
            contract.name,
            overlay,
            chain_id=genesis.chain_id,
            height=0,
            time_ms=genesis.genesis_time_ms,
            tx_id=ZERO_HASH,
            sender=b"",
            signers=frozenset(),
        )
        contract.init_genesis(ctx, genesis)
    env = BlockEnv(
        genesis.chain_id,
        0,
        genesis.genesis_time_ms,
        b"",
        compute_genesis_digest(genesis),
        genesis.params,
    )
    execution = Execution(writes=overlay.writes, params=get_params(overlay, genesis.params))
    header, new_nodes = seal_block(
        env, compute_genesis_digest(genesis), smt.EMPTY_ROOT, execution, nodes
    )
    return Block(header, b"", []), execution, new_nodes


def replay_block(
    state: StateReader,
    nodes: smt.NodeReader,
    registry: ContractRegistry,
    params: ChainParams,
    prev: BlockHeader,
    block: Block,
    seen: ReplayGuard,
    cache: SignatureCache | None = None,
    on_tx: Callable[[int], None] | None = None,
    *,
    authority_checked: bool = False,
) -> tuple[Execution, dict[bytes, bytes]]:
    """Re-check a block against its predecessor; raise :class:`InvalidBlock` on the first fault.
    The block's transactions are checked under the chain parameters in force at its height
    (read from state after its start hooks; ``params`` when the state holds none).

    The header's authority is its proposer's signature by a registered node key, unless
    ``authority_checked``: the caller established it otherwise (a finality certificate of the
    founding peers over the block's hash and state root — a peer that did not propose a block
    stores it unsigned), and the proposer is then not checked."""
    h = block.header
    _check_linkage(prev, block)
    if not authority_checked:
        _check_proposer(block, state)
    env = BlockEnv(h.chain_id, h.height, h.time_ms, h.proposer, h.prev_hash, params)
    start = start_block(state, registry, env)
    checked = []
    for i, raw in enumerate(block.txs):
        try:
            checked.append(decode_tx(raw, h.chain_id, start.env.params, registry))
        except InvalidTransaction as exc:
            raise InvalidBlock(
                f"block {h.height}: transaction {i} is invalid: {exc.message}",
                height=h.height,
                reason=exc.code,
            ) from exc
    for i, err in enumerate(verify_tx_signatures(checked, cache)):
        if err is not None:
            raise InvalidBlock(
                f"block {h.height}: transaction {i} has a bad signature",
                height=h.height,
                reason=err.code,
            )
    execution = run_txs(start, registry, checked, seen)
    env = start.env
    if execution.dropped:
        tx, why = execution.dropped[0]
        raise InvalidBlock(
            f"block {h.height}: transaction {tx.tx_id.hex()} may not be included: {why.message}",
            height=h.height,
            reason=why.code,
        )
    header, new_nodes = seal_block(env, h.prev_hash, prev.state_root, execution, nodes)
    for name in ("tx_count", "tx_root", "receipts_root", "state_root"):
        if getattr(header, name) != getattr(h, name):
            raise InvalidBlock(
                f"block {h.height}: {name} does not match the recomputed value",
                height=h.height,
                reason=name.upper() + "_MISMATCH",
            )
    if on_tx is not None:
        on_tx(len(block.txs))
    return execution, new_nodes


def _check_linkage(prev: BlockHeader, block: Block) -> None:
    h = block.header
    if h.chain_id != prev.chain_id:
        raise InvalidBlock(
            f"block {h.height}: chain id {h.chain_id!r} differs from the chain's",
            height=h.height,
            reason="CHAIN_ID_MISMATCH",
        )
    if h.height != prev.height + 1:
        raise InvalidBlock(
            f"block {h.height} does not follow block {prev.height}",
            height=h.height,
            reason="HEIGHT_GAP",
        )
    if h.prev_hash != compute_block_hash(prev):
        raise InvalidBlock(
            f"block {h.height}: prev_hash does not match block {prev.height}",
            height=h.height,
            reason="PREV_HASH_MISMATCH",
        )
    if h.time_ms < prev.time_ms:
        raise InvalidBlock(
            f"block {h.height}: time goes backwards", height=h.height, reason="TIME_BACKWARDS"
        )


def _check_proposer(block: Block, state: StateReader) -> None:
    """The proposer is an active node key at the block's height and signed the header."""
    h = block.header
    node = get_identity_by_key(ReadContext("", state, h.height), h.proposer)
    if (
        node is None
        or node.kind != "node"
        or node.status != "active"
        or not is_key_valid_at(node, h.proposer, h.height)
    ):
        raise InvalidBlock(
            f"block {h.height}: proposer is not a registered node",
            height=h.height,
            reason="UNKNOWN_PROPOSER",
        )
    message = header_sign_bytes(compute_block_hash(h))
    if not get_scheme(ED25519).verify(h.proposer, message, block.proposer_signature):
        raise InvalidBlock(
            f"block {h.height}: the proposer's signature is invalid",
            height=h.height,
            reason="BAD_PROPOSER_SIGNATURE",
        )


class _EmptyState:
    def get(self, key: bytes) -> bytes | None:
        return None

    def iter_prefix(self, prefix: bytes):  # type: ignore[no-untyped-def]
        return iter(())
