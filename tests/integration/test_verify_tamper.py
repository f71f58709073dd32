"""`govchain verify` audits a stopped node's ledger from genesis: it passes a good ledger and, when
a row of the SQLite database is altered behind the node's back, names the first bad height and
why."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from govchain.client import build_tx

from .conftest import NodeFactory
from .nodeproc import Network


@dataclass(frozen=True)
class Ledger:
    network: Network
    height: int  # the last block
    target: int  # a block with transactions, followed by more blocks


@pytest.fixture(scope="module")
def ledger(module_node_factory: NodeFactory) -> Ledger:
    """A stopped node's ledger: single-transaction blocks and a block of several."""
    node = module_node_factory()
    key = node.network.key("tax")
    heights = []
    with node.client() as client:
        for i in range(3):
            outcome = client.notarize(key, os.urandom(32), title=f"single {i}", owner_org="tax")
            assert outcome.ok
            heights.append(outcome.height)
        status = client.status()
        raws = [
            build_tx(
                key,
                chain_id=status["chain_id"],
                contract="notary",
                method="anchor",
                args={"hash": os.urandom(32), "title": f"batch {i}", "owner_org": "tax"},
                valid_until=status["height"] + 100,
            )
            for i in range(5)
        ]
        answer = client.submit_batch(raws)
        for item in answer["results"]:
            outcome = client.wait(item["tx_id"])
            assert outcome.ok
            heights.append(outcome.height)
        for i in range(2):
            heights.append(
                client.notarize(key, os.urandom(32), title=f"late {i}", owner_org="tax").height
            )
        height = client.status()["height"]
    node.stop()
    return Ledger(node.network, height, heights[1])


@pytest.fixture
def copy(ledger: Ledger, tmp_path: Path) -> Network:
    """A private copy of the ledger's network directory to tamper with."""
    target = tmp_path / "net"
    shutil.copytree(ledger.network.dir, target)
    return Network(target, ledger.network.port)


def verify_json(network: Network) -> tuple[int, dict[str, Any]]:
    result = network.verify("--json")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"verify printed no JSON report:\n{result.stdout}\n{result.stderr}")
    return result.returncode, report


def alter(network: Network, change: Callable[[sqlite3.Connection], None]) -> None:
    with sqlite3.connect(network.db_path) as con:
        change(con)
    con.close()


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def assert_bad(network: Network, height: int, reason: str | None = None) -> dict[str, Any]:
    code, report = verify_json(network)
    assert code != 0, report
    assert report["ok"] is False
    assert report["first_bad_height"] == height, report
    assert report["reason"], report
    assert report["message"], report
    if reason is not None:
        assert report["reason"] == reason, report
    assert report["height"] == height - 1  # the last good block
    return report


# --- a good ledger -------------------------------------------------------------------------------


def test_a_good_ledger_verifies(ledger: Ledger, copy: Network) -> None:
    code, report = verify_json(copy)
    assert code == 0, report
    assert report["ok"] is True
    assert report["height"] == ledger.height
    assert report["blocks"] == ledger.height + 1
    assert report["txs"] == 10
    assert report["first_bad_height"] is None

    human = copy.verify()
    assert human.returncode == 0
    assert "consistent" in human.stdout


# --- blocks --------------------------------------------------------------------------------------


def _block(con: sqlite3.Connection, height: int) -> bytes:
    return bytes(con.execute("SELECT data FROM blocks WHERE height = ?", (height,)).fetchone()[0])


