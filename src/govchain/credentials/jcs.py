"""RFC 8785 JSON Canonicalization Scheme (JCS), as used by the ``eddsa-jcs-2022`` cryptosuite.

A thin wrapper over the ``rfc8785`` package that turns its errors into
:class:`~govchain.credentials.errors.NotCanonicalizable` and enforces govchain's rule for signed
data: **no floating-point numbers**. JSON numbers with a fraction or an exponent parse to Python
``float``; their canonical form depends on IEEE 754 round-tripping, which other languages' JSON
parsers do not all get right, so a credential that holds one could verify in one wallet and fail in
another. Signed and hashed data therefore use ``canonicalize(value)`` (floats refused, with the
path of the first one); ``allow_floats=True`` gives the full RFC 8785 behaviour, for conformance
tests and for reading third parties' documents.

Speed: ``rfc8785`` is pure Python. For the common case — only dicts, lists, strings, booleans,
null and safe integers, with ASCII object keys — msgspec's JSON encoder with sorted keys yields
exactly the JCS bytes (no whitespace; the same string escaping as RFC 8785 for every code point;
for ASCII keys code point order equals UTF-16 order); with the walk that proves a value is of that
kind it is about ten times faster than ``rfc8785``. Anything else goes through ``rfc8785``. The
property tests check that both paths agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import rfc8785

from .errors import NotCanonicalizable

__all__ = ["canonicalize", "find_float"]

_MAX_SAFE_INT = 2**53 - 1
_ENCODER = msgspec.json.Encoder(order="sorted")


def _is_simple(value: Any) -> bool:
    """True when msgspec's JSON encoder gives the JCS bytes of ``value`` (see the module notes)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(item) is not str and not _is_simple(item):  # strings are most leaves
                return False
        return True
    if kind is list:
        return all(type(item) is str or _is_simple(item) for item in value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_MAX_SAFE_INT <= value <= _MAX_SAFE_INT)
    return False


def find_float(value: Any, path: str = "$") -> str | None:
    """The JSONPath-like location of the first float in ``value``, or ``None`` if it has none."""
    if isinstance(value, float):
        return path
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = find_float(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        for index, item in enumerate(value):
            found = find_float(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def canonicalize(value: Any, *, allow_floats: bool = False) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of the JSON value ``value``.

    Raises :class:`NotCanonicalizable` for a value that is not JSON (bytes, sets, non-string
    keys, lone surrogates), an integer beyond +/-(2**53 - 1), a NaN or infinity, or — unless
    ``allow_floats`` — any float.
    """
    try:
        if _is_simple(value):
            return _ENCODER.encode(value)
    except (UnicodeEncodeError, RecursionError):
        pass  # a lone surrogate or deep nesting: rfc8785 below says what is wrong
    try:
        where = None if allow_floats else find_float(value)
        if where is None:
            return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        raise NotCanonicalizable(f"cannot canonicalise: {exc}") from None
    except RecursionError:
        raise NotCanonicalizable("cannot canonicalise: value is nested too deeply") from None
    raise NotCanonicalizable(
        f"floating-point number at {where}; signed data may not hold floats", path=where
    )
