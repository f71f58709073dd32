"""The authenticated world state: a sparse Merkle tree over 256-bit key paths.

A state key sits at the path ``SHA-256(key)``. The tree has the canonical shape of Diem's and
Aptos' sparse Merkle tree: an empty subtree is :data:`EMPTY_ROOT` (32 zero bytes), a subtree that
holds exactly one leaf *is* that leaf, and only a subtree with two or more leaves is an internal
node. The root therefore depends only on the set of (key, value) pairs, never on the order of the
updates, and an update costs about ``log2(n)`` hashes instead of 256.

    leaf hash      = tagged_hash("govchain/smt/leaf", key_path || SHA-256(value))
    internal hash  = tagged_hash("govchain/smt/node", left || right)

Nodes are content-addressed and immutable: :func:`apply_updates` never changes a node, it returns
the new ones for the caller to persist, so every historical root stays readable and provable.

A :class:`StateProof` carries the siblings from the root down to where the key's path ends (a
bitmap marks the non-empty ones, only those are carried) and the leaf found there, if any: the
key's own leaf proves membership, another key's leaf or no leaf at all proves absence.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Mapping
from operator import itemgetter
from typing import Protocol

import msgspec

from govchain.crypto.hashing import sha256
from govchain.encoding import encode
from govchain.errors import MalformedProof, RootMismatch, StorageError, WrongProofKind

__all__ = [
    "EMPTY_ROOT",
    "MAX_DEPTH",
    "InternalNode",
    "LeafNode",
    "MemoryNodeStore",
    "NodeReader",
    "OverlayNodeReader",
    "ProofLeaf",
    "StateProof",
    "apply_updates",
    "build_proof",
    "compute_key_path",
    "decode_node",
    "decode_state_proof",
    "encode_state_proof",
    "get_value_hash",
    "verify_absence",
    "verify_membership",
    "verify_state_proof",
]

HASH_SIZE = 32
MAX_DEPTH = 256
EMPTY_ROOT = b"\x00" * HASH_SIZE

_LEAF_TAG = b"govchain/smt/leaf"
_NODE_TAG = b"govchain/smt/node"


# --- nodes ---------------------------------------------------------------------------------------


class LeafNode(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True, tag=0):
    """A subtree holding one key: its path and the hash of its value."""

    key_path: bytes
    value_hash: bytes


class InternalNode(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True, tag=1):
    """A subtree holding two or more keys; an empty child is :data:`EMPTY_ROOT`."""

    left: bytes
    right: bytes


_node_decoder = msgspec.msgpack.Decoder(LeafNode | InternalNode)


def decode_node(data: bytes) -> LeafNode | InternalNode:
    """A stored node from its canonical bytes; :class:`StorageError` if they are corrupt."""
    try:
        node = _node_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise StorageError(f"corrupt sparse-Merkle node: {exc}") from exc
    return node


def compute_key_path(key: bytes) -> bytes:
    """Where a state key sits in the tree: ``SHA-256(key)``."""
    return sha256(key)


# tagged_hash(tag, data) = SHA-256(tag || 0x00 || data): the tagged prefix is hashed once here, and
# each node's hash continues a copy of that state.
_LEAF_PREFIX = hashlib.sha256(_LEAF_TAG + b"\x00")
_NODE_PREFIX = hashlib.sha256(_NODE_TAG + b"\x00")


def _leaf_hash(key_path: bytes, value_hash: bytes) -> bytes:
    hasher = _LEAF_PREFIX.copy()
    hasher.update(key_path + value_hash)
    return hasher.digest()


def _internal_hash(left: bytes, right: bytes) -> bytes:
    hasher = _NODE_PREFIX.copy()
    hasher.update(left + right)
    return hasher.digest()


# --- node storage --------------------------------------------------------------------------------


class NodeReader(Protocol):
    def get_node(self, node_hash: bytes) -> bytes | None:
        """The canonical bytes of the node with this hash, or ``None`` if it is unknown."""
        ...


class MemoryNodeStore:
    """Nodes in a dict: the reference store for tests, benchmarks and genesis."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: Mapping[bytes, bytes] | None = None) -> None:
        self.nodes: dict[bytes, bytes] = dict(nodes or {})

    def get_node(self, node_hash: bytes) -> bytes | None:
        return self.nodes.get(node_hash)

    def put_nodes(self, nodes: Mapping[bytes, bytes]) -> None:
        self.nodes.update(nodes)

    def __len__(self) -> int:
        return len(self.nodes)


