"""Cross-department services: definitions, instances and step actions."""

from __future__ import annotations

from govchain.contracts.base import Contract

__all__ = ["WorkflowContract"]

NAME = "workflow"


class WorkflowContract(Contract):
    name = NAME
    description = "Cross-department services: definitions, instances and step actions."
