"""The authorisation matrix: every identity method against every role, allowed and forbidden.

Each case runs on a fresh populated chain (see ``conftest.py``): the actor sends the transaction
(with the co-signatures the method needs, e.g. the new key's proof of possession), and the case
checks "OK" or the exact code that rejected it — at admission (``TX_UNKNOWN_SENDER`` for a key the
chain does not know) or in the receipt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from identity_world import ACTORS, OTHER_CREDIT_CODE, World, attestation

NEW = "fresh-key"  # a key not bound to anything: the new key of enrolments and rotations


@dataclass(frozen=True)
class Case:
    method: str
    args: Callable[[World, str], Any]  # (world, actor) -> arguments
    allowed: frozenset[str]
    denied_code: str
    cosign: tuple[str, ...] = ()
    setup: Callable[[World], None] | None = None
    special: dict[str, str] = field(default_factory=dict)  # actor -> expected code

    def expected(self, actor: str) -> str:
        if actor in self.special:
            return self.special[actor]
        if actor in self.allowed:
            return "OK"
        if actor == "unregistered":
            return "TX_UNKNOWN_SENDER"
        return self.denied_code


ADMIN = frozenset({"admin"})
CLIENT_CONTROLLERS = frozenset({"admin", "client"})


def _key(world: World, name: str) -> bytes:
    return world.key(name).public_key


def _suspend_client(world: World) -> None:
    world.ok("admin", "suspend", {"id": "tax:client"})


def _second_client_key(world: World) -> None:
    world.ok("client", "add_key", {"id": "tax:client", "public_key": _key(world, "c2")}, ["c2"])


def _client_service(world: World) -> None:
    service = {"id": "gw", "type": "DataGateway", "endpoint": "https://gw.example/"}
    world.ok("client", "set_service", {"id": "tax:client", "service": service})


SERVICE = {"id": "gateway", "type": "DataGateway", "endpoint": "https://tax.example/gw"}

CASES = {
    "enrol_member": Case(
        "enrol_member",
        lambda w, a: {
            "org": "tax",
            "name": "newcomer",
            "public_key": _key(w, NEW),
            "roles": ["officer"],
        },
        ADMIN,
        "IDENTITY_NOT_ADMIN",
        cosign=(NEW,),
    ),
    "set_roles": Case(
        "set_roles",
        lambda w, a: {"id": "tax:client", "roles": ["auditor"]},
        ADMIN,
        "IDENTITY_NOT_ADMIN",
    ),
    "suspend": Case("suspend", lambda w, a: {"id": "tax:client"}, ADMIN, "IDENTITY_NOT_ADMIN"),
    "reinstate": Case(
        "reinstate",
        lambda w, a: {"id": "tax:client"},
        ADMIN,
        "IDENTITY_NOT_ADMIN",
        setup=_suspend_client,
        # the suspended client's own key no longer signs at all
        special={"client": "TX_UNKNOWN_SENDER"},
    ),
    "remove": Case("remove", lambda w, a: {"id": "tax:client"}, ADMIN, "IDENTITY_NOT_ADMIN"),
    "rotate_key": Case(
        "rotate_key",
        lambda w, a: {
            "id": "tax:client",
            "old_public_key": _key(w, "client"),
            "new_public_key": _key(w, NEW),
        },
        CLIENT_CONTROLLERS,
        "IDENTITY_NOT_CONTROLLER",
        cosign=(NEW,),
    ),
    "revoke_key": Case(
        "revoke_key",
        lambda w, a: {"id": "tax:client", "public_key": _key(w, "c2"), "reason": "lost"},
        CLIENT_CONTROLLERS,
        "IDENTITY_NOT_CONTROLLER",
        setup=_second_client_key,
    ),
    "add_key": Case(
        "add_key",
        lambda w, a: {"id": "tax:client", "public_key": _key(w, NEW)},
        CLIENT_CONTROLLERS,
        "IDENTITY_NOT_CONTROLLER",
        cosign=(NEW,),
    ),
    "set_service": Case(
        "set_service",
        lambda w, a: {"id": "tax:client", "service": SERVICE},
        CLIENT_CONTROLLERS,
        "IDENTITY_NOT_CONTROLLER",
    ),
    "remove_service": Case(
        "remove_service",
        lambda w, a: {"id": "tax:client", "service_id": "gw"},
        CLIENT_CONTROLLERS,
        "IDENTITY_NOT_CONTROLLER",
        setup=_client_service,
    ),
    "set_service on an organisation": Case(
        "set_service",
        lambda w, a: {"id": "tax", "service": SERVICE},
        ADMIN,
        "IDENTITY_NOT_CONTROLLER",
    ),
    "add_key to an enterprise": Case(
        "add_key",
        lambda w, a: {"id": "ent:91350100M000100Y43", "public_key": _key(w, NEW)},
        frozenset({"enterprise"}),
        "IDENTITY_NOT_CONTROLLER",
        cosign=(NEW,),
    ),
    "rotate_key of a citizen": Case(
        "rotate_key",
        lambda w, a: {
            "id": w.get_citizen_id(),
            "old_public_key": _key(w, "citizen"),
            "new_public_key": _key(w, NEW),
        },
        frozenset({"citizen"}),
        "IDENTITY_NOT_CONTROLLER",
        cosign=(NEW,),
    ),
    "register_enterprise": Case(
        "register_enterprise",
        lambda w, a: {"credit_code": OTHER_CREDIT_CODE, "name": "Other Co."},
        frozenset({"unregistered"}),
        "IDENTITY_KEY_IN_USE",
    ),
    "register_citizen": Case(
        "register_citizen",
        lambda w, a: {"attestation": attestation()},
        frozenset({"unregistered"}),
        "IDENTITY_KEY_IN_USE",
        cosign=("bureau_officer",),
        special={"citizen": "IDENTITY_EXISTS"},
    ),
}


def _citizen_id(world: World) -> str:
    from govchain.contracts.identity_methods import citizen_id

    return citizen_id(world.key("citizen").public_key)


World.get_citizen_id = _citizen_id  # type: ignore[attr-defined]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", list(CASES))
def test_authorisation_matrix(world: World, name: str, actor: str) -> None:
    case = CASES[name]
    if case.setup is not None:
        case.setup(world)
    outcome = world.run(actor, case.method, case.args(world, actor), cosign=case.cosign)
    assert outcome == case.expected(actor), f"{name} by {actor}"


def test_every_method_is_in_the_matrix(world: World) -> None:
    methods = set(world.chain.registry.get("identity").methods)
    assert methods == {c.method for c in CASES.values()}
