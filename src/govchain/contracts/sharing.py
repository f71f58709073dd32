"""Data sharing: requests, consents, grants and access receipts."""

from __future__ import annotations

from govchain.contracts.base import Contract

__all__ = ["SharingContract"]

NAME = "sharing"


class SharingContract(Contract):
    name = NAME
    description = "Data sharing: requests, consents, grants and access receipts."
