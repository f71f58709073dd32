"""The fast subject validator (jsonschema-rs, set up to judge as the reference does) never
accepts what the reference validator (jsonschema) refuses, and schemas it cannot judge alike
take the reference path."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_schema import LICENCE, _subject

from govchain.credentials.schema import DRAFT_2020_12, SubjectSchema

PATTERNS = {
    "$schema": DRAFT_2020_12,
    "type": "object",
    "properties": {
        "digits": {"type": "string", "pattern": "^[0-9]{6}$"},  # Python's $ allows a final \n
        "spaces": {"type": "string", "pattern": "^\\s*$"},  # Python's \s is not ECMA-262's
        "word": {"type": "string", "pattern": "^\\w+$"},  # Python's \w is Unicode
        "day": {"type": "string", "format": "date"},
        "mail": {"type": "string", "format": "email"},  # an annotation only, for both
    },
}

_text = st.text(alphabet=st.sampled_from("09aZ \n\t\ufeff\u00a0\u0661é_-:T+"), max_size=12)
_value: Any = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


def _agree(schema: SubjectSchema, reference: Any, subject: Any) -> None:
    fast = schema.get_errors(subject)
    slow = [e.json_path for e in reference.iter_errors(subject)]
    assert (fast == []) == (slow == []), (subject, fast, slow)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(PATTERNS["properties"])), _text | _value))
def test_patterns_and_formats_judged_as_the_reference_does(subject: dict[str, Any]) -> None:
    schema = SubjectSchema(PATTERNS)
    assert schema._fast is not None
    _agree(schema, schema._validator, subject)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(LICENCE["properties"]), "extra"]), _value))
def test_a_licence_subject_judged_as_the_reference_does(changes: dict[str, Any]) -> None:
    schema = SubjectSchema(LICENCE)
    assert schema._fast is not None
    _agree(schema, schema._validator, {**_subject(), **changes})


def test_the_known_dialect_differences_follow_python() -> None:
    schema = SubjectSchema(PATTERNS)
    assert schema.get_errors({"digits": "123456\n"}) == []  # Python's $ before a final newline
    assert schema.get_errors({"spaces": "\ufeff"}) != []  # not whitespace for Python
    assert schema.get_errors({"word": "\u0661é"}) == []  # Unicode word characters
    assert schema.get_errors({"mail": "not an address"}) == []  # formats other than dates: none
    assert schema.get_errors({"day": "2023-02-29"}) != []


def test_pattern_properties_take_the_reference_path() -> None:
    schema = SubjectSchema(
        {"$schema": DRAFT_2020_12, "patternProperties": {"^x": {"type": "string"}}}
    )
    assert schema._fast is None
    assert schema.get_errors({"x1": "a"}) == [] and schema.get_errors({"x1": 1}) != []
