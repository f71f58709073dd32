"""Service instances: starting, meeting needs, acting on steps in order and in parallel,
deadlines, completion and outputs, the paperwork counters; every refusal with its code."""

from __future__ import annotations

from typing import Any

import pytest
from workflow_world import (
    SALT,
    WorkflowWorld,
    credential,
    definition,
    make_workflow_world,
    upload,
    uploaded,
)

from govchain.contracts.workflow_definitions import compute_deadline_ms
from govchain.contracts.workflow_needs import compute_holder_commitment
from govchain.credentials.vc import compute_credential_hash


@pytest.fixture
def w(chain: Any) -> WorkflowWorld:
    world = make_workflow_world(chain)
    world.register()
    return world


def _intake_ready(w: WorkflowWorld) -> str:
    """An instance whose intake needs are met (licence by credential, form by upload)."""
    return w.start_ok([credential(w.licence()), uploaded("intake", "form")])


def _through_intake(w: WorkflowWorld) -> str:
    instance_id = _intake_ready(w)
    assert w.act(w.tax_officer, instance_id, "intake") == "OK"
    return instance_id


# --- starting ------------------------------------------------------------------------------


def test_start_opens_the_first_steps(w: WorkflowWorld) -> None:
    instance_id = w.start_ok()
    instance = w.instance(instance_id)
    assert (instance.service_id, instance.version, instance.applicant) == (
        "permit",
        "1.0",
        w.ent_id,
    )
    assert [(s.id, s.status) for s in instance.steps] == [
        ("intake", "active"),
        ("check", "waiting"),
        ("seal", "waiting"),
    ]
    intake = instance.step("intake")
    assert intake.due_ms == intake.activated_ms + compute_deadline_ms("24h")
    assert [o.credential_type for o in instance.outputs] == ["BusinessLicence"]
    assert [i.id for i in w.q("instances", org="health")] == [instance_id]


def test_start_refusals(w: WorkflowWorld) -> None:
    assert w.start(service_id="nothing").code == "WF_UNKNOWN_SERVICE"
    assert w.start(key=w.certs.issuer).code == "WF_NOT_APPLICANT"  # an issuer does not apply
    assert w.start(key=w.chain.admin("tax")).code == "WF_APPLICANT_KIND"  # for enterprises


def test_a_retired_service_accepts_no_new_instances(w: WorkflowWorld) -> None:
    running = w.start_ok()
    w.retire()
    assert w.start().code == "WF_SERVICE_RETIRED"
    assert w.instance(running).status == "running"  # running instances go on


# --- needs ---------------------------------------------------------------------------------


def test_needs_met_by_credential_and_upload(w: WorkflowWorld) -> None:
    digest = w.licence()
    instance = w.instance(w.start_ok([credential(digest), uploaded("intake", "form")]))
    met = {n.need: (n.met_by, n.ref) for n in instance.needs}
    assert met["licence"] == ("credential", digest.hex())
    assert met["form"] == ("upload", upload("file").hex())
    assert met["record"] == (None, "")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"credential_hash": b"\x07" * 32}, "WF_CREDENTIAL_UNKNOWN"),  # e.g. another chain's
        ({"holder_salt": b"t" * 16}, "WF_CREDENTIAL_NOT_HOLDERS"),
        ({"holder_salt": b"short"}, "WF_BAD_PROVISION"),
        ({"upload_hash": upload("x")}, "WF_BAD_PROVISION"),  # two ways at once
        ({"need": "nothing"}, "WF_UNKNOWN_NEED"),
    ],
)
def test_credential_refusals(w: WorkflowWorld, change: dict[str, Any], code: str) -> None:
    provision = credential(w.licence())
    provision.update(change)
    assert w.start(provisions=[provision]).code == code


def test_a_foreign_credential_is_refused(w: WorkflowWorld) -> None:
    """Another holder's credential, even presented with that holder's salt."""
    foreign = w.licence(holder="ent:91110000600037341L")
    assert w.start(provisions=[credential(foreign)]).code == "WF_CREDENTIAL_NOT_HOLDERS"
    other = w.start(key=w.other_ent, provisions=[credential(foreign)])
    assert other.ok