class OverlayNodeReader:
    """Nodes not yet persisted (``overlay``) in front of a ``base`` reader."""

    __slots__ = ("base", "overlay")

    def __init__(self, base: NodeReader, overlay: Mapping[bytes, bytes]) -> None:
        self.base = base
        self.overlay = overlay

    def get_node(self, node_hash: bytes) -> bytes | None:
        data = self.overlay.get(node_hash)
        return data if data is not None else self.base.get_node(node_hash)


def _load(reader: NodeReader, node_hash: bytes) -> LeafNode | InternalNode:
    data = reader.get_node(node_hash)
    if data is None:
        raise StorageError(f"sparse-Merkle node {node_hash.hex()} is missing from the store")
    return decode_node(data)


def _check_root(root: bytes) -> None:
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise ValueError(f"a state root is a {HASH_SIZE}-byte hash")


# --- batched updates -----------------------------------------------------------------------------

# One pending leaf: (path as int, path, value hash or None to delete, hash if the node exists).
_Item = tuple[int, bytes, bytes | None, bytes | None]
_path_int = itemgetter(0)


class _Batch:
    """One call of :func:`apply_updates`: the sorted updates and the nodes created so far."""

    __slots__ = ("items", "new_nodes", "reader")

    def __init__(self, reader: NodeReader, items: list[_Item]) -> None:
        self.reader = reader
        self.items = items
        self.new_nodes: dict[bytes, bytes] = {}

    def update(self, node_hash: bytes, depth: int, lo: int, hi: int) -> tuple[bytes, bool]:
        """Apply ``items[lo:hi]`` to the subtree ``node_hash`` at ``depth``: (hash, is_leaf)."""
        if node_hash == EMPTY_ROOT:
            inserts = [item for item in self.items[lo:hi] if item[2] is not None]
            return self.build(inserts, depth, 0, len(inserts))
        node = _load(self.reader, node_hash)
        if type(node) is LeafNode:
            return self.merge_leaf(node_hash, node, depth, lo, hi)
        assert isinstance(node, InternalNode)
        if depth >= MAX_DEPTH:
            raise StorageError(f"sparse-Merkle node {node_hash.hex()} lies below the deepest level")
        mid = _split(self.items, depth, lo, hi)
        left, left_is_leaf = node.left, None
        right, right_is_leaf = node.right, None
        if lo < mid:
            left, left_is_leaf = self.update(node.left, depth + 1, lo, mid)
        if mid < hi:
            right, right_is_leaf = self.update(node.right, depth + 1, mid, hi)
        if left == node.left and right == node.right:
            return node_hash, False
        if right == EMPTY_ROOT and self.is_leaf(left, left_is_leaf):
            return left, left != EMPTY_ROOT
        if left == EMPTY_ROOT and self.is_leaf(right, right_is_leaf):
            return right, True
        return self.put_internal(left, right), False

    def is_leaf(self, node_hash: bytes, known: bool | None) -> bool:
        """Whether a subtree collapses upwards (an empty subtree counts: it vanishes too)."""
        if node_hash == EMPTY_ROOT:
            return True
        if known is not None:
            return known
        return type(_load(self.reader, node_hash)) is LeafNode

    def merge_leaf(
        self, leaf_hash: bytes, leaf: LeafNode, depth: int, lo: int, hi: int
    ) -> tuple[bytes, bool]:
        """Apply updates to a subtree that is one leaf: rebuild it from the merged key set."""
        merged: list[_Item] = []
        replaced = False
        for item in self.items[lo:hi]:
            if item[1] == leaf.key_path:
                replaced = True
                if item[2] == leaf.value_hash:
                    item = (item[0], item[1], item[2], leaf_hash)
            if item[2] is not None:
                merged.append(item)
        if not replaced:
            path_int = int.from_bytes(leaf.key_path, "big")
            position = bisect_left(merged, path_int, key=_path_int)
            merged.insert(position, (path_int, leaf.key_path, leaf.value_hash, leaf_hash))
        return self.build(merged, depth, 0, len(merged))

    def build(self, items: list[_Item], depth: int, lo: int, hi: int) -> tuple[bytes, bool]:
        """The canonical subtree at ``depth`` holding exactly ``items[lo:hi]`` (all inserts)."""
        if lo == hi:
            return EMPTY_ROOT, False
        if hi - lo == 1:
            _, key_path, value_hash, known = items[lo]
            assert value_hash is not None
            if known is not None:
                return known, True
            node_hash = _leaf_hash(key_path, value_hash)
            self.new_nodes[node_hash] = encode(LeafNode(key_path, value_hash))
            return node_hash, True
        if depth >= MAX_DEPTH:
            raise ValueError("two updates share the same key path")
        mid = _split(items, depth, lo, hi)
        left = self.build(items, depth + 1, lo, mid)[0]
        right = self.build(items, depth + 1, mid, hi)[0]
        return self.put_internal(left, right), False

    def put_internal(self, left: bytes, right: bytes) -> bytes:
        node_hash = _internal_hash(left, right)
        self.new_nodes[node_hash] = encode(InternalNode(left, right))
        return node_hash


