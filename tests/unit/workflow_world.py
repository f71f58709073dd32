"""Helpers of the workflow tests: the certificate world (tax accredited for ``BusinessLicence``)
plus officers of health and the bureau, an enterprise applicant and a small three-step service.

The service ``permit`` (version 1.0), for enterprises::

    intake  (tax, 1 officer, 24h)     licence: a BusinessLicence from tax, or an upload
                                      form: an upload
    check   (health, after intake)    record: data of tax's resource tax.records (field a),
                                      or an upload
    seal    (bureau, after intake,    no needs; 2 of bureau's admins/officers; issues a
             2 approvers)             BusinessLicence from tax

``check`` and ``seal`` run in parallel once ``intake`` is approved.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import msgspec
from certs_world import CertWorld, key_for, make_world

from govchain.contracts.governance_actions import RegisterService, RetireService
from govchain.contracts.workflow_needs import compute_holder_commitment
from govchain.credentials.vc import compute_credential_hash
from govchain.crypto.signing import KeyPair

CREDIT_CODE = "91350100M000100Y43"
OTHER_CREDIT_CODE = "91110000600037341L"
SALT = b"s" * 16
WORKFLOW_COVERED = {  # the methods test_workflow_matrix.py checks against every role
    ("workflow", m)
    for m in ("publish", "start", "meet", "act", "answer", "link_output", "bind_holder")
}

DEFINITION: dict[str, Any] = {
    "id": "permit",
    "version": "1.0",
    "title": "A permit",
    "applicants": ["enterprise"],
    "steps": [
        {
            "id": "intake",
            "title": "Intake",
            "org": "tax",
            "approval": {"n": 1, "roles": ["officer"]},
            "deadline": "24h",
            "needs": [
                {
                    "id": "licence",
                    "title": "Business licence",
                    "credential": {"types": ["BusinessLicence"], "issuers": ["tax"]},
                },
                {"id": "form", "title": "Application form"},
            ],
        },
        {
            "id": "check",
            "title": "Check",
            "org": "health",
            "after": ["intake"],
            "approval": {"n": 1, "roles": ["officer"]},
            "deadline": "2d",
            "needs": [
                {
                    "id": "record",
                    "title": "Tax record",
                    "data": {"owner": "tax", "resource": "tax.records", "fields": ["a"]},
                }
            ],
        },
        {
            "id": "seal",
            "title": "Seal",
            "org": "bureau",
            "after": ["intake"],
            "approval": {"n": 2, "roles": ["admin", "officer"]},
            "deadline": "3d",
            "outputs": [{"credential_type": "BusinessLicence", "issuer": "tax"}],
        },
    ],
}


def definition(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DEFINITION)
    doc.update(changes)
    return doc


def text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1)


def upload(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


@dataclass
class WorkflowWorld:
    certs: CertWorld
    ent: KeyPair = field(default_factory=lambda: key_for("enterprise"))
    other_ent: KeyPair = field(default_factory=lambda: key_for("other-enterprise"))
    health_officer: KeyPair = field(default_factory=lambda: key_for("health-officer"))
    bureau_officer: KeyPair = field(default_factory=lambda: key_for("bureau-officer"))

    @property
    def chain(self) -> Any:
        return self.certs.chain

    @property
    def tax_officer(self) -> KeyPair:
        officer: KeyPair = self.certs.officer
        return officer

    def send(self, key: KeyPair, method: str, args: Any, **kw: Any) -> Any:
        return self.certs.send(key, method, args, contract="workflow", **kw)

    def ok(self, key: KeyPair, method: str, args: Any, **kw: Any) -> Any:
        return self.certs.ok(key, method, args, contract="workflow", **kw)

    def code(self, key: KeyPair, method: str, args: Any, **kw: Any) -> str:
        return self.certs.code(key, method, args, contract="workflow", **kw)

    def q(self, view: str, **args: Any) -> Any:
        return self.chain.app.query("workflow", view, args)

    # --- services --------------------------------------------------------------------------

    def publish(self, doc: dict[str, Any] | str, key: KeyPair | None = None) -> str:
        document = doc if isinstance(doc, str) else text(doc)
        return self.code(key or self.chain.admin("tax"), "publish", {"document": document})

    def register(self, doc: dict[str, Any] | None = None) -> bytes:
        document = text(doc or DEFINITION)
        assert self.publish(document) == "OK"
        digest = hashlib.sha256(document.encode()).digest()
        meta = doc or DEFINITION
        self.certs.govern(RegisterService(meta["id"], meta["version"], meta["title"], digest))
        return digest

    def retire(self, service_id: str = "permit") -> None:
        self.certs.govern(RetireService(service_id))

    # --- applicants and credentials --------------------------------------------------------

    def licence(self, holder: str | None = None, salt: bytes = SALT) -> bytes:
        """Issue a BusinessLicence bound to ``holder`` (default: the enterprise)."""
        vc = self.certs.issue()
        digest = compute_credential_hash(vc)
        commitment = compute_holder_commitment(digest, holder or self.ent_id, salt)
        args = {"credential_hash": digest, "commitment": commitment}
        assert self.code(self.certs.issuer, "bind_holder", args) == "OK"
        return digest

    @property
    def ent_id(self) -> str:
        return "ent:" + CREDIT_CODE

    def start(
        self,
        key: KeyPair | None = None,
        provisions: list[dict[str, Any]] | None = None,
        service_id: str = "permit",
    ) -> Any:
        args = {"service_id": service_id, "provisions": provisions or []}
        receipt = self.send(key or self.ent, "start", args)
        return receipt

    def start_ok(self, provisions: list[dict[str, Any]] | None = None) -> str:
        """Start an instance as the enterprise; its id."""
        receipt = self.start(provisions=provisions)
        assert receipt.ok, (receipt.code, receipt.message)
        return str(msgspec.msgpack.decode(bytes(receipt.result))["id"])

    def instance(self, instance_id: str) -> Any:
        return self.q("instance", id=instance_id)

    def act(
        self,
        key: KeyPair,
        instance_id: str,
        step: str,
        action: str = "approve",
        comment: str = "",
        cosign: tuple[KeyPair, ...] = (),
    ) -> str:
        args = {"instance_id": instance_id, "step": step, "action": action, "comment": comment}
        return self.code(key, "act", args, cosign=cosign)

    def meet(self, key: KeyPair, instance_id: str, *provisions: dict[str, Any]) -> str:
        return self.code(key, "meet", {"instance_id": instance_id, "provisions": list(provisions)})


def credential(
    digest: bytes, step: str = "intake", need: str = "licence", salt: bytes = SALT
) -> dict[str, Any]:
    return {"step": step, "need": need, "credential_hash": digest, "holder_salt": salt}


def uploaded(step: str, need: str, name: str = "file") -> dict[str, Any]:
    return {"step": step, "need": need, "upload_hash": upload(name)}


def make_workflow_world(chain: Any) -> WorkflowWorld:
    certs = make_world(chain)
    w = WorkflowWorld(certs)
    certs.enrol("health", "officer", w.health_officer, ["officer"])
    certs.enrol("bureau", "officer", w.bureau_officer, ["officer"])
    for key, code in ((w.ent, CREDIT_CODE), (w.other_ent, OTHER_CREDIT_CODE)):
        args = {"credit_code": code, "name": f"Enterprise {code[-4:]}"}
        assert certs.code(key, "register_enterprise", args, contract="identity") == "OK"
    return w
