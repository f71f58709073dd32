"""Run the built-in services end to end through the SDK against a running node.

Each ``run_*`` function creates its applicant (or takes one), gives it the credentials its needs
ask for (issued with :mod:`govchain.client.certs` and bound to the holder), starts an instance
meeting every need (a credential where the need takes one, else data under a grant where a
``share`` function is given, else an upload), acts on every step as the right department
(parallel steps in one round of transactions), and once the instance completes issues its output
credentials and links them. The city must have been prepared
(:func:`govchain.scenarios.setup.prepare_services`).
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from govchain.client.certs import issue_credential
from govchain.client.services import with_credential, with_grant, with_upload
from govchain.contracts.did import did_of
from govchain.contracts.identity import Attestation
from govchain.contracts.identity_methods import (
    CREDIT_CODE_CHARS,
    RegisterCitizenArgs,
    RegisterEnterpriseArgs,
    citizen_id,
    compute_credit_code_check,
)
from govchain.contracts.workflow_definitions import DataWay, Definition, Need
from govchain.contracts.workflow_records import Provision
from govchain.credentials.vc import compute_credential_hash
from govchain.crypto.hashing import sha256
from govchain.crypto.signing import ED25519, KeyPair, get_scheme
from govchain.errors import GovchainError
from govchain.scenarios.setup import (
    ATTESTING_ORG,
    REAL_NAME,
    SCHEMA_VERSION,
    ServiceCity,
    TxItem,
    run_round,
)

__all__ = [
    "Applicant",
    "HeldCredential",
    "ScenarioResult",
    "ShareData",
    "issue_to",
    "new_citizen",
    "new_enterprise",
    "run_newborn_registration",
    "run_open_restaurant",
    "run_real_estate_registration",
    "run_residence_permit",
    "run_resume_production",
    "run_service",
    "run_sme_loan",
]

# (city, data way, requesting organisation, applicant) -> the id of a usable grant
ShareData = Callable[[ServiceCity, DataWay, str, "Applicant"], str]


@dataclass(frozen=True)
class HeldCredential:
    credential_type: str
    issuer: str
    credential_hash: bytes
    salt: bytes  # the holder salt its issuer gave with it
    credential: dict[str, Any]  # the secured W3C VC (held off chain)


@dataclass
class Applicant:
    key: KeyPair
    id: str  # cit:... or ent:...
    wallet: list[HeldCredential] = field(default_factory=list)

    def held(self, credential_type: str, issuers: list[str]) -> HeldCredential | None:
        return next(
            (
                c
                for c in self.wallet
                if c.credential_type == credential_type and c.issuer in issuers
            ),
            None,
        )


@dataclass(frozen=True)
class ScenarioResult:
    service_id: str
    instance_id: str
    applicant: Applicant
    instance: dict[str, Any]  # the instance as its applicant reads it at the end
    outputs: list[HeldCredential]

    @property
    def met(self) -> dict[str, int]:
        """How many needs were met by credential, data and upload."""
        counts = {"credential": 0, "data": 0, "upload": 0}
        for need in self.instance["needs"]:
            counts[need["met_by"]] += 1
        return counts


# --- applicants ------------------------------------------------------------------------------


def _credit_code() -> str:
    body = "91330200" + "".join(secrets.choice(CREDIT_CODE_CHARS) for _ in range(9))
    return body + compute_credit_code_check(body)


def new_enterprise(city: ServiceCity, name: str = "Harbour Kitchen Ltd.") -> Applicant:
    """A newly self-registered enterprise with a fresh key and credit code."""
    key = get_scheme(ED25519).generate()
    code = _credit_code()
    args = RegisterEnterpriseArgs(code, name)
    run_round(city.client(), [(key, "identity", "register_enterprise", args, ())])
    return Applicant(key, "ent:" + code)


def new_citizen(city: ServiceCity) -> Applicant:
    """A newly registered citizen, attested (real-name check) by public security's officer."""
    key = get_scheme(ED25519).generate()
    evidence = sha256(b"real-name check " + key.public_key)  # the evidence stays off chain
    args = RegisterCitizenArgs(Attestation(ATTESTING_ORG, evidence, REAL_NAME))
    officer = city.officer(ATTESTING_ORG)
    run_round(city.client(), [(key, "identity", "register_citizen", args, (officer,))])
    return Applicant(key, citizen_id(key.public_key))


# --- credentials -----------------------------------------------------------------------------


def _stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def issue_to(
    city: ServiceCity, issuer: str, credential_type: str, holder: Applicant
) -> HeldCredential:
    """Issue a credential to ``holder`` (an officer of ``issuer`` signs) and bind it to it."""
    key = city.officer(issuer)
    client = city.client(key)
    now = datetime.datetime.now(datetime.UTC)
    vc = issue_credential(
        client,
        key,
        issuer_org=issuer,
        credential_type=credential_type,
        schema_version=SCHEMA_VERSION,
        subject={"id": did_of(client.chain_id, holder.id)},
        valid_from=_stamp(now - datetime.timedelta(days=1)),
        valid_until=_stamp(now + datetime.timedelta(days=365)),
    )
    digest = compute_credential_hash(vc)
    salt = city.services(key).bind_holder(key, digest, holder.id)
    held = HeldCredential(credential_type, issuer, digest, salt, vc)
    holder.wallet.append(held)
    return held


