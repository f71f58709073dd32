"""RFC 6962 Merkle trees: the tree of transactions or receipts in a block, and inclusion proofs.

Hashing follows RFC 6962 (and transparency-dev/merkle): a leaf hashes as ``SHA-256(0x00 || data)``,
an interior node as ``SHA-256(0x01 || left || right)``, the empty tree as ``SHA-256("")``. A tree of
``n`` leaves splits at the largest power of two smaller than ``n``; building the tree level by level
and promoting an unpaired last node unchanged yields exactly that shape.

Proof building is apart from proof checking: :func:`verify_inclusion` implements the verification
algorithm of RFC 9162, section 2.1.3.2, and raises a typed :class:`~govchain.errors.ProofError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from govchain.crypto.hashing import sha256
from govchain.errors import MalformedProof, RootMismatch

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InclusionProof",
    "build_inclusion_proof",
    "compute_root",
    "get_inclusion_path_length",
    "hash_children",
    "hash_leaf",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"")

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class InclusionProof(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    """The audit path of leaf ``index`` in a tree of ``size`` leaves, from the leaf upwards."""

    index: int
    size: int
    path: list[bytes]


def hash_leaf(data: bytes) -> bytes:
    """The RFC 6962 hash of a leaf: ``SHA-256(0x00 || data)``."""
    return sha256(_LEAF_PREFIX + data)


def hash_children(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return sha256(_NODE_PREFIX + left + right)


def _next_level(level: list[bytes]) -> list[bytes]:
    paired = [hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        paired.append(level[-1])
    return paired


def compute_root(leaves: Sequence[bytes]) -> bytes:
    """The root over raw leaf data (not leaf hashes); :data:`EMPTY_ROOT` for no leaves."""
    if not leaves:
        return EMPTY_ROOT
    level = [hash_leaf(data) for data in leaves]
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def build_inclusion_proof(leaves: Sequence[bytes], index: int) -> InclusionProof:
    """The inclusion proof of ``leaves[index]`` in the tree over ``leaves`` (raw leaf data)."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"leaf index must be an int, not {type(index).__name__}")
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    level = [hash_leaf(data) for data in leaves]
    path: list[bytes] = []
    position = index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        level = _next_level(level)
        position >>= 1
    return InclusionProof(index=index, size=len(leaves), path=path)


def get_inclusion_path_length(index: int, size: int) -> int:
    """How many hashes the audit path of leaf ``index`` in a tree of ``size`` leaves holds."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _check_proof_shape(proof: InclusionProof) -> None:
    index, size = proof.index, proof.size
    for name, value in (("index", index), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MalformedProof(f"inclusion proof {name} must be a non-negative integer")
    if index >= size:
        raise MalformedProof(f"leaf index {index} is outside a tree of {size} leaves")
    expected = get_inclusion_path_length(index, size)
    if len(proof.path) != expected:
        raise MalformedProof(
            f"inclusion path for leaf {index} of {size} must hold {expected} hashes, "
            f"not {len(proof.path)}"
        )
    for position, node in enumerate(proof.path):
        if not isinstance(node, bytes) or len(node) != HASH_SIZE:
            raise MalformedProof(f"inclusion path entry {position} is not a {HASH_SIZE}-byte hash")


def _root_from_path(leaf_hash: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """RFC 9162, 2.1.3.2, steps 2 to 5 (the path length was checked beforehand)."""
    fn, sn = index, size - 1
    result = leaf_hash
    for node in path:
        if sn == 0:
            raise MalformedProof("inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = hash_children(node, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = hash_children(result, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MalformedProof("inclusion path is shorter than the tree is deep")
    return result


def verify_inclusion(leaf_data: bytes, proof: InclusionProof, root: bytes) -> None:
    """Check that ``leaf_data`` is leaf ``proof.index`` of the tree of ``proof.size`` with ``root``.

    Raises :class:`MalformedProof` for a proof that cannot be right for any tree (index outside the
    tree, wrong path length, hashes that are not 32 bytes) and :class:`RootMismatch` when the proof
    is well formed but does not lead to ``root``.
    """
    _check_proof_shape(proof)
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise RootMismatch(f"the trusted root is not a {HASH_SIZE}-byte hash")
    computed = _root_from_path(hash_leaf(leaf_data), proof.index, proof.size, proof.path)
    if computed != root:
        raise RootMismatch(
            f"inclusion proof for leaf {proof.index} of {proof.size} leads to root "
            f"{computed.hex()}, not to the trusted root {root.hex()}"
        )
