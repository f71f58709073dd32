"""The pure state transition: stateful checks, execution on overlays, sealing, genesis."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from govchain.app.readers import StoreState
from govchain.contracts import Contract, ContractRegistry, method
from govchain.contracts.base import Context
from govchain.contracts.identity import Identity, IdentityContract, KeyRef
from govchain.contracts.notary import NotaryContract, NotaryRecord, notary_state_key
from govchain.crypto.hashing import ZERO_HASH
from govchain.encoding import decode, encode
from govchain.errors import (
    ContractError,
    ExpiredTransaction,
    NotFound,
    ReplayedTransaction,
    UnknownSender,
)
from govchain.execution import (
    BlockEnv,
    Execution,
    RecentTxIndex,
    apply_tx,
    build_genesis,
    check_stateful,
    decode_tx,
    execute_txs,
    seal_block,
)
from govchain.merkle import EMPTY_TREE_ROOT, rfc6962, smt
from govchain.state.overlay import MemoryState, Overlay
from govchain.types import (
    ChainParams,
    Event,
    Receipt,
    block_hash_state_key,
    compute_block_hash,
    compute_genesis_digest,
)
from govchain.types.block import BLOCK_HASH_PREFIX

# --- check_stateful ------------------------------------------------------------------------------


def _stateful(chain: Any, raw: bytes, height: int | None = None, **kw: Any) -> None:
    seen = kw.pop("seen", RecentTxIndex())
    state = kw.pop("state", StoreState(chain.store))
    h = chain.height + 1 if height is None else height
    check_stateful(chain.check(raw), state, h, chain.params, seen, **kw)


def test_stateful_accepts_the_lifetime_bounds(chain: Any) -> None:
    lifetime = chain.params.max_tx_lifetime
    _stateful(chain, chain.tx(valid_until=5), height=5)
    _stateful(chain, chain.tx(valid_until=5 + lifetime), height=5)


def test_expired(chain: Any) -> None:
    with pytest.raises(ExpiredTransaction) as info:
        _stateful(chain, chain.tx(valid_until=4), height=5)
    assert info.value.code == "TX_EXPIRED"
    assert info.value.details == {"valid_until": 4, "height": 5}


def test_too_far_ahead(chain: Any) -> None:
    raw = chain.tx(valid_until=5 + chain.params.max_tx_lifetime + 1)
    with pytest.raises(ExpiredTransaction, match="ahead") as info:
        _stateful(chain, raw, height=5)
    assert info.value.code == "TX_EXPIRED"


def test_replayed_via_recent_index(chain: Any) -> None:
    raw = chain.tx()
    seen = RecentTxIndex()
    _stateful(chain, raw, seen=seen)
    seen.add([(chain.check(raw).tx_id, 10)])
    with pytest.raises(ReplayedTransaction) as info:
        _stateful(chain, raw, seen=seen)
    assert info.value.code == "TX_REPLAYED"
    assert info.value.details["tx_id"] == chain.check(raw).tx_id.hex()


def test_replayed_within_the_block(chain: Any) -> None:
    raw = chain.tx()
    with pytest.raises(ReplayedTransaction):
        _stateful(chain, raw, in_block={chain.check(raw).tx_id: None})
    _stateful(chain, raw, in_block={b"other": None})


def test_unknown_sender(chain: Any) -> None:
    with pytest.raises(UnknownSender) as info:
        _stateful(chain, chain.tx(chain.key("outsider")))
    assert info.value.code == "TX_UNKNOWN_SENDER"
    assert chain.key("outsider").public_key.hex() in info.value.message


def test_inactive_key_is_an_unknown_sender(chain: Any) -> None:
    key = chain.admin("tax")
    admin = chain.app.query("identity", "get", {"id": "tax:admin"})
    suspended = msgspec.structs.replace(admin, status="suspended")
    tax = chain.app.query("identity", "org", {"id": "tax"})
    state = MemoryState(
        {
            b"identity/key/" + key.public_key: encode(KeyRef("tax:admin")),
            b"identity/id/tax:admin": encode(suspended),
            b"identity/id/tax": encode(tax),
        }
    )
    with pytest.raises(UnknownSender):
        _stateful(chain, chain.tx(key), state=state)
    _stateful(chain, chain.tx(key))  # the genesis record is active


def test_node_and_every_admin_are_known(chain: Any) -> None:
    for org, index in (("bureau", 0), ("tax", 0), ("tax", 1), ("health", 0)):
        _stateful(chain, chain.tx(chain.admin(org, index)))
    _stateful(chain, chain.tx(chain.node_key))


# --- execute_txs ---------------------------------------------------------------------------------


def _env(chain: Any, height: int | None = None, time_ms: int = 1_700_000_100_000) -> BlockEnv:
    h = chain.height + 1 if height is None else height
    prev = compute_block_hash(chain.header)
    return BlockEnv(chain.chain_id, h, time_ms, chain.node_key.public_key, prev, chain.params)


def _tx_writes(out: Execution) -> dict[bytes, bytes | None]:
    """The writes of the transactions: without the ledger's own block-hash history entry."""
    return {k: v for k, v in out.writes.items() if not k.startswith(BLOCK_HASH_PREFIX)}


