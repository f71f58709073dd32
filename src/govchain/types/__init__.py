"""The ledger's data types. Every hashed or signed type is a msgspec Struct without floats."""

from govchain.types.block import (
    Block,
    BlockHeader,
    block_hash_state_key,
    compute_block_hash,
    header_sign_bytes,
)
from govchain.types.genesis import (
    ChainParams,
    Genesis,
    GenesisNode,
    GenesisOrg,
    compute_genesis_digest,
)
from govchain.types.receipt import Event, Receipt, compute_receipt_leaf
from govchain.types.transaction import (
    Signature,
    SignedTx,
    TxBody,
    compute_tx_hash,
    compute_tx_id,
    tx_sign_bytes,
)

__all__ = [
    "ChainParams",
    "Genesis",
    "GenesisNode",
    "GenesisOrg",
    "compute_genesis_digest",
    "Block",
    "BlockHeader",
    "block_hash_state_key",
    "Event",
    "Receipt",
    "Signature",
    "SignedTx",
    "TxBody",
    "compute_block_hash",
    "compute_receipt_leaf",
    "compute_tx_hash",
    "compute_tx_id",
    "header_sign_bytes",
    "tx_sign_bytes",
]
