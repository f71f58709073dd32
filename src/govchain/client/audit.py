"""Data-access audit (SDK side): who accessed which resource, which fields, under which grant,
when — each record checked against its state proof.

>>> audit = AuditClient(client)                   # signed: a party or an auditor
>>> trail = audit.access(subject="cit:7f3a...")   # every use of a citizen's data
>>> print(records_to_csv(trail.records))

Only the records the caller may read come back (the owner, the requester, the data subject,
auditors). With ``verify`` (the default) every record's state proof is checked against the
block header it names (and the header against the trust anchor when the client has one), and the
record shown must be the proven one; a mismatch raises :class:`~govchain.errors.RootMismatch`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

import msgspec

from govchain.client.sdk import Client
from govchain.client.verify import verify_state_answer
from govchain.contracts.sharing_state import AccessRecord, access_state_key
from govchain.encoding import decode, to_builtins
from govchain.errors import BadRequest, RootMismatch

__all__ = [
    "CSV_COLUMNS",
    "AuditClient",
    "AuditTrail",
    "records_to_csv",
    "records_to_json",
    "verify_access_entry",
]

CSV_COLUMNS = (
    "time_ms",
    "owner",
    "resource_id",
    "requester",
    "subject",
    "fields",
    "grant_id",
    "request_hash",
    "response_hash",
    "height",
    "anchored_by",
)
PAGE = 200


class AuditTrail(msgspec.Struct):
    kind: str
    id: str
    height: int  # the height of the state the records were proven against
    records: list[dict[str, Any]]
    verified: bool


def verify_access_entry(entry: dict[str, Any], client: Client) -> None:
    """Check one answered record against its state proof."""
    record, state = entry["record"], entry["state"]
    expected = access_state_key(bytes.fromhex(record["request_hash"]))
    if bytes.fromhex(state["key"]) != expected or state["value"] is None:
        raise RootMismatch("the node proved another key than the access record's")
    verify_state_answer(state, client.trust)
    if to_builtins(decode(bytes.fromhex(state["value"]), AccessRecord)) != record:
        raise RootMismatch("the node's access record differs from the proven one")


class AuditClient:
    """Access records through a node's audit route."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def access(
        self,
        *,
        org: str | None = None,
        resource: str | None = None,
        grant: str | None = None,
        subject: str | None = None,
        limit: int | None = None,
        verify: bool = True,
    ) -> AuditTrail:
        """Every access record of one org (owner or requester), resource, grant or subject
        that the caller may read, oldest first (at most ``limit``)."""
        given = {"org": org, "resource": resource, "grant": grant, "subject": subject}
        chosen = [(k, v) for k, v in given.items() if v is not None]
        if len(chosen) != 1:
            raise BadRequest("give exactly one of org, resource, grant, subject")
        kind, ident = chosen[0]
        records: list[dict[str, Any]] = []
        height, after = 0, ""
        while limit is None or len(records) < limit:
            params = {kind: ident, "after": after, "limit": PAGE}
            answer = self.client.get("/v1/audit/access", params=params)
            height = max(height, int(answer["height"]))
            for entry in answer["records"]:
                if verify:
                    verify_access_entry(entry, self.client)
                records.append(entry["record"])
            if answer["next"] is None:
                break
            after = answer["next"]
        return AuditTrail(kind, str(ident), height, records[:limit], verify)


def records_to_json(trail: AuditTrail) -> str:
    return json.dumps(msgspec.to_builtins(trail), indent=2, ensure_ascii=False)


def records_to_csv(records: Iterable[dict[str, Any]]) -> str:
    """One CSV row per access (fields joined with ``;``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        row = {**r, "fields": ";".join(r["fields"]), "subject": r.get("subject") or ""}
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return out.getvalue()
