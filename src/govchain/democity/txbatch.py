"""Many transactions in one round: queue them, then submit them in one request and wait for every
fate (:func:`govchain.scenarios.setup.run_round`). A round costs about one block interval however
many transactions it holds, which is what lets the demo set a whole city up in seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govchain.client import Client, TxOutcome
from govchain.crypto.signing import KeyPair
from govchain.scenarios.setup import TxItem, run_round

__all__ = ["TxRound"]


@dataclass
class TxRound:
    """Collect transactions, then :meth:`run` them together (a refused or failed one raises,
    naming it)."""

    client: Client
    items: list[TxItem] = field(default_factory=list)

    def add(
        self,
        key: KeyPair,
        contract: str,
        method: str,
        args: Any,
        *,
        cosigners: Sequence[KeyPair] = (),
    ) -> None:
        """Queue one transaction signed by ``key`` and co-signed by ``cosigners``."""
        self.items.append((key, contract, method, args, tuple(cosigners)))

    def __len__(self) -> int:
        return len(self.items)

    def run(self) -> list[TxOutcome]:
        """Submit every queued transaction, wait for all, and start a new round."""
        items, self.items = self.items, []
        return run_round(self.client, items)