def _provision(
    city: ServiceCity,
    step_id: str,
    step_org: str,
    need: Need,
    applicant: Applicant,
    share: ShareData | None,
) -> Provision:
    if need.credential is not None:
        way = need.credential
        held = next(
            (h for t in way.types if (h := applicant.held(t, way.issuers)) is not None), None
        )
        held = held or issue_to(city, way.issuers[0], way.types[0], applicant)
        return with_credential(step_id, need.id, held.credential_hash, held.salt)
    if need.data is not None and share is not None:
        return with_grant(step_id, need.id, share(city, need.data, step_org, applicant))
    return with_upload(step_id, need.id, f"{applicant.id}/{step_id}/{need.id}".encode())


# --- running ---------------------------------------------------------------------------------


def _definition(city: ServiceCity, service_id: str) -> Definition:
    shown = city.services().show(service_id)
    return msgspec.convert(shown["definition"], Definition)


def _approve_open_steps(
    city: ServiceCity, definition: Definition, instance: dict[str, Any]
) -> None:
    items: list[TxItem] = []
    for state in instance["steps"]:
        if state["status"] != "active":
            continue
        step = definition.step(state["id"])
        assert step is not None
        for n in range(len(state["approvals"]), step.approval.n):
            args = {"instance_id": instance["id"], "step": step.id, "action": "approve"}
            items.append((city.officer(step.org, n), "workflow", "act", args, ()))
    if not items:
        raise GovchainError(f"instance {instance['id']} has no open step to act on")
    run_round(city.client(), items)


def _issue_outputs(
    city: ServiceCity, instance: dict[str, Any], applicant: Applicant
) -> list[HeldCredential]:
    issued = []
    for output in instance["outputs"]:
        held = issue_to(city, output["issuer"], output["credential_type"], applicant)
        key = city.officer(output["issuer"])
        city.services(key).link_output(key, instance["id"], held.credential_hash)
        issued.append(held)
    return issued


def run_service(
    city: ServiceCity,
    service_id: str,
    applicant: Applicant,
    *,
    share: ShareData | None = None,
) -> ScenarioResult:
    """Run one instance of ``service_id`` for ``applicant`` to completion."""
    definition = _definition(city, service_id)
    provisions = [
        _provision(city, step.id, step.org, need, applicant, share)
        for step in definition.steps
        for need in step.needs
    ]
    reader = city.services(applicant.key)
    instance = reader.start(applicant.key, service_id, provisions)
    for _ in definition.steps:
        if instance["status"] != "running":
            break
        _approve_open_steps(city, definition, instance)
        instance = reader.instance(instance["id"])
    if instance["status"] != "completed":
        raise GovchainError(f"instance {instance['id']} ended {instance['status']}")
    outputs = _issue_outputs(city, instance, applicant)
    final = reader.instance(instance["id"])
    return ScenarioResult(service_id, instance["id"], applicant, final, outputs)


# --- the built-in services -------------------------------------------------------------------


def run_open_restaurant(
    city: ServiceCity, applicant: Applicant | None = None, share: ShareData | None = None
) -> ScenarioResult:
    """An enterprise opens a restaurant: licence, then food permit, fire safety and tax."""
    who = applicant or new_enterprise(city, "Harbour Kitchen Ltd.")
    return run_service(city, "open-restaurant", who, share=share)


def run_resume_production(
    city: ServiceCity, applicant: Applicant | None = None, share: ShareData | None = None
) -> ScenarioResult:
    """An enterprise resumes production after a lockdown (staff tests shared by health)."""
    who = applicant or new_enterprise(city, "Yongjiang Precision Machinery Co., Ltd.")
    return run_service(city, "resume-production", who, share=share)


def run_real_estate_registration(
    city: ServiceCity, applicant: Applicant | None = None, share: ShareData | None = None
) -> ScenarioResult:
    """A citizen registers a flat: housing, tax, natural resources (two approvers)."""
    return run_service(
        city, "real-estate-registration", applicant or new_citizen(city), share=share
    )


def run_sme_loan(
    city: ServiceCity, applicant: Applicant | None = None, share: ShareData | None = None
) -> ScenarioResult:
    """An enterprise gets a loan on government data it consents to share (two bank officers)."""
    who = applicant or new_enterprise(city, "East Sea Textiles Co., Ltd.")
    return run_service(city, "sme-loan", who, share=share)


def run_newborn_registration(
    city: ServiceCity, applicant: Applicant | None = None, share: ShareData | None = None
) -> ScenarioResult:
    """A parent registers a newborn: birth certificate, household registration, insurance."""
    return run_service(city, "newborn-registration", applicant or new_citizen(city), share=share)


def run_residence_permit(
    city: ServiceCity, applicant: Applicant | None = None, share: ShareData | None = None
) -> ScenarioResult:
    """A citizen gets a residence permit: the district checks the address, police issue."""
    return run_service(city, "residence-permit", applicant or new_citizen(city), share=share)
