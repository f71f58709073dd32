"""The pure state transition: admission checks, transaction execution, block sealing and replay."""

from govchain.execution.admission import (
    CheckedTx,
    SignatureCache,
    decode_tx,
    verify_tx_signatures,
)
from govchain.execution.executor import (
    BlockEnv,
    BlockStart,
    Execution,
    ReplayGuard,
    apply_tx,
    build_genesis,
    check_stateful,
    execute_txs,
    replay_block,
    run_txs,
    seal_block,
    start_block,
)
from govchain.execution.recent import RecentTxIndex

__all__ = [
    "BlockEnv",
    "BlockStart",
    "CheckedTx",
    "Execution",
    "RecentTxIndex",
    "ReplayGuard",
    "SignatureCache",
    "apply_tx",
    "build_genesis",
    "check_stateful",
    "decode_tx",
    "execute_txs",
    "replay_block",
    "run_txs",
    "seal_block",
    "start_block",
    "verify_tx_signatures",
]
