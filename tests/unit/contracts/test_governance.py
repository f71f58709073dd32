"""Governance: proposals, votes, enactment at the start of blocks, chain parameters in force.

The ``chain`` fixture has three founding organisations (bureau, tax with two admins, health), so
the default policy (a majority of the founders' admins) needs two organisations: the proposer's
own (which votes yes implicitly) and one more.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest

from govchain.app import Application
from govchain.app.audit import audit_ledger
from govchain.contracts import ContractRegistry, default_registry
from govchain.contracts.base import Context, Contract, ReadContext, method
from govchain.contracts.governance import (
    PARAMS_KEY,
    Proposal,
    ProposeArgs,
    VoteArgs,
    get_params,
    get_policy,
    is_accredited,
    proposal_state_key,
)
from govchain.contracts.governance_actions import (
    Accredit,
    Action,
    AddNode,
    AddOrg,
    RegisterService,
    RemoveNode,
    RemoveOrg,
    RetireService,
    RevokeAccreditation,
    SetParams,
    SetPolicy,
)
from govchain.contracts.identity import create_member, get_identity
from govchain.contracts.policy import FoundersMajority, NOf, Role, SignedBy
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.encoding import decode
from govchain.errors import GovchainError
from govchain.execution import CheckedTx
from govchain.merkle import verify_state_proof
from govchain.storage import MemoryLedgerStore
from govchain.types import ChainParams, Receipt

GOV = "governance"
NODE_LABEL = "node0"
Chain = Any  # the ``chain`` fixture's class (tests/unit/conftest.py)


def key_for(label: str) -> KeyPair:
    """The same derivation as the unit fixtures' keys."""
    return get_scheme(ED25519).from_seed(hashlib.sha256(label.encode()).digest())


# --- helpers ---------------------------------------------------------------------------------


def send(chain: Chain, key: KeyPair, method_name: str, args: Any) -> Receipt:
    """Commit one governance transaction in its own block and return its receipt."""
    committed = chain.commit([chain.tx(key, args, contract=GOV, method=method_name)])
    assert len(committed.receipts) == 1, committed.dropped
    receipt: Receipt = committed.receipts[0]
    return receipt


def published(chain: Chain, action: RegisterService) -> RegisterService:
    """``action`` naming a definition of its service id and version that the workflow contract
    has published (governance registers only published, valid definitions)."""
    step = {"id": "s", "title": "S", "org": "tax", "approval": {"n": 1, "roles": ["officer"]}}
    document = msgspec.json.encode(
        {
            "id": action.service_id,
            "version": action.version,
            "title": action.title,
            "applicants": ["citizen"],
            "steps": [{**step, "deadline": "1d"}],
        }
    ).decode()
    raw = chain.tx(
        chain.admin("tax"), {"document": document}, contract="workflow", method="publish"
    )
    assert chain.commit([raw]).receipts[0].ok
    digest = hashlib.sha256(document.encode()).digest()
    return msgspec.structs.replace(action, definition_hash=digest)


def propose(chain: Chain, action: Action, key: KeyPair | None = None, **kw: Any) -> Proposal:
    if isinstance(action, RegisterService):
        action = published(chain, action)
    receipt = send(chain, key or chain.admin("tax"), "propose", ProposeArgs(action, **kw))
    assert receipt.ok, (receipt.code, receipt.message)
    return decode(bytes(receipt.result), Proposal)


def vote(chain: Chain, org: str, proposal_id: int, approve: bool = True) -> Receipt:
    return send(chain, chain.admin(org), "vote", VoteArgs(proposal_id, approve))


def show(chain: Chain, proposal_id: int) -> Proposal:
    result: Proposal = chain.app.query(GOV, "proposal", {"id": proposal_id})
    return result


def read(chain: Chain) -> ReadContext:
    return ReadContext(GOV, chain.app._state, chain.height)


def empty_blocks(chain: Chain, n: int) -> None:
    for _ in range(n):
        chain.commit([])


def admission_error(chain: Chain, raw: bytes) -> GovchainError | None:
    (item,) = chain.app.check_txs([raw])
    return None if isinstance(item, CheckedTx) else item


