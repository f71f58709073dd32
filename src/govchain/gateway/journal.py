"""The gateway's receipt journal: every access receipt is saved here before the data leaves.

One SQLite file (WAL, ``synchronous=FULL``): a receipt that was answered survives a crash, and
the background anchorer finds it again. A receipt's life::

    issued ──(requester counter-signs)──> countersigned ──(anchored on chain)──> anchored
                                                │
                                                └──(the chain refuses it)──> refused

The chain anchors only receipts both sides signed. A receipt the requester never counter-signs
stays ``issued``: the owner keeps it (and the signed request it answers) as evidence, and it
counts against its grant here for good; a requester leaving many such receipts is refused
further requests (``GATEWAY_RECEIPTS_OUTSTANDING``).

The request hash is the primary key, so a replayed request can never be answered twice, even
across restarts. Uses of a grant are counted here until the chain has counted them: a receipt
still counts while it is not anchored, or was anchored after the height at which the grant was
read (its use is not yet in that grant record).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import msgspec

from govchain.contracts.sharing_records import AccessReceipt
from govchain.encoding import decode, encode
from govchain.errors import AuthReplayed, StorageError
from govchain.gateway.groupcommit import GroupCommitter

__all__ = ["JournalEntry", "ReceiptJournal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    request_hash BLOB PRIMARY KEY,
    grant_id TEXT NOT NULL,
    requester_key BLOB NOT NULL,
    time_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    anchored_height INTEGER,
    receipt BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS receipts_grant ON receipts (grant_id, state);
CREATE INDEX IF NOT EXISTS receipts_state ON receipts (state, time_ms);
"""
ISSUED, COUNTERSIGNED, ANCHORED, REFUSED = "issued", "countersigned", "anchored", "refused"


class JournalEntry(msgspec.Struct, frozen=True):
    receipt: AccessReceipt
    state: str
    anchored_height: int | None


class ReceiptJournal:
    """Thread-safe. Writes go through a :class:`GroupCommitter` (each durable before it
    returns, many per fsync); reads use a connection of their own."""

    def __init__(self, path: Path | str) -> None:
        try:
            writer = self._connect(path)
            writer.execute("PRAGMA journal_mode=WAL")
            writer.executescript(_SCHEMA)
            self._db = self._connect(path)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the receipt journal {path}: {exc}") from exc
        self._writer = writer
        self._commits = GroupCommitter(writer)
        self._lock = threading.Lock()  # guards the read connection

    @staticmethod
    def _connect(path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def close(self) -> None:
        self._commits.close()
        with self._lock:
            self._db.close()
            self._writer.close()

    def _update(self, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
        def update(db: sqlite3.Connection) -> None:
            cursor = db.executemany(sql, rows)
            cursor.close()  # no statement outlives its transaction

        self._commits.run(update)

    def _count_unsettled(self, db: sqlite3.Connection, grant_id: str, height: int) -> int:
        row = db.execute(
            "SELECT count(*) FROM receipts WHERE grant_id = ? AND "
            "(state != ? OR anchored_height > ?)",
            (grant_id, ANCHORED, height),
        ).fetchone()
        return int(row[0])

    def count_unsettled(self, grant_id: str, grant_height: int) -> int:
        """Uses of a grant the chain's record read at ``grant_height`` does not count yet."""
        with self._lock:
            return self._count_unsettled(self._db, grant_id, grant_height)

    def count_outstanding(self, grant_id: str, requester_key: bytes) -> int:
        """Receipts of this grant and key still waiting for the requester's signature."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM receipts WHERE grant_id = ? AND requester_key = ? "
                "AND state = ?",
                (grant_id, requester_key, ISSUED),
            ).fetchone()
        return int(row[0])

    def add_issued(self, receipt: AccessReceipt, *, grant_height: int, uses_left: int) -> bool:
        """Save a receipt if the grant has a use left once unsettled receipts are counted;
        False (nothing saved) when it has not. A request hash seen before raises
        :class:`AuthReplayed`."""

        def insert(db: sqlite3.Connection) -> bool:
            if self._count_unsettled(db, receipt.grant_id, grant_height) >= uses_left:
                return False
            try:
                db.execute(
                    "INSERT INTO receipts VALUES (?, ?, ?, ?, ?, NULL, ?)",
                    (
                        receipt.request_hash,
                        receipt.grant_id,
                        receipt.requester_key,
                        receipt.time_ms,
                        ISSUED,
                        encode(receipt),
                    ),
                )
            except sqlite3.IntegrityError:
                raise AuthReplayed(
                    f"request {receipt.request_hash.hex()} was already answered"
                ) from None
            return True

        return self._commits.run(insert)

    def has_request(self, request_hash: bytes) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM receipts WHERE request_hash = ?", (request_hash,)
            ).fetchone()
        return row is not None

    def get(self, request_hash: bytes) -> JournalEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT receipt, state, anchored_height FROM receipts WHERE request_hash = ?",
                (request_hash,),
            ).fetchone()
        if row is None:
            return None
        return JournalEntry(decode(row[0], AccessReceipt), row[1], row[2])

    def set_countersigned(self, receipts: list[AccessReceipt]) -> None:
        """Replace issued receipts by their counter-signed form (one durable transaction)."""
        rows = [(encode(r), COUNTERSIGNED, r.request_hash, ISSUED) for r in receipts]
        self._update(
            "UPDATE receipts SET receipt = ?, state = ? WHERE request_hash = ? AND state = ?", rows
        )

    def list_ready(self, limit: int) -> list[AccessReceipt]:
        """Counter-signed receipts to anchor, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT receipt FROM receipts WHERE state = ? ORDER BY time_ms LIMIT ?",
                (COUNTERSIGNED, limit),
            ).fetchall()
        return [decode(r[0], AccessReceipt) for r in rows]

    def ready_summary(self) -> tuple[int, int | None]:
        """How many receipts are ready to anchor, and the oldest one's time."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*), min(time_ms) FROM receipts WHERE state = ?", (COUNTERSIGNED,)
            ).fetchone()
        return int(row[0]), None if row[1] is None else int(row[1])

    def set_refused(self, request_hash: bytes) -> None:
        """The chain refused to anchor this receipt; it stays here as evidence (and keeps
        counting against its grant)."""
        self._update(
            "UPDATE receipts SET state = ? WHERE request_hash = ?", [(REFUSED, request_hash)]
        )

    def set_anchored(self, request_hashes: list[bytes], height: int) -> None:
        self._update(
            "UPDATE receipts SET state = ?, anchored_height = ? WHERE request_hash = ?",
            [(ANCHORED, height, h) for h in request_hashes],
        )

    def counts(self) -> dict[str, int]:
        """How many receipts are in each state."""
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM receipts GROUP BY state")
            found = {str(state): int(n) for state, n in rows}
        return {s: found.get(s, 0) for s in (ISSUED, COUNTERSIGNED, ANCHORED, REFUSED)}
