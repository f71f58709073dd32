"""Cross-department services (SDK side): publish definitions, start instances, meet needs, act
on steps, follow progress, read the paperwork figure.

>>> services = Services(client)
>>> outcome = services.publish(admin_key, load_document("open-restaurant"))
>>> instance = services.start(enterprise_key, "open-restaurant", [
...     with_credential("business-licence", "legal-representative-id", licence_hash, salt),
...     with_upload("business-licence", "premises-lease", Path("lease.pdf")),
... ])
>>> services.act(officer_key, instance["id"], "business-licence", "approve")
>>> services.instance(instance["id"])["status"]
'running'

Credentials are presented by their anchor hash with the *holder salt* their issuer gave with
them (:meth:`Services.bind_holder` makes one and commits to the holder on chain); uploads put
only the file's SHA-256 on chain.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from govchain.client.sdk import Client, TxOutcome
from govchain.contracts.governance import ProposeArgs
from govchain.contracts.governance_actions import RegisterService, RetireService
from govchain.contracts.workflow_definitions import compute_definition_hash, parse_definition
from govchain.contracts.workflow_needs import MIN_SALT, compute_holder_commitment
from govchain.contracts.workflow_records import MeetArgs, Provision, StartArgs
from govchain.crypto.signing import KeyPair

__all__ = [
    "PaperworkRow",
    "Services",
    "compute_paperwork_rows",
    "with_credential",
    "with_grant",
    "with_upload",
]


def with_credential(
    step: str, need: str, credential_hash: bytes | str, salt: bytes | str
) -> Provision:
    """Meet a need with a credential the applicant holds (its anchor hash and holder salt)."""
    digest = bytes.fromhex(credential_hash) if isinstance(credential_hash, str) else credential_hash
    raw_salt = bytes.fromhex(salt) if isinstance(salt, str) else salt
    return Provision(step, need, credential_hash=digest, holder_salt=raw_salt)


def with_grant(step: str, need: str, grant_id: str) -> Provision:
    """Meet a need with data shared under a grant to the step's organisation."""
    return Provision(step, need, grant_id=grant_id)


def with_upload(step: str, need: str, document: Path | bytes) -> Provision:
    """Meet a need with an upload: only its SHA-256 goes on chain."""
    data = document.read_bytes() if isinstance(document, Path) else document
    return Provision(step, need, upload_hash=hashlib.sha256(data).digest())


@dataclass(frozen=True)
class PaperworkRow:
    service_id: str
    instances: int
    required: int
    credential: int
    data: int
    upload: int

    @property
    def reduction_percent(self) -> float | None:
        """Documents not uploaded / documents required, in percent (None without documents)."""
        if self.required == 0:
            return None
        return 100.0 * (self.required - self.upload) / self.required

    def to_json(self) -> dict[str, Any]:
        pct = self.reduction_percent
        return {
            "service_id": self.service_id,
            "instances": self.instances,
            "required": self.required,
            "met_by_credential": self.credential,
            "met_by_shared_data": self.data,
            "uploaded": self.upload,
            "reduction_percent": None if pct is None else round(pct, 1),
        }


def compute_paperwork_rows(report: dict[str, Any]) -> tuple[list[PaperworkRow], PaperworkRow]:
    """The per-service rows and the overall row of the ``paperwork`` answer."""
    fields = ("service_id", "instances", "required", "credential", "data", "upload")

    def row(raw: dict[str, Any]) -> PaperworkRow:
        return PaperworkRow(*(raw[f] for f in fields))

    return [row(r) for r in report["services"]], row(report["total"])


