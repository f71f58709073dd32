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

__all__ = [
    "BlockEnv",
    "CheckedTx",
    "Execution",
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
