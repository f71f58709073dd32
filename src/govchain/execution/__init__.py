"""The pure state transition: admission checks, transaction execution, block sealing and replay."""

from govchain.execution.admission import (
    CheckedTx,
    SignatureCache,
    decode_tx,
    verify_tx_signatures,
)
from govchain.execution.executor import (
    BlockEnv,
    Execution,
    ReplayGuard,
    apply_tx,
    build_genesis,
    check_stateful,
    execute_txs,
    replay_block,
    seal_block,
)
from govchain.execution.recent import RecentTxIndex

__all__ = [
    "BlockEnv",
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
    "seal_block",
    "verify_tx_signatures",
]