def test_an_unbound_credential_is_refused(w: WorkflowWorld) -> None:
    digest = compute_credential_hash(w.certs.issue())
    assert w.start(provisions=[credential(digest)]).code == "WF_CREDENTIAL_UNBOUND"


@pytest.mark.parametrize(
    ("action", "code"),
    [("revoke", "WF_CREDENTIAL_REVOKED"), ("suspend", "WF_CREDENTIAL_SUSPENDED")],
)
def test_a_revoked_or_suspended_credential_is_refused(
    w: WorkflowWorld, action: str, code: str
) -> None:
    vc = w.certs.issue()
    digest = compute_credential_hash(vc)
    binding = {
        "credential_hash": digest,
        "commitment": compute_holder_commitment(digest, w.ent_id, SALT),
    }
    assert w.code(w.certs.issuer, "bind_holder", binding) == "OK"
    assert w.certs.set_status(vc, action) == "OK"
    assert w.start(provisions=[credential(digest)]).code == code


def test_an_expired_credential_is_refused(w: WorkflowWorld) -> None:
    digest = w.licence()
    instance_id = w.start_ok()
    anchor = w.chain.app.query("certs", "get", {"credential_hash": digest})
    w.chain.commit([], time_ms=anchor.valid_until_ms + 1)
    assert w.meet(w.ent, instance_id, credential(digest)) == "WF_CREDENTIAL_EXPIRED"


def test_ways_a_need_does_not_accept(w: WorkflowWorld) -> None:
    instance_id = w.start_ok()
    digest = w.licence()
    assert w.meet(w.ent, instance_id, credential(digest, need="form")) == (
        "WF_CREDENTIAL_NOT_ACCEPTED"
    )
    grant = {"step": "intake", "need": "licence", "grant_id": "g-1"}
    assert w.meet(w.ent, instance_id, grant) == "WF_DATA_NOT_ACCEPTED"
    unknown_grant = {"step": "check", "need": "record", "grant_id": "g-1"}
    assert w.meet(w.ent, instance_id, unknown_grant) == "WF_GRANT_UNKNOWN"


def test_credential_of_a_type_or_issuer_the_need_does_not_take(w: WorkflowWorld) -> None:
    other_type = definition(
        id="other",
        steps=[
            {
                "id": "only",
                "title": "Only",
                "org": "tax",
                "approval": {"n": 1, "roles": ["officer"]},
                "deadline": "1d",
                "needs": [
                    {
                        "id": "a",
                        "title": "A",
                        "credential": {"types": ["Passport"], "issuers": ["tax"]},
                    },
                    {
                        "id": "b",
                        "title": "B",
                        "credential": {"types": ["BusinessLicence"], "issuers": ["health"]},
                    },
                ],
            }
        ],
    )
    w.register(other_type)
    digest = w.licence()
    codes = [
        w.start(service_id="other", provisions=[credential(digest, "only", need)]).code
        for need in ("a", "b")
    ]
    assert codes == ["WF_CREDENTIAL_WRONG_TYPE", "WF_CREDENTIAL_WRONG_ISSUER"]


def test_only_the_applicant_meets_needs(w: WorkflowWorld) -> None:
    instance_id = w.start_ok()
    assert w.meet(w.other_ent, instance_id, uploaded("intake", "form")) == "WF_NOT_APPLICANT"
    # a member of the step's organisation may attach only a grant
    assert w.meet(w.tax_officer, instance_id, uploaded("intake", "form")) == "WF_NOT_APPLICANT"


# --- acting ----------------------------------------------------------------------------------


def test_sequential_then_parallel_steps_to_completion(w: WorkflowWorld) -> None:
    instance_id = _through_intake(w)
    steps = {s.id: s.status for s in w.instance(instance_id).steps}
    assert steps == {"intake": "approved", "check": "active", "seal": "active"}
    assert w.meet(w.ent, instance_id, uploaded("check", "record", "tax record")) == "OK"
    assert w.act(w.health_officer, instance_id, "check") == "OK"
    bureau_admin = w.chain.admin("bureau")
    assert w.act(bureau_admin, instance_id, "seal") == "OK"
    assert w.instance(instance_id).status == "running"  # 2 approvers needed
    assert w.act(bureau_admin, instance_id, "seal") == "WF_ALREADY_APPROVED"
    assert w.act(w.bureau_officer, instance_id, "seal") == "OK"
    done = w.instance(instance_id)
    assert done.status == "completed" and done.closed_height == w.chain.height
    assert [h.action for h in done.history] == ["approve"] * 4


