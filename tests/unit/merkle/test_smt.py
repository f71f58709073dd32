"""The sparse Merkle tree of the state: canonical shape, batched updates, proofs, tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.errors import MalformedProof, ProofError, RootMismatch, StorageError, WrongProofKind
from govchain.merkle.smt import (
    EMPTY_ROOT,
    InternalNode,
    LeafNode,
    MemoryNodeStore,
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

# --- an independent reference: the canonical tree of a key/value set, recursively ----------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _tagged(tag: bytes, data: bytes) -> bytes:
    return _h(tag + b"\x00" + data)


def _bit(path: bytes, depth: int) -> int:
    return (path[depth // 8] >> (7 - depth % 8)) & 1


def _ref_subtree(leaves: list[tuple[bytes, bytes]], depth: int) -> bytes:
    if not leaves:
        return b"\x00" * 32
    if len(leaves) == 1:
        path, value_hash = leaves[0]
        return _tagged(b"govchain/smt/leaf", path + value_hash)
    left = [leaf for leaf in leaves if _bit(leaf[0], depth) == 0]
    right = [leaf for leaf in leaves if _bit(leaf[0], depth) == 1]
    return _tagged(
        b"govchain/smt/node", _ref_subtree(left, depth + 1) + _ref_subtree(right, depth + 1)
    )


def ref_root(state: Mapping[bytes, bytes]) -> bytes:
    return _ref_subtree([(_h(k), _h(v)) for k, v in state.items()], 0)


# --- helpers ------------------------------------------------------------------------------------


def _apply(store: MemoryNodeStore, root: bytes, updates: Mapping[bytes, bytes | None]) -> bytes:
    new_root, nodes = apply_updates(store, root, updates)
    for node_hash, data in nodes.items():
        assert _node_hash(data) == node_hash
    store.put_nodes(nodes)
    return new_root


def _node_hash(data: bytes) -> bytes:
    node = decode_node(data)
    if isinstance(node, LeafNode):
        return _tagged(b"govchain/smt/leaf", node.key_path + node.value_hash)
    return _tagged(b"govchain/smt/node", node.left + node.right)


def _check_complete(store: MemoryNodeStore, node_hash: bytes, depth: int = 0) -> int:
    """Every node under ``node_hash`` is stored and the shape is canonical; returns leaf count."""
    if node_hash == EMPTY_ROOT:
        return 0
    data = store.get_node(node_hash)
    assert data is not None, "a node reachable from the root was not returned"
    node = decode_node(data)
    if isinstance(node, LeafNode):
        return 1
    count = _check_complete(store, node.left, depth + 1) + _check_complete(
        store, node.right, depth + 1
    )
    assert count >= 2, "a subtree with fewer than two leaves must collapse"
    return count


def _key(i: int) -> bytes:
    return b"key/%d" % i


def _build(state: Mapping[bytes, bytes]) -> tuple[MemoryNodeStore, bytes]:
    store = MemoryNodeStore()
    root = _apply(store, EMPTY_ROOT, dict(state))
    return store, root


def _flip(data: bytes, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


keys_st = st.binary(min_size=0, max_size=6)
state_st = st.dictionaries(keys_st, st.binary(max_size=6), max_size=40)


# --- shape and roots ----------------------------------------------------------------------------


def test_empty_tree() -> None:
    store = MemoryNodeStore()
    root, nodes = apply_updates(store, EMPTY_ROOT, {})
    assert (root, nodes) == (EMPTY_ROOT, {})
    root, nodes = apply_updates(store, EMPTY_ROOT, {b"absent": None})
    assert (root, nodes) == (EMPTY_ROOT, {})


def test_single_key_root_is_its_leaf() -> None:
    store, root = _build({b"k": b"v"})
    assert root == _tagged(b"govchain/smt/leaf", _h(b"k") + _h(b"v"))
    assert len(store) == 1


def test_matches_reference_for_a_larger_tree() -> None:
    state = {_key(i): b"value %d" % i for i in range(1_000)}
    store, root = _build(state)
    assert root == ref_root(state)
    assert _check_complete(store, root) == 1_000


def test_collapse_after_delete() -> None:
    store, root = _build({b"a": b"1", b"b": b"2", b"c": b"3"})
    root = _apply(store, root, {b"b": None, b"c": None})
    assert root == ref_root({b"a": b"1"})
    root = _apply(store, root, {b"a": None})
    assert root == EMPTY_ROOT


def test_unchanged_value_and_absent_delete_create_nothing() -> None:
    state = {_key(i): b"v" for i in range(50)}
    store, root = _build(state)
    new_root, nodes = apply_updates(store, root, {_key(3): b"v", b"absent": None})
    assert new_root == root
    assert nodes == {}


def test_node_encoding_round_trips() -> None:
    leaf = LeafNode(b"\x01" * 32, b"\x02" * 32)
    node = InternalNode(b"\x03" * 32, EMPTY_ROOT)
    from govchain.encoding import encode

    assert decode_node(encode(leaf)) == leaf
    assert decode_node(encode(node)) == node
    with pytest.raises(StorageError):
        decode_node(b"\xc1garbage")


@settings(max_examples=60, deadline=None)
@given(state=state_st, data=st.data())
def test_root_depends_only_on_the_final_set(state: dict[bytes, bytes], data: st.DataObject) -> None:
    expected = ref_root(state)
    items = list(state.items())
    order = data.draw(st.permutations(items))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(items)), max_size=4)))
    store = MemoryNodeStore()
    root = EMPTY_ROOT
    start = 0
    for cut in [*cuts, len(items)]:
        root = _apply(store, root, dict(order[start:cut]))
        start = max(start, cut)
    assert root == expected
    assert _check_complete(store, root) == len(state)


@settings(max_examples=60, deadline=None)
@given(state=state_st, extra=state_st, batched=st.booleans())
def test_insert_then_delete_equals_never_inserted(
    state: dict[bytes, bytes], extra: dict[bytes, bytes], batched: bool
) -> None:
    store, root = _build(state)
    added = {k: v for k, v in extra.items() if k not in state}
    root = _apply(store, root, {**added, next(iter(state), b"x"): b"changed"})
    undo: dict[bytes, bytes | None] = {k: None for k in added}
    if state:
        first = next(iter(state))
        undo[first] = state[first]
    else:
        undo[b"x"] = None
    if batched:
        root = _apply(store, root, undo)
    else:
        for key, value in undo.items():
            root = _apply(store, root, {key: value})
    assert root == ref_root(state)
    _check_complete(store, root)


@settings(max_examples=40, deadline=None)
@given(state=state_st, updates=st.dictionaries(keys_st, st.none() | st.binary(max_size=4)))
def test_mixed_batch_matches_reference(
    state: dict[bytes, bytes], updates: dict[bytes, bytes | None]
) -> None:
    store, root = _build(state)
    root = _apply(store, root, updates)
    final = dict(state)
    for key, value in updates.items():
        if value is None:
            final.pop(key, None)
        else:
            final[key] = value
    assert root == ref_root(final)
    assert _check_complete(store, root) == len(final)


# --- readers ------------------------------------------------------------------------------------


def test_overlay_reader_chains_unpersisted_batches() -> None:
    base = MemoryNodeStore()
    root1, nodes1 = apply_updates(base, EMPTY_ROOT, {_key(i): b"a" for i in range(20)})
    overlay = dict(nodes1)
    root2, nodes2 = apply_updates(OverlayNodeReader(base, overlay), root1, {_key(3): None})
    overlay.update(nodes2)
    reader = OverlayNodeReader(base, overlay)
    assert get_value_hash(reader, root2, _key(3)) is None
    assert get_value_hash(reader, root2, _key(4)) == _h(b"a")
    assert get_value_hash(reader, root1, _key(3)) == _h(b"a")
    assert len(base) == 0


def test_missing_node_is_a_storage_error() -> None:
    store, root = _build({_key(i): b"v" for i in range(10)})
    with pytest.raises(StorageError, match="missing"):
        apply_updates(MemoryNodeStore(), root, {b"k": b"v"})
    with pytest.raises(StorageError):
        build_proof(MemoryNodeStore(), root, b"k")


def test_bad_root_is_rejected() -> None:
    with pytest.raises(ValueError):
        apply_updates(MemoryNodeStore(), b"short", {b"k": b"v"})


# --- proofs -------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(state=state_st, absent=st.lists(keys_st, max_size=8))
def test_every_key_proves_membership_and_others_absence(
    state: dict[bytes, bytes], absent: list[bytes]
) -> None:
    store, root = _build(state)
    for key, value in state.items():
        proof = build_proof(store, root, key)
        assert decode_state_proof(encode_state_proof(proof)) == proof
        verify_membership(root, key, value, proof)
        verify_state_proof(root, key, value, proof)
        assert get_value_hash(store, root, key) == _h(value)
        with pytest.raises(WrongProofKind):
            verify_absence(root, key, proof)
        with pytest.raises(RootMismatch):
            verify_membership(root, key, value + b"!", proof)
        with pytest.raises(RootMismatch):
            verify_membership(_flip(root, 7), key, value, proof)
    for key in absent:
        if key in state:
            continue
        proof = build_proof(store, root, key)
        verify_absence(root, key, proof)
        verify_state_proof(root, key, None, proof)
        assert get_value_hash(store, root, key) is None
        with pytest.raises(WrongProofKind):
            verify_membership(root, key, b"anything", proof)
        with pytest.raises(RootMismatch):
            verify_absence(_flip(root, 200), key, proof)


@settings(max_examples=50, deadline=None)
@given(
    state=st.dictionaries(keys_st, st.binary(max_size=4), min_size=2, max_size=40), data=st.data()
)
def test_tampered_sibling_fails(state: dict[bytes, bytes], data: st.DataObject) -> None:
    store, root = _build(state)
    key = data.draw(st.sampled_from(sorted(state)))
    proof = build_proof(store, root, key)
    assert proof.siblings, "a tree of two or more keys gives every key a sibling"
    k = data.draw(st.integers(0, len(proof.siblings) - 1))
    bit = data.draw(st.integers(0, 255))
    siblings = list(proof.siblings)
    siblings[k] = _flip(siblings[k], bit)
    tampered = StateProof(proof.depth, proof.bitmap, siblings, proof.leaf)
    with pytest.raises(ProofError) as info:
        verify_membership(root, key, state[key], tampered)
    # Flipping a bit may turn a sibling into the all-zero hash, which is malformed.
    assert isinstance(info.value, RootMismatch | MalformedProof)


def test_proofs_are_compressed() -> None:
    state = {_key(i): b"v" for i in range(5_000)}
    store, root = _build(state)
    proof = build_proof(store, root, _key(42))
    assert 10 <= proof.depth <= 40
    assert len(proof.siblings) <= proof.depth
    assert len(encode_state_proof(proof)) < 40 * proof.depth + 120


def test_empty_tree_proves_absence() -> None:
    proof = build_proof(MemoryNodeStore(), EMPTY_ROOT, b"k")
    assert proof == StateProof(0, b"", [], None)
    verify_absence(EMPTY_ROOT, b"k", proof)
    with pytest.raises(WrongProofKind):
        verify_membership(EMPTY_ROOT, b"k", b"v", proof)


def test_absence_at_another_leaf_and_at_an_empty_subtree() -> None:
    state = {_key(i): b"v" for i in range(200)}
    store, root = _build(state)
    endings = set()
    for i in range(200, 400):
        proof = build_proof(store, root, _key(i))
        verify_absence(root, _key(i), proof)
        endings.add(proof.leaf is None)
    assert endings == {True, False}


def test_historical_roots_stay_provable() -> None:
    store = MemoryNodeStore()
    history: list[tuple[bytes, dict[bytes, bytes]]] = []
    state: dict[bytes, bytes] = {}
    root = EMPTY_ROOT
    for version in range(6):
        updates: dict[bytes, bytes | None] = {
            _key(i): b"v%d" % version for i in range(version * 7, version * 7 + 30)
        }
        updates[_key(version)] = None
        root = _apply(store, root, updates)
        for key, value in updates.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        history.append((root, dict(state)))
    for old_root, old_state in history:
        assert old_root == ref_root(old_state)
        for i in range(0, 80):
            key = _key(i)
            proof = build_proof(store, old_root, key)
            verify_state_proof(old_root, key, old_state.get(key), proof)


def _proof_for(state: dict[bytes, bytes], key: bytes) -> tuple[bytes, StateProof]:
    store, root = _build(state)
    return root, build_proof(store, root, key)


STATE = {_key(i): b"v%d" % i for i in range(64)}


@pytest.mark.parametrize(
    ("desc", "change"),
    [
        ("depth beyond the tree", lambda p: StateProof(257, b"\x00" * 33, [], p.leaf)),
        ("negative depth", lambda p: StateProof(-1, b"", [], p.leaf)),
        ("bitmap too short", lambda p: StateProof(p.depth, p.bitmap[:-1], p.siblings, p.leaf)),
        ("bitmap too long", lambda p: StateProof(p.depth, p.bitmap + b"\0", p.siblings, p.leaf)),
        ("missing sibling", lambda p: StateProof(p.depth, p.bitmap, p.siblings[:-1], p.leaf)),
        (
            "extra sibling",
            lambda p: StateProof(p.depth, p.bitmap, [*p.siblings, b"\1" * 32], p.leaf),
        ),
        (
            "short sibling",
            lambda p: StateProof(p.depth, p.bitmap, [p.siblings[0][:31], *p.siblings[1:]], p.leaf),
        ),
        (
            "zero sibling",
            lambda p: StateProof(p.depth, p.bitmap, [EMPTY_ROOT, *p.siblings[1:]], p.leaf),
        ),
        (
            "short leaf path",
            lambda p: StateProof(p.depth, p.bitmap, p.siblings, ProofLeaf(b"\1" * 31, b"\2" * 32)),
        ),
        (
            "leaf off the path",
            lambda p: StateProof(
                p.depth,
                p.bitmap,
                p.siblings,
                ProofLeaf(_flip(p.leaf.key_path, 0), p.leaf.value_hash),
            ),
        ),
    ],
)
def test_garbage_proofs_are_malformed(desc: str, change: object) -> None:
    key = _key(5)
    root, proof = _proof_for(STATE, key)
    assert proof.depth >= 2 and proof.leaf is not None
    bad = change(proof)  # type: ignore[operator]
    with pytest.raises(MalformedProof):
        verify_membership(root, key, STATE[key], bad)
    with pytest.raises(MalformedProof):
        verify_absence(root, key, bad)


def test_bitmap_bits_beyond_depth_are_malformed() -> None:
    key = _key(5)
    root, proof = _proof_for(STATE, key)
    spare = (8 - proof.depth % 8) % 8
    assert spare, "pick a key whose proof depth is not a multiple of 8"
    bitmap = bytearray(proof.bitmap)
    bitmap[-1] |= 1
    bad = StateProof(proof.depth, bytes(bitmap), [*proof.siblings, b"\1" * 32], proof.leaf)
    with pytest.raises(MalformedProof, match="beyond its depth"):
        verify_membership(root, key, STATE[key], bad)


def test_last_sibling_empty_is_malformed() -> None:
    key = _key(5)
    root, proof = _proof_for(STATE, key)
    bitmap = bytearray(proof.bitmap)
    last = proof.depth - 1
    bitmap[last // 8] &= ~(0x80 >> (last % 8)) & 0xFF
    bad = StateProof(proof.depth, bytes(bitmap), proof.siblings[:-1], proof.leaf)
    with pytest.raises(MalformedProof, match="empty sibling"):
        verify_membership(root, key, STATE[key], bad)


def test_decode_rejects_garbage_and_non_canonical_bytes() -> None:
    root, proof = _proof_for(STATE, _key(5))
    data = encode_state_proof(proof)
    for garbage in (b"", b"\xc1", data[:-1], data + b"\x00", b"\x94\x00\xc4\x00\x90\xc0\x00"):
        with pytest.raises(MalformedProof):
            decode_state_proof(garbage)
    # depth written as a 16-bit integer instead of the shortest form
    non_canonical = data[:1] + b"\xcd" + proof.depth.to_bytes(2, "big") + data[2:]
    with pytest.raises(MalformedProof, match="canonical"):
        decode_state_proof(non_canonical)


def test_wrong_trusted_root_length() -> None:
    root, proof = _proof_for(STATE, _key(5))
    with pytest.raises(RootMismatch):
        verify_membership(root[:31], _key(5), STATE[_key(5)], proof)


def test_key_path_is_sha256() -> None:
    assert compute_key_path(b"abc") == _h(b"abc")