def test_each_block_records_the_previous_blocks_hash(chain: Any) -> None:
    height, block_hash = chain.height, compute_block_hash(chain.header)
    out = _execute(chain, [])
    assert out.writes == {block_hash_state_key(height): block_hash}
    chain.commit([])
    assert chain.store.get_state(block_hash_state_key(height)) == block_hash


def test_no_contract_may_take_the_ledgers_namespace() -> None:
    class Impostor(Contract):
        name = "chain"

    with pytest.raises(ValueError, match="reserved"):
        ContractRegistry([Impostor()])


def _execute(chain: Any, raws: list[bytes], registry: Any = None, **kw: Any) -> Execution:
    registry = registry or chain.registry
    txs = [decode_tx(r, chain.chain_id, chain.params, registry) for r in raws]
    seen = kw.pop("seen", RecentTxIndex())
    return execute_txs(StoreState(chain.store), registry, _env(chain, **kw), txs, seen)


def test_successful_tx_writes_state_and_records_events(chain: Any) -> None:
    args = chain.anchor_args("deed", metadata={"kind": "lease"})
    raw = chain.tx(args=args)
    tx_id = chain.check(raw).tx_id
    out = _execute(chain, [raw])
    assert [t.raw for t in out.included] == [raw]
    assert out.dropped == []
    (receipt,) = out.receipts
    expected = NotaryRecord(
        args.hash,
        "Lease agreement",
        "tax",
        chain.admin("tax").public_key,
        1,
        1_700_000_100_000,
        tx_id,
        None,
        {"kind": "lease"},
    )
    assert receipt == Receipt(
        tx_id,
        True,
        events=[Event("notary", "anchored", {"hash": args.hash.hex(), "owner_org": "tax"})],
        result=msgspec.Raw(encode(expected)),
    )
    assert _tx_writes(out) == {notary_state_key(args.hash): encode(expected)}
    # Nothing is persisted by execution.
    assert chain.store.get_state(notary_state_key(args.hash)) is None


def test_failed_tx_writes_nothing(chain: Any) -> None:
    args = chain.anchor_args("deed")
    raw = chain.tx(chain.admin("health"), args=args)  # health does not act for tax
    out = _execute(chain, [raw])
    (receipt,) = out.receipts
    assert not receipt.ok
    assert receipt.code == "NOTARY_NOT_OWNER"
    assert "tax" in receipt.message
    assert receipt.hint == "Anchor with a key of the owner organisation."
    assert receipt.events == []
    assert bytes(receipt.result) == b"\xc0"
    assert _tx_writes(out) == {}
    assert [t.raw for t in out.included] == [raw]  # a failed tx is still on chain