def _split(items: list[_Item], depth: int, lo: int, hi: int) -> int:
    """The first index in sorted ``items[lo:hi]`` (sharing ``depth`` bits) whose bit is 1."""
    shift = MAX_DEPTH - depth
    boundary = (items[lo][0] >> shift << shift) | (1 << (shift - 1))
    return bisect_left(items, boundary, lo, hi, key=_path_int)


def _sorted_items(updates: Mapping[bytes, bytes | None]) -> list[_Item]:
    items: list[_Item] = []
    for key, value in updates.items():
        key_path = sha256(key)
        value_hash = None if value is None else sha256(value)
        items.append((int.from_bytes(key_path, "big"), key_path, value_hash, None))
    items.sort(key=_path_int)
    return items


def apply_updates(
    reader: NodeReader, root: bytes, updates: Mapping[bytes, bytes | None]
) -> tuple[bytes, dict[bytes, bytes]]:
    """Apply ``updates`` (state key -> new value, ``None`` deletes) to the tree at ``root``.

    Returns the new root and the nodes created (hash -> canonical bytes), which the caller
    persists; a following call may read them through an :class:`OverlayNodeReader` first.
    Deleting an absent key changes nothing. Raises :class:`StorageError` if a node is missing.
    """
    _check_root(root)
    if not updates:
        return root, {}
    batch = _Batch(reader, _sorted_items(updates))
    new_root, _ = batch.update(root, 0, 0, len(batch.items))
    return new_root, batch.new_nodes


# --- reading -------------------------------------------------------------------------------------


def _bit(key_path: bytes, depth: int) -> int:
    return (key_path[depth >> 3] >> (7 - (depth & 7))) & 1


def _descend(
    reader: NodeReader, root: bytes, key_path: bytes
) -> tuple[list[bytes], LeafNode | None]:
    """The siblings on the key's path from the top, and the leaf where the path ends (if any)."""
    siblings: list[bytes] = []
    node_hash = root
    while node_hash != EMPTY_ROOT:
        node = _load(reader, node_hash)
        if type(node) is LeafNode:
            return siblings, node
        assert isinstance(node, InternalNode)
        depth = len(siblings)
        if depth >= MAX_DEPTH:
            raise StorageError(f"sparse-Merkle node {node_hash.hex()} lies below the deepest level")
        if _bit(key_path, depth):
            siblings.append(node.left)
            node_hash = node.right
        else:
            siblings.append(node.right)
            node_hash = node.left
    return siblings, None


def get_value_hash(reader: NodeReader, root: bytes, key: bytes) -> bytes | None:
    """The hash of ``key``'s value in the tree at ``root``, or ``None`` if the key is absent."""
    _check_root(root)
    key_path = compute_key_path(key)
    _, leaf = _descend(reader, root, key_path)
    if leaf is not None and leaf.key_path == key_path:
        return leaf.value_hash
    return None


# --- proofs --------------------------------------------------------------------------------------


