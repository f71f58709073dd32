"""Cross-department services: definitions, instances and step actions.

- **Definitions** are data (:mod:`govchain.contracts.workflow_definitions`): ``publish`` stores a
  definition document under its SHA-256 after checking it (an admin or officer of an active
  organisation); governance's ``register_service`` names that hash to make it the service's
  active version; ``retire_service`` stops new instances.
- **Instances**: a citizen, an enterprise, or an admin or officer on behalf of its organisation
  ``start``\\ s the active version of a service; needs are met with ``meet`` (credentials the
  applicant holds, data shared under grants, uploads' hashes; :mod:`.workflow_needs`); members of
  each step's organisation ``act`` (approve, reject with a reason, request information, which
  the applicant ``answer``\\ s); the order and deadlines follow the definition
  (:mod:`.workflow_run`). ``link_output`` records the credentials issued on completion.
- **Holder binding**: ``bind_holder`` lets a credential's issuer commit to its holder.
- **Deadlines**: the start-of-block hook flags steps whose deadline has passed.
- **Paperwork**: the ``paperwork`` view counts, over completed instances, the documents required
  and how each was met.
"""

from __future__ import annotations

from typing import Any

import msgspec

from govchain.contracts.base import Context, Contract, ReadContext, method, view
from govchain.contracts.certs_records import get_anchor
from govchain.contracts.governance_actions import get_service
from govchain.contracts.identity import resolve_signer
from govchain.contracts.policy import Signer
from govchain.contracts.workflow_definitions import (
    Definition,
    DefinitionRecord,
    check_orgs,
    compute_definition_hash,
    parse_definition,
)
from govchain.contracts.workflow_needs import get_holder_binding
from govchain.contracts.workflow_records import (
    ACTIONS,
    MAX_COMMENT,
    ActArgs,
    ActionRecord,
    AnswerArgs,
    BindHolderArgs,
    DefinitionArgs,
    HolderBinding,
    Instance,
    InstanceArgs,
    InstancesArgs,
    LinkOutputArgs,
    MeetArgs,
    NeedState,
    OutputState,
    PaperworkArgs,
    PaperworkStats,
    PublishArgs,
    ServiceArgs,
    StartArgs,
    StepState,
)
from govchain.contracts.workflow_run import (
    apply_provisions,
    close_open_steps,
    close_step,
    complete,
    get_applicant,
    get_approvers,
    get_step,
    load_definition,
    load_instance,
    open_ready_steps,
    overdue_key,
    put_instance,
    record,
    require_applicant,
    require_running,
    unmet_needs,
)
from govchain.errors import AlreadyExists, ContractError, NotFoundInState, Unauthorized

__all__ = ["WorkflowContract"]

NAME = "workflow"
PUBLISHER_ROLES = ("admin", "officer")
ISSUER_ROLES = ("issuer", "officer")
MAX_LIST = 500


def _err(code: str, message: str, hint: str) -> ContractError:
    return ContractError(message, code=code, hint=hint)


def _active_definition(ctx: ReadContext, service_id: str) -> DefinitionRecord:
    service = get_service(ctx, service_id)
    if service is None:
        raise NotFoundInState(
            f"no service {service_id!r}",
            code="WF_UNKNOWN_SERVICE",
            hint="`govchain service list` lists the services.",
        )
    if service.status != "active":
        raise _err(
            "WF_SERVICE_RETIRED",
            f"service {service_id} is retired; it accepts no new instances",
            "`govchain service list` shows the active services.",
        )
    return load_definition(ctx, service.versions[-1].definition_hash)


def _new_instance(ctx: Context, record: DefinitionRecord, applicant: str) -> Instance:
    definition = record.definition
    return Instance(
        id=ctx.tx_id.hex()[:16],
        service_id=definition.id,
        version=definition.version,
        definition_hash=record.hash,
        applicant=applicant,
        status="running",
        started_height=ctx.height,
        started_ms=ctx.time_ms,
        steps=[StepState(s.id, s.org) for s in definition.steps],
        needs=[NeedState(s.id, n.id) for s in definition.steps for n in s.needs],
        outputs=[
            OutputState(s.id, o.credential_type, o.issuer)
            for s in definition.steps
            for o in s.outputs
        ],
    )


