"""Issuing credentials (SDK side): the issuer's private key signs, the chain anchors the hash.

>>> vc = issue_credential(client, issuer_key, issuer_org="market-regulation",
...     credential_type="BusinessLicence", schema_version="1.0",
...     subject={"id": "did:govchain:city:ent:9135...", "name": "Acme"},
...     valid_from="2026-01-01T00:00:00Z", valid_until="2031-01-01T00:00:00Z",
...     assurance_level="B")

:func:`issue_credential` fetches the type's schema from the chain and validates the subject, takes
the organisation's next status index, builds a W3C VC 2.0 document (``issuer`` the
organisation's DID; ``credentialStatus`` a revocation and a suspension
``BitstringStatusListEntry`` at that index, pointing at the node's status list routes), signs it
with ``eddsa-jcs-2022`` (``verificationMethod`` ``<member DID>#key-N`` of the signing member's
current key) and anchors its hash. :func:`bulk_issue` does the same for many subjects, anchoring
them ``batch`` at a time with ``anchor_batch`` and keeping a few batches in flight.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from govchain.client.sdk import Client, TxOutcome
from govchain.contracts.certs_records import (
    MAX_BATCH,
    AnchorArgs,
    AnchorBatchArgs,
    BatchItem,
)
from govchain.contracts.did import did_of
from govchain.credentials.data_integrity import create_proof
from govchain.credentials.schema import SubjectSchema
from govchain.credentials.status_list import BitstringStatusListEntry
from govchain.credentials.vc import VC_CONTEXT_V2, compute_credential_hash, parse_datetime_stamp
from govchain.crypto.signing import KeyPair
from govchain.errors import BadRequest, GovchainError

__all__ = [
    "BulkResult",
    "CredentialIssuer",
    "build_credential",
    "bulk_issue",
    "issue_credential",
]

Progress = Callable[[int, int], None]  # (committed so far, total)
MAX_IN_FLIGHT = 8  # batches submitted and not yet committed


def _stamp(value: str | datetime.datetime) -> str:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise BadRequest("validity times need a time zone")
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    parse_datetime_stamp(value, field="validity")
    return value


def _ms(stamp: str | None) -> int | None:
    return None if stamp is None else int(parse_datetime_stamp(stamp) * 1000)


def _now_stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class CredentialIssuer:
    """What every credential of one (issuer, type, schema version) shares: the compiled schema,
    the signing member's verification method and the status list URLs."""

    client: Client
    key: KeyPair
    issuer_org: str
    credential_type: str
    schema_version: str
    status_base_url: str | None = None
    schema: SubjectSchema = field(init=False)
    verification_method: str = field(init=False)
    issuer_did: str = field(init=False)

    def __post_init__(self) -> None:
        record = self.client.credential_schema(self.credential_type, self.schema_version)
        self.schema = SubjectSchema(json.loads(record["schema_json"]))
        chain_id = self.client.chain_id
        member = self.client.query("identity", "key", {"public_key": self.key.public_key})
        position = next(
            n
            for n, k in enumerate(member["keys"], start=1)
            if k["public_key"] == self.key.public_key.hex()
        )
        self.verification_method = f"{did_of(chain_id, member['id'])}#key-{position}"
        self.issuer_did = did_of(chain_id, self.issuer_org)

    def next_index(self) -> int:
        return int(self.client.query("certs", "next_status_index", {"org": self.issuer_org}))

    def build(
        self,
        subject: dict[str, Any],
        status_index: int,
        *,
        valid_from: str,
        valid_until: str | None,
        credential_id: str | None = None,
        created: str | None = None,
    ) -> dict[str, Any]:
        """Validate the subject and return the signed credential (not anchored)."""
        self.schema.validate(subject)
        base = (self.status_base_url or self.client.url).rstrip("/")
        return build_credential(
            self.key,
            verification_method=self.verification_method,
            issuer_did=self.issuer_did,
            credential_type=self.credential_type,
            subject=subject,
            status_index=status_index,
            status_lists_url=f"{base}/v1/credentials/status-lists/{self.issuer_org}",
            valid_from=valid_from,
            valid_until=valid_until,
            credential_id=credential_id or f"urn:uuid:{uuid.uuid4()}",
            created=created or _now_stamp(),
        )


def build_credential(
    key: KeyPair,
    *,
    verification_method: str,
    issuer_did: str,
    credential_type: str,
    subject: dict[str, Any],
    status_index: int,
    status_lists_url: str,
    valid_from: str,
    valid_until: str | None,
    credential_id: str,
    created: str,
) -> dict[str, Any]:
    """A W3C VC 2.0 document secured with ``eddsa-jcs-2022`` (pure: no network, no clock).
    ``credentialStatus`` holds a revocation and a suspension entry at ``status_index`` of the
    lists ``<status_lists_url>/revocation`` and ``/suspension``."""
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "id": credential_id,
        "type": ["VerifiableCredential", credential_type],
        "issuer": issuer_did,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        document["validUntil"] = valid_until
    document["credentialSubject"] = subject
    document["credentialStatus"] = [
        BitstringStatusListEntry(purpose, status_index, f"{status_lists_url}/{purpose}").to_json()
        for purpose in ("revocation", "suspension")
    ]
    return create_proof(
        document, signer=key, verification_method=verification_method, created=created
    )


