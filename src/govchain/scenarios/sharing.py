"""Data shared between departments for a service step, through the ``catalog`` and ``sharing``
contracts: the owning department catalogues the resource (once), the step's department asks for
the need's fields about the applicant, the applicant consents with its own key, the owner
approves. The grant's id then meets the need (:data:`govchain.scenarios.run.ShareData`).
"""

from __future__ import annotations

import hashlib

from govchain.client import Client
from govchain.contracts.catalog_records import DataField, Gateway, ResourceArgs
from govchain.contracts.sharing_state import IdArgs, RequestArgs
from govchain.contracts.workflow_definitions import DataWay
from govchain.errors import GovchainError
from govchain.scenarios.run import Applicant
from govchain.scenarios.setup import ServiceCity, TxItem, run_round

__all__ = ["is_catalogued", "share_under_grant"]

GRANT_DURATION_MS = 7 * 24 * 3_600_000
GRANT_USES = 3


def _duty(org: str) -> str:
    return f"{org}-records"


def is_catalogued(client: Client, resource_id: str) -> bool:
    """Whether the catalogue holds ``resource_id``."""
    try:
        client.query("catalog", "resource", {"id": resource_id})
    except GovchainError as exc:
        if exc.details.get("status") != 404:
            raise
        return False
    return True


def _ensure_resource(city: ServiceCity, way: DataWay, applicant: Applicant) -> None:
    """Catalogue the resource the need names, if its owner has not yet (fields about citizens
    are personal data, about enterprises enterprise data: sharing them needs consent)."""
    officer = city.officer(way.owner)
    client = city.client(officer)
    if is_catalogued(client, way.resource):
        return
    duties = {d["id"] for d in client.query("catalog", "responsibilities", {"org": way.owner})}
    items: list[TxItem] = []
    if _duty(way.owner) not in duties:
        duty = {"org": way.owner, "id": _duty(way.owner), "name": f"{way.owner} records"}
        items.append((officer, "catalog", "add_responsibility", duty, ()))
    sensitivity = "personal" if applicant.id.startswith("cit:") else "enterprise"
    resource = ResourceArgs(
        id=way.resource,
        org=way.owner,
        responsibility=_duty(way.owner),
        name=way.resource,
        name_zh=way.resource,
        description=f"{way.resource}, shared for cross-department services",
        fields=[DataField(f, "string", sensitivity) for f in way.fields],
        classification="internal",
        update_frequency="daily",
        sharing="conditional",
        legal_basis="Municipal public data sharing regulation",
        gateway=Gateway(
            f"https://gateway.{way.owner}.example", hashlib.sha256(way.owner.encode()).digest()
        ),
    )
    items.append((officer, "catalog", "add_resource", resource, ()))
    run_round(client, items)


def share_under_grant(city: ServiceCity, way: DataWay, requester: str, applicant: Applicant) -> str:
    """A grant to ``requester`` on the need's fields about ``applicant``: request, consent,
    approval. Returns the grant id."""
    _ensure_resource(city, way, applicant)
    officer = city.officer(requester)
    client = city.client(officer)
    ask = RequestArgs(
        way.resource,
        list(way.fields),
        f"cross-department service step of {requester}",
        GRANT_DURATION_MS,
        GRANT_USES,
        applicant.id,
    )
    (requested,) = run_round(client, [(officer, "sharing", "request", ask, ())])
    request_id = str(requested.result["id"])
    run_round(client, [(applicant.key, "sharing", "consent", IdArgs(request_id), ())])
    owner = city.officer(way.owner)
    run_round(client, [(owner, "sharing", "approve", IdArgs(request_id), ())])
    return request_id
