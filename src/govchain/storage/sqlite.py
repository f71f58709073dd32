"""The SQLite :class:`~govchain.storage.base.LedgerStore` (stdlib ``sqlite3``, WAL mode).

One writer connection, guarded by a lock, performs every :meth:`SqliteLedgerStore.commit` in a
single ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction: a crash at any moment leaves either the whole
block or none of it. With ``durable=True`` (the default) the WAL is fsynced on every commit
(``synchronous=FULL``), so neither ``kill -9`` nor a power cut loses a committed block; with
``durable=False`` (``synchronous=NORMAL``) a power cut may lose the last blocks but never corrupts
the store.

Reads go through a small pool of read-only connections, so API threads read while the commit
thread writes (WAL readers see the last committed block and never block the writer). Iterators
fetch in pages, each page a short statement, pinned to the height at which iteration started, so
an abandoned iterator never holds a read snapshot open.

State is versioned: ``state(key, height, value)`` keeps a row per write (``value`` NULL for a
delete), and a read as of height ``h`` takes the newest row with ``height <= h``.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from govchain.encoding import decode, encode
from govchain.errors import StorageError
from govchain.storage.base import ChainMeta, CommitBatch, TxLocation, check_certificate_target
from govchain.types.finality import FinalityCertificate

__all__ = ["SCHEMA_VERSION", "SqliteLedgerStore"]

SCHEMA_VERSION = 2

_FINALITY_TABLE = (
    "CREATE TABLE IF NOT EXISTS finality (height INTEGER PRIMARY KEY, block_hash BLOB NOT NULL,"
    " data BLOB NOT NULL)"
)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    " state_root BLOB NOT NULL, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS txs (tx_id BLOB PRIMARY KEY, height INTEGER NOT NULL,"
    " idx INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS receipts (height INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY (height, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS state (key BLOB NOT NULL, height INTEGER NOT NULL, value BLOB,"
    " PRIMARY KEY (key, height)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS nodes (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
    _FINALITY_TABLE,
)
# Upgrades of an existing database, by the version they start from; each statement is idempotent.
_MIGRATIONS: dict[int, tuple[str, ...]] = {1: (_FINALITY_TABLE,)}

_WRITER_CACHE_KIB = 32_768  # SQLite page cache of the writer connection
_READER_CACHE_KIB = 4_096  # page cache of each reader connection
_READERS = 4  # at most this many reader connections
_BLOCK_PAGE = 32  # blocks fetched per statement by iter_blocks
_STATE_PAGE = 512  # keys fetched per statement by iter_state
_CHECKPOINT_INTERVAL_S = 0.5  # at most one background checkpoint this often
_WAL_FORCE_FRAMES = 16_384  # a WAL this long (64 MiB of 4 KiB pages) is checkpointed under lock

_LATEST_STATE_SQL = "SELECT value FROM state WHERE key = ? ORDER BY height DESC LIMIT 1"
_STATE_AS_OF_SQL = (
    "SELECT value FROM state WHERE key = ? AND height <= ? ORDER BY height DESC LIMIT 1"
)
# Live keys in [low, high) as of a height: rows that are the newest version of their key at or
# below the height and are not deletions.
_STATE_RANGE_SQL = (
    "SELECT s.key, s.value FROM state AS s WHERE s.key >= ?1 AND {upper} s.height <= ?2"
    " AND s.value IS NOT NULL AND s.height = (SELECT MAX(t.height) FROM state AS t"
    " WHERE t.key = s.key AND t.height <= ?2) ORDER BY s.key LIMIT ?3"
)
# One row per receipt, or a single NULL row for a block without transactions, or no row at all
# when the block does not exist.
_RECEIPTS_SQL = (
    "SELECT r.data FROM blocks AS b LEFT JOIN receipts AS r ON r.height = b.height"
    " WHERE b.height = ? ORDER BY r.idx"
)


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string that starts with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class _NodeCache:
    """A bounded, thread-safe LRU map from node hash to encoded node."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put_many(self, items: dict[bytes, bytes]) -> None:
        if self._capacity <= 0:
            return
        with self._lock:
            self._items.update(items)
            excess = len(self._items) - self._capacity
            for _ in range(excess):
                self._items.popitem(last=False)

    def put(self, key: bytes, value: bytes) -> None:
        self.put_many({key: value})

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _Checkpointer:
    """Copies the WAL into the database file in a background thread, on a connection of its own.

    SQLite would otherwise checkpoint inside the ``COMMIT`` that crosses the WAL size threshold,
    adding the random writes of a whole checkpoint to that block's commit time. A PASSIVE
    checkpoint needs no write lock, so commits go on while it runs; it runs at most once per
    ``interval_s`` (after a commit), so a page that several blocks change is copied once. A WAL
    that keeps growing because commits never leave a checkpoint time to finish is checkpointed
    under the store's write lock instead (see :meth:`SqliteLedgerStore._checkpoint`). Readers
    are never blocked. A crash during a checkpoint is harmless: the WAL is replayed when the
    database is next opened.
    """

    def __init__(self, checkpoint: Callable[[], None], interval_s: float) -> None:
        self._checkpoint = checkpoint
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-checkpoint", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            self._checkpoint()
            if self._stopping.wait(self._interval_s):
                return

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join()


