"""The orderer protocol (after Fabric's ``Consenter``/``Chain.Order``).

The node hands admitted transactions to :meth:`Orderer.order`; the orderer decides their total
order and hands back batches, one per block, through :meth:`Orderer.next_batch`, in the same
sequence on every node. The orderer never executes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from govchain.consensus.cutter import CutterConfig
from govchain.execution import CheckedTx

__all__ = ["OrderedBatch", "Orderer"]


@dataclass(frozen=True, slots=True)
class OrderedBatch:
    txs: list[CheckedTx]
    time_ms: int  # the time the batch was cut; the block time is max(this, previous block time)
    proposer: bytes | None = None  # the batch author's node key (None: this node)


class Orderer(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    async def order(self, txs: Sequence[CheckedTx]) -> None:
        """Accept admitted transactions for ordering."""

    async def next_batch(self) -> OrderedBatch:
        """The next batch in the total order (waits until one is cut)."""

    def update_config(self, config: CutterConfig) -> None:
        """Cut blocks under new limits (called after a block that changed the chain
        parameters was committed)."""
