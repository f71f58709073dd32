"""Client-side verification of the API's answers: genuine answers pass, tampered ones fail with
the right error. Answers are built exactly as the API builds them (``govchain.api.views``)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import msgspec
import pytest

from govchain.api.dto import StateView, TxView
from govchain.api.views import block_header_view, proof_view, receipt_view, tx_json
from govchain.client import (
    Client,
    TrustAnchor,
    verify_header,
    verify_state_answer,
    verify_tx_answer,
)
from govchain.contracts.notary import notary_state_key
from govchain.encoding import decode, encode
from govchain.errors import (
    GovchainError,
    MalformedProof,
    MalformedTransaction,
    ProofError,
    RootMismatch,
    WrongProofKind,
)
from govchain.merkle import rfc6962, smt
from govchain.types import Receipt, SignedTx, compute_tx_id


def _json(view: msgspec.Struct) -> dict[str, Any]:
    """What a client receives: the view through JSON."""
    out: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(view))
    return out


def tx_answer(chain: Any, tx_id: bytes) -> dict[str, Any]:
    loc = chain.store.get_tx_location(tx_id)
    block = chain.app.get_block(loc.height)
    receipts = chain.store.get_receipts(loc.height)
    raw, receipt_raw = block.txs[loc.index], receipts[loc.index]
    return _json(
        TxView(
            tx_id.hex(),
            "committed",
            loc.height,
            loc.index,
            tx_json(raw),
            receipt_view(decode(receipt_raw, Receipt)),
            None,
            block_header_view(block),
            raw.hex(),
            receipt_raw.hex(),
            proof_view(rfc6962.build_inclusion_proof(block.txs, loc.index)),
            proof_view(rfc6962.build_inclusion_proof(receipts, loc.index)),
        )
    )


def state_answer(chain: Any, key: bytes, height: int | None = None) -> dict[str, Any]:
    result = chain.app.prove_state(key, height)
    return _json(
        StateView(
            key.hex(),
            result.value.hex() if result.value is not None else None,
            result.value is not None,
            result.height,
            block_header_view(chain.app.get_block(result.height)),
            smt.encode_state_proof(result.proof).hex(),
        )
    )


@pytest.fixture
def ledger(chain: Any) -> dict[str, Any]:
    """Block 1: two anchors and a failed anchor; block 2: one more anchor."""
    docs = [chain.anchor_args(f"doc-{i}") for i in range(3)]
    raws = [chain.tx(args=docs[0]), chain.tx(args=docs[1]), chain.tx(chain.admin("health"))]
    first = chain.commit(raws)
    second = chain.commit([chain.tx(args=docs[2])])
    return {
        "chain": chain,
        "tx_ids": first.tx_ids + second.tx_ids,
        "keys": [notary_state_key(d.hash) for d in docs],
        "trust": TrustAnchor(chain.chain_id, chain.app.genesis_hash, [chain.node_key.public_key]),
    }


def _flip_hex(value: str, at: int = 0) -> str:
    data = bytearray.fromhex(value)
    data[at] ^= 1
    return data.hex()


# --- genuine answers -----------------------------------------------------------------------------


def test_genuine_tx_answers_verify(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    for tx_id in ledger["tx_ids"]:
        answer = tx_answer(chain, tx_id)
        header = verify_tx_answer(answer)
        assert verify_tx_answer(answer, ledger["trust"]) == header
        assert header == chain.app.get_header(answer["height"])


def test_genuine_state_answers_verify(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    for key in ledger["keys"]:
        answer = state_answer(chain, key)
        assert answer["exists"]
        assert verify_state_answer(answer, ledger["trust"]).height == 2
    absent = state_answer(chain, notary_state_key(b"\x00" * 32))
    assert absent["value"] is None
    verify_state_answer(absent, ledger["trust"])
    # Historical: at height 1 the third document was provably not anchored.
    old = state_answer(chain, ledger["keys"][2], height=1)
    assert old["value"] is None and old["height"] == 1
    verify_state_answer(old, ledger["trust"])


def test_genesis_header_verifies_against_the_anchor(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    answer = state_answer(chain, b"identity/org/tax", height=0)
    assert verify_state_answer(answer, ledger["trust"]).height == 0


# --- tampered transaction answers ----------------------------------------------------------------


def _tx_tampered(ledger: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return copy.deepcopy(tx_answer(ledger["chain"], ledger["tx_ids"][index]))


def test_tx_raw_changed(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    other = tx_answer(ledger["chain"], ledger["tx_ids"][1])
    answer["tx_raw"] = other["tx_raw"]  # another transaction's bytes
    with pytest.raises(RootMismatch, match="id"):
        verify_tx_answer(answer)


def test_tx_signature_changed(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    signed = decode(bytes.fromhex(answer["tx_raw"]), SignedTx)
    answer["tx_raw"] = encode(SignedTx(signed.body, [])).hex()  # same id, other bytes
    with pytest.raises(RootMismatch):
        verify_tx_answer(answer)


def test_tx_raw_garbage(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    answer["tx_raw"] = "c1"
    with pytest.raises(MalformedTransaction):
        verify_tx_answer(answer)


def test_tx_id_changed(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    answer["tx_id"] = ledger["tx_ids"][1].hex()
    with pytest.raises(RootMismatch):
        verify_tx_answer(answer)


@pytest.mark.parametrize("proof", ["tx_proof", "receipt_proof"])
def test_proof_path_changed(ledger: dict[str, Any], proof: str) -> None:
    answer = _tx_tampered(ledger)
    answer[proof]["path"][0] = _flip_hex(answer[proof]["path"][0])
    with pytest.raises(RootMismatch):
        verify_tx_answer(answer)


@pytest.mark.parametrize("proof", ["tx_proof", "receipt_proof"])
def test_proof_shape_changed(ledger: dict[str, Any], proof: str) -> None:
    answer = _tx_tampered(ledger)
    answer[proof]["path"].append("00" * 32)
    with pytest.raises(MalformedProof):
        verify_tx_answer(answer)
    answer = _tx_tampered(ledger)
    answer[proof]["index"] = 1  # another position in the block
    with pytest.raises(ProofError):
        verify_tx_answer(answer)


def test_receipt_raw_changed(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger, 2)
    receipt = decode(bytes.fromhex(answer["receipt_raw"]), Receipt)
    assert not receipt.ok
    answer["receipt_raw"] = encode(Receipt(receipt.tx_hash, True)).hex()  # claim success
    with pytest.raises(RootMismatch):
        verify_tx_answer(answer)


def test_receipt_of_another_tx(ledger: dict[str, Any]) -> None:
    """A failed transaction presented with a successful neighbour's proven receipt."""
    answer = _tx_tampered(ledger, 2)
    neighbour = tx_answer(ledger["chain"], ledger["tx_ids"][0])
    answer["receipt_raw"] = neighbour["receipt_raw"]
    answer["receipt_proof"] = neighbour["receipt_proof"]
    answer["receipt"] = neighbour["receipt"]
    with pytest.raises(RootMismatch):
        verify_tx_answer(answer)


