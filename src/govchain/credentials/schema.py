"""Validate a credential's subject against its type's JSON Schema (draft 2020-12).

Validation is deterministic and offline: only draft 2020-12 schemas are accepted, ``$ref`` resolves
only inside the schema itself (never over the network), and the ``format`` keyword checks exactly
``date`` and ``date-time`` (the latter as an XML Schema ``dateTimeStamp``, the VC data model's
format) — never formats whose checks would depend on which optional packages are installed.

Speed: a subject is first checked by ``jsonschema-rs`` (compiled, about fifty times faster) set up
to judge exactly as the reference validator does — Python's ``re`` for ``pattern`` (a custom
keyword in place of its ECMA-262 engine), the same ``date`` and ``date-time`` checks, no network;
it may be stricter (it checks other formats), never looser. A subject it finds valid is valid;
anything else goes to the reference validator, ``jsonschema``, which decides and names the
failures. Schemas with ``patternProperties`` (a regular-expression dialect the fast validator
cannot be given) always take the reference path. The tests check that both paths agree.

Failures raise :class:`SchemaInvalid` whose message names the first failing path and reason and
whose ``details["errors"]`` lists up to :data:`MAX_REPORTED_ERRORS` of them as
``{"path": "$.address.postcode", "reason": "..."}``. Reasons name the schema rule that failed,
never the offending value, so that personal data does not leak into logs or receipts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jsonschema_rs
import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from .errors import CredentialMalformed, SchemaInvalid
from .vc import parse_datetime_stamp

__all__ = ["DRAFT_2020_12", "MAX_REPORTED_ERRORS", "SubjectSchema", "validate_subject"]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
MAX_REPORTED_ERRORS = 20
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_REASON_LIMIT = 120


def _is_date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    return _DATE.fullmatch(instance) is not None and _is_date_time(instance + "T00:00:00Z")


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        parse_datetime_stamp(instance)
    except CredentialMalformed:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date")(_is_date)
    checker.checks("date-time")(_is_date_time)
    return checker


def _reason(error: ValidationError) -> str:
    """What rule failed, without quoting the instance (which may be personal data)."""
    if error.validator in ("required", "additionalProperties", "unevaluatedProperties"):
        return error.message[:_REASON_LIMIT]  # these name properties, not values
    rule = repr(error.validator_value)
    if len(rule) > _REASON_LIMIT:
        rule = rule[: _REASON_LIMIT - 3] + "..."
    return f"does not satisfy {error.validator}: {rule}"


class _PythonPattern:
    """``pattern`` for the fast validator, with the reference validator's semantics (``re``)."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        self._regex = re.compile(value) if isinstance(value, str) else None

    def validate(self, instance: Any) -> None:
        if self._regex is None:
            raise ValueError("the pattern is not a string")
        if isinstance(instance, str) and self._regex.search(instance) is None:
            raise ValueError("does not match the pattern")


def _mentions(schema: Any, keyword: str) -> bool:
    if isinstance(schema, Mapping):
        return keyword in schema or any(_mentions(v, keyword) for v in schema.values())
    if isinstance(schema, list):
        return any(_mentions(v, keyword) for v in schema)
    return False


def _fast_validator(schema: Mapping[str, Any]) -> jsonschema_rs.Validator | None:
    """The fast validator of a schema the reference validator accepted, or ``None`` when it
    cannot judge as the reference does (see the module notes)."""
    if _mentions(schema, "patternProperties"):
        return None
    try:
        return jsonschema_rs.validator_for(
            dict(schema),
            formats={"date": _is_date, "date-time": _is_date_time},
            validate_formats=True,
            keywords={"pattern": _PythonPattern},
            offline=True,
        )
    except (ValueError, TypeError, re.error):
        return None


class SubjectSchema:
    """A compiled schema: build once per credential type, validate many subjects."""

    __slots__ = ("_fast", "_validator", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        if not isinstance(schema, Mapping):
            raise SchemaInvalid("the schema is not a JSON object", kind="schema")
        declared = schema.get("$schema", DRAFT_2020_12)
        if declared != DRAFT_2020_12:
            raise SchemaInvalid(
                f"only JSON Schema draft 2020-12 is supported, not {str(declared)[:80]!r}",
                kind="schema",
            )
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise SchemaInvalid(
                f"the schema itself is invalid at {exc.json_path}: {exc.message[:_REASON_LIMIT]}",
                kind="schema",
            ) from None
        self.schema = schema
        self._validator = Draft202012Validator(
            schema, registry=referencing.Registry(), format_checker=_format_checker()
        )
        self._fast = _fast_validator(schema)

    def get_errors(self, subject: Any) -> list[dict[str, str]]:
        """Every failure as ``{"path", "reason"}``, sorted by path (at most the limit)."""
        if self._fast is not None and self._fast.is_valid(subject):
            return []
        try:
            found = list(self._validator.iter_errors(subject))
        except referencing.exceptions.Unresolvable as exc:
            raise SchemaInvalid(
                f"the schema refers to {exc} which is not inside it", kind="schema"
            ) from None
        errors = [{"path": e.json_path, "reason": _reason(e)} for e in found]
        errors.sort(key=lambda e: (e["path"], e["reason"]))
        return errors[:MAX_REPORTED_ERRORS]

    def validate(self, subject: Any, *, label: str = "credentialSubject") -> None:
        """Raise :class:`SchemaInvalid` naming the first failing path and why."""
        errors = self.get_errors(subject)
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise SchemaInvalid(
                f"{label} {first['path']}: {first['reason']}{more}",
                kind="subject",
                path=first["path"],
                errors=errors,
            )


def validate_subject(subject: Any, schema: Mapping[str, Any]) -> None:
    """Validate one ``credentialSubject`` (or each of a list of them) against ``schema``."""
    compiled = SubjectSchema(schema)
    subjects = subject if isinstance(subject, list) else [subject]
    for position, item in enumerate(subjects):
        label = f"credentialSubject[{position}]" if isinstance(subject, list) else None
        compiled.validate(item, label=label or "credentialSubject")
