"""``replay_block``: a correct block is accepted; every kind of fault is named."""

from __future__ import annotations

from typing import Any

import pytest

from govchain.app import PendingBlock
from govchain.app.readers import StoreState
from govchain.encoding import decode, encode
from govchain.errors import InvalidBlock
from govchain.execution import Execution, RecentTxIndex, SignatureCache, replay_block
from govchain.types import (
    Block,
    BlockHeader,
    Signature,
    SignedTx,
    block_hash_state_key,
    compute_block_hash,
)


@pytest.fixture
def built(chain: Any) -> tuple[Any, PendingBlock, list[bytes]]:
    """A chain at height 1 (one committed anchor) and a finalized, uncommitted block 2."""
    first = chain.tx()
    chain.commit([first])
    pending = chain.finalize([chain.tx(), chain.tx(chain.admin("health")), chain.tx()])
    assert pending.block.header.height == 2
    assert [r.ok for r in pending.execution.receipts] == [True, False, True]
    return chain, pending, [first]


@pytest.fixture
def setup(built: tuple[Any, PendingBlock, list[bytes]]) -> tuple[Any, Block, list[bytes]]:
    chain, pending, committed = built
    return chain, pending.block, committed


def _replay(
    chain: Any,
    block: Block,
    *,
    seen: RecentTxIndex | None = None,
    prev: BlockHeader | None = None,
    cache: SignatureCache | None = None,
    on_tx: Any = None,
) -> tuple[Execution, dict[bytes, bytes]]:
    return replay_block(
        StoreState(chain.store),
        chain.store,
        chain.registry,
        chain.params,
        prev or chain.header,
        block,
        seen or RecentTxIndex(),
        cache,
        on_tx,
    )


def _reason(chain: Any, block: Block, **kw: Any) -> str:
    with pytest.raises(InvalidBlock) as info:
        _replay(chain, block, **kw)
    err = info.value
    assert err.code == "BLOCK_INVALID"
    assert err.details["height"] == block.header.height
    assert str(block.header.height) in err.message
    return str(err.details["reason"])


def _flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_accepts_a_correct_block(built: Any) -> None:
    chain, pending, _ = built
    block = pending.block
    calls: list[int] = []
    execution, nodes = _replay(chain, block, on_tx=calls.append)
    assert [t.raw for t in execution.included] == block.txs
    assert execution.receipts == pending.execution.receipts
    assert execution.writes == pending.execution.writes
    assert nodes == pending.nodes
    assert calls == [3]


def test_accepts_a_block_the_app_commits_and_rejects_it_after(built: Any) -> None:
    chain, pending, _ = built
    block = pending.block
    prev = chain.header
    chain.app.commit(pending)
    assert chain.app.get_block(2) == block
    # Once block 2 is committed its transactions are replays.
    seen = RecentTxIndex()
    seen.add((chain.check(raw).tx_id, 100) for raw in block.txs)
    assert _reason(chain, block, seen=seen, prev=prev) == "TX_REPLAYED"


def test_accepts_an_empty_block_at_the_same_time(chain: Any) -> None:
    pending = chain.finalize([], time_ms=chain.header.time_ms)
    assert pending.block.header.time_ms == chain.header.time_ms
    execution, nodes = _replay(chain, pending.block)
    assert execution.included == []
    # an empty block writes nothing but the ledger's record of its predecessor's hash
    assert execution.writes == {
        block_hash_state_key(chain.height): compute_block_hash(chain.header)
    }


def test_uses_the_signature_cache(setup: Any) -> None:
    chain, block, _ = setup
    cache = SignatureCache()
    _replay(chain, block, cache=cache)
    assert all(raw in cache for raw in block.txs)


def test_wrong_prev_hash(setup: Any) -> None:
    chain, block, _ = setup
    assert _reason(chain, chain.resign(block, prev_hash=b"\x00" * 32)) == "PREV_HASH_MISMATCH"


def test_wrong_predecessor(setup: Any) -> None:
    chain, block, _ = setup
    genesis = chain.app.get_header(0)
    bad = chain.resign(block, height=1)
    assert _reason(chain, bad, prev=genesis) == "PREV_HASH_MISMATCH"


@pytest.mark.parametrize("height", [0, 1, 3, 100])
def test_height_gap(setup: Any, height: int) -> None:
    chain, block, _ = setup
    assert _reason(chain, chain.resign(block, height=height)) == "HEIGHT_GAP"


def test_chain_id_mismatch(setup: Any) -> None:
    chain, block, _ = setup
    assert _reason(chain, chain.resign(block, chain_id="elsewhere")) == "CHAIN_ID_MISMATCH"


def test_time_backwards(setup: Any) -> None:
    chain, block, _ = setup
    bad = chain.resign(block, time_ms=chain.header.time_ms - 1)
    assert _reason(chain, bad) == "TIME_BACKWARDS"


def test_bad_proposer_signature(setup: Any) -> None:
    chain, block, _ = setup
    flipped = Block(block.header, _flip(block.proposer_signature, 10), block.txs)
    assert _reason(chain, flipped) == "BAD_PROPOSER_SIGNATURE"
    missing = Block(block.header, b"", block.txs)
    assert _reason(chain, missing) == "BAD_PROPOSER_SIGNATURE"
    # Signed by a registered key that is not the named proposer.
    other = chain.resign(block, key=chain.admin("bureau"))
    assert _reason(chain, other) == "BAD_PROPOSER_SIGNATURE"