def pass_proposal(chain: Chain, action: Action, **kw: Any) -> Proposal:
    """Tax proposes, bureau approves: passed, enacted at the returned ``enact_height``."""
    proposal = propose(chain, action, **kw)
    receipt = vote(chain, "bureau", proposal.id)
    assert receipt.ok, receipt.message
    passed = show(chain, proposal.id)
    assert passed.status == "passed"
    return passed


def run_until_enacted(chain: Chain, proposal: Proposal) -> Proposal:
    """Commit blocks up to the enactment height, checking nothing happens a block early."""
    assert proposal.enact_height is not None
    empty_blocks(chain, proposal.enact_height - 1 - chain.height)
    assert show(chain, proposal.id).status == "passed"
    chain.commit([])
    assert chain.height == proposal.enact_height
    done = show(chain, proposal.id)
    assert done.status in ("enacted", "failed")
    return done


class _EnrolArgs(msgspec.Struct):
    org: str
    name: str
    public_key: bytes
    roles: list[str]


class _TestEnrol(Contract):
    """Test-only: enrol a member with any roles (so votes by officers can be tried)."""

    name = "test_enrol"
    description = "test only"

    @method(_EnrolArgs)
    def enrol(self, ctx: Context, args: _EnrolArgs) -> None:
        create_member(ctx, args.org, args.name, args.public_key, args.roles)


@pytest.fixture
def chain_with_members(chain: Chain) -> Chain:
    registry = ContractRegistry([*default_registry(), _TestEnrol()])
    store = MemoryLedgerStore()
    app = Application(store, chain.genesis, registry, key_for(NODE_LABEL))
    chain = type(chain)(chain.genesis, registry, store, app)
    for name, roles in (("alice", ["officer"]), ("bob", ["auditor", "issuer"])):
        args = _EnrolArgs("tax", name, key_for(f"tax-{name}").public_key, roles)
        raw = chain.tx(chain.admin("tax"), args, contract="test_enrol", method="enrol")
        assert chain.commit([raw]).receipts[0].ok
    return chain


# --- genesis and views -----------------------------------------------------------------------


def test_genesis_writes_params_and_default_policy(chain: Chain) -> None:
    assert chain.app.query(GOV, "params", {}) == chain.genesis.params
    assert get_params(chain.app._state) == chain.genesis.params
    assert chain.app.query(GOV, "policy", {"name": "governance"}) == FoundersMajority()
    assert chain.app.query(GOV, "policies", {}) == {"governance": FoundersMajority()}
    assert chain.app.query(GOV, "proposals", {}) == []
    with pytest.raises(GovchainError) as info:
        chain.app.query(GOV, "policy", {"name": "nope"})
    assert info.value.code == "GOV_UNKNOWN_POLICY"


# --- deciding --------------------------------------------------------------------------------


def test_pass_by_founders_majority(chain: Chain) -> None:
    proposal = propose(chain, Accredit("health", "real-name"), title="Real-name checks")
    assert proposal.status == "open" and proposal.policy == "governance"
    assert [(v.org, v.approve) for v in proposal.votes] == [("tax", True)]  # implicit yes
    assert proposal.deadline_height == proposal.created_height + 1000
    receipt = vote(chain, "bureau", proposal.id)
    assert receipt.ok and [e.name for e in receipt.events] == ["voted", "passed"]
    passed = show(chain, proposal.id)
    assert passed.status == "passed" and passed.decided_height == chain.height
    assert passed.enact_height == chain.height + 1
    assert not is_accredited(read(chain), "health", "real-name")
    chain.commit([])
    enacted = show(chain, proposal.id)
    assert enacted.status == "enacted" and enacted.outcome.startswith("health accredited")
    assert is_accredited(read(chain), "health", "real-name")
    assert [p.id for p in chain.app.query(GOV, "proposals", {"status": "enacted"})] == [1]


def test_rejected_when_it_can_no_longer_pass(chain: Chain) -> None:
    proposal = propose(chain, Accredit("health", "real-name"))
    assert vote(chain, "bureau", proposal.id, approve=False).ok
    assert show(chain, proposal.id).status == "open"  # health could still make a majority
    receipt = vote(chain, "health", proposal.id, approve=False)
    assert receipt.ok and "rejected" in [e.name for e in receipt.events]
    rejected = show(chain, proposal.id)
    assert rejected.status == "rejected" and rejected.outcome_code == "GOV_REJECTED"
    assert vote(chain, "bureau", proposal.id).code == "GOV_NOT_OPEN"
    empty_blocks(chain, 2)
    assert not is_accredited(read(chain), "health", "real-name")


