"""The system-contract protocol.

A contract is a named set of methods. Each method declares a typed argument struct, reads and
writes only through its :class:`Context` (whose state is namespaced to the contract), emits events
and raises :class:`govchain.errors.ContractError` subclasses. Contracts are deterministic: no
clock (use ``ctx.time_ms``), no randomness, no I/O. Views are read-only queries served by the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import msgspec

from govchain.encoding import decode, encode
from govchain.errors import InvalidArguments, MalformedTransaction
from govchain.state.overlay import Overlay, StateReader
from govchain.types import Event, Genesis

__all__ = ["Context", "Contract", "Method", "ReadContext", "View", "method", "view"]

A = TypeVar("A", bound=msgspec.Struct)


class ReadContext:
    """Read-only, namespaced access to one contract's state (views and other contracts)."""

    def __init__(self, contract: str, state: StateReader, height: int) -> None:
        self.contract = contract
        self.height = height
        self._state = state
        self._prefix = contract.encode() + b"/"

    def key(self, key: bytes | str) -> bytes:
        return self._prefix + (key.encode() if isinstance(key, str) else key)

    def get(self, key: bytes | str) -> bytes | None:
        return self._state.get(self.key(key))

    def get_as(self, key: bytes | str, type_: type[A]) -> A | None:
        raw = self.get(key)
        return None if raw is None else decode(raw, type_)

    def iter(self, prefix: bytes | str = b"") -> Iterator[tuple[bytes, bytes]]:
        full = self.key(prefix)
        for k, v in self._state.iter_prefix(full):
            yield k[len(self._prefix) :], v

    def other(self, contract: str) -> ReadContext:
        """Read another contract's state (e.g. identity lookups)."""
        return ReadContext(contract, self._state, self.height)


class Context(ReadContext):
    """What a method sees of its transaction and the chain, and where it writes."""

    def __init__(
        self,
        contract: str,
        state: Overlay,
        *,
        chain_id: str,
        height: int,
        time_ms: int,
        tx_id: bytes,
        sender: bytes,
        signers: frozenset[bytes],
    ) -> None:
        super().__init__(contract, state, height)
        self._overlay = state
        self.chain_id = chain_id
        self.time_ms = time_ms
        self.tx_id = tx_id
        self.sender = sender
        self.signers = signers
        self.events: list[Event] = []

    def set(self, key: bytes | str, value: bytes | msgspec.Struct) -> None:
        raw = value if isinstance(value, bytes) else encode(value)
        self._overlay.set(self.key(key), raw)

    def delete(self, key: bytes | str) -> None:
        self._overlay.delete(self.key(key))

    def emit(self, name: str, **attributes: str) -> None:
        self.events.append(Event(self.contract, name, dict(attributes)))

    def other_writer(self, contract: str) -> Context:
        """Write another system contract's state through its helpers (e.g. governance adding an
        organisation through identity's functions); events are shared with this context."""
        if contract == self.contract:
            return self
        other = Context(
            contract,
            self._overlay,
            chain_id=self.chain_id,
            height=self.height,
            time_ms=self.time_ms,
            tx_id=self.tx_id,
            sender=self.sender,
            signers=self.signers,
        )
        other.events = self.events
        return other

    def child(self) -> Context:
        """A context whose writes stay apart until :meth:`merge_into` (an all-or-nothing step
        inside a block hook, e.g. enacting one proposal); events are kept apart too."""
        return Context(
            self.contract,
            self._overlay.child(),
            chain_id=self.chain_id,
            height=self.height,
            time_ms=self.time_ms,
            tx_id=self.tx_id,
            sender=self.sender,
            signers=self.signers,
        )

    def merge_into(self, parent: Context) -> None:
        """Apply this child's writes and events to ``parent``."""
        self._overlay.merge_into_parent(parent._overlay)
        parent.events.extend(self.events)


@dataclass(frozen=True)
class Method:
    name: str
    args_type: type[msgspec.Struct]
    handler: Callable[..., Any]
    doc: str
    open: bool = False  # callable by keys not yet registered (self-registration)

    def decode_args(self, raw: bytes) -> msgspec.Struct:
        try:
            return msgspec.msgpack.decode(raw, type=self.args_type)
        except msgspec.ValidationError as exc:
            raise InvalidArguments(f"{self.name}: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise MalformedTransaction(
                f"{self.name}: arguments are not MessagePack: {exc}"
            ) from exc


@dataclass(frozen=True)
class View:
    name: str
    args_type: type[msgspec.Struct]
    handler: Callable[..., Any]
    doc: str


def method(
    args_type: type[msgspec.Struct], *, open: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a contract function as a transaction method taking ``args_type``. An ``open``
    method accepts senders whose key is not registered yet (self-registration); it must then
    authorise on its own."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__govchain_method__ = args_type  # type: ignore[attr-defined]
        fn.__govchain_open__ = open  # type: ignore[attr-defined]
        return fn

    return mark


def view(args_type: type[msgspec.Struct]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a contract function as a read-only view taking ``args_type``."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__govchain_view__ = args_type  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass
class Contract:
    """Base class: subclasses set ``name`` and decorate methods with :func:`method`/:func:`view`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    methods: dict[str, Method] = field(init=False, default_factory=dict)
    views: dict[str, View] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for attr in dir(type(self)):
            fn = getattr(self, attr)
            doc = (getattr(fn, "__doc__", None) or "").strip()
            if args := getattr(fn, "__govchain_method__", None):
                self.methods[attr] = Method(
                    attr, args, fn, doc, getattr(fn, "__govchain_open__", False)
                )
            elif args := getattr(fn, "__govchain_view__", None):
                self.views[attr] = View(attr, args, fn, doc)

    def init_genesis(self, ctx: Context, genesis: Genesis) -> None:
        """Write the contract's initial state (default: nothing)."""

    def on_block(self, ctx: Context) -> None:
        """Run at the start of every block, before its transactions (default: nothing); e.g.
        governance enacts proposals whose effective height has come."""
