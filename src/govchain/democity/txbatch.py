"""Many transactions in one round: build and sign them all, submit them in one request, wait for
every fate. A round costs about one block interval however many transactions it holds, which is
what lets the demo set a whole city up in seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govchain.client import Client, TxOutcome, add_signature
from govchain.crypto.signing import KeyPair
from govchain.errors import GovchainError

__all__ = ["TxRound"]


@dataclass
class TxRound:
    """Collect signed transactions, then :meth:`run` them together (failed ones raise)."""

    client: Client
    raws: list[bytes] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(
        self,
        key: KeyPair,
        contract: str,
        method: str,
        args: Any,
        *,
        cosigners: Sequence[KeyPair] = (),
        label: str = "",
    ) -> int:
        """Queue one transaction (co-signed by ``cosigners``); returns its index in the round."""
        raw = self.client.build(key, contract, method, args)
        for co in cosigners:
            raw = add_signature(raw, co)
        self.raws.append(raw)
        self.labels.append(label or f"{contract}.{method}")
        return len(self.raws) - 1

    def run(self, *, check: bool = True, timeout: float = 60.0) -> list[TxOutcome]:
        """Submit every queued transaction and wait for all. A transaction refused at admission
        always raises (naming it); with ``check`` so does a failed receipt."""
        outcomes: list[TxOutcome] = []
        for start in range(0, len(self.raws), 1000):
            answer = self.client.submit_batch(self.raws[start : start + 1000])
            for i, result in enumerate(answer["results"]):
                if result.get("error") is not None:
                    detail = result["error"].get("detail")
                    raise GovchainError(f"{self.labels[start + i]} was rejected: {detail}")
            outcomes.extend(self.client.wait(str(r["tx_id"]), timeout) for r in answer["results"])
        if check:
            for label, outcome in zip(self.labels, outcomes, strict=True):
                if not outcome.ok:
                    raise GovchainError(f"{label} failed: {outcome.code}: {outcome.message}")
        self.raws.clear()
        self.labels.clear()
        return outcomes
