"""Merkle trees: RFC 6962 trees over a block's items and the sparse Merkle tree of the state.

Both modules define an ``EMPTY_ROOT``; they are re-exported here as :data:`EMPTY_TREE_ROOT`
(RFC 6962, ``SHA-256("")``) and :data:`EMPTY_STATE_ROOT` (sparse Merkle tree, 32 zero bytes).
"""

from govchain.merkle import rfc6962, smt
from govchain.merkle.rfc6962 import (
    InclusionProof,
    build_inclusion_proof,
    compute_root,
    get_inclusion_path_length,
    hash_children,
    hash_leaf,
    verify_inclusion,
)
from govchain.merkle.smt import (
    InternalNode,
    LeafNode,
    MemoryNodeStore,
    NodeReader,
    OverlayNodeReader,
    ProofLeaf,
    StateProof,
    apply_updates,
    build_proof,
    compute_key_path,
    decode_node,
    decode_state_proof,
    encode_state_proof,
    get_value_hash,
    verify_absence,
    verify_membership,
    verify_state_proof,
)

EMPTY_TREE_ROOT = rfc6962.EMPTY_ROOT
EMPTY_STATE_ROOT = smt.EMPTY_ROOT

__all__ = [
    "EMPTY_STATE_ROOT",
    "EMPTY_TREE_ROOT",
    "InclusionProof",
    "InternalNode",
    "LeafNode",
    "MemoryNodeStore",
    "NodeReader",
    "OverlayNodeReader",
    "ProofLeaf",
    "StateProof",
    "apply_updates",
    "build_inclusion_proof",
    "build_proof",
    "compute_key_path",
    "compute_root",
    "decode_node",
    "decode_state_proof",
    "encode_state_proof",
    "get_inclusion_path_length",
    "get_value_hash",
    "hash_children",
    "hash_leaf",
    "rfc6962",
    "smt",
    "verify_absence",
    "verify_inclusion",
    "verify_membership",
    "verify_state_proof",
]