def issue_credential(
    client: Client,
    issuer_key: KeyPair,
    *,
    issuer_org: str,
    credential_type: str,
    schema_version: str,
    subject: dict[str, Any],
    valid_from: str | datetime.datetime,
    valid_until: str | datetime.datetime | None = None,
    assurance_level: str = "C",
    id: str | None = None,
    status_base_url: str | None = None,
) -> dict[str, Any]:
    """Build, sign and anchor one credential; returns the signed VC (raises the contract's
    error, e.g. ``CERT_NOT_ACCREDITED``, if anchoring fails)."""
    issuer = CredentialIssuer(
        client, issuer_key, issuer_org, credential_type, schema_version, status_base_url
    )
    start, end = _stamp(valid_from), None if valid_until is None else _stamp(valid_until)
    index = issuer.next_index()
    vc = issuer.build(subject, index, valid_from=start, valid_until=end, credential_id=id)
    args = AnchorArgs(
        compute_credential_hash(vc),
        credential_type,
        schema_version,
        issuer_org,
        _ms(start) or 0,
        index,
        _ms(end),
        assurance_level,
    )
    client.send(issuer_key, "certs", "anchor", args)
    return vc


@dataclass
class BulkResult:
    credentials: list[dict[str, Any]]
    outcomes: list[TxOutcome]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.credentials) / self.seconds if self.seconds else 0.0


def bulk_issue(
    client: Client,
    issuer_key: KeyPair,
    rows: Iterable[dict[str, Any]],
    *,
    issuer_org: str,
    credential_type: str,
    schema_version: str,
    valid_from: str | datetime.datetime,
    valid_until: str | datetime.datetime | None = None,
    assurance_level: str = "C",
    batch: int = MAX_BATCH,
    progress: Progress | None = None,
    status_base_url: str | None = None,
) -> BulkResult:
    """Issue one credential per subject row, anchored ``batch`` at a time (``anchor_batch``,
    all or nothing per batch); ``progress(done, total)`` after each committed batch. Raises the
    first failed batch's error (earlier batches stay anchored: re-run with the remaining rows)."""
    if not 1 <= batch <= MAX_BATCH:
        raise BadRequest(f"batch must be 1..{MAX_BATCH}")
    subjects = list(rows)
    issuer = CredentialIssuer(
        client, issuer_key, issuer_org, credential_type, schema_version, status_base_url
    )
    start, end = _stamp(valid_from), None if valid_until is None else _stamp(valid_until)
    began = time.monotonic()
    next_index = issuer.next_index()
    created = _now_stamp()
    credentials: list[dict[str, Any]] = []
    outcomes: list[TxOutcome] = []
    in_flight: list[tuple[str, int]] = []
    for offset in range(0, len(subjects), batch):
        chunk = subjects[offset : offset + batch]
        items, vcs = [], []
        for subject in chunk:
            vc = issuer.build(
                subject, next_index, valid_from=start, valid_until=end, created=created
            )
            items.append(
                BatchItem(
                    compute_credential_hash(vc),
                    _ms(start) or 0,
                    next_index,
                    _ms(end),
                    assurance_level,
                )
            )
            vcs.append(vc)
            next_index += 1
        args = AnchorBatchArgs(credential_type, schema_version, issuer_org, items)
        tx_id = client.submit(client.build(issuer_key, "certs", "anchor_batch", args))
        credentials.extend(vcs)
        in_flight.append((tx_id, len(vcs)))
        if len(in_flight) >= MAX_IN_FLIGHT:
            _settle(client, in_flight.pop(0), outcomes, progress, len(subjects))
    while in_flight:
        _settle(client, in_flight.pop(0), outcomes, progress, len(subjects))
    return BulkResult(credentials, outcomes, time.monotonic() - began)


def _settle(
    client: Client,
    pending: tuple[str, int],
    outcomes: list[TxOutcome],
    progress: Progress | None,
    total: int,
) -> None:
    outcome = client.wait(pending[0], timeout=120)
    if outcome.status != "committed" or not outcome.ok:
        raise GovchainError(
            f"a batch of {pending[1]} credentials failed: [{outcome.code}] {outcome.message}",
            hint=outcome.hint or "Fix the cause and re-run with the rows not yet anchored.",
        )
    outcomes.append(outcome)
    if progress is not None:
        progress(sum(o.result["count"] for o in outcomes), total)
