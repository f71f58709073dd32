"""The one canonical binary encoding (deterministic MessagePack via msgspec).

Everything that is hashed or signed goes through :func:`encode`. Maps are written with their keys
sorted, structs with their fields in declaration order, so the same value always yields the same
bytes. Floats are refused: they have no single canonical form and do not belong in signed data.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from govchain.errors import MalformedTransaction

__all__ = ["decode", "encode", "ensure_no_floats", "to_builtins"]

T = TypeVar("T")

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def encode(value: Any) -> bytes:
    """Canonical bytes of ``value`` (a msgspec Struct or plain data without floats)."""
    return _encoder.encode(value)


def decode(data: bytes, type: type[T]) -> T:  # noqa: A002 - mirrors msgspec's signature
    """Decode canonical bytes into ``type``, raising :class:`MalformedTransaction` on bad input."""
    try:
        return msgspec.msgpack.decode(data, type=type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedTransaction(
            f"cannot decode {getattr(type, '__name__', type)}: {exc}"
        ) from exc


def ensure_no_floats(value: Any, path: str = "$") -> None:
    """Raise if ``value`` contains a float anywhere (signed data must be exact)."""
    if isinstance(value, float):
        raise MalformedTransaction(f"floating-point number at {path}; use integers or strings")
    if isinstance(value, dict):
        for k, v in value.items():
            ensure_no_floats(k, f"{path}.<key {k!r}>")
            ensure_no_floats(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            ensure_no_floats(v, f"{path}[{i}]")


def to_builtins(value: Any) -> Any:
    """JSON-friendly builtins (bytes as hex) for the API and CLI."""
    return _hexify(msgspec.to_builtins(value, builtin_types=(bytes,), order="deterministic"))


def _hexify(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {k: _hexify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hexify(v) for v in value]
    return value
