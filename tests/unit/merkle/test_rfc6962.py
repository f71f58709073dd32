"""RFC 6962 trees: upstream vectors, an independent reference, and corrupted proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govchain.errors import MalformedProof, ProofError, RootMismatch
from govchain.merkle.rfc6962 import (
    EMPTY_ROOT,
    InclusionProof,
    build_inclusion_proof,
    compute_root,
    get_inclusion_path_length,
    hash_children,
    hash_leaf,
    verify_inclusion,
)

# The standard test data of certificate-transparency and transparency-dev/merkle.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
# Roots of the trees over the first 1..8 leaves.
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (index, size, path) with a 0-based index.
UPSTREAM_PROOFS = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


# --- an independent reference: RFC 6962 section 2.1, recursively -------------------------------


def _split_point(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = _split_point(len(leaves))
    return hashlib.sha256(b"\x01" + ref_root(leaves[:k]) + ref_root(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _split_point(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_root(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_root(leaves[:k])]


def _leaves(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") * (i % 3) for i in range(n)]


# --- hashing ------------------------------------------------------------------------------------


def test_hashes_match_upstream() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert hash_leaf(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert hash_leaf(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert hash_children(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_empty_tree_root() -> None:
    assert compute_root([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_upstream(size: int) -> None:
    assert compute_root(LEAVES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), UPSTREAM_PROOFS)
def test_inclusion_proofs_match_upstream(index: int, size: int, path: list[str]) -> None:
    proof = build_inclusion_proof(LEAVES[:size], index)
    assert proof == InclusionProof(index, size, [bytes.fromhex(h) for h in path])
    verify_inclusion(LEAVES[index], proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize("size", [*range(1, 40), 64, 65, 100, 127, 128, 129])
def test_against_reference(size: int) -> None:
    leaves = _leaves(size)
    root = compute_root(leaves)
    assert root == ref_root(leaves)
    for index in range(size):
        proof = build_inclusion_proof(leaves, index)
        assert proof.path == ref_path(index, leaves)
        assert len(proof.path) == get_inclusion_path_length(index, size)
        verify_inclusion(leaves[index], proof, root)


def test_ten_thousand_leaves() -> None:
    leaves = [i.to_bytes(4, "big") for i in range(10_000)]
    root = compute_root(leaves)
    proof = build_inclusion_proof(leaves, 9_999)
    verify_inclusion(leaves[9_999], proof, root)


@pytest.mark.parametrize("index", [-1, 3, 100])
def test_build_rejects_bad_index(index: int) -> None:
    with pytest.raises(IndexError):
        build_inclusion_proof(LEAVES[:3], index)


def test_build_rejects_non_int_index() -> None:
    with pytest.raises(TypeError):
        build_inclusion_proof(LEAVES[:3], True)


# --- corrupted proofs (as transparency-dev/merkle's corruptInclusionProof) ----------------------


def _corruptions(proof: InclusionProof, root: bytes) -> list[tuple[str, InclusionProof, bytes]]:
    i, n, path = proof.index, proof.size, proof.path
    out = [
        ("index - 1", InclusionProof(i - 1, n, path), root),
        ("index + 1", InclusionProof(i + 1, n, path), root),
        ("index ^ 2", InclusionProof(i ^ 2, n, path), root),
        ("size * 2", InclusionProof(i, n * 2, path), root),
        ("size / 2", InclusionProof(i, n // 2, path), root),
        ("empty root", proof, EMPTY_ROOT),
        ("random root", proof, SOME_HASH),
        ("trailing garbage", InclusionProof(i, n, [*path, b""]), root),
        ("trailing root", InclusionProof(i, n, [*path, root]), root),
        ("preceding garbage", InclusionProof(i, n, [b"", *path]), root),
        ("preceding root", InclusionProof(i, n, [root, *path]), root),
    ]
    for k in range(len(path)):
        flipped = list(path)
        flipped[k] = bytes([flipped[k][0] ^ 8]) + flipped[k][1:]
        out.append((f"modified path[{k}]", InclusionProof(i, n, flipped), root))
    if path:
        out.append(("removed component", InclusionProof(i, n, path[:-1]), root))
    if len(path) > 1:
        inserted = [path[0], SOME_HASH, *path[1:]]
        out.append(("inserted component", InclusionProof(i, n, inserted), root))
    return out


@pytest.mark.parametrize(("index", "size", "path"), UPSTREAM_PROOFS)
def test_corrupted_proofs_are_rejected(index: int, size: int, path: list[str]) -> None:
    root = bytes.fromhex(ROOTS[size - 1])
    proof = InclusionProof(index, size, [bytes.fromhex(h) for h in path])
    for desc, bad, bad_root in _corruptions(proof, root):
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], bad, bad_root)
            pytest.fail(f"accepted: {desc}")
    with pytest.raises(RootMismatch):
        verify_inclusion(b"WrongLeaf", proof, root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 4), (0, -1)])
def test_index_outside_tree_is_malformed(index: int, size: int) -> None:
    with pytest.raises(MalformedProof):
        verify_inclusion(b"x", InclusionProof(index, size, []), EMPTY_ROOT)


def test_wrong_path_length_is_malformed() -> None:
    root = bytes.fromhex(ROOTS[7])
    proof = build_inclusion_proof(LEAVES, 3)
    with pytest.raises(MalformedProof, match="must hold 3 hashes"):
        verify_inclusion(LEAVES[3], InclusionProof(3, 8, proof.path[:2]), root)


def test_short_hash_is_malformed() -> None:
    root = bytes.fromhex(ROOTS[7])
    proof = build_inclusion_proof(LEAVES, 3)
    short = [proof.path[0][:31], *proof.path[1:]]
    with pytest.raises(MalformedProof, match="not a 32-byte hash"):
        verify_inclusion(LEAVES[3], InclusionProof(3, 8, short), root)


def test_single_leaf_tree() -> None:
    proof = build_inclusion_proof([b"data"], 0)
    assert proof.path == []
    verify_inclusion(b"data", proof, hash_leaf(b"data"))
    with pytest.raises(RootMismatch):
        verify_inclusion(b"data", proof, b"")
    with pytest.raises(RootMismatch):
        verify_inclusion(b"other", proof, hash_leaf(b"data"))


@given(
    leaves=st.lists(st.binary(max_size=8), min_size=1, max_size=70),
    data=st.data(),
)
def test_every_leaf_proves_and_tampering_fails(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = compute_root(leaves)
    assert root == ref_root(leaves)
    proof = build_inclusion_proof(leaves, index)
    verify_inclusion(leaves[index], proof, root)
    with pytest.raises(RootMismatch):
        verify_inclusion(leaves[index] + b"!", proof, root)
    if proof.path:
        k = data.draw(st.integers(0, len(proof.path) - 1))
        bit = data.draw(st.integers(0, 255))
        flipped = list(proof.path)
        node = bytearray(flipped[k])
        node[bit // 8] ^= 0x80 >> (bit % 8)
        flipped[k] = bytes(node)
        with pytest.raises(RootMismatch):
            verify_inclusion(leaves[index], InclusionProof(index, len(leaves), flipped), root)
