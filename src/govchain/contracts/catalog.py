"""The data catalogue: departments' responsibilities and data resources."""

from __future__ import annotations

from govchain.contracts.base import Contract

__all__ = ["CatalogContract"]

NAME = "catalog"


class CatalogContract(Contract):
    name = NAME
    description = "The data catalogue: departments' responsibilities and data resources."
