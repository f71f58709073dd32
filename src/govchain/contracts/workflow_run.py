"""Running a service instance: who acts, which steps are open, what each action does.

Steps open when every step they come ``after`` is approved (so steps sharing their predecessors run
in parallel); each open step's deadline runs from the block time at which it opened. A step is
approved once ``approval.n`` distinct members of its organisation, each holding one of
``approval.roles``, have approved it — in one co-signed transaction or in several. A rejection
closes the instance. When every step is approved the instance completes and records the
credentials its steps issue; the paperwork counters of the service are updated at that moment.
"""

from __future__ import annotations

import msgspec

from govchain.contracts.base import Context, ReadContext
from govchain.contracts.identity import get_identity, resolve_signer, resolve_signers
from govchain.contracts.policy import Signer
from govchain.contracts.workflow_definitions import (
    Definition,
    DefinitionRecord,
    Step,
    compute_deadline_ms,
    get_definition,
)
from govchain.contracts.workflow_needs import check_provision
from govchain.contracts.workflow_records import (
    ActionRecord,
    Instance,
    NeedState,
    PaperworkStats,
    Provision,
    StepState,
)
from govchain.errors import ContractError, NotFoundInState, Unauthorized

__all__ = [
    "APPLICANT_ROLES",
    "apply_provisions",
    "close_open_steps",
    "close_step",
    "complete",
    "due_key",
    "get_applicant",
    "get_approvers",
    "get_step",
    "load_definition",
    "load_instance",
    "open_ready_steps",
    "overdue_key",
    "put_instance",
    "record",
    "require_applicant",
    "require_running",
    "unmet_needs",
]

APPLICANT_ROLES = ("admin", "officer")  # members who apply on their organisation's behalf