def test_receipt_view_contradicts_the_proven_receipt(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger, 2)
    assert answer["receipt"]["ok"] is False
    answer["receipt"]["ok"] = True
    answer["receipt"]["code"] = ""
    with pytest.raises(RootMismatch):
        verify_tx_answer(answer)


def test_header_raw_changed(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    answer["header"]["header_raw"] = _flip_hex(answer["header"]["header_raw"], 20)
    with pytest.raises(GovchainError) as info:
        verify_tx_answer(answer)
    assert isinstance(info.value, RootMismatch | MalformedTransaction)


def test_header_hash_changed(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    answer["header"]["hash"] = "00" * 32
    with pytest.raises(RootMismatch, match="block hash"):
        verify_tx_answer(answer)


def test_header_from_another_block(ledger: dict[str, Any]) -> None:
    answer = _tx_tampered(ledger)
    answer["header"] = tx_answer(ledger["chain"], ledger["tx_ids"][3])["header"]
    with pytest.raises(ProofError):
        verify_tx_answer(answer)


# --- tampered state answers ----------------------------------------------------------------------


def _state_tampered(ledger: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(state_answer(ledger["chain"], ledger["keys"][0]))


def test_state_value_changed(ledger: dict[str, Any]) -> None:
    answer = _state_tampered(ledger)
    answer["value"] = _flip_hex(answer["value"], 5)
    with pytest.raises(RootMismatch):
        verify_state_answer(answer)


def test_state_value_hidden(ledger: dict[str, Any]) -> None:
    answer = _state_tampered(ledger)
    answer["value"] = None  # claim the key is absent
    with pytest.raises(ProofError) as info:
        verify_state_answer(answer)
    assert isinstance(info.value, WrongProofKind | RootMismatch)


def test_state_value_invented(ledger: dict[str, Any]) -> None:
    answer = copy.deepcopy(state_answer(ledger["chain"], notary_state_key(b"\x01" * 32)))
    answer["value"] = "00"
    with pytest.raises(ProofError):
        verify_state_answer(answer)


def test_state_key_changed(ledger: dict[str, Any]) -> None:
    answer = _state_tampered(ledger)
    answer["key"] = ledger["keys"][1].hex()
    with pytest.raises(ProofError):
        verify_state_answer(answer)


def test_state_proof_changed(ledger: dict[str, Any]) -> None:
    answer = _state_tampered(ledger)
    proof = smt.decode_state_proof(bytes.fromhex(answer["proof"]))
    assert proof.siblings
    siblings = [bytes([proof.siblings[0][0] ^ 1]) + proof.siblings[0][1:], *proof.siblings[1:]]
    forged = smt.StateProof(proof.depth, proof.bitmap, siblings, proof.leaf)
    answer["proof"] = smt.encode_state_proof(forged).hex()
    with pytest.raises(RootMismatch):
        verify_state_answer(answer)
    answer["proof"] = "c1"
    with pytest.raises(MalformedProof):
        verify_state_answer(answer)


def test_state_against_an_older_header(ledger: dict[str, Any]) -> None:
    answer = _state_tampered(ledger)
    answer["header"] = state_answer(ledger["chain"], b"x", height=0)["header"]
    with pytest.raises(ProofError):
        verify_state_answer(answer)


# --- the trust anchor ----------------------------------------------------------------------------


def test_untrusted_proposer(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    answer = tx_answer(chain, ledger["tx_ids"][0])
    stranger = TrustAnchor(chain.chain_id, chain.app.genesis_hash, [chain.key("other").public_key])
    verify_tx_answer(answer)  # fine without a trust anchor
    with pytest.raises(ProofError, match="not signed by a trusted node") as info:
        verify_tx_answer(answer, stranger)
    assert type(info.value) is ProofError


def test_forged_proposer_signature(ledger: dict[str, Any]) -> None:
    answer = tx_answer(ledger["chain"], ledger["tx_ids"][0])
    answer["header"]["proposer_signature"] = _flip_hex(answer["header"]["proposer_signature"])
    verify_header(answer["header"], None)  # the signature is only checked with an anchor
    with pytest.raises(ProofError, match="trusted node"):
        verify_header(answer["header"], ledger["trust"])


def test_block_signed_by_an_untrusted_key(ledger: dict[str, Any]) -> None:
    """A header that is internally consistent and signed, but by a key the client does not trust."""
    chain = ledger["chain"]
    outsider = chain.key("outsider")
    block = chain.app.get_block(1)
    forged = chain.resign(block, key=outsider, proposer=outsider.public_key)
    view = _json(block_header_view(forged))
    verify_header(view, None)
    with pytest.raises(ProofError):
        verify_header(view, ledger["trust"])


def test_other_chain(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    answer = tx_answer(chain, ledger["tx_ids"][0])
    other = TrustAnchor("another-chain", chain.app.genesis_hash, [chain.node_key.public_key])
    with pytest.raises(ProofError, match="chain"):
        verify_tx_answer(answer, other)


def test_other_genesis(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    answer = state_answer(chain, b"identity/org/tax", height=0)
    other = TrustAnchor(chain.chain_id, b"\x00" * 32, [chain.node_key.public_key])
    with pytest.raises(RootMismatch, match="genesis"):
        verify_state_answer(answer, other)


# --- the SDK checks that the answer is about what it asked -----------------------------------


def _client(routes: dict[str, dict[str, Any]]) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=routes[request.url.path])

    return Client("http://node.test", transport=httpx.MockTransport(handler))


def test_client_tx_verifies_and_checks_the_id(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    asked, other = ledger["tx_ids"][0], ledger["tx_ids"][1]
    honest = _client({f"/v1/txs/{asked.hex()}": tx_answer(chain, asked)})
    assert honest.tx(asked)["tx_id"] == asked.hex()
    lying = _client({f"/v1/txs/{asked.hex()}": tx_answer(chain, other)})
    with pytest.raises(ProofError):
        lying.tx(asked)
    tampered = tx_answer(chain, asked)
    tampered["tx_proof"]["path"][0] = _flip_hex(tampered["tx_proof"]["path"][0])
    with pytest.raises(RootMismatch):
        _client({f"/v1/txs/{asked.hex()}": tampered}).tx(asked)


def test_client_state_verifies_and_checks_the_key(ledger: dict[str, Any]) -> None:
    chain = ledger["chain"]
    asked, other = ledger["keys"][0], ledger["keys"][1]
    honest = _client({f"/v1/state/{asked.hex()}": state_answer(chain, asked)})
    assert honest.state(asked)["value"] == chain.store.get_state(asked).hex()
    lying = _client({f"/v1/state/{asked.hex()}": state_answer(chain, other)})
    with pytest.raises(ProofError):
        lying.state(asked)


def test_tx_id_helper_matches(ledger: dict[str, Any]) -> None:
    answer = tx_answer(ledger["chain"], ledger["tx_ids"][0])
    body = decode(bytes.fromhex(answer["tx_raw"]), SignedTx).body
    assert compute_tx_id(body).hex() == answer["tx_id"]