def _set_block(con: sqlite3.Connection, height: int, data: bytes) -> None:
    con.execute("UPDATE blocks SET data = ? WHERE height = ?", (data, height))


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        (5, "BLOCK_HASH_MISMATCH"),  # a byte of the header (its chain id)
        (-1, "TX_BAD_SIGNATURE"),  # the last byte: the last transaction's signature
        ("middle", None),  # somewhere inside the transactions
    ],
)
def test_an_altered_block_is_named(
    ledger: Ledger, copy: Network, where: int | str, reason: str | None
) -> None:
    def change(con: sqlite3.Connection) -> None:
        data = _block(con, ledger.target)
        _set_block(con, ledger.target, flip(data, len(data) // 2 if where == "middle" else where))

    alter(copy, change)
    assert_bad(copy, ledger.target, reason)

    human = copy.verify()
    assert human.returncode != 0
    assert f"block {ledger.target}" in human.stdout


def test_the_first_of_two_altered_blocks_is_named(ledger: Ledger, copy: Network) -> None:
    later = ledger.target + 2
    assert later <= ledger.height

    def change(con: sqlite3.Connection) -> None:
        for height in (later, ledger.target):
            data = _block(con, height)
            _set_block(con, height, flip(data, len(data) - 1))

    alter(copy, change)
    assert_bad(copy, ledger.target)


def test_a_missing_block_is_named(ledger: Ledger, copy: Network) -> None:
    alter(copy, lambda con: con.execute("DELETE FROM blocks WHERE height = ?", (ledger.target,)))
    assert_bad(copy, ledger.target, "BLOCK_MISSING")


def test_a_block_swapped_for_another_is_named(ledger: Ledger, copy: Network) -> None:
    def change(con: sqlite3.Connection) -> None:
        _set_block(con, ledger.target, _block(con, ledger.target + 1))

    alter(copy, change)
    assert_bad(copy, ledger.target, "HEIGHT_MISMATCH")


# --- receipts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, -1])
def test_an_altered_receipt_is_named(ledger: Ledger, copy: Network, index: int) -> None:
    def change(con: sqlite3.Connection) -> None:
        idx, data = con.execute(
            "SELECT idx, data FROM receipts WHERE height = ? ORDER BY idx LIMIT 1",
            (ledger.target,),
        ).fetchone()
        con.execute(
            "UPDATE receipts SET data = ? WHERE height = ? AND idx = ?",
            (flip(bytes(data), index), ledger.target, idx),
        )

    alter(copy, change)
    assert_bad(copy, ledger.target, "RECEIPTS_MISMATCH")


def test_a_deleted_receipt_is_named(ledger: Ledger, copy: Network) -> None:
    alter(copy, lambda con: con.execute("DELETE FROM receipts WHERE height = ?", (ledger.target,)))
    assert_bad(copy, ledger.target, "RECEIPTS_MISMATCH")


# --- state ---------------------------------------------------------------------------------------


def test_an_altered_state_value_is_named(ledger: Ledger, copy: Network) -> None:
    def change(con: sqlite3.Connection) -> None:
        rows = con.execute(
            "SELECT key, value FROM state WHERE height = ? AND value IS NOT NULL",
            (ledger.target,),
        ).fetchall()
        key, value = next((k, v) for k, v in rows if bytes(k).startswith(b"notary/doc/"))
        con.execute(
            "UPDATE state SET value = ? WHERE key = ? AND height = ?",
            (flip(bytes(value), len(value) - 1), key, ledger.target),
        )

    alter(copy, change)
    report = assert_bad(copy, ledger.target, "STATE_VALUE_MISMATCH")
    assert "notary/doc/" in report["message"]


def test_a_deleted_state_value_is_named(ledger: Ledger, copy: Network) -> None:
    alter(copy, lambda con: con.execute("DELETE FROM state WHERE height = ?", (ledger.target,)))
    assert_bad(copy, ledger.target, "STATE_VALUE_MISMATCH")


def test_a_state_row_no_block_wrote_is_found(ledger: Ledger, copy: Network) -> None:
    alter(
        copy,
        lambda con: con.execute(
            "INSERT INTO state (key, height, value) VALUES (?, ?, ?)",
            (b"notary/doc/" + hashlib.sha256(b"smuggled").digest(), 1, b"forged record"),
        ),
    )
    code, report = verify_json(copy)
    assert code != 0, report
    assert report["reason"] == "STATE_TABLE_MISMATCH", report
    assert report["first_bad_height"] == ledger.height


# --- indexes -------------------------------------------------------------------------------------


def test_an_altered_transaction_index_is_named(ledger: Ledger, copy: Network) -> None:
    alter(copy, lambda con: con.execute("DELETE FROM txs WHERE height = ?", (ledger.target,)))
    assert_bad(copy, ledger.target, "TX_INDEX_MISMATCH")


def test_an_altered_state_root_index_is_named(ledger: Ledger, copy: Network) -> None:
    alter(
        copy,
        lambda con: con.execute(
            "UPDATE blocks SET state_root = ? WHERE height = ?",
            (hashlib.sha256(b"forged").digest(), ledger.target),
        ),
    )
    assert_bad(copy, ledger.target, "STATE_ROOT_INDEX_MISMATCH")


def test_altered_merkle_nodes_fail_verification(copy: Network) -> None:
    def change(con: sqlite3.Connection) -> None:
        for node_hash, data in con.execute("SELECT hash, data FROM nodes").fetchall():
            con.execute(
                "UPDATE nodes SET data = ? WHERE hash = ?", (flip(bytes(data), -1), node_hash)
            )

    alter(copy, change)
    code, report = verify_json(copy)
    assert code != 0, report
    assert report["ok"] is False and report["reason"], report
