"""Epidemic control: health-pass anchors and anonymised aggregates."""

from __future__ import annotations

from govchain.contracts.base import Contract

__all__ = ["HealthContract"]

NAME = "health"


class HealthContract(Contract):
    name = NAME
    description = "Epidemic control: health-pass anchors and anonymised aggregates."