class SqliteLedgerStore:
    """A ledger in one SQLite database file.

    ``node_cache_size`` bounds the in-process LRU cache of sparse-Merkle nodes (entries, not
    bytes; about 250 bytes each for typical nodes).
    """

    def __init__(
        self, path: str | Path, *, durable: bool = True, node_cache_size: int = 65_536
    ) -> None:
        self.path = Path(path)
        self.durable = durable
        self._write_lock = threading.Lock()
        self._closed = False
        self._node_cache = _NodeCache(node_cache_size)
        self._readers: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._writer = self._open_writer()
        self._checkpoint_conn = self._open_checkpoint_connection()
        self._checkpointer = _Checkpointer(self._checkpoint, _CHECKPOINT_INTERVAL_S)

    def __enter__(self) -> SqliteLedgerStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    def _open_writer(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the ledger database {self.path}: {exc}") from exc
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"cannot put the ledger database {self.path} in WAL mode")
            conn.execute(f"PRAGMA synchronous = {'FULL' if self.durable else 'NORMAL'}")
            conn.execute(f"PRAGMA cache_size = -{_WRITER_CACHE_KIB}")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA journal_size_limit = 67108864")
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # see _Checkpointer
            self._create_schema(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise StorageError(f"{self.path} is not a usable ledger database: {exc}") from exc
        except StorageError:
            conn.close()
            raise
        return conn

    def _open_checkpoint_connection(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
            conn.execute(f"PRAGMA synchronous = {'FULL' if self.durable else 'NORMAL'}")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error as exc:
            self._writer.close()
            raise StorageError(f"cannot open the ledger database {self.path}: {exc}") from exc
        return conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            row = self._migrate(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if row[0] != str(SCHEMA_VERSION):
            raise StorageError(
                f"{self.path} has ledger schema version {row[0]}; this node reads version "
                f"{SCHEMA_VERSION}",
                hint="Open it with a matching govchain version.",
            )

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> tuple[str]:
        """Upgrade an older database in place (inside the caller's transaction); return the
        schema version row after it."""
        select = "SELECT value FROM meta WHERE name = 'schema_version'"
        row: tuple[str] = conn.execute(select).fetchone()
        while row[0].isdigit() and int(row[0]) in _MIGRATIONS:
            for statement in _MIGRATIONS[int(row[0])]:
                conn.execute(statement)
            conn.execute(
                "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(int(row[0]) + 1),)
            )
            row = conn.execute(select).fetchone()
        return row

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        self._check_open()
        conn = self._acquire_reader()
        try:
            yield conn
        except sqlite3.Error as exc:
            raise StorageError(f"cannot read the ledger database {self.path}: {exc}") from exc
        finally:
            self._readers.put(conn)

    def _acquire_reader(self) -> sqlite3.Connection:
        try:
            return self._readers.get_nowait()
        except queue.Empty:
            pass
        with self._readers_lock:
            if len(self._all_readers) < _READERS:
                conn = self._connect()
                conn.execute(f"PRAGMA cache_size = -{_READER_CACHE_KIB}")
                conn.execute("PRAGMA query_only = 1")
                self._all_readers.append(conn)
                return conn
        return self._readers.get()

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the ledger store is closed")

    # --- chain -------------------------------------------------------------------------------
    def get_meta(self) -> ChainMeta | None:
        with self._reader() as conn:
            row = conn.execute(
                "SELECT height, hash, state_root FROM blocks ORDER BY height DESC LIMIT 1"
            ).fetchone()
        return ChainMeta(row[0], row[1], row[2]) if row else None

    def _get_block_column(self, column: str, height: int) -> bytes | None:
        with self._reader() as conn:
            row = conn.execute(
                f"SELECT {column} FROM blocks WHERE height = ?", (height,)
            ).fetchone()
        return row[0] if row else None

    def get_block(self, height: int) -> bytes | None:
        return self._get_block_column("data", height)

    def get_block_hash(self, height: int) -> bytes | None:
        return self._get_block_column("hash", height)

    def get_state_root(self, height: int) -> bytes | None:
        return self._get_block_column("state_root", height)

    def get_height_by_hash(self, block_hash: bytes) -> int | None:
        with self._reader() as conn:
            row = conn.execute("SELECT height FROM blocks WHERE hash = ?", (block_hash,)).fetchone()
        return int(row[0]) if row else None

    def iter_blocks(self, start: int, end: int | None = None) -> Iterator[tuple[int, bytes]]:
        self._check_open()
        if end is None:
            meta = self.get_meta()
            if meta is None:
                return
            end = meta.height
        low = max(start, 0)
        while low <= end:
            high = min(end, low + _BLOCK_PAGE - 1)
            with self._reader() as conn:
                rows = conn.execute(
                    "SELECT height, data FROM blocks WHERE height BETWEEN ? AND ? ORDER BY height",
                    (low, high),
                ).fetchall()
            for height, data in rows:
                yield int(height), data
            if len(rows) < high - low + 1:
                return
            low = high + 1

    # --- transactions ------------------------------------------------------------------------
    def get_tx_location(self, tx_id: bytes) -> TxLocation | None:
        with self._reader() as conn:
            row = conn.execute("SELECT height, idx FROM txs WHERE tx_id = ?", (tx_id,)).fetchone()
        return TxLocation(int(row[0]), int(row[1])) if row else None

    def get_receipts(self, height: int) -> list[bytes] | None:
        with self._reader() as conn:
            rows = conn.execute(_RECEIPTS_SQL, (height,)).fetchall()
        if not rows:
            return None
        return [row[0] for row in rows if row[0] is not None]

    def get_receipt(self, height: int, index: int) -> bytes | None:
        with self._reader() as conn:
            row = conn.execute(
                "SELECT data FROM receipts WHERE height = ? AND idx = ?", (height, index)
            ).fetchone()
        return row[0] if row else None

    # --- state -------------------------------------------------------------------------------
    def get_state(self, key: bytes, height: int | None = None) -> bytes | None:
        with self._reader() as conn:
            if height is None:
                row = conn.execute(_LATEST_STATE_SQL, (key,)).fetchone()
            else:
                row = conn.execute(_STATE_AS_OF_SQL, (key, height)).fetchone()
        return row[0] if row else None

    def get_node(self, node_hash: bytes) -> bytes | None:
        cached = self._node_cache.get(node_hash)
        if cached is not None:
            return cached
        with self._reader() as conn:
            row = conn.execute("SELECT data FROM nodes WHERE hash = ?", (node_hash,)).fetchone()
        if row is None:
            return None
        data: bytes = row[0]
        self._node_cache.put(node_hash, data)
        return data

    def iter_state(
        self, prefix: bytes, height: int | None = None, limit: int | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        self._check_open()
        if limit is not None and limit <= 0:
            return
        if height is None:
            meta = self.get_meta()
            if meta is None:
                return
            height = meta.height
        end = _prefix_end(prefix)
        sql = _STATE_RANGE_SQL.format(upper="s.key < ?4 AND" if end is not None else "")
        remaining = -1 if limit is None else limit
        low = prefix
        while remaining != 0:
            page = _STATE_PAGE if remaining < 0 else min(remaining, _STATE_PAGE)
            params: tuple[object, ...] = (low, height, page)
            if end is not None:
                params += (end,)
            with self._reader() as conn:
                rows = conn.execute(sql, params).fetchall()
            yield from rows
            remaining = max(remaining - len(rows), 0) if remaining > 0 else remaining
            if len(rows) < page:
                return
            low = rows[-1][0] + b"\x00"

    # --- writes ------------------------------------------------------------------------------
    def commit(self, batch: CommitBatch) -> None:
        nodes = dict(batch.nodes)
        with self._write_lock:
            self._check_open()
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StorageError(f"cannot start a write to {self.path}: {exc}") from exc
            try:
                self._check_next_height(conn, batch)
                self._write_batch(conn, batch, nodes)
                conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, sqlite3.IntegrityError):
                    raise StorageError(
                        f"cannot commit block {batch.height}: a transaction id "
                        f"or the block hash is already stored ({exc})",
                        height=batch.height,
                    ) from exc
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(
                        f"cannot commit block {batch.height}: {exc}", height=batch.height
                    ) from exc
                raise
        self._checkpointer.notify()
        self._node_cache.put_many(nodes)

    def _checkpoint(self) -> None:
        """A PASSIVE checkpoint beside the writer (called by the checkpointer thread only). When
        the WAL has grown to ``_WAL_FORCE_FRAMES`` — commits kept appending while checkpoints
        ran, so it never restarted — a RESTART checkpoint under the write lock copies the rest
        and makes the next commit write the WAL from its beginning again."""
        if self._closed:
            return
        with suppress(sqlite3.Error):  # busy or I/O trouble: retried after the next commit
            row = self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if row is None or row[1] < _WAL_FORCE_FRAMES:
                return
            with self._write_lock:
                if not self._closed:
                    self._checkpoint_conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with suppress(sqlite3.Error):  # SQLite may have rolled back already (I/O error)
                conn.execute("ROLLBACK")

    @staticmethod
    def _check_next_height(conn: sqlite3.Connection, batch: CommitBatch) -> None:
        row = conn.execute("SELECT MAX(height) FROM blocks").fetchone()
        expected = 0 if row[0] is None else int(row[0]) + 1
        if batch.height != expected:
            raise StorageError(
                f"cannot commit block {batch.height}: the next height is {expected}",
                height=batch.height,
                expected=expected,
            )
        if len(batch.receipts) != len(batch.tx_ids):
            raise StorageError(
                f"block {batch.height} has {len(batch.tx_ids)} transactions but "
                f"{len(batch.receipts)} receipts",
                height=batch.height,
            )

    @staticmethod
    def _write_batch(
        conn: sqlite3.Connection, batch: CommitBatch, nodes: dict[bytes, bytes]
    ) -> None:
        height = batch.height
        conn.execute(
            "INSERT INTO blocks (height, hash, state_root, data) VALUES (?, ?, ?, ?)",
            (height, batch.block_hash, batch.state_root, batch.block),
        )
        conn.executemany(
            "INSERT INTO txs (tx_id, height, idx) VALUES (?, ?, ?)",
            [(tx_id, height, i) for i, tx_id in enumerate(batch.tx_ids)],
        )
        conn.executemany(
            "INSERT INTO receipts (height, idx, data) VALUES (?, ?, ?)",
            [(height, i, data) for i, data in enumerate(batch.receipts)],
        )
        conn.executemany(
            "INSERT INTO state (key, height, value) VALUES (?, ?, ?)",
            [(key, height, value) for key, value in batch.state_writes.items()],
        )
        # Inserting in key order touches each B-tree page once; worth more than the sort costs.
        conn.executemany(
            "INSERT OR IGNORE INTO nodes (hash, data) VALUES (?, ?)",
            [(key, nodes[key]) for key in sorted(nodes)],
        )

    # --- finality ----------------------------------------------------------------------------
    def save_finality_certificate(self, cert: FinalityCertificate) -> None:
        refused = self.save_finality_certificates([cert])
        if refused:
            raise refused[0]

    def save_finality_certificates(
        self, certs: Sequence[FinalityCertificate]
    ) -> list[StorageError]:
        rows = [(cert, encode(cert)) for cert in certs]
        refused: list[StorageError] = []
        with self._write_lock:
            self._check_open()
            conn = self._writer
            try:
                conn.execute("BEGIN IMMEDIATE")
                for cert, data in rows:
                    row = conn.execute(
                        "SELECT hash, state_root FROM blocks WHERE height = ?", (cert.height,)
                    ).fetchone()
                    try:
                        check_certificate_target(cert, (row[0], row[1]) if row else None)
                    except StorageError as exc:
                        refused.append(exc)
                        continue
                    conn.execute(
                        "INSERT OR IGNORE INTO finality (height, block_hash, data)"
                        " VALUES (?, ?, ?)",
                        (cert.height, cert.block_hash, data),
                    )
                conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, sqlite3.Error):
                    heights = [cert.height for cert in certs]
                    raise StorageError(
                        f"cannot save the finality certificates of blocks {heights}: {exc}",
                        heights=heights,
                    ) from exc
                raise
        self._checkpointer.notify()
        return refused

    def get_finality_certificate(self, height: int) -> FinalityCertificate | None:
        with self._reader() as conn:
            row = conn.execute("SELECT data FROM finality WHERE height = ?", (height,)).fetchone()
        return decode(row[0], FinalityCertificate) if row else None

    def get_finalized_height(self) -> int:
        with self._reader() as conn:
            row = conn.execute("SELECT MAX(height) FROM finality").fetchone()
        return -1 if row[0] is None else int(row[0])

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
        self._checkpointer.stop()
        self._checkpoint_conn.close()
        with self._write_lock:
            with self._readers_lock:
                for conn in self._all_readers:
                    conn.close()
                self._all_readers.clear()
            with suppress(sqlite3.Error):  # leave a small WAL behind; not needed for safety
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            self._writer.close()
            self._node_cache.clear()