def test_expires_at_its_deadline_and_refuses_late_votes(chain: Chain) -> None:
    proposal = propose(chain, Accredit("health", "real-name"), voting_period_blocks=3)
    assert proposal.deadline_height == proposal.created_height + 3
    empty_blocks(chain, 2)
    assert chain.height == proposal.deadline_height - 1
    assert show(chain, proposal.id).status == "open"
    late = vote(chain, "bureau", proposal.id)  # executes at the deadline height
    assert not late.ok and late.code == "GOV_VOTING_CLOSED"
    expired = show(chain, proposal.id)
    assert expired.status == "expired" and expired.decided_height == proposal.deadline_height
    assert vote(chain, "health", proposal.id).code == "GOV_VOTING_CLOSED"


def test_double_vote_by_the_same_organisation(chain: Chain) -> None:
    proposal = propose(chain, Accredit("health", "real-name"))
    # tax voted implicitly by proposing; its second admin cannot vote again for it
    receipt = send(chain, chain.admin("tax", 1), "vote", VoteArgs(proposal.id, True))
    assert receipt.code == "GOV_DOUBLE_VOTE"
    assert vote(chain, "bureau", proposal.id, approve=False).ok
    assert vote(chain, "bureau", proposal.id).code == "GOV_DOUBLE_VOTE"
    assert len(show(chain, proposal.id).votes) == 2


def test_votes_by_non_admins_are_refused(chain_with_members: Chain) -> None:
    chain = chain_with_members
    proposal = propose(chain, Accredit("health", "real-name"))
    for label in ("tax-alice", "tax-bob", NODE_LABEL):
        receipt = send(chain, key_for(label), "vote", VoteArgs(proposal.id, True))
        assert receipt.code == "GOV_NOT_ADMIN", label
        receipt = send(chain, key_for(label), "propose", ProposeArgs(Accredit("tax", "x")))
        assert receipt.code == "GOV_NOT_ADMIN", label
    stranger = chain.tx(
        key_for("stranger"), VoteArgs(proposal.id, True), contract=GOV, method="vote"
    )
    err = admission_error(chain, stranger)
    assert err is not None and err.code == "TX_UNKNOWN_SENDER"
    assert [v.org for v in show(chain, proposal.id).votes] == ["tax"]


def test_replayed_vote_is_refused_at_admission(chain: Chain) -> None:
    proposal = propose(chain, Accredit("health", "real-name"))
    raw = chain.tx(chain.admin("bureau"), VoteArgs(proposal.id, False), contract=GOV, method="vote")
    assert chain.commit([raw]).receipts[0].ok
    err = admission_error(chain, raw)
    assert err is not None and err.code == "TX_REPLAYED"


def test_unknown_proposal(chain: Chain) -> None:
    assert vote(chain, "bureau", 42).code == "GOV_UNKNOWN_PROPOSAL"
    with pytest.raises(GovchainError) as info:
        chain.app.query(GOV, "proposal", {"id": 42})
    assert info.value.code == "GOV_UNKNOWN_PROPOSAL"


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (AddOrg("tax", "Tax", "税务", "department", key_for("x").public_key), "already exists"),
        (AddOrg("Bad Id", "X", "X", "department", key_for("x").public_key), "must match"),
        (AddOrg("new", "New", "新", "planet", key_for("x").public_key), "kind must be"),
        (AddOrg("new", "New", "新", "department", b"short"), "32-byte"),
        (AddOrg("new", "New", "新", "department", key_for("tax-admin").public_key), "bound"),
        (RemoveOrg("nowhere"), "unknown organisation"),
        (RemoveOrg("tax"), "founding"),
        (AddNode("nowhere", "n1", key_for("n1").public_key), "unknown organisation"),
        (AddNode("bureau", "node0", key_for("n1").public_key), "already exists"),
        (RemoveNode("bureau:node0"), "last active node"),
        (RemoveNode("tax:admin"), "no node"),
        (SetPolicy("governance", NOf(3, [SignedBy(Role("tax", "admin"))])), "n_of"),
        (SetParams(), "changes no parameter"),
        (SetParams(max_tx_bytes=8 * 1024 * 1024, max_block_bytes=4 * 1024 * 1024), "exceeds"),
        (SetParams(max_block_txs=0), "between"),
        (Accredit("nowhere", "real-name"), "unknown organisation"),
        (RevokeAccreditation("tax", "real-name"), "not accredited"),
        (RegisterService("svc", "1", "Service", b"\x00" * 5), "definition_hash"),
        (RetireService("svc"), "no active service"),
    ],
)
def test_invalid_actions_are_refused_when_proposed(
    chain: Chain, action: Action, reason: str
) -> None:
    receipt = send(chain, chain.admin("tax"), "propose", ProposeArgs(action))
    assert receipt.code == "GOV_INVALID_ACTION", receipt.message
    assert reason in receipt.message
    assert chain.app.query(GOV, "proposals", {}) == []


