"""The workflow contract's records, arguments and state keys.

State (under ``workflow/``)::

    def/<hash>                              DefinitionRecord (the published document)
    inst/<id>                               Instance
    holder/<credential hash>                HolderBinding (the issuer's commitment to the holder)
    stats/<service id>                      PaperworkStats of the service's completed instances
    by_applicant/<applicant>/<id>           index (empty value)
    by_org/<org>/<id>                       index: instances in which the organisation acts
    by_service/<service id>/<id>            index
    due/<due ms:015d>/<id>/<step>           index of open steps by deadline (the block hook)
"""

from __future__ import annotations

from typing import Literal

import msgspec

from govchain.contracts.base import ReadContext

__all__ = [
    "ACTIONS",
    "ActArgs",
    "ActionRecord",
    "AnswerArgs",
    "BindHolderArgs",
    "DefinitionArgs",
    "HolderBinding",
    "Instance",
    "InstanceArgs",
    "InstancesArgs",
    "LinkOutputArgs",
    "MeetArgs",
    "NeedState",
    "OutputState",
    "PaperworkArgs",
    "PaperworkStats",
    "Provision",
    "PublishArgs",
    "ServiceArgs",
    "StartArgs",
    "StepState",
    "get_instance",
    "instance_state_key",
]

NAME = "workflow"
ACTIONS = ("approve", "reject", "request_info")
MAX_COMMENT = 500

InstanceStatus = Literal["running", "completed", "rejected"]
StepStatus = Literal["waiting", "active", "info_requested", "approved", "rejected"]
MetBy = Literal["credential", "data", "upload"]


# --- arguments -----------------------------------------------------------------------------------


class PublishArgs(msgspec.Struct, forbid_unknown_fields=True):
    document: str  # the definition's JSON text, exactly as its hash is registered


class Provision(msgspec.Struct, forbid_unknown_fields=True):
    """How one need is met: exactly one of a credential (its anchor hash and the holder salt the
    issuer gave with it), a sharing grant, or an upload (only its SHA-256)."""

    step: str
    need: str
    credential_hash: bytes | None = None
    holder_salt: bytes | None = None
    grant_id: str | None = None
    upload_hash: bytes | None = None


class StartArgs(msgspec.Struct, forbid_unknown_fields=True):
    service_id: str
    provisions: list[Provision] = msgspec.field(default_factory=list)


class MeetArgs(msgspec.Struct, forbid_unknown_fields=True):
    instance_id: str
    provisions: list[Provision]


class ActArgs(msgspec.Struct, forbid_unknown_fields=True):
    instance_id: str
    step: str
    action: str  # approve | reject | request_info
    comment: str = ""  # procedural text for the parties; never personal data


class AnswerArgs(msgspec.Struct, forbid_unknown_fields=True):
    instance_id: str
    step: str
    comment: str = ""
    upload_hashes: list[bytes] = msgspec.field(default_factory=list)


class LinkOutputArgs(msgspec.Struct, forbid_unknown_fields=True):
    instance_id: str
    credential_hash: bytes


class BindHolderArgs(msgspec.Struct, forbid_unknown_fields=True):
    credential_hash: bytes
    commitment: bytes  # compute_holder_commitment(credential_hash, holder id, salt)


class InstanceArgs(msgspec.Struct, forbid_unknown_fields=True):
    id: str


class InstancesArgs(msgspec.Struct, forbid_unknown_fields=True):
    service_id: str | None = None
    applicant: str | None = None
    org: str | None = None
    status: str | None = None
    limit: int = 100


class ServiceArgs(msgspec.Struct, forbid_unknown_fields=True):
    service_id: str


class DefinitionArgs(msgspec.Struct, forbid_unknown_fields=True):
    hash: bytes


class PaperworkArgs(msgspec.Struct, forbid_unknown_fields=True):
    service_id: str | None = None


# --- records -------------------------------------------------------------------------------------


class ActionRecord(msgspec.Struct, frozen=True):
    step: str
    action: str  # approve | reject | request_info | answer
    by: str  # identity id
    height: int
    time_ms: int
    comment: str = ""
    upload_hashes: list[bytes] = msgspec.field(default_factory=list)


class StepState(msgspec.Struct, frozen=True):
    id: str
    org: str
    status: StepStatus = "waiting"
    activated_height: int | None = None
    activated_ms: int | None = None
    due_ms: int | None = None
    overdue: bool = False
    approvals: list[str] = msgspec.field(default_factory=list)  # identity ids
    closed_height: int | None = None


class NeedState(msgspec.Struct, frozen=True):
    step: str
    need: str
    met_by: MetBy | None = None
    ref: str = ""  # credential hash (hex), grant id or upload hash (hex)
    height: int | None = None


class OutputState(msgspec.Struct, frozen=True):
    step: str
    credential_type: str
    issuer: str
    credential_hash: bytes | None = None  # linked once the issuer has issued it
    linked_height: int | None = None


class Instance(msgspec.Struct, frozen=True):
    id: str
    service_id: str
    version: str
    definition_hash: bytes
    applicant: str  # identity id: cit:..., ent:... or an organisation
    status: InstanceStatus
    started_height: int
    started_ms: int
    steps: list[StepState]
    needs: list[NeedState]
    outputs: list[OutputState] = msgspec.field(default_factory=list)
    history: list[ActionRecord] = msgspec.field(default_factory=list)
    closed_height: int | None = None
    closed_ms: int | None = None

    def step(self, step_id: str) -> StepState | None:
        return next((s for s in self.steps if s.id == step_id), None)


class HolderBinding(msgspec.Struct, frozen=True):
    credential_hash: bytes
    commitment: bytes
    issuer_org: str
    by: str
    height: int


class PaperworkStats(msgspec.Struct):
    """Documents of a service's completed instances and how each was met."""

    service_id: str
    instances: int = 0
    required: int = 0
    credential: int = 0
    data: int = 0
    upload: int = 0


# --- reading -------------------------------------------------------------------------------------


def instance_state_key(instance_id: str) -> bytes:
    """The full state key of an instance (for state proofs)."""
    return f"{NAME}/inst/{instance_id}".encode()


def get_instance(ctx: ReadContext, instance_id: str) -> Instance | None:
    return ctx.other(NAME).get_as(f"inst/{instance_id}", Instance)