class Services:
    """The workflow contract through a :class:`Client` (reads over the service routes)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    # --- reads -----------------------------------------------------------------------------

    def list_services(self) -> list[dict[str, Any]]:
        """The services with their status and active version."""
        return cast("list[dict[str, Any]]", self.client.get("/v1/services"))

    def show(self, service_id: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.client.get(f"/v1/services/{service_id}"))

    def check(self, document: str) -> dict[str, Any]:
        """Check a definition on the node without publishing it (its hash, or the problem)."""
        body = {"document": document}
        return cast("dict[str, Any]", self.client.post("/v1/services/check", json=body))

    def instance(self, instance_id: str) -> dict[str, Any]:
        """An instance (the client's key must be its applicant's or a party department's)."""
        path = f"/v1/service-instances/{instance_id}"
        return cast("dict[str, Any]", self.client.get(path))

    def instances(
        self,
        *,
        applicant: str | None = None,
        org: str | None = None,
        service_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        for name, value in (
            ("applicant", applicant),
            ("org", org),
            ("service_id", service_id),
            ("status", status),
        ):
            if value is not None:
                params[name] = value
        answer = self.client.get("/v1/service-instances", params=params)
        return cast("list[dict[str, Any]]", answer)

    def paperwork(self, service_id: str | None = None) -> dict[str, Any]:
        params = {"service_id": service_id} if service_id else {}
        answer = self.client.get("/v1/reports/paperwork", params=params)
        return cast("dict[str, Any]", answer)

    # --- definitions -----------------------------------------------------------------------

    def publish(self, key: KeyPair, document: str) -> TxOutcome:
        """Publish a definition document (checked locally first, then by the contract)."""
        parse_definition(document)
        return self.client.send(key, "workflow", "publish", {"document": document})

    def propose_register(self, key: KeyPair, document: str, **kw: Any) -> dict[str, Any]:
        """Propose to governance to register a published document as its service's version."""
        definition = parse_definition(document)
        action = RegisterService(
            definition.id, definition.version, definition.title, compute_definition_hash(document)
        )
        title = f"register service {definition.id} {definition.version}"
        outcome = self.client.send(
            key, "governance", "propose", ProposeArgs(action, title=title, **kw)
        )
        return cast("dict[str, Any]", outcome.result)

    def propose_retire(self, key: KeyPair, service_id: str) -> dict[str, Any]:
        args = ProposeArgs(RetireService(service_id), title=f"retire service {service_id}")
        return cast("dict[str, Any]", self.client.send(key, "governance", "propose", args).result)

    # --- instances -------------------------------------------------------------------------

    def start(
        self, key: KeyPair, service_id: str, provisions: list[Provision] | None = None
    ) -> dict[str, Any]:
        """Start an instance as its applicant; returns the instance."""
        args = StartArgs(service_id, provisions or [])
        return cast("dict[str, Any]", self.client.send(key, "workflow", "start", args).result)

    def meet(self, key: KeyPair, instance_id: str, provisions: list[Provision]) -> dict[str, Any]:
        args = MeetArgs(instance_id, provisions)
        return cast("dict[str, Any]", self.client.send(key, "workflow", "meet", args).result)

    def act(
        self,
        key: KeyPair,
        instance_id: str,
        step: str,
        action: str = "approve",
        comment: str = "",
    ) -> dict[str, Any]:
        """Approve, reject (with the reason as ``comment``) or request_info on a step."""
        args = {"instance_id": instance_id, "step": step, "action": action, "comment": comment}
        return cast("dict[str, Any]", self.client.send(key, "workflow", "act", args).result)

    def answer(
        self,
        key: KeyPair,
        instance_id: str,
        step: str,
        comment: str = "",
        uploads: list[Path | bytes] | None = None,
    ) -> dict[str, Any]:
        """Answer a step's request for information (uploads: only their SHA-256 on chain)."""
        hashes = [
            hashlib.sha256(u.read_bytes() if isinstance(u, Path) else u).digest()
            for u in uploads or []
        ]
        args = {
            "instance_id": instance_id,
            "step": step,
            "comment": comment,
            "upload_hashes": hashes,
        }
        return cast("dict[str, Any]", self.client.send(key, "workflow", "answer", args).result)

    def link_output(self, key: KeyPair, instance_id: str, credential_hash: bytes) -> dict[str, Any]:
        args = {"instance_id": instance_id, "credential_hash": credential_hash}
        return cast("dict[str, Any]", self.client.send(key, "workflow", "link_output", args).result)

    def bind_holder(self, key: KeyPair, credential_hash: bytes, holder: str) -> bytes:
        """As the credential's issuer, commit on chain to its holder; returns the salt to hand
        to the holder with the credential (it presents the credential with it)."""
        salt = secrets.token_bytes(MIN_SALT * 2)
        commitment = compute_holder_commitment(credential_hash, holder, salt)
        args = {"credential_hash": credential_hash, "commitment": commitment}
        self.client.send(key, "workflow", "bind_holder", args)
        return salt
