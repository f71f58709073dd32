"""Signed log batches and the etcd key layout."""

from __future__ import annotations

import pytest

from govchain.consensus.batch import (
    LogBatch,
    LogLayout,
    encode_seq,
    get_batch_problem,
    sign_batch,
)
from govchain.crypto.signing import ED25519, get_scheme
from govchain.encoding import decode, encode

KEY = get_scheme(ED25519).from_seed(bytes(range(32)))
OTHER = get_scheme(ED25519).from_seed(bytes(32))
PEERS = {"node0": KEY.public_key, "node1": OTHER.public_key}


def _batch(seq: int = 7) -> LogBatch:
    return sign_batch(KEY, "city", seq, 1_700_000_000_000, "node0", [b"tx-a", b"tx-b"])


def test_a_signed_batch_holds_and_round_trips() -> None:
    batch = _batch()
    assert get_batch_problem(batch, "city", 7, PEERS) is None
    assert decode(encode(batch), LogBatch) == batch


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"chain_id": "other"}, "is for chain 'other'"),
        ({"seq": 8}, "says it is batch 8"),
        ({"author": "node1"}, "is not a peer with that key"),
        ({"author": "stranger"}, "signature does not verify"),
        ({"txs": [b"tx-a"]}, "signature does not verify"),
        ({"time_ms": 1}, "signature does not verify"),
    ],
)
def test_a_tampered_batch_is_refused(change: dict[str, object], expected: str) -> None:
    import msgspec

    batch = msgspec.structs.replace(_batch(), **change)
    problem = get_batch_problem(batch, "city", 7, PEERS)
    assert problem is not None and expected in problem


def test_a_well_signed_batch_of_another_node_passes_the_log_check() -> None:
    """Whether a node that is not a founding peer may fill a block (one governance added, or
    removed) is judged on chain state when the batch executes, not here."""
    newcomer = get_scheme(ED25519).from_seed(bytes([7]) * 32)
    batch = sign_batch(newcomer, "city", 7, 1_700_000_000_000, "node4", [b"tx-a"])
    assert get_batch_problem(batch, "city", 7, PEERS) is None
    impostor = sign_batch(newcomer, "city", 7, 1_700_000_000_000, "node1", [b"tx-a"])
    problem = get_batch_problem(impostor, "city", 7, PEERS)
    assert problem is not None and "is not a peer with that key" in problem


def test_a_batch_moved_to_another_sequence_is_refused() -> None:
    problem = get_batch_problem(_batch(7), "city", 9, PEERS)
    assert problem is not None and "says it is batch 7" in problem


def test_keys_sort_in_number_order() -> None:
    layout = LogLayout("city")
    keys = [layout.log_key(n) for n in (0, 9, 10, 99, 100, 12345678901)]
    assert keys == sorted(keys)
    assert layout.log_key(42) == b"/govchain/city/log/00000000000000000042"
    assert layout.seq_of(layout.log_key(42)) == 42
    assert layout.att_key(5, "node1") == b"/govchain/city/att/00000000000000000005/node1"
    assert encode_seq(3) == b"00000000000000000003"
