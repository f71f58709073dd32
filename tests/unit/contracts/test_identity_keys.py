"""Key history: rotation and revocation before, at and after their height; signatures "as of
height h"; services."""

from __future__ import annotations

from typing import Any

import pytest
from identity_world import World

from govchain.contracts.base import ReadContext
from govchain.contracts.identity import get_identity, is_key_valid_at, resolve_signer
from govchain.errors import GovchainError, NotFoundInState
from govchain.state.overlay import MemoryState


def key_at(world: World, label: str, height: int) -> Any:
    public_key = world.key(label).public_key
    return world.chain.app.query("identity", "key_at", {"public_key": public_key, "height": height})


def rotate(world: World, signer: str, old: str, new: str, target: str = "tax:client") -> str:
    args = {
        "id": target,
        "old_public_key": world.key(old).public_key,
        "new_public_key": world.key(new).public_key,
    }
    return world.run(signer, "rotate_key", args, cosign=[new])


def test_rotation_before_at_and_after_its_height(world: World) -> None:
    before = world.chain.height
    assert world.admitted("client") == "OK"  # signed with the old key before the rotation
    assert world.run("client", "anchor", world.chain.anchor_args(), contract="notary") == (
        "NOTARY_NOT_OWNER"  # admitted and executed (a client may not anchor for tax)
    )
    assert rotate(world, "client", "client", "client-2") == "OK"
    h = world.chain.height  # the rotation's height
    assert h > before
    client = world.get("tax:client")
    old, new = client.keys
    assert (old.until_height, old.status) == (h, "rotated")
    assert (new.added_height, new.until_height, new.status) == (h, None, "active")
    # the old key signs below h, not at or after; the new key from h on
    assert is_key_valid_at(client, old.public_key, h - 1)
    assert not is_key_valid_at(client, old.public_key, h)
    assert not is_key_valid_at(client, old.public_key, h + 1)
    assert not is_key_valid_at(client, new.public_key, h - 1)
    assert is_key_valid_at(client, new.public_key, h)
    assert [key_at(world, "client", x).valid for x in (h - 1, h, h + 1)] == [True, False, False]
    assert [key_at(world, "client-2", x).valid for x in (h - 1, h, h + 1)] == [False, True, True]
    status = key_at(world, "client", h)
    assert (status.identity, status.key_status, status.until_height) == ("tax:client", "rotated", h)
    # after the rotation, a transaction signed with the old key is refused at admission
    assert world.admitted("client") == "TX_UNKNOWN_SENDER"
    assert world.admitted("client-2") == "OK"


def test_old_key_refused_later_in_the_rotations_own_block(world: World) -> None:
    chain = world.chain
    args = {
        "id": "tax:officer",
        "old_public_key": world.key("officer").public_key,
        "new_public_key": world.key("officer-2").public_key,
    }
    rotation = world.raw("officer", "rotate_key", args, cosign=["officer-2"])
    late = chain.tx(world.key("officer"))  # anchors with the old key, after the rotation
    committed = chain.commit([rotation, late])
    assert [r.ok for r in committed.receipts] == [True]
    ((_, why),) = committed.dropped
    assert why.code == "TX_UNKNOWN_SENDER"


def test_admin_rotates_a_members_key(world: World) -> None:
    assert rotate(world, "admin", "client", "client-2") == "OK"
    assert rotate(world, "admin", "client", "client-3") == "IDENTITY_KEY_NOT_ACTIVE"  # rotated
    assert rotate(world, "admin", "client-2", "officer") == "IDENTITY_KEY_IN_USE"
    assert rotate(world, "admin", "officer", "client-3") == "IDENTITY_KEY_NOT_ACTIVE"
    args = {
        "id": "tax:client",
        "old_public_key": world.key("client-2").public_key,
        "new_public_key": world.key("client-3").public_key,
    }
    assert world.run("admin", "rotate_key", args) == "IDENTITY_KEY_NOT_PROVEN"
    assert rotate(world, "admin", "client", "c", target="tax:nobody") == "IDENTITY_NOT_FOUND"


def test_a_suspended_members_key_is_rotated_by_its_admin(world: World) -> None:
    world.ok("admin", "suspend", {"id": "tax:client"})
    assert rotate(world, "client", "client", "client-2") == "TX_UNKNOWN_SENDER"
    assert rotate(world, "admin", "client", "client-2") == "OK"
    world.ok("admin", "reinstate", {"id": "tax:client"})
    assert world.admitted("client-2") == "OK"
    assert world.admitted("client") == "TX_UNKNOWN_SENDER"