def _err(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


def due_key(due_ms: int, instance_id: str, step_id: str) -> str:
    return f"due/{due_ms:015d}/{instance_id}/{step_id}"


def overdue_key(instance_id: str, step_id: str) -> str:
    return f"overdue/{instance_id}/{step_id}"


# --- loading -------------------------------------------------------------------------------------


def load_instance(ctx: ReadContext, instance_id: str) -> Instance:
    record = ctx.get_as(f"inst/{instance_id}", Instance)
    if record is None:
        raise NotFoundInState(
            f"no service instance {instance_id!r}",
            code="WF_UNKNOWN_INSTANCE",
            hint="`govchain service status` lists your instances.",
        )
    return record


def load_definition(ctx: ReadContext, definition_hash: bytes) -> DefinitionRecord:
    record = get_definition(ctx, definition_hash)
    if record is None:
        raise NotFoundInState(
            f"no published definition {definition_hash.hex()}",
            code="WF_DEFINITION_MISSING",
            hint="Publish the definition (`govchain service publish FILE`).",
        )
    return record


def require_running(instance: Instance) -> None:
    if instance.status != "running":
        raise _err(
            "WF_INSTANCE_CLOSED",
            f"instance {instance.id} is {instance.status}; it accepts no more actions",
            "Start a new instance of the service.",
        )


def put_instance(ctx: Context, instance: Instance) -> None:
    ctx.set(f"inst/{instance.id}", instance)


# --- who acts ------------------------------------------------------------------------------------


def get_applicant(ctx: ReadContext, public_key: bytes, height: int) -> tuple[str, str] | None:
    """``(applicant id, kind)`` for which a key may apply: a citizen or an enterprise for itself,
    an admin or officer for its organisation; ``None`` otherwise."""
    signer = resolve_signer(ctx, public_key, height)
    if signer is None:
        return None
    identity = get_identity(ctx, signer.identity)
    if identity is None:
        return None
    if identity.kind in ("citizen", "enterprise"):
        return identity.id, identity.kind
    if identity.kind == "member" and signer.roles & set(APPLICANT_ROLES):
        return signer.org, "org"
    return None


def require_applicant(ctx: Context, instance: Instance) -> str:
    """The sender as the instance's applicant (its identity id), or ``WF_NOT_APPLICANT``."""
    who = get_applicant(ctx, ctx.sender, ctx.height)
    if who is None or who[0] != instance.applicant:
        raise Unauthorized(
            f"only the applicant {instance.applicant} may do this on instance {instance.id}",
            code="WF_NOT_APPLICANT",
            hint="Sign with the applicant's key.",
        )
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    assert signer is not None
    return signer.identity


def get_approvers(ctx: Context, step: Step) -> list[Signer]:
    """The transaction's signers who may approve ``step``, or ``WF_NOT_STEP_ORG``."""
    signers = resolve_signers(ctx, sorted(ctx.signers), ctx.height)
    roles = set(step.approval.roles)
    found = [s for s in signers if s.org == step.org and s.roles & roles]
    if not found:
        raise Unauthorized(
            f"step {step.id} is acted on by a member of {step.org} with role "
            f"{' or '.join(step.approval.roles)}",
            code="WF_NOT_STEP_ORG",
            hint=f"Sign with the key of one of {step.org}'s members holding that role.",
        )
    return found


# --- steps ---------------------------------------------------------------------------------------


def get_step(instance: Instance, definition: Definition, step_id: str) -> tuple[Step, StepState]:
    """A step's definition and state, or ``WF_UNKNOWN_STEP``."""
    step = definition.step(step_id)
    state = instance.step(step_id)
    if step is None or state is None:
        raise NotFoundInState(
            f"service {instance.service_id} has no step {step_id!r}",
            code="WF_UNKNOWN_STEP",
            hint="`govchain service status ID` lists the steps.",
        )
    return step, state


def open_ready_steps(ctx: Context, instance: Instance, definition: Definition) -> Instance:
    """Open every waiting step whose predecessors are all approved."""
    approved = {s.id for s in instance.steps if s.status == "approved"}
    steps = []
    for state in instance.steps:
        step = definition.step(state.id)
        assert step is not None
        if state.status == "waiting" and set(step.after) <= approved:
            due = ctx.time_ms + compute_deadline_ms(step.deadline)
            state = msgspec.structs.replace(
                state,
                status="active",
                activated_height=ctx.height,
                activated_ms=ctx.time_ms,
                due_ms=due,
            )
            ctx.set(due_key(due, instance.id, state.id), b"")
            ctx.emit("step_opened", instance=instance.id, step=state.id, org=state.org)
        steps.append(state)
    return msgspec.structs.replace(instance, steps=steps)


def close_step(ctx: Context, instance: Instance, step_id: str, status: str) -> Instance:
    """Set a step approved or rejected and drop its deadline entries."""
    steps = []
    for state in instance.steps:
        if state.id == step_id:
            if state.due_ms is not None:
                ctx.delete(due_key(state.due_ms, instance.id, state.id))
            ctx.delete(overdue_key(instance.id, state.id))
            state = msgspec.structs.replace(state, status=status, closed_height=ctx.height)
        steps.append(state)
    return msgspec.structs.replace(instance, steps=steps)


def close_open_steps(ctx: Context, instance: Instance) -> None:
    """Drop the deadline entries of every open step (the instance was rejected)."""
    for state in instance.steps:
        if state.status in ("active", "info_requested") and state.due_ms is not None:
            ctx.delete(due_key(state.due_ms, instance.id, state.id))
            ctx.delete(overdue_key(instance.id, state.id))


def complete(ctx: Context, instance: Instance) -> Instance:
    """Close a fully approved instance and count its paperwork."""
    stats = ctx.get_as(f"stats/{instance.service_id}", PaperworkStats)
    stats = stats or PaperworkStats(instance.service_id)
    stats.instances += 1
    stats.required += len(instance.needs)
    for need in instance.needs:
        if need.met_by is not None:
            setattr(stats, need.met_by, getattr(stats, need.met_by) + 1)
    ctx.set(f"stats/{instance.service_id}", stats)
    ctx.emit("completed", instance=instance.id, service=instance.service_id)
    return msgspec.structs.replace(
        instance, status="completed", closed_height=ctx.height, closed_ms=ctx.time_ms
    )


def record(ctx: Context, instance: Instance, entry: ActionRecord) -> Instance:
    return msgspec.structs.replace(instance, history=[*instance.history, entry])


# --- needs ---------------------------------------------------------------------------------------


def apply_provisions(
    ctx: Context,
    instance: Instance,
    definition: Definition,
    provisions: list[Provision],
    *,
    by_applicant: bool,
) -> Instance:
    """Check each provision and record how its need is met. A member of the step's organisation
    (not the applicant) may attach only grants: the department fetched the data itself."""
    needs = list(instance.needs)
    for p in provisions:
        step = definition.step(p.step)
        need = None if step is None else next((n for n in step.needs if n.id == p.need), None)
        if step is None or need is None:
            raise NotFoundInState(
                f"service {instance.service_id} has no need {p.step}/{p.need}",
                code="WF_UNKNOWN_NEED",
                hint="`govchain service show SERVICE` lists each step's needs.",
            )
        state = instance.step(step.id)
        assert state is not None
        if state.status in ("approved", "rejected"):
            raise _err(
                "WF_STEP_CLOSED",
                f"step {step.id} is {state.status}; its needs are settled",
                "Nothing to do for this step.",
            )
        if not by_applicant:
            _require_step_member(ctx, step, p)
        met_by, ref = check_provision(ctx, need, step.org, instance.applicant, p, ctx.time_ms)
        at = next(i for i, n in enumerate(needs) if (n.step, n.need) == (p.step, p.need))
        needs[at] = NeedState(p.step, p.need, met_by, ref, ctx.height)
    return msgspec.structs.replace(instance, needs=needs)


def _require_step_member(ctx: Context, step: Step, p: Provision) -> None:
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    if signer is None or signer.org != step.org or p.grant_id is None:
        raise Unauthorized(
            f"need {p.step}/{p.need} is met by the applicant, or by {step.org} with a grant",
            code="WF_NOT_APPLICANT",
            hint="Sign with the applicant's key, or attach a grant as the step's organisation.",
        )


def unmet_needs(instance: Instance, step_id: str) -> list[str]:
    return [n.need for n in instance.needs if n.step == step_id and n.met_by is None]