def test_invalid_periods(chain: Chain) -> None:
    args = ProposeArgs(Accredit("tax", "t"), voting_period_blocks=0)
    assert send(chain, chain.admin("tax"), "propose", args).code == "GOV_INVALID_PROPOSAL"


# --- enactment -------------------------------------------------------------------------------


def test_add_org_at_its_height_then_its_admin_can_anchor(chain: Chain) -> None:
    new_admin = key_for("culture-admin")
    action = AddOrg("culture", "Culture Bureau", "文化局", "department", new_admin.public_key)
    proposal = pass_proposal(chain, action, effective_delay_blocks=3)
    assert proposal.enact_height == chain.height + 3
    anchor = chain.anchor_args(owner_org="culture")
    empty_blocks(chain, 1)
    early = admission_error(chain, chain.tx(new_admin, anchor))
    assert early is not None and early.code == "TX_UNKNOWN_SENDER"
    empty_blocks(chain, 1)
    assert chain.height == proposal.enact_height - 1
    committed = chain.commit([chain.tx(new_admin, anchor)])  # the enactment block
    assert committed.block.header.height == proposal.enact_height
    assert committed.receipts[0].ok
    assert show(chain, proposal.id).status == "enacted"
    org = get_identity(read(chain), "culture")
    assert org is not None and not org.founding and org.created_height == proposal.enact_height


def test_remove_org_refuses_its_members_from_its_height(chain: Chain) -> None:
    admin = key_for("culture-admin")
    added = pass_proposal(
        chain, AddOrg("culture", "Culture", "文化局", "district", admin.public_key)
    )
    run_until_enacted(chain, added)
    assert chain.commit([chain.tx(admin, chain.anchor_args(owner_org="culture"))]).receipts[0].ok
    removal = pass_proposal(chain, RemoveOrg("culture"), effective_delay_blocks=2)
    assert chain.height == removal.enact_height - 2
    assert chain.commit([chain.tx(admin, chain.anchor_args(owner_org="culture"))]).receipts[0].ok
    err = admission_error(chain, chain.tx(admin, chain.anchor_args(owner_org="culture")))
    assert err is not None and err.code == "TX_UNKNOWN_SENDER"  # for the enactment block
    chain.commit([])
    assert show(chain, removal.id).status == "enacted"
    org = get_identity(read(chain), "culture")
    assert org is not None and org.status == "removed"


def test_add_and_remove_node(chain: Chain) -> None:
    node1 = key_for("node1")
    added = pass_proposal(chain, AddNode("bureau", "node1", node1.public_key))
    assert get_identity(read(chain), "bureau:node1") is None
    run_until_enacted(chain, added)
    node = get_identity(read(chain), "bureau:node1")
    assert node is not None and node.kind == "node" and node.roles == ["node"]
    removed = run_until_enacted(chain, pass_proposal(chain, RemoveNode("bureau:node1")))
    assert removed.status == "enacted"
    node = get_identity(read(chain), "bureau:node1")
    assert node is not None and node.status == "removed"


