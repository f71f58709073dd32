"""Anchoring access receipts on chain in batches (a background thread of the owner's gateway).

A batch goes out when ``batch_size`` counter-signed receipts are ready or the oldest has waited
``flush_ms``; a batch the chain finds too large (``TX_TOO_LARGE``) is halved, and so are the
batches after it. The sharing contract anchors a batch all or nothing and names the first receipt it
refuses (``receipt N: ...``): that receipt is set aside — marked anchored if the chain already has
it (``SHARE_RECEIPT_REPLAYED``, e.g. after a lost answer), refused otherwise — and the rest is
sent again. Any other failure (node unreachable, mempool full) is retried with a growing delay;
receipts stay in the journal until the chain has them, so none is lost to a crash.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

from govchain.client.sdk import Client
from govchain.contracts.sharing_records import AccessReceipt
from govchain.crypto.signing import KeyPair
from govchain.errors import ContractError, GovchainError, OversizedTransaction
from govchain.gateway.journal import ReceiptJournal

__all__ = ["AnchorSubmitter", "ReceiptAnchorer", "anchored_height_of", "submit_to_chain"]

log = logging.getLogger("govchain.gateway")
AnchorSubmitter = Callable[[list[AccessReceipt]], int]  # anchors a batch; the block height
HeightLookup = Callable[[bytes], int]  # the height at which a request hash was anchored
RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
ALREADY_ANCHORED = "SHARE_RECEIPT_REPLAYED"
_NAMED = re.compile(r"receipt (\d+): ")


def submit_to_chain(client: Client, key: KeyPair) -> AnchorSubmitter:
    """Anchor through the sharing contract, signed by the gateway's member key."""

    def submit(receipts: list[AccessReceipt]) -> int:
        outcome = client.send(key, "sharing", "anchor_receipts", {"receipts": receipts})
        if outcome.status != "committed" or outcome.height is None:
            raise GovchainError(f"anchoring transaction {outcome.tx_id} is {outcome.status}")
        return outcome.height

    return submit


def anchored_height_of(client: Client) -> HeightLookup:
    def lookup(request_hash: bytes) -> int:
        record = client.query("sharing", "access", {"request_hash": request_hash})
        return int(record["height"])

    return lookup


class ReceiptAnchorer:
    """Flushes counter-signed receipts from the journal to the chain until stopped."""

    def __init__(
        self,
        journal: ReceiptJournal,
        submit: AnchorSubmitter,
        lookup: HeightLookup,
        *,
        batch_size: int = 200,
        flush_ms: int = 1000,
        on_anchored: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.journal = journal
        self.submit = submit
        self.lookup = lookup
        self.batch_size = batch_size
        self.flush_ms = flush_ms
        self.on_anchored = on_anchored
        self.clock = clock
        self.batch_limit = batch_size  # lowered when the chain finds a batch too large
        self.anchored = 0
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """A receipt became ready (counter-signed)."""
        self._wake.set()

    def flush_once(self, *, force: bool = False) -> int:
        """Anchor one batch if one is due (any ready receipt with ``force``); how many went
        on chain."""
        ready, oldest = self.journal.ready_summary()
        now_ms = int(self.clock() * 1000)
        full = ready >= min(self.batch_size, self.batch_limit)
        due = full or (oldest is not None and now_ms - oldest >= self.flush_ms)
        if not ready or not (due or force):
            return 0
        batch = self.journal.list_ready(min(self.batch_size, self.batch_limit))
        while batch:
            try:
                height = self.submit(batch)
            except OversizedTransaction:
                batch = self._halve(batch)
                continue
            except ContractError as exc:
                batch = self._set_aside(batch, exc)
                continue
            self._anchored([r.request_hash for r in batch], height)
            log.info("anchored %d access receipts at height %d", len(batch), height)
            return len(batch)
        return 0

    def _halve(self, batch: list[AccessReceipt]) -> list[AccessReceipt]:
        """The chain's transaction size limit: anchor fewer receipts at a time from now on."""
        if len(batch) == 1:
            log.error("receipt %s alone exceeds the size limit", batch[0].request_hash.hex()[:16])
            self.journal.set_refused(batch[0].request_hash)
            return []
        self.batch_limit = len(batch) // 2
        log.warning("anchoring batches too large for the chain; now %d", self.batch_limit)
        return batch[: self.batch_limit]

    def _set_aside(self, batch: list[AccessReceipt], exc: ContractError) -> list[AccessReceipt]:
        """Take the receipt the contract named out of ``batch``; re-raise if none is named."""
        named = _NAMED.match(exc.message)
        if named is None or int(named[1]) >= len(batch):
            raise exc
        index = int(named[1])
        receipt = batch[index]
        if exc.code == ALREADY_ANCHORED:
            self._anchored([receipt.request_hash], self.lookup(receipt.request_hash))
        else:
            log.error("the chain refused receipt %s: %s", receipt.request_hash.hex()[:16], exc.code)
            self.journal.set_refused(receipt.request_hash)
        return batch[:index] + batch[index + 1 :]

    def _anchored(self, request_hashes: list[bytes], height: int) -> None:
        self.journal.set_anchored(request_hashes, height)
        self.anchored += len(request_hashes)
        if self.on_anchored is not None:
            self.on_anchored(height)

    def _wait_s(self) -> float:
        _, oldest = self.journal.ready_summary()
        if oldest is None:
            return self.flush_ms / 1000
        return max(0.0, (oldest + self.flush_ms) / 1000 - self.clock())

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                while self.flush_once():
                    pass
                self.failures = 0
            except GovchainError as exc:
                delay = RETRY_S[min(self.failures, len(RETRY_S) - 1)]
                self.failures += 1
                log.warning("anchoring failed (%s); retrying in %gs", exc.code, delay)
                self._stop.wait(delay)
                continue
            self._wake.wait(self._wait_s())
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="gateway-anchor", daemon=True)
        self._thread.start()

    def stop(self, *, flush: bool = True) -> None:
        """Stop the thread; with ``flush`` anchor what is ready (once, best effort)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=90)
        if flush:
            try:
                while self.flush_once(force=True):
                    pass
            except GovchainError as exc:
                log.warning("receipts left to anchor at the next start (%s)", exc.code)