def _check_comment(comment: str) -> None:
    if len(comment) > MAX_COMMENT:
        raise _err(
            "WF_BAD_COMMENT",
            f"a comment has at most {MAX_COMMENT} characters",
            "Shorten it; keep documents off chain.",
        )


def _require_member(ctx: Context, org: str, roles: tuple[str, ...], code: str, what: str) -> str:
    signer = resolve_signer(ctx, ctx.sender, ctx.height)
    if signer is None or signer.org != org or not signer.roles & set(roles):
        raise Unauthorized(
            f"{what} needs a member of {org} with role {' or '.join(roles)}",
            code=code,
            hint=f"Sign with the key of one of {org}'s members holding that role.",
        )
    return signer.identity


class WorkflowContract(Contract):
    name = NAME
    description = "Cross-department services: definitions, instances and step actions."

    # --- definitions -----------------------------------------------------------------------

    @method(PublishArgs)
    def publish(self, ctx: Context, args: PublishArgs) -> DefinitionRecord:
        """Publish a service definition document (an admin or officer of an organisation);
        governance's register_service then activates it by its hash."""
        signer = resolve_signer(ctx, ctx.sender, ctx.height)
        if signer is None or not signer.org or not signer.roles & set(PUBLISHER_ROLES):
            raise Unauthorized(
                "publishing a service definition needs an admin or officer of an organisation",
                code="WF_NOT_PUBLISHER",
                hint="Sign with an organisation admin's or officer's key.",
            )
        definition = parse_definition(args.document)
        check_orgs(ctx, definition)
        digest = compute_definition_hash(args.document)
        if ctx.get(b"def/" + digest) is not None:
            raise AlreadyExists(
                f"definition {digest.hex()} is already published",
                code="WF_DEF_EXISTS",
                hint="Propose register_service with this hash.",
            )
        published = DefinitionRecord(
            digest,
            definition.id,
            definition.version,
            definition.title,
            args.document,
            definition,
            signer.identity,
            ctx.height,
            ctx.tx_id,
        )
        ctx.set(b"def/" + digest, published)
        ctx.emit("published", hash=digest.hex(), service=definition.id, version=definition.version)
        return published

    # --- instances -------------------------------------------------------------------------

    @method(StartArgs)
    def start(self, ctx: Context, args: StartArgs) -> Instance:
        """Start an instance of a service's active version as its applicant (a citizen, an
        enterprise, or an admin or officer for its organisation), meeting needs at once."""
        record_ = _active_definition(ctx, args.service_id)
        who = get_applicant(ctx, ctx.sender, ctx.height)
        if who is None:
            raise Unauthorized(
                "a citizen, an enterprise, or an admin or officer of an organisation applies",
                code="WF_NOT_APPLICANT",
                hint="Sign with the applicant's key.",
            )
        applicant, kind = who
        if kind not in record_.definition.applicants:
            raise _err(
                "WF_APPLICANT_KIND",
                f"service {args.service_id} is for {', '.join(record_.definition.applicants)}, "
                f"not {kind}",
                "Apply with an identity of an accepted kind.",
            )
        instance = _new_instance(ctx, record_, applicant)
        if ctx.get(f"inst/{instance.id}") is not None:
            raise AlreadyExists(f"instance {instance.id} exists", code="WF_INSTANCE_EXISTS")
        instance = open_ready_steps(ctx, instance, record_.definition)
        instance = apply_provisions(
            ctx, instance, record_.definition, args.provisions, by_applicant=True
        )
        put_instance(ctx, instance)
        for key in self._index_keys(instance):
            ctx.set(key, b"")
        ctx.emit("started", instance=instance.id, service=instance.service_id)
        return instance

    @staticmethod
    def _index_keys(instance: Instance) -> list[str]:
        keys = [
            f"by_applicant/{instance.applicant}/{instance.id}",
            f"by_service/{instance.service_id}/{instance.id}",
        ]
        keys += [f"by_org/{org}/{instance.id}" for org in sorted({s.org for s in instance.steps})]
        return keys

    @method(MeetArgs)
    def meet(self, ctx: Context, args: MeetArgs) -> Instance:
        """Meet needs of open steps: the applicant with credentials, grants or uploads; a
        member of the step's organisation with a grant."""
        instance = load_instance(ctx, args.instance_id)
        require_running(instance)
        who = get_applicant(ctx, ctx.sender, ctx.height)
        by_applicant = who is not None and who[0] == instance.applicant
        definition = load_definition(ctx, instance.definition_hash).definition
        instance = apply_provisions(
            ctx, instance, definition, args.provisions, by_applicant=by_applicant
        )
        put_instance(ctx, instance)
        return instance

    @method(ActArgs)
    def act(self, ctx: Context, args: ActArgs) -> Instance:
        """Act on a step as its organisation: approve, reject (with a reason) or request_info."""
        instance = load_instance(ctx, args.instance_id)
        require_running(instance)
        definition = load_definition(ctx, instance.definition_hash).definition
        step, state = get_step(instance, definition, args.step)
        if args.action not in ACTIONS:
            raise _err(
                "WF_BAD_ACTION",
                f"unknown action {args.action[:40]!r}",
                f"Use {', '.join(ACTIONS)}.",
            )
        _check_comment(args.comment)
        approvers = get_approvers(ctx, step)
        self._check_step_open(state, args.action)
        entry = ActionRecord(
            step.id, args.action, approvers[0].identity, ctx.height, ctx.time_ms, args.comment
        )
        instance = record(ctx, instance, entry)
        if args.action == "approve":
            instance = self._approve(ctx, instance, definition, step.id, approvers)
        elif args.action == "reject":
            instance = self._reject(ctx, instance, step.id, args.comment)
        else:
            instance = self._set_step(instance, step.id, status="info_requested")
            ctx.emit("info_requested", instance=instance.id, step=step.id)
        put_instance(ctx, instance)
        return instance

    @staticmethod
    def _check_step_open(state: StepState, action: str) -> None:
        if state.status == "waiting":
            raise _err(
                "WF_STEP_NOT_READY",
                f"step {state.id} waits for the steps before it",
                "Act once the previous steps are approved (`govchain service status ID`).",
            )
        if state.status in ("approved", "rejected"):
            raise _err("WF_STEP_CLOSED", f"step {state.id} is {state.status}", "Nothing to do.")
        if state.status == "info_requested" and action != "reject":
            raise _err(
                "WF_AWAITING_APPLICANT",
                f"step {state.id} waits for the applicant's answer",
                "Wait for the answer, or reject the step.",
            )

    @staticmethod
    def _set_step(instance: Instance, step_id: str, **changes: Any) -> Instance:
        steps = [
            msgspec.structs.replace(s, **changes) if s.id == step_id else s for s in instance.steps
        ]
        return msgspec.structs.replace(instance, steps=steps)

    def _approve(
        self,
        ctx: Context,
        instance: Instance,
        definition: Definition,
        step_id: str,
        approvers: list[Signer],
    ) -> Instance:
        if missing := unmet_needs(instance, step_id):
            raise _err(
                "WF_NEEDS_UNMET",
                f"step {step_id} still needs {', '.join(missing)}",
                "The applicant meets them with `govchain service meet`, or the department "
                "attaches a grant.",
            )
        step, state = get_step(instance, definition, step_id)
        new = [s.identity for s in approvers if s.identity not in state.approvals]
        if not new:
            raise AlreadyExists(
                f"{approvers[0].identity} has already approved step {step_id}",
                code="WF_ALREADY_APPROVED",
                hint=f"Step {step_id} needs {step.approval.n} different approvers.",
            )
        approvals = [*state.approvals, *new]
        instance = self._set_step(instance, step_id, approvals=approvals)
        if len(approvals) < step.approval.n:
            return instance
        instance = close_step(ctx, instance, step_id, "approved")
        ctx.emit("step_approved", instance=instance.id, step=step_id)
        instance = open_ready_steps(ctx, instance, definition)
        if all(s.status == "approved" for s in instance.steps):
            instance = complete(ctx, instance)
        return instance

    @staticmethod
    def _reject(ctx: Context, instance: Instance, step_id: str, reason: str) -> Instance:
        if not reason.strip():
            raise _err(
                "WF_REASON_REQUIRED",
                "a rejection gives its reason",
                "Pass --comment with the reason for the applicant.",
            )
        close_open_steps(ctx, instance)
        instance = close_step(ctx, instance, step_id, "rejected")
        ctx.emit("rejected", instance=instance.id, step=step_id)
        return msgspec.structs.replace(
            instance, status="rejected", closed_height=ctx.height, closed_ms=ctx.time_ms
        )

    @method(AnswerArgs)
    def answer(self, ctx: Context, args: AnswerArgs) -> Instance:
        """Answer a step's request for information (the applicant), with uploads' hashes."""
        instance = load_instance(ctx, args.instance_id)
        require_running(instance)
        by = require_applicant(ctx, instance)
        state = instance.step(args.step)
        if state is None or state.status != "info_requested":
            raise _err(
                "WF_NO_QUESTION",
                f"step {args.step!r} of instance {instance.id} asks nothing",
                "`govchain service status ID` shows which step asks for information.",
            )
        _check_comment(args.comment)
        if any(len(h) != 32 for h in args.upload_hashes) or len(args.upload_hashes) > 16:
            raise _err("WF_BAD_PROVISION", "at most 16 uploads, each a SHA-256", "Hash the files.")
        entry = ActionRecord(
            state.id, "answer", by, ctx.height, ctx.time_ms, args.comment, args.upload_hashes
        )
        instance = self._set_step(record(ctx, instance, entry), state.id, status="active")
        put_instance(ctx, instance)
        ctx.emit("answered", instance=instance.id, step=state.id)
        return instance

    @method(LinkOutputArgs)
    def link_output(self, ctx: Context, args: LinkOutputArgs) -> Instance:
        """Link a credential issued on completion (an issuer or officer of its issuer)."""
        instance = load_instance(ctx, args.instance_id)
        if instance.status != "completed":
            raise _err(
                "WF_NOT_COMPLETED",
                f"instance {instance.id} is {instance.status}",
                "Outputs are issued once every step is approved.",
            )
        anchor = get_anchor(ctx, args.credential_hash)
        if anchor is None:
            raise NotFoundInState(
                f"credential {args.credential_hash.hex()} is not anchored",
                code="WF_CREDENTIAL_UNKNOWN",
                hint="Issue it first (`govchain cert issue`).",
            )
        _require_member(ctx, anchor.issuer_org, ISSUER_ROLES, "WF_NOT_ISSUER", "linking")
        outputs = list(instance.outputs)
        for i, out in enumerate(outputs):
            if (out.credential_type, out.issuer, out.credential_hash) == (
                anchor.credential_type,
                anchor.issuer_org,
                None,
            ):
                outputs[i] = msgspec.structs.replace(
                    out, credential_hash=args.credential_hash, linked_height=ctx.height
                )
                instance = msgspec.structs.replace(instance, outputs=outputs)
                put_instance(ctx, instance)
                return instance
        raise _err(
            "WF_NO_SUCH_OUTPUT",
            f"instance {instance.id} has no unlinked {anchor.credential_type} "
            f"output from {anchor.issuer_org}",
            "`govchain service status ID` lists the outputs.",
        )

    @method(BindHolderArgs)
    def bind_holder(self, ctx: Context, args: BindHolderArgs) -> HolderBinding:
        """Commit to a credential's holder (an issuer or officer of its issuer), once."""
        anchor = get_anchor(ctx, args.credential_hash)
        if anchor is None:
            raise NotFoundInState(
                f"credential {args.credential_hash.hex()} is not anchored",
                code="WF_CREDENTIAL_UNKNOWN",
                hint="Anchor the credential first.",
            )
        by = _require_member(ctx, anchor.issuer_org, ISSUER_ROLES, "WF_NOT_ISSUER", "binding")
        if len(args.commitment) != 32:
            raise _err("WF_BAD_COMMITMENT", "a commitment has 32 bytes", "Use the SDK.")
        if get_holder_binding(ctx, args.credential_hash) is not None:
            raise AlreadyExists(
                f"credential {args.credential_hash.hex()} is already bound to its holder",
                code="WF_BINDING_EXISTS",
                hint="A binding never changes; issue a new credential for another holder.",
            )
        binding = HolderBinding(
            args.credential_hash, args.commitment, anchor.issuer_org, by, ctx.height
        )
        ctx.set(b"holder/" + args.credential_hash, binding)
        return binding

    # --- deadlines -------------------------------------------------------------------------

    def on_block(self, ctx: Context) -> None:
        """Flag the open steps whose deadline has passed (in deadline order; stops at the first
        not yet due)."""
        for key, _ in ctx.iter(b"due/"):
            _, due, instance_id, step_id = key.decode().split("/")
            if int(due) >= ctx.time_ms:
                break
            ctx.delete(key)
            instance = load_instance(ctx, instance_id)
            put_instance(ctx, self._set_step(instance, step_id, overdue=True))
            ctx.set(overdue_key(instance_id, step_id), b"")
            ctx.emit("step_overdue", instance=instance_id, step=step_id)

    # --- views -----------------------------------------------------------------------------

    @view(DefinitionArgs)
    def definition(self, ctx: ReadContext, args: DefinitionArgs) -> DefinitionRecord:
        """A published definition by its hash."""
        return load_definition(ctx, args.hash)

    @view(PublishArgs)
    def check_definition(self, ctx: ReadContext, args: PublishArgs) -> dict[str, Any]:
        """Check a definition document without publishing it; its hash when it checks out."""
        definition = parse_definition(args.document)
        check_orgs(ctx, definition)
        return {"hash": compute_definition_hash(args.document), "definition": definition}

    @view(ServiceArgs)
    def service(self, ctx: ReadContext, args: ServiceArgs) -> dict[str, Any]:
        """A service's governance record and its active (latest) definition."""
        service = get_service(ctx, args.service_id)
        if service is None:
            raise NotFoundInState(f"no service {args.service_id!r}", code="WF_UNKNOWN_SERVICE")
        latest = load_definition(ctx, service.versions[-1].definition_hash)
        return {"service": service, "definition": latest.definition, "hash": latest.hash}

    @view(InstanceArgs)
    def instance(self, ctx: ReadContext, args: InstanceArgs) -> Instance:
        """One instance."""
        return load_instance(ctx, args.id)

    @view(InstancesArgs)
    def instances(self, ctx: ReadContext, args: InstancesArgs) -> list[Instance]:
        """Instances by applicant, acting organisation or service (newest index order)."""
        if args.applicant is not None:
            prefix = f"by_applicant/{args.applicant}/"
        elif args.org is not None:
            prefix = f"by_org/{args.org}/"
        elif args.service_id is not None:
            prefix = f"by_service/{args.service_id}/"
        else:
            prefix = "inst/"
        out: list[Instance] = []
        for key, _ in ctx.iter(prefix):
            instance = load_instance(ctx, key.decode().rsplit("/", 1)[1])
            if args.service_id not in (None, instance.service_id):
                continue
            if args.status not in (None, instance.status):
                continue
            out.append(instance)
            if len(out) >= min(max(args.limit, 1), MAX_LIST):
                break
        return out

    @view(PaperworkArgs)
    def paperwork(self, ctx: ReadContext, args: PaperworkArgs) -> dict[str, Any]:
        """Over completed instances, per service and overall: documents required and how many
        were met by credentials, by shared data and by uploads."""
        prefix = "stats/" if args.service_id is None else f"stats/{args.service_id}"
        rows = [
            msgspec.msgpack.decode(raw, type=PaperworkStats)
            for key, raw in ctx.iter(prefix)
            if args.service_id is None or key.decode() == f"stats/{args.service_id}"
        ]
        total = PaperworkStats("*")
        for row in rows:
            for name in ("instances", "required", "credential", "data", "upload"):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return {"services": rows, "total": total}

    @view(InstancesArgs)
    def overdue(self, ctx: ReadContext, args: InstancesArgs) -> list[dict[str, Any]]:
        """Open steps past their deadline (of one organisation with ``org``)."""
        out = []
        for key, _ in ctx.iter("overdue/"):
            _, instance_id, step_id = key.decode().split("/")
            instance = load_instance(ctx, instance_id)
            state = instance.step(step_id)
            if state is not None and args.org in (None, state.org):
                out.append(
                    {
                        "instance": instance_id,
                        "step": step_id,
                        "org": state.org,
                        "due_ms": state.due_ms,
                        "service_id": instance.service_id,
                    }
                )
        return out