class ProofLeaf(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    """The leaf where a key's path ends: the key's own (membership) or another key's (absence)."""

    key_path: bytes
    value_hash: bytes


class StateProof(msgspec.Struct, array_like=True, forbid_unknown_fields=True, frozen=True):
    """Membership or absence of a key against a state root.

    ``depth`` is the number of levels from the root to where the key's path ends; bit ``i`` of
    ``bitmap`` (most significant bit of byte 0 first) is set when the sibling at level ``i`` is not
    empty, and ``siblings`` holds exactly those, from the top down. ``leaf`` is the leaf at the end
    of the path, or ``None`` when the path ends in an empty subtree.
    """

    depth: int
    bitmap: bytes
    siblings: list[bytes]
    leaf: ProofLeaf | None


def build_proof(reader: NodeReader, root: bytes, key: bytes) -> StateProof:
    """A proof of ``key``'s value, or of its absence, in the tree at ``root``."""
    _check_root(root)
    all_siblings, leaf = _descend(reader, root, compute_key_path(key))
    bitmap = bytearray((len(all_siblings) + 7) // 8)
    siblings: list[bytes] = []
    for level, sibling in enumerate(all_siblings):
        if sibling != EMPTY_ROOT:
            bitmap[level >> 3] |= 0x80 >> (level & 7)
            siblings.append(sibling)
    proof_leaf = None if leaf is None else ProofLeaf(leaf.key_path, leaf.value_hash)
    return StateProof(len(all_siblings), bytes(bitmap), siblings, proof_leaf)


def encode_state_proof(proof: StateProof) -> bytes:
    """The canonical bytes of a proof."""
    return encode(proof)


_proof_decoder = msgspec.msgpack.Decoder(StateProof)


def decode_state_proof(data: bytes) -> StateProof:
    """A proof from its canonical bytes; :class:`MalformedProof` for anything else."""
    try:
        proof = _proof_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedProof(f"cannot decode state proof: {exc}") from exc
    if encode(proof) != data:
        raise MalformedProof("state proof is not in canonical encoding")
    return proof


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _check_siblings(proof: StateProof) -> int:
    """The proof's bitmap as an int whose lowest bit is the deepest level's, once its depth,
    bitmap and siblings are checked; :class:`MalformedProof` for garbage."""
    depth = proof.depth
    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise MalformedProof(f"state proof depth must be between 0 and {MAX_DEPTH}")
    bitmap = proof.bitmap
    if not isinstance(bitmap, bytes) or len(bitmap) != (depth + 7) // 8:
        raise MalformedProof(f"state proof bitmap must hold {(depth + 7) // 8} bytes")
    bits = int.from_bytes(bitmap, "big")
    spare = len(bitmap) * 8 - depth
    if bits & ((1 << spare) - 1):
        raise MalformedProof("state proof bitmap has bits set beyond its depth")
    bits >>= spare
    if bits.bit_count() != len(proof.siblings):
        raise MalformedProof(
            f"state proof bitmap marks {bits.bit_count()} siblings but "
            f"{len(proof.siblings)} are given"
        )
    if depth and not bits & 1:
        raise MalformedProof("state proof ends beside an empty sibling, which a tree never has")
    siblings = proof.siblings
    # the common case checked at C speed (these checks are a proof's cost besides its hashes)
    if (
        set(map(type, siblings)) <= _BYTES
        and set(map(len, siblings)) <= _HASH_LEN
        and EMPTY_ROOT not in siblings
    ):
        return bits
    for position, sibling in enumerate(siblings):
        if not isinstance(sibling, bytes) or len(sibling) != HASH_SIZE or sibling == EMPTY_ROOT:
            level = _get_sibling_level(bits, depth, position)
            raise MalformedProof(f"state proof sibling at level {level} is not a valid hash")
    return bits


_BYTES = frozenset({bytes})
_HASH_LEN = frozenset({HASH_SIZE})


def _get_sibling_level(bits: int, depth: int, position: int) -> int:
    """The level of the ``position``-th non-empty sibling (from the top) marked in ``bits``."""
    levels = [level for level in range(depth) if bits >> (depth - 1 - level) & 1]
    return levels[position]


def _check_leaf(proof: StateProof, key_path: bytes) -> None:
    leaf = proof.leaf
    if leaf is None:
        return
    if not isinstance(leaf, ProofLeaf) or not _is_hash(leaf.key_path):
        raise MalformedProof("state proof leaf must carry a 32-byte key path")
    if not _is_hash(leaf.value_hash):
        raise MalformedProof("state proof leaf must carry a 32-byte value hash")
    shift = MAX_DEPTH - proof.depth
    leaf_prefix = int.from_bytes(leaf.key_path, "big") >> shift
    if leaf_prefix != int.from_bytes(key_path, "big") >> shift:
        raise MalformedProof("state proof leaf does not lie on the key's path")


def _compute_root(proof: StateProof, bits: int, key_path: bytes, terminal: bytes) -> bytes:
    """The root the checked proof leads to from ``terminal``, hashing up from the deepest level:
    the bit of ``bits`` and of the key's path at each level say whether the sibling is carried
    (else empty) and on which side it lies."""
    depth = proof.depth
    path = int.from_bytes(key_path, "big") >> (MAX_DEPTH - depth)
    siblings = proof.siblings
    given = len(siblings)
    node_hash = terminal
    for _ in range(depth):
        if bits & 1:
            given -= 1
            sibling = siblings[given]
        else:
            sibling = EMPTY_ROOT
        hasher = _NODE_PREFIX.copy()  # _internal_hash, inlined: these hashes are a proof's cost
        if path & 1:
            hasher.update(sibling)
            hasher.update(node_hash)
        else:
            hasher.update(node_hash)
            hasher.update(sibling)
        node_hash = hasher.digest()
        bits >>= 1
        path >>= 1
    return node_hash


def _check_root_match(root: bytes, computed: bytes, claim: str) -> None:
    if not _is_hash(root):
        raise RootMismatch(f"the trusted state root is not a {HASH_SIZE}-byte hash")
    if computed != root:
        raise RootMismatch(
            f"proof of {claim} leads to root {computed.hex()}, not to the trusted root {root.hex()}"
        )


def verify_membership(root: bytes, key: bytes, value: bytes, proof: StateProof) -> None:
    """Check that ``key`` holds ``value`` in the tree with ``root``.

    Raises :class:`WrongProofKind` for a proof of absence, :class:`MalformedProof` for garbage and
    :class:`RootMismatch` when the proof, the value or the root is wrong.
    """
    key_path = compute_key_path(key)
    bits = _check_siblings(proof)
    leaf = proof.leaf
    if not isinstance(leaf, ProofLeaf) or leaf.key_path != key_path:
        _check_leaf(proof, key_path)  # garbage is named as such, before the kind
        raise WrongProofKind("this proof shows the key is absent, not that it holds a value")
    if not _is_hash(leaf.value_hash):  # the key path is the key's own: on its path, a hash
        raise MalformedProof("state proof leaf must carry a 32-byte value hash")
    if leaf.value_hash != sha256(value):
        raise RootMismatch("the value differs from the one the proof is for")
    computed = _compute_root(proof, bits, key_path, _leaf_hash(key_path, leaf.value_hash))
    _check_root_match(root, computed, "membership")


def verify_absence(root: bytes, key: bytes, proof: StateProof) -> None:
    """Check that ``key`` is absent from the tree with ``root``.

    Raises :class:`WrongProofKind` for a proof of membership, :class:`MalformedProof` for garbage
    and :class:`RootMismatch` when the proof or the root is wrong.
    """
    key_path = compute_key_path(key)
    bits = _check_siblings(proof)
    _check_leaf(proof, key_path)
    leaf = proof.leaf
    if leaf is not None and leaf.key_path == key_path:
        raise WrongProofKind("this proof shows the key holds a value, not that it is absent")
    terminal = EMPTY_ROOT if leaf is None else _leaf_hash(leaf.key_path, leaf.value_hash)
    computed = _compute_root(proof, bits, key_path, terminal)
    _check_root_match(root, computed, "absence")


def verify_state_proof(root: bytes, key: bytes, value: bytes | None, proof: StateProof) -> None:
    """Check membership of ``(key, value)``, or absence of ``key`` when ``value`` is ``None``."""
    if value is None:
        verify_absence(root, key, proof)
    else:
        verify_membership(root, key, value, proof)