def test_n_approvers_in_one_cosigned_transaction(w: WorkflowWorld) -> None:
    instance_id = _through_intake(w)
    code = w.act(w.chain.admin("bureau"), instance_id, "seal", cosign=(w.bureau_officer,))
    assert code == "OK"
    assert w.instance(instance_id).step("seal").status == "approved"


def test_a_step_acted_on_by_the_wrong_organisation(w: WorkflowWorld) -> None:
    instance_id = _intake_ready(w)
    assert w.act(w.health_officer, instance_id, "intake") == "WF_NOT_STEP_ORG"
    assert w.act(w.certs.issuer, instance_id, "intake") == "WF_NOT_STEP_ORG"  # role
    assert w.act(w.ent, instance_id, "intake") == "WF_NOT_STEP_ORG"


def test_acting_on_a_step_whose_predecessors_are_not_done(w: WorkflowWorld) -> None:
    instance_id = _intake_ready(w)
    assert w.act(w.health_officer, instance_id, "check") == "WF_STEP_NOT_READY"


def test_approval_needs_every_need_met(w: WorkflowWorld) -> None:
    instance_id = w.start_ok([uploaded("intake", "form")])
    receipt_code = w.act(w.tax_officer, instance_id, "intake")
    assert receipt_code == "WF_NEEDS_UNMET"


def test_an_action_after_a_rejection(w: WorkflowWorld) -> None:
    instance_id = _intake_ready(w)
    assert w.act(w.tax_officer, instance_id, "intake", "reject") == "WF_REASON_REQUIRED"
    assert w.act(w.tax_officer, instance_id, "intake", "reject", "licence withdrawn") == "OK"
    instance = w.instance(instance_id)
    assert instance.status == "rejected" and instance.history[-1].comment == "licence withdrawn"
    assert w.act(w.tax_officer, instance_id, "intake") == "WF_INSTANCE_CLOSED"
    assert w.meet(w.ent, instance_id, uploaded("intake", "form")) == "WF_INSTANCE_CLOSED"


def test_request_information_and_answer(w: WorkflowWorld) -> None:
    instance_id = _intake_ready(w)
    answer: dict[str, Any] = {"instance_id": instance_id, "step": "intake", "comment": "here"}
    assert w.code(w.ent, "answer", answer) == "WF_NO_QUESTION"
    assert w.act(w.tax_officer, instance_id, "intake", "request_info", "sign page 2") == "OK"
    assert w.instance(instance_id).step("intake").status == "info_requested"
    assert w.act(w.tax_officer, instance_id, "intake") == "WF_AWAITING_APPLICANT"
    assert w.code(w.other_ent, "answer", answer) == "WF_NOT_APPLICANT"
    answer["upload_hashes"] = [upload("page 2")]
    assert w.code(w.ent, "answer", answer) == "OK"
    assert w.act(w.tax_officer, instance_id, "intake") == "OK"
    history = w.instance(instance_id).history
    assert [h.action for h in history] == ["request_info", "answer", "approve"]
    assert history[1].upload_hashes == [upload("page 2")]


def test_act_refusals(w: WorkflowWorld) -> None:
    instance_id = _intake_ready(w)
    assert w.act(w.tax_officer, "nothing", "intake") == "WF_UNKNOWN_INSTANCE"
    assert w.act(w.tax_officer, instance_id, "nothing") == "WF_UNKNOWN_STEP"
    assert w.act(w.tax_officer, instance_id, "intake", "shrug") == "WF_BAD_ACTION"
    assert w.act(w.tax_officer, instance_id, "intake", comment="x" * 501) == "WF_BAD_COMMENT"
    assert w.act(w.tax_officer, instance_id, "intake") == "OK"
    assert w.act(w.tax_officer, instance_id, "intake") == "WF_STEP_CLOSED"
    assert w.meet(w.ent, instance_id, uploaded("intake", "form")) == "WF_STEP_CLOSED"


# --- deadlines -------------------------------------------------------------------------------


