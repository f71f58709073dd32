"""The application boundary: genesis, restart, admission, finalize/commit, reads and proofs."""

from __future__ import annotations

from typing import Any

import pytest

from govchain.app import Application
from govchain.contracts.notary import notary_state_key
from govchain.crypto.signing import get_scheme
from govchain.encoding import decode, encode
from govchain.errors import (
    BadSignature,
    ConfigError,
    GovchainError,
    NotFound,
    ProofError,
)
from govchain.execution import CheckedTx, build_genesis
from govchain.merkle import smt, verify_state_proof
from govchain.storage import MemoryLedgerStore
from govchain.types import (
    Block,
    Receipt,
    Signature,
    SignedTx,
    compute_block_hash,
    header_sign_bytes,
)


def _flip_signature(raw: bytes) -> bytes:
    signed = decode(raw, SignedTx)
    sig = signed.signatures[0]
    bad = bytes([sig.signature[0] ^ 1]) + sig.signature[1:]
    return encode(SignedTx(signed.body, [Signature(sig.public_key, bad, sig.scheme)]))


# --- genesis and restart -------------------------------------------------------------------------


def test_genesis_is_created(chain: Any) -> None:
    meta = chain.app.info()
    expected, _, _ = build_genesis(chain.genesis, chain.registry, smt.MemoryNodeStore())
    assert meta.height == 0
    assert meta.block_hash == chain.app.genesis_hash == compute_block_hash(expected.header)
    assert meta.state_root == expected.header.state_root
    assert chain.app.get_block(0) == expected
    assert chain.app.chain_id == chain.genesis.chain_id
    assert chain.store.get_receipts(0) == []
    assert chain.app.query("identity", "org", {"id": "health"}).id == "health"


def test_restart_resumes_height(chain: Any) -> None:
    first = chain.tx()
    chain.commit([first])
    chain.commit([chain.tx()])
    tip = chain.app.info()
    app = chain.reopen()
    assert app.info() == tip
    assert app.genesis_hash == chain.app.genesis_hash
    # The replay window is rebuilt from the stored blocks.
    (again,) = app.check_txs([first])
    assert isinstance(again, GovchainError) and again.code == "TX_REPLAYED"
    # The next block builds on the stored tip.
    raw = chain.tx()
    pending = app.finalize_block(app.check_txs([raw]), chain.next_time())  # type: ignore[arg-type]
    assert pending.block.header.height == 3
    assert pending.block.header.prev_hash == tip.block_hash
    committed = app.commit(pending)
    assert committed.receipts[0].ok
    assert app.info().height == 3


def test_restart_with_a_different_genesis_is_refused(chain: Any, genesis_factory: Any) -> None:
    chain.commit([chain.tx()])
    for other in (genesis_factory("another-chain"), genesis_factory(time_ms=1)):
        with pytest.raises(ConfigError) as info:
            Application(chain.store, other, chain.registry, chain.node_key)
        assert info.value.code == "CONFIG_INVALID"
    assert chain.store.get_meta().height == 1  # nothing was written


def test_app_without_node_key_cannot_build_blocks(chain: Any) -> None:
    reader = Application(chain.store, chain.genesis, chain.registry)
    assert reader.info().height == 0
    with pytest.raises(ConfigError):
        reader.finalize_block([], chain.next_time())


# --- check_txs -----------------------------------------------------------------------------------


def test_check_txs_answers_item_by_item(chain: Any) -> None:
    committed = chain.tx()
    chain.commit([committed])
    good = chain.tx()
    pending_dup = chain.tx()
    raws = [
        good,
        b"garbage",
        chain.tx(chain_id="elsewhere"),
        _flip_signature(chain.tx()),
        chain.tx(chain.key("outsider")),
        chain.tx(valid_until=0),
        chain.tx(valid_until=chain.height + 1 + chain.params.max_tx_lifetime + 1),
        committed,
        pending_dup,
        chain.tx(contract="lottery"),
    ]
    pending = {chain.check(pending_dup).tx_id: object()}
    out = chain.app.check_txs(raws, pending)
    assert len(out) == len(raws)
    assert isinstance(out[0], CheckedTx) and out[0].raw == good
    codes = [item.code for item in out[1:]]  # type: ignore[union-attr]
    assert codes == [
        "TX_MALFORMED",
        "TX_WRONG_CHAIN",
        "TX_BAD_SIGNATURE",
        "TX_UNKNOWN_SENDER",
        "TX_EXPIRED",
        "TX_EXPIRED",
        "TX_REPLAYED",
        "TX_REPLAYED",
        "TX_UNKNOWN_CONTRACT",
    ]
    assert isinstance(out[3], BadSignature)


