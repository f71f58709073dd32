"""The contract protocol and registry: discovery of methods and views, namespaced state."""

from __future__ import annotations

import msgspec
import pytest

from govchain.contracts import (
    Context,
    Contract,
    ContractRegistry,
    ReadContext,
    default_registry,
    method,
    view,
)
from govchain.contracts.identity import IdentityContract
from govchain.contracts.notary import AnchorArgs, NotaryContract
from govchain.encoding import encode
from govchain.errors import (
    InvalidArguments,
    MalformedTransaction,
    UnknownContract,
    UnknownMethod,
)
from govchain.state.overlay import MemoryState, Overlay
from govchain.types import Event


class _Args(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    count: int = 1


class _Sample(Contract):
    name = "sample"
    description = "A contract made for the tests."

    @method(_Args)
    def create(self, ctx: Context, args: _Args) -> int:
        """Create a thing."""
        ctx.set(args.name, encode(args.count))
        return args.count

    @view(_Args)
    def show(self, ctx: ReadContext, args: _Args) -> bytes | None:
        """Show a thing."""
        return ctx.get(args.name)

    def helper(self) -> None:
        """Neither a method nor a view."""


class _OtherSample(_Sample):
    pass


# --- registry ------------------------------------------------------------------------------------


def test_duplicate_names_rejected() -> None:
    with pytest.raises(ValueError, match="notary"):
        ContractRegistry([NotaryContract(), IdentityContract(), NotaryContract()])
    with pytest.raises(ValueError, match="sample"):
        ContractRegistry([_Sample(), _OtherSample()])  # same name, different class


def test_registry_lookups() -> None:
    sample = _Sample()
    registry = ContractRegistry([sample, NotaryContract()])
    assert [c.name for c in registry] == ["sample", "notary"]
    assert registry.get("sample") is sample
    assert registry.get_method("sample", "create") is sample.methods["create"]


def test_unknown_contract() -> None:
    registry = ContractRegistry([_Sample(), NotaryContract()])
    with pytest.raises(UnknownContract) as info:
        registry.get("lottery")
    assert info.value.code == "TX_UNKNOWN_CONTRACT"
    assert info.value.details == {"known": ["notary", "sample"]}
    with pytest.raises(UnknownContract):
        registry.get_method("lottery", "create")


def test_unknown_method() -> None:
    registry = ContractRegistry([_Sample()])
    with pytest.raises(UnknownMethod) as info:
        registry.get_method("sample", "destroy")
    assert info.value.code == "TX_UNKNOWN_METHOD"
    assert info.value.details == {"known": ["create"]}
    for not_a_method in ("show", "helper", "__init__"):
        with pytest.raises(UnknownMethod):
            registry.get_method("sample", not_a_method)


def test_empty_registry() -> None:
    registry = ContractRegistry([])
    assert list(registry) == []
    with pytest.raises(UnknownContract):
        registry.get("notary")


def test_default_registry() -> None:
    registry = default_registry()
    assert [c.name for c in registry] == [
        "identity", "governance", "certs", "notary", "catalog", "sharing", "workflow", "health",
    ]
    assert set(registry.get("notary").methods) == {"anchor"}
    assert set(registry.get("notary").views) == {"get"}
    assert registry.get("notary").methods["anchor"].args_type is AnchorArgs
    assert set(registry.get("identity").methods) == {
        "enrol_member", "set_roles", "suspend", "reinstate", "remove", "register_enterprise",
        "register_citizen", "rotate_key", "revoke_key", "add_key", "set_service", "remove_service",
    }  # fmt: skip
    assert set(registry.get("identity").views) == {
        "get", "org", "orgs", "members", "key", "key_at", "did"
    }  # fmt: skip
    assert default_registry() is not registry  # fresh instances every call
    for contract in registry:
        assert contract.description
        for m in [*contract.methods.values(), *contract.views.values()]:
            assert m.doc, f"{contract.name}.{m.name} has no doc"


# --- discovery and arguments ---------------------------------------------------------------------


def test_methods_and_views_are_discovered() -> None:
    sample = _Sample()
    assert set(sample.methods) == {"create"}
    assert set(sample.views) == {"show"}
    create = sample.methods["create"]
    assert (create.name, create.args_type, create.doc) == ("create", _Args, "Create a thing.")
    assert sample.views["show"].doc == "Show a thing."
    # Instances do not share their tables.
    assert _Sample().methods is not sample.methods


def test_decode_args() -> None:
    create = _Sample().methods["create"]
    assert create.decode_args(encode({"name": "x"})) == _Args("x", 1)
    assert create.decode_args(encode({"name": "x", "count": 3})) == _Args("x", 3)
    for bad in ({"count": 3}, {"name": 1}, {"name": "x", "extra": 1}, ["x"], 5):
        with pytest.raises(InvalidArguments, match="^create: "):
            create.decode_args(encode(bad))
    for garbage in (b"", b"\xc1", encode({"name": "x"})[:-1]):
        with pytest.raises(MalformedTransaction, match="not MessagePack"):
            create.decode_args(garbage)


# --- contexts ------------------------------------------------------------------------------------


def _context(state: object, contract: str = "sample") -> Context:
    return Context(
        contract,
        state,
        chain_id="c",
        height=4,
        time_ms=99,
        tx_id=b"t" * 32,
        sender=b"s" * 32,
        signers=frozenset({b"s" * 32}),
    )


def test_context_state_is_namespaced() -> None:
    base = MemoryState({b"other/k": b"theirs", b"sample/k": b"mine"})
    overlay = Overlay(base)
    ctx = _context(overlay)
    assert ctx.get("k") == b"mine"
    assert ctx.other("other").get("k") == b"theirs"
    ctx.set("k", b"new")
    ctx.set(b"raw/\x00", _Args("n"))
    ctx.delete("gone")
    assert overlay.writes == {
        b"sample/k": b"new",
        b"sample/raw/\x00": encode(_Args("n")),
        b"sample/gone": None,
    }
    assert ctx.get_as(b"raw/\x00", _Args) == _Args("n")
    assert ctx.get_as("missing", _Args) is None
    assert base.data[b"sample/k"] == b"mine"  # the base is untouched


def test_iter_strips_the_namespace_and_sees_pending_writes() -> None:
    overlay = Overlay(MemoryState({b"sample/a/1": b"1", b"sample/a/2": b"2", b"sample/b": b"x"}))
    ctx = _context(overlay)
    ctx.set("a/3", b"3")
    ctx.delete("a/1")
    assert list(ctx.iter("a/")) == [(b"a/2", b"2"), (b"a/3", b"3")]
    assert [k for k, _ in ctx.iter()] == [b"a/2", b"a/3", b"b"]
    # A contract whose name is a prefix of another's sees only its own keys.
    prefix = ReadContext("samp", overlay, 4)
    assert list(prefix.iter()) == []


def test_emit_records_events_in_order() -> None:
    ctx = _context(Overlay(MemoryState()))
    ctx.emit("one", a="1")
    ctx.emit("two")
    assert ctx.events == [Event("sample", "one", {"a": "1"}), Event("sample", "two", {})]
    assert (ctx.chain_id, ctx.height, ctx.time_ms) == ("c", 4, 99)
