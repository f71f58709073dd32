"""Governance: organisations' admins propose changes to the network and vote on them.

A proposal carries one action (``governance_actions``: add or remove an organisation or a node,
set a policy, set chain parameters, accredit an organisation for a credential type or revoke it,
register or retire a service definition). Its life::

    open ──(approvals satisfy its policy)──▶ passed ──(enactment height)──▶ enacted | failed
      │ ──(can no longer pass)──▶ rejected
      └ ──(deadline reached while open)──▶ expired

- **Who.** An admin of an active organisation proposes and votes (``GOV_NOT_ADMIN`` otherwise);
  each organisation votes once (``GOV_DOUBLE_VOTE``). The proposer's organisation votes yes
  implicitly when proposing, so a policy one organisation can satisfy passes at once.
- **Which policy decides.** The named policy ``governance.<action kind>`` if governance has set
  one (e.g. ``governance.accredit``), else ``governance`` (at genesis: a majority of the founding
  organisations' admins). The policy is evaluated over one signer per approving organisation (its
  voting admin). A proposal is rejected as soon as the approvals plus every organisation that has
  not voted yet could no longer satisfy it.
- **When.** Votes count at heights below ``deadline_height = created + voting_period``; at the
  start of the deadline block an open proposal expires. A passed proposal is enacted at the start
  of block ``decided + effective_delay`` (at least the next block), before that block's
  transactions, in proposal-id order; an action that no longer applies makes the proposal
  ``failed`` with the reason and changes nothing.

State (under ``governance/``): ``proposal/<id>``; ``next_id``; ``due/<height>/<id>`` (passed
proposals by enactment height) and ``deadline/<height>/<id>`` (open proposals by deadline), so
the start-of-block step reads only what is due at its height; plus the parameters, policies,
accreditations and services described in ``governance_actions``.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.governance_actions import (
    DEFAULT_POLICY,
    PARAMS_KEY,
    Accreditation,
    Action,
    ServiceRecord,
    action_kind,
    check_action,
    default_policies,
    enact_action,
    get_lifetime_ceiling,
    get_params,
    get_policy,
    has_policy,
    is_accredited,
    put_params,
    put_policy,
    read_params,
)
from govchain.contracts.identity import Identity, founding_orgs, get_org, resolve_signers
from govchain.contracts.policy import (
    AnyMember,
    FoundersMajority,
    IdentityPrincipal,
    NOf,
    Policy,
    Role,
    Signer,
    is_satisfied,
)
from govchain.errors import ContractError, GovchainError, NotFoundInState, Unauthorized
from govchain.types import ChainParams, Genesis

__all__ = [
    "DEFAULT_EFFECTIVE_DELAY",
    "DEFAULT_VOTING_PERIOD",
    "PARAMS_KEY",
    "GovernanceContract",
    "Proposal",
    "ProposeArgs",
    "VoteArgs",
    "VoteRecord",
    "get_lifetime_ceiling",
    "get_params",
    "get_policy",
    "is_accredited",
    "proposal_state_key",
]

NAME = "governance"
DEFAULT_VOTING_PERIOD = 1_000  # blocks
MAX_VOTING_PERIOD = 1_000_000
DEFAULT_EFFECTIVE_DELAY = 1  # blocks after passing
MAX_EFFECTIVE_DELAY = 1_000_000
MAX_TITLE, MAX_DESCRIPTION = 200, 4_000

Status = Literal["open", "passed", "rejected", "expired", "enacted", "failed"]
STATUSES = ("open", "passed", "rejected", "expired", "enacted", "failed")


class ProposeArgs(msgspec.Struct, forbid_unknown_fields=True):
    action: Action
    title: str = ""
    description: str = ""
    voting_period_blocks: int | None = None
    effective_delay_blocks: int | None = None


class VoteArgs(msgspec.Struct, forbid_unknown_fields=True):
    proposal_id: int
    approve: bool


class ProposalArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: int


class ProposalsArgs(msgspec.Struct, forbid_unknown_fields=True):
    status: str | None = None
    limit: int = 1_000


class NameArgs(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class OrgFilterArgs(msgspec.Struct, forbid_unknown_fields=True):
    org: str | None = None


class EmptyArgs(msgspec.Struct, forbid_unknown_fields=True):
    pass


class VoteRecord(msgspec.Struct, frozen=True):
    org: str
    voter: str  # the admin's identity id
    public_key: bytes
    approve: bool
    height: int
    tx_id: bytes


class Proposal(msgspec.Struct, frozen=True):
    id: int
    proposer: str  # identity id of the proposing admin
    proposer_org: str
    action: Action
    title: str
    description: str
    policy: str  # the name of the policy that decides it
    created_height: int
    deadline_height: int  # votes count at heights below this
    effective_delay: int
    votes: list[VoteRecord]
    status: Status = "open"
    decided_height: int | None = None  # when it passed, was rejected or expired
    enact_height: int | None = None  # when a passed proposal is (or was) enacted
    outcome: str = ""  # what enactment did, or why it failed / was rejected
    outcome_code: str = ""
    tx_id: bytes = b""


def _h(n: int) -> str:
    return f"{n:016d}"


def _proposal_key(proposal_id: int) -> str:
    return f"proposal/{_h(proposal_id)}"


def proposal_state_key(proposal_id: int) -> bytes:
    """The full state key of a proposal (for state proofs)."""
    return f"{NAME}/{_proposal_key(proposal_id)}".encode()


def get_proposal(ctx: ReadContext, proposal_id: int) -> Proposal | None:
    return ctx.other(NAME).get_as(_proposal_key(proposal_id), Proposal)


def _load(ctx: ReadContext, proposal_id: int) -> Proposal:
    proposal = get_proposal(ctx, proposal_id)
    if proposal is None:
        raise NotFoundInState(
            f"no proposal {proposal_id}",
            code="GOV_UNKNOWN_PROPOSAL",
            hint="`govchain gov list` lists the proposals.",
        )
    return proposal


def _require_admin(ctx: Context, action: str) -> Signer:
    """The sender as an admin of an active organisation, or ``GOV_NOT_ADMIN``."""
    signers = resolve_signers(ctx, [ctx.sender], ctx.height)
    signer = signers[0] if signers else None
    org: Identity | None = None if signer is None else get_org(ctx, signer.org)
    if signer is None or org is None or org.status != "active" or "admin" not in signer.roles:
        raise Unauthorized(
            f"only an admin of an active organisation may {action}",
            code="GOV_NOT_ADMIN",
            hint="Sign with your organisation's admin key (`--dir DIR --org ORG`).",
        )
    return signer


def _check_periods(args: ProposeArgs) -> tuple[int, int]:
    period, delay = args.voting_period_blocks, args.effective_delay_blocks
    period = DEFAULT_VOTING_PERIOD if period is None else period
    delay = DEFAULT_EFFECTIVE_DELAY if delay is None else delay
    if not 1 <= period <= MAX_VOTING_PERIOD:
        raise ContractError(
            f"voting_period_blocks must be 1..{MAX_VOTING_PERIOD}", code="GOV_INVALID_PROPOSAL"
        )
    if not 1 <= delay <= MAX_EFFECTIVE_DELAY:
        raise ContractError(
            f"effective_delay_blocks must be 1..{MAX_EFFECTIVE_DELAY}",
            code="GOV_INVALID_PROPOSAL",
        )
    if len(args.title) > MAX_TITLE or len(args.description) > MAX_DESCRIPTION:
        raise ContractError(
            f"title at most {MAX_TITLE} and description at most {MAX_DESCRIPTION} characters",
            code="GOV_INVALID_PROPOSAL",
        )
    return period, delay


def policy_name_for(ctx: ReadContext, action: Action) -> str:
    """``governance.<kind>`` if such a policy exists, else ``governance``."""
    specific = f"{DEFAULT_POLICY}.{action_kind(action)}"
    return specific if has_policy(ctx, specific) else DEFAULT_POLICY


# --- deciding ------------------------------------------------------------------------------


def _approvers(proposal: Proposal) -> list[Signer]:
    return [
        Signer(v.public_key, v.voter, v.org, frozenset({"admin"}))
        for v in proposal.votes
        if v.approve
    ]


def _policy_orgs(policy: Policy, founders: list[str]) -> set[str] | None:
    """The organisations whose admins could count towards ``policy`` (None: any)."""
    if isinstance(policy, FoundersMajority):
        return set(founders)
    if isinstance(policy, NOf):
        out: set[str] = set()
        for p in policy.of:
            sub = _policy_orgs(p, founders)
            if sub is None:
                return None
            out |= sub
        return out
    who = policy.who
    if isinstance(who, IdentityPrincipal):
        return {who.id.split(":", 1)[0]}
    if isinstance(who, AnyMember | Role) and who.org != "*":
        return {who.org}
    return None


def _potential_voters(ctx: ReadContext, orgs: set[str], voted: set[str]) -> list[Signer]:
    """Every active admin of the active organisations in ``orgs`` that have not voted yet."""
    out: list[Signer] = []
    for org_id in sorted(orgs - voted):
        org = get_org(ctx, org_id)
        if org is None or org.status != "active":
            continue
        for _, raw in ctx.other("identity").iter(f"id/{org_id}:"):
            member = msgspec.msgpack.decode(raw, type=Identity)
            if member.status == "active" and "admin" in member.roles and member.keys:
                out.append(
                    Signer(member.keys[-1].public_key, member.id, org_id, frozenset({"admin"}))
                )
    return out


def _decide(ctx: Context, proposal: Proposal) -> Proposal:
    """Pass or reject ``proposal`` if its votes now decide it."""
    policy = get_policy(ctx, proposal.policy)
    founders = founding_orgs(ctx)
    approvers = _approvers(proposal)
    if is_satisfied(policy, approvers, founders):
        enact_height = ctx.height + max(1, proposal.effective_delay)
        ctx.set(f"due/{_h(enact_height)}/{_h(proposal.id)}", b"")
        ctx.delete(f"deadline/{_h(proposal.deadline_height)}/{_h(proposal.id)}")
        ctx.emit("passed", id=str(proposal.id), enact_height=str(enact_height))
        return msgspec.structs.replace(
            proposal, status="passed", decided_height=ctx.height, enact_height=enact_height
        )
    orgs = _policy_orgs(policy, founders)
    if orgs is None:
        return proposal  # anyone may still approve: it stays open until its deadline
    voted = {v.org for v in proposal.votes}
    if is_satisfied(policy, approvers + _potential_voters(ctx, orgs, voted), founders):
        return proposal
    ctx.delete(f"deadline/{_h(proposal.deadline_height)}/{_h(proposal.id)}")
    ctx.emit("rejected", id=str(proposal.id))
    return msgspec.structs.replace(
        proposal,
        status="rejected",
        decided_height=ctx.height,
        outcome="the approvals can no longer satisfy the policy",
        outcome_code="GOV_REJECTED",
    )


class GovernanceContract(Contract):
    name = NAME
    description = (
        "Proposals and votes of the organisations; chain parameters, policies, "
        "accreditations and service definitions."
    )

    def init_genesis(self, ctx: Context, genesis: Genesis) -> None:
        put_params(ctx, genesis.params)
        for name, policy in default_policies().items():
            put_policy(ctx, name, policy)

    # --- methods ---------------------------------------------------------------------------

    @method(ProposeArgs)
    def propose(self, ctx: Context, args: ProposeArgs) -> Proposal:
        """Propose an action; the proposer's organisation votes yes implicitly."""
        signer = _require_admin(ctx, "propose")
        period, delay = _check_periods(args)
        check_action(ctx, args.action)
        policy_name = policy_name_for(ctx, args.action)
        get_policy(ctx, policy_name)
        raw_next = ctx.get("next_id")
        proposal_id = 1 if raw_next is None else msgspec.msgpack.decode(raw_next, type=int)
        ctx.set("next_id", msgspec.msgpack.encode(proposal_id + 1))
        vote = VoteRecord(
            signer.org, signer.identity, signer.public_key, True, ctx.height, ctx.tx_id
        )
        proposal = Proposal(
            proposal_id,
            signer.identity,
            signer.org,
            args.action,
            args.title or action_kind(args.action).replace("_", " "),
            args.description,
            policy_name,
            ctx.height,
            ctx.height + period,
            delay,
            [vote],
            tx_id=ctx.tx_id,
        )
        ctx.set(f"deadline/{_h(proposal.deadline_height)}/{_h(proposal_id)}", b"")
        ctx.emit("proposed", id=str(proposal_id), kind=action_kind(args.action))
        proposal = _decide(ctx, proposal)
        ctx.set(_proposal_key(proposal_id), proposal)
        return proposal

    @method(VoteArgs)
    def vote(self, ctx: Context, args: VoteArgs) -> Proposal:
        """Vote yes or no on an open proposal, once per organisation, before its deadline."""
        proposal = _load(ctx, args.proposal_id)
        signer = _require_admin(ctx, "vote")
        if proposal.status == "expired" or (
            proposal.status == "open" and ctx.height >= proposal.deadline_height
        ):
            raise ContractError(
                f"voting on proposal {proposal.id} closed at height {proposal.deadline_height}",
                code="GOV_VOTING_CLOSED",
                hint="Propose the action again.",
            )
        if proposal.status != "open":
            raise ContractError(
                f"proposal {proposal.id} is {proposal.status}",
                code="GOV_NOT_OPEN",
                hint="Only open proposals take votes.",
            )
        if any(v.org == signer.org for v in proposal.votes):
            raise ContractError(
                f"{signer.org} has already voted on proposal {proposal.id}",
                code="GOV_DOUBLE_VOTE",
                hint="Each organisation votes once.",
            )
        vote = VoteRecord(
            signer.org, signer.identity, signer.public_key, args.approve, ctx.height, ctx.tx_id
        )
        proposal = msgspec.structs.replace(proposal, votes=[*proposal.votes, vote])
        ctx.emit("voted", id=str(proposal.id), org=signer.org, approve=str(args.approve).lower())
        proposal = _decide(ctx, proposal)
        ctx.set(_proposal_key(proposal.id), proposal)
        return proposal

    # --- the start of each block -----------------------------------------------------------

    def on_block(self, ctx: Context) -> None:
        """Enact the proposals due at this height, then expire those whose deadline it is."""
        for key, _ in list(ctx.iter(f"due/{_h(ctx.height)}/")):
            ctx.delete(key)
            proposal = get_proposal(ctx, int(key.rsplit(b"/", 1)[1]))
            if proposal is not None and proposal.status == "passed":
                ctx.set(_proposal_key(proposal.id), _enact(ctx, proposal))
        for key, _ in list(ctx.iter(f"deadline/{_h(ctx.height)}/")):
            ctx.delete(key)
            proposal = get_proposal(ctx, int(key.rsplit(b"/", 1)[1]))
            if proposal is not None and proposal.status == "open":
                expired = msgspec.structs.replace(
                    proposal,
                    status="expired",
                    decided_height=ctx.height,
                    outcome="the deadline passed before the policy was satisfied",
                    outcome_code="GOV_EXPIRED",
                )
                ctx.set(_proposal_key(proposal.id), expired)

    # --- views -----------------------------------------------------------------------------

    @view(ProposalArgs)
    def proposal(self, ctx: ReadContext, args: ProposalArgs) -> Proposal:
        """A proposal with its votes, status and outcome."""
        return _load(ctx, args.id)

    @view(ProposalsArgs)
    def proposals(self, ctx: ReadContext, args: ProposalsArgs) -> list[Proposal]:
        """Every proposal in id order (only those with ``status``, if given)."""
        if args.status is not None and args.status not in STATUSES:
            raise NotFoundInState(
                f"unknown status {args.status!r}; one of {', '.join(STATUSES)}",
                code="GOV_BAD_STATUS",
            )
        out = []
        for _, raw in ctx.iter("proposal/"):
            proposal = msgspec.msgpack.decode(raw, type=Proposal)
            if args.status is None or proposal.status == args.status:
                out.append(proposal)
                if len(out) >= args.limit:
                    break
        return out

    @view(EmptyArgs)
    def params(self, ctx: ReadContext, args: EmptyArgs) -> ChainParams:
        """The chain parameters in force."""
        return read_params(ctx)

    @view(NameArgs)
    def policy(self, ctx: ReadContext, args: NameArgs) -> Policy:
        """A named policy."""
        return get_policy(ctx, args.name)

    @view(EmptyArgs)
    def policies(self, ctx: ReadContext, args: EmptyArgs) -> dict[str, Policy]:
        """Every named policy."""
        return {
            key.decode().split("/", 1)[1]: msgspec.msgpack.decode(raw, type=Policy)
            for key, raw in ctx.iter("policy/")
        }

    @view(OrgFilterArgs)
    def accreditations(self, ctx: ReadContext, args: OrgFilterArgs) -> list[Accreditation]:
        """Accreditations (active and revoked), of one organisation if given."""
        prefix = "accreditation/" + (f"{args.org}/" if args.org else "")
        return [msgspec.msgpack.decode(raw, type=Accreditation) for _, raw in ctx.iter(prefix)]

    @view(EmptyArgs)
    def services(self, ctx: ReadContext, args: EmptyArgs) -> list[ServiceRecord]:
        """The registered service definitions with their versions."""
        return [msgspec.msgpack.decode(raw, type=ServiceRecord) for _, raw in ctx.iter("service/")]


def _enact(ctx: Context, proposal: Proposal) -> Proposal:
    """Apply a passed proposal's action atomically; a failure is recorded, never raised."""
    child = ctx.child()
    try:
        outcome, code = enact_action(child, proposal.action, proposal.id), ""
    except GovchainError as exc:
        outcome, code = exc.message, exc.code
    except Exception as exc:  # a bug in an action must not stop the block
        outcome, code = f"enactment failed: {type(exc).__name__}", "GOV_ENACTMENT_FAILED"
    if code:
        ctx.emit("failed", id=str(proposal.id), code=code)
        return msgspec.structs.replace(
            proposal, status="failed", outcome=outcome, outcome_code=code
        )
    child.merge_into(ctx)
    ctx.emit("enacted", id=str(proposal.id), kind=action_kind(proposal.action))
    return msgspec.structs.replace(proposal, status="enacted", outcome=outcome)