def test_check_txs_does_not_change_anything(chain: Any) -> None:
    raw = chain.tx()
    for _ in range(2):
        (item,) = chain.app.check_txs([raw])
        assert isinstance(item, CheckedTx)
    assert chain.height == 0
    assert chain.app.check_txs([]) == []


# --- finalize and commit -------------------------------------------------------------------------


def test_finalize_persists_nothing_commit_persists_everything(chain: Any) -> None:
    raws = [chain.tx(), chain.tx(chain.admin("health"))]
    pending = chain.finalize(raws)
    assert chain.height == 0
    assert chain.store.get_block(1) is None
    committed = chain.app.commit(pending)
    assert chain.height == 1
    assert committed.block == pending.block == chain.app.get_block(1)
    assert committed.block_hash == compute_block_hash(pending.block.header)
    assert chain.store.get_block_hash(1) == committed.block_hash
    assert committed.tx_ids == [chain.check(r).tx_id for r in raws]
    stored = [decode(r, Receipt) for r in chain.store.get_receipts(1) or []]
    assert stored == committed.receipts
    assert [r.ok for r in stored] == [True, False]
    for index, tx_id in enumerate(committed.tx_ids):
        loc = chain.store.get_tx_location(tx_id)
        assert (loc.height, loc.index) == (1, index)  # type: ignore[union-attr]
    assert chain.store.get_state_root(1) == pending.block.header.state_root
    assert chain.app.info().state_root == pending.block.header.state_root


def test_block_is_signed_by_the_node(chain: Any) -> None:
    block = chain.commit([chain.tx()]).block
    assert block.header.proposer == chain.node_key.public_key
    message = header_sign_bytes(compute_block_hash(block.header))
    assert get_scheme("ed25519").verify(block.header.proposer, message, block.proposer_signature)


def test_block_time_never_goes_backwards(chain: Any) -> None:
    first = chain.commit([], time_ms=chain.header.time_ms + 5_000).block.header.time_ms
    second = chain.commit([], time_ms=first - 1_000).block.header.time_ms
    assert second == first


def test_finalize_drops_what_may_not_be_included(chain: Any) -> None:
    good = chain.check(chain.tx())
    forged = chain.check(_flip_signature(chain.tx()))
    stale = chain.check(chain.tx(valid_until=0))
    pending = chain.app.finalize_block([forged, good, stale, good], chain.next_time())
    assert pending.block.txs == [good.raw]
    reasons = sorted((tx.raw, err.code) for tx, err in pending.dropped)
    assert reasons == sorted(
        [(forged.raw, "TX_BAD_SIGNATURE"), (stale.raw, "TX_EXPIRED"), (good.raw, "TX_REPLAYED")]
    )
    committed = chain.app.commit(pending)
    assert sorted(tx.raw for tx, _ in committed.dropped) == sorted(
        [forged.raw, stale.raw, good.raw]
    )


def test_committed_tx_cannot_be_included_again(chain: Any) -> None:
    raw = chain.tx()
    chain.commit([raw])
    pending = chain.app.finalize_block([chain.check(raw)], chain.next_time())
    assert pending.block.txs == []
    assert pending.dropped[0][1].code == "TX_REPLAYED"


def test_next_block_may_be_built_before_the_last_is_committed(chain: Any) -> None:
    args = chain.anchor_args("deed")
    first = chain.check(chain.tx(args=args))
    same_doc = chain.check(chain.tx(chain.admin("tax", 1), args=args))
    one = chain.app.finalize_block([first], chain.next_time())
    two = chain.app.finalize_block([same_doc, first], chain.next_time() + 1_000)
    assert two.block.header.height == 2
    assert two.block.header.prev_hash == one.block_hash
    assert [tx.raw for tx, _ in two.dropped] == [first.raw]  # already in block 1
    assert two.execution.receipts[0].code == "NOTARY_ALREADY_ANCHORED"
    chain.app.commit(one)
    chain.app.commit(two)
    assert chain.height == 2
    assert chain.app.get_block(2) == two.block


# --- reads and proofs ----------------------------------------------------------------------------


def test_get_block_not_found(chain: Any) -> None:
    with pytest.raises(NotFound) as info:
        chain.app.get_block(1)
    assert info.value.code == "NOT_FOUND" and info.value.status == 404


