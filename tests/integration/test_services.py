"""Every built-in service end to end against a real node process, through the SDK and the
scenarios module, and the refusals a real city meets: a step acted on by the wrong organisation,
an action after a rejection, a revoked or a foreign credential, a definition that does not
validate, a retired service, a step whose predecessors are not done; and the paperwork figure.

One node, whose genesis founds every organisation the built-in services name, serves the module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from govchain.client import Client
from govchain.client.services import (
    Services,
    compute_paperwork_rows,
    with_credential,
    with_upload,
)
from govchain.crypto.signing import KeyPair
from govchain.errors import AuthForbidden, GovchainError
from govchain.node.config import load_key
from govchain.node.network import OrgSpec, init_network
from govchain.scenarios import (
    SCENARIOS,
    Applicant,
    ScenarioResult,
    ServiceCity,
    issue_to,
    new_citizen,
    new_enterprise,
    prepare_services,
    share_under_grant,
)
from govchain.scenarios.setup import run_round, settle
from govchain.services import builtin_ids, load_definition

from .nodeproc import Network, NodeProcess, free_port

ORGS = ["big-data-bureau"] + sorted(
    {org for sid in builtin_ids() for org in load_definition(sid).organisations()}
    - {"big-data-bureau"}
)


def city_orgs() -> tuple[OrgSpec, ...]:
    return tuple(OrgSpec(o, o.replace("-", " ").title(), o, "department") for o in ORGS)


@pytest.fixture(scope="module")
def city_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    base = tmp_path_factory.mktemp("services")
    port = free_port()
    init_network(base / "net", orgs=city_orgs(), port=port, chain_id="govchain-services")
    proc = NodeProcess(Network(base / "net", port), base / "node.log")
    try:
        yield proc.start()
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def city(city_node: NodeProcess) -> ServiceCity:
    admins = {o: load_key(city_node.dir / "orgs" / o / "admin.key") for o in ORGS}

    def connect(key: KeyPair | None) -> Client:
        return Client(city_node.url, key=key)

    prepared = ServiceCity(connect, admins)
    prepare_services(prepared)
    return prepared


@pytest.fixture(scope="module")
def results(city: ServiceCity) -> dict[str, ScenarioResult]:
    return {sid: run(city, share=share_under_grant) for sid, run in SCENARIOS.items()}


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(GovchainError) as exc:
        call()
    return exc.value.code


# --- every built-in service end to end ---------------------------------------------------------


@pytest.mark.parametrize("service_id", sorted(SCENARIOS))
def test_builtin_service_runs_end_to_end(
    results: dict[str, ScenarioResult], service_id: str
) -> None:
    result = results[service_id]
    instance = result.instance
    definition = load_definition(service_id)
    assert instance["status"] == "completed"
    assert {s["id"] for s in instance["steps"] if s["status"] == "approved"} == {
        s.id for s in definition.steps
    }
    assert all(n["met_by"] is not None for n in instance["needs"])
    for step in definition.steps:  # a credential where the need takes one, else shared data
        for need in step.needs:
            (met,) = [n for n in instance["needs"] if (n["step"], n["need"]) == (step.id, need.id)]
            expected = "credential" if need.credential else "data" if need.data else "upload"
            assert met["met_by"] == expected, (step.id, need.id)
    assert len(result.outputs) == sum(len(s.outputs) for s in definition.steps)
    assert all(o["credential_hash"] for o in instance["outputs"])


def test_parallel_steps_opened_together(results: dict[str, ScenarioResult]) -> None:
    steps = {s["id"]: s for s in results["open-restaurant"].instance["steps"]}
    opened = {
        steps[s]["activated_height"] for s in ("food-permit", "fire-safety", "tax-registration")
    }
    assert opened == {steps["business-licence"]["closed_height"]}


def test_two_bank_officers_approve_the_loan(results: dict[str, ScenarioResult]) -> None:
    steps = {s["id"]: s for s in results["sme-loan"].instance["steps"]}
    assert len(steps["credit-decision"]["approvals"]) == 2


def test_the_applicant_follows_its_instances(
    city: ServiceCity, results: dict[str, ScenarioResult]
) -> None:
    result = results["residence-permit"]
    mine = city.services(result.applicant.key).instances(applicant=result.applicant.id)
    assert [i["id"] for i in mine] == [result.instance_id]


def test_an_instance_is_read_only_by_its_parties(
    city: ServiceCity, results: dict[str, ScenarioResult]
) -> None:
    result = results["residence-permit"]
    stranger = new_enterprise(city, "Curious Ltd.")
    with pytest.raises(AuthForbidden):
        city.services(stranger.key).instance(result.instance_id)
    with pytest.raises(AuthForbidden):  # tax acts in no step of it
        city.services(city.officer("tax")).instance(result.instance_id)
    district = city.services(city.officer("yinzhou-district")).instance(result.instance_id)
    assert district["id"] == result.instance_id


# (required, credential, shared data, uploaded), counted by hand from the definitions: a need
# taking a credential is met by one, else one naming data by a grant, else by an upload
HAND_COUNTED = {
    "open-restaurant": (6, 3, 1, 2),
    "resume-production": (4, 1, 1, 2),
    "real-estate-registration": (4, 2, 0, 2),
    "sme-loan": (3, 1, 1, 1),
    "newborn-registration": (4, 2, 1, 1),
    "residence-permit": (4, 2, 1, 1),
}


def test_paperwork_figure_against_a_hand_count(
    city: ServiceCity, results: dict[str, ScenarioResult]
) -> None:
    anonymous = Services(Client(city.client().url))  # the figure is public
    rows, total = compute_paperwork_rows(anonymous.paperwork())
    counted = {r.service_id: (r.required, r.credential, r.data, r.upload) for r in rows}
    assert counted == HAND_COUNTED
    assert (total.instances, total.required, total.credential, total.data, total.upload) == (
        6,
        25,
        11,
        5,
        9,
    )
    assert total.reduction_percent == 64.0  # 16 of 25 documents not uploaded
    (one,), _ = compute_paperwork_rows(anonymous.paperwork("sme-loan"))
    assert round(one.reduction_percent or 0, 1) == 66.7


# --- refusals --------------------------------------------------------------------------------


@pytest.fixture
def restaurant(city: ServiceCity) -> tuple[Applicant, dict[str, Any]]:
    """A fresh enterprise's open-restaurant instance with its first step's needs met."""
    applicant = new_enterprise(city)
    identity = issue_to(city, "public-security", "ResidentIdentity", applicant)
    provisions = [
        with_credential(
            "business-licence",
            "legal-representative-id",
            identity.credential_hash,
            identity.salt,
        ),
        with_upload("business-licence", "premises-lease", b"lease"),
    ]
    return applicant, city.services(applicant.key).start(
        applicant.key, "open-restaurant", provisions
    )


def test_a_step_acted_on_by_the_wrong_organisation(
    city: ServiceCity, restaurant: tuple[Applicant, dict[str, Any]]
) -> None:
    _, instance = restaurant
    fire = city.officer("fire-rescue")
    code = _code(lambda: city.services(fire).act(fire, instance["id"], "business-licence"))
    assert code == "WF_NOT_STEP_ORG"


def test_a_step_whose_predecessors_are_not_done(
    city: ServiceCity, restaurant: tuple[Applicant, dict[str, Any]]
) -> None:
    _, instance = restaurant
    fire = city.officer("fire-rescue")
    code = _code(lambda: city.services(fire).act(fire, instance["id"], "fire-safety"))
    assert code == "WF_STEP_NOT_READY"


def test_an_action_after_a_rejection(
    city: ServiceCity, restaurant: tuple[Applicant, dict[str, Any]]
) -> None:
    applicant, instance = restaurant
    officer = city.officer("market-regulation")
    services = city.services(officer)
    services.act(officer, instance["id"], "business-licence", "reject", "premises not zoned")
    assert city.services(applicant.key).instance(instance["id"])["status"] == "rejected"
    code = _code(lambda: services.act(officer, instance["id"], "business-licence"))
    assert code == "WF_INSTANCE_CLOSED"


def test_a_revoked_credential_is_refused(city: ServiceCity) -> None:
    applicant = new_citizen(city)
    held = issue_to(city, "public-security", "ResidentIdentity", applicant)
    officer = city.officer("public-security")
    args = {"credential_hash": held.credential_hash, "reason_code": "administrative"}
    run_round(city.client(officer), [(officer, "certs", "revoke", args, ())])
    provision = with_credential("contract-filing", "buyer-id", held.credential_hash, held.salt)
    services = city.services(applicant.key)
    code = _code(lambda: services.start(applicant.key, "real-estate-registration", [provision]))
    assert code == "WF_CREDENTIAL_REVOKED"


def test_a_foreign_credential_is_refused(city: ServiceCity) -> None:
    owner, thief = new_citizen(city), new_citizen(city)
    held = issue_to(city, "public-security", "ResidentIdentity", owner)
    provision = with_credential("contract-filing", "buyer-id", held.credential_hash, held.salt)
    services = city.services(thief.key)
    code = _code(lambda: services.start(thief.key, "real-estate-registration", [provision]))
    assert code == "WF_CREDENTIAL_NOT_HOLDERS"
    other_chain = with_credential("contract-filing", "buyer-id", b"\x05" * 32, held.salt)
    code = _code(lambda: services.start(thief.key, "real-estate-registration", [other_chain]))
    assert code == "WF_CREDENTIAL_UNKNOWN"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (
            '{"id": "x", "version": "1", "title": "X", "applicants": ["citizen"], "steps": []}',
            "WF_DEF_SCHEMA",
        ),
        ("not json", "WF_DEF_NOT_JSON"),
    ],
)
def test_a_definition_that_does_not_validate(city: ServiceCity, document: str, code: str) -> None:
    admin = city.admins["tax"]
    args = {"document": document}
    assert _code(lambda: city.client(admin).send(admin, "workflow", "publish", args)) == code
    assert _code(lambda: city.services(admin).check(document)) == code


def test_a_retired_service_accepts_no_new_instances(city: ServiceCity) -> None:
    # a throwaway service, so that retiring it leaves the built-in ones alone
    document = (
        '{"id": "temporary-permit", "version": "1", "title": "Temporary permit", '
        '"applicants": ["citizen"], "steps": [{"id": "only", "title": "Only", "org": "tax", '
        '"approval": {"n": 1, "roles": ["officer"]}, "deadline": "1d"}]}'
    )
    admin = city.admins["tax"]
    services = city.services(admin)
    services.publish(admin, document)
    _govern(city, lambda: services.propose_register(admin, document))
    applicant = new_citizen(city)
    assert city.services(applicant.key).start(applicant.key, "temporary-permit")["id"]
    _govern(city, lambda: services.propose_retire(admin, "temporary-permit"))
    code = _code(lambda: city.services(applicant.key).start(applicant.key, "temporary-permit"))
    assert code == "WF_SERVICE_RETIRED"


def _govern(city: ServiceCity, propose: Callable[[], dict[str, Any]]) -> None:
    """Propose, let a majority vote, and wait until enacted."""
    proposal = propose()
    voters = [o for o in ORGS if o != "tax"][: len(ORGS) // 2]
    vote = {"proposal_id": proposal["id"], "approve": True}
    run_round(city.client(), [(city.admins[v], "governance", "vote", vote, ()) for v in voters])

    def enacted() -> bool:
        shown = city.client().query("governance", "proposal", {"id": proposal["id"]})
        return bool(shown["status"] == "enacted")

    settle(city, f"proposal {proposal['id']}", enacted)
