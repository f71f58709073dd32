"""The built-in service definitions, shipped as JSON data files next to this module.

>>> from govchain.services import builtin_ids, load_document
>>> builtin_ids()
['newborn-registration', 'open-restaurant', ...]
>>> document = load_document("open-restaurant")  # the exact text whose SHA-256 is registered

Each file is a service definition (``docs/services.md``); a city publishes it with
``govchain service publish`` and activates it with a governance vote.
"""

from __future__ import annotations

from importlib import resources

from govchain.contracts.workflow_definitions import Definition, parse_definition
from govchain.errors import NotFound

__all__ = ["builtin_ids", "issued_types", "load_definition", "load_document"]

SUFFIX = ".json"


def builtin_ids() -> list[str]:
    """The ids of the built-in services, sorted."""
    files = resources.files(__name__)
    return sorted(p.name[: -len(SUFFIX)] for p in files.iterdir() if p.name.endswith(SUFFIX))


def load_document(service_id: str) -> str:
    """A built-in definition's text, exactly as shipped."""
    if service_id not in builtin_ids():
        raise NotFound(
            f"no built-in service {service_id!r}",
            hint=f"The built-in services are {', '.join(builtin_ids())}.",
        )
    data = resources.files(__name__).joinpath(service_id + SUFFIX).read_bytes()
    return data.decode("utf-8")  # exact bytes (no newline translation): their SHA-256 counts


def load_definition(service_id: str) -> Definition:
    """A built-in definition, parsed and checked (shape and semantics; not organisations)."""
    return parse_definition(load_document(service_id))


def issued_types(definition: Definition) -> list[tuple[str, str]]:
    """Every (issuer, credential type) a definition accepts or issues, the first accepted issuer
    of each need: what governance must accredit before the service can run end to end."""
    pairs: set[tuple[str, str]] = set()
    for step in definition.steps:
        pairs.update((o.issuer, o.credential_type) for o in step.outputs)
        for need in step.needs:
            if need.credential is not None:
                pairs.update((need.credential.issuers[0], t) for t in need.credential.types)
    return sorted(pairs)
