"""Golden vectors for the Merkle trees (tests/vectors/merkle/*.json): data any implementation can
replay. Each invalid case names the error code a verifier must raise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govchain.errors import ProofError
from govchain.merkle import rfc6962, smt

VECTORS = Path(__file__).parent / "merkle"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def _hex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value)


RFC = _load("rfc6962.json")
SMT = _load("smt.json")


# --- RFC 6962 -----------------------------------------------------------------------------------


def test_rfc6962_hashing() -> None:
    assert _bytes(RFC["empty_root"]) == rfc6962.EMPTY_ROOT
    for case in RFC["leaf_hashes"]:
        assert rfc6962.hash_leaf(_bytes(case["data"])) == _bytes(case["hash"])
    for case in RFC["node_hashes"]:
        left, right = _bytes(case["left"]), _bytes(case["right"])
        assert rfc6962.hash_children(left, right) == _bytes(case["hash"])


def test_rfc6962_roots() -> None:
    leaves = [_bytes(h) for h in RFC["leaves"]]
    for case in RFC["roots"]:
        assert rfc6962.compute_root(leaves[: case["size"]]) == _bytes(case["root"])


@pytest.mark.parametrize("case", RFC["inclusion"], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_rfc6962_inclusion(case: dict[str, Any]) -> None:
    leaves = [_bytes(h) for h in RFC["leaves"]][: case["size"]]
    proof = rfc6962.InclusionProof(case["index"], case["size"], [_bytes(h) for h in case["path"]])
    assert rfc6962.build_inclusion_proof(leaves, case["index"]) == proof
    root = _bytes(RFC["roots"][case["size"]]["root"])
    rfc6962.verify_inclusion(leaves[case["index"]], proof, root)


@pytest.mark.parametrize("case", RFC["invalid"], ids=lambda c: c["description"])
def test_rfc6962_invalid(case: dict[str, Any]) -> None:
    proof = rfc6962.InclusionProof(case["index"], case["size"], [_bytes(h) for h in case["path"]])
    with pytest.raises(ProofError) as info:
        rfc6962.verify_inclusion(_bytes(case["leaf"]), proof, _bytes(case["root"]))
    assert info.value.code == case["error"]


# --- sparse Merkle tree -------------------------------------------------------------------------


def _tree(name: str) -> tuple[smt.MemoryNodeStore, bytes, dict[str, Any]]:
    case = next(t for t in SMT["trees"] if t["name"] == name)
    store = smt.MemoryNodeStore()
    entries = {_bytes(k): _bytes(v) for k, v in case["entries"]}
    root, nodes = smt.apply_updates(store, smt.EMPTY_ROOT, entries)
    store.put_nodes(nodes)
    return store, root, case


@pytest.mark.parametrize("name", [t["name"] for t in SMT["trees"]])
def test_smt_roots_and_proofs(name: str) -> None:
    store, root, case = _tree(name)
    assert _bytes(SMT["empty_root"]) == smt.EMPTY_ROOT
    assert root == _bytes(case["root"])
    for entry in case["proofs"]:
        key, value = _bytes(entry["key"]), _hex(entry["value"])
        data = _bytes(entry["proof"])
        assert smt.encode_state_proof(smt.build_proof(store, root, key)) == data
        smt.verify_state_proof(root, key, value, smt.decode_state_proof(data))


def test_smt_history() -> None:
    store, root, _ = _tree(SMT["history"]["start"])
    roots = [root]
    for step in SMT["history"]["steps"]:
        updates = {_bytes(k): _hex(v) for k, v in step["updates"]}
        root, nodes = smt.apply_updates(store, root, updates)
        store.put_nodes(nodes)
        assert root == _bytes(step["root"])
        roots.append(root)
    _, _, start = _tree(SMT["history"]["start"])
    for entry in start["proofs"]:
        key, value = _bytes(entry["key"]), _hex(entry["value"])
        smt.verify_state_proof(roots[0], key, value, smt.build_proof(store, roots[0], key))


@pytest.mark.parametrize("case", SMT["invalid"], ids=lambda c: c["description"])
def test_smt_invalid(case: dict[str, Any]) -> None:
    key, value = _bytes(case["key"]), _hex(case["value"])
    with pytest.raises(ProofError) as info:
        proof = smt.decode_state_proof(_bytes(case["proof"]))
        smt.verify_state_proof(_bytes(case["root"]), key, value, proof)
    assert info.value.code == case["error"]
