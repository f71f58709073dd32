"""The data catalogue (SDK side): publish a department's resources, browse and search them.

>>> catalog = CatalogClient(client)
>>> catalog.add_responsibility(officer_key, "tax", "tax-collection", "Tax collection", "征税")
>>> catalog.add(officer_key, resource_from_json(json.load(open("payer-status.json"))))
>>> catalog.search("arrears")
>>> catalog.resource("tax.payer-status")          # state proof verified

A resource file is JSON with the fields of :class:`~govchain.contracts.catalog_records.
ResourceArgs`; the gateway's ``public_key`` is 64 hex digits.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec

from govchain.client.sdk import Client, TxOutcome
from govchain.client.verify import verify_state_answer
from govchain.contracts.catalog_records import (
    Resource,
    ResourceArgs,
    resource_state_key,
    resource_version_state_key,
)
from govchain.crypto.signing import KeyPair
from govchain.encoding import decode, to_builtins
from govchain.errors import BadRequest, RootMismatch

__all__ = ["CatalogClient", "resource_from_json"]


def resource_from_json(data: dict[str, Any]) -> ResourceArgs:
    """A resource description read from JSON (gateway key as hex)."""
    gateway = dict(data.get("gateway") or {})
    try:
        if isinstance(gateway.get("public_key"), str):
            gateway["public_key"] = bytes.fromhex(gateway["public_key"])
        return msgspec.convert({**data, "gateway": gateway}, ResourceArgs)
    except (ValueError, msgspec.ValidationError) as exc:
        raise BadRequest(
            f"not a catalogue resource: {exc}",
            hint="See docs/data-sharing.md for the resource file's fields.",
        ) from None


class CatalogClient:
    """The catalogue through a node's API; reads are public."""

    def __init__(self, client: Client) -> None:
        self.client = client

    # --- writes (an admin or officer of the owning department) ----------------------------

    def add_responsibility(
        self,
        key: KeyPair,
        org: str,
        responsibility_id: str,
        name: str,
        name_zh: str = "",
        description: str = "",
    ) -> TxOutcome:
        args = {
            "org": org,
            "id": responsibility_id,
            "name": name,
            "name_zh": name_zh,
            "description": description,
        }
        return self.client.send(key, "catalog", "add_responsibility", args)

    def add(self, key: KeyPair, resource: ResourceArgs) -> TxOutcome:
        """Add a resource (version 1)."""
        return self.client.send(key, "catalog", "add_resource", resource)

    def update(self, key: KeyPair, resource: ResourceArgs) -> TxOutcome:
        """Write the next version of a resource."""
        return self.client.send(key, "catalog", "update_resource", resource)

    # --- reads -----------------------------------------------------------------------------

    def resource(self, resource_id: str, version: int | None = None) -> dict[str, Any]:
        """A resource (latest or a version); its state proof is verified and the answered
        record must be the proven one."""
        params = {"version": version} if version is not None else {}
        answer = self.client.get(f"/v1/catalog/resources/{resource_id}", params=params)
        state = answer["state"]
        expected = (
            resource_state_key(resource_id)
            if version is None
            else resource_version_state_key(resource_id, version)
        )
        if bytes.fromhex(state["key"]) != expected or state["value"] is None:
            raise RootMismatch("the node proved another key than the resource asked for")
        verify_state_answer(state, self.client.trust)
        proven = to_builtins(decode(bytes.fromhex(state["value"]), Resource))
        if proven != answer["resource"]:
            raise RootMismatch("the node's resource differs from the proven one")
        return cast("dict[str, Any]", answer)

    def history(self, resource_id: str) -> list[dict[str, Any]]:
        path = f"/v1/catalog/resources/{resource_id}/history"
        return cast("list[dict[str, Any]]", self.client.get(path))

    def search(
        self,
        text: str = "",
        *,
        org: str | None = None,
        responsibility: str | None = None,
        sharing: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Resources matching ``text`` (and the filters); with ``org`` alone, all of its
        resources; with ``responsibility``, those under it."""
        params: dict[str, Any] = {"q": text, "limit": limit}
        for name, value in (("org", org), ("responsibility", responsibility), ("sharing", sharing)):
            if value is not None:
                params[name] = value
        found = self.client.get("/v1/catalog/resources", params=params)
        return cast("list[dict[str, Any]]", found)

    def responsibilities(self, org: str) -> list[dict[str, Any]]:
        path = f"/v1/catalog/orgs/{org}/responsibilities"
        return cast("list[dict[str, Any]]", self.client.get(path))
