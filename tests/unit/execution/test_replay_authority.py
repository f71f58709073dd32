"""``replay_block(..., authority_checked=True)``: when the caller established the header's
authority itself (a finality certificate over an unsigned block another peer proposed), the
proposer is not checked — everything else still is."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from govchain.app.readers import StoreState
from govchain.errors import InvalidBlock
from govchain.execution import RecentTxIndex, replay_block
from govchain.types import Block


@pytest.fixture
def unsigned(chain: Any) -> tuple[Any, Block]:
    """A chain at height 1 and its next block, finalized but stored without a signature."""
    chain.commit([chain.tx()])
    block = chain.finalize([chain.tx(), chain.tx()]).block
    return chain, Block(block.header, b"", block.txs)


def replay(chain: Any, block: Block, **kw: Any) -> str | None:
    try:
        replay_block(
            StoreState(chain.store),
            chain.store,
            chain.registry,
            chain.params,
            chain.header,
            block,
            RecentTxIndex(),
            **kw,
        )
    except InvalidBlock as exc:
        return str(exc.details["reason"])
    return None


def test_an_unsigned_block_needs_the_callers_word(unsigned: Any) -> None:
    chain, block = unsigned
    assert replay(chain, block) == "BAD_PROPOSER_SIGNATURE"
    assert replay(chain, block, authority_checked=True) is None


def test_the_proposer_is_not_checked_then(unsigned: Any) -> None:
    chain, block = unsigned
    outsider = chain.key("outsider").public_key  # not a registered node
    header = msgspec.structs.replace(block.header, proposer=outsider)
    other = Block(header, b"", block.txs)
    assert replay(chain, other) == "UNKNOWN_PROPOSER"
    assert replay(chain, other, authority_checked=True) is None


def test_linkage_and_roots_are_still_checked(unsigned: Any) -> None:
    chain, block = unsigned
    late = msgspec.structs.replace(block.header, prev_hash=b"\x00" * 32)
    assert replay(chain, Block(late, b"", block.txs), authority_checked=True) == (
        "PREV_HASH_MISMATCH"
    )
    assert replay(chain, Block(block.header, b"", block.txs[:1]), authority_checked=True) == (
        "TX_COUNT_MISMATCH"
    )
    forged = msgspec.structs.replace(block.header, state_root=b"\x01" * 32)
    assert replay(chain, Block(forged, b"", block.txs), authority_checked=True) == (
        "STATE_ROOT_MISMATCH"
    )
