"""Anchoring in batches: when a batch goes, what happens when the chain refuses one receipt."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from govchain.contracts.sharing_records import AccessReceipt
from govchain.errors import ContractError, GovchainError, OversizedTransaction
from govchain.gateway.anchor import ReceiptAnchorer
from govchain.gateway.journal import ReceiptJournal


class Chain:
    def __init__(self) -> None:
        self.batches: list[list[AccessReceipt]] = []
        self.refuse: list[ContractError | GovchainError] = []
        self.height = 10

    def submit(self, receipts: list[AccessReceipt]) -> int:
        if self.refuse:
            raise self.refuse.pop(0)
        self.batches.append(receipts)
        self.height += 1
        return self.height

    def lookup(self, request_hash: bytes) -> int:
        return 7


def ready_journal(tmp_path: Path, n: int, time_ms: int = 1_000) -> ReceiptJournal:
    journal = ReceiptJournal(tmp_path / "j.db")
    for i in range(n):
        r = AccessReceipt(
            "g", os.urandom(32), os.urandom(32), ["a"], time_ms + i, "t", b"k", b"", b"", b""
        )
        journal.add_issued(r, grant_height=1, uses_left=1000)
        journal.set_countersigned([msgspec.structs.replace(r, requester_signature=b"s")])
    return journal


def anchorer(journal: ReceiptJournal, chain: Chain, now_ms: int) -> ReceiptAnchorer:
    return ReceiptAnchorer(
        journal,
        chain.submit,
        chain.lookup,
        batch_size=3,
        flush_ms=500,
        clock=lambda: now_ms / 1000,
    )


def test_a_full_batch_goes_at_once(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 4)
    assert anchorer(journal, chain, 1_000).flush_once() == 3
    assert journal.counts()["anchored"] == 3


def test_a_partial_batch_waits_for_flush_ms(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 2)
    assert anchorer(journal, chain, 1_100).flush_once() == 0
    assert anchorer(journal, chain, 1_600).flush_once() == 2
    assert anchorer(journal, chain, 1_100).flush_once(force=True) == 0  # nothing left


def test_a_receipt_the_chain_refuses_is_set_aside(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 3)
    chain.refuse.append(ContractError("receipt 1: key revoked", code="SHARE_REQUESTER_KEY_INVALID"))
    assert anchorer(journal, chain, 1_000).flush_once() == 2
    assert journal.counts() == {"issued": 0, "countersigned": 0, "anchored": 2, "refused": 1}


def test_a_receipt_already_on_chain_counts_as_anchored(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 3)
    chain.refuse.append(ContractError("receipt 0: already", code="SHARE_RECEIPT_REPLAYED"))
    assert anchorer(journal, chain, 1_000).flush_once() == 2
    assert journal.counts()["anchored"] == 3


def test_other_failures_leave_the_receipts_for_a_retry(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 3)
    chain.refuse.append(GovchainError("cannot reach the node"))
    a = anchorer(journal, chain, 1_000)
    with pytest.raises(GovchainError):
        a.flush_once()
    assert journal.counts()["countersigned"] == 3
    assert a.flush_once() == 3


def test_an_unnamed_contract_error_is_retried(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 3)
    chain.refuse.append(ContractError("batch too large", code="SHARE_BAD_BATCH"))
    with pytest.raises(ContractError):
        anchorer(journal, chain, 1_000).flush_once()
    assert journal.counts()["countersigned"] == 3


def test_stop_flushes_what_is_ready(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 2)
    a = anchorer(journal, chain, 1_000)
    a.start()
    a.stop()
    assert journal.counts()["anchored"] == 2


def test_a_batch_too_large_for_the_chain_is_halved_from_then_on(tmp_path: Path) -> None:
    chain, journal = Chain(), ready_journal(tmp_path, 3)
    chain.refuse.append(OversizedTransaction("transaction too large"))
    a = anchorer(journal, chain, 1_000)
    assert a.flush_once() == 1 and a.batch_limit == 1
    assert a.flush_once() == 1 and [len(b) for b in chain.batches] == [1, 1]