def test_overdue_steps_are_flagged_at_the_start_of_a_block(w: WorkflowWorld) -> None:
    instance_id = w.start_ok()
    due = w.instance(instance_id).step("intake").due_ms
    w.chain.commit([], time_ms=due)
    assert not w.instance(instance_id).step("intake").overdue
    w.chain.commit([], time_ms=due + 1)
    assert w.instance(instance_id).step("intake").overdue
    assert w.q("overdue", org="tax") == [
        {
            "instance": instance_id,
            "step": "intake",
            "org": "tax",
            "due_ms": due,
            "service_id": "permit",
        }
    ]
    assert w.q("overdue", org="health") == []


def test_a_closed_step_is_never_flagged(w: WorkflowWorld) -> None:
    instance_id = _through_intake(w)
    due = w.instance(instance_id).step("intake").due_ms
    w.chain.commit([], time_ms=due + 1)
    assert not w.instance(instance_id).step("intake").overdue


# --- outputs and holder bindings -------------------------------------------------------------


def _complete(w: WorkflowWorld) -> str:
    instance_id = _through_intake(w)
    assert w.meet(w.ent, instance_id, uploaded("check", "record")) == "OK"
    assert w.act(w.health_officer, instance_id, "check") == "OK"
    assert w.act(w.chain.admin("bureau"), instance_id, "seal", cosign=(w.bureau_officer,)) == "OK"
    return instance_id


def test_outputs_are_linked_by_their_issuer(w: WorkflowWorld) -> None:
    running = w.start_ok()
    output = compute_credential_hash(w.certs.issue())
    link: dict[str, Any] = {"instance_id": running, "credential_hash": output}
    assert w.code(w.certs.issuer, "link_output", link) == "WF_NOT_COMPLETED"
    link["instance_id"] = _complete(w)
    assert w.code(w.health_officer, "link_output", link) == "WF_NOT_ISSUER"
    assert w.code(w.certs.issuer, "link_output", link) == "OK"
    (out,) = w.instance(link["instance_id"]).outputs
    assert out.credential_hash == output
    assert w.code(w.certs.issuer, "link_output", link) == "WF_NO_SUCH_OUTPUT"


def test_bind_holder_refusals(w: WorkflowWorld) -> None:
    digest = compute_credential_hash(w.certs.issue())
    args = {"credential_hash": digest, "commitment": b"\x01" * 32}
    assert w.code(w.health_officer, "bind_holder", args) == "WF_NOT_ISSUER"
    assert w.code(w.certs.issuer, "bind_holder", {**args, "commitment": b"1"}) == (
        "WF_BAD_COMMITMENT"
    )
    assert w.code(w.certs.issuer, "bind_holder", {**args, "credential_hash": b"\x09" * 32}) == (
        "WF_CREDENTIAL_UNKNOWN"
    )
    assert w.code(w.certs.issuer, "bind_holder", args) == "OK"
    assert w.code(w.certs.officer, "bind_holder", args) == "WF_BINDING_EXISTS"


# --- the paperwork figure --------------------------------------------------------------------


def test_paperwork_counts_completed_instances_by_hand(w: WorkflowWorld) -> None:
    """Two completed instances of 3 documents each: the first meets the licence by credential
    and uploads the form and the record; the second uploads all three. A running instance does
    not count. Required 6, credential 1, data 0, uploaded 5: 1 of 6 not uploaded."""
    _complete(w)
    second = w.start_ok(
        [uploaded("intake", "licence", "paper licence"), uploaded("intake", "form")]
    )
    assert w.act(w.tax_officer, second, "intake") == "OK"
    assert w.meet(w.ent, second, uploaded("check", "record")) == "OK"
    assert w.act(w.health_officer, second, "check") == "OK"
    assert w.act(w.chain.admin("bureau"), second, "seal", cosign=(w.bureau_officer,)) == "OK"
    w.start_ok()
    report = w.q("paperwork")
    (row,) = report["services"]
    counts = (row.service_id, row.instances, row.required, row.credential, row.data, row.upload)
    assert counts == ("permit", 2, 6, 1, 0, 5)
    assert report["total"].required == 6
    assert w.q("paperwork", service_id="other")["services"] == []