def test_set_policy_then_a_proposal_under_it(chain: Chain) -> None:
    any_admin = NOf(1, [SignedBy(Role("*", "admin"))])
    set_policy = pass_proposal(chain, SetPolicy("governance.accredit", any_admin))
    assert set_policy.policy == "governance"
    run_until_enacted(chain, set_policy)
    assert get_policy(read(chain), "governance.accredit") == any_admin
    proposal = propose(chain, Accredit("tax", "tax-clearance"))
    assert proposal.policy == "governance.accredit"
    assert proposal.status == "passed"  # the proposer's implicit vote satisfies it
    # other kinds still go by the founders' majority
    other = propose(chain, RegisterService("permit", "1", "Permit", b"\x01" * 32))
    assert other.policy == "governance" and other.status == "open"
    chain.commit([])
    assert is_accredited(read(chain), "tax", "tax-clearance")


def test_restrictive_policy_rejects_early(chain: Chain) -> None:
    only_health = SignedBy(Role("health", "admin"))
    run_until_enacted(
        chain, pass_proposal(chain, SetPolicy("governance.retire_service", only_health))
    )
    run_until_enacted(
        chain, pass_proposal(chain, RegisterService("permit", "1", "Permit", b"\x01" * 32))
    )
    proposal = propose(chain, RetireService("permit"))
    assert proposal.status == "open"
    receipt = vote(chain, "health", proposal.id, approve=False)
    assert receipt.ok and show(chain, proposal.id).status == "rejected"


def test_accredit_and_revoke(chain: Chain) -> None:
    run_until_enacted(chain, pass_proposal(chain, Accredit("health", "real-name")))
    assert is_accredited(read(chain), "health", "real-name")
    revoke = run_until_enacted(
        chain, pass_proposal(chain, RevokeAccreditation("health", "real-name"))
    )
    assert revoke.status == "enacted"
    assert not is_accredited(read(chain), "health", "real-name")
    (record,) = chain.app.query(GOV, "accreditations", {"org": "health"})
    assert record.status == "revoked" and record.revoked_by == revoke.id
    assert chain.app.query(GOV, "accreditations", {"org": "tax"}) == []


def test_register_and_retire_service(chain: Chain) -> None:
    digest = b"\x02" * 32
    run_until_enacted(
        chain, pass_proposal(chain, RegisterService("permit", "1.0", "Permit", digest))
    )
    run_until_enacted(
        chain, pass_proposal(chain, RegisterService("permit", "1.1", "Permit", digest))
    )
    (service,) = chain.app.query(GOV, "services", {})
    assert service.status == "active" and [v.version for v in service.versions] == ["1.0", "1.1"]
    run_until_enacted(chain, pass_proposal(chain, RetireService("permit")))
    (service,) = chain.app.query(GOV, "services", {})
    assert service.status == "retired" and service.retired_height == chain.height


def test_action_that_no_longer_applies_fails_without_stopping_the_block(chain: Chain) -> None:
    action = AddOrg("culture", "Culture", "文化局", "department", key_for("c1").public_key)
    first = propose(chain, action, effective_delay_blocks=5)
    second = propose(chain, action, key=chain.admin("health"), effective_delay_blocks=4)
    assert vote(chain, "bureau", first.id).ok  # passes at h, enacted at h + 5
    assert vote(chain, "bureau", second.id).ok  # passes at h + 1, enacted at h + 5 as well
    assert show(chain, first.id).enact_height == show(chain, second.id).enact_height
    committed_ok = []
    target = show(chain, first.id).enact_height
    assert target is not None
    while chain.height < target:
        committed_ok.append(chain.commit([chain.tx()]).receipts[0].ok)
    assert all(committed_ok)
    assert show(chain, first.id).status == "enacted"  # proposal-id order
    failed = show(chain, second.id)
    assert failed.status == "failed" and failed.outcome_code == "GOV_INVALID_ACTION"
    assert "already exists" in failed.outcome


# --- chain parameters ------------------------------------------------------------------------


def big_anchor(chain: Chain) -> bytes:
    """A transaction of about 3 KB."""
    metadata = {f"field-{i}": "x" * 150 for i in range(16)}
    return chain.tx(args=chain.anchor_args(metadata=metadata))


