"""Shared fixtures for the unit tests: a small chain, built in memory from a genesis made here.

The ``chain`` fixture is a fresh :class:`Chain`: three founding organisations (``bureau`` runs the
only node; ``tax`` has two admins, ``health`` one), an in-memory ledger store and an
:class:`~govchain.app.Application` on top. Every key is derived from a label, so every run builds
the same chain, byte for byte.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest

from govchain.app import Application, CommittedBlock, PendingBlock
from govchain.client.tx import build_tx
from govchain.contracts import ContractRegistry, default_registry
from govchain.contracts.notary import AnchorArgs
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.execution import CheckedTx, decode_tx
from govchain.storage import LedgerStore, MemoryLedgerStore
from govchain.types import (
    Block,
    BlockHeader,
    ChainParams,
    Genesis,
    GenesisNode,
    GenesisOrg,
    compute_block_hash,
    header_sign_bytes,
)

CHAIN_ID = "govchain-unit"
GENESIS_TIME_MS = 1_700_000_000_000
BLOCK_INTERVAL_MS = 1_000
PARAMS = ChainParams(max_tx_lifetime=100)


def key_for(label: str) -> KeyPair:
    """A deterministic Ed25519 key pair named by ``label``."""
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


ADMIN_LABELS: dict[str, list[str]] = {
    "bureau": ["bureau-admin"],
    "tax": ["tax-admin", "tax-admin-2"],
    "health": ["health-admin"],
}
NODE_LABEL = "node0"


def make_genesis(
    chain_id: str = CHAIN_ID,
    *,
    time_ms: int = GENESIS_TIME_MS,
    params: ChainParams = PARAMS,
) -> Genesis:
    orgs = [
        GenesisOrg(
            org,
            f"{org.title()} Department",
            f"{org}局",
            "bureau" if org == "bureau" else "department",
            [key_for(label).public_key.hex() for label in labels],
        )
        for org, labels in ADMIN_LABELS.items()
    ]
    nodes = [GenesisNode(NODE_LABEL, "bureau", key_for(NODE_LABEL).public_key.hex())]
    return Genesis(chain_id, time_ms, orgs, nodes, params)


def doc_hash(name: str) -> bytes:
    """The SHA-256 of a made-up document."""
    return hashlib.sha256(name.encode()).digest()


@dataclass
class Chain:
    """A chain under test and the helpers to drive it."""

    genesis: Genesis
    registry: ContractRegistry
    store: LedgerStore
    app: Application
    node_key: KeyPair = field(default_factory=lambda: key_for(NODE_LABEL))
    _counter: Iterator[int] = field(default_factory=itertools.count)

    key = staticmethod(key_for)

    @property
    def chain_id(self) -> str:
        return self.genesis.chain_id

    @property
    def params(self) -> ChainParams:
        return self.genesis.params

    @property
    def height(self) -> int:
        return self.app.info().height

    @property
    def header(self) -> BlockHeader:
        return self.app.get_header(self.height)

    def admin(self, org: str, index: int = 0) -> KeyPair:
        return key_for(ADMIN_LABELS[org][index])

    def anchor_args(self, doc: str | bytes | None = None, **kw: Any) -> AnchorArgs:
        """Arguments of ``notary.anchor`` (a fresh document unless ``doc`` is given)."""
        if doc is None:
            doc = f"document-{next(self._counter)}"
        digest = doc if isinstance(doc, bytes) else doc_hash(doc)
        kw.setdefault("title", "Lease agreement")
        kw.setdefault("owner_org", "tax")
        return AnchorArgs(digest, **kw)

    def tx(
        self,
        key: KeyPair | None = None,
        args: Any = None,
        *,
        contract: str = "notary",
        method: str = "anchor",
        valid_until: int | None = None,
        chain_id: str | None = None,
        nonce: bytes | None = None,
        sign: bool = True,
    ) -> bytes:
        """A signed transaction (by default: the tax admin anchors a fresh document)."""
        return build_tx(
            key or self.admin("tax"),
            chain_id=chain_id or self.chain_id,
            contract=contract,
            method=method,
            args=self.anchor_args() if args is None else args,
            valid_until=self.height + 10 if valid_until is None else valid_until,
            nonce=nonce or hashlib.sha256(b"nonce-%d" % next(self._counter)).digest()[:16],
            sign=sign,
        )

    def check(self, raw: bytes) -> CheckedTx:
        """The stateless checks (no signature check)."""
        return decode_tx(raw, self.chain_id, self.params, self.registry)

    def admit(self, raws: Iterable[bytes]) -> list[CheckedTx]:
        """Admission checks that must all pass."""
        out = self.app.check_txs(list(raws))
        bad = [r for r in out if not isinstance(r, CheckedTx)]
        assert not bad, bad
        return out  # type: ignore[return-value]

    def next_time(self) -> int:
        return self.header.time_ms + BLOCK_INTERVAL_MS

    def finalize(self, raws: Iterable[bytes] = (), time_ms: int | None = None) -> PendingBlock:
        txs = self.admit(raws)
        return self.app.finalize_block(txs, self.next_time() if time_ms is None else time_ms)

    def commit(self, raws: Iterable[bytes] = (), time_ms: int | None = None) -> CommittedBlock:
        return self.app.commit(self.finalize(raws, time_ms))

    def resign(self, block: Block, key: KeyPair | None = None, **changes: Any) -> Block:
        """``block`` with header fields changed and a valid signature by ``key`` (the node's)."""
        header = msgspec.structs.replace(block.header, **changes)
        signer = key or self.node_key
        signature = signer.sign(header_sign_bytes(compute_block_hash(header)))
        return Block(header, signature, list(block.txs))

    def reopen(self) -> Application:
        """A new application over the same store (a node restart)."""
        return Application(self.store, self.genesis, self.registry, self.node_key)


def new_chain(genesis: Genesis | None = None, store: LedgerStore | None = None) -> Chain:
    genesis = genesis or make_genesis()
    registry = default_registry()
    store = MemoryLedgerStore() if store is None else store
    app = Application(store, genesis, registry, key_for(NODE_LABEL))
    return Chain(genesis, registry, store, app)


@pytest.fixture
def chain() -> Chain:
    return new_chain()


@pytest.fixture
def make_chain() -> Callable[..., Chain]:
    """Build a chain from a custom genesis or on another store: ``make_chain(genesis, store)``."""
    return new_chain


@pytest.fixture
def genesis_factory() -> Callable[..., Genesis]:
    return make_genesis


@pytest.fixture
def keys() -> Callable[[str], KeyPair]:
    return key_for
