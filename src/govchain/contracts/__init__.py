"""System contracts behind one protocol, listed in a registry."""

from govchain.contracts.base import Context, Contract, Method, ReadContext, View, method, view
from govchain.contracts.registry import ContractRegistry, default_registry

__all__ = [
    "Context",
    "Contract",
    "ContractRegistry",
    "Method",
    "ReadContext",
    "View",
    "default_registry",
    "method",
    "view",
]