def test_signature_does_not_cover_another_header(setup: Any) -> None:
    chain, block, _ = setup
    header = chain.resign(block, time_ms=block.header.time_ms + 5).header
    assert _reason(chain, Block(header, block.proposer_signature, block.txs)) == (
        "BAD_PROPOSER_SIGNATURE"
    )


def test_unknown_proposer(setup: Any) -> None:
    chain, block, _ = setup
    outsider = chain.key("outsider")
    bad = chain.resign(block, key=outsider, proposer=outsider.public_key)
    assert _reason(chain, bad) == "UNKNOWN_PROPOSER"


def test_admin_key_is_not_a_proposer(setup: Any) -> None:
    chain, block, _ = setup
    admin = chain.admin("bureau")
    bad = chain.resign(block, key=admin, proposer=admin.public_key)
    assert _reason(chain, bad) == "UNKNOWN_PROPOSER"


def test_tampered_tx_signature(setup: Any) -> None:
    chain, block, _ = setup
    signed = decode(block.txs[1], SignedTx)
    sig = signed.signatures[0]
    forged = encode(
        SignedTx(signed.body, [Signature(sig.public_key, _flip(sig.signature, 3), sig.scheme)])
    )
    txs = [block.txs[0], forged, block.txs[2]]
    assert _reason(chain, Block(block.header, block.proposer_signature, txs)) == (
        "TX_BAD_SIGNATURE"
    )


def test_undecodable_tx(setup: Any) -> None:
    chain, block, _ = setup
    txs = [block.txs[0], b"garbage", block.txs[2]]
    assert _reason(chain, Block(block.header, block.proposer_signature, txs)) == "TX_MALFORMED"


def test_tx_for_another_chain(setup: Any) -> None:
    chain, block, _ = setup
    txs = [*block.txs[:2], chain.tx(chain_id="elsewhere")]
    assert _reason(chain, Block(block.header, block.proposer_signature, txs)) == "TX_WRONG_CHAIN"


def test_tx_root_mismatch(setup: Any) -> None:
    chain, block, _ = setup
    assert _reason(chain, chain.resign(block, tx_root=b"\x01" * 32)) == "TX_ROOT_MISMATCH"
    # Re-ordered transactions with the original header.
    swapped = Block(block.header, block.proposer_signature, [block.txs[2], *block.txs[:2]])
    assert _reason(chain, swapped) == "TX_ROOT_MISMATCH"


def test_tx_count_mismatch(setup: Any) -> None:
    chain, block, _ = setup
    assert _reason(chain, chain.resign(block, tx_count=2)) == "TX_COUNT_MISMATCH"
    dropped = Block(block.header, block.proposer_signature, block.txs[:2])
    assert _reason(chain, dropped) == "TX_COUNT_MISMATCH"


def test_extra_tx_smuggled_in(setup: Any) -> None:
    chain, block, _ = setup
    extra = Block(block.header, block.proposer_signature, [*block.txs, chain.tx()])
    assert _reason(chain, extra) == "TX_COUNT_MISMATCH"
    # Even with a matching count the roots give it away.
    assert _reason(chain, chain.resign(extra, tx_count=4)) == "TX_ROOT_MISMATCH"


def test_receipts_root_mismatch(setup: Any) -> None:
    chain, block, _ = setup
    bad = chain.resign(block, receipts_root=b"\x02" * 32)
    assert _reason(chain, bad) == "RECEIPTS_ROOT_MISMATCH"


def test_state_root_mismatch(setup: Any) -> None:
    chain, block, _ = setup
    bad = chain.resign(block, state_root=chain.header.state_root)
    assert _reason(chain, bad) == "STATE_ROOT_MISMATCH"


def test_block_time_is_part_of_the_state(setup: Any) -> None:
    chain, block, _ = setup
    # Anchors record the block time, so another time gives other receipts and state.
    bad = chain.resign(block, time_ms=block.header.time_ms + 1)
    assert _reason(chain, bad) == "RECEIPTS_ROOT_MISMATCH"


def test_replayed_tx_inside_a_block(setup: Any) -> None:
    chain, block, committed = setup
    seen = RecentTxIndex()
    seen.add([(chain.check(committed[0]).tx_id, 100)])
    replay = Block(block.header, block.proposer_signature, [*block.txs, committed[0]])
    assert _reason(chain, replay, seen=seen) == "TX_REPLAYED"


def test_same_tx_twice_in_a_block(setup: Any) -> None:
    chain, block, _ = setup
    twice = Block(block.header, block.proposer_signature, [block.txs[0], block.txs[0]])
    assert _reason(chain, twice) == "TX_REPLAYED"


def test_expired_tx_inside_a_block(setup: Any) -> None:
    chain, block, _ = setup
    stale = chain.tx(valid_until=1)
    bad = Block(block.header, block.proposer_signature, [stale])
    assert _reason(chain, bad) == "TX_EXPIRED"


def test_unknown_sender_inside_a_block(setup: Any) -> None:
    chain, block, _ = setup
    bad = Block(block.header, block.proposer_signature, [chain.tx(chain.key("outsider"))])
    assert _reason(chain, bad) == "TX_UNKNOWN_SENDER"
