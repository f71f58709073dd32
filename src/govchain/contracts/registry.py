"""The registry of system contracts: the ledger core looks contracts up here by name and knows
nothing else about them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from govchain.contracts.base import Contract, Method
from govchain.errors import UnknownContract, UnknownMethod

__all__ = ["RESERVED_NAMES", "ContractRegistry", "default_registry"]

# State key namespaces the ledger writes itself (the block-hash history lives under "chain/").
RESERVED_NAMES = frozenset({"chain"})


class ContractRegistry:
    def __init__(self, contracts: Iterable[Contract]) -> None:
        self._contracts: dict[str, Contract] = {}
        for contract in contracts:
            if contract.name in self._contracts:
                raise ValueError(f"contract {contract.name!r} registered twice")
            if contract.name in RESERVED_NAMES:
                raise ValueError(f"contract name {contract.name!r} is reserved for the ledger")
            self._contracts[contract.name] = contract

    def __iter__(self) -> Iterator[Contract]:
        return iter(self._contracts.values())

    def get(self, name: str) -> Contract:
        try:
            return self._contracts[name]
        except KeyError:
            raise UnknownContract(
                f"no contract named {name!r}", known=sorted(self._contracts)
            ) from None

    def get_method(self, contract: str, method: str) -> Method:
        c = self.get(contract)
        try:
            return c.methods[method]
        except KeyError:
            raise UnknownMethod(
                f"contract {contract!r} has no method {method!r}", known=sorted(c.methods)
            ) from None


def default_registry() -> ContractRegistry:
    """The system contracts every govchain network runs."""
    from govchain.contracts.catalog import CatalogContract
    from govchain.contracts.certs import CertsContract
    from govchain.contracts.governance import GovernanceContract
    from govchain.contracts.health import HealthContract
    from govchain.contracts.identity_contract import IdentityContract
    from govchain.contracts.notary import NotaryContract
    from govchain.contracts.sharing import SharingContract
    from govchain.contracts.workflow import WorkflowContract

    return ContractRegistry(
        [
            IdentityContract(),
            GovernanceContract(),
            CertsContract(),
            NotaryContract(),
            CatalogContract(),
            SharingContract(),
            WorkflowContract(),
            HealthContract(),
        ]
    )
