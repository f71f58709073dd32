"""Membership: enrolment rules, roles, suspension, removal, the last admin, who may send."""

from __future__ import annotations

from typing import Any

import pytest
from identity_world import World

from govchain.errors import NotFoundInState


def enrol(world: World, name: str, roles: list[str], *, key: str | None = None, **kw: Any) -> str:
    label = key or f"tax-{name}"
    args = {"org": "tax", "name": name, "public_key": world.key(label).public_key, "roles": roles}
    args.update(kw)
    return world.run("admin", "enrol_member", args, cosign=[label])


@pytest.mark.parametrize(
    ("name", "roles", "code"),
    [
        ("clerk", ["officer", "issuer"], "OK"),
        ("clerk", ["node"], "IDENTITY_BAD_ROLE"),
        ("clerk", [], "IDENTITY_BAD_ROLE"),
        ("clerk", ["mayor"], "IDENTITY_BAD_ROLE"),
        ("Clerk", ["officer"], "IDENTITY_BAD_ID"),
        ("a:b", ["officer"], "IDENTITY_BAD_ID"),
        ("officer", ["officer"], "IDENTITY_EXISTS"),
    ],
)
def test_enrol_checks(world: World, name: str, roles: list[str], code: str) -> None:
    assert enrol(world, name, roles, key="tax-clerk") == code


def test_enrol_records_the_member(world: World) -> None:
    assert enrol(world, "clerk", ["officer", "issuer", "officer"]) == "OK"
    clerk = world.get("tax:clerk")
    assert (clerk.kind, clerk.org, clerk.roles, clerk.status) == (
        "member",
        "tax",
        ["issuer", "officer"],
        "active",
    )
    assert [k.public_key for k in clerk.keys] == [world.key("tax-clerk").public_key]
    assert world.admitted("tax-clerk") == "OK"  # the new member may notarise


def test_enrol_needs_proof_of_possession(world: World) -> None:
    args = {
        "org": "tax",
        "name": "clerk",
        "public_key": world.key("x").public_key,
        "roles": ["officer"],
    }
    assert world.run("admin", "enrol_member", args) == "IDENTITY_KEY_NOT_PROVEN"
    # a co-signature by some other key is no proof either
    assert world.run("admin", "enrol_member", args, cosign=["y"]) == "IDENTITY_KEY_NOT_PROVEN"


def test_enrol_key_in_use_and_unknown_org(world: World) -> None:
    assert enrol(world, "clerk", ["officer"], key="tax-officer") == "IDENTITY_KEY_IN_USE"
    assert enrol(world, "clerk", ["officer"], org="nowhere") == "IDENTITY_NOT_FOUND"
    bad = {"org": "tax", "name": "k", "public_key": b"short", "roles": ["client"]}
    assert world.run("admin", "enrol_member", bad) == "IDENTITY_BAD_KEY"


def test_an_admin_may_enrol_only_in_its_own_org(world: World) -> None:
    def args(org: str, label: str) -> dict[str, Any]:
        return {
            "org": org,
            "name": label,
            "public_key": world.key(label).public_key,
            "roles": ["client"],
        }

    assert world.run("admin", "enrol_member", args("health", "x"), ["x"]) == "IDENTITY_NOT_ADMIN"
    assert world.run("other_admin", "enrol_member", args("tax", "y"), ["y"]) == (
        "IDENTITY_NOT_ADMIN"
    )
    assert world.run("other_admin", "enrol_member", args("health", "z"), ["z"]) == "OK"


def test_suspended_and_removed_members_cannot_send(world: World) -> None:
    assert world.admitted("officer") == "OK"
    world.ok("admin", "suspend", {"id": "tax:officer", "reason": "under review"})
    assert world.get("tax:officer").status == "suspended"
    assert world.admitted("officer") == "TX_UNKNOWN_SENDER"
    world.ok("admin", "reinstate", {"id": "tax:officer"})
    assert world.admitted("officer") == "OK"
    world.ok("admin", "remove", {"id": "tax:officer"})
    removed = world.get("tax:officer")
    assert removed.status == "removed"
    assert all(k.until_height == removed.updated_height for k in removed.keys)
    assert world.admitted("officer") == "TX_UNKNOWN_SENDER"