def test_revocation(world: World) -> None:
    revoke = {"id": "tax:client", "public_key": world.key("client").public_key, "reason": "lost"}
    assert world.run("client", "revoke_key", revoke) == "IDENTITY_LAST_KEY"
    world.ok(
        "client",
        "add_key",
        {"id": "tax:client", "public_key": world.key("c2").public_key},
        cosign=["c2"],
    )
    h_added = world.chain.height
    assert key_at(world, "c2", h_added).valid and not key_at(world, "c2", h_added - 1).valid
    assert world.admitted("c2") == "OK"
    world.ok("c2", "revoke_key", revoke)
    h = world.chain.height
    revoked = world.get("tax:client").keys[0]
    assert (revoked.status, revoked.until_height, revoked.reason) == ("revoked", h, "lost")
    assert [key_at(world, "client", x).valid for x in (h - 1, h, h + 1)] == [True, False, False]
    assert world.admitted("client") == "TX_UNKNOWN_SENDER"
    assert world.run("c2", "revoke_key", revoke) == "IDENTITY_KEY_NOT_ACTIVE"
    unknown = {"id": "tax:client", "public_key": world.key("zz").public_key}
    assert world.run("c2", "revoke_key", unknown) == "IDENTITY_KEY_NOT_ACTIVE"
    last = {"id": "tax:client", "public_key": world.key("c2").public_key}
    assert world.run("admin", "revoke_key", last) == "IDENTITY_LAST_KEY"


def test_resolve_signer_follows_the_key_history(world: World) -> None:
    assert rotate(world, "client", "client", "client-2") == "OK"
    h = world.chain.height
    state = _state(world)
    for height, old_ok in ((h - 1, True), (h, False)):
        ctx = ReadContext("notary", state, height)
        assert (resolve_signer(ctx, world.key("client").public_key, height) is not None) is old_ok
    client = get_identity(ReadContext("x", state, h), "tax:client")
    assert client is not None and len(client.keys) == 2


def _state(world: World) -> Any:
    from govchain.app.readers import StoreState

    return StoreState(world.chain.store)


def test_key_at_unknown_key() -> None:
    assert get_identity(ReadContext("x", MemoryState(), 0), "tax") is None


def test_key_at_view_errors(world: World) -> None:
    with pytest.raises(NotFoundInState) as info:
        key_at(world, "never-bound", 1)
    assert info.value.code == "IDENTITY_NOT_FOUND"
    status = world.chain.app.query(
        "identity", "key_at", {"public_key": world.key("client").public_key}
    )
    assert status.height == world.chain.height and status.valid


def test_services(world: World) -> None:
    svc = {"id": "gateway", "type": "DataGateway", "endpoint": "https://tax.example/gw"}
    world.ok("admin", "set_service", {"id": "tax", "service": svc})
    world.ok("admin", "set_service", {"id": "tax", "service": {**svc, "endpoint": "https://b/"}})
    assert [(s.id, s.endpoint) for s in world.get("tax").services] == [("gateway", "https://b/")]
    for bad in ({**svc, "endpoint": "ftp://x"}, {**svc, "id": "a b"}, {**svc, "type": ""}):
        assert world.run("admin", "set_service", {"id": "tax", "service": bad}) == (
            "IDENTITY_BAD_SERVICE"
        )
    gone = {"id": "tax", "service_id": "nope"}
    assert world.run("admin", "remove_service", gone) == "IDENTITY_SERVICE_NOT_FOUND"
    world.ok("admin", "remove_service", {"id": "tax", "service_id": "gateway"})
    assert world.get("tax").services == []


def test_too_many_services(world: World) -> None:
    for i in range(16):
        svc = {"id": f"s{i}", "type": "T", "endpoint": f"https://x/{i}"}
        world.ok("client", "set_service", {"id": "tax:client", "service": svc})
    svc = {"id": "s16", "type": "T", "endpoint": "https://x/16"}
    assert world.run("client", "set_service", {"id": "tax:client", "service": svc}) == (
        "IDENTITY_BAD_SERVICE"
    )


def test_errors_are_typed(world: World) -> None:
    with pytest.raises(GovchainError):
        world.chain.app.query("identity", "get", {"id": "tax:nobody"})
