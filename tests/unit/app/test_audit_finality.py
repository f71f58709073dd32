"""``audit_ledger`` on a multi-node peer's ledger: blocks other peers proposed are stored without
a proposer signature and trusted on a finality certificate of the founding peers — their own or
a later one — while unsigned blocks no certificate covers, wrong signatures and certificates
that do not hold are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from finality_world import (
    GENESIS_TIME_MS,
    anchor_tx,
    attest,
    certify,
    key_for,
    make_network,
    make_node,
    produce,
)

from govchain.app.audit import AuditReport, audit_ledger
from govchain.encoding import decode, encode
from govchain.execution import CheckedTx
from govchain.node.runtime import Node
from govchain.types import Block, compute_block_hash
from govchain.types.finality import FinalityCertificate


def produce_unsigned(node: Node, count: int, proposer: str = "p1") -> None:
    """Commit ``count`` blocks proposed by another peer: stored without a signature."""
    for _ in range(count):
        height = node.app.info().height + 1
        checked = node.app.check_txs([anchor_tx(node, f"doc-{height}-{i}") for i in range(2)])
        assert all(isinstance(c, CheckedTx) for c in checked), checked
        time_ms = GENESIS_TIME_MS + 1000 * height
        pending = node.app.finalize_block(
            checked,  # type: ignore[arg-type]
            time_ms,
            key_for(proposer).public_key,
        )
        assert pending.block.proposer_signature == b""
        node.app.commit(pending)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """Blocks 1-2 proposed by this peer (signed), 3-5 by p1 (unsigned)."""
    make_network(tmp_path)
    node = make_node(tmp_path)
    produce(node, 2)
    produce_unsigned(node, 3)
    yield node
    node.store.close()


def audit(node: Node) -> AuditReport:
    return audit_ledger(node.store, node.genesis, node.app.registry)


def assert_bad(node: Node, height: int, reason: str, trusted: int | None = None) -> AuditReport:
    """The audit stops at ``height`` for ``reason``; blocks up to ``trusted`` (default: the
    one before) were trusted: not unsigned blocks that a failing certificate was to cover."""
    report = audit(node)
    assert not report.ok
    assert (report.first_bad_height, report.reason) == (height, reason), report.message
    trusted = height - 1 if trusted is None else trusted
    assert (report.height, report.blocks) == (trusted, trusted + 1)
    return report


def store_block(node: Node, height: int, block: Block) -> None:
    node.store._blocks[height].data = encode(block)  # type: ignore[attr-defined]


def stored_block(node: Node, height: int) -> Block:
    return decode(node.store._blocks[height].data, Block)  # type: ignore[attr-defined]


def put_certificate(node: Node, cert: FinalityCertificate) -> None:
    """Store a certificate behind the store's checks (as someone altering the database)."""
    node.store._certificates[cert.height] = cert  # type: ignore[attr-defined]


def test_unsigned_blocks_certified_each_pass(node: Node) -> None:
    for height in (3, 4, 5):
        certify(node, height)
    report = audit(node)
    assert report.ok, report.message
    assert (report.height, report.blocks, report.txs) == (5, 6, 10)
    assert (report.by_signature, report.by_certificate, report.finalized_height) == (2, 3, 5)


def test_a_later_certificate_covers_the_blocks_below_it(node: Node) -> None:
    certify(node, 5)
    report = audit(node)
    assert report.ok, report.message
    assert (report.by_signature, report.by_certificate, report.finalized_height) == (2, 3, 5)


def test_signed_blocks_certificates_are_checked_too(node: Node) -> None:
    cert = certify(node, 2)
    certify(node, 5)
    report = audit(node)
    assert report.ok and (report.by_signature, report.by_certificate) == (2, 3)
    put_certificate(node, msgspec.structs.replace(cert, height=1))
    assert_bad(node, 1, "FINALITY_MISMATCH")


def test_an_unsigned_block_without_a_certificate_is_refused(node: Node) -> None:
    report = assert_bad(node, 3, "NO_CERTIFICATE")
    assert report.by_signature == 2 and report.by_certificate == 0
    assert "no proposer signature" in report.message


def test_unsigned_blocks_above_the_last_certificate_are_refused(node: Node) -> None:
    certify(node, 3)
    report = assert_bad(node, 4, "NO_CERTIFICATE")
    assert (report.by_certificate, report.finalized_height) == (1, 3)


def test_a_certificate_that_does_not_hold_is_refused(node: Node) -> None:
    cert = certify(node, 4)
    put_certificate(node, msgspec.structs.replace(cert, signatures=cert.signatures[:2]))
    assert_bad(node, 4, "FINALITY_NO_QUORUM", trusted=2)  # block 3 was waiting for it
    outsider = attest("p9", 4, cert.block_hash, cert.state_root)
    forged = [*cert.signatures[:2], (outsider.node_id, outsider.public_key, outsider.signature)]
    put_certificate(node, msgspec.structs.replace(cert, signatures=forged))
    assert_bad(node, 4, "FINALITY_UNKNOWN_SIGNER", trusted=2)
    put_certificate(node, msgspec.structs.replace(cert, state_root=b"\x01" * 32))
    assert_bad(node, 4, "FINALITY_MISMATCH", trusted=2)


def test_an_altered_certified_block_is_refused(node: Node) -> None:
    certify(node, 5)
    block = stored_block(node, 4)
    header = msgspec.structs.replace(block.header, proposer=key_for("p2").public_key)
    store_block(node, 4, Block(header, b"", block.txs))
    node.store._blocks[4].block_hash = compute_block_hash(header)  # type: ignore[attr-defined]
    # it replays alike and its hash index agrees, but block 5, certified, does not link to it
    assert_bad(node, 5, "PREV_HASH_MISMATCH", trusted=2)


def test_a_wrong_signature_on_a_certified_block_is_refused(node: Node) -> None:
    certify(node, 5)
    block = stored_block(node, 4)
    store_block(node, 4, Block(block.header, b"\x00" * 64, block.txs))
    assert_bad(node, 4, "BAD_PROPOSER_SIGNATURE", trusted=2)


def test_a_stripped_signature_on_a_single_peer_chain_is_refused(tmp_path: Path) -> None:
    make_network(tmp_path, peers=1)
    node = make_node(tmp_path)
    try:
        produce(node, 2)
        assert audit(node).ok
        block = stored_block(node, 2)
        store_block(node, 2, Block(block.header, b"", block.txs))
        assert_bad(node, 2, "NO_CERTIFICATE")
    finally:
        node.store.close()
