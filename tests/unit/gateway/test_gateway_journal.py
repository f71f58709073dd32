"""The receipt journal: durable, replay-proof, counting uses until the chain counts them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import msgspec
import pytest

from govchain.contracts.sharing_records import AccessReceipt
from govchain.errors import AuthReplayed, StorageError
from govchain.gateway.journal import ReceiptJournal


def receipt(grant_id: str = "g1", time_ms: int = 1, key: bytes = b"k" * 32) -> AccessReceipt:
    return AccessReceipt(
        grant_id, os.urandom(32), os.urandom(32), ["a"], time_ms, "tax", key, b"", b"o", b"s"
    )


def test_a_request_is_answered_once_even_after_a_restart(tmp_path: Path) -> None:
    journal = ReceiptJournal(tmp_path / "j.db")
    first = receipt()
    assert journal.add_issued(first, grant_height=1, uses_left=5)
    journal.close()
    reopened = ReceiptJournal(tmp_path / "j.db")
    assert reopened.has_request(first.request_hash)
    with pytest.raises(AuthReplayed) as err:
        reopened.add_issued(first, grant_height=1, uses_left=5)
    assert err.value.code == "AUTH_REPLAYED"


def test_uses_left_counts_unsettled_receipts(tmp_path: Path) -> None:
    journal = ReceiptJournal(tmp_path / "j.db")
    a, b = receipt(), receipt()
    assert journal.add_issued(a, grant_height=1, uses_left=2)
    assert journal.add_issued(b, grant_height=1, uses_left=2)
    assert not journal.add_issued(receipt(), grant_height=1, uses_left=2)
    assert journal.add_issued(receipt("g2"), grant_height=1, uses_left=1)  # another grant
    journal.set_anchored([a.request_hash], 5)
    assert journal.count_unsettled("g1", 4) == 2  # the grant read at 4 does not count it yet
    assert journal.count_unsettled("g1", 5) == 1  # read at 5 it does


def test_only_countersigned_receipts_are_ready(tmp_path: Path) -> None:
    journal = ReceiptJournal(tmp_path / "j.db")
    issued, signed = receipt(time_ms=2), receipt(time_ms=1)
    for r in (issued, signed):
        journal.add_issued(r, grant_height=1, uses_left=9)
    journal.set_countersigned([msgspec.structs.replace(signed, requester_signature=b"r")])
    assert [r.requester_signature for r in journal.list_ready(10)] == [b"r"]
    assert journal.ready_summary() == (1, 1)
    assert journal.count_outstanding("g1", b"k" * 32) == 1
    entry = journal.get(signed.request_hash)
    assert entry is not None and entry.state == "countersigned"


def test_refused_receipts_stay_and_keep_counting(tmp_path: Path) -> None:
    journal = ReceiptJournal(tmp_path / "j.db")
    r = receipt()
    journal.add_issued(r, grant_height=1, uses_left=1)
    journal.set_refused(r.request_hash)
    assert journal.counts()["refused"] == 1
    assert not journal.add_issued(receipt(), grant_height=9, uses_left=1)


def test_unopenable_journal(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as err:
        ReceiptJournal(tmp_path / "missing" / "j.db")
    assert err.value.code == "STORAGE_ERROR"


def test_many_threads_write_at_once(tmp_path: Path) -> None:
    """Group commit: concurrent issues and counter-signatures all land, none is lost."""
    journal = ReceiptJournal(tmp_path / "j.db")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            signed = []
            for _ in range(40):
                r = receipt()
                assert journal.add_issued(r, grant_height=1, uses_left=10_000)
                assert journal.get(r.request_hash) is not None
                signed.append(msgspec.structs.replace(r, requester_signature=b"x" * 64))
                if len(signed) == 10:
                    journal.set_countersigned(signed)
                    signed = []
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert journal.counts()["countersigned"] == 240
    journal.close()