def test_parameter_change_takes_effect_at_its_height(chain: Chain) -> None:
    assert len(big_anchor(chain)) > 2048
    proposal = pass_proposal(chain, SetParams(max_tx_bytes=2048), effective_delay_blocks=3)
    enact_height = proposal.enact_height
    assert enact_height is not None
    admitted_early = chain.app.check_txs([big_anchor(chain)])  # for block enact_height - 2
    assert isinstance(admitted_early[0], CheckedTx)
    assert chain.commit([big_anchor(chain)]).receipts[0].ok  # block enact_height - 2
    held = chain.app.check_txs([big_anchor(chain)])[0]  # admitted for enact_height - 1 ...
    assert isinstance(held, CheckedTx)
    committed = chain.commit([big_anchor(chain)])  # ... the last block under the old limit
    assert committed.receipts[0].ok and committed.params_changed is None
    assert chain.height == enact_height - 1
    assert chain.app.next_block_params().max_tx_bytes == 2048
    err = admission_error(chain, big_anchor(chain))
    assert err is not None and err.code == "TX_TOO_LARGE"
    # a transaction admitted earlier is dropped from the enactment block with its reason
    pending = chain.app.finalize_block([held, *chain.admit([chain.tx()])], chain.next_time())
    assert [(tx.tx_id, e.code) for tx, e in pending.dropped] == [(held.tx_id, "TX_TOO_LARGE")]
    committed = chain.app.commit(pending)
    assert committed.block.header.height == enact_height
    assert committed.params_changed is not None and committed.params_changed.max_tx_bytes == 2048
    assert chain.app.params.max_tx_bytes == 2048
    assert chain.app.query(GOV, "params", {}).max_tx_bytes == 2048
    assert chain.app.query(GOV, "params", {}, height=enact_height - 1).max_tx_bytes == 64 * 1024
    assert show(chain, proposal.id).outcome == "chain parameters set: max_tx_bytes=2048"
    report = audit_ledger(chain.store, chain.genesis, chain.registry)
    assert report.ok, report


def test_parameters_survive_a_restart_and_widen_the_replay_window(chain: Chain) -> None:
    change = SetParams(max_tx_lifetime=300, max_block_txs=10)
    run_until_enacted(chain, pass_proposal(chain, change))
    app = chain.reopen()
    assert app.params == ChainParams(max_block_txs=10, max_tx_lifetime=300)
    assert app.next_block_params() == app.params
    far = chain.tx(valid_until=chain.height + 250)  # beyond the genesis lifetime of 100
    assert isinstance(app.check_txs([far])[0], CheckedTx)
    value = chain.store.get_state(b"governance/lifetime_ceiling")
    assert value is not None and msgspec.msgpack.decode(value) == 300
    assert chain.store.get_state(PARAMS_KEY) is not None


def test_governance_state_is_provable(chain: Chain) -> None:
    proposal = pass_proposal(chain, Accredit("health", "real-name"))
    key = proposal_state_key(proposal.id)
    result = chain.app.prove_state(key)
    verify_state_proof(result.header.state_root, key, result.value, result.proof)
    assert result.value is not None and decode(result.value, Proposal).status == "passed"
    params = chain.app.prove_state(PARAMS_KEY)
    verify_state_proof(params.header.state_root, PARAMS_KEY, params.value, params.proof)
    assert params.value is not None and decode(params.value, ChainParams) == chain.genesis.params


def test_audit_replays_governance_history(chain: Chain) -> None:
    run_until_enacted(chain, pass_proposal(chain, SetParams(max_block_txs=100)))
    expire = propose(chain, Accredit("health", "x"), voting_period_blocks=1)
    chain.commit([chain.tx()])
    assert show(chain, expire.id).status == "expired"
    report = audit_ledger(chain.store, chain.genesis, chain.registry)
    assert report.ok, report


def test_cli_parses_actions_and_policies_from_json() -> None:
    from govchain.cli.gov_cmds import parse_action, parse_policy

    key = key_for("x").public_key
    text = '{"type": "add_org", "id": "culture", "name": "C", "name_zh": "文", '
    text += f'"kind": "district", "admin_key": "{key.hex()}"}}'
    assert parse_action(text) == AddOrg("culture", "C", "文", "district", key)
    policy = parse_policy('{"type": "n_of", "n": 1, "of": [{"type": "founders_majority"}]}')
    assert policy == NOf(1, [FoundersMajority()])
    for bad in ('{"type": "launch_rocket"}', "[1]", "not json"):
        with pytest.raises(GovchainError) as info:
            parse_action(bad)
        assert info.value.code == "BAD_REQUEST"
