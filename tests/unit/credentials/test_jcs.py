"""RFC 8785 canonical JSON: the published vectors, govchain's no-float rule, and the fast path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.credentials.errors import NotCanonicalizable
from govchain.credentials.jcs import canonicalize, find_float


def _project_root() -> Path:
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "pyproject.toml").is_file())


JCS_VECTORS = _project_root().parent / "shared" / "vectors" / "jcs"


def _vector_names() -> list[str]:
    if not (JCS_VECTORS / "input").is_dir():
        return []
    return sorted(p.name for p in (JCS_VECTORS / "input").glob("*.json"))


@pytest.mark.parametrize("name", _vector_names() or ["<missing>"])
def test_published_vectors_canonicalise_byte_for_byte(name: str) -> None:
    if name == "<missing>":
        pytest.skip(f"RFC 8785 vectors not found at {JCS_VECTORS} (shared/vectors/jcs)")
    value = json.loads((JCS_VECTORS / "input" / name).read_text(encoding="utf-8"))
    expected = (JCS_VECTORS / "output" / name).read_bytes()
    assert canonicalize(value, allow_floats=True) == expected


def test_there_are_six_published_vectors() -> None:
    if not JCS_VECTORS.is_dir():
        pytest.skip(f"RFC 8785 vectors not found at {JCS_VECTORS}")
    assert len(_vector_names()) >= 6


def test_floats_are_refused_by_default_with_their_path() -> None:
    with pytest.raises(NotCanonicalizable) as caught:
        canonicalize({"a": [1, {"b": 2.5}]})
    assert caught.value.code == "CRED_NOT_CANONICALIZABLE"
    assert caught.value.details["path"] == "$.a[1].b"
    assert "$.a[1].b" in caught.value.message
    assert canonicalize({"a": [1, {"b": 2.5}]}, allow_floats=True) == b'{"a":[1,{"b":2.5}]}'


def test_a_whole_float_is_still_a_float() -> None:
    with pytest.raises(NotCanonicalizable):
        canonicalize(json.loads('{"n": 1.0}'))


def test_find_float() -> None:
    assert find_float({"x": "1.5", "y": [True, None, 3]}) is None
    assert find_float([0, (1, 2.0)]) == "$[1][1]"
    assert find_float(1e300) == "$"


@pytest.mark.parametrize(
    "value",
    [
        b"bytes",
        {1: "non-string key"},
        {"set": {1, 2}},
        2**53,
        -(2**53),
        "lone \ud800 surrogate",
        {"key \udfff": 1},
        object(),
    ],
    ids=["bytes", "int-key", "set", "big-int", "big-negative", "surrogate", "key-surrogate", "obj"],
)
def test_non_json_values_are_refused(value: Any) -> None:
    with pytest.raises(NotCanonicalizable):
        canonicalize(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_refused_even_when_floats_are_allowed(value: float) -> None:
    with pytest.raises(NotCanonicalizable):
        canonicalize([value], allow_floats=True)


def test_safe_integer_bounds() -> None:
    assert canonicalize([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000; code point order is the reverse.
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3}
    assert canonicalize(value) == '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()


def test_escapes_and_non_ascii_text() -> None:
    value = {"s": 'é€\u2028\x7f\x00\x1f\b\t\n\f\r"\\/', "城市": "数字政府"}
    expected = '{"s":"é€\u2028\x7f\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/","城市":"数字政府"}'
    assert canonicalize(value) == expected.encode("utf-8")
    assert canonicalize(value) == rfc8785.dumps(value)


def test_tuples_canonicalise_like_lists() -> None:
    assert canonicalize({"a": (1, "x")}) == canonicalize({"a": [1, "x"]}) == b'{"a":[1,"x"]}'


def test_deep_nesting_is_refused_cleanly() -> None:
    value: Any = "leaf"
    for _ in range(5000):
        value = [value]
    with pytest.raises(NotCanonicalizable):
        canonicalize(value)


_json_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | _json_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(_json_text, children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_the_fast_path_agrees_with_rfc8785(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(-99, 99),
        lambda c: st.lists(c, max_size=4),
        max_leaves=10,
    )
)
def test_with_floats_allowed_the_result_is_rfc8785(value: Any) -> None:
    assert canonicalize(value, allow_floats=True) == rfc8785.dumps(value)