def test_prove_state_membership_and_absence(chain: Any) -> None:
    args = chain.anchor_args("deed")
    chain.commit([chain.tx(args=args)])
    key = notary_state_key(args.hash)

    member = chain.app.prove_state(key)
    assert member.height == 1 and member.key == key
    assert member.value == chain.store.get_state(key)
    assert member.header == chain.header
    verify_state_proof(member.header.state_root, key, member.value, member.proof)

    missing = notary_state_key(b"\x00" * 32)
    absent = chain.app.prove_state(missing)
    assert absent.value is None
    verify_state_proof(absent.header.state_root, missing, None, absent.proof)

    # The same key was absent at genesis, provably.
    before = chain.app.prove_state(key, height=0)
    assert before.value is None and before.height == 0
    verify_state_proof(before.header.state_root, key, None, before.proof)

    # A proof does not support another value, nor absence, nor another root.
    with pytest.raises(ProofError):
        verify_state_proof(member.header.state_root, key, member.value + b"x", member.proof)
    with pytest.raises(ProofError):
        verify_state_proof(member.header.state_root, key, None, member.proof)
    with pytest.raises(ProofError):
        verify_state_proof(before.header.state_root, key, member.value, member.proof)


def test_prove_state_of_genesis_records(chain: Any) -> None:
    key = b"identity/id/tax"
    result = chain.app.prove_state(key, height=0)
    assert result.value is not None
    verify_state_proof(result.header.state_root, key, result.value, result.proof)


@pytest.mark.parametrize("height", [-1, 2, 100])
def test_prove_state_beyond_the_chain(chain: Any, height: int) -> None:
    chain.commit([])
    with pytest.raises(NotFound):
        chain.app.prove_state(b"identity/id/tax", height=height)
    with pytest.raises(NotFound):
        chain.app.query("identity", "orgs", {}, height=height)


def test_query_as_of_a_height(chain: Any) -> None:
    args = chain.anchor_args("deed")
    chain.commit([])
    chain.commit([chain.tx(args=args)])
    assert chain.app.query("notary", "get", {"hash": args.hash}).height == 2
    assert chain.app.query("notary", "get", {"hash": args.hash}, height=2).height == 2
    with pytest.raises(GovchainError):
        chain.app.query("notary", "get", {"hash": args.hash}, height=1)


def test_a_second_store_gets_the_same_chain(chain: Any) -> None:
    """Two nodes with the same genesis and the same blocks hold the same ledger."""
    raws = [chain.tx(), chain.tx(), chain.tx(chain.admin("health"))]
    block = chain.commit(raws).block
    other = Application(MemoryLedgerStore(), chain.genesis, chain.registry, chain.node_key)
    txs = other.check_txs(block.txs)
    pending = other.finalize_block(txs, block.header.time_ms)  # type: ignore[arg-type]
    assert pending.block == block
    assert isinstance(decode(encode(block), Block), Block)


def test_a_batch_of_a_node_that_is_not_active_makes_an_empty_block(chain: Any) -> None:
    """A batch whose author is no active node (unknown, or removed by governance) still makes
    its block, the same on every peer, but none of its transactions run: each is dropped with
    NODE_NOT_ACTIVE, and the header carries no signature."""
    stranger = get_scheme("ed25519").from_seed(bytes([5]) * 32)
    raws = [chain.tx(), chain.tx()]
    pending = chain.app.finalize_block(
        [chain.check(r) for r in raws], chain.next_time(), stranger.public_key
    )
    assert pending.block.txs == [] and pending.block.proposer_signature == b""
    assert pending.block.header.proposer == stranger.public_key
    assert [(tx.raw, err.code) for tx, err in pending.dropped] == [
        (r, "NODE_NOT_ACTIVE") for r in raws
    ]
    chain.app.commit(pending)
    # the same transactions from an active node (a genesis node) run in the next block
    node = chain.app.finalize_block(
        [chain.check(r) for r in raws], chain.next_time(), chain.node_key.public_key
    )
    assert node.block.txs == raws and node.block.proposer_signature != b""


def test_a_node_that_is_not_active_admits_nothing(chain: Any) -> None:
    stranger = get_scheme("ed25519").from_seed(bytes([5]) * 32)
    app = Application(chain.store, chain.genesis, chain.registry, stranger)
    (refused,) = app.check_txs([chain.tx()])
    assert isinstance(refused, GovchainError) and refused.code == "NODE_NOT_ACTIVE"
    assert refused.status == 421