def test_status_transitions(world: World) -> None:
    assert world.run("admin", "reinstate", {"id": "tax:client"}) == "IDENTITY_NOT_SUSPENDED"
    world.ok("admin", "suspend", {"id": "tax:client"})
    assert world.run("admin", "suspend", {"id": "tax:client"}) == "IDENTITY_INACTIVE"
    world.ok("admin", "remove", {"id": "tax:client"})  # a suspended member can be removed
    assert world.run("admin", "remove", {"id": "tax:client"}) == "IDENTITY_INACTIVE"
    assert world.run("admin", "reinstate", {"id": "tax:client"}) == "IDENTITY_NOT_SUSPENDED"
    assert world.run("admin", "set_roles", {"id": "tax:client", "roles": ["officer"]}) == (
        "IDENTITY_INACTIVE"
    )
    assert world.run("admin", "suspend", {"id": "tax:nobody"}) == "IDENTITY_NOT_FOUND"


def test_organisations_and_nodes_are_not_managed_as_members(world: World) -> None:
    bureau = world.chain.admin("bureau")
    assert world.run(bureau, "suspend", {"id": "bureau:node0"}) == "IDENTITY_NOT_MEMBER"
    assert world.run(bureau, "remove", {"id": "bureau"}) == "IDENTITY_NOT_MEMBER"
    assert world.run(bureau, "set_roles", {"id": "bureau:node0", "roles": ["client"]}) == (
        "IDENTITY_NOT_MEMBER"
    )
    node_key = world.chain.node_key.public_key
    rotate = {
        "id": "bureau:node0",
        "old_public_key": node_key,
        "new_public_key": world.key("n1").public_key,
    }
    assert world.run(bureau, "rotate_key", rotate, cosign=["n1"]) == "IDENTITY_NOT_MEMBER"


def test_the_last_active_admin_stays(world: World) -> None:
    health = world.chain.admin("health")
    assert world.run(health, "suspend", {"id": "health:admin"}) == "IDENTITY_LAST_ADMIN"
    assert world.run(health, "remove", {"id": "health:admin"}) == "IDENTITY_LAST_ADMIN"
    demote = {"id": "health:admin", "roles": ["officer"]}
    assert world.run(health, "set_roles", demote) == "IDENTITY_LAST_ADMIN"
    # with a second admin, the first may go
    assert enrol(world, "deputy", ["admin"]) == "OK"
    world.ok("tax-deputy", "suspend", {"id": "tax:admin"})
    assert world.admitted("admin") == "TX_UNKNOWN_SENDER"
    assert world.run("tax-deputy", "remove", {"id": "tax:deputy"}) == "IDENTITY_LAST_ADMIN"
    world.ok("tax-deputy", "reinstate", {"id": "tax:admin"})
    world.ok("admin", "set_roles", {"id": "tax:deputy", "roles": ["officer"]})


def test_set_roles(world: World) -> None:
    world.ok("admin", "set_roles", {"id": "tax:client", "roles": ["auditor", "officer"]})
    assert world.get("tax:client").roles == ["auditor", "officer"]
    # the new role takes effect: an officer may notarise for tax, a client may not
    assert world.run("client", "anchor", world.chain.anchor_args(), contract="notary") == "OK"
    bad = {"id": "tax:client", "roles": ["node"]}
    assert world.run("admin", "set_roles", bad) == "IDENTITY_BAD_ROLE"


def test_members_view(world: World) -> None:
    members = world.chain.app.query("identity", "members", {"id": "tax"})
    assert [m.id for m in members] == [
        "tax:admin",
        "tax:auditor",
        "tax:client",
        "tax:issuer",
        "tax:officer",
    ]
    bureau = world.chain.app.query("identity", "members", {"id": "bureau"})
    assert {m.id: m.kind for m in bureau} == {
        "bureau:admin": "member",
        "bureau:node0": "node",
        "bureau:officer": "member",
    }
    with pytest.raises(NotFoundInState) as info:
        world.chain.app.query("identity", "members", {"id": "nowhere"})
    assert info.value.code == "IDENTITY_NOT_FOUND"