def test_later_txs_see_earlier_writes(chain: Any) -> None:
    args = chain.anchor_args("deed")
    first, second = chain.tx(args=args), chain.tx(chain.admin("tax", 1), args=args)
    out = _execute(chain, [first, second])
    assert [r.ok for r in out.receipts] == [True, False]
    assert out.receipts[1].code == "NOTARY_ALREADY_ANCHORED"
    record = decode(out.writes[notary_state_key(args.hash)], NotaryRecord)
    assert record.submitter == chain.admin("tax").public_key


def test_dropped_txs_are_listed_with_their_reason(chain: Any) -> None:
    good = chain.tx()
    expired = chain.tx(valid_until=0)
    stranger = chain.tx(chain.key("outsider"))
    out = _execute(chain, [expired, good, stranger, good], height=1)
    assert [t.raw for t in out.included] == [good]
    assert len(out.receipts) == 1 and out.receipts[0].ok
    reasons = [(tx.raw, err.code) for tx, err in out.dropped]
    assert reasons == [
        (expired, "TX_EXPIRED"),
        (stranger, "TX_UNKNOWN_SENDER"),
        (good, "TX_REPLAYED"),
    ]


def test_already_committed_txs_are_dropped(chain: Any) -> None:
    raw = chain.tx()
    seen = RecentTxIndex()
    seen.add([(chain.check(raw).tx_id, 100)])
    out = _execute(chain, [raw], seen=seen)
    assert out.included == [] and out.receipts == [] and _tx_writes(out) == {}
    assert isinstance(out.dropped[0][1], ReplayedTransaction)


class _PutArgs(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    value: str
    fail: str = ""


class _Scratch(Contract):
    """Writes first, then maybe fails: a failure must discard the writes."""

    name = "scratch"

    @method(_PutArgs)
    def put(self, ctx: Context, args: _PutArgs) -> str:
        ctx.set(args.key, args.value.encode())
        ctx.emit("put", key=args.key)
        if args.fail == "contract":
            raise ContractError("refused", code="SCRATCH_REFUSED")
        if args.fail == "lookup":
            raise NotFound("nothing here")
        if args.fail == "bug":
            raise KeyError(args.key)
        return args.value


def test_writes_of_a_failing_method_are_discarded(chain: Any) -> None:
    registry = ContractRegistry([IdentityContract(), NotaryContract(), _Scratch()])

    def put(key: str, value: str, fail: str = "") -> bytes:
        return chain.tx(contract="scratch", method="put", args=_PutArgs(key, value, fail))

    raws = [
        put("a", "1"),
        put("b", "2", "contract"),
        put("a", "3", "lookup"),
        put("d", "5", "bug"),
        put("c", "4"),
    ]
    out = _execute(chain, raws, registry=registry)
    assert [(r.ok, r.code) for r in out.receipts] == [
        (True, ""),
        (False, "SCRATCH_REFUSED"),
        (False, "NOT_FOUND"),
        (False, "CONTRACT_FAILURE"),  # a bug in a contract fails the tx, not the chain
        (True, ""),
    ]
    assert out.receipts[2].hint == NotFound.default_hint
    assert "KeyError" in out.receipts[3].message
    assert _tx_writes(out) == {b"scratch/a": b"1", b"scratch/c": b"4"}
    assert [e.attributes for r in out.receipts for e in r.events] == [{"key": "a"}, {"key": "c"}]
    assert decode(bytes(out.receipts[4].result), str) == "4"


def test_apply_tx_merges_only_on_success(chain: Any) -> None:
    overlay = Overlay(StoreState(chain.store))
    ok = chain.check(chain.tx())
    bad = chain.check(chain.tx(chain.admin("health")))
    assert not apply_tx(overlay, chain.registry, _env(chain), bad).ok
    assert overlay.writes == {}
    assert apply_tx(overlay, chain.registry, _env(chain), ok).ok
    assert list(overlay.writes) == [notary_state_key(ok.args.hash)]


# --- seal_block ----------------------------------------------------------------------------------


def test_seal_block_roots(chain: Any) -> None:
    raws = [chain.tx(), chain.tx(chain.admin("health")), chain.tx()]
    out = _execute(chain, raws)
    prev = chain.header
    env = _env(chain)
    header, nodes = seal_block(env, compute_block_hash(prev), prev.state_root, out, chain.store)
    expected_root, expected_nodes = smt.apply_updates(chain.store, prev.state_root, out.writes)
    assert header.chain_id == chain.chain_id
    assert header.height == 1
    assert header.prev_hash == compute_block_hash(prev)
    assert header.time_ms == env.time_ms
    assert header.proposer == chain.node_key.public_key
    assert header.tx_count == 3
    assert header.tx_root == rfc6962.compute_root(raws)
    assert header.receipts_root == rfc6962.compute_root([encode(r) for r in out.receipts])
    assert header.state_root == expected_root != prev.state_root
    assert nodes == expected_nodes
    for key, value in out.writes.items():
        proof = smt.build_proof(smt.OverlayNodeReader(chain.store, nodes), header.state_root, key)
        smt.verify_state_proof(header.state_root, key, value, proof)


def test_seal_empty_block(chain: Any) -> None:
    prev = chain.header
    header, nodes = seal_block(_env(chain), b"p" * 32, prev.state_root, Execution(), chain.store)
    assert header.tx_count == 0
    assert header.tx_root == header.receipts_root == EMPTY_TREE_ROOT
    assert header.state_root == prev.state_root
    assert nodes == {}


# --- build_genesis -------------------------------------------------------------------------------


def test_build_genesis_is_deterministic(chain: Any, genesis_factory: Any) -> None:
    one, ex_one, nodes_one = build_genesis(chain.genesis, chain.registry, smt.MemoryNodeStore())
    two, ex_two, nodes_two = build_genesis(genesis_factory(), chain.registry, smt.MemoryNodeStore())
    assert encode(one) == encode(two)
    assert ex_one.writes == ex_two.writes and nodes_one == nodes_two
    assert compute_block_hash(one.header) == chain.app.genesis_hash


def test_genesis_block_shape(chain: Any) -> None:
    block, execution, nodes = build_genesis(chain.genesis, chain.registry, smt.MemoryNodeStore())
    h = block.header
    assert (h.height, h.tx_count, h.proposer) == (0, 0, b"")
    assert h.time_ms == chain.genesis.genesis_time_ms
    assert h.prev_hash == compute_genesis_digest(chain.genesis)
    assert block.proposer_signature == b"" and block.txs == []
    assert h.tx_root == h.receipts_root == EMPTY_TREE_ROOT
    root, _ = smt.apply_updates(smt.MemoryNodeStore(), smt.EMPTY_ROOT, execution.writes)
    assert h.state_root == root
    assert execution.included == [] and execution.receipts == []
    tax = decode(execution.writes[b"identity/id/tax"], Identity)
    assert (tax.id, tax.founding, tax.status) == ("tax", True, "active")
    for org, index in (("tax", 0), ("tax", 1), ("health", 0), ("bureau", 0)):
        key = chain.admin(org, index).public_key
        assert decode(execution.writes[b"identity/key/" + key], KeyRef) == KeyRef(f"{org}:admin")
    node = chain.node_key.public_key
    node_id = decode(execution.writes[b"identity/key/" + node], KeyRef).identity
    assert decode(execution.writes[b"identity/id/" + node_id.encode()], Identity).roles == ["node"]
    assert ZERO_HASH not in execution.writes


@pytest.mark.parametrize("change", ["chain_id", "time", "params"])
def test_genesis_hash_commits_to_the_document(
    chain: Any, genesis_factory: Any, change: str
) -> None:
    other = {
        "chain_id": lambda: genesis_factory("another-chain"),
        "time": lambda: genesis_factory(time_ms=1),
        "params": lambda: genesis_factory(params=ChainParams(max_tx_lifetime=7)),
    }[change]()
    block, _, _ = build_genesis(other, chain.registry, smt.MemoryNodeStore())
    assert compute_block_hash(block.header) != chain.app.genesis_hash
